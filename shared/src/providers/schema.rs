//! JSON Schemas for structured answers, generated from the Rust type the answer is read into
//! (schemars), so the request and the validation cannot drift.
//!
//! The generated schema is reduced to the subset every provider accepts in strict mode:
//! sub-schemas inlined, every object closed (`additionalProperties: false`) with every
//! property required (optional fields are nullable instead), and no numeric/string/array
//! bounds or formats (Anthropic's and OpenAI's strict modes reject some of them). Bounds are
//! checked on our side by `Answer::check` after deserializing.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{Map, Value};

const DROPPED: [&str; 14] = [
    "$schema",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "default",
    "examples",
    "uniqueItems",
];

pub fn for_type<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut value = schema.to_value();
    strictify(&mut value);
    value
}

fn strictify(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for key in DROPPED {
                map.remove(key);
            }
            map.remove("$defs");
            let is_object = map.get("type").is_some_and(|t| {
                t == "object"
                    || t.as_array()
                        .is_some_and(|a| a.iter().any(|x| x == "object"))
            }) || map.contains_key("properties");
            if is_object {
                let props = map
                    .entry("properties")
                    .or_insert_with(|| Value::Object(Map::new()));
                let names: Vec<Value> = props
                    .as_object()
                    .map(|p| p.keys().map(|k| Value::String(k.clone())).collect())
                    .unwrap_or_default();
                map.insert("required".into(), Value::Array(names));
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (_, child) in map.iter_mut() {
                strictify(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strictify),
        _ => {}
    }
}

/// True when every object in `schema` is closed and requires all its properties: what
/// OpenAI's strict mode demands (the mock provider checks the same).
pub fn is_strict(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if map.get("additionalProperties") != Some(&Value::Bool(false))
                    || props.keys().any(|k| !required.contains(&k.as_str()))
                {
                    return false;
                }
            }
            map.values().all(is_strict)
        }
        Value::Array(items) => items.iter().all(is_strict),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    struct Inner {
        score: u32,
        note: Option<String>,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    struct Outer {
        items: Vec<Inner>,
        label: String,
    }

    #[test]
    fn generated_schemas_are_strict_and_inline() {
        let s = for_type::<Outer>();
        assert!(is_strict(&s), "{s:#}");
        let text = s.to_string();
        assert!(!text.contains("$ref") && !text.contains("$defs"), "{text}");
        assert!(
            !text.contains("minimum") && !text.contains("format"),
            "{text}"
        );
        let inner = &s["properties"]["items"]["items"];
        assert_eq!(inner["required"], serde_json::json!(["score", "note"]));
    }
}
