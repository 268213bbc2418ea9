//! What a training job's worker time costs: its billable seconds across invocations, as
//! GB-seconds at the worker's memory, priced at AWS Lambda's published list price.
//!
//! `gb_seconds = worker_seconds × memory_mb / 1024`;
//! `cost_usd = gb_seconds × USD_PER_GB_SECOND + invocations × USD_PER_REQUEST`.
//! Worker seconds are the claimed-to-written span of each invocation that ended, plus the
//! running one's time since its claim; a lost invocation counts up to its last heartbeat.

use chrono::{DateTime, Utc};

use crate::records::{JobRecord, JobStatus};
use crate::wire::models::{JobBilling, LambdaPrice};

/// Lambda on arm64 (the template's `Architectures`), us-east-1, first duration tier, and the
/// request charge ($0.20 per million), from aws.amazon.com/lambda/pricing as of
/// [`PRICE_AS_OF`].
pub const USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
pub const USD_PER_REQUEST: f64 = 0.20 / 1_000_000.0;
pub const PRICE_AS_OF: &str = "2024-12-01";

/// The job's worker time and its cost at `memory_bytes`, as of `now`.
pub fn of(job: &JobRecord, memory_bytes: u64, now: DateTime<Utc>) -> JobBilling {
    let running = match job.status {
        JobStatus::InProgress | JobStatus::Stopping => job
            .status_transitions
            .iter()
            .rev()
            .find(|t| t.status == JobStatus::InProgress.as_str())
            .map_or(0.0, |t| {
                (now - t.at).num_milliseconds().max(0) as f64 / 1000.0
            }),
        _ => 0.0,
    };
    let worker_seconds = job.worker_seconds + running;
    let memory_mb = memory_bytes / (1024 * 1024);
    let gb_seconds = worker_seconds * memory_mb as f64 / 1024.0;
    let cost = gb_seconds * USD_PER_GB_SECOND + f64::from(job.invocations) * USD_PER_REQUEST;
    JobBilling {
        worker_seconds: round(worker_seconds, 3),
        memory_mb,
        gb_seconds: round(gb_seconds, 3),
        requests: job.invocations,
        cost_usd: round(cost, 8),
        price: LambdaPrice {
            usd_per_gb_second: USD_PER_GB_SECOND,
            usd_per_request: USD_PER_REQUEST,
            region: "us-east-1".into(),
            architecture: "arm64".into(),
            as_of: PRICE_AS_OF.into(),
        },
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (v * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{JobRecord, TrainingConfig};

    #[test]
    fn an_hour_at_two_gigabytes() {
        let now = Utc::now();
        let config: TrainingConfig = serde_json::from_value(serde_json::json!({
            "epochs": 1, "batch_size": 1, "learning_rate": 0.1, "ai_enhancement": false,
            "providers": []
        }))
        .unwrap();
        let mut job = JobRecord::queued("j".into(), "m".into(), config, vec![], now, now);
        job.worker_seconds = 3600.0;
        job.invocations = 5;
        let b = of(&job, 2048 * 1024 * 1024, now);
        assert_eq!(b.gb_seconds, 7200.0);
        assert_eq!(b.requests, 5);
        // 7,200 GB-s × $0.0000133334 + 5 × $0.0000002.
        assert!(
            (b.cost_usd - (0.09600048 + 0.000001)).abs() < 1e-8,
            "{}",
            b.cost_usd
        );
    }
}
