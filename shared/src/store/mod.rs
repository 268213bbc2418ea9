//! The store by capability (models and jobs, datasets, the meta concerns), two
//! implementations: DynamoDB in AWS, an embedded SQLite file locally. Both pass the same
//! contract suite (`tests/tests/store_contract.rs`).

pub mod dynamodb;
pub mod sqlite;
pub mod timed;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{Config, StoreConfig};
use crate::records::sweep::SweepRecord;
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

/// Model records and their training jobs.
#[async_trait]
pub trait ModelStore: Send + Sync {
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

    /// A job's last transition and its model's record in one atomic write: the job only if
    /// its stored status is still `expected`, the model only if it exists. A reader never
    /// sees a finished job beside a model that still says `training` (a client that polls
    /// the job to `completed` can predict at once).
    async fn finish_job(
        &self,
        job: &JobRecord,
        expected: JobStatus,
        model: &ModelRecord,
    ) -> Result<(), StoreError>;

    async fn list_models(&self, query: &ModelQuery) -> Result<ModelPage, StoreError>;

    /// How many models are in each status, read in one pass (the list endpoint needs both
    /// its filter's total and the running count).
    async fn model_counts(&self) -> Result<ModelCounts, StoreError>;

    /// Stores a new sweep; fails if the id exists.
    async fn create_sweep(&self, sweep: &SweepRecord) -> Result<(), StoreError>;

    async fn get_sweep(&self, id: &str) -> Result<Option<SweepRecord>, StoreError>;

    /// Sweeps newest first, strictly older than `after` when given.
    async fn list_sweeps(&self, limit: usize, after: Option<&str>)
        -> Result<SweepPage, StoreError>;

    /// Replaces the sweep only if its stored `version` is still `expected` (the new record
    /// carries the next version): every sweep change is compare-and-set.
    async fn put_sweep_if(&self, sweep: &SweepRecord, expected: u64) -> Result<(), StoreError>;
}

/// Dataset records (their bodies are blobs).
#[async_trait]
pub trait DatasetStore: Send + Sync {
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

/// What every route shares beside the domain records: the store's own health, usage
/// totals, rate-limit windows, idempotency keys, the response cache and provider health.
#[async_trait]
pub trait MetaStore: Send + Sync {
    /// Which backend this is, for health output.
    fn backend(&self) -> &'static str;

    /// A cheap read proving the store answers now.
    async fn ping(&self) -> Result<(), StoreError>;

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

    /// Claims an idempotency key, atomically: exactly one of several concurrent claims of a
    /// free key is `New` (and owns it with `claim.token`). A record counts as free when it
    /// is absent, past its `expires_at`, or in flight since before `claim.stale_before`
    /// (its instance crashed). Otherwise the stored record answers: `Mismatch` when its
    /// fingerprint differs, else `InFlight` or `Done` with the stored response.
    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Claim, StoreError>;

    /// Stores the final response of the key `token` owns (`ConditionFailed` if it no longer
    /// owns it). The record keeps the claim's `expires_at`.
    async fn finish_idempotency(
        &self,
        key: &str,
        token: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;

    /// Deletes the key's in-flight record if `token` still owns it, so a retry runs again.
    async fn release_idempotency(&self, key: &str, token: &str) -> Result<(), StoreError>;

    /// A cached response, unless absent or expired at `now` (unix seconds).
    async fn cache_get(&self, key: &str, now: i64) -> Result<Option<CachedResponse>, StoreError>;

    /// Stores (or replaces) a cached response until `expires_at` (unix seconds).
    async fn cache_put(
        &self,
        key: &str,
        entry: &CachedResponse,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// Every provider's shared health (only providers that ever failed have a row).
    async fn provider_health(&self) -> Result<Vec<ProviderHealth>, StoreError>;

    /// Counts a failed call, atomically across instances (see `ProviderFailure`), and
    /// returns the provider's health after it.
    async fn provider_failed(
        &self,
        failure: &ProviderFailure,
    ) -> Result<ProviderHealth, StoreError>;

    /// A call answered: the consecutive failures and any cooldown are cleared.
    async fn provider_succeeded(&self, provider: &str) -> Result<(), StoreError>;
}

/// The whole store, for the functions that need every capability. Anything that implements
/// the three is one.
pub trait Store: ModelStore + DatasetStore + MetaStore {}

impl<T: ModelStore + DatasetStore + MetaStore + ?Sized> Store for T {}

/// A provider's health as every instance sees it: its consecutive failed calls and, while
/// it is skipped, until when (unix milliseconds) and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderHealth {
    pub provider: String,
    pub consecutive_failures: u32,
    pub cooling_until_ms: Option<i64>,
    pub reason: Option<String>,
}

/// One failed call. With `cool_at_once` (a refused key, an exhausted quota) the provider
/// cools until then and its count restarts; otherwise the count goes up by one, and the
/// call that brings it to `threshold` cools it until `cool_until_ms` and restarts the count.
#[derive(Debug, Clone)]
pub struct ProviderFailure {
    pub provider: String,
    pub cool_at_once: Option<i64>,
    pub threshold: u32,
    pub cool_until_ms: i64,
    pub reason: String,
}

/// A request's claim of an idempotency key (see `Store::claim_idempotency`).
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    /// The scoped key (client, route and the client's `Idempotency-Key`).
    pub key: String,
    /// sha256 of the request (method, path, query, body).
    pub fingerprint: String,
    /// Identifies this claim; finishing and releasing need it.
    pub token: String,
    /// Unix seconds.
    pub now: i64,
    /// An in-flight record started before this (unix seconds) is abandoned.
    pub stale_before: i64,
    /// When the record expires (unix seconds); DynamoDB's TTL removes it later.
    pub expires_at: i64,
}

/// The state of an idempotency key after a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller owns the key and runs the request.
    New,
    /// Another request with this key and body is running (since `started_at`, unix seconds).
    InFlight { started_at: i64 },
    /// The request already ran; this is its answer.
    Done(StoredResponse),
    /// The key was used with a different request.
    Mismatch,
}

/// A response as stored for replay: status, the headers worth replaying, and the body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body, base64 in storage (bodies need not be UTF-8).
    #[serde(with = "b64")]
    pub body: Vec<u8>,
}

impl StoredResponse {
    pub fn encode(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::Backend(e.to_string()))
    }

    pub fn decode(id: &str, text: &str) -> Result<Self, StoreError> {
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
            id: id.to_string(),
            reason: e.to_string(),
        })
    }
}

/// A cached answer and when it was stored (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedResponse {
    pub response: StoredResponse,
    pub stored_at: i64,
}

mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
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
pub struct SweepPage {
    pub sweeps: Vec<SweepRecord>,
    /// The id to resume after, when more may follow.
    pub last: Option<String>,
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

/// A provider's totals for one day (or, in `/v1/ai/usage`'s `totals`, the whole range).
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct UsageRow {
    /// `YYYY-MM-DD`; empty in `totals`.
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
            let sdk = crate::aws::sdk_config(config.tls_roots).await;
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
