//! `Idempotency-Key` through the routers: replay without a second provider call or a
//! second record, 409 for another body or a request still in flight, 400 for a bad key,
//! 5xx not stored, and keys scoped per client. On SQLite and on DynamoDB (moto_server).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use api_tests::mock_providers::{MockProviders, Step};
use api_tests::{assert_envelope, send, state_with, state_with_mock_on, Reply};
use axum::body::Body;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use http::Request;
use serde_json::{json, Value};
use shared::providers::Provider;
use shared::store::SharedStore;

/// The response cache is off here: only the idempotency layer may prevent repeated work.
const NO_CACHE: [(&str, &str); 1] = [("MLAAS_CACHE_TTL_SECONDS", "0")];

fn analyze_request(description: &str) -> Value {
    json!({"model_description": description, "architecture": {"layers": [
        {"type": "dense", "units": 64}, {"type": "output", "units": 3, "activation": "softmax"}
    ]}})
}

fn review() -> Value {
    json!({
        "strengths": ["small"], "weaknesses": ["shallow"],
        "suggestions": [{"category": "capacity", "suggestion": "add a layer",
                         "expected_improvement": "accuracy", "rationale": "shallow"}],
        "accuracy_assessment": "fine", "convergence_quality": "stable", "overfitting_risk": "low"
    })
}

fn post_keyed(path: &str, key: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn analyze_app(store: SharedStore, steps: Vec<Step>) -> (MockProviders, Router) {
    let mock = MockProviders::start().await;
    mock.answer(Provider::Anthropic, review());
    mock.script(Provider::Anthropic, steps);
    let state = state_with_mock_on(store, &mock, &[Provider::Anthropic], &NO_CACHE);
    (mock, analyze::router(state))
}

fn same_answer(a: &Reply, b: &Reply) {
    assert_eq!(a.status, b.status);
    assert_eq!(
        a.text, b.text,
        "the replay is byte for byte the first answer"
    );
    assert_eq!(a.headers["content-type"], b.headers["content-type"]);
}

async fn replay_does_no_second_provider_call(store: SharedStore) {
    let (mock, app) = analyze_app(store, vec![]).await;
    let body = analyze_request("MLP for iris");
    let first = send(&app, post_keyed("/v1/ai/analyze", "order-42", &body)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["provider"], "anthropic");
    assert!(first.headers.get("idempotent-replayed").is_none());
    let second = send(&app, post_keyed("/v1/ai/analyze", "order-42", &body)).await;
    same_answer(&first, &second);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert!(second.headers.contains_key("x-request-id"));
    assert_eq!(mock.count(Provider::Anthropic), 1, "no second charge");
    // Without the header every request runs.
    api_tests::post_json(&app, "/v1/ai/analyze", &body).await;
    assert_eq!(mock.count(Provider::Anthropic), 2);
}

async fn another_body_with_the_same_key_is_a_conflict(store: SharedStore) {
    let (mock, app) = analyze_app(store, vec![]).await;
    let first = send(
        &app,
        post_keyed("/v1/ai/analyze", "k-1", &analyze_request("a")),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let r = send(
        &app,
        post_keyed("/v1/ai/analyze", "k-1", &analyze_request("b")),
    )
    .await;
    let details = assert_envelope(&r, 409, "CONFLICT");
    assert_eq!(details["reason"], "key_reused");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("different request"));
    assert_eq!(mock.count(Provider::Anthropic), 1);
    // The query is part of the request too.
    let r = send(
        &app,
        post_keyed("/v1/ai/analyze?x=1", "k-1", &analyze_request("a")),
    )
    .await;
    assert_envelope(&r, 409, "CONFLICT");
}

async fn a_request_in_flight_holds_its_key(store: SharedStore) {
    let (mock, app) = analyze_app(store, vec![Step::Delay(Duration::from_millis(1500))]).await;
    let body = analyze_request("slow");
    let first = {
        let (app, body) = (app.clone(), body.clone());
        tokio::spawn(async move { send(&app, post_keyed("/v1/ai/analyze", "slow-1", &body)).await })
    };
    // Wait until the provider has the first request.
    for _ in 0..100 {
        if mock.count(Provider::Anthropic) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = send(&app, post_keyed("/v1/ai/analyze", "slow-1", &body)).await;
    let details = assert_envelope(&r, 409, "CONFLICT");
    assert_eq!(details["reason"], "in_flight");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("still in progress"));
    assert_eq!(r.headers["retry-after"], "2");
    let first = first.await.unwrap();
    assert_eq!(first.status, 200, "{}", first.text);
    let after = send(&app, post_keyed("/v1/ai/analyze", "slow-1", &body)).await;
    same_answer(&first, &after);
    assert_eq!(mock.count(Provider::Anthropic), 1);
}

async fn an_upload_creates_one_dataset(store: SharedStore) {
    let app = synthetic_data::router(state_with(store, &NO_CACHE));
    let csv = "x,y,label\n1,2,a\n3,4,b\n5,6,a\n";
    let upload = || {
        Request::post("/v1/datasets?name=retry&target=label")
            .header("content-type", "text/csv")
            .header("idempotency-key", "upload-7")
            .body(Body::from(csv))
            .unwrap()
    };
    let first = send(&app, upload()).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = send(&app, upload()).await;
    same_answer(&first, &second);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    let list = api_tests::get(&app, "/v1/datasets").await;
    assert_eq!(
        list.body["datasets"].as_array().unwrap().len(),
        1,
        "{}",
        list.text
    );
}

api_tests::on_both_stores!(
    replay_does_no_second_provider_call,
    another_body_with_the_same_key_is_a_conflict,
    a_request_in_flight_holds_its_key,
    an_upload_creates_one_dataset,
);

#[tokio::test]
async fn bad_keys_are_rejected() {
    let (mock, app) = analyze_app(api_tests::sqlite_store(), vec![]).await;
    let body = analyze_request("x");
    let long = "k".repeat(256);
    for key in [&b""[..], long.as_bytes(), b"caf\xe9", b"tab\there"] {
        let req = Request::post("/v1/ai/analyze")
            .header("content-type", "application/json")
            .header(
                "idempotency-key",
                http::HeaderValue::from_bytes(key).unwrap(),
            )
            .body(Body::from(body.to_string()))
            .unwrap();
        let r = send(&app, req).await;
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(details["field"], "Idempotency-Key");
    }
    assert_eq!(mock.count(Provider::Anthropic), 0);
    let ok = send(&app, post_keyed("/v1/ai/analyze", &"k".repeat(255), &body)).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

/// A route that fails with 500 (then 503, then 409) before it succeeds, counting its runs.
fn flaky_app(runs: Arc<AtomicUsize>) -> Router {
    let state = state_with(api_tests::sqlite_store(), &NO_CACHE);
    let routes = Router::new()
        .route(
            "/v1/flaky",
            post(move || {
                let runs = runs.clone();
                async move {
                    match runs.fetch_add(1, Ordering::SeqCst) {
                        0 => (StatusCode::INTERNAL_SERVER_ERROR, "boom"),
                        1 => (StatusCode::SERVICE_UNAVAILABLE, "later"),
                        2 => (StatusCode::CONFLICT, "clash"),
                        _ => (StatusCode::CREATED, "made"),
                    }
                }
            }),
        )
        .with_state(());
    shared::http::serve(routes, &state)
}

#[tokio::test]
async fn only_final_answers_are_stored() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = flaky_app(runs.clone());
    let req = || post_keyed("/v1/flaky", "retry-me", &json!({"n": 1}));
    assert_eq!(send(&app, req()).await.status, 500);
    assert_eq!(send(&app, req()).await.status, 503);
    assert_eq!(send(&app, req()).await.status, 409);
    let made = send(&app, req()).await;
    assert_eq!(made.status, 201);
    let replay = send(&app, req()).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.text, "made");
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        4,
        "5xx and 409 released the key"
    );
}

#[tokio::test]
async fn keys_are_scoped_per_client() {
    let (mock, app) = analyze_app(api_tests::sqlite_store(), vec![]).await;
    let body = analyze_request("shared key");
    for ip in ["203.0.113.1", "203.0.113.2", "203.0.113.1"] {
        let mut req = post_keyed("/v1/ai/analyze", "same", &body);
        req.headers_mut()
            .insert("x-forwarded-for", ip.parse().unwrap());
        assert_eq!(send(&app, req).await.status, 200);
    }
    assert_eq!(
        mock.count(Provider::Anthropic),
        2,
        "each client has its own key space"
    );
}

#[tokio::test]
async fn a_store_that_cannot_claim_refuses_to_run() {
    let store: SharedStore = Arc::new(shared::state::UnavailableStore::new("gone"));
    let runs = Arc::new(AtomicUsize::new(3));
    let state = state_with(store, &NO_CACHE);
    let counter = runs.clone();
    let routes = Router::new().route(
        "/v1/x",
        post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { "ran" }
        }),
    );
    let app = shared::http::serve(routes, &state);
    let r = send(&app, post_keyed("/v1/x", "k", &json!({}))).await;
    let details = assert_envelope(&r, 503, "SERVICE_UNAVAILABLE");
    assert_eq!(details["component"], "idempotency");
    assert_eq!(runs.load(Ordering::SeqCst), 3, "the handler did not run");
}
