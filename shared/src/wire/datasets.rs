//! `POST /v1/ai/synthetic-data` and the dataset routes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::*;

/// `quality_requirements.balance`: `natural`, `stratified`, a ratio like `1:4`, or a
/// minority/majority ratio in (0, 1].
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Balance {
    Label(String),
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    Ratio(f64),
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityRequirements {
    #[schemars(length(min = 1, max = 100))]
    pub diversity: Option<String>,
    #[schemars(length(min = 1, max = 100))]
    pub realism: Option<String>,
    pub balance: Option<Balance>,
}

/// Sample rows to fit a schema to: row objects, or CSV text with a header row.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SampleRows {
    Rows(#[schemars(length(max = 10000))] Vec<Object>),
    Csv(String),
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    Tabular,
    /// Rows grouped by `sequence_key` and ordered by `sequence_index`, fitted from
    /// `sample_rows` (README, "Sequences").
    Sequential,
    /// The same as `sequential`.
    TimeSeries,
}

/// `POST /v1/ai/synthetic-data`: `model_description` is required unless `schema` or
/// `sample_rows` is given.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [
    {"required": ["model_description"], "properties": {"model_description": {"type": "string"}}},
    {"required": ["schema"], "properties": {"schema": {"type": "object"}}},
    {"required": ["sample_rows"], "properties": {"sample_rows": {"type": ["array", "string"]}}}
]))]
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
    pub providers: Option<Vec<Provider>>,
    /// With `sample_rows`: `{"holdout": share}` keeps that share of the rows (at most 0.5) out
    /// of the fit, for `quality_metrics.privacy.dcr_overfitting_protection`.
    pub privacy: Option<PrivacyOptions>,
    /// With `sample_rows`: train a model on the generated rows and one on the real rows, test
    /// both on held-out real rows (`quality_metrics.utility`, README "Utility report").
    pub utility: Option<UtilityOptions>,
    /// At most 20 constraints that hold on every generated row (README, "Constraints").
    pub constraints: Option<Vec<synth::Constraint>>,
    /// At most 20 conditions every generated row meets: a fixed value, a range, or category
    /// shares (README, "Conditional sampling"). 422 `UNSATISFIABLE` when no row, or too few
    /// rows, can meet them.
    pub conditions: Option<Vec<synth::Condition>>,
    /// With `data_format: sequential`: the column naming each row's entity (required).
    #[schemars(length(min = 1, max = 200))]
    pub sequence_key: Option<String>,
    /// With `data_format: sequential`: the column ordering an entity's rows (numbers or ISO
    /// 8601 instants); without it the rows' order is kept.
    #[schemars(length(min = 1, max = 200))]
    pub sequence_index: Option<String>,
}

/// `privacy` of `POST /v1/ai/synthetic-data`.
/// `utility` of `POST /v1/ai/synthetic-data`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UtilityOptions {
    /// Share of `sample_rows` held out of the fit, in (0, 0.5]; default 0.2, or
    /// `privacy.holdout` (one holdout serves both reports; two different shares are a 400).
    #[schemars(range(max = 0.5))]
    pub holdout: Option<f64>,
    /// The column both models predict: a categorical or boolean column (classification,
    /// scored by accuracy) or a numeric one (regression, scored by R²). Default: the
    /// sample's target.
    #[schemars(length(min = 1, max = 200))]
    pub target: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivacyOptions {
    /// Share of `sample_rows` held out of the fit, in (0, 0.5].
    #[schemars(range(max = 0.5))]
    pub holdout: Option<f64>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct QualityMetrics {
    pub diversity_score: f64,
    pub realism_score: f64,
    pub balance_ratio: Option<f64>,
    pub method: String,
    pub details: synth::Quality,
    /// With `sample_rows`: distance to closest record and the SDMetrics protection scores of
    /// the generated rows against the real ones (README, "Privacy report").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy: Option<synth::privacy::PrivacyReport>,
    /// With `utility`: a model trained on the generated rows against one trained on the real
    /// rows, both tested on held-out real rows (README, "Utility report").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utility: Option<synth::utility::UtilityReport>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GeneratedSchema {
    pub features: Vec<String>,
    pub target: Option<String>,
    pub columns: Vec<synth::ColumnSpec>,
    pub target_spec: Option<synth::TargetSpec>,
    pub correlations: Vec<synth::Correlation>,
    pub schema_source: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DownloadUrls {
    /// The table as CSV; null for an image dataset.
    pub csv: Option<String>,
    /// The table as JSON Lines; null for an image dataset.
    pub jsonl: Option<String>,
    /// Apache Parquet, typed columns (README, "Datasets as Parquet"); null for a dataset
    /// stored before Parquet copies were kept, and for an image dataset.
    pub parquet: Option<String>,
    /// An image dataset's one file (README, "Image datasets"): tensors `images` and `labels`.
    /// Absent on a table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safetensors: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
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
    pub fit_report: Option<synth::FitReport>,
    /// With `constraints`: how each was enforced, and how many draws it rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<synth::ConstraintsReport>,
    /// With `conditions`: how each was met (sampled from the conditioned copula, or by
    /// rejection), the draws each rejected, and the share conditions' counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<synth::ConditionsReport>,
    /// With `sample_rows`: constraints every sample row satisfies, each with its support, ready
    /// to pass back as `constraints` (README, "Suggested constraints").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_constraints: Option<Vec<synth::Suggestion>>,
    /// With `data_format: sequential`: the fitted sequence model and the sequence quality
    /// (README, "Sequences").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequences: Option<Sequences>,
}

/// A sequential dataset's model and quality.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Sequences {
    pub model: synth::sequence::SequenceModel,
    pub quality: synth::sequence::SequenceQuality,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Recommendation {
    pub text: String,
    pub source: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Timings {
    pub schema_seconds: f64,
    pub generation_seconds: f64,
    pub storage_seconds: f64,
    /// The privacy report's time, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy_seconds: Option<f64>,
    /// Fitting and scoring the utility report's two models, with `utility`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utility_seconds: Option<f64>,
}

/// `200` of `POST /v1/ai/synthetic-data`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SyntheticDataResponse {
    pub status: String,
    pub provider: String,
    pub synthetic_data: SyntheticData,
    pub recommendations: Vec<String>,
    pub recommendation_details: Vec<Recommendation>,
    pub generation_time_seconds: f64,
    pub timings: Timings,
    pub provider_attempts: Vec<crate::orchestrator::Attempt>,
    pub usage: UsageBlock,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<CacheHit>,
}

/// A dataset record (as listed).
#[derive(Debug, Clone, Serialize, JsonSchema)]
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
    /// The Parquet copy's size; null when the dataset has none.
    pub parquet_bytes: Option<u64>,
    pub created_at: String,
    pub training_shape: Option<TrainingShape>,
    pub download_urls: DownloadUrls,
    /// An image dataset (an ImageFolder upload): the images' shape and the classes. Absent on
    /// a table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<ImageSetInfo>,
}

/// `GET /v1/datasets`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DatasetList {
    pub datasets: Vec<DatasetSummary>,
    pub next_token: Option<String>,
}

/// `GET /v1/datasets/{id}`: the record, its quality and its schema.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Dataset {
    #[serde(flatten)]
    pub summary: DatasetSummary,
    pub quality: Option<Object>,
    pub schema: Option<Object>,
}

/// `201` of `POST /v1/datasets`: the record and its fitted schema.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DatasetCreated {
    #[serde(flatten)]
    pub summary: DatasetSummary,
    /// The schema fitted to the table; null for an image dataset (see `images`).
    pub schema: Option<synth::DataSchema>,
    /// Constraints every row of the table satisfies, each with its support, ready to pass as
    /// `constraints` (README, "Suggested constraints"). Absent on an image dataset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_constraints: Option<Vec<synth::Suggestion>>,
}

/// `POST /v1/datasets` as JSON: the table as `csv` text or `rows` (one of them).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["csv"], "properties": {"csv": {"type": "string"}, "rows": {"type": "null"}}},
    {"required": ["rows"], "properties": {"rows": {"type": "array"}, "csv": {"type": "null"}}}
]))]
pub struct DatasetUpload {
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    #[schemars(length(min = 1, max = 200))]
    pub target: Option<String>,
    pub csv: Option<String>,
    pub rows: Option<Vec<Object>>,
}

/// `POST /v1/datasets/uploads`: a file larger than a request may carry, announced before it
/// is sent.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// `text/csv`, `application/vnd.apache.parquet` or `application/zip` (an ImageFolder
    /// archive); the PUT must send the same `Content-Type`.
    pub content_type: String,
    /// The file's size in bytes: up to 16 MiB for a table, 100 MiB for images.
    #[schemars(range(min = 1, max = 104857600))]
    pub bytes: u64,
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    /// The target column (a table).
    #[schemars(length(min = 1, max = 200))]
    pub target: Option<String>,
    /// `HxW` to resize images to (an ImageFolder archive).
    pub size: Option<String>,
}

/// `201` of `POST /v1/datasets/uploads`: where to PUT the file, then what to call.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UploadCreated {
    /// `up_` and a ULID.
    pub upload_id: String,
    /// `PUT`.
    pub method: String,
    /// A presigned S3 PUT in AWS; the dev server's signed PUT route locally.
    pub url: String,
    /// Headers the PUT must send (`Content-Type`).
    pub headers: BTreeMap<String, String>,
    pub max_bytes: u64,
    /// RFC 3339: the URL's end.
    pub expires_at: String,
    /// `POST` it once the PUT succeeded: the dataset is stored then.
    pub complete_url: String,
}
