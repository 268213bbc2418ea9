//! `GET /docs`: the OpenAPI document rendered as one self-contained HTML page (no scripts, no
//! fonts, nothing fetched): every operation with its parameters, request body and responses,
//! then every schema as a table of its properties, linked by anchors.

use serde_json::Value;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Inline code spans (`like this`) in a description, escaped.
fn text(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in esc(s).split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn ref_name(r: &str) -> &str {
    r.rsplit('/').next().unwrap_or(r)
}

/// A one-line type summary of a schema, with links to named schemas.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let n = ref_name(r);
        return format!("<a href=\"#schema-{n}\">{n}</a>", n = esc(n));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            return alts.iter().map(type_of).collect::<Vec<_>>().join(" | ");
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(|v| format!("<code>{}</code>", esc(&v.to_string())))
            .collect::<Vec<_>>()
            .join(" | ");
    }
    if let Some(c) = schema.get("const") {
        return format!("<code>{}</code>", esc(&c.to_string()));
    }
    let mut base = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ if schema.get("properties").is_some() => "object".into(),
        _ => "any".into(),
    };
    if base.contains("array") {
        if let Some(items) = schema.get("items") {
            base = base.replace("array", &format!("array of {}", type_of(items)));
        }
    } else if base.contains("object") {
        if let Some(extra) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            base = base.replace("object", &format!("map of {}", type_of(extra)));
        }
    }
    let mut bounds = Vec::new();
    for (key, label) in [
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
        ("minItems", "items ≥"),
        ("maxItems", "items ≤"),
    ] {
        if let Some(v) = schema.get(key) {
            bounds.push(format!("{label} {v}"));
        }
    }
    if bounds.is_empty() {
        base
    } else {
        format!("{base} ({})", bounds.join(", "))
    }
}

fn description(schema: &Value) -> String {
    schema
        .get("description")
        .and_then(Value::as_str)
        .map(text)
        .unwrap_or_default()
}

fn properties_table(schema: &Value) -> String {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return format!("<p>{}</p>", type_of(schema));
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out =
        String::from("<table><tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr>");
    for (name, prop) in props {
        out.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            type_of(prop),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                ""
            },
            description(prop)
        ));
    }
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        out.push_str("<tr><td colspan=\"4\"><em>no other fields are accepted</em></td></tr>");
    }
    out.push_str("</table>");
    out
}

fn content(c: &Value) -> String {
    let mut out = String::new();
    if let Some(map) = c.as_object() {
        for (ct, media) in map {
            out.push_str(&format!(
                "<div><code>{}</code>: {}</div>",
                esc(ct),
                type_of(&media["schema"])
            ));
        }
    }
    out
}

/// The page.
pub fn html(doc: &Value) -> String {
    let info = &doc["info"];
    let title = esc(info["title"].as_str().unwrap_or("API"));
    let mut body = String::new();
    let mut toc = String::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            let Some(ops) = item.as_object() else {
                continue;
            };
            for (method, op) in ops {
                let id = op["operationId"].as_str().unwrap_or("");
                toc.push_str(&format!(
                    "<li><a href=\"#op-{id}\"><span class=\"m\">{}</span> {}</a> {}</li>",
                    method.to_uppercase(),
                    esc(path),
                    esc(op["summary"].as_str().unwrap_or("")),
                    id = esc(id),
                ));
                body.push_str(&format!(
                    "<section id=\"op-{}\"><h3><span class=\"m\">{}</span> <code>{}</code></h3>\
                     <p><strong>{}</strong> {}</p><p class=\"fn\">function: {}{}</p>",
                    esc(id),
                    method.to_uppercase(),
                    esc(path),
                    esc(op["summary"].as_str().unwrap_or("")),
                    text(op["description"].as_str().unwrap_or("")),
                    esc(op["x-function"].as_str().unwrap_or("")),
                    if op.get("security") == Some(&Value::Array(vec![])) {
                        " · no key needed"
                    } else {
                        ""
                    },
                ));
                if let Some(params) = op["parameters"].as_array() {
                    body.push_str("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>notes</th></tr>");
                    for p in params {
                        body.push_str(&format!(
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            esc(p["name"].as_str().unwrap_or("")),
                            esc(p["in"].as_str().unwrap_or("")),
                            type_of(&p["schema"]),
                            if p["required"] == Value::Bool(true) { "yes" } else { "" },
                            text(p["description"].as_str().unwrap_or("")),
                        ));
                    }
                    body.push_str("</table>");
                }
                if let Some(rb) = op.get("requestBody") {
                    body.push_str("<h4>Request body</h4>");
                    body.push_str(&content(&rb["content"]));
                }
                body.push_str("<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>");
                if let Some(responses) = op["responses"].as_object() {
                    for (status, r) in responses {
                        body.push_str(&format!(
                            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                            esc(status),
                            text(r["description"].as_str().unwrap_or("")),
                            content(&r["content"]),
                        ));
                    }
                }
                body.push_str("</table></section>");
            }
        }
    }
    let mut schemas = String::new();
    if let Some(defs) = doc["components"]["schemas"].as_object() {
        for (name, schema) in defs {
            schemas.push_str(&format!(
                "<section id=\"schema-{n}\"><h3>{n}</h3><p>{}</p>{}</section>",
                description(schema),
                properties_table(schema),
                n = esc(name),
            ));
        }
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} reference</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#1b1b1b}}\
         table{{border-collapse:collapse;width:100%;margin:.5rem 0}}td,th{{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}}\
         th{{background:#f4f4f4}}code{{background:#f4f4f4;padding:0 .2rem}}section{{border-top:1px solid #ccc;margin-top:1.5rem}}\
         .m{{font-weight:bold;color:#05668d}}.fn{{color:#666;font-size:.9em}}\
         </style></head><body><h1>{title} <small>{version}</small></h1><p>{desc}</p>\
         <p>The machine-readable document: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI {openapi}).</p>\
         <h2>Operations</h2><ul>{toc}</ul>{body}<h2>Schemas</h2>{schemas}</body></html>",
        version = esc(info["version"].as_str().unwrap_or("")),
        desc = text(info["description"].as_str().unwrap_or("")),
        openapi = esc(doc["openapi"].as_str().unwrap_or("")),
    )
}
