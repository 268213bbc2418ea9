//! HTTP plumbing shared by every function: the request id, the JSON extractor, and the layers
//! that make every failure (unknown path, wrong method, panic) answer in the error envelope.

pub mod auth;
pub mod cache;
pub mod download;
pub mod idempotency;
pub mod json;
pub mod limit;
pub mod path;
pub mod query;
pub mod request_id;
pub mod routes;
pub mod timing;

use std::any::Any;

use axum::extract::Request;
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any as AnyOrigin, CorsLayer};

use crate::error::ApiError;

pub use json::{BodyLimit, JsonBody};
pub use path::PathId;
pub use query::QueryPairs;
pub use routes::Routes;

async fn not_found(req: Request) -> ApiError {
    ApiError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.uri().path()
    ))
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::MethodNotAllowed {
        method: req.method().to_string(),
    }
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".into());
    tracing::error!(panic = %what, "handler panicked");
    #[derive(Debug, thiserror::Error)]
    #[error("handler panicked")]
    struct Panicked;
    ApiError::internal(Panicked).into_response()
}

/// Wraps a function's routes with what every function needs. Layers run outermost first:
/// request id → timing (Server-Timing, the EMF line) → CORS → client-key check → panic catcher → routes (with envelope
/// fallbacks), each matched route behind the rate limiter, then the idempotency layer
/// (POST with `Idempotency-Key`), then the response cache (the AI routes only).
pub fn serve(routes: Router, state: &crate::state::AppState) -> Router {
    let keys = state.config.client_keys.clone();
    let cors = CorsLayer::new()
        .allow_origin(AnyOrigin)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            "x-api-key".parse().expect("static header name"),
            "idempotency-key".parse().expect("static header name"),
        ])
        .expose_headers([
            "x-request-id".parse().expect("static header name"),
            idempotency::REPLAYED_HEADER
                .parse()
                .expect("static header name"),
            cache::HEADER.parse().expect("static header name"),
            timing::HEADER.parse().expect("static header name"),
        ]);
    routes
        .route_layer(axum::middleware::from_fn(limit::admitted))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cache::cache,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotency,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit::rate_limit,
        ))
        .route_layer(axum::middleware::from_fn(timing::route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(keys),
            auth::require_key,
        ))
        .layer(cors)
        .layer(axum::middleware::from_fn(timing::middleware))
        .layer(axum::middleware::from_fn(request_id::middleware))
}
