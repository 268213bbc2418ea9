//! The opaque `next_token`: base64url of `after:<model id>`. Clients pass it back untouched.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use shared::ids;

pub fn encode(after_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{after_id}"))
}

pub fn decode(token: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let id = text.strip_prefix("after:")?;
    ids::is_valid(id, ids::MODEL_PREFIX).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_garbage() {
        let id = shared::ids::new_model_id();
        assert_eq!(super::decode(&super::encode(&id)), Some(id));
        assert_eq!(super::decode("not-a-token"), None);
        assert_eq!(super::decode(&super::encode("model_001")), None);
    }
}
