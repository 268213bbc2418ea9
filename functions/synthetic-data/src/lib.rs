//! The `synthetic-data` function: `POST /v1/ai/synthetic-data` and the dataset routes.

mod datasets;
mod generate;
mod recommend;
pub mod request;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::post;
use axum::Router;
use shared::http::Routes;
use shared::AppState;

/// Uploads may be as large as a Lambda request allows.
pub const UPLOAD_LIMIT_BYTES: usize = 6 * 1024 * 1024;

pub fn routes() -> Routes {
    Routes::new()
        .post("/v1/ai/synthetic-data", generate::synthetic_data)
        .get("/v1/datasets", datasets::list)
        .on(
            Method::POST,
            "/v1/datasets",
            post(datasets::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES)),
        )
        .get("/v1/datasets/{id}", datasets::get_dataset)
        .get("/v1/datasets/{id}/download", datasets::download)
}

pub fn router(state: AppState) -> Router {
    routes().serve(state)
}
