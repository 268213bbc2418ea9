//! The training worker: takes a queued job from a stream record, claims it, trains, and
//! leaves it `completed`, `failed` or `stopped`, never `in_progress` for good.
//!
//! The `training-worker` function is a thin shell around [`handle_batch`]; the models
//! function's local dispatch calls [`run_job`] directly. Claims are compare-and-set on the
//! job's status, so a second delivery of the same record, or a second worker, does nothing.

pub mod dispatch;
pub mod enhance;
pub mod event;
mod progress;
mod run;

use std::time::{Duration, Instant};

use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use crate::state::AppState;
use crate::store::StoreError;

pub use event::{insert_event, read_record, JobEvent, StreamBatch};
pub use run::{reap_if_lost, run_job};

/// Time kept back from the Lambda deadline for the final writes and the artifact upload.
pub const SAVE_MARGIN: Duration = Duration::from_secs(30);

/// The Lambda's deadline (milliseconds since the epoch, from the invocation context) as an
/// instant on this process's clock.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// What became of one job event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// No such job: logged and skipped (retrying cannot create it).
    UnknownJob,
    /// Already claimed, finished or stopped: a duplicate delivery, nothing to do.
    AlreadyHandled(String),
    /// Trained and ended in this status.
    Finished(crate::records::JobStatus),
}

/// Failures worth a retry of the record (the store could not be reached); everything about
/// the job itself ends in the job's own `failed` status instead.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Handles one stream batch, record by record. A record that cannot be read is logged and
/// skipped: a retry would read it the same way. A record whose job could not be claimed or
/// finished for a store failure is reported in `batchItemFailures`, so only it is retried.
pub async fn handle_batch(
    state: &AppState,
    batch: StreamBatch,
    deadline: Instant,
) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for raw in &batch.records {
        let event = match read_record(raw) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "skipping a malformed stream record");
                continue;
            }
        };
        if event.event_name != "INSERT" {
            tracing::info!(job_id = %event.job_id, event = %event.event_name, "not an insert; skipped");
            continue;
        }
        match run_job(state, &event.job_id, deadline).await {
            Ok(outcome) => {
                tracing::info!(job_id = %event.job_id, outcome = ?outcome, "job event handled")
            }
            Err(e) => {
                tracing::error!(job_id = %event.job_id, error = %e, "job event failed; reported for retry");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = event.sequence_number.clone();
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}
