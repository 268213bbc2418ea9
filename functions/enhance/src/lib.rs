//! The `enhance` function: `POST /v1/ai/enhance`. Three parts run concurrently under one
//! deadline (an augmentation plan, architecture optimization, research insights), each from
//! the builtin engines first and then from its provider; whatever finished is returned, with
//! a roadmap derived from it.

pub mod curated;
mod handler;
pub mod parts;
pub mod request;
pub mod roadmap;

use axum::routing::post;
use axum::Router;
use shared::AppState;

pub fn router(state: AppState) -> Router {
    let shared_state = state.clone();
    let routes = Router::new()
        .route("/v1/ai/enhance", post(handler::enhance))
        .with_state(state);
    shared::http::serve(routes, &shared_state)
}
