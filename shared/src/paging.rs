//! The opaque `next_token` of list endpoints: base64url of `after:<id>`. Clients pass it
//! back untouched; a token for another kind of record, or garbage, is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::ids;

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
