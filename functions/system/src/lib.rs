//! The `system` function: service health, provider status and usage, the OpenAPI document and
//! its docs page, the dashboard (`/ui`), and the catch-all that answers every unknown path with `NOT_FOUND` in the envelope.

mod docs;
mod health;
mod status;
mod ui;
mod usage;

use axum::Router;
use shared::http::Routes;
use shared::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/health", health::health)
        .get("/v1/ai/status", status::ai_status)
        .get("/v1/ai/usage", usage::usage)
        .get("/openapi.json", docs::openapi)
        .get("/docs", docs::docs)
        .get("/ui", ui::ui)
}

pub fn router(state: AppState) -> Router {
    routes().serve(state)
}
