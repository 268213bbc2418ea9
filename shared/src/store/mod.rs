//! One store trait, two implementations: DynamoDB in AWS, an embedded SQLite file locally.
//! Both pass the same contract suite (`tests/tests/store_contract.rs`).

pub mod dynamodb;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{Config, StoreConfig};
use crate::records::{DatasetRecord, JobRecord, JobStatus, ModelRecord, ModelStatus};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write found the record in another state (or already present).
    #[error("condition failed: {0}")]
    ConditionFailed(String),
    /// The backend could not be reached or refused the call.
    #[error("store backend error: {0}")]
    Backend(String),
    /// A stored item could not be decoded.
    #[error("corrupt record {id}: {reason}")]
    Corrupt { id: String, reason: String },
}

impl From<StoreError> for crate::error::ApiError {
    fn from(e: StoreError) -> Self {
        crate::error::ApiError::internal(e)
    }
}

/// A page request for the model list, newest first.
#[derive(Debug, Clone, Default)]
pub struct ModelQuery {
    pub status: Option<ModelStatus>,
    pub limit: usize,
    /// Resume strictly after (older than) this model id.
    pub after: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ModelPage {
    pub models: Vec<ModelRecord>,
    /// The id to resume after, when more may follow.
    pub last: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Which backend this is, for health output.
    fn backend(&self) -> &'static str;

    /// A cheap read proving the store answers now.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Writes a new model and its first job together; fails if either id exists.
    async fn create_training(&self, model: &ModelRecord, job: &JobRecord)
        -> Result<(), StoreError>;

    async fn get_model(&self, id: &str) -> Result<Option<ModelRecord>, StoreError>;

    async fn get_job(&self, id: &str) -> Result<Option<JobRecord>, StoreError>;

    /// Replaces the model record, which must exist.
    async fn put_model(&self, model: &ModelRecord) -> Result<(), StoreError>;

    /// Replaces the job record only if its stored status is still `expected`: the claim
    /// (`queued → in_progress`) and every later transition are compare-and-set.
    async fn put_job_if(&self, job: &JobRecord, expected: JobStatus) -> Result<(), StoreError>;

    async fn list_models(&self, query: &ModelQuery) -> Result<ModelPage, StoreError>;

    /// How many models are in each status, read in one pass (the list endpoint needs both
    /// its filter's total and the running count).
    async fn model_counts(&self) -> Result<ModelCounts, StoreError>;

    /// Adds to a provider's totals for a UTC day, atomically (concurrent adds all count).
    async fn add_usage(&self, day: &str, delta: &UsageDelta) -> Result<(), StoreError>;

    /// The totals of the given days, every provider that has any.
    async fn usage(&self, days: &[String]) -> Result<Vec<UsageRow>, StoreError>;

    /// Counts one request in a rate-limit window, unless the window already holds `limit`:
    /// atomically, so concurrent instances together admit exactly `limit`. The window's
    /// record expires at `expires_at` (unix seconds).
    async fn hit_window(
        &self,
        key: &str,
        window_start: i64,
        limit: u32,
        expires_at: i64,
    ) -> Result<WindowHit, StoreError>;

    /// Stores a new dataset record; fails if the id exists.
    async fn create_dataset(&self, dataset: &DatasetRecord) -> Result<(), StoreError>;

    async fn get_dataset(&self, id: &str) -> Result<Option<DatasetRecord>, StoreError>;

    /// Datasets newest first, strictly older than `after` when given.
    async fn list_datasets(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<DatasetPage, StoreError>;
}

/// Models per status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelCounts {
    pub by_status: Vec<(ModelStatus, u64)>,
}

impl ModelCounts {
    pub fn of(&self, status: ModelStatus) -> u64 {
        self.by_status
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }

    pub fn total(&self) -> u64 {
        self.by_status.iter().map(|(_, n)| n).sum()
    }

    /// The total with `status`, or of all models without one.
    pub fn matching(&self, status: Option<ModelStatus>) -> u64 {
        status.map_or_else(|| self.total(), |s| self.of(s))
    }

    pub fn add(&mut self, status: ModelStatus, n: u64) {
        match self.by_status.iter_mut().find(|(s, _)| *s == status) {
            Some((_, count)) => *count += n,
            None => self.by_status.push((status, n)),
        }
    }
}

/// The outcome of counting a request in its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowHit {
    pub allowed: bool,
    /// Requests counted in the window, this one included when allowed.
    pub count: u32,
}

#[derive(Debug, Clone)]
pub struct DatasetPage {
    pub datasets: Vec<DatasetRecord>,
    /// The id to resume after, when more may follow.
    pub last: Option<String>,
}

/// What one request consumed at one provider.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageDelta {
    pub provider: String,
    pub calls: u64,
    pub failed_calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    /// Known cost in USD (0 when neither the provider nor the price table gives one).
    pub cost_usd: f64,
}

/// A provider's totals for one day.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UsageRow {
    pub day: String,
    pub provider: String,
    pub calls: u64,
    pub failed_calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    pub cost_usd: f64,
}

pub type SharedStore = Arc<dyn Store>;

/// Opens the store the configuration names.
pub async fn open(config: &Config) -> Result<SharedStore, StoreError> {
    match &config.store {
        StoreConfig::Sqlite { path } => Ok(Arc::new(sqlite::SqliteStore::open(path)?)),
        StoreConfig::Dynamo {
            models_table,
            jobs_table,
            meta_table,
        } => {
            let sdk = aws_config::load_from_env().await;
            let client = aws_sdk_dynamodb::Client::new(&sdk);
            Ok(Arc::new(dynamodb::DynamoStore::new(
                client,
                dynamodb::Tables {
                    models: models_table.clone(),
                    jobs: jobs_table.clone(),
                    meta: meta_table.clone(),
                },
            )))
        }
    }
}
