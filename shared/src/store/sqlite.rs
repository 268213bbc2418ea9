//! The embedded store: one SQLite file that every local function process opens. WAL mode
//! lets readers and one writer work at once across processes; `busy_timeout` makes a second
//! writer wait instead of failing. Calls run on the blocking pool so they never stall tokio.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;

use super::{
    CachedResponse, Claim, DatasetPage, DatasetStore, IdempotencyClaim, MetaStore, ModelCounts,
    ModelPage, ModelQuery, ModelStore, ProviderFailure, ProviderHealth, StoreError, StoredResponse,
    SweepPage, UsageDelta, UsageRow, WindowHit,
};
use crate::records::sweep::SweepRecord;
use crate::records::{DatasetRecord, JobRecord, JobStatus, ModelRecord, ModelStatus};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS models (
    id     TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    body   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS models_by_status ON models (status, id);
CREATE TABLE IF NOT EXISTS datasets (
    id   TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sweeps (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    body    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_windows (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE TABLE IF NOT EXISTS provider_health (
    provider             TEXT PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL,
    cooling_until_ms     INTEGER,
    reason               TEXT
);
CREATE TABLE IF NOT EXISTS usage (
    day           TEXT NOT NULL,
    provider      TEXT NOT NULL,
    calls         INTEGER NOT NULL,
    failed_calls  INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    total_tokens  INTEGER NOT NULL,
    cost_usd      REAL NOT NULL,
    PRIMARY KEY (day, provider)
);
CREATE TABLE IF NOT EXISTS idempotency (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    state       TEXT NOT NULL,
    token       TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    response    TEXT
);
CREATE INDEX IF NOT EXISTS idempotency_by_expiry ON idempotency (expires_at);
CREATE TABLE IF NOT EXISTS response_cache (
    key        TEXT PRIMARY KEY,
    stored_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    response   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS response_cache_by_expiry ON response_cache (expires_at);
CREATE TABLE IF NOT EXISTS jobs (
    id       TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    status   TEXT NOT NULL,
    body     TEXT NOT NULL
);
";

/// Idempotency record states.
const IN_FLIGHT: &str = "in_flight";
const DONE: &str = "done";

#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn decode<T: DeserializeOwned>(id: &str, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        id: id.to_string(),
        reason: e.to_string(),
    })
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

fn status_text<T: serde::Serialize>(status: &T) -> Result<String, StoreError> {
    match serde_json::to_value(status).map_err(backend)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StoreError::Backend(format!("status is not text: {other}"))),
    }
}

impl SqliteStore {
    /// Opens (creating) the file. Processes opening a fresh file at once (the dev server starts
    /// every function together) can find it locked while another switches it to WAL, a case
    /// SQLite's busy handler does not wait out: the open is retried for up to 2 s.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut attempts = 0;
        loop {
            match Self::open_once(path) {
                Err(StoreError::Backend(m)) if m.contains("locked") && attempts < 40 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        let conn = Connection::open(path).map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Records of `table` (`id`, `body`) newest first, strictly older than `after`, and the
    /// id to resume after when more follow.
    async fn page<T: DeserializeOwned + Send + 'static>(
        &self,
        table: &'static str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<T>, Option<String>), StoreError> {
        let after = after.map(str::to_string);
        let limit = limit.max(1);
        self.with(move |c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT id, body FROM {table} WHERE (?1 IS NULL OR id < ?1)
                     ORDER BY id DESC LIMIT ?2"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![after, (limit + 1) as i64], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(backend)?;
            let mut records = Vec::new();
            let mut ids = Vec::new();
            for row in rows {
                let (id, body) = row.map_err(backend)?;
                records.push(decode::<T>(&id, &body)?);
                ids.push(id);
            }
            let more = records.len() > limit;
            records.truncate(limit);
            let last = more.then(|| ids[limit - 1].clone());
            Ok((records, last))
        })
        .await
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock poisons it; the connection itself is still sound.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(backend)?
    }
}

/// A model or job record as its table stores it, for the updates that replace one.
struct Row {
    table: &'static str,
    /// What the record is, for error messages.
    kind: &'static str,
    id: String,
    status: String,
    body: String,
}

impl Row {
    fn model(model: &ModelRecord) -> Result<Row, StoreError> {
        Ok(Row {
            table: "models",
            kind: "model",
            id: model.id.clone(),
            status: status_text(&model.status)?,
            body: encode(model)?,
        })
    }

    fn job(job: &JobRecord) -> Result<Row, StoreError> {
        Ok(Row {
            table: "jobs",
            kind: "job",
            id: job.id.clone(),
            status: status_text(&job.status)?,
            body: encode(job)?,
        })
    }

    /// Replaces the stored record, which must exist and, with `expected`, have that status.
    fn update(&self, c: &Connection, expected: Option<&str>) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {} SET status = ?2, body = ?3 WHERE id = ?1 AND (?4 IS NULL OR status = ?4)",
            self.table
        );
        let n = c
            .execute(&sql, params![self.id, self.status, self.body, expected])
            .map_err(backend)?;
        match (n, expected) {
            (1, _) => Ok(()),
            (_, Some(expected)) => Err(StoreError::ConditionFailed(format!(
                "{} {} is not {expected}",
                self.kind, self.id
            ))),
            (_, None) => Err(StoreError::ConditionFailed(format!(
                "{} {} does not exist",
                self.kind, self.id
            ))),
        }
    }
}

#[async_trait]
impl ModelStore for SqliteStore {
    async fn create_training(
        &self,
        model: &ModelRecord,
        job: &JobRecord,
    ) -> Result<(), StoreError> {
        let (mid, mstatus, mbody) = (
            model.id.clone(),
            status_text(&model.status)?,
            encode(model)?,
        );
        let (jid, jmodel, jstatus, jbody) = (
            job.id.clone(),
            job.model_id.clone(),
            status_text(&job.status)?,
            encode(job)?,
        );
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO models (id, status, body) VALUES (?1, ?2, ?3)",
                    params![mid, mstatus, mbody],
                )
                .map_err(backend)?
                + tx.execute(
                    "INSERT OR IGNORE INTO jobs (id, model_id, status, body) VALUES (?1, ?2, ?3, ?4)",
                    params![jid, jmodel, jstatus, jbody],
                )
                .map_err(backend)?;
            if inserted != 2 {
                return Err(StoreError::ConditionFailed(format!(
                    "model {mid} or job {jid} already exists"
                )));
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn get_model(&self, id: &str) -> Result<Option<ModelRecord>, StoreError> {
        let id = id.to_string();
        self.with(move |c| {
            let body: Option<String> = c
                .query_row("SELECT body FROM models WHERE id = ?1", [&id], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            body.map(|b| decode(&id, &b)).transpose()
        })
        .await
    }

    async fn get_job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let id = id.to_string();
        self.with(move |c| {
            let body: Option<String> = c
                .query_row("SELECT body FROM jobs WHERE id = ?1", [&id], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            body.map(|b| decode(&id, &b)).transpose()
        })
        .await
    }

    async fn put_model(&self, model: &ModelRecord) -> Result<(), StoreError> {
        let model = Row::model(model)?;
        self.with(move |c| model.update(c, None)).await
    }

    async fn put_job_if(&self, job: &JobRecord, expected: JobStatus) -> Result<(), StoreError> {
        let job = Row::job(job)?;
        let expected = status_text(&expected)?;
        self.with(move |c| job.update(c, Some(&expected))).await
    }

    async fn finish_job(
        &self,
        job: &JobRecord,
        expected: JobStatus,
        model: &ModelRecord,
    ) -> Result<(), StoreError> {
        let (job, model) = (Row::job(job)?, Row::model(model)?);
        let expected = status_text(&expected)?;
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            // An error returns before commit: the transaction rolls back when dropped.
            job.update(&tx, Some(&expected))?;
            model.update(&tx, None)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn list_models(&self, query: &ModelQuery) -> Result<ModelPage, StoreError> {
        let status = query.status.map(|s| s.as_str().to_string());
        let after = query.after.clone();
        let limit = query.limit.max(1);
        self.with(move |c| {
            // One more than asked tells whether another page exists.
            let mut stmt = c
                .prepare(
                    "SELECT id, body FROM models
                     WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR id < ?2)
                     ORDER BY id DESC LIMIT ?3",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![status, after, (limit + 1) as i64], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(backend)?;
            let mut models = Vec::with_capacity(limit + 1);
            for row in rows {
                let (id, body) = row.map_err(backend)?;
                models.push(decode::<ModelRecord>(&id, &body)?);
            }
            let more = models.len() > limit;
            models.truncate(limit);
            let last = if more {
                models.last().map(|m| m.id.clone())
            } else {
                None
            };
            Ok(ModelPage { models, last })
        })
        .await
    }

    async fn model_counts(&self) -> Result<ModelCounts, StoreError> {
        self.with(|c| {
            let mut stmt = c
                .prepare("SELECT status, count(*) FROM models GROUP BY status")
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(backend)?;
            let mut counts = ModelCounts::default();
            for row in rows {
                let (status, n) = row.map_err(backend)?;
                let status = ModelStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
                    id: "models".into(),
                    reason: format!("unknown status {status}"),
                })?;
                counts.add(status, n as u64);
            }
            Ok(counts)
        })
        .await
    }

    async fn create_sweep(&self, sweep: &SweepRecord) -> Result<(), StoreError> {
        let (id, version, body) = (sweep.id.clone(), sweep.version as i64, encode(sweep)?);
        self.with(move |c| {
            let n = c
                .execute(
                    "INSERT OR IGNORE INTO sweeps (id, version, body) VALUES (?1, ?2, ?3)",
                    params![id, version, body],
                )
                .map_err(backend)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::ConditionFailed(format!(
                    "sweep {id} already exists"
                )))
            }
        })
        .await
    }

    async fn get_sweep(&self, id: &str) -> Result<Option<SweepRecord>, StoreError> {
        let id = id.to_string();
        self.with(move |c| {
            let body: Option<String> = c
                .query_row("SELECT body FROM sweeps WHERE id = ?1", [&id], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            body.map(|b| decode(&id, &b)).transpose()
        })
        .await
    }

    async fn list_sweeps(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<SweepPage, StoreError> {
        let (sweeps, last) = self.page("sweeps", limit, after).await?;
        Ok(SweepPage { sweeps, last })
    }

    async fn put_sweep_if(&self, sweep: &SweepRecord, expected: u64) -> Result<(), StoreError> {
        let (id, version, body) = (sweep.id.clone(), sweep.version as i64, encode(sweep)?);
        self.with(move |c| {
            let n = c
                .execute(
                    "UPDATE sweeps SET version = ?2, body = ?3 WHERE id = ?1 AND version = ?4",
                    params![id, version, body, expected as i64],
                )
                .map_err(backend)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::ConditionFailed(format!(
                    "sweep {id} is not at version {expected}"
                )))
            }
        })
        .await
    }
}

#[async_trait]
impl DatasetStore for SqliteStore {
    async fn create_dataset(&self, dataset: &DatasetRecord) -> Result<(), StoreError> {
        let (id, body) = (dataset.id.clone(), encode(dataset)?);
        self.with(move |c| {
            let n = c
                .execute(
                    "INSERT OR IGNORE INTO datasets (id, body) VALUES (?1, ?2)",
                    params![id, body],
                )
                .map_err(backend)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::ConditionFailed(format!(
                    "dataset {id} already exists"
                )))
            }
        })
        .await
    }

    async fn get_dataset(&self, id: &str) -> Result<Option<DatasetRecord>, StoreError> {
        let id = id.to_string();
        self.with(move |c| {
            let body: Option<String> = c
                .query_row("SELECT body FROM datasets WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(backend)?;
            body.map(|b| decode(&id, &b)).transpose()
        })
        .await
    }

    async fn list_datasets(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> Result<DatasetPage, StoreError> {
        let (datasets, last) = self.page("datasets", limit, after).await?;
        Ok(DatasetPage { datasets, last })
    }
}

#[async_trait]
impl MetaStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|c| {
            c.query_row("SELECT count(*) FROM models WHERE id = ''", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn add_usage(&self, day: &str, delta: &UsageDelta) -> Result<(), StoreError> {
        let (day, d) = (day.to_string(), delta.clone());
        self.with(move |c| {
            c.execute(
                "INSERT INTO usage (day, provider, calls, failed_calls, input_tokens, output_tokens, total_tokens, cost_usd)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (day, provider) DO UPDATE SET
                   calls = calls + excluded.calls,
                   failed_calls = failed_calls + excluded.failed_calls,
                   input_tokens = input_tokens + excluded.input_tokens,
                   output_tokens = output_tokens + excluded.output_tokens,
                   total_tokens = total_tokens + excluded.total_tokens,
                   cost_usd = cost_usd + excluded.cost_usd",
                params![
                    day,
                    d.provider,
                    d.calls as i64,
                    d.failed_calls as i64,
                    d.input_tokens as i64,
                    d.output_tokens as i64,
                    d.total_tokens as i64,
                    d.cost_usd
                ],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn usage(&self, days: &[String]) -> Result<Vec<UsageRow>, StoreError> {
        let days = days.to_vec();
        self.with(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT day, provider, calls, failed_calls, input_tokens, output_tokens, total_tokens, cost_usd
                     FROM usage WHERE day = ?1 ORDER BY provider",
                )
                .map_err(backend)?;
            let mut out = Vec::new();
            for day in &days {
                let rows = stmt
                    .query_map([day], |r| {
                        Ok(UsageRow {
                            day: r.get(0)?,
                            provider: r.get(1)?,
                            calls: r.get::<_, i64>(2)? as u64,
                            failed_calls: r.get::<_, i64>(3)? as u64,
                            input_tokens: r.get::<_, i64>(4)? as u64,
                            output_tokens: r.get::<_, i64>(5)? as u64,
                            total_tokens: r.get::<_, i64>(6)? as u64,
                            cost_usd: r.get(7)?,
                        })
                    })
                    .map_err(backend)?;
                for row in rows {
                    out.push(row.map_err(backend)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn hit_window(
        &self,
        key: &str,
        window_start: i64,
        limit: u32,
        expires_at: i64,
    ) -> Result<WindowHit, StoreError> {
        let key = key.to_string();
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            // Expired windows go as they are passed (SQLite has no TTL).
            tx.execute("DELETE FROM rate_windows WHERE expires_at < ?1", params![window_start])
                .map_err(backend)?;
            let counted = tx
                .execute(
                    "INSERT INTO rate_windows (key, window_start, hits, expires_at) VALUES (?1, ?2, 1, ?4)
                     ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1 WHERE hits < ?3",
                    params![key, window_start, i64::from(limit), expires_at],
                )
                .map_err(backend)?;
            let hits: i64 = tx
                .query_row(
                    "SELECT hits FROM rate_windows WHERE key = ?1 AND window_start = ?2",
                    params![key, window_start],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(WindowHit {
                allowed: counted == 1,
                count: hits as u32,
            })
        })
        .await
    }

    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Claim, StoreError> {
        let claim = claim.clone();
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            // Expired records go as they are passed (SQLite has no TTL).
            tx.execute(
                "DELETE FROM idempotency WHERE expires_at < ?1",
                params![claim.now],
            )
            .map_err(backend)?;
            let existing: Option<(String, String, i64, Option<String>)> = tx
                .query_row(
                    "SELECT fingerprint, state, started_at, response FROM idempotency WHERE key = ?1",
                    params![claim.key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(backend)?;
            let outcome = match existing {
                Some((_, state, started_at, _))
                    if state == IN_FLIGHT && started_at < claim.stale_before =>
                {
                    None
                }
                Some((fingerprint, _, _, _)) if fingerprint != claim.fingerprint => {
                    Some(Claim::Mismatch)
                }
                Some((_, state, started_at, _)) if state == IN_FLIGHT => {
                    Some(Claim::InFlight { started_at })
                }
                Some((_, _, _, response)) => Some(Claim::Done(StoredResponse::decode(
                    &claim.key,
                    response.as_deref().unwrap_or(""),
                )?)),
                None => None,
            };
            if let Some(outcome) = outcome {
                return Ok(outcome);
            }
            tx.execute(
                "INSERT OR REPLACE INTO idempotency (key, fingerprint, state, token, started_at, expires_at, response)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
                params![
                    claim.key,
                    claim.fingerprint,
                    IN_FLIGHT,
                    claim.token,
                    claim.now,
                    claim.expires_at
                ],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(Claim::New)
        })
        .await
    }

    async fn finish_idempotency(
        &self,
        key: &str,
        token: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let (key, token, text) = (key.to_string(), token.to_string(), response.encode()?);
        self.with(move |c| {
            let n = c
                .execute(
                    "UPDATE idempotency SET state = ?3, response = ?4
                     WHERE key = ?1 AND token = ?2 AND state = ?5",
                    params![key, token, DONE, text, IN_FLIGHT],
                )
                .map_err(backend)?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::ConditionFailed(format!(
                    "idempotency key {key} is not held by this request"
                )))
            }
        })
        .await
    }

    async fn release_idempotency(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let (key, token) = (key.to_string(), token.to_string());
        self.with(move |c| {
            c.execute(
                "DELETE FROM idempotency WHERE key = ?1 AND token = ?2 AND state = ?3",
                params![key, token, IN_FLIGHT],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn cache_get(&self, key: &str, now: i64) -> Result<Option<CachedResponse>, StoreError> {
        let key = key.to_string();
        self.with(move |c| {
            let row: Option<(i64, String)> = c
                .query_row(
                    "SELECT stored_at, response FROM response_cache WHERE key = ?1 AND expires_at > ?2",
                    params![key, now],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(backend)?;
            row.map(|(stored_at, text)| {
                Ok(CachedResponse {
                    response: StoredResponse::decode(&key, &text)?,
                    stored_at,
                })
            })
            .transpose()
        })
        .await
    }

    async fn cache_put(
        &self,
        key: &str,
        entry: &CachedResponse,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let (key, stored_at, text) = (key.to_string(), entry.stored_at, entry.response.encode()?);
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            tx.execute(
                "DELETE FROM response_cache WHERE expires_at <= ?1",
                params![stored_at],
            )
            .map_err(backend)?;
            tx.execute(
                "INSERT OR REPLACE INTO response_cache (key, stored_at, expires_at, response)
                 VALUES (?1, ?2, ?3, ?4)",
                params![key, stored_at, expires_at, text],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn provider_health(&self) -> Result<Vec<ProviderHealth>, StoreError> {
        self.with(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT provider, consecutive_failures, cooling_until_ms, reason
                     FROM provider_health ORDER BY provider",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(ProviderHealth {
                        provider: r.get(0)?,
                        consecutive_failures: r.get::<_, i64>(1)? as u32,
                        cooling_until_ms: r.get(2)?,
                        reason: r.get(3)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn provider_failed(
        &self,
        failure: &ProviderFailure,
    ) -> Result<ProviderHealth, StoreError> {
        let f = failure.clone();
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(backend)?;
            let before: Option<(i64, Option<i64>, Option<String>)> = tx
                .query_row(
                    "SELECT consecutive_failures, cooling_until_ms, reason FROM provider_health WHERE provider = ?1",
                    params![f.provider],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(backend)?;
            let (count, until, reason) = before.unwrap_or((0, None, None));
            let after = match f.cool_at_once {
                Some(at) => (0, Some(at), Some(f.reason.clone())),
                None if count + 1 >= i64::from(f.threshold) => {
                    (0, Some(f.cool_until_ms), Some(f.reason.clone()))
                }
                None => (count + 1, until, reason),
            };
            tx.execute(
                "INSERT INTO provider_health (provider, consecutive_failures, cooling_until_ms, reason)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (provider) DO UPDATE SET
                   consecutive_failures = excluded.consecutive_failures,
                   cooling_until_ms = excluded.cooling_until_ms,
                   reason = excluded.reason",
                params![f.provider, after.0, after.1, after.2],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(ProviderHealth {
                provider: f.provider,
                consecutive_failures: after.0 as u32,
                cooling_until_ms: after.1,
                reason: after.2,
            })
        })
        .await
    }

    async fn provider_succeeded(&self, provider: &str) -> Result<(), StoreError> {
        let provider = provider.to_string();
        self.with(move |c| {
            c.execute(
                "DELETE FROM provider_health WHERE provider = ?1",
                params![provider],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }
}
