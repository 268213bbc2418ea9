//! Every route's answers, sent through the real Routers, conform to the OpenAPI document:
//! successes and error envelopes, status, content type and body (objects closed, so a field
//! the code adds without documenting it fails here). The models routes being reshaped by the
//! training work are in `openapi_models.rs`.

use api_tests::openapi::{assert_conforms, check, check_get, check_post};
use api_tests::{get, post_json, send, sqlite_state, sqlite_store, state_with, Reply};
use axum::body::Body;
use axum::Router;
use http::Request;
use serde_json::{json, Value};

#[test]
fn the_document_lists_every_operation() {
    let doc = shared::openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ops: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    ops.sort();
    let mut want = vec![
        "GET /health",
        "GET /v1/ai/status",
        "GET /v1/ai/usage",
        "GET /openapi.json",
        "GET /docs",
        "GET /ui",
        "GET /v1/models",
        "POST /v1/models/train",
        "GET /v1/models/compare",
        "GET /v1/models/{id}",
        "GET /v1/models/{id}/history",
        "GET /v1/models/{id}/status",
        "POST /v1/models/{id}/stop",
        "POST /v1/models/{id}/resume",
        "POST /v1/models/{id}/predict",
        "GET /v1/models/{id}/metrics.svg",
        "GET /v1/models/{id}/download",
        "GET /v1/sweeps",
        "POST /v1/sweeps",
        "GET /v1/sweeps/{id}",
        "POST /v1/sweeps/{id}/stop",
        "POST /v1/ai/synthetic-data",
        "GET /v1/datasets",
        "POST /v1/datasets",
        "POST /v1/datasets/uploads",
        "POST /v1/datasets/uploads/{id}/complete",
        "GET /v1/datasets/{id}",
        "GET /v1/datasets/{id}/download",
        "POST /v1/ai/analyze",
        "POST /v1/ai/enhance",
    ];
    want.sort();
    assert_eq!(ops, want);
    // Every $ref resolves.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"").skip(1) {
        let target = part.split('"').next().unwrap();
        let (kind, name) = match target.strip_prefix(shared::openapi::COMPONENTS) {
            Some(name) => ("schemas", name),
            None => (
                "headers",
                target
                    .strip_prefix("#/components/headers/")
                    .unwrap_or_else(|| panic!("unknown $ref {target}")),
            ),
        };
        assert!(
            doc["components"][kind].get(name).is_some(),
            "dangling $ref {target}"
        );
    }
}

#[tokio::test]
async fn system_routes_conform() {
    let app = system::router(sqlite_state());
    check_get(&app, "/health", "/health", 200).await;
    check_get(&app, "/v1/ai/status", "/v1/ai/status", 200).await;
    check_get(&app, "/v1/ai/usage", "/v1/ai/usage", 200).await;
    check_get(&app, "/v1/ai/usage", "/v1/ai/usage?days=0", 400).await;
    check_get(&app, "/v1/ai/usage", "/v1/ai/usage?x=1", 400).await;

    let doc = get(&app, "/openapi.json").await;
    check("GET", "/openapi.json", &doc, 200);
    assert_eq!(&doc.body, shared::openapi::document());

    let page = get(&app, "/docs").await;
    check("GET", "/docs", &page, 200);
    check("GET", "/ui", &get(&app, "/ui").await, 200);
    assert!(page.text.starts_with("<!doctype html>"));
    for op in [
        "trainModel",
        "syntheticData",
        "getTrainingStatus",
        "predict",
    ] {
        assert!(page.text.contains(&format!("id=\"op-{op}\"")), "{op}");
    }
    assert!(page.text.contains("id=\"schema-Error\""));
    assert!(
        !page.text.contains("<script") && !page.text.contains("src="),
        "the page fetches nothing"
    );

    let down = state_with(
        std::sync::Arc::new(shared::state::UnavailableStore::new("gone")),
        &[],
    );
    check(
        "GET",
        "/health",
        &get(&system::router(down), "/health").await,
        503,
    );
}

#[tokio::test]
async fn client_authentication_and_rate_limits_conform() {
    let state = state_with(
        sqlite_store(),
        &[
            ("MLAAS_API_KEYS", "k1"),
            ("MLAAS_RATE_LIMITS", "/v1/ai/status=1"),
        ],
    );
    let app = system::router(state);
    check_get(&app, "/v1/ai/status", "/v1/ai/status", 401).await;
    // The description of the API is public, like /health.
    check_get(&app, "/openapi.json", "/openapi.json", 200).await;
    check_get(&app, "/docs", "/docs", 200).await;
    let with_key = || {
        Request::get("/v1/ai/status")
            .header("x-api-key", "k1")
            .body(Body::empty())
            .unwrap()
    };
    check("GET", "/v1/ai/status", &send(&app, with_key()).await, 200);
    check("GET", "/v1/ai/status", &send(&app, with_key()).await, 429);
}

async fn post_with(app: &Router, path: &str, content_type: &str, body: &str, key: &str) -> Reply {
    let mut req = Request::post(path).header("content-type", content_type);
    if !key.is_empty() {
        req = req.header("idempotency-key", key);
    }
    send(app, req.body(Body::from(body.to_string())).unwrap()).await
}

#[tokio::test]
async fn synthetic_data_and_dataset_routes_conform() {
    let app = synthetic_data::router(sqlite_state());
    let spec = json!({
        "model_description": "Binary classification model for fraud detection",
        "existing_data": "Transaction data with features: amount, merchant, time, location",
        "target_count": 500,
        "data_format": "tabular",
        "quality_requirements": {"diversity": "high", "realism": "production_ready", "balance": "stratified"}
    });
    let r = post_json(&app, "/v1/ai/synthetic-data", &spec).await;
    check("POST", "/v1/ai/synthetic-data", &r, 200);
    let id = r.body["synthetic_data"]["dataset_id"]
        .as_str()
        .unwrap()
        .to_string();

    let fitted = json!({
        "sample_rows": "a,b,label\n1,2.5,x\n2,3.5,y\n3,1.5,x\n4,0.5,y\n5,2.0,x\n6,2.2,y\n",
        "target": "label", "target_count": 20, "include_data": true, "seed": 7
    });
    check_post(&app, "/v1/ai/synthetic-data", &fitted, 200).await;
    for bad in [
        json!({}),
        json!({"model_description": "x", "target_count": 0}),
        json!({"model_description": "x", "data_format": "image"}),
        json!({"model_description": "x", "surprise": 1}),
        json!({"model_description": "x", "providers": ["openai"]}),
    ] {
        let r = post_json(&app, "/v1/ai/synthetic-data", &bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_conforms("POST", "/v1/ai/synthetic-data", &r);
    }
    // Bad JSON, a wrong content type; then idempotency: the first run (200), its replay
    // (200), the same key on another body (409), an overlong key (400).
    let body =
        json!({"model_description": "spam classifier", "target_count": 50, "seed": 1}).to_string();
    let long_key = "k".repeat(300);
    for (content_type, sent, key, status) in [
        ("application/json", "{", "", 400),
        ("text/plain", "{}", "", 400),
        ("application/json", body.as_str(), "key-1", 200),
        ("application/json", body.as_str(), "key-1", 200),
        (
            "application/json",
            "{\"model_description\":\"other\"}",
            "key-1",
            409,
        ),
        ("application/json", body.as_str(), long_key.as_str(), 400),
    ] {
        let r = post_with(&app, "/v1/ai/synthetic-data", content_type, sent, key).await;
        check("POST", "/v1/ai/synthetic-data", &r, status);
    }

    check_get(&app, "/v1/datasets", "/v1/datasets", 200).await;
    check_get(&app, "/v1/datasets", "/v1/datasets?limit=1", 200).await;
    check_get(&app, "/v1/datasets", "/v1/datasets?limit=0", 400).await;
    check_get(&app, "/v1/datasets", "/v1/datasets?next_token=zz", 400).await;
    check_get(
        &app,
        "/v1/datasets/{id}",
        &format!("/v1/datasets/{id}"),
        200,
    )
    .await;
    check_get(&app, "/v1/datasets/{id}", "/v1/datasets/ds_nope", 404).await;
    let dl = |q: &str| format!("/v1/datasets/{id}/download{q}");
    check_get(&app, "/v1/datasets/{id}/download", &dl(""), 200).await;
    check_get(
        &app,
        "/v1/datasets/{id}/download",
        &dl("?format=jsonl"),
        200,
    )
    .await;
    check_get(&app, "/v1/datasets/{id}/download", &dl("?format=xml"), 400).await;
    check_get(
        &app,
        "/v1/datasets/{id}/download",
        "/v1/datasets/nope/download",
        404,
    )
    .await;

    let csv = "x,y,label\n1,2,a\n2,3,b\n3,4,a\n4,5,b\n";
    check(
        "POST",
        "/v1/datasets",
        &post_with(
            &app,
            "/v1/datasets?name=up&target=label",
            "text/csv",
            csv,
            "",
        )
        .await,
        201,
    );
    let json_upload = json!({"name": "rows", "rows": [{"x": 1, "c": "a"}, {"x": 2, "c": "b"}]});
    check_post(&app, "/v1/datasets", &json_upload, 201).await;
    check_post(&app, "/v1/datasets", &json!({}), 400).await;
    check(
        "POST",
        "/v1/datasets",
        &post_with(&app, "/v1/datasets", "image/png", "x", "").await,
        400,
    );
    check(
        "POST",
        "/v1/datasets",
        &post_with(&app, "/v1/datasets", "text/csv", "x,y\n", "").await,
        400,
    );
}

#[tokio::test]
async fn analyze_conforms() {
    let app = analyze::router(sqlite_state());
    let spec = api_tests::spec_analyze_request();
    check_post(&app, "/v1/ai/analyze", &spec, 200).await;
    let bare = json!({"model_description": "LSTM for time series forecasting"});
    check_post(&app, "/v1/ai/analyze", &bare, 200).await;
    for bad in [
        json!({}),
        json!({"model_description": "x", "architecture": []}),
        json!({"model_description": "x", "architecture": {"layers": [{"type": "warp"}]}}),
    ] {
        check_post(&app, "/v1/ai/analyze", &bad, 400).await;
    }
}

#[tokio::test]
async fn enhance_conforms() {
    let app = enhance::router(sqlite_state());
    let spec = api_tests::spec_enhance_request();
    check_post(&app, "/v1/ai/enhance", &spec, 200).await;
    let tabular = json!({
        "model_description": "Gradient boosting for churn on tabular customer data",
        "training_data": "tabular customer records, 2000 rows",
        "config": {"enhancement_scope": ["data"]}
    });
    check_post(&app, "/v1/ai/enhance", &tabular, 200).await;
    for bad in [
        json!({}),
        json!({"model_description": "x", "config": {"enhancement_scope": []}}),
        json!({"model_description": "x", "config": {"performance_constraints": {"max_model_size": "huge"}}}),
    ] {
        check_post(&app, "/v1/ai/enhance", &bad, 400).await;
    }
}

#[tokio::test]
async fn model_list_conforms() {
    let app = models::router(sqlite_state());
    check_get(&app, "/v1/models", "/v1/models", 200).await;
    check_get(&app, "/v1/models", "/v1/models?status=queued&limit=5", 200).await;
    check_get(&app, "/v1/models", "/v1/models?status=lost", 400).await;
    check_get(&app, "/v1/models", "/v1/models?limit=101", 400).await;
}

#[tokio::test]
async fn oversized_bodies_conform() {
    let app = analyze::router(sqlite_state());
    let big = json!({"model_description": "x".repeat(2 * 1024 * 1024)});
    let r = post_json(&app, "/v1/ai/analyze", &big).await;
    check("POST", "/v1/ai/analyze", &r, 413);
    let _: Value = r.body;
}

/// The check itself bites: an undocumented field, a missing one, a wrong type.
#[test]
fn an_undocumented_field_fails_the_check() {
    let reply = |body: Value| Reply {
        status: http::StatusCode::OK,
        headers: {
            let mut h = http::HeaderMap::new();
            h.insert("content-type", "application/json".parse().unwrap());
            h
        },
        text: body.to_string(),
        bytes: body.to_string().into_bytes(),
        body,
    };
    let good = json!({"models": [], "total_models": 0, "active_training": 0, "next_token": null});
    assert_conforms("GET", "/v1/models", &reply(good.clone()));
    for bad in [
        {
            let mut b = good.clone();
            b["surprise"] = json!(1);
            b
        },
        json!({"models": [], "total_models": 0, "active_training": 0}),
        json!({"models": {}, "total_models": 0, "active_training": 0, "next_token": null}),
    ] {
        let r = reply(bad.clone());
        let failed = std::panic::catch_unwind(|| assert_conforms("GET", "/v1/models", &r));
        assert!(failed.is_err(), "{bad} passed");
    }
}

/// The Python client's types are generated from a copy of the document
/// (`clients/python/openapi.json`): the copy must be the document. To refresh it after an API
/// change: `MLAAS_WRITE_CLIENT_DOCUMENT=1 scripts/test -E 'test(the_python_clients_copy)'`,
/// then `clients/python/generate.py` (README, "Python client").
#[test]
fn the_python_clients_copy_of_the_document_is_current() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../clients/python/openapi.json"
    );
    let doc = shared::openapi::document();
    if std::env::var_os("MLAAS_WRITE_CLIENT_DOCUMENT").is_some() {
        let text = serde_json::to_string_pretty(doc).unwrap() + "\n";
        std::fs::write(path, text).unwrap();
    }
    let copy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the client's copy"))
            .expect("JSON");
    assert!(
        &copy == doc,
        "clients/python/openapi.json is stale: refresh it (see this test's docs)"
    );
}
