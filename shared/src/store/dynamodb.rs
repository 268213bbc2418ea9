//! The DynamoDB store. Items are the records themselves, mapped with serde_dynamo.
//!
//! - models table: key `id`; GSI `by_created` (key `list_key` = "model", sort `id`) lists
//!   models newest first, since ids are ULIDs and sort by creation time. One constant
//!   partition is fine at this API's write rate (well under 1,000 writes/s).
//! - jobs table: key `id`; its stream (new images of inserted items) drives the worker.
//! - meta table: key (`pk`, `sk`), TTL attribute `expires_at`: per-day usage totals
//!   (`usage#<day>`, provider) updated with atomic `ADD`; dataset records (`dataset`, id),
//!   listed newest first by querying the one partition backwards; sweep records (`sweep`,
//!   id), replaced by a put conditional on their `version`; rate-limit windows
//!   (`rl#<endpoint>#<client>`, window start) counted with a conditional `ADD`, expiring by
//!   TTL; idempotency records (`idem#<scoped key>`, `idem`) claimed with a conditional
//!   PutItem; cached answers (`cache#<hash>`, `cache`), both expiring by TTL (reads check
//!   `expires_at` themselves, since TTL deletion lags).
//!
//! Every state change is a conditional write, so two instances never both win.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, ScalarAttributeType, StreamSpecification,
    StreamViewType, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;

use super::{
    CachedResponse, Claim, DatasetPage, DatasetStore, IdempotencyClaim, MetaStore, ModelCounts,
    ModelPage, ModelQuery, ModelStore, ProviderFailure, ProviderHealth, StoreError, StoredResponse,
    SweepPage, UsageDelta, UsageRow, WindowHit,
};
use crate::records::sweep::SweepRecord;
use crate::records::{DatasetRecord, JobRecord, JobStatus, ModelRecord, ModelStatus};

pub const LIST_INDEX: &str = "by_created";
const LIST_KEY: &str = "list_key";
const LIST_VALUE: &str = "model";
const DATASET_PK: &str = "dataset";
const SWEEP_PK: &str = "sweep";
const IDEM_SK: &str = "idem";
const CACHE_SK: &str = "cache";
/// Provider health rows share one partition, so one Query reads them all.
const HEALTH_PK: &str = "provider_health";
const IN_FLIGHT: &str = "in_flight";
const DONE: &str = "done";

fn health_of(item: &Item) -> Option<ProviderHealth> {
    Some(ProviderHealth {
        provider: str_attr(item, "sk")?.to_string(),
        consecutive_failures: num_attr(item, "consecutive_failures").unwrap_or(0) as u32,
        cooling_until_ms: num_attr(item, "cooling_until_ms"),
        reason: str_attr(item, "reason").map(str::to_string),
    })
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn num_attr(item: &Item, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}

fn str_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.as_str()),
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub struct Tables {
    pub models: String,
    pub jobs: String,
    pub meta: String,
}

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
}

type Item = HashMap<String, AttributeValue>;

fn backend<E>(e: E) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    StoreError::Backend(DisplayErrorContext(&e).to_string())
}

fn to_item<T: serde::Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let id = match item.get("id") {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => "<no id>".to_string(),
    };
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt {
        id,
        reason: e.to_string(),
    })
}

/// A record kept in the meta table under (`pk`, `id`).
fn meta_item<T: serde::Serialize>(pk: &str, id: &str, record: &T) -> Result<Item, StoreError> {
    let mut item = to_item(record)?;
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(id));
    Ok(item)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn model_item(model: &ModelRecord) -> Result<Item, StoreError> {
    let mut item = to_item(model)?;
    item.insert(LIST_KEY.into(), s(LIST_VALUE));
    Ok(item)
}

/// A conditional write's outcome (PutItem, UpdateItem, DeleteItem): a failed condition is
/// `ConditionFailed(what)`.
fn conditional_outcome<R, E>(
    result: Result<R, aws_sdk_dynamodb::error::SdkError<E, HttpResponse>>,
    what: impl FnOnce() -> String,
) -> Result<(), StoreError>
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            let code = e.as_service_error().and_then(|se| se.code());
            if code == Some("ConditionalCheckFailedException") {
                Err(StoreError::ConditionFailed(what()))
            } else {
                Err(backend(e))
            }
        }
    }
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        DynamoStore { client, tables }
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    async fn get<T: DeserializeOwned>(
        &self,
        table: &str,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key("id", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        out.item.map(from_item).transpose()
    }

    /// Creates both tables as `template.yaml` declares them, for tests and local DynamoDB.
    /// Polls `DescribeTable` itself: the SDK waiter sleeps 20 s between polls.
    pub async fn create_tables(&self) -> Result<(), StoreError> {
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))
        };
        let index = GlobalSecondaryIndex::builder()
            .index_name(LIST_INDEX)
            .key_schema(key(LIST_KEY, KeyType::Hash)?)
            .key_schema(key("id", KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        self.client
            .create_table()
            .table_name(&self.tables.models)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("id")?)
            .attribute_definitions(attr(LIST_KEY)?)
            .key_schema(key("id", KeyType::Hash)?)
            .global_secondary_indexes(index)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        self.client
            .create_table()
            .table_name(&self.tables.jobs)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("id")?)
            .key_schema(key("id", KeyType::Hash)?)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()
                    .map_err(|e| StoreError::Backend(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        self.client
            .create_table()
            .table_name(&self.tables.meta)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        for table in [&self.tables.models, &self.tables.jobs, &self.tables.meta] {
            for _ in 0..100 {
                let out = self
                    .client
                    .describe_table()
                    .table_name(table)
                    .send()
                    .await
                    .map_err(|e| backend(e.into_service_error()))?;
                let active = out
                    .table
                    .and_then(|t| t.table_status)
                    .is_some_and(|s| s.as_str() == "ACTIVE");
                if active {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }
}

/// A transaction's put of `item` into `table`, with the condition already on `put`.
fn conditional_put(
    table: &str,
    item: Item,
    put: aws_sdk_dynamodb::types::builders::PutBuilder,
) -> Result<TransactWriteItem, StoreError> {
    let put = put
        .table_name(table)
        .set_item(Some(item))
        .build()
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The condition of a put that creates a record.
const NEW_ID: &str = "attribute_not_exists(id)";

impl DynamoStore {
    /// Puts a new meta-table record; `ConditionFailed(conflict())` if its key exists.
    async fn create_meta(
        &self,
        item: Item,
        conflict: impl FnOnce() -> String,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.meta)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        conditional_outcome(result, conflict)
    }

    /// A meta-table record by (`pk`, `id`), read consistently.
    async fn get_meta<T: DeserializeOwned>(
        &self,
        pk: &str,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.meta)
            .key("pk", s(pk))
            .key("sk", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        out.item.map(from_item).transpose()
    }

    /// The meta-table records of partition `pk` newest first (ids sort by time), strictly
    /// older than `after`, and the id to resume after when more may follow.
    async fn page_meta<T: DeserializeOwned>(
        &self,
        pk: &str,
        limit: usize,
        after: Option<&str>,
        id_of: impl Fn(&T) -> String,
    ) -> Result<(Vec<T>, Option<String>), StoreError> {
        let limit = limit.max(1);
        let mut req = self
            .client
            .query()
            .table_name(&self.tables.meta)
            .scan_index_forward(false)
            .limit(limit as i32)
            .expression_attribute_values(":pk", s(pk));
        req = match after {
            Some(after) => req
                .key_condition_expression("pk = :pk AND sk < :after")
                .expression_attribute_values(":after", s(after)),
            None => req.key_condition_expression("pk = :pk"),
        };
        let out = req
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        let records: Vec<T> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        let last = out
            .last_evaluated_key
            .and_then(|_| records.last().map(&id_of));
        Ok((records, last))
    }

    /// Writes `items` atomically; a failed condition is `ConditionFailed(conflict())`.
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        conflict: impl FnOnce() -> String,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = e.into_service_error();
                if e.is_transaction_canceled_exception() {
                    Err(StoreError::ConditionFailed(conflict()))
                } else {
                    Err(backend(e))
                }
            }
        }
    }
}

#[async_trait]
impl ModelStore for DynamoStore {
    async fn create_training(
        &self,
        model: &ModelRecord,
        job: &JobRecord,
    ) -> Result<(), StoreError> {
        let new = |table: &str, item: Item| {
            conditional_put(table, item, Put::builder().condition_expression(NEW_ID))
        };
        self.transact(
            vec![
                new(&self.tables.models, model_item(model)?)?,
                new(&self.tables.jobs, to_item(job)?)?,
            ],
            || format!("model {} or job {} already exists", model.id, job.id),
        )
        .await
    }

    async fn get_model(&self, id: &str) -> Result<Option<ModelRecord>, StoreError> {
        self.get(&self.tables.models, id).await
    }

    async fn get_job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        self.get(&self.tables.jobs, id).await
    }

    async fn put_model(&self, model: &ModelRecord) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.models)
            .set_item(Some(model_item(model)?))
            .condition_expression("attribute_exists(id)")
            .send()
            .await;
        conditional_outcome(result, || format!("model {} does not exist", model.id))
    }

    async fn put_job_if(&self, job: &JobRecord, expected: JobStatus) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.jobs)
            .set_item(Some(to_item(job)?))
            .condition_expression("#s = :expected")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":expected", s(expected.as_str()))
            .send()
            .await;
        conditional_outcome(result, || {
            format!("job {} is not {}", job.id, expected.as_str())
        })
    }

    async fn finish_job(
        &self,
        job: &JobRecord,
        expected: JobStatus,
        model: &ModelRecord,
    ) -> Result<(), StoreError> {
        let job_put = Put::builder()
            .condition_expression("#s = :expected")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":expected", s(expected.as_str()));
        let model_put = Put::builder().condition_expression("attribute_exists(id)");
        self.transact(
            vec![
                conditional_put(&self.tables.jobs, to_item(job)?, job_put)?,
                conditional_put(&self.tables.models, model_item(model)?, model_put)?,
            ],
            || {
                format!(
                    "job {} is not {} or model {} does not exist",
                    job.id,
                    expected.as_str(),
                    model.id
                )
            },
        )
        .await
    }

    async fn list_models(&self, query: &ModelQuery) -> Result<ModelPage, StoreError> {
        let limit = query.limit.max(1);
        let mut models: Vec<ModelRecord> = Vec::with_capacity(limit);
        let mut start: Option<Item> = None;
        // A filter applies after DynamoDB's own page limit, so keep reading until the page
        // is full or the index is exhausted.
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.tables.models)
                .index_name(LIST_INDEX)
                .scan_index_forward(false)
                .limit((limit - models.len()) as i32)
                .expression_attribute_values(":k", s(LIST_VALUE))
                .set_exclusive_start_key(start.take());
            req = match &query.after {
                Some(after) => req
                    .key_condition_expression("list_key = :k AND id < :after")
                    .expression_attribute_values(":after", s(after)),
                None => req.key_condition_expression("list_key = :k"),
            };
            if let Some(status) = query.status {
                req = req
                    .filter_expression("#s = :s")
                    .expression_attribute_names("#s", "status")
                    .expression_attribute_values(":s", s(status.as_str()));
            }
            let out = req
                .send()
                .await
                .map_err(|e| backend(e.into_service_error()))?;
            for item in out.items.unwrap_or_default() {
                models.push(from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(key) if models.len() < limit => start = Some(key),
                Some(_) => {
                    let last = models.last().map(|m| m.id.clone());
                    return Ok(ModelPage { models, last });
                }
                None => return Ok(ModelPage { models, last: None }),
            }
        }
    }

    async fn model_counts(&self) -> Result<ModelCounts, StoreError> {
        let mut counts = ModelCounts::default();
        let mut start: Option<Item> = None;
        // One pass over the index reading only `status`, instead of a COUNT query per status.
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.tables.models)
                .index_name(LIST_INDEX)
                .key_condition_expression("list_key = :k")
                .expression_attribute_values(":k", s(LIST_VALUE))
                .projection_expression("#s")
                .expression_attribute_names("#s", "status")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend(e.into_service_error()))?;
            for item in out.items.unwrap_or_default() {
                let status = match item.get("status") {
                    Some(AttributeValue::S(v)) => ModelStatus::parse(v),
                    _ => None,
                };
                match status {
                    Some(status) => counts.add(status, 1),
                    None => {
                        return Err(StoreError::Corrupt {
                            id: "models".into(),
                            reason: "a model without a known status".into(),
                        })
                    }
                }
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(counts),
            }
        }
    }

    async fn create_sweep(&self, sweep: &SweepRecord) -> Result<(), StoreError> {
        self.create_meta(meta_item(SWEEP_PK, &sweep.id, sweep)?, || {
            format!("sweep {} already exists", sweep.id)
        })
        .await
    }

    async fn get_sweep(&self, id: &str) -> Result<Option<SweepRecord>, StoreError> {
        self.get_meta(SWEEP_PK, id).await
    }

    async fn list_sweeps(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<SweepPage, StoreError> {
        let (sweeps, last) = self
            .page_meta(SWEEP_PK, limit, after, |w: &SweepRecord| w.id.clone())
            .await?;
        Ok(SweepPage { sweeps, last })
    }

    async fn put_sweep_if(&self, sweep: &SweepRecord, expected: u64) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.meta)
            .set_item(Some(meta_item(SWEEP_PK, &sweep.id, sweep)?))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", n(expected as i64))
            .send()
            .await;
        conditional_outcome(result, || {
            format!("sweep {} is not at version {expected}", sweep.id)
        })
    }
}

#[async_trait]
impl DatasetStore for DynamoStore {
    async fn create_dataset(&self, dataset: &DatasetRecord) -> Result<(), StoreError> {
        self.create_meta(meta_item(DATASET_PK, &dataset.id, dataset)?, || {
            format!("dataset {} already exists", dataset.id)
        })
        .await
    }

    async fn get_dataset(&self, id: &str) -> Result<Option<DatasetRecord>, StoreError> {
        self.get_meta(DATASET_PK, id).await
    }

    async fn list_datasets(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<DatasetPage, StoreError> {
        let (datasets, last) = self
            .page_meta(DATASET_PK, limit, after, |d: &DatasetRecord| d.id.clone())
            .await?;
        Ok(DatasetPage { datasets, last })
    }
}

#[async_trait]
impl MetaStore for DynamoStore {
    fn backend(&self) -> &'static str {
        "dynamodb"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.get::<serde_json::Value>(&self.tables.models, "__ping__")
            .await
            .map(|_| ())
    }

    async fn add_usage(&self, day: &str, delta: &UsageDelta) -> Result<(), StoreError> {
        let n = |v: u64| AttributeValue::N(v.to_string());
        self.client
            .update_item()
            .table_name(&self.tables.meta)
            .key("pk", s(&format!("usage#{day}")))
            .key("sk", s(&delta.provider))
            .update_expression(
                "ADD calls :c, failed_calls :f, input_tokens :i, output_tokens :o, total_tokens :t, cost_usd :u",
            )
            .expression_attribute_values(":c", n(delta.calls))
            .expression_attribute_values(":f", n(delta.failed_calls))
            .expression_attribute_values(":i", n(delta.input_tokens))
            .expression_attribute_values(":o", n(delta.output_tokens))
            .expression_attribute_values(":t", n(delta.total_tokens))
            .expression_attribute_values(":u", AttributeValue::N(format!("{:.10}", delta.cost_usd)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| backend(e.into_service_error()))
    }

    async fn usage(&self, days: &[String]) -> Result<Vec<UsageRow>, StoreError> {
        let mut out = Vec::new();
        for day in days {
            let mut start: Option<Item> = None;
            loop {
                let page = self
                    .client
                    .query()
                    .table_name(&self.tables.meta)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(&format!("usage#{day}")))
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| backend(e.into_service_error()))?;
                for item in page.items.unwrap_or_default() {
                    let num = |k: &str| match item.get(k) {
                        Some(AttributeValue::N(v)) => v.parse::<f64>().unwrap_or(0.0),
                        _ => 0.0,
                    };
                    let provider = match item.get("sk") {
                        Some(AttributeValue::S(p)) => p.clone(),
                        _ => continue,
                    };
                    out.push(UsageRow {
                        day: day.clone(),
                        provider,
                        calls: num("calls") as u64,
                        failed_calls: num("failed_calls") as u64,
                        input_tokens: num("input_tokens") as u64,
                        output_tokens: num("output_tokens") as u64,
                        total_tokens: num("total_tokens") as u64,
                        cost_usd: num("cost_usd"),
                    });
                }
                match page.last_evaluated_key {
                    Some(key) => start = Some(key),
                    None => break,
                }
            }
        }
        Ok(out)
    }

    async fn hit_window(
        &self,
        key: &str,
        window_start: i64,
        limit: u32,
        expires_at: i64,
    ) -> Result<WindowHit, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.meta)
            .key("pk", s(&format!("rl#{key}")))
            .key("sk", s(&window_start.to_string()))
            .update_expression("ADD hits :one SET expires_at = :exp")
            .condition_expression("attribute_not_exists(hits) OR hits < :limit")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":exp", AttributeValue::N(expires_at.to_string()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let count = match out.attributes.as_ref().and_then(|a| a.get("hits")) {
                    Some(AttributeValue::N(n)) => n.parse().unwrap_or(limit),
                    _ => limit,
                };
                Ok(WindowHit {
                    allowed: true,
                    count,
                })
            }
            Err(e) => {
                let e = e.into_service_error();
                if e.is_conditional_check_failed_exception() {
                    Ok(WindowHit {
                        allowed: false,
                        count: limit,
                    })
                } else {
                    Err(backend(e))
                }
            }
        }
    }

    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Claim, StoreError> {
        let pk = format!("idem#{}", claim.key);
        // A failed condition reads the record to say why; if it vanished in between
        // (released or expired), claim again.
        for _ in 0..5 {
            let result = self
                .client
                .put_item()
                .table_name(&self.tables.meta)
                .item("pk", s(&pk))
                .item("sk", s(IDEM_SK))
                .item("fingerprint", s(&claim.fingerprint))
                .item("state", s(IN_FLIGHT))
                .item("token", s(&claim.token))
                .item("started_at", n(claim.now))
                .item("expires_at", n(claim.expires_at))
                .condition_expression(
                    "attribute_not_exists(pk) OR expires_at < :now OR (#state = :in_flight AND started_at < :stale)",
                )
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":now", n(claim.now))
                .expression_attribute_values(":in_flight", s(IN_FLIGHT))
                .expression_attribute_values(":stale", n(claim.stale_before))
                .send()
                .await;
            match conditional_outcome(result, String::new) {
                Ok(()) => return Ok(Claim::New),
                Err(StoreError::ConditionFailed(_)) => {}
                Err(e) => return Err(e),
            }
            let out = self
                .client
                .get_item()
                .table_name(&self.tables.meta)
                .key("pk", s(&pk))
                .key("sk", s(IDEM_SK))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| backend(e.into_service_error()))?;
            let Some(item) = out.item else { continue };
            if num_attr(&item, "expires_at").unwrap_or(0) < claim.now {
                continue;
            }
            let state = str_attr(&item, "state").unwrap_or_default();
            let started_at = num_attr(&item, "started_at").unwrap_or(0);
            if state == IN_FLIGHT && started_at < claim.stale_before {
                continue;
            }
            if str_attr(&item, "fingerprint") != Some(claim.fingerprint.as_str()) {
                return Ok(Claim::Mismatch);
            }
            if state == IN_FLIGHT {
                return Ok(Claim::InFlight { started_at });
            }
            return StoredResponse::decode(&pk, str_attr(&item, "response").unwrap_or_default())
                .map(Claim::Done);
        }
        Err(StoreError::Backend(format!(
            "idempotency key {} kept changing while being claimed",
            claim.key
        )))
    }

    async fn finish_idempotency(
        &self,
        key: &str,
        token: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.meta)
            .key("pk", s(&format!("idem#{key}")))
            .key("sk", s(IDEM_SK))
            .update_expression("SET #state = :done, #response = :response")
            .condition_expression("#token = :token AND #state = :in_flight")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#response", "response")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":done", s(DONE))
            .expression_attribute_values(":in_flight", s(IN_FLIGHT))
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":response", s(&response.encode()?))
            .send()
            .await;
        conditional_outcome(result, || {
            format!("idempotency key {key} is not held by this request")
        })
    }

    async fn release_idempotency(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.tables.meta)
            .key("pk", s(&format!("idem#{key}")))
            .key("sk", s(IDEM_SK))
            .condition_expression("#token = :token AND #state = :in_flight")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":in_flight", s(IN_FLIGHT))
            .expression_attribute_values(":token", s(token))
            .send()
            .await;
        match conditional_outcome(result, String::new) {
            // Someone else holds it now (or it is gone): nothing of ours to release.
            Err(StoreError::ConditionFailed(_)) => Ok(()),
            other => other,
        }
    }

    async fn cache_get(&self, key: &str, now: i64) -> Result<Option<CachedResponse>, StoreError> {
        let pk = format!("cache#{key}");
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.meta)
            .key("pk", s(&pk))
            .key("sk", s(CACHE_SK))
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        if num_attr(&item, "expires_at").unwrap_or(0) <= now {
            return Ok(None);
        }
        Ok(Some(CachedResponse {
            response: StoredResponse::decode(&pk, str_attr(&item, "response").unwrap_or_default())?,
            stored_at: num_attr(&item, "stored_at").unwrap_or(0),
        }))
    }

    async fn cache_put(
        &self,
        key: &str,
        entry: &CachedResponse,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.tables.meta)
            .item("pk", s(&format!("cache#{key}")))
            .item("sk", s(CACHE_SK))
            .item("stored_at", n(entry.stored_at))
            .item("expires_at", n(expires_at))
            .item("response", s(&entry.response.encode()?))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| backend(e.into_service_error()))
    }

    async fn provider_health(&self) -> Result<Vec<ProviderHealth>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.tables.meta)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(HEALTH_PK))
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        Ok(page.items().iter().filter_map(health_of).collect())
    }

    async fn provider_failed(
        &self,
        failure: &ProviderFailure,
    ) -> Result<ProviderHealth, StoreError> {
        let update = || {
            self.client
                .update_item()
                .table_name(&self.tables.meta)
                .key("pk", s(HEALTH_PK))
                .key("sk", s(&failure.provider))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
        };
        let cool = |until: i64| {
            update()
                .update_expression(
                    "SET consecutive_failures = :zero, cooling_until_ms = :until, reason = :why",
                )
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":until", n(until))
                .expression_attribute_values(":why", s(&failure.reason))
        };
        let read = |item: Option<&Item>| {
            item.and_then(health_of).ok_or_else(|| StoreError::Corrupt {
                id: failure.provider.clone(),
                reason: "provider health row without its attributes".into(),
            })
        };
        if let Some(until) = failure.cool_at_once {
            let out = cool(until)
                .send()
                .await
                .map_err(|e| backend(e.into_service_error()))?;
            return read(out.attributes.as_ref());
        }
        // One more failure, atomically; the call that reaches the threshold (and only it,
        // by the condition) starts the cooldown and restarts the count.
        let out = update()
            .update_expression("ADD consecutive_failures :one")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| backend(e.into_service_error()))?;
        let counted = read(out.attributes.as_ref())?;
        if counted.consecutive_failures < failure.threshold {
            return Ok(counted);
        }
        let result = cool(failure.cool_until_ms)
            .condition_expression("consecutive_failures >= :t")
            .expression_attribute_values(":t", n(i64::from(failure.threshold)))
            .send()
            .await;
        match result {
            Ok(out) => read(out.attributes.as_ref()),
            Err(e) => {
                conditional_outcome(Err::<(), _>(e), || "cooled elsewhere".into()).or_else(
                    |e| match e {
                        StoreError::ConditionFailed(_) => Ok(()),
                        other => Err(other),
                    },
                )?;
                Ok(counted)
            }
        }
    }

    async fn provider_succeeded(&self, provider: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.tables.meta)
            .key("pk", s(HEALTH_PK))
            .key("sk", s(provider))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| backend(e.into_service_error()))
    }
}
