//! The opaque `next_token` of list endpoints: base64url of `after:<id>`. Clients pass it
//! back untouched; a token for another kind of record, or garbage, is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::ids;

/// Page sizes of every list endpoint: 1 to 100, 20 by default.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// The `limit` query parameter.
pub fn limit(value: &str) -> ApiResult<usize> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            ApiError::validation(
                "limit",
                json!(value),
                format!("integer from 1 to {MAX_LIMIT}"),
                "limit is out of range",
            )
        })
}

/// The `next_token` query parameter: the id to resume after.
pub fn token(value: &str, prefix: &str) -> ApiResult<String> {
    decode(value, prefix).ok_or_else(|| {
        ApiError::validation(
            "next_token",
            json!(value),
            "a next_token returned by this endpoint",
            "next_token is not valid",
        )
    })
}

/// An unknown query parameter, naming the known ones.
pub fn unknown(name: &str, value: &str, known: &str) -> ApiError {
    ApiError::validation(
        name,
        json!(value),
        format!("one of the query parameters: {known}"),
        format!("unknown query parameter {name}"),
    )
}

pub fn encode(after_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{after_id}"))
}

/// The id to resume after, if `token` is one this API issued for ids with `prefix`.
pub fn decode(token: &str, prefix: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let id = text.strip_prefix("after:")?;
    ids::is_valid(id, prefix).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use crate::ids;

    #[test]
    fn round_trip_and_garbage() {
        let id = ids::new_model_id();
        assert_eq!(
            super::decode(&super::encode(&id), ids::MODEL_PREFIX),
            Some(id.clone())
        );
        assert_eq!(
            super::decode(&super::encode(&id), ids::DATASET_PREFIX),
            None
        );
        assert_eq!(super::decode("not-a-token", ids::MODEL_PREFIX), None);
        assert_eq!(
            super::decode(&super::encode("model_001"), ids::MODEL_PREFIX),
            None
        );
    }
}
