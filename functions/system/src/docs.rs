//! `GET /openapi.json` (the OpenAPI 3.1 document, built from the Rust types in
//! `shared::openapi`) and `GET /docs` (the same rendered as one self-contained HTML page).

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;

pub async fn openapi() -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(shared::openapi::document()),
    )
        .into_response()
}

pub async fn docs() -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Html(shared::openapi::docs::html(shared::openapi::document())),
    )
        .into_response()
}
