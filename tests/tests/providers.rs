//! The five wire clients and the orchestrator against the mock providers: every fault for
//! every provider, with the outcome asserted (retried and succeeded, fell back to the named
//! next provider, or the documented error) and the time kept within the deadline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_tests::mock_providers::{MockProviders, Step};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::orchestrator::{fan_out, Answer, Ask, Orchestrator, Policy, Source, FALLBACK_ORDER};
use shared::providers::{Prompt, Provider, ALL};
use shared::ApiError;
use tokio::time::Instant;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Review {
    title: String,
    score: f64,
    tags: Vec<String>,
    note: Option<String>,
}

impl Answer for Review {
    const NAME: &'static str = "review";
    fn check(&self) -> Result<(), String> {
        if (0.0..=1.0).contains(&self.score) {
            Ok(())
        } else {
            Err(format!("score {} is outside [0, 1]", self.score))
        }
    }
}

fn review(by: &str) -> serde_json::Value {
    json!({"title": format!("review by {by}"), "score": 0.8, "tags": ["cnn"], "note": null})
}

/// Fast backoff so fault tests take milliseconds, not seconds.
fn policy() -> Policy {
    Policy {
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(200),
        ..Policy::default()
    }
}

fn capability_of(p: Provider) -> &'static str {
    p.capabilities()[0]
}

fn fallback_for(p: Provider) -> Provider {
    FALLBACK_ORDER.into_iter().find(|f| *f != p).unwrap()
}

async fn setup(providers: &[Provider]) -> (MockProviders, Orchestrator) {
    let mock = MockProviders::start().await;
    for p in ALL {
        mock.answer(p, review(p.name()));
    }
    let vars = mock.vars(providers);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let orch = Orchestrator::from_config(&api_tests::config(&vars)).with_policy(policy());
    (mock, orch)
}

fn ask(capability: &'static str, within: Duration) -> Ask {
    Ask {
        capability,
        prompt: Prompt {
            system: "You review model architectures.".into(),
            user: "Review a 3-layer CNN for CIFAR-10.".into(),
            max_tokens: 512,
        },
        deadline: Instant::now() + within,
        only: None,
    }
}

fn answered_by(source: &Source) -> Provider {
    match source {
        Source::Provider { provider, .. } => *provider,
        Source::Builtin => panic!("answered by builtin"),
    }
}

#[tokio::test]
async fn each_provider_answers_in_its_own_wire_format_with_usage_and_cost() {
    for p in ALL {
        let (mock, orch) = setup(&[p]).await;
        let a = orch
            .ask::<Review>(ask(capability_of(p), Duration::from_secs(5)))
            .await
            .unwrap_or_else(|e| panic!("{p:?}: {:?}", e.attempts));
        assert_eq!(answered_by(&a.source), p);
        assert_eq!(a.value.title, format!("review by {}", p.name()));
        let u = &a.usage[0];
        assert_eq!(u.provider, p.name());
        assert_eq!((u.calls, u.failed_calls), (1, 0));
        assert!(u.input_tokens > 0 && u.output_tokens > 0, "{u:?}");
        assert_eq!(u.total_tokens, u.input_tokens + u.output_tokens);
        let expected_source = match p {
            Provider::Perplexity | Provider::Grok => "provider",
            _ => "price_table",
        };
        assert_eq!(u.cost_source, Some(expected_source), "{p:?}");
        assert!(u.cost_usd.unwrap() > 0.0);
        assert_eq!(mock.count(p), 1);
    }
}

#[tokio::test]
async fn requests_carry_each_providers_headers_and_schema() {
    let (mock, orch) = setup(&ALL).await;
    for p in ALL {
        orch.ask::<Review>(Ask {
            only: Some(vec![p]),
            ..ask("analysis", Duration::from_secs(5))
        })
        .await
        .unwrap();
        let r = &mock.requests(p)[0];
        let key = mock.key(p);
        match p {
            Provider::Anthropic => {
                assert_eq!(r.headers["x-api-key"], key.as_str());
                assert_eq!(r.headers["anthropic-version"], "2023-06-01");
                assert_eq!(r.body["output_config"]["format"]["type"], "json_schema");
                assert!(r.body["max_tokens"].as_u64().is_some());
            }
            Provider::Gemini => {
                assert_eq!(r.headers["x-goog-api-key"], key.as_str());
                assert_eq!(
                    r.body["generationConfig"]["responseMimeType"],
                    "application/json"
                );
                assert!(r.body["systemInstruction"]["parts"][0]["text"].is_string());
            }
            _ => {
                assert_eq!(r.headers["authorization"], format!("Bearer {key}").as_str());
                assert_eq!(r.body["response_format"]["json_schema"]["name"], "review");
            }
        }
        if p == Provider::Openai {
            assert_eq!(r.body["response_format"]["json_schema"]["strict"], true);
            assert!(r.body["max_completion_tokens"].is_u64());
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Retried at the same provider and succeeded there, with this many calls.
    SameProvider(usize),
    /// Moved on to the fallback provider after this many calls to the first.
    FellBack(usize),
}

fn faults() -> Vec<(Step, Expect)> {
    vec![
        (Step::RateLimitMs(50), Expect::SameProvider(2)),
        (Step::RateLimitSecs(1), Expect::SameProvider(2)),
        (Step::RateLimitDate(1), Expect::SameProvider(2)),
        (Step::Status(500), Expect::SameProvider(2)),
        (Step::Status(503), Expect::SameProvider(2)),
        (Step::Status(529), Expect::SameProvider(2)),
        (Step::Drop, Expect::SameProvider(2)),
        (Step::Quota, Expect::FellBack(1)),
        (Step::Refusal, Expect::FellBack(1)),
        (Step::Status(400), Expect::FellBack(1)),
        (Step::Truncated, Expect::SameProvider(2)),
        (Step::Malformed, Expect::SameProvider(2)),
        (Step::SchemaViolation, Expect::SameProvider(2)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_fault_for_every_provider_has_its_documented_outcome() {
    let mut cases = Vec::new();
    for p in ALL {
        for (step, expect) in faults() {
            cases.push(tokio::spawn(async move {
                let fallback = fallback_for(p);
                let (mock, orch) = setup(&[p, fallback]).await;
                mock.script(p, vec![step.clone()]);
                let deadline = Duration::from_secs(8);
                let started = Instant::now();
                let a = orch
                    .ask::<Review>(ask(capability_of(p), deadline))
                    .await
                    .unwrap_or_else(|e| panic!("{p:?} {step:?}: {:?}", e.attempts));
                assert!(started.elapsed() < deadline, "{p:?} {step:?} overran");
                match expect {
                    Expect::SameProvider(calls) => {
                        assert_eq!(answered_by(&a.source), p, "{p:?} {step:?}");
                        assert_eq!(mock.count(p), calls, "{p:?} {step:?}");
                        assert_eq!(mock.count(fallback), 0, "{p:?} {step:?}");
                        assert_eq!(a.usage[0].failed_calls, 1, "{p:?} {step:?}");
                    }
                    Expect::FellBack(calls) => {
                        assert_eq!(answered_by(&a.source), fallback, "{p:?} {step:?}");
                        assert_eq!(mock.count(p), calls, "{p:?} {step:?}");
                        assert_eq!(a.attempts[0].provider, p);
                        assert_ne!(a.attempts[0].outcome, "answered");
                        assert_eq!(a.attempts[1].outcome, "answered");
                    }
                }
                if step == Step::RateLimitSecs(1) {
                    assert!(
                        started.elapsed() >= Duration::from_millis(950),
                        "waited what the server asked"
                    );
                }
            }));
        }
    }
    for c in cases {
        c.await.unwrap();
    }
}

#[tokio::test]
async fn a_second_unusable_answer_moves_on_after_one_repair() {
    let (mock, orch) = setup(&[Provider::Openai, Provider::Anthropic]).await;
    mock.script(
        Provider::Openai,
        vec![Step::Malformed, Step::SchemaViolation],
    );
    let a = orch
        .ask::<Review>(ask("synthetic_data", Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(answered_by(&a.source), Provider::Anthropic);
    assert_eq!(mock.count(Provider::Openai), 2, "one repair, no more");
    assert_eq!(a.attempts[0].outcome, "schema_violation");
}

#[tokio::test]
async fn an_answer_that_breaks_the_check_counts_as_a_failure() {
    let (mock, orch) = setup(&[Provider::Anthropic]).await;
    mock.answer(
        Provider::Anthropic,
        json!({"title": "t", "score": 7.5, "tags": [], "note": null}),
    );
    let err = orch
        .ask::<Review>(ask("analysis", Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert_eq!(err.attempts[0].outcome, "schema_violation");
    assert_eq!(mock.count(Provider::Anthropic), 2);
}

#[tokio::test]
async fn retries_stop_after_two_and_the_error_names_every_provider() {
    let (mock, orch) = setup(&[Provider::Gemini, Provider::Grok]).await;
    mock.script(Provider::Gemini, vec![Step::Status(503); 5]);
    mock.script(Provider::Grok, vec![Step::Status(500); 5]);
    let failed = orch
        .ask::<Review>(ask("performance_analysis", Duration::from_secs(8)))
        .await
        .unwrap_err();
    assert_eq!(mock.count(Provider::Gemini), 3, "1 call + 2 retries");
    assert_eq!(mock.count(Provider::Grok), 3);
    let err = failed.into_error();
    assert!(matches!(err, ApiError::ServiceUnavailable { .. }));
    let env = err.envelope();
    assert_eq!(env["error"]["code"], "SERVICE_UNAVAILABLE");
    let attempts = env["error"]["details"]["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["provider"], "gemini");
    assert_eq!(attempts[0]["status"], 503);
    assert_eq!(attempts[0]["retries"], 2);
    assert_eq!(attempts[1]["provider"], "grok");
}

#[tokio::test]
async fn the_deadline_bounds_every_call_and_answers_504() {
    let (mock, orch) = setup(&[Provider::Anthropic]).await;
    mock.script(
        Provider::Anthropic,
        vec![Step::Delay(Duration::from_secs(10))],
    );
    let started = Instant::now();
    let failed = orch
        .ask::<Review>(ask("analysis", Duration::from_millis(800)))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_millis(1200),
        "{took:?}"
    );
    let env = failed.into_error().envelope();
    assert_eq!(env["error"]["code"], "PROCESSING_TIMEOUT");
    assert_eq!(env["error"]["details"]["attempts"][0]["outcome"], "timeout");
}

#[tokio::test]
async fn a_slow_owner_leaves_time_for_the_fallback() {
    let (mock, orch) = setup(&[Provider::Openai, Provider::Anthropic]).await;
    mock.script(Provider::Openai, vec![Step::Delay(Duration::from_secs(10))]);
    let started = Instant::now();
    let a = orch
        .ask::<Review>(ask("optimization", Duration::from_secs(3)))
        .await
        .unwrap();
    assert_eq!(answered_by(&a.source), Provider::Anthropic);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(a.attempts[0].outcome, "timeout");
}

#[tokio::test]
async fn a_wait_longer_than_the_deadline_is_not_waited() {
    let (mock, orch) = setup(&[Provider::Openai, Provider::Anthropic]).await;
    mock.script(Provider::Openai, vec![Step::RateLimitSecs(60)]);
    let started = Instant::now();
    let a = orch
        .ask::<Review>(ask("optimization", Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(answered_by(&a.source), Provider::Anthropic);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn builtin_answers_when_no_provider_can() {
    let (mock, orch) = setup(&[Provider::Anthropic]).await;
    mock.script(Provider::Anthropic, vec![Step::Quota]);
    let a = orch
        .ask_or_builtin::<Review>(ask("analysis", Duration::from_secs(5)), || Review {
            title: "builtin".into(),
            score: 0.5,
            tags: vec![],
            note: None,
        })
        .await;
    assert_eq!(a.source, Source::Builtin);
    assert_eq!(a.value.title, "builtin");
    assert_eq!(a.attempts[0].outcome, "quota_exhausted");
    // No provider at all: the builtin answers without any call.
    let (_, none) = setup(&[]).await;
    let a = none
        .ask_or_builtin::<Review>(ask("analysis", Duration::from_secs(5)), || Review {
            title: "builtin".into(),
            score: 0.1,
            tags: vec![],
            note: None,
        })
        .await;
    assert_eq!(a.source, Source::Builtin);
    assert!(a.attempts.is_empty() && a.usage.is_empty());
}

#[tokio::test]
async fn exhausted_quota_cools_the_provider_down_for_later_requests() {
    let (mock, orch) = setup(&[Provider::Perplexity, Provider::Anthropic]).await;
    mock.script(Provider::Perplexity, vec![Step::Quota]);
    orch.ask::<Review>(ask("research", Duration::from_secs(5)))
        .await
        .unwrap();
    let cooling = orch.cooling_down().await;
    assert_eq!(cooling.len(), 1);
    assert_eq!(cooling[0].0, Provider::Perplexity);
    let a = orch
        .ask::<Review>(ask("research", Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(answered_by(&a.source), Provider::Anthropic);
    assert_eq!(a.attempts[0].outcome, "cooling_down");
    assert_eq!(
        mock.count(Provider::Perplexity),
        1,
        "not called while cooling down"
    );
}

#[tokio::test]
async fn a_provider_that_keeps_failing_is_skipped() {
    let (mock, orch) = setup(&[Provider::Grok, Provider::Anthropic]).await;
    mock.script(Provider::Grok, vec![Step::Status(400); 10]);
    for _ in 0..3 {
        orch.ask::<Review>(ask("creativity", Duration::from_secs(5)))
            .await
            .unwrap();
    }
    assert_eq!(mock.count(Provider::Grok), 3);
    let a = orch
        .ask::<Review>(ask("creativity", Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(a.attempts[0].outcome, "cooling_down");
    assert_eq!(mock.count(Provider::Grok), 3);
}

#[tokio::test]
async fn routing_tries_the_owner_then_the_documented_order() {
    let (_mock, orch) = setup(&ALL).await;
    assert_eq!(
        orch.route("research", None),
        vec![
            Provider::Perplexity,
            Provider::Anthropic,
            Provider::Openai,
            Provider::Gemini,
            Provider::Grok
        ]
    );
    assert_eq!(
        orch.route("analysis", None),
        vec![
            Provider::Anthropic,
            Provider::Openai,
            Provider::Gemini,
            Provider::Grok,
            Provider::Perplexity
        ]
    );
    let (_mock, two) = setup(&[Provider::Grok, Provider::Gemini]).await;
    assert_eq!(
        two.route("synthetic_data", None),
        vec![Provider::Gemini, Provider::Grok]
    );
    assert_eq!(
        two.route("innovation", None),
        vec![Provider::Grok, Provider::Gemini]
    );
}

#[tokio::test]
async fn naming_an_unconfigured_provider_is_missing_api_key() {
    let (_mock, orch) = setup(&[Provider::Openai]).await;
    assert!(orch.require_configured(&[Provider::Openai]).is_ok());
    let err = orch
        .require_configured(&[Provider::Openai, Provider::Gemini])
        .unwrap_err();
    let env = err.envelope();
    assert_eq!(err.status(), 400);
    assert_eq!(env["error"]["code"], "MISSING_API_KEY");
    assert_eq!(env["error"]["details"]["variable"], "GEMINI_API_KEY");
}

#[tokio::test]
async fn perplexity_citations_are_carried_and_think_blocks_stripped() {
    let mock = MockProviders::start().await;
    mock.answer(Provider::Perplexity, review("perplexity"));
    let mut vars = mock.vars(&[Provider::Perplexity]);
    vars.push(("PERPLEXITY_MODEL".into(), "sonar-reasoning-pro".into()));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let orch = Orchestrator::from_config(&api_tests::config(&vars)).with_policy(policy());
    let a = orch
        .ask::<Review>(ask("research", Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(a.value.title, "review by perplexity");
    assert_eq!(a.citations.len(), 2);
    assert_eq!(
        a.citations[0].title.as_deref(),
        Some("Deep Residual Learning for Image Recognition")
    );
}

#[tokio::test]
async fn fan_out_runs_parts_together_and_returns_partial_results() {
    let (mock, orch) = setup(&[Provider::Openai, Provider::Anthropic, Provider::Perplexity]).await;
    for p in [Provider::Openai, Provider::Anthropic, Provider::Perplexity] {
        mock.script(p, vec![Step::Delay(Duration::from_millis(300))]);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let one = |cap: &'static str, p: Provider| {
        let orch = &orch;
        async move {
            orch.ask::<Review>(Ask {
                only: Some(vec![p]),
                deadline,
                ..ask(cap, Duration::from_secs(5))
            })
            .await
        }
    };
    let started = Instant::now();
    let parts = vec![
        one("synthetic_data", Provider::Openai),
        one("analysis", Provider::Anthropic),
        one("research", Provider::Perplexity),
    ];
    let out = fan_out(deadline, parts).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(900),
        "parts ran one after another: {took:?}"
    );
    assert!(out.into_iter().all(|o| o.done().is_some_and(|r| r.is_ok())));

    // A part that cannot finish by the deadline is reported as timed out; the others return.
    mock.script(
        Provider::Anthropic,
        vec![Step::Delay(Duration::from_secs(10))],
    );
    let deadline = Instant::now() + Duration::from_secs(1);
    let slow = |cap: &'static str, p: Provider| {
        let orch = &orch;
        async move {
            orch.ask::<Review>(Ask {
                only: Some(vec![p]),
                deadline: deadline + Duration::from_secs(30),
                ..ask(cap, Duration::from_secs(5))
            })
            .await
        }
    };
    let out = fan_out(
        deadline,
        vec![
            slow("synthetic_data", Provider::Openai),
            slow("analysis", Provider::Anthropic),
        ],
    )
    .await;
    let mut out = out.into_iter();
    assert!(out.next().unwrap().done().is_some());
    assert!(out.next().unwrap().done().is_none());
}

/// Captures every log line the code under test writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_key_never_reaches_a_log_line_or_a_response() {
    let sentinel = "sk-SENTINEL-7f3a9c1e5b2d4680";
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mock = MockProviders::start().await;
    let mut vars = Vec::new();
    for p in ALL {
        vars.push((p.base_url_var().to_string(), mock.base_url(p)));
        vars.push((p.key_vars()[0].to_string(), sentinel.to_string()));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let config = api_tests::config(&vars);
    let orch = Orchestrator::from_config(&config).with_policy(policy());
    // The mock expects other keys, so every provider answers 401 and echoes what it got.
    let failed = orch
        .ask::<Review>(ask("analysis", Duration::from_secs(5)))
        .await
        .unwrap_err();
    let envelope = failed.into_error().envelope().to_string();
    assert!(envelope.contains("authentication_failed"), "{envelope}");
    assert!(!envelope.contains(&sentinel[..8]), "{envelope}");

    let state = shared::AppState::new(config, api_tests::sqlite_store());
    let app = system::router(state);
    let r = api_tests::get(&app, "/v1/ai/status").await;
    assert!(!r.text.contains(sentinel));
    let r = api_tests::get(&app, "/health").await;
    assert!(!r.text.contains(sentinel));
    assert!(!format!("{:?}", orch.configured()).contains(sentinel));

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("provider failed"),
        "the failures were logged: {logs}"
    );
    assert!(
        !logs.contains(&sentinel[..8]),
        "a key prefix reached the logs"
    );
    for p in ALL {
        let seen = mock.requests(p);
        assert!(
            seen.iter()
                .any(|r| format!("{:?}", r.headers).contains(sentinel)),
            "the key was sent to {p:?}"
        );
    }
}

/// Provider health lives in the store: a key refused in one instance makes every instance
/// on the same store skip the provider, and `/v1/ai/status` in another instance shows it.
async fn a_refused_key_cools_the_provider_for_every_instance(store: shared::store::SharedStore) {
    let mock = MockProviders::start().await;
    for p in ALL {
        mock.answer(p, review(p.name()));
    }
    let both = [Provider::Anthropic, Provider::Openai];
    let a = api_tests::state_with_mock_on(store.clone(), &mock, &both, &[]);
    let b = api_tests::state_with_mock_on(store, &mock, &both, &[]);
    mock.script(Provider::Anthropic, vec![Step::Status(401)]);
    let answered =
        a.ai.ask::<Review>(ask("analysis", Duration::from_secs(5)))
            .await
            .unwrap();
    assert_eq!(answered_by(&answered.source), Provider::Openai);
    assert_eq!(mock.count(Provider::Anthropic), 1);

    // Instance B has never called Anthropic itself, yet skips it.
    let answered =
        b.ai.ask::<Review>(ask("analysis", Duration::from_secs(5)))
            .await
            .unwrap();
    assert_eq!(answered_by(&answered.source), Provider::Openai);
    assert_eq!(answered.attempts[0].outcome, "cooling_down");
    assert_eq!(
        mock.count(Provider::Anthropic),
        1,
        "B sent nothing to Anthropic"
    );
    let r = api_tests::get(&system::router(b.clone()), "/v1/ai/status").await;
    assert_eq!(
        r.body["service_status"]["anthropic"]["cooling_down"], true,
        "{}",
        r.text
    );
    assert!(
        r.body["service_status"]["anthropic"]["cooldown_seconds_left"]
            .as_u64()
            .unwrap()
            > 200
    );
    assert_eq!(r.body["service_status"]["openai"]["cooling_down"], false);
}

/// Three failures in a row, counted across instances, cool a provider for everyone; an
/// answer clears the count.
async fn consecutive_failures_count_across_instances(store: shared::store::SharedStore) {
    let mock = MockProviders::start().await;
    for p in ALL {
        mock.answer(p, review(p.name()));
    }
    let both = [Provider::Anthropic, Provider::Openai];
    let states: Vec<_> = (0..3)
        .map(|_| api_tests::state_with_mock_on(store.clone(), &mock, &both, &[]))
        .collect();
    // Each instance sees one 400 (not retried) from Anthropic: no instance alone reaches 3.
    mock.script(Provider::Anthropic, vec![Step::Status(400); 3]);
    for s in &states {
        s.ai.ask::<Review>(ask("analysis", Duration::from_secs(5)))
            .await
            .unwrap();
    }
    assert_eq!(mock.count(Provider::Anthropic), 3);
    let cooling = states[0].ai.cooling_down().await;
    assert_eq!(cooling.len(), 1, "{cooling:?}");
    assert_eq!(cooling[0].0, Provider::Anthropic);
    assert!(cooling[0].1 <= Duration::from_secs(30));
    let answered = states[1]
        .ai
        .ask::<Review>(ask("analysis", Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(answered.attempts[0].outcome, "cooling_down");
}

api_tests::on_both_stores!(
    a_refused_key_cools_the_provider_for_every_instance,
    consecutive_failures_count_across_instances
);
