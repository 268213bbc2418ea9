//! Parsing request JSON at the edge, one field at a time, so the first bad field is named in
//! `details.field` with what was `received` and what was `expected`.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// A JSON value's type as errors name it: one definition, the analyzer's.
pub use analysis::json_type as type_name;

/// A JSON object being read, with the dotted path of where it sits in the request.
pub struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// Reads `value` as an object found at `path` (empty for the body itself).
    pub fn new(path: &str, value: &'a Value) -> Result<Self, ApiError> {
        match value {
            Value::Object(map) => Ok(Fields {
                path: path.to_string(),
                map,
            }),
            other => Err(ApiError::validation(
                display(path),
                other.clone(),
                "object",
                format!("{} must be an object", display(path)),
            )),
        }
    }

    pub fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Rejects keys not in `known`, so a typo (`epoch` for `epochs`) is not silently ignored.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        if let Some(key) = self.map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::validation(
                self.path_of(key),
                self.map[key].clone(),
                format!("one of the known fields: {}", known.join(", ")),
                format!("unknown field {}", self.path_of(key)),
            ));
        }
        Ok(())
    }

    /// The raw value, treating an explicit `null` as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn missing(&self, key: &str, expected: &str) -> ApiError {
        ApiError::validation(
            self.path_of(key),
            Value::Null,
            expected,
            format!("{} is required", self.path_of(key)),
        )
    }

    fn wrong(&self, key: &str, got: &Value, expected: &str) -> ApiError {
        ApiError::validation(
            self.path_of(key),
            got.clone(),
            expected,
            format!("{} must be {expected}", self.path_of(key)),
        )
    }

    pub fn object(&self, key: &str) -> Result<Option<Fields<'a>>, ApiError> {
        self.get(key)
            .map(|v| Fields::new(&self.path_of(key), v))
            .transpose()
    }

    pub fn required_object(&self, key: &str) -> Result<Fields<'a>, ApiError> {
        self.object(key)?.ok_or_else(|| self.missing(key, "object"))
    }

    /// A string, trimmed, 1..=max characters.
    pub fn string(&self, key: &str, max: usize) -> Result<Option<String>, ApiError> {
        let expected = format!("non-empty string of at most {max} characters");
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() || t.chars().count() > max {
                    Err(self.wrong(key, &Value::String(s.clone()), &expected))
                } else {
                    Ok(Some(t.to_string()))
                }
            }
            Some(other) => Err(self.wrong(key, other, &expected)),
        }
    }

    pub fn required_string(&self, key: &str, max: usize) -> Result<String, ApiError> {
        let expected = format!("non-empty string of at most {max} characters");
        self.string(key, max)?
            .ok_or_else(|| self.missing(key, &expected))
    }

    /// An integer in `min..=max`; `10.0` counts as 10, `10.5` and `"10"` do not.
    pub fn integer(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let expected = format!("integer from {min} to {max}");
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => match integral(n) {
                Some(i) if (min..=max).contains(&i) => Ok(Some(i)),
                _ => Err(self.wrong(key, v, &expected)),
            },
            Some(other) => Err(self.wrong(key, other, &expected)),
        }
    }

    /// A number in the half-open interval `(low, high]`.
    pub fn number_above(&self, key: &str, low: f64, high: f64) -> Result<Option<f64>, ApiError> {
        let expected = format!("number greater than {low} and at most {high}");
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => match n.as_f64() {
                Some(f) if f.is_finite() && f > low && f <= high => Ok(Some(f)),
                _ => Err(self.wrong(key, v, &expected)),
            },
            Some(other) => Err(self.wrong(key, other, &expected)),
        }
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(key, other, "boolean")),
        }
    }

    /// A non-empty array of at most `max_len` integers, each in `min..=max`.
    pub fn integer_list(
        &self,
        key: &str,
        min: i64,
        max: i64,
        max_len: usize,
    ) -> Result<Option<Vec<i64>>, ApiError> {
        let expected = format!("array of 1 to {max_len} integers, each from {min} to {max}");
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::Array(items)) => {
                if items.is_empty() || items.len() > max_len {
                    return Err(self.wrong(key, v, &expected));
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item.as_number().and_then(integral) {
                        Some(n) if (min..=max).contains(&n) => out.push(n),
                        _ => {
                            return Err(ApiError::validation(
                                format!("{}[{i}]", self.path_of(key)),
                                item.clone(),
                                format!("integer from {min} to {max}"),
                                format!(
                                    "{}[{i}] must be an integer from {min} to {max}",
                                    self.path_of(key)
                                ),
                            ))
                        }
                    }
                }
                Ok(Some(out))
            }
            Some(other) => Err(self.wrong(key, other, &expected)),
        }
    }

    /// A non-empty array of at most `max_items` distinct non-blank strings (each trimmed, at
    /// most 200 characters); a duplicate is an error naming it.
    pub fn string_list(
        &self,
        key: &str,
        max_items: usize,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let expected = format!("array of 1 to {max_items} distinct non-empty strings");
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) if !items.is_empty() && items.len() <= max_items => {
                let mut out: Vec<String> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let field = format!("{}[{i}]", self.path_of(key));
                    let s = item
                        .as_str()
                        .map(str::trim)
                        .filter(|s| !s.is_empty() && s.chars().count() <= 200)
                        .ok_or_else(|| {
                            ApiError::validation(
                                field.clone(),
                                item.clone(),
                                "a non-empty string of at most 200 characters",
                                format!("{field} must be a non-empty string"),
                            )
                        })?;
                    if out.iter().any(|o| o == s) {
                        return Err(ApiError::validation(
                            field.clone(),
                            item.clone(),
                            "each name once",
                            format!("{field}: {s:?} is named twice"),
                        ));
                    }
                    out.push(s.to_string());
                }
                Ok(Some(out))
            }
            Some(other) => Err(self.wrong(key, other, &expected)),
        }
    }

    /// An array of strings, each one of `allowed`; duplicates collapse, order kept.
    pub fn enum_list(&self, key: &str, allowed: &[&str]) -> Result<Option<Vec<String>>, ApiError> {
        let expected = format!("array of strings, each one of: {}", allowed.join(", "));
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => {
                let mut out: Vec<String> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) if allowed.contains(&s) => {
                            if !out.iter().any(|o| o == s) {
                                out.push(s.to_string());
                            }
                        }
                        _ => {
                            return Err(ApiError::validation(
                                format!("{}[{i}]", self.path_of(key)),
                                item.clone(),
                                format!("one of: {}", allowed.join(", ")),
                                format!("{}[{i}] is not a known value", self.path_of(key)),
                            ))
                        }
                    }
                }
                Ok(Some(out))
            }
            Some(other) => Err(self.wrong(key, other, &expected)),
        }
    }
}

/// A JSON number as an integer: `10` and `10.0` are 10 (JSON Schema's `integer` admits both),
/// `10.5` is not.
fn integral(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

fn display(path: &str) -> String {
    if path.is_empty() {
        "body".into()
    } else {
        path.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(err: ApiError) -> String {
        err.envelope()["error"]["details"]["field"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn integers_accept_whole_floats_only() {
        let v = json!({"a": 10.0, "b": 10.5, "c": "10", "d": 0});
        let f = Fields::new("", &v).unwrap();
        assert_eq!(f.integer("a", 1, 1000).unwrap(), Some(10));
        assert_eq!(field_of(f.integer("b", 1, 1000).unwrap_err()), "b");
        assert_eq!(field_of(f.integer("c", 1, 1000).unwrap_err()), "c");
        assert_eq!(field_of(f.integer("d", 1, 1000).unwrap_err()), "d");
        assert_eq!(f.integer("missing", 1, 2).unwrap(), None);
    }

    #[test]
    fn half_open_interval() {
        let v = json!({"zero": 0, "one": 1, "big": 1.5, "mid": 0.001});
        let f = Fields::new("cfg", &v).unwrap();
        assert!(f.number_above("zero", 0.0, 1.0).is_err());
        assert_eq!(f.number_above("one", 0.0, 1.0).unwrap(), Some(1.0));
        assert_eq!(
            field_of(f.number_above("big", 0.0, 1.0).unwrap_err()),
            "cfg.big"
        );
        assert_eq!(f.number_above("mid", 0.0, 1.0).unwrap(), Some(0.001));
    }

    #[test]
    fn unknown_keys_and_enum_lists() {
        let v = json!({"providers": ["openai", "openai", "anthropic"], "typo": 1});
        let f = Fields::new("", &v).unwrap();
        assert_eq!(field_of(f.only(&["providers"]).unwrap_err()), "typo");
        assert_eq!(
            f.enum_list("providers", &["openai", "anthropic"]).unwrap(),
            Some(vec!["openai".to_string(), "anthropic".to_string()])
        );
        let bad = json!({"providers": ["openai", "claude"]});
        let f = Fields::new("", &bad).unwrap();
        assert_eq!(
            field_of(f.enum_list("providers", &["openai"]).unwrap_err()),
            "providers[1]"
        );
    }

    #[test]
    fn strings_are_trimmed_and_bounded() {
        let v = json!({"s": "  hi ", "e": "   ", "n": 5});
        let f = Fields::new("", &v).unwrap();
        assert_eq!(f.string("s", 10).unwrap().as_deref(), Some("hi"));
        assert!(f.string("e", 10).is_err());
        assert!(f.string("n", 10).is_err());
        assert_eq!(field_of(f.required_string("x", 10).unwrap_err()), "x");
    }
}
