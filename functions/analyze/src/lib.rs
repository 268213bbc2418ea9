//! The `analyze` function: `POST /v1/ai/analyze`. The builtin analyzer computes the facts
//! (shapes, parameters, MACs, findings, performance against references, a rubric score); the
//! `analysis` provider, when one is configured, reviews those facts. Computed numbers are
//! never taken from a provider, and every item says where it came from.

pub mod merge;
pub mod request;
pub mod review;

use axum::Router;
use shared::http::Routes;
use shared::AppState;

pub fn routes() -> Routes {
    Routes::new().post("/v1/ai/analyze", review::analyze)
}

pub fn router(state: AppState) -> Router {
    routes().serve(state)
}
