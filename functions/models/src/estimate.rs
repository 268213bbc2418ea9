//! The `estimated_completion` a training request is answered with, computed from the request
//! and the dataset it names:
//!
//! ```text
//! train_rows  = rows × (1 − validation_split)
//! params      = Σ (fan_in + 1) × fan_out over the layers (features → hidden… → classes)
//! epoch       = train_rows × (ROW_SECONDS + params × ROW_PARAM_SECONDS)
//!             + ceil(train_rows / batch) × layers × STEP_LAYER_SECONDS
//! seconds     = STARTUP + epochs × epoch + (ai_enhancement ? ENHANCEMENT_SHARE × epochs × epoch + ENHANCEMENT_FIXED : 0)
//! ```
//!
//! Features are estimated from the dataset's column count (one-hot encoding widens
//! categorical columns; `FEATURES_PER_COLUMN` stands in for it) and classes as 2. The
//! constants were fitted to measured epoch times (see BENCHMARKS.md, "Training").

use chrono::{DateTime, Duration, Utc};
use shared::records::TrainingConfig;

/// Worker cold start, claiming the job and loading its data.
pub const STARTUP_SECONDS: f64 = 2.0;
/// Per row: batching, shuffling, the validation pass.
pub const ROW_SECONDS: f64 = 2.0e-7;
/// Forward and backward work per row and parameter.
pub const ROW_PARAM_SECONDS: f64 = 4.5e-10;
/// Fixed cost of one optimizer step per linear layer (tensor set-up, update).
pub const STEP_LAYER_SECONDS: f64 = 1.1e-4;
/// Encoded features per dataset column.
pub const FEATURES_PER_COLUMN: f64 = 1.5;
/// Enhancement probes and the tuning search, as a share of the training time, plus a fixed
/// part for fitting the synthetic-data engine.
pub const ENHANCEMENT_SHARE: f64 = 1.5;
pub const ENHANCEMENT_FIXED: f64 = 2.0;

/// What the estimate needs to know of the data and the network.
pub struct Shape {
    pub rows: u64,
    pub columns: u64,
    pub hidden: Vec<usize>,
}

pub fn parameters(shape: &Shape) -> f64 {
    let features = (shape.columns.saturating_sub(1) as f64 * FEATURES_PER_COLUMN).max(1.0);
    let mut widths = vec![features];
    widths.extend(shape.hidden.iter().map(|&h| h as f64));
    widths.push(2.0);
    widths.windows(2).map(|w| (w[0] + 1.0) * w[1]).sum()
}

pub fn duration_seconds(cfg: &TrainingConfig, shape: &Shape) -> f64 {
    let train_rows = (shape.rows as f64 * (1.0 - cfg.validation_split)).max(1.0);
    let steps = (train_rows / f64::from(cfg.batch_size.max(1))).ceil();
    let layers = (shape.hidden.len() + 1) as f64;
    let epoch = train_rows * (ROW_SECONDS + parameters(shape) * ROW_PARAM_SECONDS)
        + steps * layers * STEP_LAYER_SECONDS;
    let training = f64::from(cfg.epochs) * epoch;
    let enhancement = if cfg.ai_enhancement {
        ENHANCEMENT_SHARE * training + ENHANCEMENT_FIXED
    } else {
        0.0
    };
    STARTUP_SECONDS + training + enhancement
}

pub fn completion(from: DateTime<Utc>, cfg: &TrainingConfig, shape: &Shape) -> DateTime<Utc> {
    from + Duration::milliseconds((duration_seconds(cfg, shape) * 1000.0).round() as i64)
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
            optimizer: training::OptimizerKind::Adam,
            validation_split: 0.2,
            seed: 1,
            weight_decay: 0.0,
            time_budget_seconds: None,
            max_runtime_seconds: None,
        }
    }

    fn shape(rows: u64) -> Shape {
        Shape {
            rows,
            columns: 5,
            hidden: vec![64, 32],
        }
    }

    #[test]
    fn by_hand() {
        // 4 feature columns × 1.5 = 6 features: (6+1)·64 + (64+1)·32 + (32+1)·2 = 2594 params.
        assert_eq!(parameters(&shape(0)), 2594.0);
        // 1000 rows → 800 training rows, 25 steps of 32.
        let epoch =
            800.0 * (ROW_SECONDS + 2594.0 * ROW_PARAM_SECONDS) + 25.0 * 3.0 * STEP_LAYER_SECONDS;
        let s = duration_seconds(&cfg(10, 32, false), &shape(1000));
        assert!((s - (STARTUP_SECONDS + 10.0 * epoch)).abs() < 1e-9, "{s}");
        let with = duration_seconds(&cfg(10, 32, true), &shape(1000));
        let expected =
            STARTUP_SECONDS + 10.0 * epoch * (1.0 + ENHANCEMENT_SHARE) + ENHANCEMENT_FIXED;
        assert!((with - expected).abs() < 1e-9, "{with}");
    }

    #[test]
    fn more_epochs_and_rows_take_longer_bigger_batches_less() {
        let s = shape(10_000);
        assert!(
            duration_seconds(&cfg(20, 32, false), &s) > duration_seconds(&cfg(10, 32, false), &s)
        );
        assert!(
            duration_seconds(&cfg(10, 256, false), &s) < duration_seconds(&cfg(10, 32, false), &s)
        );
        assert!(
            duration_seconds(&cfg(10, 32, false), &shape(100_000))
                > duration_seconds(&cfg(10, 32, false), &s)
        );
    }
}
