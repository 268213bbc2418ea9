//! Analyzer and enhance benchmarks.
//!
//! 1. The builtin analyzer on a 200-layer network (analysis::fixtures): median of 2,000 runs.
//! 2. `POST /v1/ai/enhance` through the function's Router with three mock providers each
//!    answering after 300 ms: the request's total time against the slowest part (300 ms).
//!
//! Run: `bench/run analysis`. Prints JSON.

use std::time::{Duration, Instant};

use analysis::{self, fixtures};
use api_tests::mock_providers::{MockProviders, Step};
use serde_json::json;
use shared::providers::Provider;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let input = fixtures::deep_mlp_input(200);
    let layers = analysis::analyze(&input).expect("analysis").layers.len();
    let mut runs: Vec<f64> = (0..2000)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(
                analysis::analyze(std::hint::black_box(&input)).expect("analysis"),
            );
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let analysis_ms = median(&mut runs);

    let mock = MockProviders::start().await;
    mock.answer(
        Provider::Openai,
        json!({"strategies": ["paraphrasing"], "recommended_samples": 15000, "rationale": "r"}),
    );
    mock.answer(Provider::Anthropic, json!({"recommendations": [{"component": "attention", "modification": "8 heads", "rationale": "r"}], "expected_improvements": []}));
    mock.answer(Provider::Perplexity, json!({"latest_techniques": ["LLRD"], "sota_accuracy": 0.93, "industry_average": 0.8, "notes": "n"}));
    let providers = [Provider::Openai, Provider::Anthropic, Provider::Perplexity];
    let mut vars = mock.vars(&providers);
    vars.push(("MLAAS_RATE_LIMITS".into(), "off".into()));
    let data = std::env::temp_dir().join(format!("mlaas-bench-{}", std::process::id()));
    vars.push(("MLAAS_DATA_DIR".into(), data.display().to_string()));
    let config =
        shared::Config::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()));
    let store = std::sync::Arc::new(
        shared::store::sqlite::SqliteStore::open(&data.join("bench.db")).expect("sqlite"),
    );
    let app = enhance::router(shared::AppState::new(config, store));
    let body = json!({
        "model_description": "Transformer model for natural language processing",
        "training_data": "Text classification dataset, 50K samples, 5 categories",
        "performance_metrics": {"accuracy": 0.823, "f1_score": 0.801, "training_loss": 0.387, "validation_loss": 0.421},
        "config": {"optimization_focus": "accuracy",
                   "performance_constraints": {"max_inference_latency": "100ms", "max_model_size": "500MB"},
                   "enhancement_scope": ["architecture", "training", "data"]}
    });
    let mut totals = Vec::new();
    for _ in 0..20 {
        for p in providers {
            mock.script(p, vec![Step::Delay(Duration::from_millis(300))]);
        }
        let t = Instant::now();
        let r = api_tests::post_json(&app, "/v1/ai/enhance", &body).await;
        totals.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.body["enhancement_summary"]["providers_used"]
                .as_array()
                .map(Vec::len),
            Some(3)
        );
    }
    let p50 = median(&mut totals);
    let max = totals.iter().copied().fold(0.0, f64::max);
    let _ = std::fs::remove_dir_all(&data);
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "analysis_200_layers_ms": {"median": analysis_ms, "layers": layers, "runs": 2000},
            "enhance_3_providers_at_300ms": {"total_ms_p50": p50, "total_ms_max": max, "slowest_part_ms": 300.0,
                                              "over_slowest_p50_pct": (p50 / 300.0 - 1.0) * 100.0, "runs": 20},
        }))
        .expect("json")
    );
}
