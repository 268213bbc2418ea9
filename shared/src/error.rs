//! One error type for the whole API. Every failure a client can see is an `ApiError`, and
//! every `ApiError` renders as the spec's envelope:
//! `{"error":{"code","message","details"},"timestamp","request_id"}`.
//! Infrastructure failures are logged in full and shown to the client only as a generic message.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::{clock, http::request_id};

/// What is wrong with one request field (boxed: keeps `Result<_, ApiError>` small).
#[derive(Debug)]
pub struct FieldError {
    pub message: String,
    pub field: String,
    pub received: Value,
    pub expected: String,
}

/// Every error code the API answers with: the spec's five and the HTTP ones. The OpenAPI
/// document's `ErrorCode` is this type, and `ApiError::code` the only way to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    ValidationError,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    MissingApiKey,
    RateLimitExceeded,
    ServiceUnavailable,
    ProcessingTimeout,
    Conflict,
    Unauthorized,
    /// A valid request that cannot be met: conditional sampling whose conditions no row, or
    /// too few rows, can meet.
    Unsatisfiable,
    InternalError,
}

impl ErrorCode {
    /// As it appears in the envelope and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::MissingApiKey => "MISSING_API_KEY",
            ErrorCode::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::ProcessingTimeout => "PROCESSING_TIMEOUT",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Unsatisfiable => "UNSATISFIABLE",
            ErrorCode::InternalError => "INTERNAL_ERROR",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request field is missing, has the wrong type, or is out of range.
    #[error("{}", .0.message)]
    Validation(Box<FieldError>),
    #[error("{0}")]
    NotFound(String),
    #[error("method {method} is not allowed on this path")]
    MethodNotAllowed { method: String },
    #[error("request body is larger than the {limit_bytes}-byte limit")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("provider {provider} is not configured: set {variable}")]
    MissingApiKey { provider: String, variable: String },
    #[error("rate limit of {limit} requests per minute exceeded")]
    RateLimited { limit: u32, retry_after_secs: u64 },
    #[error("{message}")]
    ServiceUnavailable { message: String, details: Value },
    #[error("{message}")]
    ProcessingTimeout { message: String, details: Value },
    #[error("{0}")]
    Conflict(String),
    /// An `Idempotency-Key` clash: `reason` is `in_flight` (with a retry hint) or
    /// `key_reused` (the key was used with a different request).
    #[error("{message}")]
    IdempotencyConflict {
        message: String,
        reason: &'static str,
        retry_after_secs: Option<u64>,
    },
    #[error("missing or invalid API key")]
    Unauthorized,
    /// Well-formed, but no rows (or too few) can meet it; `field` names the condition.
    #[error("{message}")]
    Unsatisfiable { field: String, message: String },
    /// Anything the client cannot fix. The source is logged, never rendered.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl ApiError {
    pub fn validation(
        field: impl Into<String>,
        received: Value,
        expected: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError::Validation(Box::new(FieldError {
            message: message.into(),
            field: field.into(),
            received,
            expected: expected.into(),
        }))
    }

    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(err))
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Validation(_) => ErrorCode::ValidationError,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            ApiError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            ApiError::MissingApiKey { .. } => ErrorCode::MissingApiKey,
            ApiError::RateLimited { .. } => ErrorCode::RateLimitExceeded,
            ApiError::ServiceUnavailable { .. } => ErrorCode::ServiceUnavailable,
            ApiError::ProcessingTimeout { .. } => ErrorCode::ProcessingTimeout,
            ApiError::Conflict(_) | ApiError::IdempotencyConflict { .. } => ErrorCode::Conflict,
            ApiError::Unauthorized => ErrorCode::Unauthorized,
            ApiError::Unsatisfiable { .. } => ErrorCode::Unsatisfiable,
            ApiError::Internal(_) => ErrorCode::InternalError,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::MissingApiKey { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::ServiceUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::ProcessingTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Conflict(_) | ApiError::IdempotencyConflict { .. } => StatusCode::CONFLICT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Unsatisfiable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn details(&self) -> Value {
        match self {
            ApiError::Validation(f) => {
                json!({"field": f.field, "received": f.received, "expected": f.expected})
            }
            ApiError::MethodNotAllowed { method } => json!({"method": method}),
            ApiError::Unsatisfiable { field, .. } => json!({"field": field}),
            ApiError::PayloadTooLarge { limit_bytes } => json!({"limit_bytes": limit_bytes}),
            ApiError::MissingApiKey { provider, variable } => {
                json!({"provider": provider, "variable": variable})
            }
            ApiError::RateLimited {
                limit,
                retry_after_secs,
            } => {
                json!({"limit": limit, "window_seconds": 60, "retry_after_seconds": retry_after_secs})
            }
            ApiError::ServiceUnavailable { details, .. }
            | ApiError::ProcessingTimeout { details, .. } => details.clone(),
            ApiError::IdempotencyConflict {
                reason,
                retry_after_secs,
                ..
            } => match retry_after_secs {
                Some(secs) => json!({"reason": reason, "retry_after_seconds": secs}),
                None => json!({"reason": reason}),
            },
            _ => Value::Null,
        }
    }

    /// The envelope, with the current request's id.
    pub fn wire(&self) -> crate::wire::Error {
        crate::wire::Error {
            error: crate::wire::ErrorBody {
                code: self.code(),
                message: self.to_string(),
                details: self.details(),
            },
            timestamp: clock::now_rfc3339(),
            request_id: request_id::current(),
        }
    }

    /// The envelope as JSON.
    pub fn envelope(&self) -> Value {
        serde_json::to_value(self.wire()).expect("the envelope serializes")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(source) => {
                tracing::error!(error = %source, detail = ?source, "internal error");
            }
            other if other.status().is_server_error() => {
                tracing::warn!(code = other.code().as_str(), error = %other, "request failed");
            }
            other => {
                tracing::info!(code = other.code().as_str(), error = %other, "request rejected")
            }
        }
        let mut response = (self.status(), axum::Json(self.wire())).into_response();
        let retry_after = match self {
            ApiError::RateLimited {
                retry_after_secs, ..
            } => Some(retry_after_secs),
            ApiError::IdempotencyConflict {
                retry_after_secs, ..
            } => retry_after_secs,
            _ => None,
        };
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The analyzer names the bad field (`architecture.layers[2].kernel_size`).
impl From<analysis::AnalysisError> for ApiError {
    fn from(e: analysis::AnalysisError) -> Self {
        let field = e.field().to_string();
        ApiError::validation(field, Value::Null, "see message", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_render_their_source() {
        let err = ApiError::internal(std::io::Error::other("disk /secret/path exploded"));
        let body = err.envelope().to_string();
        assert!(!body.contains("secret"), "{body}");
        assert_eq!(err.envelope()["error"]["code"], "INTERNAL_ERROR");
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn validation_envelope_carries_field_received_expected() {
        let err = ApiError::validation("training_config.epochs", json!(0), "integer 1-1000", "bad");
        let env = err.envelope();
        assert_eq!(env["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(env["error"]["details"]["field"], "training_config.epochs");
        assert_eq!(env["error"]["details"]["received"], 0);
        assert_eq!(env["error"]["details"]["expected"], "integer 1-1000");
        assert!(env["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(env["request_id"].is_string());
    }

    #[test]
    fn every_variant_has_its_status() {
        let cases: Vec<(ApiError, u16)> = vec![
            (ApiError::NotFound("x".into()), 404),
            (
                ApiError::MethodNotAllowed {
                    method: "PUT".into(),
                },
                405,
            ),
            (ApiError::PayloadTooLarge { limit_bytes: 1 }, 413),
            (
                ApiError::MissingApiKey {
                    provider: "openai".into(),
                    variable: "OPENAI_API_KEY".into(),
                },
                400,
            ),
            (
                ApiError::RateLimited {
                    limit: 5,
                    retry_after_secs: 3,
                },
                429,
            ),
            (
                ApiError::ProcessingTimeout {
                    message: "t".into(),
                    details: Value::Null,
                },
                504,
            ),
            (ApiError::Conflict("c".into()), 409),
            (ApiError::Unauthorized, 401),
        ];
        for (err, status) in cases {
            assert_eq!(err.status().as_u16(), status, "{}", err.code().as_str());
            assert_eq!(
                err.envelope()["error"]["code"],
                err.code().as_str(),
                "the envelope spells the code as as_str does"
            );
        }
    }
}
