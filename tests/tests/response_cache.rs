//! The AI endpoints' response cache: miss then hit (with the provider called once), key
//! order and whitespace ignored, `Cache-Control: no-cache` bypasses and refreshes, errors
//! are not cached, other routes and TTL 0 are untouched. On SQLite and DynamoDB.

use api_tests::mock_providers::{MockProviders, Step};
use api_tests::{send, state_with_mock_on, Reply};
use axum::body::Body;
use axum::Router;
use http::Request;
use serde_json::{json, Value};
use shared::providers::Provider;
use shared::store::SharedStore;

fn review() -> Value {
    json!({
        "strengths": ["small"], "weaknesses": ["shallow"],
        "suggestions": [{"category": "capacity", "suggestion": "add a layer",
                         "expected_improvement": "accuracy", "rationale": "shallow"}],
        "accuracy_assessment": "fine", "convergence_quality": "stable", "overfitting_risk": "low"
    })
}

/// The test helpers turn the cache off unless told otherwise.
const CACHE_ON: (&str, &str) = ("MLAAS_CACHE_TTL_SECONDS", "300");

async fn analyze_app(store: SharedStore, extra: &[(&str, &str)]) -> (MockProviders, Router) {
    let mock = MockProviders::start().await;
    mock.answer(Provider::Anthropic, review());
    // The first setting of a variable wins: `extra` may override CACHE_ON.
    let mut vars = extra.to_vec();
    vars.push(CACHE_ON);
    let state = state_with_mock_on(store, &mock, &[Provider::Anthropic], &vars);
    (mock, analyze::router(state))
}

fn schema() -> Value {
    json!({
        "columns": [
            {"name": "age", "type": "integer", "distribution": {"name": "normal", "mean": 40.0, "std": 12.0}, "min": 18, "max": 90},
            {"name": "segment", "type": "categorical", "categories": ["a", "b"], "weights": [0.5, 0.5]}
        ],
        "target": {"name": "churned", "classes": ["no", "yes"], "weights": [0.8, 0.2]}
    })
}

fn raw_post(path: &str, body: &str, no_cache: bool) -> Request<Body> {
    let mut req = Request::post(path).header("content-type", "application/json");
    if no_cache {
        req = req.header("cache-control", "no-cache");
    }
    req.body(Body::from(body.to_string())).unwrap()
}

fn without_cached(reply: &Reply) -> Value {
    let mut body = reply.body.clone();
    body.as_object_mut().unwrap().remove("cached");
    body
}

const REQUEST: &str = r#"{"model_description": "MLP", "architecture": {"layers": [{"type": "dense", "units": 8}, {"type": "output", "units": 2, "activation": "softmax"}]}}"#;
/// The same request with its keys in another order and other whitespace.
const REORDERED: &str = r#"{"architecture":{"layers":[{"units":8,"type":"dense"},{"activation":"softmax","units":2,"type":"output"}]},"model_description":"MLP"}"#;

async fn miss_then_hit_without_provider_work(store: SharedStore) {
    let (mock, app) = analyze_app(store, &[]).await;
    let first = send(&app, raw_post("/v1/ai/analyze", REQUEST, false)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.headers["x-cache"], "MISS");
    assert!(first.body.get("cached").is_none());
    let hit = send(&app, raw_post("/v1/ai/analyze", REORDERED, false)).await;
    assert_eq!(hit.status, 200, "{}", hit.text);
    assert_eq!(hit.headers["x-cache"], "HIT");
    assert_eq!(hit.headers["content-type"], "application/json");
    assert_eq!(hit.body["cached"]["hit"], true);
    assert!(hit.body["cached"]["stored_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert!(hit.body["cached"]["age_seconds"].as_i64().unwrap() >= 0);
    assert!(hit.headers.contains_key("age"));
    assert_eq!(without_cached(&hit), first.body);
    assert_eq!(
        mock.count(Provider::Anthropic),
        1,
        "the hit called no provider"
    );
    // Another request misses.
    let other = send(
        &app,
        raw_post("/v1/ai/analyze", r#"{"model_description": "CNN"}"#, false),
    )
    .await;
    assert_eq!(other.headers["x-cache"], "MISS");
    assert_eq!(mock.count(Provider::Anthropic), 2);
}

async fn no_cache_bypasses_and_refreshes(store: SharedStore) {
    let (mock, app) = analyze_app(store, &[]).await;
    let first = send(&app, raw_post("/v1/ai/analyze", REQUEST, false)).await;
    assert_eq!(first.headers["x-cache"], "MISS");
    let mut second_review = review();
    second_review["accuracy_assessment"] = json!("refreshed");
    mock.answer(Provider::Anthropic, second_review);
    let fresh = send(&app, raw_post("/v1/ai/analyze", REQUEST, true)).await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    assert_eq!(fresh.headers["x-cache"], "BYPASS");
    assert!(fresh.body.get("cached").is_none());
    assert_eq!(mock.count(Provider::Anthropic), 2);
    let hit = send(&app, raw_post("/v1/ai/analyze", REQUEST, false)).await;
    assert_eq!(hit.headers["x-cache"], "HIT");
    assert_eq!(
        without_cached(&hit),
        fresh.body,
        "the bypass refreshed the entry"
    );
    assert!(hit.text.contains("refreshed"));
    assert_eq!(mock.count(Provider::Anthropic), 2);
}

api_tests::on_both_stores!(
    miss_then_hit_without_provider_work,
    no_cache_bypasses_and_refreshes
);

#[tokio::test]
async fn ttl_zero_turns_the_cache_off() {
    let (mock, app) = analyze_app(
        api_tests::sqlite_store(),
        &[("MLAAS_CACHE_TTL_SECONDS", "0")],
    )
    .await;
    for _ in 0..2 {
        let r = send(&app, raw_post("/v1/ai/analyze", REQUEST, false)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.headers.get("x-cache").is_none());
        assert!(r.body.get("cached").is_none());
    }
    assert_eq!(mock.count(Provider::Anthropic), 2);
}

#[tokio::test]
async fn failures_are_not_cached() {
    let mock = MockProviders::start().await;
    mock.answer(Provider::Anthropic, review());
    // The provider fails once: the builtin answer comes back (200) and is cached as is.
    mock.script(Provider::Anthropic, vec![Step::Status(400)]);
    let state = state_with_mock_on(
        api_tests::sqlite_store(),
        &mock,
        &[Provider::Anthropic],
        &[CACHE_ON],
    );
    let app = analyze::router(state);
    // A validation error is never cached.
    for _ in 0..2 {
        let r = send(
            &app,
            raw_post("/v1/ai/analyze", r#"{"data_sample": "x"}"#, false),
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.headers["x-cache"], "MISS");
    }
    // Not JSON: the handler answers, nothing is cached or marked.
    let r = send(&app, raw_post("/v1/ai/analyze", "not json", false)).await;
    assert_eq!(r.status, 400);
    assert!(r.headers.get("x-cache").is_none());
}

#[tokio::test]
async fn providers_are_part_of_the_key() {
    let store = api_tests::sqlite_store();
    let (mock, app) = analyze_app(store.clone(), &[]).await;
    let r = send(&app, raw_post("/v1/ai/analyze", REQUEST, false)).await;
    assert_eq!(r.headers["x-cache"], "MISS");
    // Same store, no provider configured: another key.
    let plain = analyze::router(api_tests::state_with(store, &[CACHE_ON]));
    let r = send(&plain, raw_post("/v1/ai/analyze", REQUEST, false)).await;
    assert_eq!(r.headers["x-cache"], "MISS");
    assert_eq!(r.body["provider"], "builtin");
    let r = send(&app, raw_post("/v1/ai/analyze", REQUEST, false)).await;
    assert_eq!(r.headers["x-cache"], "HIT");
    assert_eq!(mock.count(Provider::Anthropic), 1);
}

#[tokio::test]
async fn only_the_ai_routes_are_cached() {
    let app = synthetic_data::router(api_tests::state_with(
        api_tests::sqlite_store(),
        &[CACHE_ON],
    ));
    let csv = "x,y\n1,a\n2,b\n";
    for _ in 0..2 {
        let r = send(
            &app,
            Request::post("/v1/datasets?name=n&target=y")
                .header("content-type", "text/csv")
                .body(Body::from(csv))
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert!(r.headers.get("x-cache").is_none());
    }
    let r = send(
        &app,
        raw_post(
            "/v1/ai/synthetic-data",
            &json!({"schema": schema(), "target_count": 50, "seed": 7}).to_string(),
            false,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["x-cache"], "MISS");
    let again = send(
        &app,
        raw_post(
            "/v1/ai/synthetic-data",
            &json!({"seed": 7, "target_count": 50, "schema": schema()}).to_string(),
            false,
        ),
    )
    .await;
    assert_eq!(again.headers["x-cache"], "HIT");
    let id = &r.body["synthetic_data"]["dataset_id"];
    assert!(id.is_string(), "{}", r.text);
    assert_eq!(
        &again.body["synthetic_data"]["dataset_id"], id,
        "the cached dataset"
    );
    assert_eq!(again.body["synthetic_data"]["seed"], 7);
}
