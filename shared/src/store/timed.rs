//! A store that times every call towards the request's `store` part (`http::timing`).

use async_trait::async_trait;

use super::*;
use crate::http::timing::{timed, Part};

/// Wraps a store; each call's duration is added to the request being served.
pub struct Timed(pub SharedStore);

#[async_trait]
impl ModelStore for Timed {
    async fn create_training(
        &self,
        model: &ModelRecord,
        job: &JobRecord,
    ) -> Result<(), StoreError> {
        timed(Part::Store, self.0.create_training(model, job)).await
    }
    async fn get_model(&self, id: &str) -> Result<Option<ModelRecord>, StoreError> {
        timed(Part::Store, self.0.get_model(id)).await
    }
    async fn get_job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        timed(Part::Store, self.0.get_job(id)).await
    }
    async fn put_model(&self, model: &ModelRecord) -> Result<(), StoreError> {
        timed(Part::Store, self.0.put_model(model)).await
    }
    async fn put_job_if(&self, job: &JobRecord, expected: JobStatus) -> Result<(), StoreError> {
        timed(Part::Store, self.0.put_job_if(job, expected)).await
    }
    async fn finish_job(
        &self,
        job: &JobRecord,
        expected: JobStatus,
        model: &ModelRecord,
    ) -> Result<(), StoreError> {
        timed(Part::Store, self.0.finish_job(job, expected, model)).await
    }
    async fn list_models(&self, query: &ModelQuery) -> Result<ModelPage, StoreError> {
        timed(Part::Store, self.0.list_models(query)).await
    }
    async fn model_counts(&self) -> Result<ModelCounts, StoreError> {
        timed(Part::Store, self.0.model_counts()).await
    }
    async fn create_sweep(&self, sweep: &SweepRecord) -> Result<(), StoreError> {
        timed(Part::Store, self.0.create_sweep(sweep)).await
    }
    async fn get_sweep(&self, id: &str) -> Result<Option<SweepRecord>, StoreError> {
        timed(Part::Store, self.0.get_sweep(id)).await
    }
    async fn list_sweeps(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<SweepPage, StoreError> {
        timed(Part::Store, self.0.list_sweeps(limit, after)).await
    }
    async fn put_sweep_if(&self, sweep: &SweepRecord, expected: u64) -> Result<(), StoreError> {
        timed(Part::Store, self.0.put_sweep_if(sweep, expected)).await
    }
}

#[async_trait]
impl DatasetStore for Timed {
    async fn create_dataset(&self, dataset: &DatasetRecord) -> Result<(), StoreError> {
        timed(Part::Store, self.0.create_dataset(dataset)).await
    }
    async fn get_dataset(&self, id: &str) -> Result<Option<DatasetRecord>, StoreError> {
        timed(Part::Store, self.0.get_dataset(id)).await
    }
    async fn list_datasets(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<DatasetPage, StoreError> {
        timed(Part::Store, self.0.list_datasets(limit, after)).await
    }
}

#[async_trait]
impl MetaStore for Timed {
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        timed(Part::Store, self.0.ping()).await
    }
    async fn add_usage(&self, day: &str, delta: &UsageDelta) -> Result<(), StoreError> {
        timed(Part::Store, self.0.add_usage(day, delta)).await
    }
    async fn usage(&self, days: &[String]) -> Result<Vec<UsageRow>, StoreError> {
        timed(Part::Store, self.0.usage(days)).await
    }
    async fn hit_window(
        &self,
        key: &str,
        window_start: i64,
        limit: u32,
        expires_at: i64,
    ) -> Result<WindowHit, StoreError> {
        timed(
            Part::Store,
            self.0.hit_window(key, window_start, limit, expires_at),
        )
        .await
    }
    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Claim, StoreError> {
        timed(Part::Store, self.0.claim_idempotency(claim)).await
    }
    async fn finish_idempotency(
        &self,
        key: &str,
        token: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        timed(Part::Store, self.0.finish_idempotency(key, token, response)).await
    }
    async fn release_idempotency(&self, key: &str, token: &str) -> Result<(), StoreError> {
        timed(Part::Store, self.0.release_idempotency(key, token)).await
    }
    async fn cache_get(&self, key: &str, now: i64) -> Result<Option<CachedResponse>, StoreError> {
        timed(Part::Store, self.0.cache_get(key, now)).await
    }
    async fn cache_put(
        &self,
        key: &str,
        entry: &CachedResponse,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        timed(Part::Store, self.0.cache_put(key, entry, expires_at)).await
    }
    async fn provider_health(&self) -> Result<Vec<ProviderHealth>, StoreError> {
        timed(Part::Store, self.0.provider_health()).await
    }
    async fn provider_failed(
        &self,
        failure: &ProviderFailure,
    ) -> Result<ProviderHealth, StoreError> {
        timed(Part::Store, self.0.provider_failed(failure)).await
    }
    async fn provider_succeeded(&self, provider: &str) -> Result<(), StoreError> {
        timed(Part::Store, self.0.provider_succeeded(provider)).await
    }
}
