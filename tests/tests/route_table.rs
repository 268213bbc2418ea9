//! One route table: each function's `routes()` (what its router is built from) against the
//! OpenAPI document's operations, the watch router in the root Cargo.toml and the events in
//! template.yaml. A route added in one place and not the others fails here.

use std::collections::{BTreeMap, BTreeSet};

use api_tests::{send, sqlite_state};
use axum::body::Body;
use http::{Method, Request};
use shared::http::Routes;

const CARGO_TOML: &str = include_str!("../../Cargo.toml");
const TEMPLATE: &str = include_str!("../../template.yaml");
/// The watch router's and API Gateway's catch-all, owned by `system` (unknown paths answer
/// NOT_FOUND in the envelope).
const CATCH_ALL: &str = "/{*path}";

fn functions() -> Vec<(&'static str, Routes)> {
    vec![
        ("system", system::routes()),
        ("models", models::routes()),
        ("synthetic-data", synthetic_data::routes()),
        ("analyze", analyze::routes()),
        ("enhance", enhance::routes()),
    ]
}

/// path → function, from every function's table; a path owned by two functions fails.
fn owners() -> BTreeMap<&'static str, &'static str> {
    let mut owner = BTreeMap::new();
    for (function, routes) in functions() {
        for (_, path) in routes.table() {
            if let Some(other) = owner.insert(*path, function) {
                assert_eq!(
                    other, function,
                    "{path} is routed by {other} and {function}"
                );
            }
        }
    }
    owner
}

/// `"path" = "function"` lines of `[workspace.metadata.lambda.watch.router]`.
fn watch_router() -> BTreeMap<String, String> {
    CARGO_TOML
        .lines()
        .skip_while(|l| l.trim() != "[workspace.metadata.lambda.watch.router]")
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| {
            let (path, function) = l.split_once('=').expect("key = value");
            let unquote = |s: &str| s.trim().trim_matches('"').to_string();
            (unquote(path), unquote(function))
        })
        .collect()
}

/// Binary → the event paths of its resource in template.yaml (`None` for an event with no
/// `Path`: the HTTP API's `$default` route).
fn template_events() -> BTreeMap<String, Vec<Option<String>>> {
    let mut out: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    let mut binary: Option<String> = None;
    let mut in_event = false;
    let mut pending: Option<Option<String>> = None;
    let flush = |binary: &Option<String>,
                 pending: &mut Option<Option<String>>,
                 out: &mut BTreeMap<String, Vec<Option<String>>>| {
        if let (Some(b), Some(p)) = (binary, pending.take()) {
            out.entry(b.clone()).or_default().push(p);
        }
    };
    for line in TEMPLATE.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if indent == 2 {
            // A new resource.
            flush(&binary, &mut pending, &mut out);
            binary = None;
            in_event = false;
        }
        if let Some(b) = text.strip_prefix("Binary:") {
            binary = Some(b.trim().to_string());
        }
        if text == "Type: HttpApi" {
            flush(&binary, &mut pending, &mut out);
            in_event = true;
            pending = Some(None);
        }
        if in_event {
            if let Some(p) = text.strip_prefix("Path:") {
                pending = Some(Some(p.trim().to_string()));
            }
        }
    }
    flush(&binary, &mut pending, &mut out);
    out
}

fn document_operations() -> BTreeSet<(String, String)> {
    let doc = shared::openapi::document();
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn the_document_lists_exactly_the_routes_the_functions_answer() {
    let served: BTreeSet<(String, String)> = functions()
        .iter()
        .flat_map(|(_, r)| r.table().iter())
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let documented = document_operations();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served, not in the document: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in the document, served by no function: {unserved:?}"
    );
}

#[test]
fn the_watch_router_sends_each_path_to_its_function() {
    let mut watch = watch_router();
    assert_eq!(
        watch.remove(CATCH_ALL).as_deref(),
        Some("system"),
        "the catch-all goes to system"
    );
    let expected: BTreeMap<String, String> = owners()
        .into_iter()
        .map(|(p, f)| (p.to_string(), f.to_string()))
        .collect();
    assert_eq!(watch, expected);
}

#[test]
fn the_template_routes_each_path_to_its_function() {
    let events = template_events();
    for (function, routes) in functions() {
        let mut paths: Vec<Option<String>> = events
            .get(function)
            .unwrap_or_else(|| panic!("template.yaml has no resource with Binary: {function}"))
            .clone();
        if function == "system" {
            let defaults = paths.iter().filter(|p| p.is_none()).count();
            assert_eq!(defaults, 1, "system owns the $default route");
            paths.retain(Option::is_some);
        }
        let template: BTreeSet<String> = paths
            .into_iter()
            .map(|p| p.unwrap_or_else(|| panic!("{function}: an HttpApi event with no Path")))
            .collect();
        let table: BTreeSet<String> = routes.table().iter().map(|(_, p)| p.to_string()).collect();
        assert_eq!(
            template, table,
            "{function}: template.yaml events vs its routes()"
        );
    }
    // No HTTP events on a binary that serves no routes (the training worker is invoked by
    // the jobs stream).
    let known: BTreeSet<&str> = functions().iter().map(|(f, _)| *f).collect();
    for binary in events.keys() {
        assert!(known.contains(binary.as_str()), "{binary} has HTTP events");
    }
}

/// The table is what the router answers: each listed method reaches a handler, and another
/// method on the same path is the router's 405 (so the path is routed).
#[tokio::test]
async fn each_router_answers_its_table() {
    let state = sqlite_state();
    let routers = [
        ("system", system::router(state.clone())),
        ("models", models::router(state.clone())),
        ("synthetic-data", synthetic_data::router(state.clone())),
        ("analyze", analyze::router(state.clone())),
        ("enhance", enhance::router(state.clone())),
    ];
    for ((function, routes), (_, router)) in functions().into_iter().zip(routers.iter()) {
        let by_path: BTreeMap<&str, Vec<Method>> =
            routes
                .table()
                .iter()
                .fold(BTreeMap::new(), |mut m, (method, path)| {
                    m.entry(*path).or_default().push(method.clone());
                    m
                });
        for (path, methods) in by_path {
            let uri = path.replace("{id}", "01J00000000000000000000000");
            for method in &methods {
                let reply = send(
                    router,
                    Request::builder()
                        .method(method.clone())
                        .uri(&uri)
                        .header("content-type", "application/json")
                        .body(Body::from("{}"))
                        .unwrap(),
                )
                .await;
                assert_ne!(reply.status, 405, "{function}: {method} {path}");
                let unrouted = reply.body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("no route for"));
                assert!(!unrouted, "{function}: {method} {path} is not routed");
            }
            let reply = send(
                router,
                Request::builder()
                    .method(Method::DELETE)
                    .uri(&uri)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(reply.status, 405, "{function}: DELETE {path}");
            assert_eq!(reply.body["error"]["code"], "METHOD_NOT_ALLOWED");
        }
    }
}

/// Every OpenAPI link names an operation that exists and parameters that operation takes,
/// and reads the id from a field the source's response schema has.
#[test]
fn links_lead_to_real_operations() {
    let doc = shared::openapi::document();
    let ops: BTreeMap<String, &serde_json::Value> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| (op["operationId"].as_str().unwrap().to_string(), op))
        .collect();
    let mut links = 0;
    for op in ops.values() {
        for response in op["responses"].as_object().unwrap().values() {
            let Some(found) = response.get("links").and_then(|l| l.as_object()) else {
                continue;
            };
            for (name, link) in found {
                links += 1;
                let target = link["operationId"].as_str().unwrap();
                let target_op = ops
                    .get(target)
                    .unwrap_or_else(|| panic!("{name}: {target}"));
                let schema = &response["content"]["application/json"]["schema"];
                for (param, expression) in link["parameters"].as_object().into_iter().flatten() {
                    let takes = target_op["parameters"]
                        .as_array()
                        .is_some_and(|ps| ps.iter().any(|p| p["name"] == param.as_str()));
                    assert!(takes, "{name}: {target} has no parameter {param}");
                    let pointer = expression
                        .as_str()
                        .and_then(|e| e.strip_prefix("$response.body#"))
                        .unwrap_or_else(|| panic!("{name}: {expression}"));
                    assert!(
                        has_field(doc, schema, pointer),
                        "{name}: no {pointer} in the response"
                    );
                }
                if link.get("requestBody").is_some() {
                    assert!(
                        target_op.get("requestBody").is_some(),
                        "{name}: {target} takes no body"
                    );
                }
            }
        }
    }
    assert!(links >= 11, "{links} links");
}

/// Whether `pointer` (`/a/b`) names a property path of `schema`, following `$ref`s.
fn has_field(doc: &serde_json::Value, schema: &serde_json::Value, pointer: &str) -> bool {
    let resolve = |s: &serde_json::Value| {
        let mut s = s.clone();
        while let Some(r) = s.get("$ref").and_then(|r| r.as_str()).map(str::to_string) {
            s = doc
                .pointer(r.trim_start_matches('#'))
                .expect("reference resolves")
                .clone();
        }
        s
    };
    let mut at = resolve(schema);
    for segment in pointer.trim_start_matches('/').split('/') {
        match at.get("properties").and_then(|p| p.get(segment)) {
            Some(next) => at = resolve(next),
            None => return false,
        }
    }
    true
}
