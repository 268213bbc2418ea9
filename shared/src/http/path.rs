//! The `{id}` path parameter. axum's own `Path` rejects an id that does not percent-decode
//! to UTF-8 (`/v1/models/%ff`) with a plain-text 400; this one answers in the envelope.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde_json::Value;

use crate::error::ApiError;

/// The route's single `{id}` segment, decoded.
#[derive(Debug, Clone)]
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(PathId(id)),
            Err(rejection) => Err(ApiError::validation(
                "id",
                Value::String(parts.uri.path().to_string()),
                "an id of ASCII letters, digits and underscores",
                format!("the path's id is not valid: {}", rejection.body_text()),
            )),
        }
    }
}
