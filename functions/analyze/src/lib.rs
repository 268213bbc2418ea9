//! The `analyze` function: `POST /v1/ai/analyze`. The builtin analyzer computes the facts
//! (shapes, parameters, MACs, findings, performance against references, a rubric score); the
//! `analysis` provider, when one is configured, reviews those facts. Computed numbers are
//! never taken from a provider, and every item says where it came from.

pub mod merge;
pub mod request;
pub mod review;

use axum::routing::post;
use axum::Router;
use shared::AppState;

pub fn router(state: AppState) -> Router {
    let shared_state = state.clone();
    let routes = Router::new()
        .route("/v1/ai/analyze", post(review::analyze))
        .with_state(state);
    shared::http::serve(routes, &shared_state)
}
