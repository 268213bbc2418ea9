//! The JSON body extractor. Every way a body can be wrong (wrong content type, too large,
//! empty, not JSON, not an object) becomes an `ApiError` in the envelope, never axum's
//! plain-text rejection. Handlers receive a `serde_json::Value` and parse their domain type
//! from it field by field, so errors can name the first bad field.

use axum::body::to_bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::{json, Value};

use crate::error::ApiError;

/// Default body limit for JSON endpoints (API Gateway itself allows 10 MB; Lambda 6 MB).
pub const DEFAULT_LIMIT_BYTES: usize = 1024 * 1024;

/// A parsed JSON object body.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Value);

/// Per-router body limit, set with `Extension(BodyLimit(n))`; defaults to 1 MiB.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(DEFAULT_LIMIT_BYTES, |l| l.0);
        let declared_len = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared_len.is_some_and(|n| n > limit) {
            return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
        }
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let bytes = to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ApiError::PayloadTooLarge { limit_bytes: limit })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::validation(
                "body",
                Value::Null,
                "a JSON object",
                "request body is required",
            ));
        }
        match content_type.as_deref() {
            Some(ct) if is_json(ct) => {}
            other => {
                return Err(ApiError::validation(
                    "content-type",
                    other.map_or(Value::Null, |ct| json!(ct)),
                    "application/json",
                    "request body must be sent with Content-Type: application/json",
                ))
            }
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::validation(
                "body",
                Value::Null,
                "a JSON object",
                format!("request body is not valid JSON: {e}"),
            )
        })?;
        if !value.is_object() {
            return Err(ApiError::validation(
                "body",
                json!(super::super::validate::type_name(&value)),
                "a JSON object",
                "request body must be a JSON object",
            ));
        }
        Ok(JsonBody(value))
    }
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
