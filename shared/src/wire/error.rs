//! The error envelope every failure is answered in.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

pub use crate::error::ErrorCode;

/// The error itself: a code, a message for people, and details for programs.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// For `VALIDATION_ERROR`: `{field, received, expected}`; for others an object of
    /// facts (limits, retry hints) or `null`.
    pub details: Value,
}

/// The envelope every error is answered in.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Error {
    pub error: ErrorBody,
    /// RFC 3339, UTC, milliseconds.
    pub timestamp: String,
    /// API Gateway's request id, else `req_<ulid>`; also in `x-request-id`.
    pub request_id: String,
}
