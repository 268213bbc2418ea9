//! The client-key check: when keys are configured, every request but `/health` (and CORS
//! preflights) must carry one, as `Authorization: Bearer <key>` or `x-api-key: <key>`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::ClientKeys;
use crate::error::ApiError;

/// Paths open without a key: the load balancer's and the operator's health check, and the
/// API's public description (the OpenAPI document and its docs page reveal no data).
pub const OPEN_PATHS: [&str; 3] = ["/health", "/openapi.json", "/docs"];

/// The key a request presents, if any.
pub fn presented_key(req: &Request) -> Option<&str> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    bearer.or_else(|| {
        req.headers()
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    })
}

pub async fn require_key(
    State(keys): State<Arc<ClientKeys>>,
    req: Request,
    next: Next,
) -> Response {
    let open = !keys.enabled()
        || req.method() == Method::OPTIONS
        || OPEN_PATHS.contains(&req.uri().path());
    if open || presented_key(&req).is_some_and(|k| keys.accepts(k)) {
        return next.run(req).await;
    }
    let mut response = ApiError::Unauthorized.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"ml-training-api\""),
    );
    response
}
