//! The `system` function: service health, provider status, and the catch-all that answers
//! every unknown path with `NOT_FOUND` in the envelope.

mod health;
mod status;

use axum::routing::get;
use axum::Router;
use shared::AppState;

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/health", get(health::health))
        .route("/v1/ai/status", get(status::ai_status))
        .with_state(state);
    shared::http::serve(routes)
}
