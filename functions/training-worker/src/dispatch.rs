//! Handing a queued job to the worker, by the configured route (see `config::Dispatch`).

use std::time::{Duration, Instant};

use shared::config::Dispatch;
use shared::records::JobRecord;
use shared::state::AppState;

/// The emulator answers the Invoke API only when the worker is done: bounded by the worker's
/// own limit plus its start-up.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(960);

/// Starts the job's delivery without waiting for it. With `Stream` the table's stream has
/// already done so.
pub fn dispatch(state: &AppState, job: &JobRecord) {
    match &state.config.dispatch {
        Dispatch::Stream | Dispatch::Off => {}
        Dispatch::Inline => {
            let (state, id) = (state.clone(), job.id.clone());
            tokio::spawn(async move {
                // In-process there is no Lambda deadline: the worker's own limit applies.
                let deadline =
                    Instant::now() + state.config.worker.max_runtime + super::SAVE_MARGIN;
                match super::run_job(&state, &id, deadline).await {
                    Ok(outcome) => {
                        tracing::info!(job_id = %id, outcome = ?outcome, "inline job done")
                    }
                    Err(e) => tracing::error!(job_id = %id, error = %e, "inline job failed"),
                }
            });
        }
        Dispatch::Invoke { url } => {
            let (state, url, job) = (state.clone(), url.clone(), job.clone());
            tokio::spawn(async move {
                if let Err(reason) = invoke(&url, &job).await {
                    tracing::error!(job_id = %job.id, reason, "could not hand the job to the worker");
                    super::run::fail_queued(&state, &job, format!("dispatch_failed: {reason}"))
                        .await;
                }
            });
        }
    }
}

/// POSTs the stream-shaped event to the emulator's Invoke API and waits for the worker.
async fn invoke(url: &str, job: &JobRecord) -> Result<(), String> {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    let event = super::insert_event(job, &region)?;
    let client = reqwest::Client::builder()
        .timeout(INVOKE_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .post(url)
        .header("X-Amz-Invocation-Type", "Event")
        .header("content-type", "application/json")
        .body(event.to_string())
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        tracing::info!(job_id = %job.id, %status, body = %body, "worker invocation returned");
        Ok(())
    } else {
        Err(format!("{url} answered {status}: {body}"))
    }
}
