//! Utility of synthetic rows: does a model trained on them work on real ones?
//!
//! The same model ([`GbmModel`] with [`GbmParams`]' defaults and the request's seed, its
//! encoder fitted on its own training rows, [`Style::Trees`]) is trained twice and tested on
//! the same held-out real rows, never seen by the generator or by either model:
//! * TRTR (train real, test real): trained on the real rows the generator was fitted on;
//! * TSTR (train synthetic, test real): trained on the generated rows.
//!
//! Scores on the holdout (scikit-learn's definitions, [`crate::metrics`]):
//! * classification: accuracy, macro F1 and balanced accuracy over the classes of the truth
//!   and the predictions (a holdout class one training set lacks counts as always missed);
//! * regression: R², RMSE, MAE.
//!
//! `ratio` = TSTR / TRTR of the headline metric (accuracy, or R²), absent when TRTR's is not
//! above 0; `score` = min(ratio, 1), clipped at 0. `baseline` is the same scores for always
//! answering the real training rows' most frequent class (or mean), what a model must beat.

use std::collections::BTreeSet;

use serde_json::Value;
use synth::table::value_key;
pub use synth::utility::{UtilityModel, UtilityReport, UtilityScores};
use synth::{DatasetColumn, Table};

use super::boost::{GbmModel, GbmParams};
use super::data::{Encoder, FitOptions, Matrix, Style, Task};
use super::metrics::{Metrics, RegressionMetrics};
use super::outputs::{argmax, Outputs};
use super::TabularError;

/// What to compare.
pub struct UtilityInput<'a> {
    /// The real rows the generator was fitted on.
    pub real: &'a Table,
    /// Real rows the generator never saw.
    pub holdout: &'a Table,
    pub synthetic: &'a Table,
    /// The typed columns (the target among them, by name).
    pub columns: &'a [DatasetColumn],
    pub target: &'a str,
    pub task: Task,
    pub seed: u64,
}

/// The columns to encode and the task for predicting `target`: the schema's own target
/// (kind `target`), a categorical or boolean column is a classification, a numeric or integer
/// one a regression; another column's `target` kind becomes `categorical` (one more feature).
/// Anything else is an error naming `utility.target`.
pub fn task_for(
    columns: &[DatasetColumn],
    target: &str,
) -> Result<(Vec<DatasetColumn>, Task), TabularError> {
    let task = match columns
        .iter()
        .find(|c| c.name == target)
        .map(|c| c.kind.as_str())
    {
        Some("target" | "categorical" | "boolean") => Task::Classification,
        Some("numeric" | "integer") => Task::Regression,
        Some(kind) => {
            return Err(TabularError::invalid(
                "utility.target",
                format!("{target:?} is a {kind} column: no model predicts it"),
            ))
        }
        None => {
            return Err(TabularError::invalid(
                "utility.target",
                format!("{target:?} is not a column of the rows"),
            ))
        }
    };
    let columns = columns
        .iter()
        .cloned()
        .map(|mut c| {
            if c.kind == "target" && c.name != target {
                c.kind = "categorical".into();
            }
            c
        })
        .collect();
    Ok((columns, task))
}

/// The report, or why a model cannot be fitted on one of the training sets (the error names
/// which: `utility.real` or `utility.synthetic`).
pub fn utility_report(input: &UtilityInput<'_>) -> Result<UtilityReport, TabularError> {
    let params = GbmParams {
        seed: input.seed,
        ..GbmParams::default()
    };
    let options = FitOptions {
        task: input.task,
        style: Style::Trees,
        ..FitOptions::default()
    };
    let fit = |train: &Table, which: &str| -> Result<(GbmModel, Matrix), TabularError> {
        let named =
            |e: TabularError| TabularError::invalid(format!("utility.{which}"), e.to_string());
        let encoder =
            Encoder::fit_with(train, input.columns, input.target, &options).map_err(named)?;
        let m = encoder.encode(train).map_err(named)?;
        let model = GbmModel::fit(&m, &encoder, &params).map_err(named)?;
        Ok((model, m))
    };
    let (real_model, real_m) = fit(input.real, "real")?;
    let (synthetic_model, synthetic_m) = fit(input.synthetic, "synthetic")?;
    let (real, synthetic, baseline, holdout_rows) = match input.task {
        Task::Classification => {
            let holdout = labeled(input.holdout, input.target);
            let truth: Vec<String> = holdout
                .rows
                .iter()
                .filter_map(|r| {
                    r.get(target_at(&holdout, input.target)?)
                        .and_then(value_key)
                })
                .collect();
            if truth.is_empty() {
                return Err(TabularError::invalid(
                    "utility.holdout",
                    format!("no held-out row has a value of {:?}", input.target),
                ));
            }
            let real = classify(&real_model, &holdout, &truth)?;
            let synthetic = classify(&synthetic_model, &holdout, &truth)?;
            let majority = most_frequent(&real_m);
            let label = real_model.encoder.classes[majority as usize].clone();
            let baseline = class_scores(&truth, &vec![label; truth.len()]);
            (real, synthetic, baseline, truth.len())
        }
        Task::Regression => {
            let m = real_model.encoder.encode(input.holdout)?;
            if m.rows == 0 {
                return Err(TabularError::invalid(
                    "utility.holdout",
                    format!("no held-out row has a number in {:?}", input.target),
                ));
            }
            let score = |model: &GbmModel| -> Result<RegressionMetrics, TabularError> {
                let m = model.encoder.encode(input.holdout)?;
                match model.outputs(&m)? {
                    Outputs::Values(v) => Ok(RegressionMetrics::of(&m.values, &v, None)),
                    Outputs::Classes { .. } => unreachable!("a regression encoder"),
                }
            };
            let mean = real_m.values.iter().sum::<f64>() / real_m.values.len().max(1) as f64;
            let base = RegressionMetrics::of(&m.values, &vec![mean; m.rows], None);
            (
                value_scores(&score(&real_model)?),
                value_scores(&score(&synthetic_model)?),
                value_scores(&base),
                m.rows,
            )
        }
    };
    let headline = |s: &UtilityScores| s.accuracy.or(s.r2);
    let ratio = match (headline(&real), headline(&synthetic)) {
        (Some(r), Some(s)) if r > 0.0 => Some(s / r),
        _ => None,
    };
    Ok(UtilityReport {
        target: input.target.to_string(),
        task: input.task.as_str().to_string(),
        metric: match input.task {
            Task::Classification => "accuracy",
            Task::Regression => "r2",
        }
        .to_string(),
        model: UtilityModel {
            family: "gbm".into(),
            trees: params.trees,
            // The f32's shortest decimal (0.1, not 0.10000000149011612).
            learning_rate: params.learning_rate.to_string().parse().unwrap_or(f64::NAN),
            max_depth: params.max_depth,
            seed: params.seed,
        },
        real_rows: real_m.rows,
        synthetic_rows: synthetic_m.rows,
        holdout_rows,
        real,
        synthetic,
        baseline,
        ratio,
        score: ratio.map(|r| r.clamp(0.0, 1.0)),
    })
}

fn target_at(table: &Table, target: &str) -> Option<usize> {
    table.column_index(target)
}

/// The rows with a target value.
fn labeled(table: &Table, target: &str) -> Table {
    let t = target_at(table, target);
    Table {
        columns: table.columns.clone(),
        rows: table
            .rows
            .iter()
            .filter(|r| t.and_then(|t| r.get(t)).and_then(value_key).is_some())
            .cloned()
            .collect(),
    }
}

/// The model's labels for `holdout` (every row labeled), scored against `truth`.
fn classify(
    model: &GbmModel,
    holdout: &Table,
    truth: &[String],
) -> Result<UtilityScores, TabularError> {
    let encoder = &model.encoder;
    // The encoder refuses a class its training rows lacked; the label is not a feature, so
    // the features are encoded with any known class in its place.
    let t = target_at(holdout, &encoder.target)
        .ok_or_else(|| TabularError::Data(format!("{:?} is not in the holdout", encoder.target)))?;
    let mut features = holdout.clone();
    for row in &mut features.rows {
        row[t] = Value::String(encoder.classes[0].clone());
    }
    let m = encoder.encode(&features)?;
    let k = encoder.classes.len().max(1);
    let predicted: Vec<String> = match model.outputs(&m)? {
        Outputs::Classes { probabilities, .. } => probabilities
            .chunks_exact(k)
            .map(|p| encoder.classes[argmax(p) as usize].clone())
            .collect(),
        Outputs::Values(_) => unreachable!("a classification encoder"),
    };
    Ok(class_scores(truth, &predicted))
}

/// Accuracy, macro F1 and balanced accuracy over the union of the labels.
fn class_scores(truth: &[String], predicted: &[String]) -> UtilityScores {
    let classes: Vec<String> = truth
        .iter()
        .chain(predicted)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let index = |s: &String| classes.binary_search(s).unwrap_or(0) as u32;
    let t: Vec<u32> = truth.iter().map(index).collect();
    let p: Vec<u32> = predicted.iter().map(index).collect();
    let m = Metrics::from_predictions(&classes, &t, &p, f64::NAN);
    UtilityScores {
        accuracy: Some(m.accuracy),
        macro_f1: Some(m.macro_f1),
        balanced_accuracy: Some(m.balanced_accuracy),
        ..UtilityScores::default()
    }
}

fn value_scores(m: &RegressionMetrics) -> UtilityScores {
    UtilityScores {
        r2: Some(m.r2),
        rmse: Some(m.rmse),
        mae: Some(m.mae),
        ..UtilityScores::default()
    }
}

/// The most frequent label of a matrix (the first of equals).
fn most_frequent(m: &Matrix) -> u32 {
    let k = m.y.iter().max().map_or(1, |&y| y as usize + 1);
    let mut counts = vec![0f64; k];
    for &y in &m.y {
        counts[y as usize] += 1.0;
    }
    argmax(&counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::col;
    use rand::{Rng, SeedableRng};
    use serde_json::json;

    /// `label` is "hi" when x + noise > 0; `colour` is noise.
    fn table(n: usize, seed: u64, noise: f64) -> Table {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let rows = (0..n)
            .map(|_| {
                let x: f64 = rng.random_range(-1.0..1.0);
                let e: f64 = rng.random_range(-noise..=noise);
                let colour = ["red", "blue"][rng.random_range(0..2)];
                let label = if x + e > 0.0 { "hi" } else { "lo" };
                vec![json!(x), json!(colour), json!(label), json!(3.0 * x + e)]
            })
            .collect();
        Table {
            columns: vec!["x".into(), "colour".into(), "label".into(), "y".into()],
            rows,
        }
    }

    fn columns(target: &str) -> Vec<DatasetColumn> {
        let mut out = vec![col("x", "numeric"), col("colour", "categorical")];
        if target == "label" {
            out.extend([col("y", "numeric"), col("label", "target")]);
        } else {
            out.extend([col("label", "categorical"), col("y", "numeric")]);
        }
        out
    }

    fn report(
        real: &Table,
        holdout: &Table,
        synthetic: &Table,
        target: &str,
        task: Task,
    ) -> UtilityReport {
        let columns = columns(target);
        // `y` is a copy of the label's signal: the tests drop it for the classifier.
        let drop_y = |t: &Table| Table {
            columns: t.columns[..3].to_vec(),
            rows: t.rows.iter().map(|r| r[..3].to_vec()).collect(),
        };
        let (real, holdout, synthetic, columns) = if target == "label" {
            (
                drop_y(real),
                drop_y(holdout),
                drop_y(synthetic),
                columns[..2]
                    .iter()
                    .chain(&columns[3..])
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        } else {
            (real.clone(), holdout.clone(), synthetic.clone(), columns)
        };
        utility_report(&UtilityInput {
            real: &real,
            holdout: &holdout,
            synthetic: &synthetic,
            columns: &columns,
            target,
            task,
            seed: 7,
        })
        .unwrap()
    }

    #[test]
    fn rows_that_keep_the_signal_score_near_the_real_ones_and_noise_does_not() {
        let (real, holdout) = (table(600, 1, 0.05), table(300, 2, 0.05));
        // Good synthetic rows: the same process, new draws.
        let good = report(
            &real,
            &holdout,
            &table(600, 3, 0.05),
            "label",
            Task::Classification,
        );
        assert_eq!(
            (good.real_rows, good.synthetic_rows, good.holdout_rows),
            (600, 600, 300)
        );
        let (r, s) = (
            good.real.accuracy.unwrap(),
            good.synthetic.accuracy.unwrap(),
        );
        assert!(r > 0.9 && s > 0.9, "{good:?}");
        assert!((good.ratio.unwrap() - s / r).abs() < 1e-12);
        assert!(good.score.unwrap() > 0.95);
        // Bad synthetic rows: labels shuffled away from x.
        let mut bad = table(600, 4, 0.05);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for row in &mut bad.rows {
            row[2] = json!(["hi", "lo"][rng.random_range(0..2)]);
        }
        let bad = report(&real, &holdout, &bad, "label", Task::Classification);
        assert!(bad.synthetic.accuracy.unwrap() < 0.65, "{bad:?}");
        assert!(bad.score.unwrap() < 0.75);
        // The baseline is the real rows' majority class on the holdout, by hand.
        let hi = holdout.rows.iter().filter(|r| r[2] == "hi").count() as f64 / 300.0;
        let real_hi = real.rows.iter().filter(|r| r[2] == "hi").count();
        let expected = if real_hi * 2 > 600 { hi } else { 1.0 - hi };
        assert!((good.baseline.accuracy.unwrap() - expected).abs() < 1e-12);
    }

    #[test]
    fn a_class_the_synthetic_rows_lack_counts_as_missed() {
        let (real, holdout) = (table(400, 1, 0.05), table(200, 2, 0.05));
        let mut one_sided = table(400, 3, 0.05);
        // Synthetic rows with a third class the holdout never has, and no "lo".
        for row in &mut one_sided.rows {
            if row[2] == "lo" {
                row[2] = json!("other");
            }
        }
        let r = report(&real, &holdout, &one_sided, "label", Task::Classification);
        let lo = holdout.rows.iter().filter(|r| r[2] == "lo").count() as f64 / 200.0;
        // "lo" rows are predicted "other": every one is wrong.
        assert!(r.synthetic.accuracy.unwrap() <= 1.0 - lo + 1e-12, "{r:?}");
        assert!(r.synthetic.macro_f1.unwrap() < r.real.macro_f1.unwrap());
    }

    #[test]
    fn regression_reports_r2_and_its_ratio() {
        let (real, holdout) = (table(600, 1, 0.1), table(300, 2, 0.1));
        let r = report(&real, &holdout, &table(600, 3, 0.1), "y", Task::Regression);
        assert_eq!((r.metric.as_str(), r.task.as_str()), ("r2", "regression"));
        assert!(
            r.real.r2.unwrap() > 0.95 && r.synthetic.r2.unwrap() > 0.95,
            "{r:?}"
        );
        assert!(r.baseline.r2.unwrap() <= 0.0);
        assert!((r.ratio.unwrap() - r.synthetic.r2.unwrap() / r.real.r2.unwrap()).abs() < 1e-12);
    }

    #[test]
    fn the_task_follows_the_target_column() {
        let cols = [
            col("x", "numeric"),
            col("colour", "categorical"),
            col("label", "target"),
            col("at", "datetime"),
        ];
        let (c, t) = task_for(&cols, "label").unwrap();
        assert_eq!((t, c[2].kind.as_str()), (Task::Classification, "target"));
        let (c, t) = task_for(&cols, "x").unwrap();
        assert_eq!((t, c[2].kind.as_str()), (Task::Regression, "categorical"));
        assert_eq!(task_for(&cols, "colour").unwrap().1, Task::Classification);
        for bad in ["at", "nope"] {
            let e = task_for(&cols, bad).unwrap_err();
            assert!(
                matches!(&e, TabularError::Invalid { field, .. } if field == "utility.target"),
                "{e}"
            );
        }
    }

    #[test]
    fn one_class_of_synthetic_rows_is_named() {
        let (real, holdout) = (table(100, 1, 0.05), table(50, 2, 0.05));
        let mut one = table(100, 3, 0.05);
        for row in &mut one.rows {
            row[2] = json!("hi");
        }
        let columns = columns("label");
        let e = utility_report(&UtilityInput {
            real: &real,
            holdout: &holdout,
            synthetic: &one,
            columns: &columns,
            target: "label",
            task: Task::Classification,
            seed: 1,
        })
        .unwrap_err();
        assert!(
            matches!(&e, TabularError::Invalid { field, message } if field == "utility.synthetic" && message.contains("2 classes")),
            "{e}"
        );
    }
}
