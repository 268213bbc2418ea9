//! Sweeps: trials validated up front, `max_parallel` at a time side by side, the best named,
//! successive halving across trials, and a stop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use api_tests::{get, post_json, separable_csv, upload_csv};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use shared::state::AppState;
use shared::store::SharedStore;

fn state(store: SharedStore, blobs: Option<shared::blobs::SharedBlobs>, pause_ms: u64) -> AppState {
    let mut config = api_tests::config(&[]);
    // Each batch takes a few milliseconds at least, so trials run long enough to overlap.
    config.worker.test_batch_pause = Some(Duration::from_millis(pause_ms));
    match blobs {
        Some(b) => AppState::with_blobs(config, store, b),
        None => AppState::new(config, store),
    }
}

fn sweep_request(dataset: &str, max_parallel: u32, space: Value, epochs: u32) -> Value {
    json!({
        "name": "lr x width", "dataset": dataset, "objective": "val_accuracy",
        "max_parallel": max_parallel,
        "base": {"model_config": {"type": "classification", "architecture": "mlp"},
                 "training_config": {"epochs": epochs, "batch_size": 32, "seed": 1}},
        "search": {"method": "grid", "space": space}
    })
}

/// Polls the sweep until it has ended.
async fn ended(app: &axum::Router, id: &str, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let r = get(app, &format!("/v1/sweeps/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        api_tests::openapi::assert_conforms("GET", "/v1/sweeps/{id}", &r);
        if matches!(r.body["status"].as_str(), Some("completed" | "stopped")) {
            return r.body;
        }
        assert!(started.elapsed() < limit, "sweep still running: {}", r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// Each trial's job from its claim to its end, from the job's transitions.
async fn spans(app: &axum::Router, sweep: &Value) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    for t in sweep["trials"].as_array().unwrap() {
        let id = t["model_id"].as_str().unwrap();
        let r = get(app, &format!("/v1/models/{id}/status")).await;
        let transitions = r.body["status_transitions"].as_array().unwrap();
        let claimed = transitions
            .iter()
            .find(|x| x["status"] == "in_progress")
            .expect("claimed");
        let last = transitions.last().unwrap();
        out.push((at(&claimed["at"]), at(&last["at"])));
    }
    out
}

/// The most spans open at one instant.
fn most_at_once(spans: &[(DateTime<Utc>, DateTime<Utc>)]) -> usize {
    spans
        .iter()
        .map(|(start, _)| {
            spans
                .iter()
                .filter(|(s, e)| s <= start && start < e)
                .count()
        })
        .max()
        .unwrap_or(0)
}

async fn six_trials_three_at_a_time(state: AppState) {
    let dataset = upload_csv(&state, &separable_csv(400, 5), "label").await;
    let app = models::router(state);
    let space = json!({"training_config.learning_rate": [0.001, 0.01, 0.1],
                       "model_config.hidden_layers": [[16], [32, 16]]});
    let r = post_json(&app, "/v1/sweeps", &sweep_request(&dataset, 3, space, 6)).await;
    assert_eq!(r.status, 202, "{}", r.text);
    api_tests::openapi::assert_conforms("POST", "/v1/sweeps", &r);
    assert_eq!(r.body["trials"], 6);
    assert_eq!(r.body["started"].as_array().unwrap().len(), 3);
    let id = r.body["sweep_id"].as_str().unwrap().to_string();
    let sweep = ended(&app, &id, Duration::from_secs(240)).await;
    assert_eq!(sweep["status"], "completed", "{sweep}");
    assert_eq!(sweep["counts"], json!({"completed": 6}), "{sweep}");
    let trials = sweep["trials"].as_array().unwrap();
    // Grid order: the last key varies fastest (keys sorted).
    assert_eq!(
        trials[0]["settings"]["model_config.hidden_layers"],
        json!([16])
    );
    assert_eq!(
        trials[1]["settings"]["training_config.learning_rate"],
        json!(0.01)
    );
    // Every trial trained what its settings say, on the base's seed.
    for t in trials {
        let id = t["model_id"].as_str().unwrap();
        let s = get(&app, &format!("/v1/models/{id}/status")).await.body;
        assert_eq!(
            s["training_config"]["learning_rate"],
            t["settings"]["training_config.learning_rate"]
        );
        assert_eq!(
            s["hidden_layers"],
            t["settings"]["model_config.hidden_layers"]
        );
        assert_eq!(s["training_config"]["seed"], 1);
        let last = s["history"].as_array().unwrap().last().unwrap()["val_accuracy"].clone();
        assert_eq!(t["metric"], last, "a trial's metric is its last epoch's");
    }
    // The best is the completed trial with the highest val_accuracy (the first on ties).
    let best = trials
        .iter()
        .fold(None::<&Value>, |b, t| match b {
            Some(b) if b["metric"].as_f64() >= t["metric"].as_f64() => Some(b),
            _ => Some(t),
        })
        .unwrap();
    assert_eq!(sweep["best"]["trial"], best["trial"], "{sweep}");
    // Side by side, never more than max_parallel.
    let spans = spans(&app, &sweep).await;
    let most = most_at_once(&spans);
    assert!((2..=3).contains(&most), "{most} trials at once: {spans:?}");
    // The list has it, newest first, with its best.
    let r = get(&app, "/v1/sweeps?limit=1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    api_tests::openapi::assert_conforms("GET", "/v1/sweeps", &r);
    assert_eq!(r.body["sweeps"][0]["sweep_id"], json!(id));
    assert_eq!(r.body["sweeps"][0]["best"]["trial"], sweep["best"]["trial"]);
    assert_eq!(r.body["sweeps"][0]["counts"], json!({"completed": 6}));
    let compare = sweep["links"]["compare"].as_str().unwrap();
    let r = get(&app, compare).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["models"].as_array().unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_runs_six_trials_three_at_a_time_and_names_its_best_on_sqlite() {
    six_trials_three_at_a_time(state(api_tests::sqlite_store(), None, 5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_runs_six_trials_three_at_a_time_and_names_its_best_on_dynamodb_and_s3() {
    let blobs: shared::blobs::SharedBlobs = Arc::new(api_tests::s3_blobs().await);
    six_trials_three_at_a_time(state(api_tests::dynamo_store().await, Some(blobs), 5)).await;
}

#[tokio::test]
async fn every_trial_is_validated_before_anything_starts() {
    let state = state(api_tests::sqlite_store(), None, 0);
    let dataset = upload_csv(&state, &separable_csv(100, 1), "label").await;
    let app = models::router(state);
    let cases = [
        (
            json!({"training_config.learning_rate": [0.01, -1]}),
            "search.space.training_config.learning_rate",
            "trial 1",
        ),
        (
            json!({"model_config.hidden_layers": [[16], [0]]}),
            "search.space.model_config.hidden_layers",
            "trial 1",
        ),
        (json!({"seed": [1, 2]}), "search.space.seed", ""),
        (
            json!({"training_config.learning_rate": {"min": 0.001, "max": 0.1}}),
            "search.space.training_config.learning_rate",
            "",
        ),
        (json!({}), "search.space", ""),
    ];
    for (space, field, message) in cases {
        let r = post_json(
            &app,
            "/v1/sweeps",
            &sweep_request(&dataset, 2, space.clone(), 2),
        )
        .await;
        api_tests::assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{}",
            r.body
        );
    }
    // A base field that is wrong for every trial is named under base.
    let mut body = sweep_request(
        &dataset,
        2,
        json!({"training_config.learning_rate": [0.1]}),
        2,
    );
    body["base"]["training_config"]["epochs"] = json!(0);
    let r = post_json(&app, "/v1/sweeps", &body).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["error"]["details"]["field"],
        "base.training_config.epochs"
    );
    // An objective the task does not record.
    let mut body = sweep_request(
        &dataset,
        2,
        json!({"training_config.learning_rate": [0.1]}),
        2,
    );
    body["objective"] = json!("val_rmse");
    let r = post_json(&app, "/v1/sweeps", &body).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["details"]["field"], "objective");
    // An unknown dataset, and an unknown sweep.
    let r = post_json(
        &app,
        "/v1/sweeps",
        &sweep_request(
            "ds_01jd0000000000000000000000",
            2,
            json!({"training_config.learning_rate": [0.1]}),
            2,
        ),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = get(&app, "/v1/sweeps/sweep_01jd0000000000000000000000").await;
    api_tests::assert_envelope(&r, 404, "NOT_FOUND");
    // Nothing was stored.
    let r = get(&app, "/v1/models").await;
    assert_eq!(r.body["total_models"], 0, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successive_halving_prunes_the_trials_below_a_rung() {
    let state = state(api_tests::sqlite_store(), None, 0);
    let dataset = upload_csv(&state, &separable_csv(400, 9), "label").await;
    let app = models::router(state);
    // One at a time, so the rungs fill in trial order: the first (a useful learning rate)
    // sets the bar that the two near-frozen ones miss at the first rung.
    let mut body = sweep_request(
        &dataset,
        1,
        json!({"training_config.learning_rate": [0.05, 0.00001, 0.000001]}),
        8,
    );
    body["objective"] = json!("val_loss");
    body["early_stopping"] = json!({"type": "asha", "min_epochs": 1, "reduction_factor": 2});
    let r = post_json(&app, "/v1/sweeps", &body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["sweep_id"].as_str().unwrap().to_string();
    let sweep = ended(&app, &id, Duration::from_secs(120)).await;
    assert_eq!(
        sweep["early_stopping"]["rungs"],
        json!([1, 2, 4]),
        "{sweep}"
    );
    assert_eq!(sweep["objective"]["direction"], "minimize");
    let trials = sweep["trials"].as_array().unwrap();
    assert_eq!(trials[0]["status"], "completed", "{sweep}");
    assert_eq!(trials[0]["epochs_run"], 8);
    for t in &trials[1..] {
        assert_eq!(t["status"], "pruned", "{sweep}");
        assert_eq!(t["pruned_at_epoch"], 1);
        assert_eq!(t["epochs_run"], 1);
        let s = get(
            &app,
            &format!("/v1/models/{}/status", t["model_id"].as_str().unwrap()),
        )
        .await
        .body;
        assert_eq!(s["status"], "stopped", "{s}");
        assert!(
            s["secondary_transitions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["status"] == "pruned"),
            "{s}"
        );
    }
    let first_rung = &sweep["rungs"][0];
    assert_eq!(first_rung["epoch"], 1);
    assert_eq!(
        first_rung["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["continued"].clone())
            .collect::<Vec<_>>(),
        vec![json!(true), json!(false), json!(false)]
    );
    assert_eq!(sweep["best"]["trial"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_sweep_cancels_what_waits_and_stops_what_runs() {
    let state = state(api_tests::sqlite_store(), None, 40);
    let dataset = upload_csv(&state, &separable_csv(400, 3), "label").await;
    let app = models::router(state);
    let body = sweep_request(
        &dataset,
        1,
        json!({"training_config.learning_rate": [0.01, 0.02, 0.03]}),
        50,
    );
    let r = post_json(&app, "/v1/sweeps", &body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["sweep_id"].as_str().unwrap().to_string();
    let first = r.body["started"][0]["model_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Wait until the first trial trains.
    let started = Instant::now();
    loop {
        let s = get(&app, &format!("/v1/models/{first}/status")).await.body;
        if s["history"].as_array().is_some_and(|h| !h.is_empty()) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = post_json(&app, &format!("/v1/sweeps/{id}/stop"), &json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    api_tests::openapi::assert_conforms("POST", "/v1/sweeps/{id}/stop", &r);
    let sweep = ended(&app, &id, Duration::from_secs(60)).await;
    assert_eq!(sweep["status"], "stopped", "{sweep}");
    let statuses: Vec<&str> = sweep["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["stopped", "cancelled", "cancelled"], "{sweep}");
    assert!(sweep["trials"][1]["model_id"].is_null());
    let r = post_json(&app, &format!("/v1/sweeps/{id}/stop"), &json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text);
}
