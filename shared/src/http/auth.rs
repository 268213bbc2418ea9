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
/// API's public description (the OpenAPI document and its docs page reveal no data), and the
/// dashboard's page (it holds no data; what it reads asks for a key).
pub const OPEN_PATHS: [&str; 4] = ["/health", "/openapi.json", "/docs", "/ui"];

/// The key a request presents, if any.
pub fn presented_key(req: &Request) -> Option<&str> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    bearer.or_else(|| {
        req.headers()
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    })
}

/// The credentials of a `Bearer` authorization: the scheme is case-insensitive (RFC 9110
/// §11.1), separated from the token by spaces or tabs.
fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim_start();
    let (scheme, rest) = value.split_at(value.find([' ', '\t'])?);
    let token = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
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

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in ["Bearer k1", "bearer k1", "BEARER k1", "BeArEr \t k1 "] {
            assert_eq!(bearer_token(v), Some("k1"), "{v:?}");
        }
        for v in ["Basic k1", "Bearer", "Bearer ", "Bearerk1", ""] {
            assert_eq!(bearer_token(v), None, "{v:?}");
        }
    }
}
