//! `POST /v1/ai/analyze` through the function's Router: builtin only, with the mock provider
//! answering, and with it failing.

use api_tests::mock_providers::{MockProviders, Step};
use api_tests::{assert_envelope, post_json, sqlite_state};
use serde_json::{json, Value};
use shared::providers::Provider;

fn spec_request() -> Value {
    api_tests::spec_analyze_request()
}

fn review() -> Value {
    json!({
        "strengths": ["Appropriate conv layer progression"],
        "weaknesses": ["Missing batch normalization layers"],
        "suggestions": [{"category": "regularization", "suggestion": "Dropout 0.3-0.5 before dense layers",
                         "expected_improvement": "Reduced overfitting", "rationale": "the dense layer holds most parameters"}],
        "accuracy_assessment": "Good for a baseline CNN",
        "convergence_quality": "Stable",
        "overfitting_risk": "Moderate"
    })
}

#[tokio::test]
async fn spec_example_builtin_only() {
    let app = analyze::router(sqlite_state());
    let r = post_json(&app, "/v1/ai/analyze", &spec_request()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "success");
    assert_eq!(r.body["provider"], "builtin");
    let a = &r.body["analysis"]["architecture_assessment"];
    assert_eq!(a["totals"]["params"], 1_405_258);
    // Both MAC conventions: flop_counter's bias-free count and torchinfo's mult-adds.
    assert_eq!(a["totals"]["macs"], 5_278_336);
    assert_eq!(a["totals"]["torchinfo_mult_adds"], 5_318_090);
    assert_eq!(a["layers"][0]["torchinfo_mult_adds"], 806_400);
    assert_eq!(
        a["memory"]["training"]["optimizer_state_bytes"],
        8 * 1_405_258
    );
    assert_eq!(a["memory"]["inference"]["batch_size"], 1);
    assert_eq!(a["input_shape"], json!([32, 32, 3]));
    let score = a["overall_score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score));
    assert!(!a["weaknesses"].as_array().unwrap().is_empty());
    assert!(a["weaknesses_detail"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| w["source"] == "builtin"));
    let suggestions = r.body["analysis"]["optimization_suggestions"]
        .as_array()
        .unwrap();
    assert!(!suggestions.is_empty());
    for s in suggestions {
        for k in ["category", "suggestion", "expected_improvement"] {
            assert!(s[k].is_string(), "{s}");
        }
    }
    assert!(r.body["analysis_time_seconds"].as_f64().unwrap() >= 0.0);
    assert!(r.body["analysis"]["performance_analysis"]["accuracy_assessment"].is_string());
}

#[tokio::test]
async fn the_lstm_curl_example_without_architecture() {
    let app = analyze::router(sqlite_state());
    let r = post_json(
        &app,
        "/v1/ai/analyze",
        &json!({
            "model_description": "LSTM for time series forecasting",
            "data_sample": "Stock price data, 5-year history",
            "performance_metrics": {"mse": 0.023, "mae": 0.14}
        }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn with_anthropic(steps: Vec<Step>) -> (MockProviders, axum::Router) {
    let mock = MockProviders::start().await;
    mock.answer(Provider::Anthropic, review());
    mock.script(Provider::Anthropic, steps);
    let state = api_tests::state_with_mock(&mock, &[Provider::Anthropic], &[]);
    (mock, analyze::router(state))
}

#[tokio::test]
async fn the_analysis_provider_reviews_the_computed_facts() {
    let (mock, app) = with_anthropic(vec![]).await;
    let r = post_json(&app, "/v1/ai/analyze", &spec_request()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["provider"], "anthropic");
    let a = &r.body["analysis"]["architecture_assessment"];
    assert_eq!(a["totals"]["params"], 1_405_258, "numbers stay computed");
    assert!(a["strengths_detail"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["source"] == "anthropic"));
    assert!(r.body["analysis"]["optimization_suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["source"] == "anthropic"));
    assert_eq!(r.body["usage"]["providers"][0]["provider"], "anthropic");
    // The provider was given the computed facts.
    let sent = &mock.requests(Provider::Anthropic)[0].body;
    assert!(sent["messages"][0]["content"]
        .as_str()
        .unwrap()
        .contains("1405258"));
}

#[tokio::test]
async fn a_failing_provider_leaves_the_builtin_analysis_and_says_so() {
    let (_mock, app) = with_anthropic(vec![Step::Quota]).await;
    let r = post_json(&app, "/v1/ai/analyze", &spec_request()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["provider"], "builtin");
    assert_eq!(r.body["provider_attempts"][0]["outcome"], "quota_exhausted");
    assert_eq!(
        r.body["analysis"]["architecture_assessment"]["totals"]["params"],
        1_405_258
    );
}

#[tokio::test]
async fn bad_layers_name_the_index_and_field() {
    let app = analyze::router(sqlite_state());
    let mut body = spec_request();
    body["architecture"]["layers"][2]["type"] = json!("quantum_conv");
    let r = post_json(&app, "/v1/ai/analyze", &body).await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "architecture.layers[2].type"
    );
    let mut body = spec_request();
    body["architecture"]["layers"][0]["kernel_size"] = json!(-3);
    let r = post_json(&app, "/v1/ai/analyze", &body).await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "architecture.layers[0].kernel_size"
    );
    let r = post_json(&app, "/v1/ai/analyze", &json!({"data_sample": "x"})).await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "model_description"
    );
    let r = post_json(
        &app,
        "/v1/ai/analyze",
        &json!({"model_description": "x", "providers": ["anthropic"]}),
    )
    .await;
    assert_envelope(&r, 400, "MISSING_API_KEY");
}
