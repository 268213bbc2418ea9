//! Conformance of real responses to the OpenAPI document (`shared::openapi`): the answer's
//! status and content type must be documented for the operation, and a JSON body must
//! validate against the documented schema, with every documented object closed (a field the
//! code sends but the document does not name fails the test, so the two cannot drift).

use serde_json::Value;

use crate::Reply;

/// `additionalProperties: false` on every object schema that lists its properties and does
/// not say otherwise. An object that also has `oneOf`/`anyOf`/`allOf` (a flattened enum: the
/// variant's properties live in the branches) is closed with `unevaluatedProperties` instead,
/// and its branches are left open, since each branch sees the parent's properties too.
fn close_objects(v: &mut Value) {
    close(v, false)
}

const COMBINATORS: [&str; 3] = ["oneOf", "anyOf", "allOf"];

fn close(v: &mut Value, branch_of_closed_parent: bool) {
    match v {
        Value::Object(map) => {
            let combined = COMBINATORS.iter().any(|k| map.contains_key(*k));
            let lists = map.contains_key("properties");
            let open = map.contains_key("additionalProperties")
                || map.contains_key("unevaluatedProperties");
            let closes_branches = lists && combined && !open;
            if lists && !open && !branch_of_closed_parent {
                let key = if combined {
                    "unevaluatedProperties"
                } else {
                    "additionalProperties"
                };
                map.insert(key.into(), Value::Bool(false));
            }
            for (key, child) in map.iter_mut() {
                if COMBINATORS.contains(&key.as_str()) && closes_branches {
                    if let Value::Array(branches) = child {
                        branches.iter_mut().for_each(|b| close(b, true));
                    }
                } else {
                    close(child, false);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| close(i, false)),
        _ => {}
    }
}

/// The media type of a reply, without parameters.
pub fn content_type(reply: &Reply) -> String {
    reply
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Asserts `reply` to `method template` (the path as written in the document, e.g.
/// `/v1/models/{id}`) is documented and conforms. Returns the reply's body for chaining.
pub fn assert_conforms(method: &str, template: &str, reply: &Reply) {
    let doc = shared::openapi::document();
    let op = &doc["paths"][template][method.to_ascii_lowercase()];
    assert!(op.is_object(), "{method} {template} is not in the document");
    let status = reply.status.as_u16();
    let response = &op["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {template}: status {status} is not documented; body: {}",
        reply.text
    );
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return;
    };
    let ct = content_type(reply);
    assert!(
        content.contains_key(&ct),
        "{method} {template} {status}: content type {ct:?} is not documented (documented: {:?})",
        content.keys().collect::<Vec<_>>()
    );
    if ct != "application/json" {
        return;
    }
    let mut schema = shared::openapi::response_schema(method, template, status, &ct)
        .expect("schema of a documented response");
    close_objects(&mut schema);
    let validator = jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("{method} {template} {status}: bad schema: {e}"));
    let body: Value = serde_json::from_str(&reply.text).unwrap_or_else(|e| {
        panic!(
            "{method} {template} {status}: body is not JSON ({e}): {}",
            reply.text
        )
    });
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status} does not conform:\n  {}\nbody: {}",
        errors.join("\n  "),
        reply.text
    );
}

/// The reply has `status` and conforms to the document's operation `method template`.
pub fn check(method: &str, template: &str, reply: &Reply, status: u16) {
    assert_eq!(
        reply.status.as_u16(),
        status,
        "{method} {template}: {}",
        reply.text
    );
    assert_conforms(method, template, reply);
}

/// GET `path` (the route `template` filled in) answers `status` and conforms.
pub async fn check_get(app: &axum::Router, template: &str, path: &str, status: u16) {
    check("GET", template, &crate::get(app, path).await, status);
}

/// POST `body` to `path` (a route without parameters) answers `status` and conforms.
pub async fn check_post(app: &axum::Router, path: &str, body: &Value, status: u16) {
    check(
        "POST",
        path,
        &crate::post_json(app, path, body).await,
        status,
    );
}
