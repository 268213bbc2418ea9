//! `/v1/sweeps`: many training jobs over a search space.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

pub use crate::records::sweep::{
    Direction, EarlyStopping, Objective, RungRecord, RungResult, SearchMethod, SweepStatus,
    TrialStatus,
};

/// `POST /v1/sweeps`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepRequest {
    /// Default `sweep <id>`; each trial's model is named `<name> · trial <n>`, unless the base
    /// names it.
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    /// The dataset every trial trains on (`model_config.dataset` of each trial).
    pub dataset: String,
    /// The validation metric to optimize: `val_loss`, `val_accuracy`, `val_rmse`, `val_mae`
    /// or `val_r2`.
    #[schemars(extend("enum" = ["val_loss", "val_accuracy", "val_rmse", "val_mae", "val_r2"]))]
    pub objective: String,
    /// Default: `maximize` for `val_accuracy` and `val_r2`, `minimize` otherwise.
    pub direction: Option<Direction>,
    /// Trials that train at once (default 2, at most 10).
    #[schemars(range(min = 1, max = 10))]
    pub max_parallel: Option<u32>,
    /// A `POST /v1/models/train` body (`model_config`, `training_config`) that every trial
    /// starts from; `model_config.dataset` may be left out.
    pub base: SweepBase,
    pub search: SweepSearch,
    /// Successive halving across trials (ASHA).
    pub early_stopping: Option<EarlyStoppingRequest>,
}

/// The training request each trial starts from.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepBase {
    /// As in `POST /v1/models/train`.
    pub model_config: crate::wire::Object,
    /// As in `POST /v1/models/train`. Without a `seed`, the sweep draws one and every trial
    /// uses it (same split, same initial stream).
    pub training_config: Option<crate::wire::Object>,
}

/// The search: which fields, which values, how they are combined.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepSearch {
    pub method: SearchMethod,
    /// Dotted fields of the base (`training_config.learning_rate`, `model_config.hidden_layers`,
    /// `model_config.architecture`, ...), each a list of values, or for `random` a range
    /// `{"min", "max", "log"?, "integer"?}`.
    pub space: BTreeMap<String, Value>,
    /// `random`: how many points (default 10); `grid`: the first this many points (default:
    /// all). At most 100.
    #[schemars(range(min = 1, max = 100))]
    pub max_trials: Option<u32>,
    /// Seeds the random points (default: drawn and reported).
    pub seed: Option<u64>,
}

/// `early_stopping`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EarlyStoppingRequest {
    /// `asha`.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["asha"]))]
    pub kind: String,
    /// The first rung's epoch (default 1).
    #[schemars(range(min = 1))]
    pub min_epochs: Option<u32>,
    /// η: rungs at min_epochs·η^k, and a trial goes on past a rung only among the best 1/η
    /// (default 3).
    #[schemars(range(min = 2, max = 10))]
    pub reduction_factor: Option<u32>,
}

/// `202` of `POST /v1/sweeps`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SweepAccepted {
    pub sweep_id: String,
    pub status: SweepStatus,
    pub trials: u32,
    pub max_parallel: u32,
    /// Random search's seed and the trials' training seed.
    pub seed: u64,
    /// The trials started now (the rest wait for a free slot).
    pub started: Vec<SweepTrial>,
    pub monitoring_url: String,
}

/// `GET /v1/sweeps/{id}` (and the answer of its stop).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Sweep {
    pub sweep_id: String,
    pub name: String,
    pub status: SweepStatus,
    pub dataset: String,
    pub objective: Objective,
    pub method: SearchMethod,
    pub seed: u64,
    pub max_parallel: u32,
    pub early_stopping: Option<EarlyStopping>,
    /// Trials in each status.
    pub counts: BTreeMap<String, u32>,
    pub trials: Vec<SweepTrial>,
    /// The completed trial with the best objective.
    pub best: Option<SweepTrial>,
    /// Successive halving's rungs: each trial's value there and whether it went on.
    pub rungs: Vec<RungRecord>,
    /// Seconds from the sweep's start to its end (or to now).
    pub elapsed_seconds: f64,
    pub created_at: String,
    pub updated_at: String,
    pub ended_at: Option<String>,
    pub links: SweepLinks,
}

/// One trial of a sweep.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SweepTrial {
    pub trial: u32,
    /// The searched fields and this trial's values.
    pub settings: BTreeMap<String, Value>,
    pub status: TrialStatus,
    pub model_id: Option<String>,
    pub training_job_id: Option<String>,
    /// The objective at the trial's last epoch (for a family without epochs, its final
    /// validation score).
    pub metric: Option<f64>,
    /// Epochs run so far (from the job's progress while it trains).
    pub epochs_run: Option<u32>,
    pub pruned_at_epoch: Option<u32>,
    pub failure_reason: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub monitoring_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SweepLinks {
    #[serde(rename = "self")]
    pub this: String,
    pub stop: String,
    /// The started trials side by side (`GET /v1/models/compare`, at most 10 ids: the best
    /// first).
    pub compare: Option<String>,
}

/// One sweep in `GET /v1/sweeps`, as last recorded (`GET /v1/sweeps/{id}` brings a sweep up
/// to date first).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SweepSummary {
    pub sweep_id: String,
    pub name: String,
    pub status: SweepStatus,
    pub dataset: String,
    pub objective: Objective,
    pub method: SearchMethod,
    pub max_parallel: u32,
    pub trials: u32,
    /// Trials in each status.
    pub counts: BTreeMap<String, u32>,
    /// The completed trial with the best objective so far.
    pub best: Option<SweepTrial>,
    pub created_at: String,
    pub updated_at: String,
    pub ended_at: Option<String>,
    pub monitoring_url: String,
}

/// `GET /v1/sweeps`: newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SweepList {
    pub sweeps: Vec<SweepSummary>,
    /// Pass as `next_token` for the next page; `null` on the last.
    pub next_token: Option<String>,
}
