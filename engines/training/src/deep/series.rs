//! Forecasting one series: windows cut in time order, the latest part held out, a network
//! that reads `window` values and answers the next `horizon`, and the errors beside the
//! naive forecasts'.
//!
//! - Windows: sample t reads values t − window … t − 1 and answers t … t + horizon − 1.
//! - Split: the last `validation_split` share of the windows (rounded, at least one) is the
//!   validation part; a training window's answers all come before the first validation
//!   answer, so nothing of the validation part is learned, and nothing is shuffled across.
//! - Scaling: the network reads and answers `(y − mean) / std`, with the mean and standard
//!   deviation of the values the training windows cover.
//! - Errors on the validation windows, over every answered step, in the series' units:
//!   MSE, MAE, and MASE = MAE / (mean |y_t − y_{t−1}| over the training part): the
//!   in-sample one-step naive error (Hyndman & Koehler 2006). Beside them the same errors of
//!   the naive forecast (the window's last value, repeated) and the seasonal naive one (the
//!   value one season earlier, y_{t+h−m·⌈(h+1)/m⌉}), with the season m given or, when not,
//!   the lag from 2 to `window` with the largest autocorrelation of the training part.

use serde::{Deserialize, Serialize};

use super::{Inputs, Samples, Targets};
use crate::TrainingError;

/// How a series is cut.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    pub window: usize,
    pub horizon: usize,
}

/// The windows of a series, split in time order.
#[derive(Debug, Clone)]
pub struct Windows {
    pub train: Samples,
    pub val: Samples,
    pub mean: f64,
    pub std: f64,
    /// First value index of the first validation answer.
    pub val_start: usize,
    /// Number of training values (indices before the first validation answer).
    pub train_values: usize,
}

/// Errors of one forecast on the validation windows.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Errors {
    pub mse: f64,
    pub mae: f64,
    pub mase: f64,
}

/// The model's errors beside the naive forecasts'.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ForecastReport {
    pub window: usize,
    pub horizon: usize,
    pub validation_windows: usize,
    /// The MASE denominator: mean |y_t − y_{t−1}| over the training part.
    pub naive_scale: f64,
    pub model: Errors,
    pub naive: Errors,
    pub season: usize,
    /// `given`, or `autocorrelation` (the lag with the largest one).
    pub season_source: String,
    pub seasonal_naive: Errors,
}

/// Cuts `values` (in time order, no gaps) into windows and splits them.
pub fn windows(values: &[f64], cut: Cut, validation_split: f64) -> Result<Windows, TrainingError> {
    let Cut { window, horizon } = cut;
    if window == 0 || horizon == 0 {
        return Err(TrainingError::invalid(
            "forecast.window",
            "window and horizon must be at least 1",
        ));
    }
    let count = (values.len() + 1).saturating_sub(window + horizon);
    let val_windows = ((count as f64 * validation_split).round() as usize).max(1);
    // Training windows answer only before the first validation answer.
    let first_val = count.saturating_sub(val_windows);
    let val_start = first_val + window;
    let train_count = (val_start + 1).saturating_sub(window + horizon);
    if train_count < 2 || count <= val_windows {
        return Err(TrainingError::Data(format!(
            "{} values make {count} windows of {window} + {horizon}: too few to train on and \
             validate (at least 2 training windows before the validation part)",
            values.len()
        )));
    }
    let covered = &values[..val_start];
    let n = covered.len() as f64;
    let mean = covered.iter().sum::<f64>() / n;
    let sd = (covered.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let std = if sd > 1e-12 { sd } else { 1.0 };
    let make = |starts: std::ops::Range<usize>| {
        let mut x = Vec::with_capacity(starts.len() * window);
        let mut y = Vec::with_capacity(starts.len() * horizon);
        for s in starts {
            x.extend(
                values[s..s + window]
                    .iter()
                    .map(|v| ((v - mean) / std) as f32),
            );
            y.extend(
                values[s + window..s + window + horizon]
                    .iter()
                    .map(|v| ((v - mean) / std) as f32),
            );
        }
        Samples {
            inputs: Inputs::Floats {
                values: x,
                shape: vec![window],
            },
            targets: Targets::Values {
                values: y,
                width: horizon,
                mean,
                std,
            },
        }
    };
    Ok(Windows {
        train: make(0..train_count),
        val: make(first_val..count),
        mean,
        std,
        val_start,
        train_values: val_start,
    })
}

/// The lag from 2 to `max_lag` with the largest autocorrelation of `values`.
pub fn season_by_autocorrelation(values: &[f64], max_lag: usize) -> usize {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    let var: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (2..=max_lag.min(n.saturating_sub(1)).max(2))
        .map(|lag| {
            let c: f64 = (lag..n)
                .map(|t| (values[t] - mean) * (values[t - lag] - mean))
                .sum();
            (lag, if var > 0.0 { c / var } else { 0.0 })
        })
        // The shortest of equally strong lags: a multiple of the season ties with it.
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map_or(2, |(lag, _)| lag)
}

/// Errors of `predicted` (per validation window, `horizon` values each) and of the naive
/// forecasts, by the module's formulas.
pub fn report(
    values: &[f64],
    cut: Cut,
    w: &Windows,
    predicted: &[f64],
    season: Option<usize>,
) -> ForecastReport {
    let Cut { window, horizon } = cut;
    let train = &values[..w.train_values];
    let scale = train.windows(2).map(|p| (p[1] - p[0]).abs()).sum::<f64>()
        / (train.len().saturating_sub(1)).max(1) as f64;
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let (season, season_source) = match season {
        Some(m) => (m, "given"),
        None => (season_by_autocorrelation(train, window), "autocorrelation"),
    };
    let windows = w.val.len();
    let first = w.val_start - window;
    let errors = |forecast: &dyn Fn(usize, usize) -> f64| {
        let (mut se, mut ae, mut n) = (0.0, 0.0, 0.0);
        for k in 0..windows {
            let start = first + k + window;
            for h in 0..horizon {
                let e = values[start + h] - forecast(k, h);
                se += e * e;
                ae += e.abs();
                n += 1.0;
            }
        }
        let mae = ae / n;
        Errors {
            mse: se / n,
            mae,
            mase: mae / scale,
        }
    };
    let model = errors(&|k, h| predicted[k * horizon + h]);
    let naive = errors(&|k, _| values[first + k + window - 1]);
    let seasonal = errors(&|k, h| {
        let start = first + k + window;
        let back = season * (h / season + 1);
        // A season longer than the window reaches before it: the naive value then.
        if back <= window {
            values[start + h - back]
        } else {
            values[start - 1]
        }
    });
    ForecastReport {
        window,
        horizon,
        validation_windows: windows,
        naive_scale: scale,
        model,
        naive,
        season,
        season_source: season_source.into(),
        seasonal_naive: seasonal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_keep_time_order_and_hold_out_the_latest() {
        let values: Vec<f64> = (0..20).map(f64::from).collect();
        let w = windows(
            &values,
            Cut {
                window: 3,
                horizon: 2,
            },
            0.25,
        )
        .unwrap();
        // 16 windows; the last 4 validate, answering values 15..19.
        assert_eq!(w.val.len(), 4);
        assert_eq!(w.val_start, 15);
        // Training windows answer before value 15: starts 0..=10.
        assert_eq!(w.train.len(), 11);
        let Targets::Values { values: y, .. } = &w.train.targets else {
            panic!()
        };
        let last = y[y.len() - 1] * w.std as f32 + w.mean as f32;
        assert!((last - 14.0).abs() < 1e-4, "{last}");
        assert!(windows(
            &values[..5],
            Cut {
                window: 3,
                horizon: 2
            },
            0.2
        )
        .is_err());
    }

    #[test]
    fn the_naive_forecasts_and_mase_by_hand() {
        // A line: the naive forecast is one step behind, the step is 1, so MASE(naive) = 1
        // for horizon 1; a perfect forecast has MASE 0.
        let values: Vec<f64> = (0..30).map(f64::from).collect();
        let cut = Cut {
            window: 4,
            horizon: 1,
        };
        let w = windows(&values, cut, 0.2).unwrap();
        let perfect: Vec<f64> = (0..w.val.len()).map(|k| values[w.val_start + k]).collect();
        let r = report(&values, cut, &w, &perfect, Some(2));
        assert_eq!(r.model.mae, 0.0);
        assert!((r.naive.mae - 1.0).abs() < 1e-12 && (r.naive.mase - 1.0).abs() < 1e-12);
        assert!(
            (r.seasonal_naive.mae - 2.0).abs() < 1e-12,
            "{:?}",
            r.seasonal_naive
        );
        // A period-4 wave: the autocorrelation finds 4, and seasonal naive is exact.
        let wave: Vec<f64> = (0..40).map(|t| [0.0, 1.0, 0.0, -1.0][t % 4]).collect();
        let cut = Cut {
            window: 8,
            horizon: 2,
        };
        let w = windows(&wave, cut, 0.2).unwrap();
        let zeros = vec![0.0; w.val.len() * 2];
        let r = report(&wave, cut, &w, &zeros, None);
        assert_eq!((r.season, r.season_source.as_str()), (4, "autocorrelation"));
        assert_eq!(r.seasonal_naive.mae, 0.0);
    }
}
