//! Moving a sweep along: its trials are ordinary jobs, and whoever sees a trial end (the
//! worker that ended it, the reaper, a `GET /v1/sweeps/{id}`) calls [`advance`], which
//! records what ended and starts pending trials into the free slots. Every sweep write is a
//! compare-and-set on its version, and a trial's records are created with a conditional
//! write, so concurrent advances start each trial once.

use std::collections::HashMap;

use shared::clock;
use shared::records::sweep::{
    objective_value, RungRecord, RungResult, SweepPlan, SweepRecord, SweepStatus, TrialRecord,
    TrialStatus,
};
use shared::records::{JobRecord, JobStatus, ModelStatus};
use shared::state::AppState;
use shared::store::{ModelStore, StoreError};

/// Compare-and-set attempts before giving up (another writer keeps winning).
const ATTEMPTS: usize = 8;

/// A sweep as `advance` left it, with the trials' jobs it read.
pub struct Advanced {
    pub sweep: SweepRecord,
    pub jobs: HashMap<String, JobRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the sweep's plan {0} is missing or unreadable: {1}")]
    Plan(String, String),
}

/// What a trial's job says about the trial, or `None` while it is queued or training.
fn ended(trial: &TrialRecord, job: &JobRecord, metric: &str) -> Option<TrialRecord> {
    if !job.status.is_final() {
        return None;
    }
    let mut t = trial.clone();
    t.status = match job.status {
        JobStatus::Completed => TrialStatus::Completed,
        JobStatus::Failed => TrialStatus::Failed,
        _ if trial.pruned_at_epoch.is_some() => TrialStatus::Pruned,
        _ => TrialStatus::Stopped,
    };
    t.metric = objective_value(job, metric);
    t.epochs_run = Some(job.history.len() as u32);
    t.failure_reason = job.failure_reason.clone();
    t.ended_at = Some(job.updated_at);
    Some(t)
}

/// Records the trials that ended, cancels pending ones after a stop, starts pending trials
/// while fewer than `max_parallel` run, and ends the sweep when no trial is left. Returns
/// the sweep as stored, or `None` when there is no such sweep.
pub async fn advance(state: &AppState, sweep_id: &str) -> Result<Option<Advanced>, SweepError> {
    for _ in 0..ATTEMPTS {
        let Some(stored) = state.store.get_sweep(sweep_id).await? else {
            return Ok(None);
        };
        let mut jobs = HashMap::new();
        let mut sweep = stored.clone();
        let now = clock::now();
        let mut missing = Vec::new();
        for trial in sweep.trials.iter_mut() {
            let (TrialStatus::Running, Some(job_id)) = (trial.status, trial.job_id.clone()) else {
                continue;
            };
            match state.store.get_job(&job_id).await? {
                Some(job) => {
                    let job = super::reap_if_lost(state, job).await?;
                    if let Some(t) = ended(trial, &job, &sweep.objective.metric) {
                        *trial = t;
                    }
                    jobs.insert(job_id, job);
                }
                // Started by a write whose records are not there yet (or never came, if that
                // writer died): create them, conditionally.
                None => missing.push(trial.trial),
            }
        }
        let stopping = matches!(sweep.status, SweepStatus::Stopping);
        let mut start = Vec::new();
        for i in 0..sweep.trials.len() {
            let t = &mut sweep.trials[i];
            if t.status != TrialStatus::Pending {
                continue;
            }
            if stopping {
                t.status = TrialStatus::Cancelled;
                t.ended_at = Some(now);
                continue;
            }
            if sweep.running() >= sweep.max_parallel as usize {
                break;
            }
            let t = &mut sweep.trials[i];
            t.status = TrialStatus::Running;
            t.model_id = Some(shared::ids::new_model_id());
            t.job_id = Some(shared::ids::new_job_id());
            t.started_at = Some(now);
            start.push(t.trial);
        }
        if sweep.trials.iter().all(|t| t.status.is_final()) && !sweep.status.is_final() {
            sweep.status = if stopping {
                SweepStatus::Stopped
            } else {
                SweepStatus::Completed
            };
            sweep.ended_at = Some(now);
        }
        if sweep != stored {
            sweep.version = stored.version + 1;
            sweep.updated_at = now;
            match state.store.put_sweep_if(&sweep, stored.version).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        start.extend(missing);
        if !start.is_empty() {
            start_trials(state, &sweep, &start).await?;
        }
        return Ok(Some(Advanced { sweep, jobs }));
    }
    Err(StoreError::ConditionFailed(format!("sweep {sweep_id} kept changing")).into())
}

/// Creates the started trials' model and job from the plan, with the ids the sweep gave them,
/// and hands each job to the worker. A trial whose records exist already (another advance
/// made them) is left alone.
async fn start_trials(
    state: &AppState,
    sweep: &SweepRecord,
    trials: &[u32],
) -> Result<(), SweepError> {
    let plan = load_plan(state, &sweep.plan_key).await?;
    for &i in trials {
        let (Some(record), Some(planned)) =
            (sweep.trials.get(i as usize), plan.trials.get(i as usize))
        else {
            continue;
        };
        let (Some(model_id), Some(job_id)) = (&record.model_id, &record.job_id) else {
            continue;
        };
        let now = clock::now();
        let lead = now - planned.job.created_at;
        let mut model = planned.model.clone();
        model.id = model_id.clone();
        model.training_job_id = job_id.clone();
        model.created_at = now;
        model.updated_at = now;
        let mut job = planned.job.clone();
        job.id = job_id.clone();
        job.model_id = model_id.clone();
        job.created_at = now;
        job.updated_at = now;
        job.estimated_completion = planned.job.estimated_completion + lead;
        for t in job.status_transitions.iter_mut() {
            t.at = now;
            t.message = Some(format!("trial {i} of sweep {} started", sweep.id));
        }
        match state.store.create_training(&model, &job).await {
            Ok(()) => {
                tracing::info!(sweep_id = %sweep.id, trial = i, model_id = %model.id, "sweep trial queued");
                super::dispatch::dispatch(state, &job);
            }
            Err(StoreError::ConditionFailed(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Stores the trials' prepared records under `key`.
pub async fn save_plan(state: &AppState, key: &str, plan: &SweepPlan) -> Result<(), SweepError> {
    let bytes =
        serde_json::to_vec(plan).map_err(|e| SweepError::Plan(key.to_string(), e.to_string()))?;
    super::run::put_blob(state, key, &bytes, "application/json")
        .await
        .map_err(|e| SweepError::Plan(key.to_string(), e.to_string()))
}

async fn load_plan(state: &AppState, key: &str) -> Result<SweepPlan, SweepError> {
    let bytes = state
        .blobs
        .get(key)
        .await
        .map_err(|e| SweepError::Plan(key.to_string(), e.to_string()))?
        .ok_or_else(|| SweepError::Plan(key.to_string(), "not found".into()))?;
    serde_json::from_slice(&bytes).map_err(|e| SweepError::Plan(key.to_string(), e.to_string()))
}

/// Advances the sweep a job belongs to, if any; failures are logged (the next advance, by
/// another trial or a read of the sweep, catches up).
pub async fn trial_ended(state: &AppState, job: &JobRecord) {
    let Some(trial) = &job.sweep else {
        return;
    };
    if let Err(e) = advance(state, &trial.sweep_id).await {
        tracing::error!(sweep_id = %trial.sweep_id, job_id = %job.id, error = %e, "could not advance the sweep");
    }
}

/// Successive halving at a rung: records the trial's `value` at `epoch` and answers whether
/// it goes on (`training::sweep::Asha::continues` over the rung's values in arrival order).
/// A pruned trial is marked on the sweep before its job stops. Store failures let it go on.
pub async fn report_rung(
    store: &dyn ModelStore,
    sweep_id: &str,
    trial: u32,
    epoch: u32,
    value: f64,
) -> bool {
    match record_rung(store, sweep_id, trial, epoch, value).await {
        Ok(continues) => continues,
        Err(e) => {
            tracing::warn!(sweep_id, trial, epoch, error = %e, "rung not recorded; the trial goes on");
            true
        }
    }
}

async fn record_rung(
    store: &dyn ModelStore,
    sweep_id: &str,
    trial: u32,
    epoch: u32,
    value: f64,
) -> Result<bool, StoreError> {
    for _ in 0..ATTEMPTS {
        let Some(stored) = store.get_sweep(sweep_id).await? else {
            return Ok(true);
        };
        let Some(asha) = stored
            .early_stopping
            .as_ref()
            .map(|e| training::sweep::Asha {
                min_epochs: e.min_epochs,
                reduction_factor: e.reduction_factor,
            })
        else {
            return Ok(true);
        };
        let mut sweep = stored.clone();
        let rung = match sweep.rungs.iter().position(|r| r.epoch == epoch) {
            Some(i) => &mut sweep.rungs[i],
            None => {
                sweep.rungs.push(RungRecord {
                    epoch,
                    results: Vec::new(),
                });
                sweep.rungs.sort_by_key(|r| r.epoch);
                let i = sweep
                    .rungs
                    .iter()
                    .position(|r| r.epoch == epoch)
                    .expect("pushed");
                &mut sweep.rungs[i]
            }
        };
        // A repeated report (a resumed run reaching the rung again) answers as the first did.
        if let Some(seen) = rung.results.iter().find(|r| r.trial == trial) {
            return Ok(seen.continued);
        }
        let mut values: Vec<f64> = rung.results.iter().map(|r| r.value).collect();
        values.push(value);
        let continued = asha.continues(
            &values,
            values.len() - 1,
            stored.objective.direction.maximize(),
        );
        rung.results.push(RungResult {
            trial,
            value,
            continued,
        });
        if !continued {
            if let Some(t) = sweep.trials.iter_mut().find(|t| t.trial == trial) {
                t.pruned_at_epoch = Some(epoch);
            }
        }
        sweep.version = stored.version + 1;
        sweep.updated_at = clock::now();
        match store.put_sweep_if(&sweep, stored.version).await {
            Ok(()) => return Ok(continued),
            Err(StoreError::ConditionFailed(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed(format!(
        "sweep {sweep_id} kept changing"
    )))
}

/// How a stop request found the job.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Queued: stopped at once.
    Stopped(JobRecord),
    /// Training: `stopping`, its worker ends it at its next write.
    Stopping(JobRecord),
    /// It was already `stopping`.
    AlreadyStopping(JobRecord),
    /// It had ended (`completed`, `failed` or `stopped`).
    Ended(JobRecord),
}

/// Asks a job to stop: `queued → stopped` (its model too) or `in_progress → stopping`, by
/// compare-and-set, looking again when the worker moved it meanwhile.
pub async fn stop_job(state: &AppState, job_id: &str) -> Result<Option<Stop>, StoreError> {
    for _ in 0..3 {
        let Some(job) = state.store.get_job(job_id).await? else {
            return Ok(None);
        };
        let job = super::reap_if_lost(state, job).await?;
        let now = clock::now();
        let next = match job.status {
            JobStatus::Queued => JobStatus::Stopped,
            JobStatus::InProgress => JobStatus::Stopping,
            JobStatus::Stopping => return Ok(Some(Stop::AlreadyStopping(job))),
            _ => return Ok(Some(Stop::Ended(job))),
        };
        let mut updated = job.clone();
        updated.transition(next, now, Some("stop requested".into()));
        match state.store.put_job_if(&updated, job.status).await {
            Ok(()) if next == JobStatus::Stopped => {
                if let Some(mut m) = state.store.get_model(&job.model_id).await? {
                    m.status = ModelStatus::Stopped;
                    m.updated_at = now;
                    state.store.put_model(&m).await?;
                }
                return Ok(Some(Stop::Stopped(updated)));
            }
            Ok(()) => return Ok(Some(Stop::Stopping(updated))),
            Err(StoreError::ConditionFailed(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed(format!(
        "job {job_id} kept changing"
    )))
}

/// Stops a sweep: no pending trial starts, the running ones are asked to stop.
pub async fn stop_sweep(state: &AppState, sweep_id: &str) -> Result<Option<Advanced>, SweepError> {
    for _ in 0..ATTEMPTS {
        let Some(stored) = state.store.get_sweep(sweep_id).await? else {
            return Ok(None);
        };
        if stored.status != SweepStatus::Running {
            break;
        }
        let mut sweep = stored.clone();
        sweep.status = SweepStatus::Stopping;
        sweep.version = stored.version + 1;
        sweep.updated_at = clock::now();
        match state.store.put_sweep_if(&sweep, stored.version).await {
            Ok(()) => break,
            Err(StoreError::ConditionFailed(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(sweep) = state.store.get_sweep(sweep_id).await? {
        for trial in &sweep.trials {
            if let (TrialStatus::Running, Some(job_id)) = (trial.status, &trial.job_id) {
                stop_job(state, job_id).await?;
            }
        }
    }
    advance(state, sweep_id).await
}
