//! Orchestrator benchmark against the mock providers on loopback.
//!
//! 1. Overhead per call: `ask` to one provider answering with zero delay, p50 and p99, next to
//!    the same HTTP exchange made directly with reqwest (the floor any client pays).
//! 2. Fan-out: three providers answering after 300 ms each, asked concurrently: the total.
//!
//! Run: `bench/run orchestrator` (release build). Prints one JSON object.

use std::time::{Duration, Instant};

use api_tests::mock_providers::{MockProviders, Step};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::orchestrator::{fan_out, Answer, Ask, Orchestrator};
use shared::providers::{Prompt, Provider};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Review {
    title: String,
    score: f64,
    tags: Vec<String>,
}

impl Answer for Review {
    const NAME: &'static str = "review";
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn ask(capability: &'static str, only: Provider) -> Ask {
    Ask {
        capability,
        prompt: Prompt {
            system: "You review model architectures.".into(),
            user: "Review a 3-layer CNN for CIFAR-10 and list its weaknesses.".into(),
            max_tokens: 512,
        },
        deadline: tokio::time::Instant::now() + Duration::from_secs(25),
        only: Some(vec![only]),
    }
}

#[tokio::main]
async fn main() {
    let mock = MockProviders::start().await;
    let answer = json!({"title": "review", "score": 0.8, "tags": ["cnn", "cifar10"]});
    let providers = [Provider::Openai, Provider::Anthropic, Provider::Perplexity];
    for p in providers {
        mock.answer(p, answer.clone());
    }
    let vars = mock.vars(&providers);
    let config =
        shared::Config::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()));
    let orch = Orchestrator::from_config(&config);

    let runs = 2000;
    for _ in 0..200 {
        orch.ask::<Review>(ask("synthetic_data", Provider::Openai))
            .await
            .expect("warm-up");
    }
    let mut asks = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        orch.ask::<Review>(ask("synthetic_data", Provider::Openai))
            .await
            .expect("ask");
        asks.push(t.elapsed());
    }

    // The same exchange without the orchestrator: one reqwest POST of the request body the
    // OpenAI client sends (schema included), and the response read to the end.
    let http = reqwest::Client::new();
    let body = mock
        .requests(Provider::Openai)
        .last()
        .expect("recorded")
        .body
        .clone();
    let url = format!("{}/chat/completions", mock.base_url(Provider::Openai));
    let auth = format!("Bearer {}", mock.key(Provider::Openai));
    let mut raw = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let r = http
            .post(&url)
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("post");
        r.bytes().await.expect("body");
        raw.push(t.elapsed());
    }
    asks.sort();
    raw.sort();

    let mut totals = Vec::new();
    for _ in 0..20 {
        for p in providers {
            mock.script(p, vec![Step::Delay(Duration::from_millis(300))]);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(25);
        let t = Instant::now();
        let parts = vec![
            orch.ask::<Review>(ask("synthetic_data", Provider::Openai)),
            orch.ask::<Review>(ask("analysis", Provider::Anthropic)),
            orch.ask::<Review>(ask("research", Provider::Perplexity)),
        ];
        let out = fan_out(deadline, parts).await;
        totals.push(t.elapsed());
        assert!(out.into_iter().all(|o| o.done().is_some_and(|r| r.is_ok())));
    }
    totals.sort();

    let result = json!({
        "ask_ms": {"p50": percentile(&asks, 0.5), "p99": percentile(&asks, 0.99), "runs": runs},
        "direct_http_ms": {"p50": percentile(&raw, 0.5), "p99": percentile(&raw, 0.99), "runs": runs},
        "overhead_ms": {
            "p50": percentile(&asks, 0.5) - percentile(&raw, 0.5),
            "p99": percentile(&asks, 0.99) - percentile(&raw, 0.99),
        },
        "fan_out_3x300ms_total_ms": {"p50": percentile(&totals, 0.5), "max": percentile(&totals, 1.0), "runs": totals.len()},
    });
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
}
