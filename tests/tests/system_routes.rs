//! The `system` function's Router, driven as API Gateway drives it.

use std::sync::Arc;

use api_tests::{assert_envelope, get, post_json, send, sqlite_state, sqlite_store, state_with};
use axum::body::Body;
use http::Request;
use shared::state::UnavailableStore;

#[tokio::test]
async fn health_reads_the_store_and_reports_the_crate_version() {
    let app = system::router(sqlite_state());
    let r = get(&app, "/health").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "healthy");
    assert_eq!(r.body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r.body["services"]["database"], "operational");
    assert_eq!(r.body["services"]["ai_orchestrator"], "operational");
    assert_eq!(r.body["checks"]["database"]["backend"], "sqlite");
    assert!(r.body["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn health_is_503_and_names_the_database_when_the_store_fails() {
    let state = state_with(Arc::new(UnavailableStore::new("disk gone")), &[]);
    let r = get(&system::router(state), "/health").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.body["status"], "unhealthy");
    assert_eq!(r.body["services"]["database"], "unavailable");
    assert_eq!(r.body["failing_services"], serde_json::json!(["database"]));
    assert!(
        !r.text.contains("disk gone"),
        "internal reasons stay in the logs"
    );
}

#[tokio::test]
async fn health_is_503_when_dynamodb_cannot_be_reached() {
    // Nothing listens on port 9 of loopback: the read fails for real, through the SDK.
    let client = api_tests::dynamo_client_at("http://127.0.0.1:9").await;
    let store = shared::store::dynamodb::DynamoStore::new(
        client,
        shared::store::dynamodb::Tables {
            models: "m".into(),
            jobs: "j".into(),
            meta: "x".into(),
        },
    );
    let state = state_with(Arc::new(store), &[]);
    let r = get(&system::router(state), "/health").await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body["checks"]["database"]["backend"], "dynamodb");
}

#[tokio::test]
async fn health_is_degraded_on_a_configuration_problem() {
    let state = state_with(sqlite_store(), &[("OPENAI_BASE_URL", "not a url")]);
    let r = get(&system::router(state), "/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "degraded");
    assert_eq!(r.body["services"]["ai_orchestrator"], "degraded");
    assert_eq!(
        r.body["failing_services"],
        serde_json::json!(["ai_orchestrator"])
    );
}

#[tokio::test]
async fn ai_status_counts_configured_providers_and_never_shows_a_key() {
    let sentinel = "sk-SENTINEL-never-shown-4242";
    let app = system::router(state_with(
        sqlite_store(),
        &[
            ("OPENAI_API_KEY", sentinel),
            ("ANTHROPIC_API_KEY", sentinel),
        ],
    ));
    let r = get(&app, "/v1/ai/status").await;
    assert_eq!(r.status, 200);
    assert!(!r.text.contains(sentinel));
    assert_eq!(r.body["overall_health"], "partial_configuration");
    assert_eq!(r.body["configured_services"], 2);
    assert_eq!(r.body["total_services"], 5);
    let s = &r.body["service_status"];
    assert_eq!(s["openai"]["status"], "configured");
    assert_eq!(s["anthropic"]["status"], "configured");
    assert_eq!(s["perplexity"]["status"], "not_configured");
    assert_eq!(
        s["grok"]["capabilities"],
        serde_json::json!(["creativity", "innovation", "architecture_design"])
    );
    let order: Vec<&String> = s.as_object().unwrap().keys().collect();
    assert_eq!(
        order,
        ["openai", "anthropic", "perplexity", "gemini", "grok"]
    );
}

#[tokio::test]
async fn ai_status_full_and_none() {
    let all = [
        ("OPENAI_API_KEY", "a"),
        ("ANTHROPIC_API_KEY", "b"),
        ("PERPLEXITY_API_KEY", "c"),
        ("GOOGLE_API_KEY", "d"),
        ("XAI_API_KEY", "e"),
        ("XAI_MODEL", "grok-custom"),
    ];
    let r = get(
        &system::router(state_with(sqlite_store(), &all)),
        "/v1/ai/status",
    )
    .await;
    assert_eq!(r.body["overall_health"], "fully_configured");
    assert_eq!(r.body["configured_services"], 5);
    assert_eq!(
        r.body["service_status"]["gemini"]["key_variable"],
        "GOOGLE_API_KEY"
    );
    assert_eq!(r.body["service_status"]["grok"]["model"], "grok-custom");
    let r = get(&system::router(sqlite_state()), "/v1/ai/status").await;
    assert_eq!(r.body["overall_health"], "not_configured");
    assert_eq!(r.body["configured_services"], 0);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_envelope() {
    let app = system::router(sqlite_state());
    let r = get(&app, "/v2/nothing/here").await;
    assert_envelope(&r, 404, "NOT_FOUND");
    let r = send(&app, Request::post("/health").body(Body::empty()).unwrap()).await;
    let details = assert_envelope(&r, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(details["method"], "POST");
}

#[tokio::test]
async fn request_id_is_api_gateways_when_there_is_one() {
    let app = system::router(sqlite_state());
    let event = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/http-unknown-path.json"
    ))
    .unwrap();
    let request = lambda_http::request::from_str(&event).expect("API Gateway v2 event");
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(parts, Body::from(body.to_vec()));
    let r = send(&app, request).await;
    let gateway_id = "Jx4bTh2ToAMEYqA=";
    assert_envelope(&r, 404, "NOT_FOUND");
    assert_eq!(r.body["request_id"], gateway_id);
    assert_eq!(r.headers["x-request-id"], gateway_id);
}

#[tokio::test]
async fn a_panicking_handler_answers_500_without_its_message() {
    let routes = axum::Router::new().route(
        "/boom",
        axum::routing::get(|| async {
            if true {
                panic!("secret internal detail");
            }
        }),
    );
    let app = shared::http::serve(routes, &sqlite_state());
    let r = get(&app, "/boom").await;
    assert_envelope(&r, 500, "INTERNAL_ERROR");
    assert!(!r.text.contains("secret"));
}

#[tokio::test]
async fn usage_reports_what_the_orchestrator_recorded_per_day() {
    use api_tests::mock_providers::{MockProviders, Step};
    use shared::orchestrator::{Answer, Ask};
    use shared::providers::{Prompt, Provider};

    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    struct Note {
        text: String,
    }
    impl Answer for Note {
        const NAME: &'static str = "note";
    }

    let mock = MockProviders::start().await;
    mock.script(Provider::Openai, vec![Step::Quota]);
    let vars = mock.vars(&[Provider::Openai, Provider::Anthropic]);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let state = state_with(sqlite_store(), &vars);
    let answered = state
        .ai
        .ask::<Note>(Ask {
            capability: "synthetic_data",
            prompt: Prompt {
                system: "s".into(),
                user: "u".into(),
                max_tokens: 100,
            },
            deadline: tokio::time::Instant::now() + std::time::Duration::from_secs(5),
            only: None,
        })
        .await
        .unwrap();
    shared::usage::record(state.store.as_ref(), &answered.usage).await;
    let block = shared::usage::block(&answered.usage);
    assert_eq!(block.providers.len(), 2);

    let app = system::router(state);
    let r = get(&app, "/v1/ai/usage?days=2").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["days"].as_array().unwrap().len(), 2);
    let today = &r.body["days"][1]["providers"];
    let openai = today
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "openai")
        .unwrap();
    assert_eq!(openai["calls"], 1);
    assert_eq!(openai["failed_calls"], 1);
    let anthropic = today
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "anthropic")
        .unwrap();
    assert_eq!(anthropic["calls"], 1);
    assert!(anthropic["input_tokens"].as_u64().unwrap() > 0);
    assert!(anthropic["cost_usd"].as_f64().unwrap() > 0.0);
    assert_eq!(r.body["totals"].as_array().unwrap().len(), 2);

    // The quota failure left OpenAI cooling down in this instance.
    let r = get(&app, "/v1/ai/status").await;
    assert_eq!(r.body["service_status"]["openai"]["cooling_down"], true);
    assert!(
        r.body["service_status"]["openai"]["cooldown_seconds_left"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(r.body["service_status"]["anthropic"]["cooling_down"], false);

    for (query, field) in [
        ("days=0", "days"),
        ("days=32", "days"),
        ("weeks=1", "weeks"),
    ] {
        let r = get(&app, &format!("/v1/ai/usage?{query}")).await;
        assert_eq!(assert_envelope(&r, 400, "VALIDATION_ERROR")["field"], field);
    }
}

/// An id that does not percent-decode to UTF-8 is answered in the envelope on every `{id}`
/// route, not with axum's plain-text rejection.
#[tokio::test]
async fn undecodable_ids_answer_in_the_envelope_on_every_id_route() {
    let state = sqlite_state();
    let models = models::router(state.clone());
    let datasets = synthetic_data::router(state);
    for (app, method, path) in [
        (&models, "GET", "/v1/models/%ff"),
        (&models, "GET", "/v1/models/%ff/status"),
        (&models, "POST", "/v1/models/%ff/stop"),
        (&models, "POST", "/v1/models/%ff/predict"),
        (&models, "GET", "/v1/models/%ff/metrics.svg"),
        (&datasets, "GET", "/v1/datasets/%ff"),
        (&datasets, "GET", "/v1/datasets/%ff/download"),
    ] {
        let body = if method == "POST" {
            r#"{"rows": [{"a": 1}]}"#
        } else {
            ""
        };
        let r = send(
            app,
            Request::builder()
                .method(method)
                .uri(path)
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(details["field"], "id", "{method} {path}");
        assert!(r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
    }
}

/// With no provider there is no cost: `0.0`, never `-0.0` (an empty float sum).
#[tokio::test]
async fn costs_with_no_provider_are_zero_not_negative_zero() {
    let state = sqlite_state();
    let r = get(&system::router(state.clone()), "/v1/ai/usage").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains(r#""total_cost_usd":0.0"#), "{}", r.text);
    let r = post_json(
        &analyze::router(state),
        "/v1/ai/analyze",
        &api_tests::spec_analyze_request(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains("-0.0"), "{}", r.text);
    assert_eq!(r.body["usage"]["total_cost_usd"].to_string(), "0.0");
}
