//! The wire types of the API as Rust types, for the OpenAPI document only: handlers build
//! their bodies with `serde_json::json!` and parse requests with `validate::Fields`, so these
//! types describe what those produce and accept. `tests/tests/openapi_*.rs` send real
//! requests through every Router and validate each answer against the schema generated from
//! these types (with undocumented properties rejected), so the two cannot drift apart.
//!
//! Request types are read with the deserialize contract (optional fields may be absent or
//! `null`: the parser treats `null` as absent); response types with the serialize contract
//! (every field present unless marked `skip_serializing_if`).

#![allow(dead_code)]

use schemars::JsonSchema;
use serde_json::{Map, Value};

use synth::DataSchema;

// The records' own types, so what the store keeps and what the document says cannot part.
pub use crate::records::{
    ArtifactInfo, DatasetColumn, DatasetOrigin, EpochRecord, JobStatus, ModelStatus, Progress,
    StatusTransition, TrainingShape,
};
pub use crate::store::UsageRow;

/// Any JSON object (its keys are described in the README).
pub type Object = Map<String, Value>;

// ---------------------------------------------------------------------------------------------
// Errors

/// Every error code the API answers with.
#[derive(JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    ValidationError,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    MissingApiKey,
    RateLimitExceeded,
    ServiceUnavailable,
    ProcessingTimeout,
    Conflict,
    Unauthorized,
    InternalError,
}

/// The error itself: a code, a message for people, and details for programs.
#[derive(JsonSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// For `VALIDATION_ERROR`: `{field, received, expected}`; for others an object of
    /// facts (limits, retry hints) or `null`.
    pub details: Value,
}

/// The envelope every error is answered in.
#[derive(JsonSchema)]
pub struct Error {
    pub error: ErrorBody,
    /// RFC 3339, UTC, milliseconds.
    pub timestamp: String,
    /// API Gateway's request id, else `req_<ulid>`; also in `x-request-id`.
    pub request_id: String,
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/// A provider name.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderName {
    Openai,
    Anthropic,
    Perplexity,
    Gemini,
    Grok,
}

/// Provider usage of one request.
#[derive(JsonSchema)]
pub struct UsageBlock {
    pub providers: Vec<Object>,
    pub total_cost_usd: f64,
    pub price_table_as_of: String,
}

/// Present on a response-cache hit (`X-Cache: HIT`).
#[derive(JsonSchema)]
pub struct CacheHit {
    pub hit: bool,
    pub stored_at: String,
    pub age_seconds: f64,
}

// ---------------------------------------------------------------------------------------------
// system

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

#[derive(JsonSchema)]
pub struct HealthServices {
    /// `operational` or `degraded`.
    pub ai_orchestrator: String,
    /// `operational` or `unavailable`.
    pub database: String,
}

#[derive(JsonSchema)]
pub struct DatabaseCheck {
    /// `sqlite` or `dynamodb`.
    pub backend: String,
    pub latency_ms: f64,
    pub error: Option<String>,
}

#[derive(JsonSchema)]
pub struct OrchestratorCheck {
    pub providers_configured: u32,
    /// `builtin_only` or `providers_with_builtin_fallback`.
    pub mode: String,
    pub configuration_problems: Vec<String>,
}

#[derive(JsonSchema)]
pub struct HealthChecks {
    pub database: DatabaseCheck,
    pub ai_orchestrator: OrchestratorCheck,
}

/// `GET /health`: 200 when healthy or degraded, 503 when unhealthy.
#[derive(JsonSchema)]
pub struct Health {
    pub status: HealthStatus,
    pub timestamp: String,
    pub version: String,
    pub services: HealthServices,
    pub failing_services: Vec<String>,
    pub checks: HealthChecks,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConfiguredState {
    Configured,
    NotConfigured,
}

#[derive(JsonSchema)]
pub struct ProviderStatus {
    pub status: ConfiguredState,
    pub capabilities: Vec<String>,
    pub model: String,
    /// The environment variable holding the key (its name, never the value).
    pub key_variable: String,
    pub cooling_down: bool,
    pub cooldown_seconds_left: Option<u64>,
}

#[derive(JsonSchema)]
pub struct ServiceStatus {
    pub openai: ProviderStatus,
    pub anthropic: ProviderStatus,
    pub perplexity: ProviderStatus,
    pub gemini: ProviderStatus,
    pub grok: ProviderStatus,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverallHealth {
    FullyConfigured,
    PartialConfiguration,
    NotConfigured,
}

/// `GET /v1/ai/status`.
#[derive(JsonSchema)]
pub struct AiStatus {
    pub service_status: ServiceStatus,
    pub overall_health: OverallHealth,
    pub configured_services: u32,
    pub total_services: u32,
}

#[derive(JsonSchema)]
pub struct UsageDay {
    pub date: String,
    pub providers: Vec<UsageRow>,
}

/// `GET /v1/ai/usage`.
#[derive(JsonSchema)]
pub struct Usage {
    pub from: String,
    pub to: String,
    pub days: Vec<UsageDay>,
    pub totals: Vec<UsageRow>,
    pub total_cost_usd: f64,
    pub price_table_as_of: String,
    pub cost_note: String,
}

// ---------------------------------------------------------------------------------------------
// models

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelType {
    Classification,
    BinaryClassification,
    MulticlassClassification,
    TabularClassification,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    LogisticRegression,
    Mlp,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    Adam,
    Adamw,
    Sgd,
}

/// `model_config` of a training request.
#[derive(JsonSchema)]
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
#[derive(JsonSchema)]
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
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainRequest {
    pub model_config: TrainModelConfig,
    pub training_config: Option<TrainTrainingConfig>,
}

/// The dataset a model trains on.
#[derive(JsonSchema)]
pub struct TrainDataset {
    pub id: String,
    pub rows: u64,
    pub target: Option<String>,
}

/// `202` of `POST /v1/models/train`.
#[derive(JsonSchema)]
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
#[derive(JsonSchema)]
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
#[derive(JsonSchema)]
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
#[derive(JsonSchema)]
pub struct ModelList {
    pub models: Vec<ModelSummary>,
    pub total_models: u64,
    pub active_training: u64,
    /// Pass as `next_token` for the next page; `null` on the last.
    pub next_token: Option<String>,
}

/// Where to look next for a model.
#[derive(JsonSchema)]
pub struct ModelLinks {
    pub status: String,
    pub metrics_svg: String,
    pub predict: String,
    pub stop: String,
}

/// `GET /v1/models/{id}`: the model record.
#[derive(JsonSchema)]
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
#[derive(JsonSchema)]
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

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopStatus {
    Stopped,
    Stopping,
}

/// `POST /v1/models/{id}/stop`: 200 `stopped` (a queued job), 202 `stopping` (a running one).
#[derive(JsonSchema)]
pub struct StopAccepted {
    pub model_id: String,
    pub training_job_id: String,
    pub status: StopStatus,
    pub monitoring_url: String,
}

/// `POST /v1/models/{id}/predict`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// Feature rows, keyed by feature name.
    #[schemars(length(min = 1, max = 1000))]
    pub rows: Vec<Object>,
}

#[derive(JsonSchema)]
pub struct Prediction {
    pub label: String,
    /// Probability of each class.
    pub probabilities: std::collections::BTreeMap<String, f64>,
}

/// `200` of `POST /v1/models/{id}/predict`.
#[derive(JsonSchema)]
pub struct Predictions {
    pub model_id: String,
    pub model_status: ModelStatus,
    pub classes: Vec<String>,
    pub features: Vec<String>,
    pub count: u32,
    pub predictions: Vec<Prediction>,
}

// ---------------------------------------------------------------------------------------------
// synthetic-data and datasets

/// `quality_requirements.balance`: `natural`, `stratified`, a ratio like `1:4`, or a
/// minority/majority ratio in (0, 1].
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum Balance {
    Label(String),
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    Ratio(f64),
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityRequirements {
    #[schemars(length(min = 1, max = 100))]
    pub diversity: Option<String>,
    #[schemars(length(min = 1, max = 100))]
    pub realism: Option<String>,
    pub balance: Option<Balance>,
}

/// Sample rows to fit a schema to: row objects, or CSV text with a header row.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum SampleRows {
    Rows(#[schemars(length(max = 10000))] Vec<Object>),
    Csv(String),
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    Tabular,
}

/// `POST /v1/ai/synthetic-data`: `model_description` is required unless `schema` or
/// `sample_rows` is given.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyntheticDataRequest {
    #[schemars(length(min = 1, max = 5000))]
    pub model_description: Option<String>,
    #[schemars(length(min = 1, max = 5000))]
    pub existing_data: Option<String>,
    /// Rows to generate, default 1000.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub target_count: Option<u64>,
    pub data_format: Option<DataFormat>,
    pub quality_requirements: Option<QualityRequirements>,
    /// Drawn (and returned) when absent.
    #[schemars(range(min = 0, max = 9_007_199_254_740_991u64))]
    pub seed: Option<u64>,
    pub schema: Option<DataSchema>,
    pub sample_rows: Option<SampleRows>,
    /// The target column of `sample_rows`.
    #[schemars(length(min = 1, max = 200))]
    pub target: Option<String>,
    /// Return the rows inline (at most 1000).
    pub include_data: Option<bool>,
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    pub providers: Option<Vec<ProviderName>>,
}

#[derive(JsonSchema)]
pub struct QualityMetrics {
    pub diversity_score: Option<f64>,
    pub realism_score: Option<f64>,
    pub balance_ratio: Option<f64>,
    pub method: String,
    pub details: Object,
}

#[derive(JsonSchema)]
pub struct GeneratedSchema {
    pub features: Vec<String>,
    pub target: Option<String>,
    pub columns: Vec<Value>,
    pub target_spec: Option<Value>,
    pub correlations: Vec<Value>,
    pub schema_source: String,
}

#[derive(JsonSchema)]
pub struct DownloadUrls {
    pub csv: String,
    pub jsonl: String,
}

#[derive(JsonSchema)]
pub struct SyntheticData {
    pub dataset_id: String,
    pub generated_samples: u64,
    pub format: String,
    pub data_format: String,
    pub quality_metrics: QualityMetrics,
    pub data_schema: GeneratedSchema,
    pub seed: u64,
    pub balance: String,
    pub download_url: String,
    pub download_urls: DownloadUrls,
    pub preview: Vec<Object>,
    /// With `include_data: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<Object>>,
    /// When the schema was fitted to `sample_rows`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fit_report: Option<Object>,
}

#[derive(JsonSchema)]
pub struct Recommendation {
    pub text: String,
    pub source: String,
    pub reason: String,
}

#[derive(JsonSchema)]
pub struct Timings {
    pub schema_seconds: f64,
    pub generation_seconds: f64,
    pub storage_seconds: f64,
}

/// `200` of `POST /v1/ai/synthetic-data`.
#[derive(JsonSchema)]
pub struct SyntheticDataResponse {
    pub status: String,
    pub provider: String,
    pub synthetic_data: SyntheticData,
    pub recommendations: Vec<String>,
    pub recommendation_details: Vec<Recommendation>,
    pub generation_time_seconds: f64,
    pub timings: Timings,
    pub provider_attempts: Vec<Value>,
    pub usage: UsageBlock,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<CacheHit>,
}

/// A dataset record (as listed).
#[derive(JsonSchema)]
pub struct DatasetSummary {
    pub id: String,
    pub name: Option<String>,
    pub origin: DatasetOrigin,
    pub rows: u64,
    pub columns: Vec<DatasetColumn>,
    pub target: Option<String>,
    pub schema_source: String,
    pub seed: Option<u64>,
    pub csv_bytes: u64,
    pub jsonl_bytes: u64,
    pub created_at: String,
    pub training_shape: Option<TrainingShape>,
    pub download_urls: DownloadUrls,
}

/// `GET /v1/datasets`.
#[derive(JsonSchema)]
pub struct DatasetList {
    pub datasets: Vec<DatasetSummary>,
    pub next_token: Option<String>,
}

/// `GET /v1/datasets/{id}`: the record, its quality and its schema.
#[derive(JsonSchema)]
pub struct Dataset {
    #[serde(flatten)]
    pub summary: DatasetSummary,
    pub quality: Option<Object>,
    pub schema: Option<Object>,
}

/// `201` of `POST /v1/datasets`: the record and its fitted schema.
#[derive(JsonSchema)]
pub struct DatasetCreated {
    #[serde(flatten)]
    pub summary: DatasetSummary,
    pub schema: Object,
}

/// `POST /v1/datasets` as JSON: the table as `csv` text or `rows` (one of them).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetUpload {
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    #[schemars(length(min = 1, max = 200))]
    pub target: Option<String>,
    pub csv: Option<String>,
    pub rows: Option<Vec<Object>>,
}

// ---------------------------------------------------------------------------------------------
// analyze

/// `POST /v1/ai/analyze`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeRequest {
    #[schemars(length(min = 1, max = 5000))]
    pub model_description: String,
    /// `{"layers": [{"type": "conv2d", ...}], "input_shape": [...]}`.
    pub architecture: Option<Object>,
    #[schemars(length(min = 1, max = 5000))]
    pub data_sample: Option<String>,
    pub performance_metrics: Option<Object>,
    pub providers: Option<Vec<ProviderName>>,
}

#[derive(JsonSchema)]
pub struct ArchitectureAssessment {
    pub strengths: Vec<String>,
    pub weaknesses: Vec<String>,
    pub overall_score: Option<f64>,
    pub strengths_detail: Vec<Object>,
    pub weaknesses_detail: Vec<Object>,
    pub score_details: Value,
    pub input_shape: Value,
    pub num_classes: Value,
    pub layers: Value,
    pub totals: Value,
    /// Training (Adam and SGD, batch 32) and inference (batch 1) memory in bytes:
    /// parameters, gradients, optimizer state, activations, input; null when a shape is
    /// unknown.
    pub memory: Value,
    pub assumptions: Value,
    pub findings: Value,
}

#[derive(JsonSchema)]
pub struct Analysis {
    pub architecture_assessment: ArchitectureAssessment,
    pub performance_analysis: Object,
    pub optimization_suggestions: Vec<Object>,
}

/// `200` of `POST /v1/ai/analyze`.
#[derive(JsonSchema)]
pub struct AnalyzeResponse {
    pub status: String,
    pub provider: String,
    pub analysis: Analysis,
    pub analysis_time_seconds: f64,
    pub provider_attempts: Vec<Value>,
    pub usage: UsageBlock,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<CacheHit>,
}

// ---------------------------------------------------------------------------------------------
// enhance

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnhancementScope {
    Architecture,
    Training,
    Data,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceConstraints {
    /// A latency such as `100ms` or `0.1s`.
    pub max_inference_latency: Option<Value>,
    /// A size such as `500MB` or `1.5GB`.
    pub max_model_size: Option<Value>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnhanceConfig {
    /// Default `accuracy`.
    #[schemars(length(min = 1, max = 100))]
    pub optimization_focus: Option<String>,
    pub performance_constraints: Option<PerformanceConstraints>,
    /// Default: all three.
    #[schemars(length(min = 1))]
    pub enhancement_scope: Option<Vec<EnhancementScope>>,
}

/// `POST /v1/ai/enhance`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnhanceRequest {
    #[schemars(length(min = 1, max = 5000))]
    pub model_description: String,
    #[schemars(length(min = 1, max = 5000))]
    pub training_data: Option<String>,
    pub performance_metrics: Option<Object>,
    pub architecture: Option<Object>,
    pub config: Option<EnhanceConfig>,
    pub providers: Option<Vec<ProviderName>>,
}

#[derive(JsonSchema)]
pub struct EnhancementSummary {
    pub providers_used: Vec<String>,
    pub total_processing_time: f64,
    pub confidence_score: f64,
    pub confidence_basis: String,
    pub parts_timed_out: Vec<String>,
    pub optimization_focus: String,
}

#[derive(JsonSchema)]
pub struct Enhancements {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthetic_data: Option<Object>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture_optimization: Option<Object>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub research_insights: Option<Object>,
}

/// `200` of `POST /v1/ai/enhance`.
#[derive(JsonSchema)]
pub struct EnhanceResponse {
    /// `success`, or `partial` when a part's provider timed out.
    pub status: String,
    pub enhancement_summary: EnhancementSummary,
    pub enhancements: Enhancements,
    pub implementation_roadmap: Vec<Object>,
    /// Checks of `config.performance_constraints`, one per constraint given.
    pub constraints: Vec<Object>,
    pub provider_attempts: Object,
    pub usage: UsageBlock,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<CacheHit>,
}
