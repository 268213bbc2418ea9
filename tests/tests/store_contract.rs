//! One contract, two stores: every case runs on SQLite and on DynamoDB (moto_server).

use chrono::Utc;
use shared::ids;
use shared::records::{
    DatasetColumn, DatasetOrigin, DatasetRecord, JobRecord, JobStatus, ModelRecord, ModelStatus,
    TrainingConfig,
};
use shared::store::{
    CachedResponse, Claim, IdempotencyClaim, ModelQuery, SharedStore, StoreError, StoredResponse,
    UsageDelta,
};

fn records() -> (ModelRecord, JobRecord) {
    let now = Utc::now();
    let config = TrainingConfig {
        epochs: 5,
        batch_size: 16,
        learning_rate: 0.01,
        ai_enhancement: false,
        providers: vec!["openai".into()],
        optimizer: shared::records::OptimizerKind::AdamW,
        validation_split: 0.25,
        seed: 42,
        weight_decay: 1e-4,
        time_budget_seconds: Some(30),
        max_runtime_seconds: Some(7200),
    };
    let (model_id, job_id) = (ids::new_model_id(), ids::new_job_id());
    let model = ModelRecord {
        id: model_id.clone(),
        name: "contract model".into(),
        model_type: shared::records::ModelType::Classification,
        architecture: Some(shared::records::ArchitectureName::Mlp),
        dataset: None,
        target_accuracy: Some(0.9),
        status: ModelStatus::Queued,
        accuracy: None,
        r2: Some(0.25),
        training_job_id: job_id.clone(),
        training_config: config.clone(),
        hidden_layers: Some(vec![16, 8]),
        task: Some(shared::records::Task::Classification),
        gbm: Some(shared::records::GbmOptions {
            trees: Some(50),
            learning_rate: Some(0.05),
            max_depth: Some(3),
            colsample: Some(0.5),
        }),
        feature_columns: Some(vec!["x".into(), "colour".into()]),
        excluded_columns: vec![],
        network: Some(shared::records::NetworkInfo {
            preset: Some("small_cnn".into()),
            architecture: serde_json::json!({"layers": [
                {"type": "conv2d", "filters": 4, "kernel_size": [3, 3], "padding": "same"},
                {"type": "dropout", "rate": 0.25},
                {"type": "output", "activation": null}
            ]}),
            input_shape: vec![8, 8, 1],
            outputs: 10,
            parameters: 2_614,
            macs: 2_304,
        }),
        forecast: Some(shared::records::ForecastSpec {
            target: "y".into(),
            time_column: "t".into(),
            window: 12,
            horizon: 3,
            season: None,
        }),
        text: Some(shared::records::TextSpec {
            column: "review".into(),
            max_length: 64,
            vocab_size: 20_000,
        }),
        artifact: Some(shared::records::ArtifactInfo {
            key: format!("models/{model_id}.safetensors"),
            bytes: 1234,
            parameters: 99,
            features: vec!["x".into(), "colour=red".into()],
            classes: vec!["a".into(), "b".into()],
            dropped_columns: vec![shared::records::DroppedColumn {
                column: "id".into(),
                reason: "identifier".into(),
                detail: "the integers 1..=20, each once: a row number".into(),
            }],
            importance: vec![shared::records::ColumnImportance {
                column: "x".into(),
                mean: 0.25,
                std: 0.01,
            }],
            family: Some("gbm".into()),
            task: Some(shared::records::Task::Classification),
            trees: Some(40),
            gain_importance: vec![shared::records::GainImportance {
                column: "x".into(),
                share: 1.0,
            }],
            onnx: Some(shared::records::OnnxSignature {
                opset: 17,
                inputs: vec![shared::records::OnnxTensor {
                    name: "x".into(),
                    elem_type: "float".into(),
                    shape: vec![None, Some(1)],
                    columns: vec![],
                }],
                outputs: vec![shared::records::OnnxTensor {
                    name: "input".into(),
                    elem_type: "float".into(),
                    shape: vec![None, Some(2)],
                    columns: vec!["x".into(), "colour".into()],
                }],
            }),
            saved_at: now,
        }),
        created_at: now,
        updated_at: now,
    };
    let mut job = JobRecord::queued(job_id, model_id, config, vec![], now, now);
    job.transition(JobStatus::Queued, now, Some("accepted".into()));
    // Everything a worker writes, with whole-number floats (DynamoDB numbers carry no
    // float/integer distinction) and nested JSON.
    job.step("loading_data", now, Some("reading".into()));
    // A job handed on once, with its checkpoint pointer and billable seconds.
    job.invocations = 2;
    job.checkpoints = 3;
    job.resumes = 1;
    job.worker_seconds = 12.5;
    job.checkpoint = Some(shared::records::CheckpointRef {
        key: format!("checkpoints/{}/3.safetensors", job.id),
        bytes: 4096,
        epochs_done: 4,
        epoch: 5,
        batch: 7,
        saved_at: now,
    });
    job.history.push(shared::records::EpochRecord {
        epoch: 1,
        loss: 1.0,
        val_loss: 0.5,
        accuracy: Some(0.0),
        val_accuracy: Some(1.0),
        val_rmse: None,
        val_mae: None,
        val_r2: None,
        trees: Some(10),
        seconds: 2.0,
    });
    job.progress = Some(shared::records::Progress {
        epoch: 1,
        epochs: 5,
        percent: 20.0,
    });
    job.final_metrics =
        Some(serde_json::json!({"validation": {"accuracy": 1.0, "confusion": [[1, 0], [0, 1]]}}));
    job.enhancements =
        Some(serde_json::json!([{"step": "hyperparameter_tuning", "learning_rate": 0.01}]));
    (model, job)
}

/// Timestamps are stored at millisecond precision; compare records as they render.
fn same<T: serde::Serialize>(a: &T, b: &T) -> bool {
    serde_json::to_value(a).unwrap() == serde_json::to_value(b).unwrap()
}

async fn ping_answers(store: SharedStore) {
    store.ping().await.expect("ping");
}

async fn create_then_read_back(store: SharedStore) {
    let (model, job) = records();
    store.create_training(&model, &job).await.unwrap();
    let got = store.get_model(&model.id).await.unwrap().expect("model");
    assert!(same(&got, &model), "{got:?} != {model:?}");
    let got = store.get_job(&job.id).await.unwrap().expect("job");
    assert!(same(&got, &job));
    assert!(store.get_model("model_unknown").await.unwrap().is_none());
    assert!(store.get_job("job_unknown").await.unwrap().is_none());
}

async fn create_is_conditional(store: SharedStore) {
    let (model, job) = records();
    store.create_training(&model, &job).await.unwrap();
    let mut clash = model.clone();
    clash.name = "overwritten".into();
    let err = store.create_training(&clash, &job).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)), "{err:?}");
    let stored = store.get_model(&model.id).await.unwrap().unwrap();
    assert_eq!(
        stored.name, "contract model",
        "a failed create changes nothing"
    );
}

async fn job_updates_are_compare_and_set(store: SharedStore) {
    let (model, mut job) = records();
    store.create_training(&model, &job).await.unwrap();
    job.transition(JobStatus::InProgress, Utc::now(), None);
    store.put_job_if(&job, JobStatus::Queued).await.unwrap();
    let err = store.put_job_if(&job, JobStatus::Queued).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)));
    let stored = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::InProgress);
    assert_eq!(stored.status_transitions.len(), 2);
}

async fn concurrent_claims_have_one_winner(store: SharedStore) {
    let (model, job) = records();
    store.create_training(&model, &job).await.unwrap();
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let (store, mut job) = (store.clone(), job.clone());
        tasks.push(tokio::spawn(async move {
            job.transition(
                JobStatus::InProgress,
                Utc::now(),
                Some(format!("worker {worker}")),
            );
            store.put_job_if(&job, JobStatus::Queued).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => wins += 1,
            Err(StoreError::ConditionFailed(_)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one claim wins");
}

async fn put_model_needs_an_existing_model(store: SharedStore) {
    let (mut model, job) = records();
    let err = store.put_model(&model).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)));
    store.create_training(&model, &job).await.unwrap();
    model.status = ModelStatus::Completed;
    model.accuracy = Some(0.93);
    store.put_model(&model).await.unwrap();
    let stored = store.get_model(&model.id).await.unwrap().unwrap();
    assert_eq!(stored.status, ModelStatus::Completed);
    assert_eq!(stored.accuracy, Some(0.93));
}

/// The job's last transition and the model's record land together or not at all.
async fn finishing_a_job_writes_job_and_model_at_once(store: SharedStore) {
    let (mut model, mut job) = records();
    store.create_training(&model, &job).await.unwrap();
    job.transition(JobStatus::InProgress, Utc::now(), None);
    store.put_job_if(&job, JobStatus::Queued).await.unwrap();
    job.transition(JobStatus::Completed, Utc::now(), None);
    model.status = ModelStatus::Completed;
    model.accuracy = Some(0.97);

    // The wrong expected status: neither record changes.
    let err = store
        .finish_job(&job, JobStatus::Queued, &model)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)), "{err:?}");
    let stored_job = store.get_job(&job.id).await.unwrap().unwrap();
    let stored_model = store.get_model(&model.id).await.unwrap().unwrap();
    assert_eq!(stored_job.status, JobStatus::InProgress);
    assert_ne!(stored_model.status, ModelStatus::Completed);
    assert_eq!(stored_model.accuracy, None);

    // A model that does not exist: the job does not change either.
    let mut stranger = model.clone();
    stranger.id = format!("{}x", model.id);
    let err = store
        .finish_job(&job, JobStatus::InProgress, &stranger)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)), "{err:?}");
    let stored_job = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(stored_job.status, JobStatus::InProgress);

    store
        .finish_job(&job, JobStatus::InProgress, &model)
        .await
        .unwrap();
    let stored_job = store.get_job(&job.id).await.unwrap().unwrap();
    let stored_model = store.get_model(&model.id).await.unwrap().unwrap();
    assert_eq!(stored_job.status, JobStatus::Completed);
    assert_eq!(stored_model.status, ModelStatus::Completed);
    assert_eq!(stored_model.accuracy, Some(0.97));
}

async fn pages_newest_first_without_gaps(store: SharedStore) {
    let mut ids = Vec::new();
    for _ in 0..7 {
        let (model, job) = records();
        ids.push(model.id.clone());
        store.create_training(&model, &job).await.unwrap();
    }
    ids.sort();
    ids.reverse();
    let mut seen = Vec::new();
    let mut query = ModelQuery {
        status: None,
        limit: 3,
        after: None,
    };
    let mut pages = 0;
    loop {
        let page = store.list_models(&query).await.unwrap();
        pages += 1;
        assert!(page.models.len() <= 3);
        seen.extend(page.models.iter().map(|m| m.id.clone()));
        match page.last {
            Some(last) => query.after = Some(last),
            None => break,
        }
        assert!(pages < 10, "paging must end");
    }
    assert_eq!(seen, ids, "every model once, newest first");
    assert_eq!(store.model_counts().await.unwrap().total(), 7);
}

async fn status_filter_and_counts(store: SharedStore) {
    let mut training = Vec::new();
    for i in 0..6 {
        let (mut model, job) = records();
        store.create_training(&model, &job).await.unwrap();
        if i % 2 == 0 {
            model.status = ModelStatus::Training;
            store.put_model(&model).await.unwrap();
            training.push(model.id.clone());
        }
    }
    training.sort();
    training.reverse();
    let query = ModelQuery {
        status: Some(ModelStatus::Training),
        limit: 2,
        after: None,
    };
    let first = store.list_models(&query).await.unwrap();
    assert_eq!(first.models.len(), 2);
    assert!(first
        .models
        .iter()
        .all(|m| m.status == ModelStatus::Training));
    let rest = store
        .list_models(&ModelQuery {
            after: first.last.clone(),
            ..query.clone()
        })
        .await
        .unwrap();
    let got: Vec<String> = first
        .models
        .iter()
        .chain(rest.models.iter())
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(got, training);
    assert_eq!(
        store
            .model_counts()
            .await
            .unwrap()
            .of(ModelStatus::Training),
        3
    );
    assert_eq!(
        store.model_counts().await.unwrap().of(ModelStatus::Queued),
        3
    );
    assert_eq!(store.model_counts().await.unwrap().total(), 6);
    assert_eq!(
        store.model_counts().await.unwrap().of(ModelStatus::Failed),
        0
    );
}

async fn concurrent_writers_all_land(store: SharedStore) {
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let (model, job) = records();
            store.create_training(&model, &job).await.map(|_| model.id)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap());
    }
    for id in &ids {
        assert!(store.get_model(id).await.unwrap().is_some());
    }
    assert_eq!(store.model_counts().await.unwrap().total(), 16);
}

async fn usage_adds_up_under_concurrency(store: SharedStore) {
    let mut tasks = Vec::new();
    for i in 0..8u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let delta = UsageDelta {
                provider: if i % 2 == 0 { "openai" } else { "anthropic" }.into(),
                calls: 1,
                failed_calls: i % 4 / 3,
                input_tokens: 100,
                output_tokens: 10 + i,
                total_tokens: 110 + i,
                cost_usd: 0.25,
            };
            store.add_usage("2026-11-27", &delta).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let rows = store
        .usage(&["2026-11-26".to_string(), "2026-11-27".to_string()])
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let openai = rows.iter().find(|r| r.provider == "openai").unwrap();
    assert_eq!(openai.day, "2026-11-27");
    assert_eq!(openai.calls, 4);
    assert_eq!(openai.input_tokens, 400);
    // i = 0, 2, 4, 6 → 10 + i output tokens each
    assert_eq!(openai.output_tokens, 52);
    assert!((openai.cost_usd - 1.0).abs() < 1e-9);
    let anthropic = rows.iter().find(|r| r.provider == "anthropic").unwrap();
    // i = 3 and 7 have i % 4 == 3 → one failed call each
    assert_eq!(anthropic.failed_calls, 2);
    assert!(store
        .usage(&["2026-01-01".to_string()])
        .await
        .unwrap()
        .is_empty());
}

fn dataset() -> DatasetRecord {
    DatasetRecord {
        id: ids::new_dataset_id(),
        name: Some("fraud".into()),
        origin: DatasetOrigin::Generated,
        rows: 1000,
        columns: vec![DatasetColumn {
            name: "amount".into(),
            kind: "numeric".into(),
            reason: None,
            words: None,
        }],
        target: Some("is_fraudulent".into()),
        schema_source: "builtin".into(),
        seed: Some(7),
        csv_bytes: 12345,
        parquet_bytes: Some(3456),
        jsonl_bytes: 23456,
        quality: Some(serde_json::json!({"balance_ratio": 1.0, "nested": {"scores": [0.5, 0.25]}})),
        created_at: Utc::now(),
        training_shape: Some(shared::records::TrainingShape {
            feature_width: 3,
            class_counts: vec![shared::records::ClassCount {
                class: "0".into(),
                rows: 10,
            }],
            target: Some(shared::records::TargetSummary {
                kind: "integer".into(),
                distinct: 1,
            }),
        }),
        images: None,
    }
}

async fn datasets_create_get_and_page(store: SharedStore) {
    let mut ids = Vec::new();
    for _ in 0..5 {
        let d = dataset();
        store.create_dataset(&d).await.unwrap();
        ids.push(d.id.clone());
        let got = store.get_dataset(&d.id).await.unwrap().expect("stored");
        assert!(same(&got, &d));
    }
    let first = store.get_dataset(&ids[0]).await.unwrap().unwrap();
    let err = store.create_dataset(&first).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)));
    assert!(store.get_dataset("ds_unknown").await.unwrap().is_none());
    ids.reverse();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let page = store.list_datasets(2, after.as_deref()).await.unwrap();
        seen.extend(page.datasets.iter().map(|d| d.id.clone()));
        match page.last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    assert_eq!(seen, ids, "newest first, each once");
}

/// Several instances (each its own connection or client) count one window at once: exactly
/// `limit` requests are admitted, and other windows and keys count apart.
async fn rate_windows_admit_exactly_the_limit(stores: Vec<SharedStore>) {
    let limit = 7u32;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let store = stores[i % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            store
                .hit_window(
                    "POST /v1/ai/enhance#ip_1",
                    1_800_000_000,
                    limit,
                    1_800_000_120,
                )
                .await
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        let hit = t.await.unwrap().unwrap();
        assert!(hit.count <= limit);
        if hit.allowed {
            admitted += 1;
        }
    }
    assert_eq!(admitted, limit, "exactly the limit is admitted");
    let next = stores[0]
        .hit_window(
            "POST /v1/ai/enhance#ip_1",
            1_800_000_060,
            limit,
            1_800_000_180,
        )
        .await
        .unwrap();
    assert!(
        next.allowed && next.count == 1,
        "the next window starts afresh"
    );
    let other = stores[1]
        .hit_window(
            "POST /v1/ai/enhance#ip_2",
            1_800_000_000,
            limit,
            1_800_000_120,
        )
        .await
        .unwrap();
    assert!(
        other.allowed && other.count == 1,
        "another client counts apart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_windows_on_sqlite() {
    rate_windows_admit_exactly_the_limit(api_tests::sqlite_stores(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_windows_on_dynamodb() {
    rate_windows_admit_exactly_the_limit(api_tests::dynamo_stores(3).await).await;
}

fn idem_claim(key: &str, fingerprint: &str, now: i64) -> IdempotencyClaim {
    IdempotencyClaim {
        key: key.into(),
        fingerprint: fingerprint.into(),
        token: ulid::Ulid::new().to_string(),
        now,
        stale_before: now - 60,
        expires_at: now + 86_400,
    }
}

fn answer(body: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// Claim, in flight, mismatch, finish, replay; only the owner finishes.
async fn idempotency_claim_finish_replay(store: SharedStore) {
    let now = 1_800_000_000;
    let first = idem_claim("ip_1#POST /v1/ai/analyze#k1", "fp-a", now);
    assert_eq!(store.claim_idempotency(&first).await.unwrap(), Claim::New);
    let again = idem_claim("ip_1#POST /v1/ai/analyze#k1", "fp-a", now + 1);
    assert_eq!(
        store.claim_idempotency(&again).await.unwrap(),
        Claim::InFlight { started_at: now }
    );
    let other = idem_claim("ip_1#POST /v1/ai/analyze#k1", "fp-b", now + 1);
    assert_eq!(
        store.claim_idempotency(&other).await.unwrap(),
        Claim::Mismatch
    );
    let err = store
        .finish_idempotency(&first.key, &again.token, &answer("{}"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)), "{err:?}");
    let body = r#"{"id":"x","bytes":"é"}"#;
    store
        .finish_idempotency(&first.key, &first.token, &answer(body))
        .await
        .unwrap();
    assert_eq!(
        store.claim_idempotency(&again).await.unwrap(),
        Claim::Done(answer(body))
    );
    assert_eq!(
        store.claim_idempotency(&other).await.unwrap(),
        Claim::Mismatch
    );
    // Releasing a finished record does nothing: it stays for replay.
    store
        .release_idempotency(&first.key, &first.token)
        .await
        .unwrap();
    assert!(matches!(
        store.claim_idempotency(&again).await.unwrap(),
        Claim::Done(_)
    ));
    // Another key is free.
    let fresh = idem_claim("ip_1#POST /v1/ai/analyze#k2", "fp-a", now);
    assert_eq!(store.claim_idempotency(&fresh).await.unwrap(), Claim::New);
}

/// A released key runs again; an abandoned or expired one is claimed afresh, and its old
/// owner can no longer finish it.
async fn idempotency_release_abandon_expire(store: SharedStore) {
    let now = 1_800_000_000;
    let key = "ip_2#POST /v1/datasets#k";
    let first = idem_claim(key, "fp", now);
    assert_eq!(store.claim_idempotency(&first).await.unwrap(), Claim::New);
    store.release_idempotency(key, &first.token).await.unwrap();
    let second = idem_claim(key, "fp-other", now + 1);
    assert_eq!(store.claim_idempotency(&second).await.unwrap(), Claim::New);
    // Not yet abandoned at now + 30 (stale_before = now - 29).
    let early = idem_claim(key, "fp-other", now + 31);
    assert!(matches!(
        store.claim_idempotency(&early).await.unwrap(),
        Claim::InFlight { .. }
    ));
    let late = idem_claim(key, "fp-third", now + 100);
    assert_eq!(store.claim_idempotency(&late).await.unwrap(), Claim::New);
    let err = store
        .finish_idempotency(key, &second.token, &answer("{}"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)));
    // The old owner's release leaves the new claim alone.
    store.release_idempotency(key, &second.token).await.unwrap();
    store
        .finish_idempotency(key, &late.token, &answer("{\"n\":1}"))
        .await
        .unwrap();
    // After expiry (24 h) the key is new again, whatever the body.
    let next_day = idem_claim(key, "fp-fourth", now + 100 + 86_401);
    assert_eq!(
        store.claim_idempotency(&next_day).await.unwrap(),
        Claim::New
    );
}

/// Several instances claim one key at once: exactly one runs it.
async fn idempotency_concurrent_claims_have_one_owner(stores: Vec<SharedStore>) {
    let now = chrono::Utc::now().timestamp();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = stores[i % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            store
                .claim_idempotency(&idem_claim("ip_3#POST /v1/ai/enhance#race", "fp", now))
                .await
        }));
    }
    let mut new = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Claim::New => new += 1,
            Claim::InFlight { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(new, 1, "exactly one claim owns the key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_concurrent_claims_on_sqlite() {
    idempotency_concurrent_claims_have_one_owner(api_tests::sqlite_stores(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_concurrent_claims_on_dynamodb() {
    idempotency_concurrent_claims_have_one_owner(api_tests::dynamo_stores(3).await).await;
}

/// Cached answers: read back until they expire, replaced by a newer one.
async fn cache_put_get_expire(store: SharedStore) {
    let now = 1_800_000_000;
    assert!(store.cache_get("k", now).await.unwrap().is_none());
    let entry = CachedResponse {
        response: answer(r#"{"a":1}"#),
        stored_at: now,
    };
    store.cache_put("k", &entry, now + 300).await.unwrap();
    assert_eq!(store.cache_get("k", now + 299).await.unwrap(), Some(entry));
    assert!(store.cache_get("k", now + 300).await.unwrap().is_none());
    assert!(store.cache_get("other", now).await.unwrap().is_none());
    let newer = CachedResponse {
        response: answer(r#"{"a":2}"#),
        stored_at: now + 10,
    };
    store.cache_put("k", &newer, now + 310).await.unwrap();
    assert_eq!(store.cache_get("k", now + 305).await.unwrap(), Some(newer));
}

fn sweep_record() -> shared::records::sweep::SweepRecord {
    use shared::records::sweep::*;
    let now = Utc::now();
    let trial = |i: u32, lr: f64| {
        let settings = [(
            "training_config.learning_rate".to_string(),
            serde_json::json!(lr),
        )];
        TrialRecord::pending(i, settings.into_iter().collect())
    };
    SweepRecord {
        id: ids::new_id(ids::SWEEP_PREFIX),
        name: "contract sweep".into(),
        dataset: ids::new_dataset_id(),
        objective: Objective {
            metric: "val_loss".into(),
            direction: Direction::Minimize,
        },
        method: SearchMethod::Grid,
        seed: 7,
        max_parallel: 2,
        early_stopping: Some(EarlyStopping {
            min_epochs: 1,
            reduction_factor: 3,
            rungs: vec![1, 3],
        }),
        trials: vec![trial(0, 0.01), trial(1, 0.1)],
        rungs: vec![RungRecord {
            epoch: 1,
            results: vec![RungResult {
                trial: 0,
                value: 0.5,
                continued: true,
            }],
        }],
        status: SweepStatus::Running,
        plan_key: "sweeps/x/plan.json".into(),
        version: 0,
        created_at: now,
        updated_at: now,
        ended_at: None,
    }
}

async fn sweeps_are_created_once_and_replaced_by_version(store: SharedStore) {
    let sweep = sweep_record();
    store.create_sweep(&sweep).await.unwrap();
    let err = store.create_sweep(&sweep).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)), "{err:?}");
    let got = store.get_sweep(&sweep.id).await.unwrap().expect("sweep");
    assert!(same(&got, &sweep), "{got:?} != {sweep:?}");
    assert!(store.get_sweep("sweep_unknown").await.unwrap().is_none());
    // Two writers from version 0: one wins, the other must read again.
    let mut a = sweep.clone();
    a.version = 1;
    a.trials[0].status = shared::records::sweep::TrialStatus::Running;
    let mut b = sweep.clone();
    b.version = 1;
    b.trials[1].status = shared::records::sweep::TrialStatus::Running;
    let (ra, rb) = tokio::join!(store.put_sweep_if(&a, 0), store.put_sweep_if(&b, 0));
    assert!(ra.is_ok() != rb.is_ok(), "{ra:?} {rb:?}");
    let got = store.get_sweep(&sweep.id).await.unwrap().unwrap();
    assert_eq!(got.version, 1);
    assert!(same(&got, if ra.is_ok() { &a } else { &b }));
    let err = store.put_sweep_if(&a, 0).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)), "{err:?}");
}

async fn sweeps_page_newest_first(store: SharedStore) {
    let mut made = Vec::new();
    for _ in 0..5 {
        let sweep = sweep_record();
        store.create_sweep(&sweep).await.unwrap();
        made.push(sweep.id);
    }
    made.reverse();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_sweeps(2, after.as_deref()).await.unwrap();
        assert!(page.sweeps.len() <= 2);
        seen.extend(page.sweeps.iter().map(|s| s.id.clone()));
        match page.last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    // Other tests on the same store may add sweeps; ours come in order, without gaps.
    let ours: Vec<&String> = seen.iter().filter(|id| made.contains(id)).collect();
    assert_eq!(ours, made.iter().collect::<Vec<_>>());
}

api_tests::on_both_stores!(
    ping_answers,
    create_then_read_back,
    create_is_conditional,
    job_updates_are_compare_and_set,
    concurrent_claims_have_one_winner,
    put_model_needs_an_existing_model,
    finishing_a_job_writes_job_and_model_at_once,
    pages_newest_first_without_gaps,
    status_filter_and_counts,
    concurrent_writers_all_land,
    usage_adds_up_under_concurrency,
    datasets_create_get_and_page,
    idempotency_claim_finish_replay,
    idempotency_release_abandon_expire,
    cache_put_get_expire,
    sweeps_are_created_once_and_replaced_by_version,
    sweeps_page_newest_first,
);

#[tokio::test]
async fn s3_blobs_round_trip_and_presign() {
    use shared::blobs::BlobStore;
    let blobs = api_tests::s3_blobs().await;
    let src = api_tests::temp_path("blob");
    std::fs::write(&src, b"amount,is_fraudulent\n12.5,0\n").unwrap();
    blobs
        .put_file("datasets/ds_x.csv", &src, "text/csv")
        .await
        .unwrap();
    let body = blobs
        .get("datasets/ds_x.csv")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(body, b"amount,is_fraudulent\n12.5,0\n");
    assert!(blobs
        .get("datasets/ds_missing.csv")
        .await
        .unwrap()
        .is_none());
    let url = blobs
        .presigned_get("datasets/ds_x.csv", std::time::Duration::from_secs(300))
        .await
        .unwrap()
        .expect("S3 presigns");
    assert!(
        url.contains("X-Amz-Signature") && url.contains("ds_x.csv"),
        "{url}"
    );
    assert!(blobs.get("../escape").await.is_err());
}
