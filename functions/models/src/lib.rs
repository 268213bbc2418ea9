//! The `models` function: model records and the training jobs that build them.

mod capacity;
mod compare;
mod download;
mod estimate;
mod handlers;
mod network;
mod predict;
pub mod request;
mod sweeps;

use axum::http::Method;
use axum::routing::post;
use axum::{Extension, Router};
use shared::http::{BodyLimit, Routes};
use shared::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/models", handlers::list)
        .post("/v1/models/train", handlers::train)
        .get("/v1/models/compare", compare::compare)
        .get("/v1/models/{id}", handlers::get_model)
        .get("/v1/models/{id}/history", compare::history)
        .get("/v1/models/{id}/status", handlers::status)
        .post("/v1/models/{id}/stop", handlers::stop)
        .post("/v1/models/{id}/resume", handlers::resume)
        .on(
            Method::POST,
            "/v1/models/{id}/predict",
            post(predict::predict).layer(Extension(BodyLimit(predict::BODY_LIMIT_BYTES))),
        )
        .get("/v1/models/{id}/metrics.svg", handlers::metrics_svg)
        .get("/v1/models/{id}/download", download::download)
        .get("/v1/sweeps", sweeps::list)
        .post("/v1/sweeps", sweeps::submit)
        .get("/v1/sweeps/{id}", sweeps::get)
        .post("/v1/sweeps/{id}/stop", sweeps::stop)
}

pub fn router(state: AppState) -> Router {
    routes().serve(state)
}
