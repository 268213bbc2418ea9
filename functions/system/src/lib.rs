//! The `system` function: service health, provider status and usage, the OpenAPI document and
//! its docs page, and the catch-all that answers every unknown path with `NOT_FOUND` in the envelope.

mod docs;
mod health;
mod status;
mod usage;

use axum::routing::get;
use axum::Router;
use shared::AppState;

pub fn router(state: AppState) -> Router {
    let shared_state = state.clone();
    let routes = Router::new()
        .route("/health", get(health::health))
        .route("/v1/ai/status", get(status::ai_status))
        .route("/v1/ai/usage", get(usage::usage))
        .route("/openapi.json", get(docs::openapi))
        .route("/docs", get(docs::docs))
        .with_state(state);
    shared::http::serve(routes, &shared_state)
}
