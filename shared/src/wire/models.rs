//! The model routes: training requests, model records, job status, stop, predict.

use std::collections::BTreeMap;

use analysis::footprint::{ServingMemory, TrainingMemory};
use schemars::JsonSchema;
use serde::Serialize;

use super::{Object, Provider};
use crate::records::{
    ArchitectureName, ArtifactInfo, EpochRecord, ForecastSpec, GbmOptions, JobStatus, ModelRecord,
    ModelStatus, ModelType, OptimizerKind, Progress, StatusTransition, Task, TrainingConfig,
};

/// `model_config` of a training request.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "if" = {"required": ["architecture"], "properties": {"architecture": {"enum": ["logistic_regression", "linear", "gbm", "auto"]}}},
    "then" = {"properties": {"hidden_layers": {"type": "null"}}},
    "not" = {
        "required": ["features", "exclude"],
        "properties": {"features": {"type": "array"}, "exclude": {"type": "array"}}
    }
))]
pub struct TrainModelConfig {
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// `regression` (and `tabular_regression`) for a numeric target; the classification names
    /// for a class; `tabular` lets the target's type decide (a float column: regression).
    #[serde(rename = "type")]
    pub model_type: ModelType,
    /// Default `mlp`. `linear`: least squares / ridge (regression) or logistic regression
    /// (classification); `gbm`: gradient-boosted trees; `auto`: a cross-validated search.
    /// On an image dataset: a preset (`small_cnn`, `lenet5`, `resnet8`, ...) or a layer list;
    /// for a text classifier `textcnn` (default) or `fasttext`; for a forecaster
    /// `lstm_forecaster` (default).
    #[serde(default = "default_architecture")]
    pub architecture: TrainArchitecture,
    /// Settings of `gbm`.
    pub gbm: Option<GbmOptions>,
    /// Hidden layer widths of the `mlp` (default `[64, 32]`).
    #[schemars(length(min = 1, max = 8), inner(range(min = 1, max = 4096)))]
    pub hidden_layers: Option<Vec<usize>>,
    /// A dataset id (`ds_...`) from `POST /v1/ai/synthetic-data` or `POST /v1/datasets`.
    #[schemars(length(min = 1, max = 200))]
    pub dataset: String,
    /// Train on exactly these columns of the dataset (the training screen is not applied to
    /// them). Not with `exclude`.
    #[schemars(length(min = 1, max = 1000), inner(length(min = 1, max = 200)))]
    pub features: Option<Vec<String>>,
    /// Leave these columns out, beside what the training screen leaves out. Not with
    /// `features`.
    #[schemars(length(min = 1, max = 1000), inner(length(min = 1, max = 200)))]
    pub exclude: Option<Vec<String>>,
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    pub target_accuracy: Option<f64>,
    /// `time_series_forecasting` only: the series and how it is cut.
    pub forecast: Option<TrainForecast>,
    /// `text_classification` (`nlp_classification`) only: the column of texts; default the
    /// dataset's one free-text column (a string column with `words` counted at upload).
    #[schemars(length(min = 1, max = 200))]
    pub text_column: Option<String>,
    /// `text_classification` only: words read per text, the rest cut and shorter texts
    /// padded; default the column's 95th percentile word count.
    #[schemars(range(min = 1, max = 4096))]
    pub max_length: Option<usize>,
}

/// `model_config.forecast` as sent (the record keeps it as `ForecastSpec`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainForecast {
    /// The numeric column forecast.
    #[schemars(length(min = 1, max = 200))]
    pub target: String,
    /// The column the rows are ordered by: numbers, or ISO 8601 dates and times (ordered as
    /// text).
    #[schemars(length(min = 1, max = 200))]
    pub time_column: String,
    /// Values the model reads.
    #[schemars(range(min = 1, max = 1000))]
    pub window: usize,
    /// Values it answers (default 1).
    #[schemars(range(min = 1, max = 100))]
    pub horizon: Option<usize>,
    /// The seasonal naive forecast's period (2-1000); by autocorrelation when absent.
    #[schemars(range(min = 2, max = 1000))]
    pub season: Option<usize>,
}

impl TrainForecast {
    /// As the record keeps it, the horizon's default filled in.
    pub fn spec(&self) -> ForecastSpec {
        ForecastSpec {
            target: self.target.clone(),
            time_column: self.time_column.clone(),
            window: self.window,
            horizon: self.horizon.unwrap_or(1),
            season: self.season,
        }
    }
}

fn default_architecture() -> TrainArchitecture {
    TrainArchitecture::Family(ArchitectureName::Mlp)
}

/// `model_config.architecture`: a tabular family, a named network, or a layer list.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TrainArchitecture {
    /// A tabular family.
    Family(#[schemars(with = "TabularFamily")] ArchitectureName),
    /// A named network (README "Networks"): its layer list, for images, texts or a series.
    Preset(analysis::presets::Preset),
    /// A layer list as `POST /v1/ai/analyze` reads `architecture`.
    Layers(LayerList),
}

impl TrainArchitecture {
    /// The family as records keep it (`network` for a preset or a layer list).
    pub fn family(&self) -> ArchitectureName {
        match self {
            TrainArchitecture::Family(a) => *a,
            _ => ArchitectureName::Network,
        }
    }

    /// The layer list of a preset or of a list as given (`{"input_shape"?, "layers"}`).
    pub fn layer_list(&self) -> Option<serde_json::Value> {
        match self {
            TrainArchitecture::Family(_) => None,
            TrainArchitecture::Preset(p) => Some(p.architecture()),
            TrainArchitecture::Layers(l) => Some(serde_json::to_value(l).unwrap_or_default()),
        }
    }
}

/// The names a tabular family is requested by.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // A schema only.
enum TabularFamily {
    LogisticRegression,
    Linear,
    Mlp,
    Gbm,
    Auto,
}

/// A network as a list of layers (the analyzer's layer types and parameters).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LayerList {
    /// `[H, W, C]`; when given, it must be the dataset's image shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 3), inner(range(min = 1)))]
    pub input_shape: Option<Vec<usize>>,
    /// Layer objects: `{"type": "conv2d", "filters": 32, "kernel_size": 3, ...}`.
    #[schemars(length(min = 1, max = 10000))]
    pub layers: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// `training_config` of a training request, as sent; `TrainingConfig` is it with the
/// defaults filled in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainTrainingConfig {
    /// Default 10.
    #[schemars(range(min = 1, max = 1000))]
    pub epochs: Option<u32>,
    /// Default 32.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: Option<u32>,
    /// Default 0.001.
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    pub learning_rate: Option<f64>,
    /// Default false.
    pub ai_enhancement: Option<bool>,
    pub providers: Option<Vec<Provider>>,
    /// Default `adam`.
    pub optimizer: Option<OptimizerKind>,
    /// Default 0.2.
    #[schemars(range(min = 0.05, max = 0.5))]
    pub validation_split: Option<f64>,
    /// Drawn (and recorded) when absent.
    #[schemars(range(min = 0, max = 9_007_199_254_740_991u64))]
    pub seed: Option<u64>,
    /// Default 0.
    #[schemars(extend("minimum" = 0, "exclusiveMaximum" = 1))]
    pub weight_decay: Option<f64>,
    /// `auto` only: seconds the search may take (default 60, at most the worker's runtime
    /// limit).
    #[schemars(range(min = 1, max = 86400))]
    pub time_budget_seconds: Option<u64>,
    /// Worker seconds the job may train in all (default 3600, at most 86400). A network
    /// job longer than one worker invocation checkpoints and is handed on to the next;
    /// `gbm`, `linear`, `auto` and enhanced jobs train within one invocation.
    #[schemars(range(min = 1, max = 86400))]
    pub max_runtime_seconds: Option<u64>,
}

/// `POST /v1/models/train`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainRequest {
    pub model_config: TrainModelConfig,
    pub training_config: Option<TrainTrainingConfig>,
}

/// The dataset a model trains on.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrainDataset {
    pub id: String,
    pub rows: u64,
    pub target: Option<String>,
}

/// `training_started`.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrainStatus {
    TrainingStarted,
}

/// How a training request's memory was estimated (bytes), and what it was held against.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrainingResources {
    pub parameters: u64,
    pub training: TrainingMemory,
    pub worker_memory_bytes: u64,
    pub serving: ServingMemory,
    pub models_function_memory_bytes: u64,
    /// `dataset` (counted when the dataset was made) or `estimated` (1.5 features a column,
    /// for datasets made before that was kept).
    pub feature_width_source: String,
}

/// `202` of `POST /v1/models/train`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrainAccepted {
    pub status: TrainStatus,
    pub model_id: String,
    pub training_job_id: String,
    pub estimated_completion: String,
    pub ai_enhancements_scheduled: Vec<String>,
    pub monitoring_url: String,
    pub providers_not_configured: Vec<String>,
    pub dataset: TrainDataset,
    pub resources: TrainingResources,
}

/// One row of `GET /v1/models`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ModelSummary {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub model_type: ModelType,
    pub status: ModelStatus,
    pub accuracy: Option<f64>,
    /// Validation R² of a trained regression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    pub created_at: String,
    pub updated_at: String,
    pub training_job_id: String,
}

/// `GET /v1/models`: newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ModelList {
    pub models: Vec<ModelSummary>,
    pub total_models: u64,
    pub active_training: u64,
    /// Pass as `next_token` for the next page; `null` on the last.
    pub next_token: Option<String>,
}

/// Where to look next for a model.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ModelLinks {
    pub status: String,
    pub metrics_svg: String,
    pub predict: String,
    pub stop: String,
    /// Continue a stopped job from its checkpoint.
    pub resume: String,
    /// The trained model as a file (`?format=onnx`, or the stored artifact).
    pub download: String,
}

impl ModelLinks {
    pub fn of(model_id: &str) -> ModelLinks {
        ModelLinks {
            status: format!("/v1/models/{model_id}/status"),
            metrics_svg: format!("/v1/models/{model_id}/metrics.svg"),
            predict: format!("/v1/models/{model_id}/predict"),
            stop: format!("/v1/models/{model_id}/stop"),
            resume: format!("/v1/models/{model_id}/resume"),
            download: format!("/v1/models/{model_id}/download"),
        }
    }
}

/// `GET /v1/models/{id}`: the model record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Model {
    #[serde(flatten)]
    pub record: ModelRecord,
    pub monitoring_url: String,
    pub links: ModelLinks,
}

/// `GET /v1/models/{id}/status`: the job, its transitions, progress and learning curve.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrainingStatus {
    pub model_id: String,
    pub model_status: ModelStatus,
    pub accuracy: Option<f64>,
    /// Validation R² of a trained regression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    pub training_job_id: String,
    pub status: JobStatus,
    pub status_transitions: Vec<StatusTransition>,
    pub secondary_status: Option<String>,
    pub secondary_transitions: Vec<StatusTransition>,
    pub progress: Option<Progress>,
    pub history: Vec<EpochRecord>,
    /// Validation and training metrics (classification: accuracy, cross-entropy, log loss,
    /// ROC AUC, Brier, macro F1, balanced accuracy, per-class scores, confusion matrix;
    /// regression: RMSE, MAE, R² and the mean baseline's), the permutation and gain
    /// importances, the columns left out, the `auto` leaderboard, epochs run, whether the target
    /// accuracy was reached, why training stopped.
    pub final_metrics: Option<Object>,
    pub ai_enhancements_scheduled: Vec<String>,
    /// What each enhancement step did and its measured effect.
    pub ai_enhancements: Option<serde_json::Value>,
    pub training_config: TrainingConfig,
    pub architecture: Option<ArchitectureName>,
    pub hidden_layers: Option<Vec<usize>>,
    pub dataset: Option<String>,
    pub artifact: Option<ArtifactInfo>,
    pub estimated_completion: String,
    pub failure_reason: Option<String>,
    pub heartbeat_at: Option<String>,
    pub heartbeat_age_seconds: Option<f64>,
    pub heartbeat_timeout_seconds: u64,
    pub created_at: String,
    pub updated_at: String,
    /// Worker invocations that claimed the job: one, plus one per hand-on and resume.
    pub invocations: u32,
    /// Checkpoints written, the last one, and resumes after a lost worker.
    pub checkpoints: u32,
    pub checkpoint: Option<CheckpointInfo>,
    pub last_checkpoint_at: Option<String>,
    pub resumes: u32,
    /// Billable worker time across invocations and its cost at Lambda's list price.
    pub billing: JobBilling,
    pub links: ModelLinks,
}

/// The checkpoint a job continues from (`POST /v1/models/{id}/resume`, a hand-on, a resume).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CheckpointInfo {
    /// Blob key of the file (safetensors: weights, optimizer state, random stream position,
    /// history).
    pub key: String,
    pub bytes: u64,
    pub epochs_done: u32,
    /// Where training continues: this epoch (1-based), after this many of its batches.
    pub epoch: u32,
    pub batch: u64,
    pub saved_at: String,
}

impl CheckpointInfo {
    pub fn of(c: &crate::records::CheckpointRef) -> CheckpointInfo {
        CheckpointInfo {
            key: c.key.clone(),
            bytes: c.bytes,
            epochs_done: c.epochs_done,
            epoch: c.epoch,
            batch: c.batch,
            saved_at: crate::clock::rfc3339(c.saved_at),
        }
    }
}

/// A job's worker time and cost (see README "Long jobs"): `gb_seconds = worker_seconds ×
/// memory_mb / 1024`, `cost_usd = gb_seconds × usd_per_gb_second + requests ×
/// usd_per_request`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JobBilling {
    pub worker_seconds: f64,
    pub memory_mb: u64,
    pub gb_seconds: f64,
    /// Invocations, each one Lambda request.
    pub requests: u32,
    pub cost_usd: f64,
    pub price: LambdaPrice,
}

/// The list price the cost is computed with, and its date.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LambdaPrice {
    pub usd_per_gb_second: f64,
    pub usd_per_request: f64,
    pub region: String,
    pub architecture: String,
    pub as_of: String,
}

/// `POST /v1/models/{id}/resume`: the stopped job is queued again from its checkpoint.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResumeAccepted {
    pub model_id: String,
    pub training_job_id: String,
    /// `queued`.
    pub status: JobStatus,
    pub checkpoint: CheckpointInfo,
    pub monitoring_url: String,
}

/// `GET /v1/models/{id}/history`: the learning curve, one metric's points or whole epoch
/// records, within an epoch range, downsampled on the server to `max_points`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HistoryPage {
    pub model_id: String,
    pub status: JobStatus,
    /// Epochs the job has recorded.
    pub epochs: usize,
    /// The range asked for (`from_epoch`, `to_epoch`), and the points in it before
    /// downsampling.
    pub from_epoch: u32,
    pub to_epoch: u32,
    pub in_range: usize,
    pub metric: Option<String>,
    pub max_points: usize,
    /// `none` (every point), `lttb` (one metric: Largest-Triangle-Three-Buckets) or `even`
    /// (whole records at evenly spaced epochs).
    pub downsampling: String,
    /// With `metric`: (epoch, value), epochs without the metric left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<MetricPoint>>,
    /// Without `metric`: the epoch records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<EpochRecord>>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MetricPoint {
    pub epoch: u32,
    pub value: f64,
}

/// `GET /v1/models/compare?ids=...`: settings side by side, the fields that differ, final
/// figures, and one metric's curves aligned by epoch.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ModelComparison {
    pub models: Vec<ComparedModel>,
    /// Dotted setting names whose values are not the same in every model.
    pub differing: Vec<String>,
    pub metric: String,
    pub max_points: usize,
    /// The aligned epoch axis (evenly spaced when the longest history exceeds `max_points`).
    pub epochs: Vec<u32>,
    /// Per model id, the metric at each of `epochs` (null where that model has none).
    pub series: BTreeMap<String, Vec<Option<f64>>>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ComparedModel {
    pub model_id: String,
    pub name: String,
    pub status: ModelStatus,
    pub job_status: JobStatus,
    /// Dotted settings: `model_config.*` as stored and `training_config.*`.
    pub settings: BTreeMap<String, serde_json::Value>,
    pub accuracy: Option<f64>,
    pub r2: Option<f64>,
    pub epochs_run: usize,
    /// The last epoch's validation loss.
    pub final_val_loss: Option<f64>,
    /// The best epoch by the compared metric, and its value.
    pub best_epoch: Option<u32>,
    pub best_value: Option<f64>,
}

/// A stop request's answer: 200 `stopped` (a queued job), 202 `stopping` (a running one).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StopAccepted {
    pub model_id: String,
    pub training_job_id: String,
    /// `stopped` or `stopping`.
    pub status: JobStatus,
    pub monitoring_url: String,
}

/// `POST /v1/models/{id}/predict`: rows for a table model, images for an image network,
/// the last values of the series for a forecaster, texts for a text classifier.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PredictRequest {
    Rows(PredictRows),
    Images(PredictImages),
    Values(PredictValues),
    Texts(PredictTexts),
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictTexts {
    /// Texts for a text classifier, each read as its training texts were (lower-cased words,
    /// the first `max_length` kept).
    #[schemars(length(min = 1, max = 1000), inner(length(max = 100000)))]
    pub texts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictValues {
    /// The series' last `window` values, oldest first; the answer is the next `horizon`.
    #[schemars(length(min = 1, max = 1000))]
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRows {
    /// Feature rows, keyed by feature name.
    #[schemars(length(min = 1, max = 1000))]
    pub rows: Vec<Object>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictImages {
    /// Base64 PNG or JPEG images (a `data:image/...;base64,` prefix is allowed), each
    /// resized to the network's input as the upload was.
    #[schemars(length(min = 1, max = 256))]
    pub images: Vec<String>,
}

/// A class with each class's probability, or (regression) a value.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Prediction {
    Class {
        label: String,
        /// Probability of each class.
        probabilities: BTreeMap<String, f64>,
    },
    Value {
        value: f64,
    },
}

/// `200` of `POST /v1/models/{id}/predict`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Predictions {
    pub model_id: String,
    pub model_status: ModelStatus,
    pub task: Task,
    /// `linear`, `logistic_regression`, `mlp`, `gbm` or `baseline`.
    pub family: String,
    /// Empty for regression.
    pub classes: Vec<String>,
    pub features: Vec<String>,
    pub count: u32,
    pub predictions: Vec<Prediction>,
}
