//! Client authentication: off without keys; with keys, every path but /health needs one.

use api_tests::{assert_envelope, get, send, sqlite_state, state_with};
use axum::body::Body;
use http::Request;

const KEY: &str = "client-key-7d1e9f0a2b";
const OTHER: &str = "second-client-key-55aa";

fn digest_of(key: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

fn app_with_keys() -> axum::Router {
    let keys = format!("{KEY}, sha256:{}", digest_of(OTHER));
    models::router(state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_API_KEYS", &keys)],
    ))
}

async fn with_header(app: &axum::Router, path: &str, name: &str, value: &str) -> api_tests::Reply {
    send(
        app,
        Request::get(path)
            .header(name, value)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn off_when_no_key_is_configured() {
    let app = models::router(sqlite_state());
    assert_eq!(get(&app, "/v1/models").await.status, 200);
}

#[tokio::test]
async fn missing_and_wrong_keys_are_401_in_the_envelope() {
    let app = app_with_keys();
    let r = get(&app, "/v1/models").await;
    assert_envelope(&r, 401, "UNAUTHORIZED");
    assert!(r.headers.contains_key("www-authenticate"));
    let r = with_header(&app, "/v1/models", "authorization", "Bearer not-the-key").await;
    assert_envelope(&r, 401, "UNAUTHORIZED");
    let r = with_header(&app, "/v1/models", "x-api-key", &format!("{KEY}x")).await;
    assert_envelope(&r, 401, "UNAUTHORIZED");
    let r = with_header(&app, "/v1/models", "authorization", &format!("Basic {KEY}")).await;
    assert_envelope(&r, 401, "UNAUTHORIZED");
    // Unknown paths do not reveal what exists to a client without a key.
    let r = get(&app, "/v1/nowhere").await;
    assert_envelope(&r, 401, "UNAUTHORIZED");
    assert!(!r.text.contains(KEY));
}

#[tokio::test]
async fn valid_keys_in_either_header_pass() {
    let app = app_with_keys();
    let r = with_header(
        &app,
        "/v1/models",
        "authorization",
        &format!("Bearer {KEY}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The scheme is case-insensitive (RFC 9110 §11.1).
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let r = with_header(
            &app,
            "/v1/models",
            "authorization",
            &format!("{scheme} {KEY}"),
        )
        .await;
        assert_eq!(r.status, 200, "{scheme}: {}", r.text);
    }
    let r = with_header(&app, "/v1/models", "x-api-key", OTHER).await;
    assert_eq!(r.status, 200, "a key configured by its sha256 digest");
    let r = with_header(&app, "/v1/nowhere", "x-api-key", KEY).await;
    assert_envelope(&r, 404, "NOT_FOUND");
}

#[tokio::test]
async fn health_stays_open() {
    let app = system::router(state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_API_KEYS", KEY)],
    ));
    assert_eq!(get(&app, "/health").await.status, 200);
    let r = get(&app, "/v1/ai/status").await;
    assert_envelope(&r, 401, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_bad_digest_is_reported_by_health_without_echoing_it() {
    let app = system::router(state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_API_KEYS", "sha256:zz-not-hex")],
    ));
    let r = get(&app, "/health").await;
    assert_eq!(r.body["status"], "degraded");
    assert!(!r.text.contains("zz-not-hex"));
}
