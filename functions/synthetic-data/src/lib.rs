//! The `synthetic-data` function: `POST /v1/ai/synthetic-data` and the dataset routes.

mod datasets;
mod generate;
mod recommend;
pub mod request;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use shared::AppState;

/// Uploads may be as large as a Lambda request allows.
pub const UPLOAD_LIMIT_BYTES: usize = 6 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let shared_state = state.clone();
    let routes = Router::new()
        .route("/v1/ai/synthetic-data", post(generate::synthetic_data))
        .route(
            "/v1/datasets",
            get(datasets::list)
                .merge(post(datasets::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES))),
        )
        .route("/v1/datasets/{id}", get(datasets::get_dataset))
        .route("/v1/datasets/{id}/download", get(datasets::download))
        .with_state(state);
    shared::http::serve(routes, &shared_state)
}
