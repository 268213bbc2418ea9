//! Rate limits through the routers: headers, 429 with Retry-After, per-client counting,
//! and failing open for /health but closed for the AI endpoints when the store is down.

use std::sync::Arc;

use api_tests::{assert_envelope, send, state_with};
use axum::body::Body;
use http::Request;
use serde_json::json;
use shared::state::UnavailableStore;

fn analyze_from(ip: &str) -> Request<Body> {
    Request::post("/v1/ai/analyze")
        .header("content-type", "application/json")
        .header("x-forwarded-for", ip)
        .body(Body::from(json!({"model_description": "MLP"}).to_string()))
        .unwrap()
}

#[tokio::test]
async fn the_limit_holds_per_client_with_headers() {
    let app = analyze::router(state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_RATE_LIMITS", "/v1/ai/analyze=3")],
    ));
    for remaining in [2, 1, 0] {
        let r = send(&app, analyze_from("203.0.113.9")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.headers["x-ratelimit-limit"], "3");
        assert_eq!(
            r.headers["x-ratelimit-remaining"],
            remaining.to_string().as_str()
        );
        let reset: i64 = r.headers["x-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(reset % 60, 0, "windows end on the minute");
    }
    let r = send(&app, analyze_from("203.0.113.9")).await;
    let details = assert_envelope(&r, 429, "RATE_LIMIT_EXCEEDED");
    assert_eq!(details["limit"], 3);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(r.headers["x-ratelimit-remaining"], "0");
    // Another client has its own window.
    let r = send(&app, analyze_from("198.51.100.4")).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn the_spec_table_applies_by_default() {
    let app = system::router(state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_RATE_LIMITS", "")],
    ));
    let r = api_tests::get(&app, "/health").await;
    assert_eq!(r.headers["x-ratelimit-limit"], "100");
    let r = api_tests::get(&app, "/v1/ai/status").await;
    assert_eq!(r.headers["x-ratelimit-limit"], "60");
    // An ONNX export is built per request: limited as a dataset download is.
    let models = models::router(state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_RATE_LIMITS", "")],
    ));
    let r = api_tests::get(
        &models,
        "/v1/models/model_01J0000000000000000000000Z/download?format=onnx",
    )
    .await;
    assert_eq!(r.headers["x-ratelimit-limit"], "60", "{}", r.text);
    let app = enhance::router(state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_RATE_LIMITS", "")],
    ));
    let body = json!({"model_description": "m", "config": {"enhancement_scope": ["training"]}});
    for _ in 0..5 {
        assert_eq!(
            api_tests::post_json(&app, "/v1/ai/enhance", &body)
                .await
                .status,
            200
        );
    }
    let r = api_tests::post_json(&app, "/v1/ai/enhance", &body).await;
    assert_envelope(&r, 429, "RATE_LIMIT_EXCEEDED");
}

#[tokio::test]
async fn store_down_fails_open_for_health_and_closed_for_ai() {
    let limited = [("MLAAS_RATE_LIMITS", "")];
    let down = || Arc::new(UnavailableStore::new("gone")) as shared::store::SharedStore;
    let app = system::router(state_with(down(), &limited));
    let r = api_tests::get(&app, "/health").await;
    assert_eq!(
        r.status, 503,
        "health still answers (and reports the store)"
    );
    assert_eq!(r.body["services"]["database"], "unavailable");
    let app = analyze::router(state_with(down(), &limited));
    let r = send(&app, analyze_from("203.0.113.9")).await;
    let details = assert_envelope(&r, 503, "SERVICE_UNAVAILABLE");
    assert_eq!(details["component"], "rate_limiter");
}

/// Reads run while they are counted, writes only once admitted: a refused read still
/// answers 429 with the headers, and a refused write leaves nothing behind.
#[tokio::test]
async fn refused_reads_answer_429_and_refused_writes_do_nothing() {
    let state = state_with(
        api_tests::sqlite_store(),
        &[
            ("MLAAS_RATE_LIMITS", "/v1/models=1,/v1/models/train=1"),
            ("MLAAS_WORKER_DISPATCH", "off"),
        ],
    );
    let dataset = api_tests::upload_csv(&state, &api_tests::separable_csv(200, 1), "label").await;
    let app = models::router(state);
    let list = || {
        Request::get("/v1/models")
            .header("x-forwarded-for", "203.0.113.7")
            .body(Body::empty())
            .unwrap()
    };
    let train = || {
        let body = json!({
            "model_config": {"name": "m", "type": "classification", "architecture": "mlp",
                             "dataset": dataset, "target_accuracy": 0.9},
            "training_config": {"epochs": 1, "batch_size": 32, "learning_rate": 0.01}
        });
        Request::post("/v1/models/train")
            .header("content-type", "application/json")
            .header("x-forwarded-for", "203.0.113.7")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let r = send(&app, list()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["x-ratelimit-remaining"], "0");
    let r = send(&app, list()).await;
    assert_envelope(&r, 429, "RATE_LIMIT_EXCEEDED");
    assert_eq!(r.headers["x-ratelimit-limit"], "1");
    assert!(r.headers.contains_key("retry-after"));

    assert_eq!(send(&app, train()).await.status, 202);
    let r = send(&app, train()).await;
    assert_envelope(&r, 429, "RATE_LIMIT_EXCEEDED");
    // Another client lists: exactly one model was created.
    let r = api_tests::get(&app, "/v1/models").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total_models"], 1, "{}", r.text);
}

/// A write runs while it is counted up to its handler. A refused one with an
/// `Idempotency-Key` must leave the key free: admitted later, it runs (no 409 `in_flight`).
#[tokio::test]
async fn a_refused_write_leaves_its_idempotency_key_free() {
    let store = api_tests::sqlite_store();
    let with_key = |key: &str| {
        let mut req = analyze_from("203.0.113.9");
        req.headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
        req
    };
    let strict = analyze::router(state_with(
        store.clone(),
        &[("MLAAS_RATE_LIMITS", "/v1/ai/analyze=1")],
    ));
    assert_eq!(send(&strict, analyze_from("203.0.113.9")).await.status, 200);
    let r = send(&strict, with_key("retry-me")).await;
    assert_envelope(&r, 429, "RATE_LIMIT_EXCEEDED");
    let relaxed = analyze::router(state_with(
        store,
        &[("MLAAS_RATE_LIMITS", "/v1/ai/analyze=100")],
    ));
    let r = send(&relaxed, with_key("retry-me")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.headers.contains_key("idempotent-replayed"));
}
