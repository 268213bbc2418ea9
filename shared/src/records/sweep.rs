//! A sweep: many training jobs over a search space, `max_parallel` at a time, with an
//! objective and optional successive halving across them. The record lists every trial; the
//! trials' prepared model and job records are a blob (`plan_key`), since a record stays
//! under DynamoDB's item size whatever the requests hold.
//!
//! Every change is a compare-and-set on `version`, so two workers ending trials at once never
//! both start the same next trial.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::clock::serde_millis;
use crate::records::{EpochRecord, JobRecord, ModelRecord};

/// Trials one sweep may hold.
pub const MAX_TRIALS: usize = 100;
/// Trials that may train at once (the jobs stream's `ParallelizationFactor` is 10).
pub const MAX_PARALLEL: u32 = 10;

/// What the sweep optimizes: a validation metric of the history and its direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Objective {
    /// `val_loss`, `val_accuracy`, `val_rmse`, `val_mae` or `val_r2`.
    pub metric: String,
    pub direction: Direction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Maximize,
    Minimize,
}

impl Direction {
    /// Accuracy and R² grow as a model gets better; losses and errors shrink.
    pub fn of(metric: &str) -> Direction {
        if matches!(metric, "val_accuracy" | "val_r2" | "accuracy") {
            Direction::Maximize
        } else {
            Direction::Minimize
        }
    }

    pub fn maximize(self) -> bool {
        self == Direction::Maximize
    }

    /// Whether `a` is better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Maximize => a > b,
            Direction::Minimize => a < b,
        }
    }
}

/// The objectives a sweep may name: the history's validation metrics.
pub const OBJECTIVES: [&str; 5] = ["val_loss", "val_accuracy", "val_rmse", "val_mae", "val_r2"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchMethod {
    Grid,
    Random,
}

/// Successive halving across trials (ASHA): rungs at `min_epochs · reduction_factor^k`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EarlyStopping {
    pub min_epochs: u32,
    pub reduction_factor: u32,
    /// The rung epochs (below the longest trial's epochs).
    pub rungs: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SweepStatus {
    /// Trials are pending or training.
    Running,
    /// A stop was asked: no trial starts; the running ones are stopping.
    Stopping,
    /// Every trial ended.
    Completed,
    /// Stopped before every trial ran.
    Stopped,
}

impl SweepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SweepStatus::Running => "running",
            SweepStatus::Stopping => "stopping",
            SweepStatus::Completed => "completed",
            SweepStatus::Stopped => "stopped",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, SweepStatus::Completed | SweepStatus::Stopped)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrialStatus {
    /// Not started: waits for a free slot.
    Pending,
    /// Its job is queued or training.
    Running,
    Completed,
    Failed,
    /// Stopped by request (its own, or the sweep's).
    Stopped,
    /// Stopped by successive halving at a rung (its job ends `stopped`, weights kept).
    Pruned,
    /// The sweep stopped before it started.
    Cancelled,
}

impl TrialStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TrialStatus::Pending => "pending",
            TrialStatus::Running => "running",
            TrialStatus::Completed => "completed",
            TrialStatus::Failed => "failed",
            TrialStatus::Stopped => "stopped",
            TrialStatus::Pruned => "pruned",
            TrialStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_final(self) -> bool {
        !matches!(self, TrialStatus::Pending | TrialStatus::Running)
    }
}

/// One point of the space and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// 0-based, in the order the space lists its points.
    pub trial: u32,
    /// The searched fields and this trial's values.
    pub settings: BTreeMap<String, serde_json::Value>,
    pub status: TrialStatus,
    /// Set when the trial starts.
    #[serde(default)]
    pub model_id: Option<String>,
    #[serde(default)]
    pub job_id: Option<String>,
    /// The objective at the trial's last epoch (see `objective_value`).
    #[serde(default)]
    pub metric: Option<f64>,
    #[serde(default)]
    pub epochs_run: Option<u32>,
    /// The rung at which successive halving stopped it.
    #[serde(default)]
    pub pruned_at_epoch: Option<u32>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default, with = "serde_millis::option")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, with = "serde_millis::option")]
    pub ended_at: Option<DateTime<Utc>>,
}

impl TrialRecord {
    /// A trial not started yet.
    pub fn pending(trial: u32, settings: BTreeMap<String, serde_json::Value>) -> TrialRecord {
        TrialRecord {
            trial,
            settings,
            status: TrialStatus::Pending,
            model_id: None,
            job_id: None,
            metric: None,
            epochs_run: None,
            pruned_at_epoch: None,
            failure_reason: None,
            started_at: None,
            ended_at: None,
        }
    }
}

/// The values recorded at one rung, in arrival order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RungRecord {
    pub epoch: u32,
    pub results: Vec<RungResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RungResult {
    pub trial: u32,
    pub value: f64,
    /// Whether the trial went on past the rung.
    pub continued: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRecord {
    pub id: String,
    pub name: String,
    pub dataset: String,
    pub objective: Objective,
    pub method: SearchMethod,
    /// Seeds random search (and every trial's training, unless the base sets one).
    pub seed: u64,
    pub max_parallel: u32,
    #[serde(default)]
    pub early_stopping: Option<EarlyStopping>,
    pub trials: Vec<TrialRecord>,
    #[serde(default)]
    pub rungs: Vec<RungRecord>,
    pub status: SweepStatus,
    /// Blob key of the trials' prepared records (`SweepPlan`).
    pub plan_key: String,
    /// Bumped by every write; writes are compare-and-set on it.
    pub version: u64,
    #[serde(with = "serde_millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "serde_millis")]
    pub updated_at: DateTime<Utc>,
    #[serde(default, with = "serde_millis::option")]
    pub ended_at: Option<DateTime<Utc>>,
}

impl SweepRecord {
    pub fn running(&self) -> usize {
        self.trials
            .iter()
            .filter(|t| t.status == TrialStatus::Running)
            .count()
    }

    /// The best completed trial with a metric (a pruned trial's value is from a shorter run,
    /// so it does not compete). Ties go to the earlier trial.
    pub fn best(&self) -> Option<&TrialRecord> {
        let direction = self.objective.direction;
        let pick = |status: TrialStatus| {
            self.trials
                .iter()
                .filter(|t| t.status == status)
                .filter_map(|t| t.metric.map(|m| (t, m)))
                .fold(None::<(&TrialRecord, f64)>, |best, (t, m)| match best {
                    Some((_, b)) if !direction.better(m, b) => best,
                    _ => Some((t, m)),
                })
                .map(|(t, _)| t)
        };
        pick(TrialStatus::Completed)
    }
}

/// Where a job sits in a sweep, and what its worker needs for successive halving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrialRef {
    pub sweep_id: String,
    pub trial: u32,
    /// The objective the rungs compare.
    pub metric: String,
    pub direction: Direction,
    /// Rung epochs at which the worker reports (empty without early stopping).
    #[serde(default)]
    pub rungs: Vec<u32>,
    #[serde(default)]
    pub reduction_factor: u32,
}

/// The trials' records as validated at submission, each started as it is (fresh ids and
/// times) when a slot frees.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepPlan {
    pub trials: Vec<PlannedTrial>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedTrial {
    pub model: ModelRecord,
    pub job: JobRecord,
}

/// The objective's value a trial reports: at its last epoch with that metric in the history;
/// for a job without one, its final validation score (`accuracy`, `rmse`, `mae`, `r2`).
pub fn objective_value(job: &JobRecord, metric: &str) -> Option<f64> {
    if let Some(v) = job.history.iter().rev().find_map(|e| e.metric(metric)) {
        return Some(v);
    }
    let name = metric.strip_prefix("val_")?;
    job.final_metrics
        .as_ref()?
        .get("validation")?
        .get(name)?
        .as_f64()
        .filter(|v| v.is_finite())
}

impl EpochRecord {
    /// A metric by the name the history uses; `None` when absent or not finite.
    pub fn metric(&self, name: &str) -> Option<f64> {
        match name {
            "loss" => Some(self.loss),
            "val_loss" => Some(self.val_loss),
            "accuracy" => self.accuracy,
            "val_accuracy" => self.val_accuracy,
            "val_rmse" => self.val_rmse,
            "val_mae" => self.val_mae,
            "val_r2" => self.val_r2,
            "seconds" => Some(self.seconds),
            _ => None,
        }
        .filter(|v| v.is_finite())
    }
}
