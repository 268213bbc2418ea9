//! What every handler receives: the configuration, the store and the AI orchestrator.

use std::sync::Arc;

use async_trait::async_trait;

use crate::blobs::{LocalBlobs, S3Blobs, SharedBlobs};
use crate::config::{BlobConfig, Config};
use crate::orchestrator::Orchestrator;
use crate::records::sweep::SweepRecord;
use crate::records::{DatasetRecord, JobRecord, JobStatus, ModelRecord};
use crate::store::{
    self, DatasetPage, DatasetStore, MetaStore, ModelCounts, ModelPage, ModelQuery, ModelStore,
    ProviderFailure, ProviderHealth, SharedStore, StoreError, SweepPage, UsageDelta, UsageRow,
    WindowHit,
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
        // Every store and blob call counts towards the request's Server-Timing `store`.
        let store: SharedStore = Arc::new(crate::store::timed::Timed(store));
        let blobs: SharedBlobs = Arc::new(crate::blobs::TimedBlobs(blobs));
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

/// Implements a store trait for `UnavailableStore` from its methods' signatures: every
/// call fails with the reason the store did not open.
/// Methods that answer are given first, as written.
macro_rules! unavailable {
    ($trait:ident { $([$($answers:tt)*])? $(fn $name:ident(&self $(, $arg:ty)*) -> $ret:ty;)* }) => {
        #[async_trait]
        impl $trait for UnavailableStore {
            $($($answers)*)?
            $(async fn $name(&self $(, _: $arg)*) -> $ret {
                self.fail()
            })*
        }
    };
}

unavailable!(ModelStore {
    fn create_training(&self, &ModelRecord, &JobRecord) -> Result<(), StoreError>;
    fn get_model(&self, &str) -> Result<Option<ModelRecord>, StoreError>;
    fn get_job(&self, &str) -> Result<Option<JobRecord>, StoreError>;
    fn put_model(&self, &ModelRecord) -> Result<(), StoreError>;
    fn put_job_if(&self, &JobRecord, JobStatus) -> Result<(), StoreError>;
    fn finish_job(&self, &JobRecord, JobStatus, &ModelRecord) -> Result<(), StoreError>;
    fn list_models(&self, &ModelQuery) -> Result<ModelPage, StoreError>;
    fn model_counts(&self) -> Result<ModelCounts, StoreError>;
    fn create_sweep(&self, &SweepRecord) -> Result<(), StoreError>;
    fn get_sweep(&self, &str) -> Result<Option<SweepRecord>, StoreError>;
    fn list_sweeps(&self, usize, Option<&str>) -> Result<SweepPage, StoreError>;
    fn put_sweep_if(&self, &SweepRecord, u64) -> Result<(), StoreError>;
});

unavailable!(DatasetStore {
    fn create_dataset(&self, &DatasetRecord) -> Result<(), StoreError>;
    fn get_dataset(&self, &str) -> Result<Option<DatasetRecord>, StoreError>;
    fn list_datasets(&self, usize, Option<&str>) -> Result<DatasetPage, StoreError>;
});

unavailable!(MetaStore {
    // Health reports which store is missing.
    [fn backend(&self) -> &'static str { "unavailable" }]
    fn ping(&self) -> Result<(), StoreError>;
    fn add_usage(&self, &str, &UsageDelta) -> Result<(), StoreError>;
    fn usage(&self, &[String]) -> Result<Vec<UsageRow>, StoreError>;
    fn hit_window(&self, &str, i64, u32, i64) -> Result<WindowHit, StoreError>;
    fn claim_idempotency(&self, &IdempotencyClaim) -> Result<Claim, StoreError>;
    fn finish_idempotency(&self, &str, &str, &StoredResponse) -> Result<(), StoreError>;
    fn release_idempotency(&self, &str, &str) -> Result<(), StoreError>;
    fn cache_get(&self, &str, i64) -> Result<Option<CachedResponse>, StoreError>;
    fn cache_put(&self, &str, &CachedResponse, i64) -> Result<(), StoreError>;
    fn provider_health(&self) -> Result<Vec<ProviderHealth>, StoreError>;
    fn provider_failed(&self, &ProviderFailure) -> Result<ProviderHealth, StoreError>;
    fn provider_succeeded(&self, &str) -> Result<(), StoreError>;
});
