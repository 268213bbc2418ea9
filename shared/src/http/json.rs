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
        let value = parse_strict(&bytes).map_err(|e| {
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

/// Parses JSON as `serde_json` does (UTF-8 checked, nesting limited to 128 levels, numbers
/// beyond f64 refused) and also refuses duplicate object keys, which `serde_json::Value`
/// would silently resolve to the last one.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let StrictValue(value) = serde::Deserialize::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

struct StrictValue(Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::{is_json, parse_strict};

    #[test]
    fn strict_parsing() {
        assert!(parse_strict(br#"{"a": 1, "b": [true, null, "x", 2.5]}"#).is_ok());
        let dup = parse_strict(br#"{"a": 1, "a": 2}"#)
            .unwrap_err()
            .to_string();
        assert!(dup.contains("duplicate key"), "{dup}");
        assert!(
            parse_strict(br#"{"n": {"a": 1, "a": 1}}"#).is_err(),
            "nested duplicates"
        );
        assert!(parse_strict(b"{\"n\": 1e400}").is_err(), "beyond f64");
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_strict(deep.as_bytes()).is_err(), "nesting limit");
        assert!(
            parse_strict(&[b'"', 0xff, 0xfe, b'"']).is_err(),
            "invalid UTF-8"
        );
        assert!(parse_strict(b"{} trailing").is_err());
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
