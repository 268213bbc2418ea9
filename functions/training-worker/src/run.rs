//! One job from claim to its final status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use shared::clock;
use shared::records::{
    secondary, ArchitectureName, ArtifactInfo, DatasetRecord, GbmOptions, JobRecord, JobStatus,
    ModelRecord, ModelStatus, OnnxSignature, OnnxTensor, Task,
};
use shared::state::AppState;
use shared::store::StoreError;
use synth::Table;
use training::{self, Architecture, Encoder, StopReason, Style, TrainParams, Trained};

use super::enhance;
use super::progress::{Budget, Checkpointing, Interrupt, JobObserver, Tracker};
use super::{Outcome, WorkerError, SAVE_MARGIN};

/// Why a claimed job ended without a model: the first word is a stable reason code.
pub(crate) struct Failure(String);

impl Failure {
    pub(crate) fn new(code: &str, detail: impl std::fmt::Display) -> Failure {
        Failure(format!("{code}: {detail}"))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the training part ended.
/// Permutation importance: repeats per column (scikit-learn's default) and the validation
/// rows it is measured on at most.
const IMPORTANCE_REPEATS: usize = 5;
const IMPORTANCE_ROWS: usize = 5_000;

pub(crate) enum Ending {
    /// The model, the enhancement report, the permutation importance when it could be
    /// measured, and the `auto` search's report.
    Trained(
        Box<Trained>,
        Option<serde_json::Value>,
        Option<training::ImportanceReport>,
        Option<Box<training::automl::AutoReport>>,
    ),
    /// A layer-list network, and a forecaster's errors beside the naive forecasts'.
    Network(
        Box<training::deep::DeepTrained>,
        Option<Box<training::deep::series::ForecastReport>>,
    ),
    Failed(Failure),
    /// A resumable run paused at the invocation's end; its checkpoint is written (or failed:
    /// then the previous one, if any, is handed on).
    HandOn,
    /// The job left `in_progress` under us (stopped before training began, or declared lost).
    Interrupted(Interrupt),
}

/// Claims `job_id` if it is still queued and runs it to a final status. Store failures
/// before or during the claim are returned (the record is worth a retry); anything after the
/// claim ends in the job's own status.
pub async fn run_job(
    state: &AppState,
    job_id: &str,
    lambda_deadline: Instant,
) -> Result<Outcome, WorkerError> {
    let Some(mut job) = state.store.get_job(job_id).await? else {
        tracing::warn!(job_id, "no such job");
        return Ok(Outcome::UnknownJob);
    };
    if job.status != JobStatus::Queued {
        return Ok(Outcome::AlreadyHandled(format!(
            "job is {}",
            job.status.as_str()
        )));
    }
    let now = clock::now();
    job.invocations += 1;
    job.transition(
        JobStatus::InProgress,
        now,
        Some(format!(
            "claimed by the training worker (invocation {})",
            job.invocations
        )),
    );
    job.step(secondary::STARTING, now, None);
    match state.store.put_job_if(&job, JobStatus::Queued).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed(_)) => {
            return Ok(Outcome::AlreadyHandled(
                "claimed or stopped elsewhere".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let started = Instant::now();
    let limits = state.config.worker;
    // Keep back time to save and write the end: SAVE_MARGIN, or a tenth of what is left
    // under a short invocation timeout.
    let left = lambda_deadline.saturating_duration_since(started);
    let margin = SAVE_MARGIN.min(left / 10);
    let job_left = (job.training_config.max_runtime_seconds() as f64 - job.worker_seconds).max(0.0);
    let budget = Budget {
        invocation_end: (started + limits.max_runtime).min(started + left - margin),
        job_end: started + Duration::from_secs_f64(job_left),
    };
    tracing::info!(
        job_id,
        invocation = job.invocations,
        invocation_seconds = budget
            .invocation_end
            .saturating_duration_since(started)
            .as_secs_f64(),
        job_seconds_left = job_left,
        "job claimed"
    );
    set_model_status(
        state,
        &job.model_id,
        ModelStatus::Training,
        Headline::default(),
        None,
    )
    .await;

    let tracker = Arc::new(Tracker::new(
        state.store.clone(),
        job,
        limits.heartbeat_interval,
    ));
    let heartbeat = tracker.spawn_heartbeat();
    let ending = train_claimed(state, tracker.clone(), budget).await;
    heartbeat.abort();
    let outcome = finish(state, &tracker, ending).await;
    if let Ok(Outcome::Finished(_)) = outcome {
        super::sweeps::trial_ended(state, &tracker.snapshot()).await;
    }
    outcome
}

/// Loads the data, runs the scheduled enhancements and trains.
async fn train_claimed(state: &AppState, tracker: Arc<Tracker>, budget: Budget) -> Ending {
    let job = tracker.snapshot();
    let deadline = budget.single();
    let from = match super::checkpoints::load(state, &job).await {
        Ok(from) => from,
        Err(f) => return Ending::Failed(f),
    };
    if let Some(cp) = &from {
        super::checkpoints::resuming_step(&tracker, cp);
    }
    if let Err(i) = tracker
        .step(secondary::LOADING_DATA, Some("reading the dataset".into()))
        .await
    {
        return Ending::Interrupted(i);
    }
    let model = match state.store.get_model(&job.model_id).await {
        Ok(Some(m)) => m,
        Ok(None) => return Ending::Failed(Failure::new("model_missing", &job.model_id)),
        Err(e) => return Ending::Failed(Failure::new("store_error", e)),
    };
    if let Some(info) = model.network.clone() {
        return super::network::train(state, tracker, model, info, budget, from).await;
    }
    let (dataset, csv) = match load_dataset(state, &model).await {
        Ok(found) => found,
        Err(f) => return Ending::Failed(f),
    };
    let spec = match spec_of(&model, state.config.worker.max_runtime) {
        Ok(p) => p,
        Err(f) => return Ending::Failed(f),
    };
    let steps = job.ai_enhancements_scheduled.clone();
    let validation_split = model.training_config.validation_split;
    let seed = model.training_config.seed;
    let pause = state.config.worker.test_batch_pause;
    let worker_state = state.clone();
    let selection = training::Selection {
        only: model.feature_columns.clone(),
        exclude: model.excluded_columns.clone(),
    };
    let task = match model.task {
        Some(Task::Regression) => training::Task::Regression,
        _ => training::Task::Classification,
    };

    let t = tracker.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Ending, Failure> {
        let table = Table::from_csv(&csv).map_err(|e| Failure::new("invalid_data", e))?;
        // Memory: the text, the parsed table and its split are each larger than the
        // matrices; keep only what the next step needs.
        drop(csv);
        let target = dataset
            .target
            .clone()
            .ok_or_else(|| Failure::new("invalid_data", "the dataset has no target column"))?;
        let (train_table, val_table) =
            training::split_owned(table, &target, task, validation_split, seed)
                .map_err(|e| Failure::new("invalid_data", e))?;
        let invalid = |e: training::TabularError| Failure::new("invalid_data", e);
        let fit_encoder = |style| {
            let options = training::FitOptions {
                selection: selection.clone(),
                task,
                style,
            };
            let encoder = Encoder::fit_with(&train_table, &dataset.columns, &target, &options)
                .map_err(invalid)?;
            let train_m = encoder.encode(&train_table).map_err(invalid)?;
            let val_m = encoder.encode(&val_table).map_err(invalid)?;
            Ok::<_, Failure>((train_m, val_m, encoder))
        };
        let (network, trees) = match &spec {
            Spec::Network(_) | Spec::Linear { .. } => (Some(fit_encoder(Style::Network)?), None),
            Spec::Gbm(_) => (None, Some(fit_encoder(Style::Trees)?)),
            Spec::Auto(_) => (
                Some(fit_encoder(Style::Network)?),
                Some(fit_encoder(Style::Trees)?),
            ),
        };
        drop(val_table);
        let (train_m, val_m, encoder) = network
            .as_ref()
            .or(trees.as_ref())
            .expect("one encoding at least");
        t.update(|j| {
            j.step(
                secondary::LOADING_DATA,
                clock::now(),
                Some(format!(
                    "{} training and {} validation rows, {} features after encoding, {}{}",
                    train_m.rows,
                    val_m.rows,
                    encoder.width(),
                    match task {
                        training::Task::Classification =>
                            format!("{} classes", encoder.classes().len()),
                        training::Task::Regression => "a numeric target".to_string(),
                    },
                    if encoder.dropped.is_empty() {
                        String::new()
                    } else {
                        let left: Vec<String> = encoder
                            .dropped
                            .iter()
                            .map(|d| format!("{} ({})", d.column, d.reason))
                            .collect();
                        format!("; left out: {}", left.join(", "))
                    }
                )),
            )
        });

        // The enhancement steps act on a network classifier; other jobs say they skipped.
        let enhanceable =
            matches!(spec, Spec::Network(_)) && task == training::Task::Classification;
        let (spec, network, report) = match (spec, network) {
            (spec, network) if steps.is_empty() => (spec, network, None),
            (Spec::Network(params), Some((train_m, val_m, encoder))) if enhanceable => {
                if let Err(i) = t.runtime_step(
                    secondary::ENHANCING,
                    "running the scheduled AI enhancements",
                ) {
                    return Ok(Ending::Interrupted(i));
                }
                let mut observer = JobObserver::new(&t, deadline, false).with_pause(pause);
                let enhanced = enhance::run(
                    &enhance::Inputs {
                        steps: &steps,
                        train_table: &train_table,
                        train: &train_m,
                        val: &val_m,
                        encoder: &encoder,
                        columns: &dataset.columns,
                        target: &target,
                        seed,
                    },
                    params,
                    // A third of the time left at most: training itself needs the rest.
                    deadline.saturating_duration_since(Instant::now()) / 3,
                    &mut observer,
                );
                if let Some(i) = observer.interrupted.take() {
                    return Ok(Ending::Interrupted(i));
                }
                let enhanced = enhanced.map_err(|e| Failure::new("enhancement_error", e))?;
                (
                    Spec::Network(enhanced.params),
                    Some((enhanced.train, val_m, encoder)),
                    Some(enhanced.report),
                )
            }
            (spec, network) => {
                let why = format!(
                    "the enhancement steps tune a network classifier; this job trains {} for {}",
                    spec.name(),
                    task.as_str()
                );
                let report = serde_json::Value::Array(
                    steps
                        .iter()
                        .map(|s| json!({"step": s, "status": "skipped", "reason": why}))
                        .collect(),
                );
                (spec, network, Some(report))
            }
        };
        drop(train_table);
        if let Err(i) = t.runtime_step(secondary::TRAINING, "training") {
            return Ok(Ending::Interrupted(i));
        }
        let mut observer = JobObserver::new(&t, deadline, true).with_pause(pause);
        let failed = |e| Failure::new("training_error", e);
        let (trained, leaderboard, importance_on) = match &spec {
            // Without enhancement steps (whose tuning is not checkpointed), a network resumes.
            Spec::Network(params) if report.is_none() => {
                let (tm, vm, enc) = network.as_ref().expect("network encoding");
                let label = super::checkpoints::label(&json!({
                    "params": params, "encoder": enc,
                    "train": [tm.rows, tm.width], "val": [vm.rows, vm.width],
                }));
                if let Some(cp) = &from {
                    super::checkpoints::check_label(cp, &label)?;
                }
                let mut observer = JobObserver::new(&t, budget.job_end, true)
                    .with_pause(pause)
                    .resumable(Checkpointing::new(&worker_state, budget));
                let resume = training::Resume {
                    label: &label,
                    from: from.as_ref(),
                };
                let run = training::train_from(tm, vm, enc, params, &mut observer, &resume)
                    .map_err(failed)?;
                let training::Run::Done(trained) = run else {
                    return Ok(hand_on_ending(&mut observer));
                };
                return Ok(trained_ending(
                    &mut observer,
                    *trained,
                    report,
                    None,
                    vm,
                    seed,
                ));
            }
            Spec::Network(params) => {
                let (tm, vm, enc) = network.as_ref().expect("network encoding");
                let trained =
                    training::train(tm, vm, enc, params, &mut observer).map_err(failed)?;
                (trained, None, vm)
            }
            Spec::Linear { lambda } => {
                let (tm, vm, enc) = network.as_ref().expect("network encoding");
                let trained =
                    training::linear::fit(tm, vm, enc, *lambda, &mut observer).map_err(failed)?;
                (trained, None, vm)
            }
            Spec::Gbm(params) => {
                let (tm, vm, enc) = trees.as_ref().expect("tree encoding");
                let trained =
                    training::gbm::fit(tm, vm, enc, params, &mut observer).map_err(failed)?;
                (trained, None, vm)
            }
            Spec::Auto(params) => {
                let n = network.as_ref().expect("network encoding");
                let tr = trees.as_ref().expect("tree encoding");
                let data = training::automl::Encoded {
                    network: (&n.0, &n.1, &n.2),
                    trees: (&tr.0, &tr.1, &tr.2),
                };
                let (trained, report) =
                    training::automl::search(&data, params, &mut observer).map_err(failed)?;
                let on = if trained.model.encoder().style() == Style::Trees {
                    &tr.1
                } else {
                    &n.1
                };
                (trained, Some(report), on)
            }
        };
        Ok(trained_ending(
            &mut observer,
            trained,
            report,
            leaderboard,
            importance_on,
            seed,
        ))
    });
    joined(work.await)
}

/// A paused run's ending, or the interrupt that ended it meanwhile.
pub(crate) fn hand_on_ending(observer: &mut JobObserver) -> Ending {
    match observer.interrupted.take() {
        Some(i @ (Interrupt::Lost(_) | Interrupt::Store(_))) => Ending::Interrupted(i),
        _ => Ending::HandOn,
    }
}

/// A stop request ends the run as `stopped` with the weights it has; losing the job or the
/// store is not a stop request and must not be reported as one.
fn trained_ending(
    observer: &mut JobObserver,
    trained: Trained,
    report: Option<serde_json::Value>,
    leaderboard: Option<training::automl::AutoReport>,
    importance_on: &training::Matrix,
    seed: u64,
) -> Ending {
    match observer.interrupted.take() {
        Some(i @ (Interrupt::Lost(_) | Interrupt::Store(_))) => Ending::Interrupted(i),
        _ => {
            // Bounded: columns × IMPORTANCE_REPEATS predictions over at most
            // IMPORTANCE_ROWS validation rows. A failure here loses the report, not the model.
            let importance = training::permutation_importance(
                &trained.model,
                importance_on,
                IMPORTANCE_REPEATS,
                seed,
                IMPORTANCE_ROWS,
            )
            .map_err(|e| tracing::warn!(error = %e, "permutation importance not measured"))
            .ok();
            Ending::Trained(
                Box::new(trained),
                report,
                importance,
                leaderboard.map(Box::new),
            )
        }
    }
}

pub(crate) async fn load_dataset(
    state: &AppState,
    model: &ModelRecord,
) -> Result<(DatasetRecord, String), Failure> {
    let (dataset, bytes) = load_body(state, model, DatasetRecord::csv_key).await?;
    let csv = String::from_utf8(bytes).map_err(|e| Failure::new("invalid_data", e))?;
    Ok((dataset, csv))
}

/// The model's dataset record and the body stored at `key` (its CSV, or its images).
pub(crate) async fn load_body(
    state: &AppState,
    model: &ModelRecord,
    key: fn(&DatasetRecord) -> String,
) -> Result<(DatasetRecord, Vec<u8>), Failure> {
    let id = model
        .dataset
        .as_deref()
        .ok_or_else(|| Failure::new("dataset_missing", "the model names no dataset"))?;
    let dataset = state
        .store
        .get_dataset(id)
        .await
        .map_err(|e| Failure::new("store_error", e))?
        .ok_or_else(|| Failure::new("dataset_missing", format!("dataset {id} does not exist")))?;
    let bytes = state
        .blobs
        .get(&key(&dataset))
        .await
        .map_err(|e| Failure::new("blob_error", e))?
        .ok_or_else(|| Failure::new("dataset_missing", format!("the body of {id} is missing")))?;
    Ok((dataset, bytes))
}

/// What a job trains, from its stored request.
enum Spec {
    Network(TrainParams),
    /// Least squares / ridge (regression with `linear`).
    Linear {
        lambda: f64,
    },
    Gbm(training::GbmParams),
    Auto(training::automl::AutoParams),
}

impl Spec {
    fn name(&self) -> &'static str {
        match self {
            Spec::Network(p) => p.architecture.name(),
            Spec::Linear { .. } => "linear",
            Spec::Gbm(_) => "gbm",
            Spec::Auto(_) => "auto",
        }
    }
}

/// `model_config.gbm` with its defaults filled in.
pub fn gbm_params(options: Option<&GbmOptions>, seed: u64) -> training::GbmParams {
    let d = training::GbmParams::default();
    let o = options.cloned().unwrap_or_default();
    training::GbmParams {
        trees: o.trees.unwrap_or(d.trees),
        learning_rate: o.learning_rate.unwrap_or(d.learning_rate),
        max_depth: o.max_depth.unwrap_or(d.max_depth),
        colsample: o.colsample.unwrap_or(d.colsample),
        seed,
    }
}

/// The engine's parameters from the stored request.
fn spec_of(model: &ModelRecord, max_runtime: Duration) -> Result<Spec, Failure> {
    let cfg = &model.training_config;
    let name = model.architecture.unwrap_or(ArchitectureName::Mlp);
    let regression = model.task == Some(Task::Regression);
    match name {
        ArchitectureName::Linear if regression => {
            return Ok(Spec::Linear {
                lambda: cfg.weight_decay,
            })
        }
        ArchitectureName::Gbm => {
            return Ok(Spec::Gbm(gbm_params(model.gbm.as_ref(), cfg.seed)));
        }
        ArchitectureName::Auto => {
            let seconds = cfg
                .time_budget_seconds
                .unwrap_or(training::automl::DEFAULT_TIME_BUDGET_SECONDS);
            return Ok(Spec::Auto(training::automl::AutoParams {
                time_budget: Duration::from_secs(seconds).min(max_runtime),
                seed: cfg.seed,
            }));
        }
        _ => {}
    }
    // The record keeps the parsed name; only the hidden layers can still be out of range
    // (a record written by hand).
    let architecture = Architecture::from_record(name, model.hidden_layers.clone())
        .map_err(|e| Failure::new("invalid_request", e))?;
    Ok(Spec::Network(TrainParams {
        architecture,
        optimizer: cfg.optimizer,
        epochs: cfg.epochs,
        batch_size: cfg.batch_size,
        learning_rate: cfg.learning_rate,
        weight_decay: cfg.weight_decay,
        target_accuracy: model.target_accuracy,
        seed: cfg.seed,
    }))
}

/// Writes the final status of the job and the model.
async fn finish(
    state: &AppState,
    tracker: &Tracker,
    ending: Ending,
) -> Result<Outcome, WorkerError> {
    let job = tracker.snapshot();
    match ending {
        Ending::HandOn => hand_on(state, tracker).await,
        Ending::Interrupted(Interrupt::Lost(why)) => {
            tracing::warn!(job_id = %job.id, why, "job taken from this worker; not writing");
            Ok(Outcome::AlreadyHandled(why))
        }
        Ending::Interrupted(Interrupt::StopRequested) => {
            end(state, tracker, JobStatus::Stopped, None, None, None).await
        }
        Ending::Interrupted(Interrupt::Store(e)) => {
            end(
                state,
                tracker,
                JobStatus::Failed,
                Some(Failure::new("store_error", e)),
                None,
                None,
            )
            .await
        }
        Ending::Failed(failure) => {
            end(state, tracker, JobStatus::Failed, Some(failure), None, None).await
        }
        Ending::Network(trained, forecast) => {
            let status = match ending_status(trained.stopped, trained.history.len(), &job) {
                Ok(status) => status,
                Err(failure) => {
                    return end(state, tracker, JobStatus::Failed, Some(failure), None, None).await
                }
            };
            let _ = tracker
                .step(secondary::SAVING, Some("saving the weights".into()))
                .await;
            let artifact = match save_network(state, &job.model_id, &trained).await {
                Ok(a) => a,
                Err(f) => return end(state, tracker, JobStatus::Failed, Some(f), None, None).await,
            };
            let regression = trained.model.manifest.task == training::Task::Regression;
            let mut metrics = json!({
                "task": if regression { "regression" } else { "classification" },
                "family": "network",
                "validation": trained.validation,
                "training": trained.training,
                "epochs_run": trained.history.len(),
                "reached_target_accuracy": trained.reached_target,
                "stopped": trained.stopped,
                "parameters": trained.model.parameter_count(),
                "macs_per_sample": trained.model.plan.macs,
            });
            if let Some(report) = forecast {
                metrics["forecast"] = json!(report);
            }
            let headline = Headline::of(&trained.validation);
            end(
                state,
                tracker,
                status,
                None,
                Some(metrics),
                Some((headline, artifact)),
            )
            .await
        }
        Ending::Trained(trained, report, importance, leaderboard) => {
            tracker.update(|j| j.enhancements = report);
            let status = match ending_status(trained.stopped, trained.history.len(), &job) {
                Ok(status) => status,
                Err(failure) => {
                    return end(state, tracker, JobStatus::Failed, Some(failure), None, None).await
                }
            };
            // A stop request while saving still ends `stopped`; the weights are kept either
            // way, so a stopped model can predict with what it learned.
            let _ = tracker
                .step(secondary::SAVING, Some("saving the weights".into()))
                .await;
            let artifact = match save_artifact(state, &job.model_id, &trained, importance.as_ref())
                .await
            {
                Ok(a) => a,
                Err(f) => return end(state, tracker, JobStatus::Failed, Some(f), None, None).await,
            };
            let mut metrics = json!({
                "task": trained.model.encoder().task.as_str(),
                "family": trained.model.family(),
                "validation": trained.validation,
                "training": trained.training,
                "dropped_columns": trained.model.encoder().dropped,
                "permutation_importance": importance,
                "epochs_run": trained.history.len(),
                "reached_target_accuracy": trained.reached_target,
                "stopped": trained.stopped,
            });
            if let training::Model::Gbm(g) = &trained.model {
                metrics["gain_importance"] = json!(g.gain_importance());
                metrics["trees"] = json!(g.trees());
            }
            if let Some(board) = leaderboard {
                metrics["auto"] = json!(board);
            }
            let headline = Headline::of(&trained.validation);
            end(
                state,
                tracker,
                status,
                None,
                Some(metrics),
                Some((headline, artifact)),
            )
            .await
        }
    }
}

impl Headline {
    /// The validation accuracy, or R² of a regression.
    fn of(validation: &training::Scored) -> Headline {
        Headline {
            accuracy: validation.accuracy(),
            r2: match validation.headline() {
                ("r2", r2) => Some(r2),
                _ => None,
            },
        }
    }
}

/// A blocking training task's result as the job's ending (a panic is an internal error).
pub(crate) fn joined(result: Result<Result<Ending, Failure>, tokio::task::JoinError>) -> Ending {
    match result {
        Ok(Ok(ending)) => ending,
        Ok(Err(failure)) => Ending::Failed(failure),
        Err(join) => {
            tracing::error!(error = %join, "training task panicked");
            Ending::Failed(Failure::new("internal_error", "the training task panicked"))
        }
    }
}

/// How a run that ended ends the job: completed, stopped, or failed when the time budget
/// stopped it.
fn ending_status(
    stopped: Option<StopReason>,
    epochs_run: usize,
    job: &JobRecord,
) -> Result<JobStatus, Failure> {
    match stopped {
        Some(StopReason::Deadline) => Err(Failure::new(
            "max_runtime_exceeded",
            format!(
                "stopped after {epochs_run} of {} epochs when its time ran out (in invocation {}: \
                 this family trains within one invocation of at most MLAAS_INVOCATION_BUDGET_SECONDS, \
                 a network hands on up to training_config.max_runtime_seconds = {} s)",
                job.training_config.epochs,
                job.invocations,
                job.training_config.max_runtime_seconds()
            ),
        )),
        Some(_) => Ok(JobStatus::Stopped),
        None => Ok(JobStatus::Completed),
    }
}

/// Writes a network's file to the blob store.
async fn save_network(
    state: &AppState,
    model_id: &str,
    trained: &training::deep::DeepTrained,
) -> Result<ArtifactInfo, Failure> {
    let model = &trained.model;
    let bytes = model
        .to_bytes()
        .map_err(|e| Failure::new("artifact_error", e))?;
    let key = put_artifact(
        state,
        &format!("{model_id}.safetensors"),
        &bytes,
        "application/octet-stream",
    )
    .await?;
    Ok(ArtifactInfo {
        key,
        bytes: bytes.len() as u64,
        parameters: model.parameter_count() as u64,
        features: Vec::new(),
        classes: model.manifest.classes.clone(),
        dropped_columns: Vec::new(),
        importance: Vec::new(),
        family: Some("network".into()),
        task: Some(match model.manifest.task {
            training::Task::Regression => Task::Regression,
            training::Task::Classification => Task::Classification,
        }),
        trees: None,
        gain_importance: Vec::new(),
        onnx: None,
        saved_at: clock::now(),
    })
}

/// Writes `bytes` as `models/<file>`.
async fn put_artifact(
    state: &AppState,
    file: &str,
    bytes: &[u8],
    content_type: &str,
) -> Result<String, Failure> {
    let key = format!("models/{file}");
    put_blob(state, &key, bytes, content_type).await?;
    Ok(key)
}

/// Writes `bytes` at `key` through a scratch file (the S3 upload streams a file).
pub(crate) async fn put_blob(
    state: &AppState,
    key: &str,
    bytes: &[u8],
    content_type: &str,
) -> Result<(), Failure> {
    let dir = state.config.scratch_dir.clone();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| Failure::new("artifact_error", e))?;
    let path = dir.join(format!("{}.part", key.replace('/', "_")));
    tokio::fs::write(&path, bytes)
        .await
        .map_err(|e| Failure::new("artifact_error", e))?;
    let put = state.blobs.put_file(key, &path, content_type).await;
    let _ = tokio::fs::remove_file(&path).await;
    put.map_err(|e| Failure::new("artifact_error", e))
}

/// Hands a paused job on: back to `queued` with its checkpoint, for the next invocation.
async fn hand_on(state: &AppState, tracker: &Tracker) -> Result<Outcome, WorkerError> {
    let job = tracker.snapshot();
    let Some(pointer) = job.checkpoint.clone() else {
        let f = Failure::new(
            "checkpoint_error",
            "the invocation's time ran out and its checkpoint could not be written",
        );
        return end(state, tracker, JobStatus::Failed, Some(f), None, None).await;
    };
    let mut next = super::checkpoints::requeued(
        &job,
        super::checkpoints::HANDED_ON,
        super::checkpoints::hand_on_message(&job, &pointer),
    );
    next.worker_seconds += tracker.elapsed_seconds();
    match state.store.put_job_if(&next, JobStatus::InProgress).await {
        Ok(()) => {
            tracing::info!(job_id = %job.id, invocation = job.invocations, epoch = pointer.epoch, "job handed on");
            super::dispatch::dispatch(state, &next);
            Ok(Outcome::HandedOn)
        }
        Err(StoreError::ConditionFailed(_)) => match state.store.get_job(&job.id).await? {
            // Stopped meanwhile: it ends `stopped`, keeping the checkpoint to resume from.
            Some(c) if c.status == JobStatus::Stopping => {
                end(state, tracker, JobStatus::Stopped, None, None, None).await
            }
            other => Ok(Outcome::AlreadyHandled(format!(
                "job is {}",
                other.map_or("missing", |c| c.status.as_str())
            ))),
        },
        Err(e) => Err(e.into()),
    }
}

async fn save_artifact(
    state: &AppState,
    model_id: &str,
    trained: &Trained,
    importance: Option<&training::ImportanceReport>,
) -> Result<ArtifactInfo, Failure> {
    let model = &trained.model;
    let bytes = model
        .to_bytes()
        .map_err(|e| Failure::new("artifact_error", e))?;
    let file = format!("{model_id}.{}", model.extension());
    let content_type = match model {
        training::Model::Network(_) => "application/octet-stream",
        _ => "application/json",
    };
    let key = put_artifact(state, &file, &bytes, content_type).await?;
    let encoder = model.encoder();
    Ok(ArtifactInfo {
        key,
        bytes: bytes.len() as u64,
        parameters: model.parameter_count() as u64,
        features: encoder.feature_names(),
        classes: encoder.classes.clone(),
        dropped_columns: encoder.dropped.clone(),
        importance: importance.map(|r| r.columns.clone()).unwrap_or_default(),
        family: Some(model.family().to_string()),
        task: Some(match encoder.task {
            training::Task::Classification => Task::Classification,
            training::Task::Regression => Task::Regression,
        }),
        trees: model.trees().map(|t| t as u64),
        gain_importance: match model {
            training::Model::Gbm(g) => g.gain_importance(),
            _ => Vec::new(),
        },
        onnx: Some(onnx_signature(encoder)),
        saved_at: clock::now(),
    })
}

/// The export's inputs and outputs, as the model record lists them.
pub fn onnx_signature(encoder: &training::Encoder) -> OnnxSignature {
    let sig = training::onnx::signature(encoder);
    let tensor = |p: training::onnx::Port| OnnxTensor {
        name: p.name,
        elem_type: p.elem_type.as_str().to_string(),
        shape: std::iter::once(None)
            .chain(p.width.map(|w| Some(w as u64)))
            .collect(),
        columns: p.columns,
    };
    OnnxSignature {
        opset: training::onnx::OPSET as u32,
        inputs: sig.inputs.into_iter().map(tensor).collect(),
        outputs: sig.outputs.into_iter().map(tensor).collect(),
    }
}

/// The final write: compare-and-set from `in_progress`, or from `stopping` when a stop
/// request came in meanwhile (which turns a completion into `stopped`).
async fn end(
    state: &AppState,
    tracker: &Tracker,
    mut status: JobStatus,
    failure: Option<Failure>,
    metrics: Option<serde_json::Value>,
    model_result: Option<(Headline, ArtifactInfo)>,
) -> Result<Outcome, WorkerError> {
    let mut job = tracker.snapshot();
    let now = clock::now();
    let worked = tracker.elapsed_seconds();
    let finalize = |job: &mut JobRecord, status: JobStatus| {
        job.worker_seconds += worked;
        job.failure_reason = failure.as_ref().map(|f| f.0.clone());
        job.final_metrics = metrics.clone();
        job.transition(status, now, job.failure_reason.clone());
        job.step(status.as_str(), now, None);
    };
    let (headline, artifact) = match model_result {
        Some((h, art)) => (h, Some(art)),
        None => (Headline::default(), None),
    };
    // The model record as it reads once the job has ended, written in the same transaction.
    // Without it (unreadable just now, or gone) the job is written alone and the model
    // updated after it, best effort, as the job record is the source of truth.
    let model = match state.store.get_model(&job.model_id).await {
        Ok(model) => model,
        Err(e) => {
            tracing::error!(model_id = %job.model_id, error = %e, "could not read the model record");
            None
        }
    };
    let ended_model = |status: JobStatus| {
        model.clone().map(|mut m| {
            m.status = model_status_for(status);
            headline.apply(&mut m);
            if artifact.is_some() {
                m.artifact = artifact.clone();
            }
            m.updated_at = now;
            m
        })
    };
    let write = |attempt: JobRecord, expected: JobStatus, status: JobStatus| {
        let model = ended_model(status);
        async move {
            match &model {
                Some(model) => state.store.finish_job(&attempt, expected, model).await,
                None => state.store.put_job_if(&attempt, expected).await,
            }
        }
    };
    let mut attempt = job.clone();
    finalize(&mut attempt, status);
    match write(attempt, JobStatus::InProgress, status).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed(_)) => {
            let current = state.store.get_job(&job.id).await?;
            match current {
                Some(c) if c.status == JobStatus::Stopping => {
                    if status == JobStatus::Completed {
                        status = JobStatus::Stopped;
                    }
                    job.status = JobStatus::Stopping;
                    let mut attempt = job.clone();
                    finalize(&mut attempt, status);
                    write(attempt, JobStatus::Stopping, status).await?;
                }
                other => {
                    let now_status = other.map_or("missing", |c| c.status.as_str());
                    return Ok(Outcome::AlreadyHandled(format!("job is {now_status}")));
                }
            }
        }
        Err(e) => return Err(e.into()),
    }
    if model.is_none() {
        set_model_status(
            state,
            &job.model_id,
            model_status_for(status),
            headline,
            artifact,
        )
        .await;
    }
    if status != JobStatus::Stopped {
        super::checkpoints::discard(state, &job).await;
    }
    tracing::info!(job_id = %job.id, status = status.as_str(), "job finished");
    job_line(&job, status, metrics.as_ref()).emit();
    Ok(Outcome::Finished(status))
}

/// The job's EMF line (`shared::emf`): `JobsFinished` and `JobsFailed` (0 or 1; their Sums'
/// ratio is the failure rate the template's alarm watches) and each epoch's `EpochSeconds`
/// (the last 100), with no dimension (every function's lines together: the models function
/// ends lost jobs too), by `Function` and by `Function, Family`.
fn job_line(
    job: &JobRecord,
    status: JobStatus,
    metrics: Option<&serde_json::Value>,
) -> shared::emf::Line {
    use shared::emf::{Line, Unit};
    let seconds: Vec<f64> = job.history.iter().map(|e| e.seconds).collect();
    let family = metrics
        .and_then(|m| m.get("family"))
        .and_then(|f| f.as_str())
        .unwrap_or("unknown")
        .to_string();
    Line::new(clock::now().timestamp_millis())
        .dimension("Function", &shared::emf::function_name())
        .dimension("Family", &family)
        .dimension_set(&[])
        .dimension_set(&["Function"])
        .dimension_set(&["Function", "Family"])
        .metric("JobsFinished", Unit::Count, 1.0)
        .metric(
            "JobsFailed",
            Unit::Count,
            f64::from(u8::from(status == JobStatus::Failed)),
        )
        .values(
            "EpochSeconds",
            Unit::Seconds,
            &seconds[seconds.len().saturating_sub(shared::emf::MAX_VALUES)..],
        )
        .property("job_id", serde_json::json!(job.id))
        .property("status", serde_json::json!(status.as_str()))
}

/// The validation score a model record shows: accuracy for a classifier, R² for a regression.
#[derive(Clone, Copy, Default)]
struct Headline {
    accuracy: Option<f64>,
    r2: Option<f64>,
}

impl Headline {
    /// Sets what this run measured; keeps the record's figures otherwise.
    fn apply(self, m: &mut ModelRecord) {
        if self.accuracy.is_some() {
            m.accuracy = self.accuracy;
        }
        if self.r2.is_some() {
            m.r2 = self.r2;
        }
    }
}

fn model_status_for(status: JobStatus) -> ModelStatus {
    match status {
        JobStatus::Completed => ModelStatus::Completed,
        JobStatus::Stopped => ModelStatus::Stopped,
        _ => ModelStatus::Failed,
    }
}

/// Best effort: the job record is the source of truth for the job; a failed model update is
/// logged (the status route shows the job either way).
async fn set_model_status(
    state: &AppState,
    model_id: &str,
    status: ModelStatus,
    headline: Headline,
    artifact: Option<ArtifactInfo>,
) {
    let result = async {
        if let Some(mut model) = state.store.get_model(model_id).await? {
            model.status = status;
            headline.apply(&mut model);
            if artifact.is_some() {
                model.artifact = artifact;
            }
            model.updated_at = clock::now();
            state.store.put_model(&model).await?;
        }
        Ok::<(), StoreError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(model_id, error = %e, "could not update the model record");
    }
}

/// Ends a job nobody is working on, so no job stays unfinished for good; returns the job as
/// it is now:
/// * running (or stopping) with a heartbeat older than `heartbeat_timeout`: its worker is
///   gone (the Lambda was killed, the process died): `failed`, `worker_lost`;
/// * still queued `queued_timeout` after submission: no worker ever claimed it (its stream
///   record was dropped after its retries, to the on-failure queue): `failed`,
///   `dispatch_lost`.
pub async fn reap_if_lost(state: &AppState, job: JobRecord) -> Result<JobRecord, StoreError> {
    let limits = state.config.worker;
    let (since, limit, reason) = match job.status {
        JobStatus::InProgress | JobStatus::Stopping => {
            let last = job.heartbeat_at.unwrap_or(job.updated_at);
            let limit = limits.heartbeat_timeout;
            let why = format!(
                "worker_lost: no heartbeat since {} (limit {} s)",
                clock::rfc3339(last),
                limit.as_secs()
            );
            (last, limit, why)
        }
        JobStatus::Queued => {
            let limit = limits.queued_timeout;
            // A handed-on or resumed job has waited since it was queued again.
            let since = if job.invocations > 0 {
                job.updated_at
            } else {
                job.created_at
            };
            let why = format!(
                "dispatch_lost: queued since {} and not claimed by a worker within {} s (MLAAS_QUEUED_TIMEOUT_SECONDS)",
                clock::rfc3339(since),
                limit.as_secs()
            );
            (since, limit, why)
        }
        _ => return Ok(job),
    };
    let silent = clock::now().signed_duration_since(since);
    if silent.to_std().unwrap_or_default() <= limit {
        return Ok(job);
    }
    if job.status == JobStatus::InProgress {
        let why = reason.trim_start_matches("worker_lost: ").to_string();
        if let Some(resumed) =
            super::checkpoints::resume_lost(state, &job, &format!("worker lost ({why})")).await?
        {
            return Ok(resumed);
        }
    }
    let mut lost = job.clone();
    let now = clock::now();
    lost.failure_reason = Some(reason);
    lost.transition(JobStatus::Failed, now, lost.failure_reason.clone());
    lost.step(JobStatus::Failed.as_str(), now, None);
    match state.store.put_job_if(&lost, job.status).await {
        Ok(()) => {
            failed_elsewhere(state, &lost).await;
            tracing::warn!(job_id = %job.id, reason = ?lost.failure_reason, "job ended: nobody works on it");
            Ok(lost)
        }
        // It moved meanwhile: whatever it is now is the answer.
        Err(StoreError::ConditionFailed(_)) => {
            Ok(state.store.get_job(&job.id).await?.unwrap_or(job))
        }
        Err(e) => Err(e),
    }
}

/// A job failed outside a worker's run (lost, or never handed on): its model says so, and its
/// EMF line counts it with the rest.
async fn failed_elsewhere(state: &AppState, job: &JobRecord) {
    set_model_status(
        state,
        &job.model_id,
        ModelStatus::Failed,
        Headline::default(),
        None,
    )
    .await;
    job_line(job, JobStatus::Failed, None).emit();
}

/// Ends a queued job that could not be handed to a worker.
pub async fn fail_queued(state: &AppState, job: &JobRecord, reason: String) {
    let mut failed = job.clone();
    failed.failure_reason = Some(reason);
    failed.transition(
        JobStatus::Failed,
        clock::now(),
        failed.failure_reason.clone(),
    );
    match state.store.put_job_if(&failed, JobStatus::Queued).await {
        Ok(()) => {
            failed_elsewhere(state, &failed).await;
            super::sweeps::trial_ended(state, &failed).await;
        }
        Err(e) => tracing::warn!(job_id = %job.id, error = %e, "could not mark the job failed"),
    }
}
