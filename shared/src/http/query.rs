//! The query string as ordered pairs, with a malformed query answered in the envelope.
//! Handlers match the pairs themselves, so an unknown parameter can be named.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde_json::Value;

use crate::error::ApiError;

#[derive(Debug, Clone, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::validation("query", Value::Null, "a valid query string", e.body_text())
            })?;
        Ok(QueryPairs(pairs))
    }
}
