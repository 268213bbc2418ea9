//! The model routes: training requests, model records, job status, stop, predict.

use schemars::JsonSchema;
use serde::Serialize;
#[allow(unused_imports)]
use serde_json::Value;

#[allow(unused_imports)]
use super::*;

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelType {
    Classification,
    BinaryClassification,
    MulticlassClassification,
    TabularClassification,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    LogisticRegression,
    Mlp,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    Adam,
    Adamw,
    Sgd,
}

/// `model_config` of a training request.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainModelConfig {
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    #[serde(rename = "type")]
    pub model_type: ModelType,
    /// Default `mlp`.
    pub architecture: Option<Architecture>,
    /// Hidden layer widths of the `mlp`.
    #[schemars(length(min = 1, max = 8), inner(range(min = 1, max = 4096)))]
    pub hidden_layers: Option<Vec<u32>>,
    /// A dataset id (`ds_...`) from `POST /v1/ai/synthetic-data` or `POST /v1/datasets`.
    #[schemars(length(min = 1, max = 200))]
    pub dataset: String,
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    pub target_accuracy: Option<f64>,
}

/// `training_config` of a training request; every field has a default.
#[derive(Debug, Clone, Serialize, JsonSchema)]
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
    pub providers: Option<Vec<ProviderName>>,
    /// Default `adam`.
    pub optimizer: Option<Optimizer>,
    #[schemars(range(min = 0.05, max = 0.5))]
    pub validation_split: Option<f64>,
    #[schemars(range(min = 0, max = 9_007_199_254_740_991u64))]
    pub seed: Option<u64>,
    #[schemars(extend("minimum" = 0, "exclusiveMaximum" = 1))]
    pub weight_decay: Option<f64>,
}

/// `POST /v1/models/train`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
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

/// `202` of `POST /v1/models/train`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrainAccepted {
    /// `training_started`.
    pub status: String,
    pub model_id: String,
    pub training_job_id: String,
    pub estimated_completion: String,
    pub ai_enhancements_scheduled: Vec<String>,
    pub monitoring_url: String,
    pub providers_not_configured: Vec<String>,
    pub dataset: TrainDataset,
    /// The memory estimates the job was accepted with (bytes): `parameters`, `training` and
    /// `worker_memory_bytes`, `serving` and `models_function_memory_bytes`,
    /// `feature_width_source`.
    pub resources: Object,
}

/// The training configuration as stored (defaults filled in).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StoredTrainingConfig {
    pub epochs: u32,
    pub batch_size: u32,
    pub learning_rate: f64,
    pub ai_enhancement: bool,
    pub providers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<Optimizer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_split: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
}

/// One row of `GET /v1/models`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ModelSummary {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub model_type: String,
    pub status: ModelStatus,
    pub accuracy: Option<f64>,
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
}

/// `GET /v1/models/{id}`: the model record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Model {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub model_type: String,
    pub architecture: Option<String>,
    pub hidden_layers: Option<Vec<u32>>,
    pub dataset: Option<String>,
    pub target_accuracy: Option<f64>,
    pub status: ModelStatus,
    pub accuracy: Option<f64>,
    pub training_job_id: String,
    pub training_config: StoredTrainingConfig,
    pub artifact: Option<ArtifactInfo>,
    pub created_at: String,
    pub updated_at: String,
    pub monitoring_url: String,
    pub links: ModelLinks,
}

/// `GET /v1/models/{id}/status`: the job, its transitions, progress and learning curve.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrainingStatus {
    pub model_id: String,
    pub model_status: ModelStatus,
    pub accuracy: Option<f64>,
    pub training_job_id: String,
    pub status: JobStatus,
    pub status_transitions: Vec<StatusTransition>,
    pub secondary_status: Option<String>,
    pub secondary_transitions: Vec<StatusTransition>,
    pub progress: Option<Progress>,
    pub history: Vec<EpochRecord>,
    pub final_metrics: Option<Object>,
    pub ai_enhancements_scheduled: Vec<String>,
    pub ai_enhancements: Option<Vec<Value>>,
    pub training_config: StoredTrainingConfig,
    pub architecture: Option<String>,
    pub hidden_layers: Option<Vec<u32>>,
    pub dataset: Option<Value>,
    pub artifact: Option<ArtifactInfo>,
    pub estimated_completion: String,
    pub failure_reason: Option<String>,
    pub heartbeat_at: Option<String>,
    pub heartbeat_age_seconds: Option<f64>,
    pub heartbeat_timeout_seconds: f64,
    pub created_at: String,
    pub updated_at: String,
    pub links: ModelLinks,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopStatus {
    Stopped,
    Stopping,
}

/// `POST /v1/models/{id}/stop`: 200 `stopped` (a queued job), 202 `stopping` (a running one).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StopAccepted {
    pub model_id: String,
    pub training_job_id: String,
    pub status: StopStatus,
    pub monitoring_url: String,
}

/// `POST /v1/models/{id}/predict`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// Feature rows, keyed by feature name.
    #[schemars(length(min = 1, max = 1000))]
    pub rows: Vec<Object>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Prediction {
    pub label: String,
    /// Probability of each class.
    pub probabilities: std::collections::BTreeMap<String, f64>,
}

/// `200` of `POST /v1/models/{id}/predict`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Predictions {
    pub model_id: String,
    pub model_status: ModelStatus,
    pub classes: Vec<String>,
    pub features: Vec<String>,
    pub count: u32,
    pub predictions: Vec<Prediction>,
}
