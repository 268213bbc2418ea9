//! The `models` function: model records and the training jobs that build them.

mod capacity;
mod estimate;
mod handlers;
mod predict;
pub mod request;

use axum::routing::{get, post};
use axum::{Extension, Router};
use shared::http::BodyLimit;
use shared::AppState;

pub fn router(state: AppState) -> Router {
    let shared_state = state.clone();
    let routes = Router::new()
        .route("/v1/models", get(handlers::list))
        .route("/v1/models/train", post(handlers::train))
        .route("/v1/models/{id}", get(handlers::get_model))
        .route("/v1/models/{id}/status", get(handlers::status))
        .route("/v1/models/{id}/stop", post(handlers::stop))
        .route(
            "/v1/models/{id}/predict",
            post(predict::predict).layer(Extension(BodyLimit(predict::BODY_LIMIT_BYTES))),
        )
        .route("/v1/models/{id}/metrics.svg", get(handlers::metrics_svg))
        .with_state(state);
    shared::http::serve(routes, &shared_state)
}
