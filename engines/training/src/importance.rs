//! Permutation importance (Breiman 2001; scikit-learn's `permutation_importance`), model
//! agnostic: how much the validation metric (accuracy, or R² for regression) drops when one
//! column's values are shuffled across rows, breaking its link with the target while keeping
//! its distribution.
//!
//! For a column c (all of its one-hot features move together) and repeat k:
//! drop_c,k = metric(validation) − metric(validation with column c permuted by π_c,k),
//! with π_c,k a permutation drawn from ChaCha8(seed, stream c·repeats + k). The report gives
//! mean_c = mean_k drop_c,k and std_c = the population standard deviation of the drops (as
//! scikit-learn's `importances_std`). At most `max_rows` validation rows are used (the first
//! ones, in the table's order), so the cost is bounded: columns × repeats forward passes.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
pub use synth::ColumnImportance;

use super::data::Matrix;
use super::fitted::Model;
use super::TrainingError;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ImportanceReport {
    /// `permutation` (the method) on `accuracy` or `r2` (the metric).
    pub method: String,
    pub metric: String,
    /// The metric on the rows used, unpermuted.
    pub baseline: f64,
    pub rows: usize,
    pub repeats: usize,
    pub seed: u64,
    /// Most important first.
    pub columns: Vec<ColumnImportance>,
}

fn metric(model: &Model, m: &Matrix) -> Result<f64, TrainingError> {
    Ok(model.outputs(m)?.headline(model.encoder(), m))
}

/// Permutation importance of every encoded column of `artifact` on `val` (module docs).
pub fn permutation_importance(
    model: &Model,
    val: &Matrix,
    repeats: usize,
    seed: u64,
    max_rows: usize,
) -> Result<ImportanceReport, TrainingError> {
    let base = val.head(max_rows);
    let rows = base.rows;
    let baseline = metric(model, &base)?;
    let mut columns = Vec::new();
    let mut start = 0;
    for (c, (column, width)) in model.encoder().column_widths().into_iter().enumerate() {
        let mut drops = Vec::with_capacity(repeats);
        for k in 0..repeats {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream((c * repeats + k) as u64);
            let mut order: Vec<usize> = (0..rows).collect();
            order.shuffle(&mut rng);
            let mut shuffled = base.clone();
            for (r, &from) in order.iter().enumerate() {
                let (to, src) = (r * base.width + start, from * base.width + start);
                shuffled.x[to..to + width].copy_from_slice(&base.x[src..src + width]);
            }
            drops.push(baseline - metric(model, &shuffled)?);
        }
        let n = drops.len().max(1) as f64;
        let mean = drops.iter().sum::<f64>() / n;
        let std = (drops.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n).sqrt();
        columns.push(ColumnImportance { column, mean, std });
        start += width;
    }
    columns.sort_by(|a, b| {
        b.mean
            .total_cmp(&a.mean)
            .then_with(|| a.column.cmp(&b.column))
    });
    Ok(ImportanceReport {
        method: "permutation".into(),
        metric: match model.encoder().task {
            crate::Task::Classification => "accuracy",
            crate::Task::Regression => "r2",
        }
        .into(),
        baseline,
        rows,
        repeats,
        seed,
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::model::Architecture;
    use super::super::trainer::{train, TrainParams};
    use super::*;
    use crate::OptimizerKind;

    #[test]
    fn the_informative_columns_matter_and_noise_does_not() {
        // blobs: x1 and x2 carry the class, color is drawn at random.
        let (train_m, val_m, enc) = encoded(&blobs(600, 5), "label");
        let params = TrainParams {
            architecture: Architecture::LogisticRegression,
            optimizer: OptimizerKind::Adam,
            epochs: 20,
            batch_size: 32,
            learning_rate: 0.05,
            weight_decay: 0.0,
            target_accuracy: None,
            seed: 3,
        };
        let t = train(&train_m, &val_m, &enc, &params, &mut ()).unwrap();
        let report = permutation_importance(&t.model, &val_m, 5, 11, 10_000).unwrap();
        assert_eq!(report.rows, val_m.rows);
        assert!((report.baseline - t.validation.accuracy().unwrap()).abs() < 1e-12);
        let by_name = |n: &str| report.columns.iter().find(|c| c.column == n).unwrap();
        assert!(by_name("x1").mean > 0.1, "{report:?}");
        assert!(by_name("x2").mean > 0.1, "{report:?}");
        assert!(by_name("color").mean.abs() < 0.03, "{report:?}");
        assert_ne!(report.columns[2].column, "x1");
        // Seeded: the same call gives the same report.
        assert_eq!(
            permutation_importance(&t.model, &val_m, 5, 11, 10_000).unwrap(),
            report
        );
    }
}
