//! Server-Timing on every response, through the functions' Routers.

use std::collections::BTreeMap;
use std::time::Duration;

use api_tests::mock_providers::{MockProviders, Step};
use api_tests::{get, post_json, sqlite_state, Reply};
use serde_json::json;
use shared::providers::Provider;

/// The header's durations by name; panics unless it has exactly the four parts.
fn timing(r: &Reply) -> BTreeMap<String, f64> {
    let header = r
        .headers
        .get("server-timing")
        .unwrap_or_else(|| panic!("no Server-Timing on {} {}", r.status, r.text))
        .to_str()
        .unwrap();
    let parts: BTreeMap<String, f64> = header
        .split(", ")
        .map(|part| {
            let (name, dur) = part.split_once(";dur=").expect("name;dur=ms");
            (name.to_string(), dur.parse::<f64>().expect("milliseconds"))
        })
        .collect();
    // As the OpenAPI document describes the header.
    let doc = shared::openapi::document();
    let schema = &doc["components"]["headers"]["ServerTiming"]["schema"];
    let validator = jsonschema::validator_for(schema).expect("a schema");
    assert!(
        validator.is_valid(&json!(header)),
        "{header} against {schema}"
    );
    let names: Vec<&str> = parts.keys().map(String::as_str).collect();
    assert_eq!(names, ["compute", "provider", "store", "total"], "{header}");
    assert!(parts.values().all(|v| *v >= 0.0), "{header}");
    parts
}

#[tokio::test]
async fn every_response_says_where_its_time_went() {
    let app = system::router(sqlite_state());
    // Served (the store answers the health check), unmatched, and refused methods alike.
    let health = get(&app, "/health").await;
    assert_eq!(health.status, 200);
    let t = timing(&health);
    assert!(t["store"] > 0.0, "health reads the store: {t:?}");
    assert_eq!(t["provider"], 0.0);
    assert!(t["total"] + 0.11 >= t["store"] + t["compute"], "{t:?}");
    let missing = get(&app, "/v1/nothing-here").await;
    assert_eq!(missing.status, 404);
    timing(&missing);
    let wrong = post_json(&app, "/health", &json!({})).await;
    assert_eq!(wrong.status, 405);
    timing(&wrong);
}

#[tokio::test]
async fn provider_time_is_the_providers_exchange() {
    let mock = MockProviders::start().await;
    mock.answer(
        Provider::Anthropic,
        json!({
            "strengths": ["s"], "weaknesses": ["w"],
            "suggestions": [{"category": "regularization", "suggestion": "dropout",
                "expected_improvement": "less overfitting", "rationale": "r"}],
            "accuracy_assessment": "a", "convergence_quality": "c", "overfitting_risk": "o"
        }),
    );
    mock.script(
        Provider::Anthropic,
        vec![Step::Delay(Duration::from_millis(150))],
    );
    let state = api_tests::state_with_mock(&mock, &[Provider::Anthropic], &[]);
    let app = analyze::router(state);
    let r = post_json(&app, "/v1/ai/analyze", &api_tests::spec_analyze_request()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = timing(&r);
    assert!(t["provider"] >= 150.0, "the mock waited 150 ms: {t:?}");
    assert!(t["total"] >= t["provider"], "{t:?}");
    // The header is readable from a browser on another origin.
    let exposed = r
        .headers
        .get("access-control-expose-headers")
        .map(|v| v.to_str().unwrap().to_string());
    if let Some(exposed) = exposed {
        assert!(exposed.contains("server-timing"), "{exposed}");
    }
}
