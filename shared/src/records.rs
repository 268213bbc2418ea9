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
