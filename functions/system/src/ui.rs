//! `GET /ui`: the dashboard, one self-contained page (HTML, CSS and JavaScript inline, about
//! 40 KB). It reads the API with the same routes a client uses, from this origin only (its
//! Content-Security-Policy allows nothing else), and shows no data without a key when keys
//! are on: the page is open like `/docs`, the data behind it is not.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

const PAGE: &str = include_str!("ui.html");

/// Inline script and style only, and connections to this origin.
const POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
    img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub async fn ui() -> Response {
    (
        [
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::CONTENT_SECURITY_POLICY, POLICY),
        ],
        Html(PAGE),
    )
        .into_response()
}
