//! The training worker: takes a queued job from a stream record, claims it, trains, and
//! leaves it `completed`, `failed` or `stopped`, never `in_progress` for good.
//!
//! The `training-worker` function is a thin shell around [`handle_batch`]; the models
//! function's local dispatch calls [`run_job`] directly. Claims are compare-and-set on the
//! job's status, so a second delivery of the same record, or a second worker, does nothing.

mod checkpoints;
pub mod dispatch;
pub mod enhance;
pub mod event;
mod network;
mod progress;
mod run;
pub mod sweeps;

use std::time::{Duration, Instant};

use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use shared::state::AppState;
use shared::store::StoreError;

pub use checkpoints::requeue_stopped;
pub use event::{insert_event, read_record, JobEvent, StreamBatch};
pub use run::{gbm_params, reap_if_lost, run_job};

/// Time kept back from the Lambda deadline for the final writes and the artifact upload.
pub const SAVE_MARGIN: Duration = Duration::from_secs(30);

/// The Lambda's deadline (milliseconds since the epoch, from the invocation context) as an
/// instant on this process's clock. cargo-lambda's emulator sends its timeout as a duration
/// in milliseconds instead (e.g. `600000`); a value too small to be a date this century is
/// read that way.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Instant {
    /// 2001-09-09 in epoch milliseconds: anything below is a duration, not a date.
    const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let left_ms = if deadline_ms < EPOCH_MS_FLOOR {
        deadline_ms
    } else {
        deadline_ms.saturating_sub(now_ms)
    };
    Instant::now() + Duration::from_millis(left_ms)
}

/// What became of one job event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// No such job: logged and skipped (retrying cannot create it).
    UnknownJob,
    /// Already claimed, finished or stopped: a duplicate delivery, nothing to do.
    AlreadyHandled(String),
    /// Trained and ended in this status.
    Finished(shared::records::JobStatus),
    /// Paused at the invocation's end and handed on to the next one.
    HandedOn,
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
    tracing::info!(
        records = batch.records.len(),
        seconds_left = deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64(),
        "stream batch received"
    );
    for raw in &batch.records {
        let event = match read_record(raw) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "skipping a malformed stream record");
                continue;
            }
        };
        if !event.is_work() {
            tracing::info!(job_id = %event.job_id, event = %event.event_name, status = ?event.status, "not a queued job; skipped");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_from_lambda_and_from_the_emulator() {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let left = |d: Instant| d.saturating_duration_since(Instant::now()).as_secs_f64();
        let real = left(deadline_from_epoch_ms(now_ms + 60_000));
        assert!((59.0..=60.0).contains(&real), "{real}");
        let emulator = left(deadline_from_epoch_ms(600_000));
        assert!((599.0..=600.0).contains(&emulator), "{emulator}");
        assert_eq!(left(deadline_from_epoch_ms(now_ms - 5_000)), 0.0);
    }
}
