//! Gradient-boosted trees as a training family: [`fit`] wraps the tabular engine's booster
//! ([`tabular::boost`], which says how the trees are fitted) with the trainer's observer and
//! history.
//!
//! * History: the model evaluated after growing stages of its trees (up to [`STAGES`] evenly
//!   spaced tree counts), from each tree's own contributions; a stage's `seconds` is its share
//!   of the fit time by trees.
//! * Fit time grows as rows × features × trees × depth: [`estimated_fit_seconds`] bounds what a
//!   job may ask up front, since forust cannot stop a fit half-way.

use std::time::Instant;

use super::data::{Encoder, Matrix, Style, Task};
use super::fitted::{Model, Outputs};
use super::trainer::{check_matrices, Control, EpochStats, Observer, StopReason, Trained};
use super::TrainingError;
pub use tabular::boost::*;

/// History points at most.
pub const STAGES: usize = 20;
/// Train rows the history's training loss is measured on at most.
const HISTORY_TRAIN_ROWS: usize = 5_000;

/// Fits trees on `train` (in the encoder's tree encoding), scoring `val`; reports the staged
/// history to `observer` once the fit is done.
pub fn fit(
    train: &Matrix,
    val: &Matrix,
    encoder: &Encoder,
    params: &GbmParams,
    observer: &mut dyn Observer,
) -> Result<Trained, TrainingError> {
    params.validate()?;
    check_matrices(train, val, encoder)?;
    if encoder.style() != Style::Trees {
        return Err(TrainingError::Data(
            "gradient-boosted trees need the tree encoding".into(),
        ));
    }
    if let Control::Stop(reason) = observer.between_batches() {
        return Err(TrainingError::Data(format!(
            "stopped before fitting ({reason:?})"
        )));
    }
    let started = Instant::now();
    let model = GbmModel::fit(train, encoder, params)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let history = history(&model, train, val, fit_seconds, observer);
    let stopped = history.1;
    let validation = model.outputs(val)?.score(encoder, val);
    let training = model.outputs(train)?.score(encoder, train);
    Ok(Trained {
        history: history.0,
        stopped,
        reached_target: false,
        validation,
        training,
        model: Model::Gbm(Box::new(model)),
    })
}

fn history(
    model: &GbmModel,
    train: &Matrix,
    val: &Matrix,
    fit_seconds: f64,
    observer: &mut dyn Observer,
) -> (Vec<EpochStats>, Option<StopReason>) {
    let counts = model.tree_counts();
    let most = counts.iter().copied().max().unwrap_or(0);
    let stages = most.clamp(1, STAGES);
    let train_sample = train.head(HISTORY_TRAIN_ROWS);
    let mut out = Vec::with_capacity(stages);
    let mut stopped = None;
    let mut done_trees = 0usize;
    let (mut val_staged, mut train_staged) =
        (Staged::new(model, val), Staged::new(model, &train_sample));
    for s in 1..=stages {
        let fraction = s as f64 / stages as f64;
        let val_out = model.to_outputs(val_staged.at(fraction), val);
        let train_out = model.to_outputs(train_staged.at(fraction), &train_sample);
        let trees: usize = counts
            .iter()
            .map(|&n| (n as f64 * fraction).round() as usize)
            .sum();
        let share = if model.trees() > 0 {
            (trees - done_trees.min(trees)) as f64 / model.trees() as f64
        } else {
            1.0
        };
        done_trees = trees;
        let loss_of = |o: &Outputs, m: &Matrix| match o {
            Outputs::Classes { loss, .. } => *loss,
            Outputs::Values(v) => {
                v.iter()
                    .zip(&m.values)
                    .map(|(p, y)| (p - y).powi(2))
                    .sum::<f64>()
                    / m.rows.max(1) as f64
            }
        };
        let mut stats = EpochStats {
            epoch: s as u32,
            loss: loss_of(&train_out, &train_sample),
            val_loss: loss_of(&val_out, val),
            trees: Some(trees as u32),
            seconds: fit_seconds * share,
            ..EpochStats::default()
        };
        if model.encoder.task == Task::Classification {
            stats.accuracy = Some(train_out.headline(&model.encoder, &train_sample));
        }
        stats = stats.with_validation(&val_out.score(&model.encoder, val));
        if let Control::Stop(reason) = observer.on_epoch(&stats, stages as u32) {
            stopped.get_or_insert(reason);
        }
        out.push(stats);
    }
    (out, stopped)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::metrics::Scored;
    use crate::Prediction;

    #[test]
    fn trees_fit_a_classifier_with_categories_and_missing_values() {
        let mut table = blobs(400, 3);
        // Every 7th x1 missing.
        for (i, row) in table.rows.iter_mut().enumerate() {
            if i % 7 == 0 {
                row[0] = serde_json::Value::Null;
            }
        }
        let (train_m, val_m, enc) =
            encoded_for(&table, "label", Task::Classification, Style::Trees);
        assert!(enc.features[2].is_code());
        assert!(train_m.x.iter().any(|v| v.is_nan()));
        let t = fit(&train_m, &val_m, &enc, &GbmParams::default(), &mut ()).unwrap();
        assert!(
            t.validation.accuracy().unwrap() >= 0.95,
            "{:?}",
            t.validation
        );
        let Model::Gbm(g) = &t.model else {
            panic!("trees")
        };
        assert!(g.trees() >= 1 && g.nodes() > g.trees());
        assert!(!t.history.is_empty() && t.history.len() <= STAGES);
        assert_eq!(
            t.history.last().unwrap().trees,
            Some(g.trees() as u32),
            "the last stage holds every tree"
        );
        // The staged scores end where the whole model's do, and start at the base score.
        let mut staged = Staged::new(g, &val_m);
        assert!(staged.at(0.0)[0]
            .iter()
            .all(|&v| v == g.booster_trees().unwrap()[0].base_score));
        let half = staged.at(0.5);
        assert!(half[0]
            .iter()
            .zip(&g.scores(&val_m)[0])
            .any(|(a, b)| a != b));
        for (a, b) in staged
            .at(1.0)
            .iter()
            .flatten()
            .zip(g.scores(&val_m).iter().flatten())
        {
            assert!((a - b).abs() < 1e-9, "{a} {b}");
        }
        let gain = g.gain_importance();
        assert!((gain.iter().map(|g| g.share).sum::<f64>() - 1.0).abs() < 1e-9);
        assert_ne!(gain[0].column, "color", "{gain:?}");
        // Round trip, and predict with a missing value and an unseen category.
        let back = Model::from_bytes(&t.model.to_bytes().unwrap()).unwrap();
        assert_eq!(back, t.model);
        assert_eq!(back.evaluate(&val_m).unwrap(), t.validation);
        let rows = [
            serde_json::json!({"x1": null, "x2": 3.0, "color": "purple"}),
            serde_json::json!({"x1": -3.0, "x2": -3.0}),
        ];
        let p = back.predict(&rows).unwrap();
        assert_eq!(p[0].label(), Some("yes"));
        assert_eq!(p[1].label(), Some("no"));
        let Prediction::Class { probabilities, .. } = &p[0] else {
            panic!("a class")
        };
        assert!((probabilities.values().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn trees_fit_many_classes_and_regression() {
        // Three classes from the breast-cancer-free xor variant: quadrant of (x1, x2).
        let table = xor(600, 4);
        let (train_m, val_m, enc) =
            encoded_for(&table, "label", Task::Classification, Style::Trees);
        let t = fit(&train_m, &val_m, &enc, &GbmParams::default(), &mut ()).unwrap();
        // XOR defeats a linear model; trees split it.
        assert!(
            t.validation.accuracy().unwrap() >= 0.9,
            "{:?}",
            t.validation
        );

        let table = linear_target(600, 5);
        let (train_m, val_m, enc) = encoded_for(&table, "y", Task::Regression, Style::Trees);
        let params = GbmParams {
            trees: 300,
            ..GbmParams::default()
        };
        let t = fit(&train_m, &val_m, &enc, &params, &mut ()).unwrap();
        let Scored::Regression(m) = &t.validation else {
            panic!("regression")
        };
        assert!(m.r2 > 0.8, "{m:?}");
        assert!(t.history.last().unwrap().val_r2.is_some());
        assert_eq!(t.model.trees(), Some(300));
        // Deterministic for a seed.
        let again = fit(&train_m, &val_m, &enc, &params, &mut ()).unwrap();
        assert_eq!(again.model, t.model);
    }

    #[test]
    fn bad_settings_are_named() {
        let (train_m, val_m, enc) =
            encoded_for(&blobs(60, 1), "label", Task::Classification, Style::Trees);
        for (p, name) in [
            (
                GbmParams {
                    trees: 0,
                    ..GbmParams::default()
                },
                "trees",
            ),
            (
                GbmParams {
                    learning_rate: 0.0,
                    ..GbmParams::default()
                },
                "learning_rate",
            ),
            (
                GbmParams {
                    max_depth: 0,
                    ..GbmParams::default()
                },
                "max_depth",
            ),
        ] {
            let err = fit(&train_m, &val_m, &enc, &p, &mut ()).unwrap_err();
            assert!(matches!(err, TrainingError::Invalid { ref field, .. } if field == name));
        }
        // The network encoding is refused.
        let (train_m, val_m, enc) = encoded(&blobs(60, 1), "label");
        assert!(fit(&train_m, &val_m, &enc, &GbmParams::default(), &mut ()).is_err());
    }
}
