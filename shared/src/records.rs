//! The records the API keeps: a model and the training job that builds it. Stored as-is in
//! SQLite (JSON) and DynamoDB (serde_dynamo), rendered as-is by the API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::serde_millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// SageMaker-style primary job status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    InProgress,
    Completed,
    Failed,
    Stopped,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::InProgress => "in_progress",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingConfig {
    pub epochs: u32,
    pub batch_size: u32,
    pub learning_rate: f64,
    pub ai_enhancement: bool,
    pub providers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub model_type: String,
    pub architecture: Option<String>,
    pub dataset: Option<String>,
    pub target_accuracy: Option<f64>,
    pub status: ModelStatus,
    /// Validation accuracy of the trained model; absent until a job reports one.
    pub accuracy: Option<f64>,
    pub training_job_id: String,
    pub training_config: TrainingConfig,
    #[serde(with = "serde_millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "serde_millis")]
    pub updated_at: DateTime<Utc>,
}

/// One step of the job's life, with when it began.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusTransition {
    pub status: String,
    #[serde(with = "serde_millis")]
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
}

impl JobRecord {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetOrigin {
    Generated,
    Uploaded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetColumn {
    pub name: String,
    /// numeric, integer, categorical, boolean or datetime.
    pub kind: String,
}

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
    /// Quality metrics measured when the dataset was made. Stored as JSON text: a DynamoDB
    /// number has no float/integer distinction, so `1.0` would come back as `1`.
    #[serde(with = "json_text")]
    pub quality: Option<serde_json::Value>,
    #[serde(with = "serde_millis")]
    pub created_at: DateTime<Utc>,
}

impl DatasetRecord {
    pub fn csv_key(&self) -> String {
        format!("datasets/{}.csv", self.id)
    }
    pub fn jsonl_key(&self) -> String {
        format!("datasets/{}.jsonl", self.id)
    }
    pub fn schema_key(&self) -> String {
        format!("datasets/{}.schema.json", self.id)
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
