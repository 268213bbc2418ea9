//! Jobs that outlive one invocation: checkpoints, hand-ons, resumes after a lost worker or a
//! stop, and a checkpoint that cannot be read. Each job's history is compared value by value
//! (wall times aside) with the same request trained in one go.

use std::sync::Arc;
use std::time::{Duration, Instant};

use api_tests::{finished, get, post_json, separable_csv, state_with, upload_csv};
use serde_json::{json, Value};
use shared::records::JobStatus;
use shared::state::AppState;
use shared::store::SharedStore;

/// An MLP on 400 rows: 10 batches an epoch, 8 epochs.
fn request(dataset: &str) -> Value {
    json!({
        "model_config": {"name": "long", "type": "classification", "architecture": "mlp",
                         "hidden_layers": [16, 8], "dataset": dataset},
        "training_config": {"epochs": 8, "batch_size": 32, "learning_rate": 0.01, "seed": 11,
                            "validation_split": 0.2}
    })
}

/// A state whose invocations train for 1 s, each batch taking at least 40 ms: the job
/// needs several invocations.
fn short_invocations(store: SharedStore, blobs: Option<shared::blobs::SharedBlobs>) -> AppState {
    let mut config = api_tests::config(&[
        ("MLAAS_INVOCATION_BUDGET_SECONDS", "1"),
        ("MLAAS_CHECKPOINT_INTERVAL_SECONDS", "1"),
    ]);
    config.worker.test_batch_pause = Some(Duration::from_millis(40));
    match blobs {
        Some(b) => AppState::with_blobs(config, store, b),
        None => AppState::new(config, store),
    }
}

async fn submit(app: &axum::Router, body: &Value) -> String {
    let r = post_json(app, "/v1/models/train", body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    r.body["model_id"].as_str().unwrap().to_string()
}

/// The history without its wall times.
fn timeless(status: &Value) -> Vec<Value> {
    status["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("seconds");
            e
        })
        .collect()
}

/// The same request trained in one invocation, on its own store.
async fn uninterrupted(csv: &str) -> Value {
    let state = state_with(api_tests::sqlite_store(), &[]);
    let dataset = upload_csv(&state, csv, "label").await;
    let app = models::router(state);
    let id = submit(&app, &request(&dataset)).await;
    let status = finished(&app, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["invocations"], 1, "{status}");
    status
}

async fn handed_on_matches_the_uninterrupted_run(state: AppState) {
    let csv = separable_csv(400, 21);
    let reference = uninterrupted(&csv).await;
    let dataset = upload_csv(&state, &csv, "label").await;
    let app = models::router(state);
    let id = submit(&app, &request(&dataset)).await;
    let status = finished(&app, &id, Duration::from_secs(180)).await;
    assert_eq!(status["status"], "completed", "{status}");
    let invocations = status["invocations"].as_u64().unwrap();
    assert!(invocations >= 3, "{invocations} invocations");
    assert!(status["checkpoints"].as_u64().unwrap() >= invocations - 1);
    let handed_on = status["secondary_transitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "handed_on")
        .count() as u64;
    assert_eq!(handed_on, invocations - 1, "{status}");
    assert_eq!(timeless(&status), timeless(&reference));
    assert_eq!(status["accuracy"], reference["accuracy"]);
    let billing = &status["billing"];
    assert_eq!(billing["requests"], invocations);
    assert!(
        billing["worker_seconds"].as_f64().unwrap() >= 2.0,
        "{billing}"
    );
    assert!(billing["cost_usd"].as_f64().unwrap() > 0.0, "{billing}");
    // The finished job's checkpoint is deleted; its model predicts.
    let r = post_json(
        &app,
        &format!("/v1/models/{id}/predict"),
        &json!({"rows": [{"x": 0.5, "y": 0.5, "colour": "red"}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_handed_on_ends_with_the_uninterrupted_history_on_sqlite() {
    handed_on_matches_the_uninterrupted_run(short_invocations(api_tests::sqlite_store(), None))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_handed_on_ends_with_the_uninterrupted_history_on_dynamodb_and_s3() {
    let blobs: shared::blobs::SharedBlobs = Arc::new(api_tests::s3_blobs().await);
    let state = short_invocations(api_tests::dynamo_store().await, Some(blobs));
    handed_on_matches_the_uninterrupted_run(state).await;
}

/// Runs one invocation of the job by hand (dispatch is off), as the stream would.
async fn one_invocation(state: &AppState, job_id: &str) -> training_worker::Outcome {
    let deadline = Instant::now() + Duration::from_secs(60);
    training_worker::run_job(state, job_id, deadline)
        .await
        .unwrap()
}

/// A job on `store` with 1 s invocations and no dispatch, run for one invocation by hand:
/// it is handed on with a checkpoint and left queued.
async fn handed_on_once(
    store: SharedStore,
    extra: &[(&str, &str)],
    csv: &str,
) -> (AppState, axum::Router, String) {
    let mut vars = vec![
        ("MLAAS_INVOCATION_BUDGET_SECONDS", "1"),
        ("MLAAS_WORKER_DISPATCH", "off"),
    ];
    vars.extend_from_slice(extra);
    let mut config = api_tests::config(&vars);
    config.worker.test_batch_pause = Some(Duration::from_millis(40));
    let state = AppState::new(config, store);
    let dataset = upload_csv(&state, csv, "label").await;
    let app = models::router(state.clone());
    let id = submit(&app, &request(&dataset)).await;
    let job = job_of(&state, &id).await;
    assert_eq!(
        one_invocation(&state, &job.id).await,
        training_worker::Outcome::HandedOn
    );
    (state, app, id)
}

async fn job_of(state: &AppState, model_id: &str) -> shared::records::JobRecord {
    let model = state.store.get_model(model_id).await.unwrap().unwrap();
    state
        .store
        .get_job(&model.training_job_id)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_worker_resumes_from_its_checkpoint() {
    let csv = separable_csv(400, 21);
    let reference = uninterrupted(&csv).await;
    let store = api_tests::sqlite_store();
    let (state, _, id) = handed_on_once(
        store.clone(),
        &[("MLAAS_HEARTBEAT_TIMEOUT_SECONDS", "10")],
        &csv,
    )
    .await;
    // A second worker claims it and dies: in progress, its last heartbeat long ago.
    let mut claimed = job_of(&state, &id).await;
    assert_eq!(claimed.status, JobStatus::Queued);
    let epochs_done = claimed.checkpoint.as_ref().unwrap().epochs_done;
    let long_ago = shared::clock::now() - chrono::Duration::seconds(600);
    claimed.invocations += 1;
    claimed.transition(JobStatus::InProgress, long_ago, Some("claimed".into()));
    claimed.heartbeat_at = Some(long_ago);
    store.put_job_if(&claimed, JobStatus::Queued).await.unwrap();
    // Looking at it finds the silent worker and resumes the job from its checkpoint.
    let config = api_tests::config(&[("MLAAS_HEARTBEAT_TIMEOUT_SECONDS", "10")]);
    let resumed_state = AppState::with_blobs(config, store, state.blobs.clone());
    let app = models::router(resumed_state);
    let r = get(&app, &format!("/v1/models/{id}/status")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_ne!(r.body["status"], "failed", "{}", r.body);
    assert_eq!(r.body["resumes"], 1, "{}", r.body);
    let status = finished(&app, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["invocations"], 3, "{status}");
    let resuming = status["secondary_transitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["status"] == "resuming")
        .expect("a resuming step");
    assert!(
        resuming["message"]
            .as_str()
            .unwrap()
            .contains("worker lost"),
        "{resuming}"
    );
    assert!(epochs_done < 8);
    assert_eq!(timeless(&status), timeless(&reference));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_job_resumes_where_it_stopped() {
    let csv = separable_csv(400, 21);
    let reference = uninterrupted(&csv).await;
    let mut config = api_tests::config(&[]);
    config.worker.test_batch_pause = Some(Duration::from_millis(40));
    let state = AppState::new(config, api_tests::sqlite_store());
    let dataset = upload_csv(&state, &csv, "label").await;
    let app = models::router(state.clone());
    let id = submit(&app, &request(&dataset)).await;
    // Stop it once it has trained a little.
    let started = Instant::now();
    while job_of(&state, &id).await.history.len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = post_json(&app, &format!("/v1/models/{id}/stop"), &json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let stopped = finished(&app, &id, Duration::from_secs(60)).await;
    assert_eq!(stopped["status"], "stopped", "{stopped}");
    assert!(stopped["checkpoint"].is_object(), "{stopped}");
    let r = post_json(&app, &format!("/v1/models/{id}/resume"), &json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["status"], "queued");
    api_tests::openapi::assert_conforms("POST", "/v1/models/{id}/resume", &r);
    let status = finished(&app, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["invocations"], 2);
    assert_eq!(timeless(&status), timeless(&reference));
    // A completed job, or an unknown model, does not resume.
    let r = post_json(&app, &format!("/v1/models/{id}/resume"), &json!({})).await;
    api_tests::assert_envelope(&r, 409, "CONFLICT");
    let r = post_json(&app, "/v1/models/mdl_nope/resume", &json!({})).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_job_without_a_checkpoint_does_not_resume() {
    let state = state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_WORKER_DISPATCH", "off")],
    );
    let dataset = upload_csv(&state, &separable_csv(100, 3), "label").await;
    let app = models::router(state);
    let id = submit(&app, &request(&dataset)).await;
    // Queued, stopped before any worker claimed it.
    let r = post_json(&app, &format!("/v1/models/{id}/stop"), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = post_json(&app, &format!("/v1/models/{id}/resume"), &json!({})).await;
    let details = api_tests::assert_envelope(&r, 409, "CONFLICT");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("checkpoint"), "{message} {details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_or_missing_checkpoint_fails_the_job_clearly() {
    for (damage, code) in [
        ("corrupt", "checkpoint_invalid"),
        ("delete", "checkpoint_missing"),
    ] {
        let (state, app, id) =
            handed_on_once(api_tests::sqlite_store(), &[], &separable_csv(400, 21)).await;
        let job = job_of(&state, &id).await;
        let key = job_of(&state, &id).await.checkpoint.unwrap().key;
        if damage == "corrupt" {
            std::fs::create_dir_all(&state.config.scratch_dir).unwrap();
            let path = state.config.scratch_dir.join("corrupt-checkpoint");
            std::fs::write(&path, b"not a checkpoint").unwrap();
            state
                .blobs
                .put_file(&key, &path, "application/octet-stream")
                .await
                .unwrap();
        } else {
            state.blobs.delete(&key).await.unwrap();
        }
        one_invocation(&state, &job.id).await;
        let status = get(&app, &format!("/v1/models/{id}/status")).await.body;
        assert_eq!(status["status"], "failed", "{status}");
        let reason = status["failure_reason"].as_str().unwrap();
        assert!(reason.starts_with(code), "{reason}");
    }
}
