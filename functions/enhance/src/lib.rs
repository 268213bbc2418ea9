//! The `enhance` function: `POST /v1/ai/enhance`. Three parts run concurrently under one
//! deadline (an augmentation plan, architecture optimization, research insights), each from
//! the builtin engines first and then from its provider; whatever finished is returned, with
//! a roadmap derived from it.

pub mod curated;
mod handler;
pub mod parts;
pub mod request;
pub mod roadmap;

use axum::Router;
use shared::http::Routes;
use shared::AppState;

pub fn routes() -> Routes {
    Routes::new().post("/v1/ai/enhance", handler::enhance)
}

pub fn router(state: AppState) -> Router {
    routes().serve(state)
}
