//! The `estimated_completion` a training request is answered with, computed from the request:
//!
//! `seconds = STARTUP + epochs × ceil(ASSUMED_ROWS / batch_size) × STEP + (ai_enhancement ? ENHANCEMENT : 0)`
//!
//! The constants are stated here and in the README; once the worker records real step times
//! they are the figures to recalibrate.

use chrono::{DateTime, Duration, Utc};
use shared::records::TrainingConfig;

/// Worker cold start, claiming the job and loading its data.
pub const STARTUP_SECONDS: f64 = 5.0;
/// Rows assumed when the dataset's size is not yet known.
pub const ASSUMED_ROWS: u64 = 10_000;
/// One optimizer step on a small tabular batch on one Lambda vCPU.
pub const STEP_SECONDS: f64 = 0.002;
/// The scheduled AI enhancement steps (augmentation, review, a small tuning search).
pub const ENHANCEMENT_SECONDS: f64 = 60.0;

pub fn duration_seconds(cfg: &TrainingConfig) -> f64 {
    let steps_per_epoch = ASSUMED_ROWS.div_ceil(u64::from(cfg.batch_size.max(1)));
    let training = f64::from(cfg.epochs) * steps_per_epoch as f64 * STEP_SECONDS;
    let enhancement = if cfg.ai_enhancement {
        ENHANCEMENT_SECONDS
    } else {
        0.0
    };
    STARTUP_SECONDS + training + enhancement
}

pub fn completion(from: DateTime<Utc>, cfg: &TrainingConfig) -> DateTime<Utc> {
    from + Duration::milliseconds((duration_seconds(cfg) * 1000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(epochs: u32, batch_size: u32, ai: bool) -> TrainingConfig {
        TrainingConfig {
            epochs,
            batch_size,
            learning_rate: 0.001,
            ai_enhancement: ai,
            providers: vec![],
        }
    }

    #[test]
    fn spec_example_by_hand() {
        // ceil(10000/32) = 313 steps × 50 epochs × 0.002 s = 31.3 s, + 5 s + 60 s.
        let s = duration_seconds(&cfg(50, 32, true));
        assert!((s - 96.3).abs() < 1e-9, "{s}");
    }

    #[test]
    fn more_epochs_take_longer_bigger_batches_less() {
        assert!(duration_seconds(&cfg(20, 32, false)) > duration_seconds(&cfg(10, 32, false)));
        assert!(duration_seconds(&cfg(10, 256, false)) < duration_seconds(&cfg(10, 32, false)));
    }
}
