//! Checkpoints in the blob store, hand-ons to the next invocation, and resumes.
//!
//! A checkpoint is written as a new file (`checkpoints/<job>/<n>.safetensors`) and only then
//! pointed to from the job record (compare-and-set on `in_progress`), so a failed write
//! leaves the previous checkpoint valid. A hand-on is one more conditional write: the job
//! goes back to `queued` with its pointer, and the jobs stream delivers it to the worker
//! again (the template's filter passes an insert, or a modify whose new image is queued);
//! locally the dispatch route does the same. Claims stay compare-and-set on `queued`, so a
//! duplicate delivery trains each segment once.

use sha2::{Digest, Sha256};

use shared::clock;
use shared::records::{secondary, CheckpointRef, JobRecord, JobStatus};
use shared::state::AppState;
use shared::store::StoreError;

use super::progress::Tracker;
use super::run::{put_blob, Failure};

/// The secondary status of a job handed on to the next invocation, and of a resumed one.
pub const HANDED_ON: &str = "handed_on";
pub const RESUMING: &str = "resuming";

/// Names what a run trains: the SHA-256 of its parameters, its data's encoding and shape,
/// as JSON. A checkpoint whose label differs is refused rather than trained on.
pub fn label(what: &serde_json::Value) -> String {
    let digest = Sha256::digest(what.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn key_for(job: &JobRecord) -> String {
    format!("checkpoints/{}/{}.safetensors", job.id, job.checkpoints + 1)
}

/// Writes `checkpoint` and points the job to it. The previous file is deleted once the
/// pointer has moved; when the job is stopping, the pointer moves with its final write.
pub async fn save(
    state: &AppState,
    tracker: &Tracker,
    checkpoint: &training::Checkpoint,
) -> Result<(), String> {
    let job = tracker.snapshot();
    let bytes = checkpoint.to_bytes().map_err(|e| e.to_string())?;
    let key = key_for(&job);
    put_blob(state, &key, &bytes, "application/octet-stream")
        .await
        .map_err(|f| f.to_string())?;
    let p = &checkpoint.position;
    let pointer = CheckpointRef {
        key,
        bytes: bytes.len() as u64,
        epochs_done: checkpoint.epochs_done() as u32,
        epoch: p.epoch,
        batch: p.batch as u64,
        saved_at: clock::now(),
    };
    let previous = job.checkpoint.clone();
    tracker.update(|j| {
        j.checkpoint = Some(pointer.clone());
        j.checkpoints += 1;
    });
    match tracker.save().await {
        Ok(()) => {
            if let Some(old) = previous {
                if let Err(e) = state.blobs.delete(&old.key).await {
                    tracing::warn!(key = %old.key, error = %e, "old checkpoint not deleted");
                }
            }
            Ok(())
        }
        // The final write (stopped) carries the pointer; the old file stays until then.
        Err(super::progress::Interrupt::StopRequested) => Ok(()),
        Err(i) => Err(format!("the job record was not updated: {i:?}")),
    }
}

/// The job's checkpoint, when it has one; a missing or unreadable file fails the job
/// (never trains from scratch silently).
pub async fn load(
    state: &AppState,
    job: &JobRecord,
) -> Result<Option<training::Checkpoint>, Failure> {
    let Some(pointer) = &job.checkpoint else {
        return Ok(None);
    };
    let bytes = state
        .blobs
        .get(&pointer.key)
        .await
        .map_err(|e| Failure::new("checkpoint_missing", format!("{}: {e}", pointer.key)))?
        .ok_or_else(|| {
            Failure::new(
                "checkpoint_missing",
                format!("{} is not in the blob store", pointer.key),
            )
        })?;
    let checkpoint = training::Checkpoint::from_bytes(&bytes)
        .map_err(|e| Failure::new("checkpoint_invalid", format!("{}: {e}", pointer.key)))?;
    if checkpoint.epochs_done() != pointer.epochs_done as usize {
        return Err(Failure::new(
            "checkpoint_invalid",
            format!(
                "{} holds {} epochs, the job's pointer says {}",
                pointer.key,
                checkpoint.epochs_done(),
                pointer.epochs_done
            ),
        ));
    }
    Ok(Some(checkpoint))
}

/// Checks that `checkpoint` was written for the run `label` names.
pub fn check_label(checkpoint: &training::Checkpoint, label: &str) -> Result<(), Failure> {
    if checkpoint.label == label {
        Ok(())
    } else {
        Err(Failure::new(
            "checkpoint_invalid",
            "the checkpoint was written for other data or other training parameters",
        ))
    }
}

/// The job, back in `queued` for the next invocation, continuing from its checkpoint.
pub fn requeued(job: &JobRecord, status: &str, message: String) -> JobRecord {
    let now = clock::now();
    let mut next = job.clone();
    next.transition(JobStatus::Queued, now, Some(message.clone()));
    next.step(status, now, Some(message));
    next.heartbeat_at = None;
    next
}

/// A stopped job, queued again to continue from `pointer` (`POST /v1/models/{id}/resume`).
pub fn requeue_stopped(job: &JobRecord, pointer: &CheckpointRef) -> JobRecord {
    let mut next = requeued(
        job,
        RESUMING,
        format!(
            "resume requested: continues at epoch {}, batch {} from checkpoint {}",
            pointer.epoch, pointer.batch, job.checkpoints
        ),
    );
    next.failure_reason = None;
    next
}

/// What the hand-on message says.
pub fn hand_on_message(job: &JobRecord, pointer: &CheckpointRef) -> String {
    format!(
        "invocation {} handed the job on: it continues at epoch {}, batch {} from checkpoint {} \
         ({} bytes, {} epochs done)",
        job.invocations,
        pointer.epoch,
        pointer.batch,
        job.checkpoints,
        pointer.bytes,
        pointer.epochs_done
    )
}

/// A job whose worker was lost, back in the queue from its last checkpoint (counted against
/// `MLAAS_MAX_RESUMES`). `None` when it cannot resume (no checkpoint, no resumes left).
pub async fn resume_lost(
    state: &AppState,
    job: &JobRecord,
    why: &str,
) -> Result<Option<JobRecord>, StoreError> {
    let limits = state.config.worker;
    let Some(pointer) = &job.checkpoint else {
        return Ok(None);
    };
    if job.status != JobStatus::InProgress || job.resumes >= limits.max_resumes {
        return Ok(None);
    }
    let mut next = requeued(
        job,
        RESUMING,
        format!(
            "{why}; resuming from checkpoint {} at epoch {}, batch {} (resume {} of at most {})",
            job.checkpoints,
            pointer.epoch,
            pointer.batch,
            job.resumes + 1,
            limits.max_resumes
        ),
    );
    next.resumes += 1;
    // The lost invocation's time, as far as its heartbeats show it.
    let claimed = job
        .status_transitions
        .iter()
        .rev()
        .find(|t| t.status == JobStatus::InProgress.as_str())
        .map(|t| t.at);
    if let (Some(claimed), Some(beat)) = (claimed, job.heartbeat_at) {
        next.worker_seconds += (beat - claimed).num_milliseconds().max(0) as f64 / 1000.0;
    }
    match state.store.put_job_if(&next, JobStatus::InProgress).await {
        Ok(()) => {
            tracing::warn!(job_id = %job.id, resumes = next.resumes, "lost worker: job resumes from its checkpoint");
            super::dispatch::dispatch(state, &next);
            Ok(Some(next))
        }
        Err(StoreError::ConditionFailed(_)) => Ok(state.store.get_job(&job.id).await?),
        Err(e) => Err(e),
    }
}

/// Deletes a finished job's checkpoint (best effort): a completed or failed job does not
/// resume; a stopped one keeps it.
pub async fn discard(state: &AppState, job: &JobRecord) {
    if let Some(pointer) = &job.checkpoint {
        if let Err(e) = state.blobs.delete(&pointer.key).await {
            tracing::warn!(key = %pointer.key, error = %e, "checkpoint not deleted");
        }
    }
}

/// The step a claimed job with a checkpoint reports.
pub fn resuming_step(tracker: &Tracker, checkpoint: &training::Checkpoint) {
    tracker.update(|j| {
        j.history.truncate(checkpoint.epochs_done());
        let p = &checkpoint.position;
        j.step(
            secondary::LOADING_DATA,
            clock::now(),
            Some(format!(
                "resuming from checkpoint {} at epoch {}, batch {} (invocation {})",
                j.checkpoints, p.epoch, p.batch, j.invocations
            )),
        );
    });
}
