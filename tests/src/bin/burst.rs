//! A helper process for `tests/tests/rate_limit_processes.rs`: one "instance" of the analyze
//! function on a shared store, firing a burst of requests at one endpoint at an agreed time.
//!
//! Environment: `MLAAS_BURST_STORE` (`sqlite:<path>` or `dynamodb:<table suffix>`, with
//! `MLAAS_TEST_DYNAMODB_URL`), `MLAAS_BURST_LIMIT` (per minute), `MLAAS_BURST_REQUESTS`,
//! `MLAAS_BURST_AT_MS` (unix milliseconds to start at). Prints one `<status> <reset>` line
//! per request.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::Request;
use serde_json::json;
use shared::store::sqlite::SqliteStore;
use shared::store::SharedStore;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

#[tokio::main]
async fn main() {
    let store: SharedStore = match var("MLAAS_BURST_STORE").split_once(':') {
        Some(("sqlite", path)) => {
            Arc::new(SqliteStore::open(std::path::Path::new(path)).expect("open sqlite"))
        }
        Some(("dynamodb", suffix)) => api_tests::dynamo_store_on(suffix).await,
        _ => panic!("MLAAS_BURST_STORE must be sqlite:<path> or dynamodb:<suffix>"),
    };
    let limit = format!("/v1/ai/analyze={}", var("MLAAS_BURST_LIMIT"));
    let requests: usize = var("MLAAS_BURST_REQUESTS").parse().expect("a count");
    let at_ms: i64 = var("MLAAS_BURST_AT_MS").parse().expect("unix ms");
    let app = analyze::router(api_tests::state_with(
        store,
        &[("MLAAS_RATE_LIMITS", limit.as_str())],
    ));
    let wait = at_ms - chrono::Utc::now().timestamp_millis();
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
    let mut tasks = Vec::new();
    for _ in 0..requests {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let req = Request::post("/v1/ai/analyze")
                .header("content-type", "application/json")
                .header("x-forwarded-for", "198.51.100.77")
                .body(Body::from(json!({"model_description": "MLP"}).to_string()))
                .unwrap();
            api_tests::send(&app, req).await
        }));
    }
    for t in tasks {
        let r = t.await.expect("request task");
        let reset = r
            .headers
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string();
        println!("{} {reset}", r.status.as_u16());
    }
}
