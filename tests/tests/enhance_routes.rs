//! `POST /v1/ai/enhance`: parts concurrently under one deadline, partial results when one
//! part's provider is too slow, providers_used only for providers that answered.

use std::time::Duration;

use api_tests::mock_providers::{MockProviders, Step};
use api_tests::{assert_envelope, post_json, sqlite_state};
use serde_json::{json, Value};
use shared::providers::Provider;

fn spec_request() -> Value {
    api_tests::spec_enhance_request()
}

#[tokio::test]
async fn spec_example_without_providers() {
    let app = enhance::router(sqlite_state());
    let r = post_json(&app, "/v1/ai/enhance", &spec_request()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = &r.body;
    assert_eq!(b["status"], "success");
    assert_eq!(b["enhancement_summary"]["providers_used"], json!([]));
    let e = &b["enhancements"];
    assert_eq!(
        e["synthetic_data"]["generated_samples"], 15000,
        "30 % of 50K"
    );
    assert!(e["synthetic_data"]["augmentation_strategies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "back_translation"));
    assert_eq!(e["research_insights"]["provider"], "builtin_curated");
    assert!(!e["architecture_optimization"]["recommendations"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(b["implementation_roadmap"].as_array().unwrap().len(), 3);
    let confidence = b["enhancement_summary"]["confidence_score"]
        .as_f64()
        .unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    assert!(
        b["enhancement_summary"]["total_processing_time"]
            .as_f64()
            .unwrap()
            >= 0.0
    );
}

async fn three_providers(
    delays: [(Provider, Step); 3],
    deadline_ms: u64,
) -> (MockProviders, axum::Router) {
    let mock = MockProviders::start().await;
    mock.answer(Provider::Openai, json!({"strategies": ["paraphrasing", "style_transfer"], "recommended_samples": 15000, "rationale": "r"}));
    mock.answer(Provider::Anthropic, json!({"recommendations": [{"component": "attention_mechanism", "modification": "Multi-head attention with 8 heads", "rationale": "r"}],
                                            "expected_improvements": [{"metric": "accuracy", "change": "+0.03", "basis": "b"}]}));
    mock.answer(Provider::Perplexity, json!({"latest_techniques": ["Layer-wise learning rate decay"], "sota_accuracy": 0.934, "industry_average": 0.807, "notes": "n"}));
    for (p, step) in delays {
        mock.script(p, vec![step]);
    }
    let providers = [Provider::Openai, Provider::Anthropic, Provider::Perplexity];
    let deadline = deadline_ms.to_string();
    let state = api_tests::state_with_mock(
        &mock,
        &providers,
        &[("MLAAS_REQUEST_DEADLINE_MS", &deadline)],
    );
    (mock, enhance::router(state))
}

#[tokio::test]
async fn parts_run_concurrently_and_name_their_providers() {
    let d = || Step::Delay(Duration::from_millis(300));
    let (_mock, app) = three_providers(
        [
            (Provider::Openai, d()),
            (Provider::Anthropic, d()),
            (Provider::Perplexity, d()),
        ],
        10_000,
    )
    .await;
    let started = std::time::Instant::now();
    let r = post_json(&app, "/v1/ai/enhance", &spec_request()).await;
    let took = started.elapsed();
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        took < Duration::from_millis(900),
        "parts ran in sequence: {took:?}"
    );
    let b = &r.body;
    let used: Vec<&str> = b["enhancement_summary"]["providers_used"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(used, ["openai", "anthropic", "perplexity"]);
    let e = &b["enhancements"];
    assert_eq!(e["synthetic_data"]["provider"], "openai");
    assert_eq!(e["architecture_optimization"]["provider"], "anthropic");
    assert_eq!(
        e["architecture_optimization"]["expected_improvements"]["accuracy"],
        "+0.03"
    );
    assert_eq!(e["research_insights"]["provider"], "perplexity");
    assert_eq!(
        e["research_insights"]["benchmarking_data"]["industry_average"],
        0.807
    );
    assert!(!e["research_insights"]["citations"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(b["usage"]["providers"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_part_that_times_out_leaves_the_others() {
    let ok = || Step::Ok;
    let (_mock, app) = three_providers(
        [
            (Provider::Openai, ok()),
            (Provider::Anthropic, Step::Delay(Duration::from_secs(20))),
            (Provider::Perplexity, ok()),
        ],
        1_500,
    )
    .await;
    let started = std::time::Instant::now();
    let r = post_json(&app, "/v1/ai/enhance", &spec_request()).await;
    assert!(started.elapsed() < Duration::from_millis(2_500));
    assert_eq!(r.status, 200, "{}", r.text);
    let b = &r.body;
    let used: Vec<&str> = b["enhancement_summary"]["providers_used"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        used,
        ["openai", "perplexity"],
        "only providers that answered"
    );
    let arch = &b["enhancements"]["architecture_optimization"];
    assert_ne!(arch["provider"], "anthropic");
    assert_eq!(b["enhancements"]["synthetic_data"]["provider"], "openai");
    assert_eq!(
        b["enhancements"]["research_insights"]["provider"],
        "perplexity"
    );
}

#[tokio::test]
async fn scope_constraints_and_errors() {
    let app = enhance::router(sqlite_state());
    let body = json!({
        "model_description": "CNN for image classification",
        "training_data": "CIFAR-10, 50000 images, 10 classes",
        "architecture": {"layers": api_tests::spec_cnn_layers(), "input_shape": [32, 32, 3]},
        "performance_metrics": {"accuracy": 0.847, "inference_latency": "12ms"},
        "config": {"enhancement_scope": ["architecture"], "performance_constraints": {"max_model_size": "5MB", "max_inference_latency": "10ms"}}
    });
    let r = post_json(&app, "/v1/ai/enhance", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let e = r.body["enhancements"].as_object().unwrap();
    assert_eq!(e.keys().collect::<Vec<_>>(), ["architecture_optimization"]);
    let c = r.body["constraints"].as_array().unwrap();
    let size = c
        .iter()
        .find(|c| c["constraint"] == "max_model_size")
        .unwrap();
    // 1,405,258 parameters × 4 bytes = 5.62 MB > 5 MB
    assert!((size["computed_mb"].as_f64().unwrap() - 5.621032).abs() < 1e-6);
    assert_eq!(size["within"], false);
    let latency = c
        .iter()
        .find(|c| c["constraint"] == "max_inference_latency")
        .unwrap();
    assert_eq!(latency["within"], false);

    let r = post_json(&app, "/v1/ai/enhance", &json!({"model_description": "m", "config": {"performance_constraints": {"max_model_size": "huge"}}})).await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "config.performance_constraints.max_model_size"
    );
    let r = post_json(
        &app,
        "/v1/ai/enhance",
        &json!({"model_description": "m", "providers": ["perplexity"]}),
    )
    .await;
    assert_envelope(&r, 400, "MISSING_API_KEY");
}

#[tokio::test]
async fn tabular_data_gets_a_generated_dataset() {
    let app = enhance::router(sqlite_state());
    let r = post_json(&app, "/v1/ai/enhance", &json!({
        "model_description": "Binary classification model for fraud detection",
        "training_data": "Transaction data with features: amount, merchant, time, location; 2000 rows",
        "config": {"enhancement_scope": ["data"]}
    })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let s = &r.body["enhancements"]["synthetic_data"];
    assert_eq!(s["generated_samples"], 600, "30 % of 2,000 rows");
    assert!(s["dataset_id"].as_str().unwrap().starts_with("ds_"));
    let q = s["quality_score"].as_f64().unwrap();
    assert!(q > 0.0 && q <= 1.0);
}

/// Enhance and analyze read a reported accuracy with one parser: "0.5%" is 0.005 in both,
/// and a validation accuracy counts as the held-out one.
#[tokio::test]
async fn accuracy_is_read_as_the_analyzer_reads_it() {
    let state = sqlite_state();
    let enhance = enhance::router(state.clone());
    let analyze = analyze::router(state);
    for (metrics, expected) in [
        (json!({"accuracy": "0.5%"}), 0.005),
        (json!({"accuracy": 0.82}), 0.82),
        (json!({"val_accuracy": "91%"}), 0.91),
    ] {
        let body = json!({
            "model_description": "ResNet for CIFAR-10 image classification",
            "performance_metrics": metrics,
            "config": {"enhancement_scope": ["training"]},
        });
        let r = post_json(&enhance, "/v1/ai/enhance", &body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let current =
            &r.body["enhancements"]["research_insights"]["benchmarking_data"]["current_accuracy"];
        assert_eq!(current.as_f64(), Some(expected), "{metrics}");
        let a = post_json(
            &analyze,
            "/v1/ai/analyze",
            &json!({"model_description": body["model_description"], "performance_metrics": metrics}),
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.text);
        let details = &a.body["analysis"]["performance_analysis"]["details"];
        assert_eq!(
            details["reference"]["accuracy"].as_f64(),
            Some(expected),
            "{metrics}"
        );
    }
}
