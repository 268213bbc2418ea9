//! The records the API keeps: a model and the training job that builds it. Stored as-is in
//! SQLite (JSON) and DynamoDB (serde_dynamo), rendered as-is by the API.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::clock::serde_millis;

pub mod sweep;

/// What is trained and how, as the analysis engine specifies it.
pub use analysis::spec::{ArchitectureName, OptimizerKind};
pub use synth::GainImportance;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    Queued,
    Training,
    Completed,
    Failed,
    Stopped,
}

impl ModelStatus {
    pub const ALL: [ModelStatus; 5] = [
        ModelStatus::Queued,
        ModelStatus::Training,
        ModelStatus::Completed,
        ModelStatus::Failed,
        ModelStatus::Stopped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Queued => "queued",
            ModelStatus::Training => "training",
            ModelStatus::Completed => "completed",
            ModelStatus::Failed => "failed",
            ModelStatus::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Option<ModelStatus> {
        ModelStatus::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// SageMaker-style primary job status. `stopping` is a running job asked to stop: the worker
/// sees it at its next write and ends the job `stopped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    InProgress,
    Stopping,
    Completed,
    Failed,
    Stopped,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::InProgress => "in_progress",
            JobStatus::Stopping => "stopping",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Stopped => "stopped",
        }
    }

    /// Completed, failed and stopped jobs never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Stopped
        )
    }
}

/// SageMaker-style secondary status of a running job.
pub mod secondary {
    pub const STARTING: &str = "starting";
    pub const LOADING_DATA: &str = "loading_data";
    pub const ENHANCING: &str = "enhancing";
    pub const TRAINING: &str = "training";
    pub const SAVING: &str = "saving";
}

/// How a job trains, every default filled in (as stored and as answered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrainingConfig {
    pub epochs: u32,
    pub batch_size: u32,
    pub learning_rate: f64,
    pub ai_enhancement: bool,
    pub providers: Vec<String>,
    #[serde(default = "default_optimizer")]
    pub optimizer: OptimizerKind,
    /// Share of the dataset's rows held out for validation (stratified).
    #[serde(default = "default_validation_split")]
    pub validation_split: f64,
    /// Seeds the split, the initial weights and the shuffling: the same request and seed
    /// train the same model.
    #[serde(default)]
    pub seed: u64,
    /// L2 penalty (AdamW's decoupled weight decay; added to the gradient for SGD; ridge's λ
    /// for a `linear` regression).
    #[serde(default)]
    pub weight_decay: f64,
    /// `auto`: seconds the search may take (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_budget_seconds: Option<u64>,
    /// Worker seconds the job may train in all, across invocations (default
    /// [`DEFAULT_MAX_RUNTIME_SECONDS`]); absent on records from before hand-ons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime_seconds: Option<u64>,
}

/// A job's training time across invocations unless `max_runtime_seconds` says otherwise:
/// one hour; at most [`MAX_RUNTIME_SECONDS`] (24 hours).
pub const DEFAULT_MAX_RUNTIME_SECONDS: u64 = 3600;
pub const MAX_RUNTIME_SECONDS: u64 = 86_400;

impl TrainingConfig {
    pub fn max_runtime_seconds(&self) -> u64 {
        self.max_runtime_seconds
            .unwrap_or(DEFAULT_MAX_RUNTIME_SECONDS)
    }
}

/// Where a job's last checkpoint is: the worker writes the file first, then this pointer
/// (compare-and-set on the job), so a failed write leaves the previous one valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointRef {
    /// Blob key of the checkpoint file (`checkpoints/<job>/<n>.safetensors`).
    pub key: String,
    pub bytes: u64,
    /// Epochs finished, and the epoch and batch the run continues at.
    pub epochs_done: u32,
    pub epoch: u32,
    pub batch: u64,
    #[serde(with = "serde_millis")]
    #[schemars(with = "i64")]
    pub saved_at: DateTime<Utc>,
}

pub const DEFAULT_OPTIMIZER: OptimizerKind = OptimizerKind::Adam;
pub const DEFAULT_VALIDATION_SPLIT: f64 = 0.2;

fn default_optimizer() -> OptimizerKind {
    DEFAULT_OPTIMIZER
}

fn default_validation_split() -> f64 {
    DEFAULT_VALIDATION_SPLIT
}

/// Where a trained model's weights are and what they expect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArtifactInfo {
    /// Blob key of the safetensors file (weights, with the encoder and classes as metadata).
    pub key: String,
    pub bytes: u64,
    pub parameters: u64,
    pub features: Vec<String>,
    pub classes: Vec<String>,
    /// Columns the training screen left out (identifiers, constants, copies of the target).
    #[serde(default)]
    pub dropped_columns: Vec<DroppedColumn>,
    /// Permutation importance on the validation split, most important first (the job's
    /// `final_metrics.permutation_importance` has the method's details).
    #[serde(default)]
    pub importance: Vec<ColumnImportance>,
    /// `linear`, `logistic_regression`, `mlp`, `gbm` or `baseline` (what `auto` chose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// `classification` or `regression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// Gradient-boosted trees: how many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trees: Option<u64>,
    /// Gradient-boosted trees: each feature's share of the total split gain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gain_importance: Vec<GainImportance>,
    /// The ONNX export's inputs and outputs (`GET /v1/models/{id}/download?format=onnx`).
    /// Absent from models trained before the export existed (their export has the same
    /// layout: one input per column, or `input` when every feature is a number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onnx: Option<OnnxSignature>,
    #[serde(with = "serde_millis")]
    #[schemars(with = "String")]
    pub saved_at: DateTime<Utc>,
}

/// What the ONNX file takes and answers: the names and types to call it with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OnnxSignature {
    /// The default domain's opset (`ai.onnx.ml` is at 3).
    pub opset: u32,
    pub inputs: Vec<OnnxTensor>,
    pub outputs: Vec<OnnxTensor>,
}

/// One input or output of the ONNX graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OnnxTensor {
    pub name: String,
    /// `float`, `double` or `string`.
    #[serde(rename = "type")]
    pub elem_type: String,
    /// Dimensions; `null` is the row count.
    pub shape: Vec<Option<u64>>,
    /// The single `input` matrix: its columns, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// Training progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Progress {
    pub epoch: u32,
    pub epochs: u32,
    /// epoch / epochs × 100, one decimal.
    pub percent: f64,
}

/// One epoch of the training history (for gradient-boosted trees, a stage of `trees` trees).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EpochRecord {
    pub epoch: u32,
    pub loss: f64,
    pub val_loss: f64,
    /// Classification only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_accuracy: Option<f64>,
    /// Regression only: validation RMSE, MAE and R².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_mae: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_r2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trees: Option<u32>,
    pub seconds: f64,
}

/// What a model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    Classification,
    Regression,
}

/// `model_config.gbm`: gradient-boosted trees' settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GbmOptions {
    /// Boosting rounds: trees per booster (default 100).
    #[schemars(range(min = 1, max = 10000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trees: Option<u32>,
    /// Shrinkage: each leaf's weight is multiplied by it (default 0.1).
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f32>,
    /// Depth of each tree at most (default 6).
    #[schemars(range(min = 1, max = 20))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<u32>,
    /// The share of feature columns each tree may split on, drawn per tree (default 1: all).
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colsample: Option<f64>,
}

/// What kind of model a request asks for, by any of the names the API accepts: a
/// classification, a regression, or `tabular` (the target's type decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelType {
    Classification,
    BinaryClassification,
    MulticlassClassification,
    TabularClassification,
    Regression,
    TabularRegression,
    Tabular,
    /// Image classification (the spec's name), on an image dataset.
    ComputerVision,
    ImageClassification,
    /// Forecasting one numeric column of a table ordered by a time column
    /// (`model_config.forecast`).
    TimeSeriesForecasting,
    /// Classifying a table's text column (the spec's `nlp_classification`).
    TextClassification,
    NlpClassification,
}

impl ModelType {
    pub const ALL: [ModelType; 12] = [
        ModelType::Classification,
        ModelType::BinaryClassification,
        ModelType::MulticlassClassification,
        ModelType::TabularClassification,
        ModelType::Regression,
        ModelType::TabularRegression,
        ModelType::Tabular,
        ModelType::ComputerVision,
        ModelType::ImageClassification,
        ModelType::TimeSeriesForecasting,
        ModelType::TextClassification,
        ModelType::NlpClassification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelType::Classification => "classification",
            ModelType::BinaryClassification => "binary_classification",
            ModelType::MulticlassClassification => "multiclass_classification",
            ModelType::TabularClassification => "tabular_classification",
            ModelType::Regression => "regression",
            ModelType::TabularRegression => "tabular_regression",
            ModelType::Tabular => "tabular",
            ModelType::ComputerVision => "computer_vision",
            ModelType::ImageClassification => "image_classification",
            ModelType::TimeSeriesForecasting => "time_series_forecasting",
            ModelType::TextClassification => "text_classification",
            ModelType::NlpClassification => "nlp_classification",
        }
    }

    /// The task this type names; `None` for `tabular` (the target decides).
    pub fn task(self) -> Option<Task> {
        match self {
            ModelType::Regression
            | ModelType::TabularRegression
            | ModelType::TimeSeriesForecasting => Some(Task::Regression),
            ModelType::Tabular => None,
            _ => Some(Task::Classification),
        }
    }

    pub fn parse(s: &str) -> Option<ModelType> {
        ModelType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether it classifies a text column.
    pub fn reads_text(self) -> bool {
        matches!(
            self,
            ModelType::TextClassification | ModelType::NlpClassification
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelRecord {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub model_type: ModelType,
    pub architecture: Option<ArchitectureName>,
    pub dataset: Option<String>,
    pub target_accuracy: Option<f64>,
    pub status: ModelStatus,
    /// Validation accuracy of the trained model; absent until a job reports one.
    pub accuracy: Option<f64>,
    /// Validation R² of a trained regression (`accuracy` stays absent for one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    pub training_job_id: String,
    pub training_config: TrainingConfig,
    /// Hidden layer sizes of an MLP.
    #[serde(default)]
    pub hidden_layers: Option<Vec<usize>>,
    /// Classification or regression, as decided when the job was submitted (absent on records
    /// from before regression: classification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// `model_config.gbm` for gradient-boosted trees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gbm: Option<GbmOptions>,
    /// `model_config.features`: train on exactly these columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_columns: Option<Vec<String>>,
    /// `model_config.exclude`: columns left out by request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_columns: Vec<String>,
    /// A layer-list network: what it is and what it costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkInfo>,
    /// A forecaster: which column it forecasts, in what order, from how many values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastSpec>,
    /// A text classifier: the column it reads, and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextSpec>,
    /// The trained weights, once saved.
    #[serde(default)]
    pub artifact: Option<ArtifactInfo>,
    #[serde(with = "serde_millis")]
    #[schemars(with = "String")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "serde_millis")]
    #[schemars(with = "String")]
    pub updated_at: DateTime<Utc>,
}

/// `model_config.forecast`: the series and how it is cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastSpec {
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
    pub horizon: usize,
    /// The seasonal naive forecast's period; by autocorrelation when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 1000))]
    pub season: Option<usize>,
}

/// A text classifier's input: which column, how many words of each text, and how many ids
/// its vocabulary may hold (the embedding layer's `vocab_size`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TextSpec {
    pub column: String,
    #[schemars(range(min = 1, max = 4096))]
    pub max_length: usize,
    /// Ids the vocabulary may use: 0 pads, 1 is out of vocabulary, the rest are the training
    /// split's most frequent words.
    pub vocab_size: usize,
}

/// A layer-list network as planned at submission (by `analysis::network::plan`, for the
/// dataset's input shape and classes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkInfo {
    /// The preset's name, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// The layer list (`{"input_shape"?, "layers"}`; a preset expanded).
    pub architecture: serde_json::Value,
    pub input_shape: Vec<usize>,
    pub outputs: usize,
    /// The analyzer's `totals.params` for this list and input; the trained network's count.
    pub parameters: u64,
    /// Multiply-accumulates for one sample (`totals.macs`).
    pub macs: u64,
}

/// One step of the job's life, with when it began.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StatusTransition {
    pub status: String,
    #[serde(with = "serde_millis")]
    #[schemars(with = "String")]
    pub at: DateTime<Utc>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: String,
    pub model_id: String,
    pub status: JobStatus,
    pub status_transitions: Vec<StatusTransition>,
    pub training_config: TrainingConfig,
    pub ai_enhancements_scheduled: Vec<String>,
    #[serde(with = "serde_millis")]
    pub estimated_completion: DateTime<Utc>,
    pub failure_reason: Option<String>,
    #[serde(with = "serde_millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "serde_millis")]
    pub updated_at: DateTime<Utc>,
    /// The running job's step (`starting`, `loading_data`, `enhancing`, `training`, `saving`).
    #[serde(default)]
    pub secondary_status: Option<String>,
    #[serde(default)]
    pub secondary_transitions: Vec<StatusTransition>,
    #[serde(default)]
    pub progress: Option<Progress>,
    #[serde(default)]
    pub history: Vec<EpochRecord>,
    /// Validation and training metrics of the final model (JSON text in the store: see
    /// `json_text`).
    #[serde(default, with = "json_text")]
    pub final_metrics: Option<serde_json::Value>,
    /// What each AI enhancement step did and its measured effect.
    #[serde(default, with = "json_text")]
    pub enhancements: Option<serde_json::Value>,
    /// Written by the worker at least every few seconds while it runs; a running job whose
    /// heartbeat is older than the limit has lost its worker.
    #[serde(default, with = "serde_millis::option")]
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// Worker invocations that claimed the job (a hand-on or a resume adds one).
    #[serde(default)]
    pub invocations: u32,
    /// Checkpoints written, and the last one.
    #[serde(default)]
    pub checkpoints: u32,
    #[serde(default)]
    pub checkpoint: Option<CheckpointRef>,
    /// Worker seconds of the invocations that have ended (billable time).
    #[serde(default)]
    pub worker_seconds: f64,
    /// Resumes after a lost worker (at most `MLAAS_MAX_RESUMES`).
    #[serde(default)]
    pub resumes: u32,
    /// The sweep this job is a trial of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<sweep::TrialRef>,
}

impl JobRecord {
    /// A new job with no history yet; the caller records its first transition.
    pub fn queued(
        id: String,
        model_id: String,
        training_config: TrainingConfig,
        ai_enhancements_scheduled: Vec<String>,
        estimated_completion: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> JobRecord {
        JobRecord {
            id,
            model_id,
            status: JobStatus::Queued,
            status_transitions: Vec::new(),
            training_config,
            ai_enhancements_scheduled,
            estimated_completion,
            failure_reason: None,
            created_at: now,
            updated_at: now,
            secondary_status: None,
            secondary_transitions: Vec::new(),
            progress: None,
            history: Vec::new(),
            final_metrics: None,
            enhancements: None,
            heartbeat_at: None,
            invocations: 0,
            checkpoints: 0,
            checkpoint: None,
            worker_seconds: 0.0,
            resumes: 0,
            sweep: None,
        }
    }

    /// Moves the running job to another step, recording when.
    pub fn step(&mut self, status: &str, at: DateTime<Utc>, message: Option<String>) {
        self.secondary_status = Some(status.to_string());
        self.updated_at = at;
        self.heartbeat_at = Some(at);
        self.secondary_transitions.push(StatusTransition {
            status: status.to_string(),
            at,
            message,
        });
    }

    /// Moves the job to `status`, recording when, so the history shows every step.
    pub fn transition(&mut self, status: JobStatus, at: DateTime<Utc>, message: Option<String>) {
        self.status = status;
        self.updated_at = at;
        self.status_transitions.push(StatusTransition {
            status: status.as_str().to_string(),
            at,
            message,
        });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DatasetOrigin {
    Generated,
    Uploaded,
}

/// A stored dataset's column, as it was read (defined by the synthetic-data engine, which
/// types the columns).
pub use synth::{ColumnImportance, DatasetColumn, DroppedColumn};

/// A stored tabular dataset. The body lives in the blob store (CSV and JSONL side by side)
/// with its full schema as JSON; the record stays small (DynamoDB items stop at 400 KB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRecord {
    pub id: String,
    pub name: Option<String>,
    pub origin: DatasetOrigin,
    pub rows: u64,
    pub columns: Vec<DatasetColumn>,
    pub target: Option<String>,
    /// explicit, fitted, a provider name, builtin, or uploaded.
    pub schema_source: String,
    pub seed: Option<u64>,
    pub csv_bytes: u64,
    pub jsonl_bytes: u64,
    /// The Parquet copy's size (absent on datasets stored before Parquet, which have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parquet_bytes: Option<u64>,
    /// Quality metrics measured when the dataset was made. Stored as JSON text: a DynamoDB
    /// number has no float/integer distinction, so `1.0` would come back as `1`.
    #[serde(with = "json_text")]
    pub quality: Option<serde_json::Value>,
    #[serde(with = "serde_millis")]
    pub created_at: DateTime<Utc>,
    /// What a training request is checked against at submission (absent on records made
    /// before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_shape: Option<TrainingShape>,
    /// An image dataset (an ImageFolder upload): its shape and classes. Absent on a table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<ImageSetInfo>,
}

/// What an image dataset holds; the images themselves are one safetensors file in the blob
/// store (at `datasets/<id>.images.safetensors`): `images` (u8, `[N, H, W, C]`) and `labels` (u32,
/// `[N]`), the class names in its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImageSetInfo {
    pub height: u32,
    pub width: u32,
    /// 1 (grayscale) or 3 (RGB).
    pub channels: u32,
    /// Images per class, in class order (the folder names, sorted).
    pub classes: Vec<ClassCount>,
    /// The safetensors file's size.
    pub bytes: u64,
}

/// A dataset's size as a model sees it, counted when the dataset is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrainingShape {
    /// Features after encoding over every row: one per numeric, integer or datetime column,
    /// one per category of a categorical or boolean column (the trainer encodes over the
    /// train split, so at most this).
    pub feature_width: u64,
    /// Rows per class of the target (null targets left out), in class order; empty when the
    /// target has more than [`MAX_CLASS_COUNTS`] distinct values (a record stays small).
    pub class_counts: Vec<ClassCount>,
    /// What the target holds (absent on records stored before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetSummary>,
}

/// Distinct target values kept as class counts at most.
pub const MAX_CLASS_COUNTS: usize = 1_000;

/// A target column's kind and distinct values, counted with the training shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetSummary {
    /// `integer` (every value a whole number), `numeric` (every value a number, some not
    /// whole) or `categorical` (anything else).
    pub kind: String,
    /// Distinct non-null values.
    pub distinct: u64,
}

impl TargetSummary {
    /// The summary and the class counts to keep, from every value's count.
    pub fn of(counts: impl IntoIterator<Item = (String, u64)>) -> (TargetSummary, Vec<ClassCount>) {
        let mut all: Vec<ClassCount> = counts
            .into_iter()
            .filter(|(_, rows)| *rows > 0)
            .map(|(class, rows)| ClassCount { class, rows })
            .collect();
        all.sort_by(|a, b| a.class.cmp(&b.class));
        let numbers: Option<Vec<f64>> = all
            .iter()
            .map(|c| c.class.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect();
        let kind = match numbers {
            Some(v) if !v.is_empty() && v.iter().all(|x| x.fract() == 0.0) => "integer",
            Some(v) if !v.is_empty() => "numeric",
            _ => "categorical",
        };
        let summary = TargetSummary {
            kind: kind.into(),
            distinct: all.len() as u64,
        };
        if all.len() > MAX_CLASS_COUNTS {
            all.clear();
        }
        (summary, all)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassCount {
    pub class: String,
    pub rows: u64,
}

impl DatasetRecord {
    pub fn csv_key(&self) -> String {
        format!("datasets/{}.csv", self.id)
    }
    pub fn jsonl_key(&self) -> String {
        format!("datasets/{}.jsonl", self.id)
    }
    pub fn parquet_key(&self) -> String {
        format!("datasets/{}.parquet", self.id)
    }
    pub fn schema_key(&self) -> String {
        format!("datasets/{}.schema.json", self.id)
    }
    pub fn images_key(&self) -> String {
        format!("datasets/{}.images.safetensors", self.id)
    }
    /// Whether this is an image dataset rather than a table.
    pub fn is_images(&self) -> bool {
        self.images.is_some()
    }
}

/// Serde adapter: an optional JSON value kept as its text.
mod json_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(v: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&v.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| serde_json::from_str(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod target_summary_tests {
    use super::*;

    fn of(values: &[(&str, u64)]) -> (TargetSummary, Vec<ClassCount>) {
        TargetSummary::of(values.iter().map(|(v, n)| (v.to_string(), *n)))
    }

    #[test]
    fn kinds_and_the_cap() {
        assert_eq!(of(&[("1", 3), ("0", 2)]).0.kind, "integer");
        assert_eq!(of(&[("1.5", 3), ("0", 2)]).0.kind, "numeric");
        assert_eq!(of(&[("yes", 3), ("0", 2)]).0.kind, "categorical");
        assert_eq!(of(&[]).0.kind, "categorical");
        let (s, kept) = of(&[("b", 1), ("a", 2), ("c", 0)]);
        assert_eq!(s.distinct, 2, "zero counts are not values");
        assert_eq!(kept[0].class, "a", "in class order");
        let many: Vec<(String, u64)> = (0..=MAX_CLASS_COUNTS)
            .map(|i| (format!("{i}.5"), 1))
            .collect();
        let (s, kept) = TargetSummary::of(many);
        assert_eq!((s.kind.as_str(), s.distinct), ("numeric", 1_001));
        assert!(kept.is_empty(), "more than the cap keeps no counts");
    }
}
