//! The `synthetic-data` function: `POST /v1/ai/synthetic-data` and the dataset routes.

mod datasets;
mod generate;
mod image_upload;
mod recommend;
pub mod request;
mod sequences;
pub mod uploads;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::post;
use axum::Router;
use shared::http::Routes;
use shared::AppState;

/// Uploads may be as large as a Lambda request allows.
pub const UPLOAD_LIMIT_BYTES: usize = 6 * 1024 * 1024;

/// An image upload's decoded pixels (N·H·W·C) at most: the function has 1024 MB
/// (`template.yaml`), and the set, its safetensors copy (as large again) and the body must fit
/// in it together; tighter than the engine's own `images::MAX_PIXEL_BYTES`.
pub const IMAGE_PIXEL_LIMIT_BYTES: usize = 256 * 1024 * 1024;

pub fn routes() -> Routes {
    Routes::new()
        .post("/v1/ai/synthetic-data", generate::synthetic_data)
        .get("/v1/datasets", datasets::list)
        .on(
            Method::POST,
            "/v1/datasets",
            post(datasets::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES)),
        )
        .post("/v1/datasets/uploads", uploads::create)
        .post("/v1/datasets/uploads/{id}/complete", uploads::complete)
        .get("/v1/datasets/{id}", datasets::get_dataset)
        .get("/v1/datasets/{id}/download", datasets::download)
}

pub fn router(state: AppState) -> Router {
    routes().serve(state)
}
