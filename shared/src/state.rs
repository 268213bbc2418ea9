//! What every handler receives: the configuration, the store and the AI orchestrator.

use std::sync::Arc;

use async_trait::async_trait;

use crate::blobs::{LocalBlobs, S3Blobs, SharedBlobs};
use crate::config::{BlobConfig, Config};
use crate::orchestrator::Orchestrator;
use crate::records::{DatasetRecord, JobRecord, JobStatus, ModelRecord};
use crate::store::{
    self, DatasetPage, ModelCounts, ModelPage, ModelQuery, ProviderFailure, ProviderHealth,
    SharedStore, Store, StoreError, UsageDelta, UsageRow, WindowHit,
};
use crate::store::{CachedResponse, Claim, IdempotencyClaim, StoredResponse};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: SharedStore,
    pub blobs: SharedBlobs,
    pub ai: Arc<Orchestrator>,
}

impl AppState {
    /// With the blob store the configuration names, when it needs no AWS client (local).
    pub fn new(config: Config, store: SharedStore) -> Self {
        let blobs: SharedBlobs = match &config.blobs {
            BlobConfig::Local { root } => {
                Arc::new(LocalBlobs::new(root).with_urls(config.local_blob_urls.clone()))
            }
            // Only `from_env` builds S3 clients; tests pass their S3 store explicitly.
            BlobConfig::S3 { .. } => {
                Arc::new(LocalBlobs::new(std::env::temp_dir().join("mlaas-blobs")))
            }
        };
        AppState::with_blobs(config, store, blobs)
    }

    pub fn with_blobs(config: Config, store: SharedStore, blobs: SharedBlobs) -> Self {
        let ai = Arc::new(Orchestrator::from_config(&config).with_shared_health(store.clone()));
        AppState {
            config: Arc::new(config),
            store,
            blobs,
            ai,
        }
    }

    /// Replaces the orchestrator (tests use a faster retry policy).
    pub fn with_orchestrator(mut self, ai: Orchestrator) -> Self {
        self.ai = Arc::new(ai.with_shared_health(self.store.clone()));
        self
    }

    /// Loads the configuration and opens its store. A store that cannot be opened does not
    /// stop the function from starting: it answers every call with an error, so `/health`
    /// can say what is wrong in the envelope instead of API Gateway's bare 502.
    pub async fn from_env() -> AppState {
        let config = Config::from_env();
        for problem in &config.problems {
            tracing::warn!(problem = %problem, "configuration problem");
        }
        let store = match store::open(&config).await {
            Ok(store) => store,
            Err(e) => {
                tracing::error!(error = %e, "store could not be opened");
                Arc::new(UnavailableStore::new(e.to_string())) as SharedStore
            }
        };
        let blobs: SharedBlobs = match &config.blobs {
            BlobConfig::Local { root } => {
                Arc::new(LocalBlobs::new(root).with_urls(config.local_blob_urls.clone()))
            }
            BlobConfig::S3 { bucket } => {
                let sdk = crate::aws::sdk_config(config.tls_roots).await;
                Arc::new(S3Blobs::new(aws_sdk_s3::Client::new(&sdk), bucket.clone()))
            }
        };
        AppState::with_blobs(config, store, blobs)
    }
}

/// Stands in for a store that failed to open; every call reports that failure.
pub struct UnavailableStore(String);

impl UnavailableStore {
    pub fn new(reason: impl Into<String>) -> Self {
        UnavailableStore(reason.into())
    }

    fn fail<T>(&self) -> Result<T, StoreError> {
        Err(StoreError::Backend(format!(
            "store unavailable: {}",
            self.0
        )))
    }
}

#[async_trait]
impl Store for UnavailableStore {
    fn backend(&self) -> &'static str {
        "unavailable"
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.fail()
    }
    async fn create_training(&self, _: &ModelRecord, _: &JobRecord) -> Result<(), StoreError> {
        self.fail()
    }
    async fn get_model(&self, _: &str) -> Result<Option<ModelRecord>, StoreError> {
        self.fail()
    }
    async fn finish_job(
        &self,
        _: &JobRecord,
        _: JobStatus,
        _: &ModelRecord,
    ) -> Result<(), StoreError> {
        self.fail()
    }
    async fn get_job(&self, _: &str) -> Result<Option<JobRecord>, StoreError> {
        self.fail()
    }
    async fn put_model(&self, _: &ModelRecord) -> Result<(), StoreError> {
        self.fail()
    }
    async fn put_job_if(&self, _: &JobRecord, _: JobStatus) -> Result<(), StoreError> {
        self.fail()
    }
    async fn list_models(&self, _: &ModelQuery) -> Result<ModelPage, StoreError> {
        self.fail()
    }
    async fn model_counts(&self) -> Result<ModelCounts, StoreError> {
        self.fail()
    }
    async fn add_usage(&self, _: &str, _: &UsageDelta) -> Result<(), StoreError> {
        self.fail()
    }
    async fn usage(&self, _: &[String]) -> Result<Vec<UsageRow>, StoreError> {
        self.fail()
    }
    async fn create_dataset(&self, _: &DatasetRecord) -> Result<(), StoreError> {
        self.fail()
    }
    async fn hit_window(&self, _: &str, _: i64, _: u32, _: i64) -> Result<WindowHit, StoreError> {
        self.fail()
    }
    async fn get_dataset(&self, _: &str) -> Result<Option<DatasetRecord>, StoreError> {
        self.fail()
    }
    async fn list_datasets(&self, _: usize, _: Option<&str>) -> Result<DatasetPage, StoreError> {
        self.fail()
    }
    async fn claim_idempotency(&self, _: &IdempotencyClaim) -> Result<Claim, StoreError> {
        self.fail()
    }
    async fn finish_idempotency(
        &self,
        _: &str,
        _: &str,
        _: &StoredResponse,
    ) -> Result<(), StoreError> {
        self.fail()
    }
    async fn release_idempotency(&self, _: &str, _: &str) -> Result<(), StoreError> {
        self.fail()
    }
    async fn cache_get(&self, _: &str, _: i64) -> Result<Option<CachedResponse>, StoreError> {
        self.fail()
    }
    async fn cache_put(&self, _: &str, _: &CachedResponse, _: i64) -> Result<(), StoreError> {
        self.fail()
    }
    async fn provider_health(&self) -> Result<Vec<ProviderHealth>, StoreError> {
        self.fail()
    }
    async fn provider_failed(&self, _: &ProviderFailure) -> Result<ProviderHealth, StoreError> {
        self.fail()
    }
    async fn provider_succeeded(&self, _: &str) -> Result<(), StoreError> {
        self.fail()
    }
}
