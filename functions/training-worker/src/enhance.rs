//! The AI enhancement steps a job runs before training when `ai_enhancement` is on. Each
//! step really happens and records its measured effect: a short probe training with and
//! without the change, same seed, same epochs, scored on the validation split. A change that
//! makes the probe worse is reverted, and the report says so.
//!
//! - `synthetic_data_generation`: the minority classes of the training split are topped up
//!   with rows from the synthetic-data engine (Gaussian copula) fitted to the training split
//!   only, so no validation row leaks into training.
//! - `architecture_optimization`: the analyzer reviews the network as a layer list; the
//!   findings an MLP can act on (regularization for its parameter count) are applied.
//! - `hyperparameter_tuning`: successive halving over learning rate and batch size.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use analysis::{self, AnalysisInput};
use shared::records::DatasetColumn;
use synth::{self, Balance, Generator, Table};
use training::{
    self, Architecture, Encoder, Matrix, Metrics, Observer, TrainParams, TrainingError,
};

/// Epochs of each probe run.
const PROBE_EPOCHS: u32 = 5;
/// A class is topped up when it has fewer rows than this share of the largest class.
const BALANCED_RATIO: f64 = 0.9;
/// Synthetic rows added are at most this many times the class's real rows.
const MAX_SYNTHETIC_PER_REAL: u64 = 5;
/// Dropout and weight decay applied when the analyzer finds no regularization.
const DROPOUT: f32 = 0.2;
const WEIGHT_DECAY: f64 = 1e-4;
/// A change is kept unless it lowers the probe's balanced accuracy by more than this.
const TOLERANCE: f64 = 0.005;

pub struct Inputs<'a> {
    pub steps: &'a [String],
    pub train_table: &'a Table,
    pub train: &'a Matrix,
    pub val: &'a Matrix,
    pub encoder: &'a Encoder,
    pub columns: &'a [DatasetColumn],
    pub target: &'a str,
    pub seed: u64,
}

pub struct Enhanced {
    pub train: Matrix,
    pub params: TrainParams,
    /// One entry per step, in order.
    pub report: Value,
}

/// Runs the scheduled steps in order within `budget`.
pub fn run(
    inputs: &Inputs<'_>,
    mut params: TrainParams,
    budget: Duration,
    observer: &mut dyn Observer,
) -> Result<Enhanced, TrainingError> {
    let started = Instant::now();
    let mut train = inputs.train.clone();
    let mut reports = Vec::new();
    for step in inputs.steps {
        let left = budget.saturating_sub(started.elapsed());
        let t0 = Instant::now();
        let mut report = match step.as_str() {
            "synthetic_data_generation" => {
                let (report, augmented) = augment(inputs, &params, observer)?;
                if let Some(m) = augmented {
                    train = m;
                }
                report
            }
            "architecture_optimization" => {
                let (report, revised) = review(inputs, &train, &params, observer)?;
                params = revised;
                report
            }
            "hyperparameter_tuning" => {
                let tuning = training::successive_halving(
                    &train,
                    inputs.val,
                    inputs.encoder,
                    &params,
                    left,
                    observer,
                )?;
                params.learning_rate = tuning.best_learning_rate;
                params.batch_size = tuning.best_batch_size;
                json!({
                    "status": "applied",
                    "method": "successive halving over learning rate × batch size, ranked by validation loss",
                    "learning_rate": tuning.best_learning_rate,
                    "batch_size": tuning.best_batch_size,
                    "search": tuning,
                })
            }
            other => json!({"status": "skipped", "reason": format!("unknown step {other}")}),
        };
        report["step"] = json!(step);
        report["seconds"] = json!(t0.elapsed().as_secs_f64());
        reports.push(report);
    }
    Ok(Enhanced {
        train,
        params,
        report: Value::Array(reports),
    })
}

/// Validation scores of a short run: what each step's effect is measured with.
fn probe(
    train: &Matrix,
    inputs: &Inputs<'_>,
    params: &TrainParams,
    observer: &mut dyn Observer,
) -> Result<Metrics, TrainingError> {
    let mut short = params.clone();
    short.epochs = params.epochs.min(PROBE_EPOCHS);
    short.target_accuracy = None;
    training::train(train, inputs.val, inputs.encoder, &short, observer)?
        .validation
        .classification()
        .cloned()
        .ok_or_else(|| TrainingError::Data("enhancement probes score classifiers".into()))
}

fn scores(m: &Metrics) -> Value {
    json!({
        "val_accuracy": m.accuracy,
        "val_balanced_accuracy": m.balanced_accuracy,
        "val_macro_f1": m.macro_f1,
        "val_loss": m.loss,
    })
}

fn effect(before: &Metrics, after: &Metrics) -> Value {
    json!({
        "val_accuracy_delta": after.accuracy - before.accuracy,
        "val_balanced_accuracy_delta": after.balanced_accuracy - before.balanced_accuracy,
        "val_macro_f1_delta": after.macro_f1 - before.macro_f1,
        "val_loss_delta": after.loss - before.loss,
    })
}

/// Tops up minority classes of the training split with synthetic rows.
fn augment(
    inputs: &Inputs<'_>,
    params: &TrainParams,
    observer: &mut dyn Observer,
) -> Result<(Value, Option<Matrix>), TrainingError> {
    let classes = inputs.encoder.classes();
    let mut counts = vec![0u64; classes.len()];
    for &y in &inputs.train.y {
        counts[y as usize] += 1;
    }
    let largest = counts.iter().copied().max().unwrap_or(0);
    let before: serde_json::Map<String, Value> = classes
        .iter()
        .zip(&counts)
        .map(|(c, n)| (c.clone(), json!(n)))
        .collect();
    let needed: Vec<u64> = counts
        .iter()
        .map(|&n| {
            if (n as f64) < BALANCED_RATIO * largest as f64 {
                (largest - n).min(n * MAX_SYNTHETIC_PER_REAL)
            } else {
                0
            }
        })
        .collect();
    let ratio = counts.iter().copied().min().unwrap_or(0) as f64 / largest.max(1) as f64;
    if needed.iter().all(|&n| n == 0) {
        return Ok((
            json!({"status": "skipped",
                   "reason": format!("classes already balanced: minority/majority = {ratio:.3} ≥ {BALANCED_RATIO}"),
                   "class_counts": before}),
            None,
        ));
    }
    let (schema, _) = synth::fit(inputs.train_table, Some(inputs.target))
        .map_err(|e| TrainingError::Data(format!("fitting the training split: {e}")))?;
    let synthetic = sample_classes(&schema, inputs, &needed)?;
    let extra = inputs.encoder.encode(&synthetic)?;
    let mut augmented = inputs.train.clone();
    augmented.x.extend_from_slice(&extra.x);
    augmented.y.extend_from_slice(&extra.y);
    augmented.rows += extra.rows;
    let after: serde_json::Map<String, Value> = classes
        .iter()
        .zip(counts.iter().zip(&needed))
        .map(|(c, (n, add))| (c.clone(), json!(n + add)))
        .collect();

    let baseline = probe(inputs.train, inputs, params, observer)?;
    let with = probe(&augmented, inputs, params, observer)?;
    let keep = with.balanced_accuracy >= baseline.balanced_accuracy - TOLERANCE;
    let report = json!({
        "status": if keep { "applied" } else { "reverted" },
        "method": "Gaussian copula fitted to the training split only; rows sampled per class",
        "rows_added": extra.rows,
        "class_counts_before": before,
        "class_counts_after": after,
        "balance_ratio_before": ratio,
        "probe_epochs": params.epochs.min(PROBE_EPOCHS),
        "without": scores(&baseline),
        "with": scores(&with),
        "effect": effect(&baseline, &with),
        "rule": format!("kept unless the probe's balanced accuracy drops by more than {TOLERANCE}"),
    });
    Ok((report, keep.then_some(augmented)))
}

/// Rows of the classes in `needed`, as a table with the training split's columns. The
/// generator's stratified plan draws each row's class first and its features conditionally
/// on it; rows of classes that need none are dropped.
fn sample_classes(
    schema: &synth::DataSchema,
    inputs: &Inputs<'_>,
    needed: &[u64],
) -> Result<Table, TrainingError> {
    let classes = inputs.encoder.classes();
    let per_class = needed.iter().copied().max().unwrap_or(0);
    let total = per_class * classes.len().max(1) as u64;
    let generator = Generator::new(schema, inputs.seed ^ 0x5eed, Balance::Stratified, total)
        .map_err(|e| TrainingError::Data(format!("sampling: {e}")))?;
    let header = generator.header().to_vec();
    let target_at = header
        .iter()
        .position(|h| h == inputs.target)
        .ok_or_else(|| TrainingError::Data("the fitted schema lost the target".into()))?;
    let columns = inputs.train_table.columns.clone();
    let source: Vec<Option<usize>> = columns
        .iter()
        .map(|c| header.iter().position(|h| h == c))
        .collect();
    let mut left = needed.to_vec();
    let mut rows = Vec::new();
    for row in generator {
        let label = match &row[target_at] {
            synth::Cell::Null => continue,
            cell => cell.to_json(),
        };
        let label = match label {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let Some(class) = classes.iter().position(|c| *c == label) else {
            continue;
        };
        if left[class] == 0 {
            continue;
        }
        left[class] -= 1;
        rows.push(
            source
                .iter()
                .map(|s| s.map_or(Value::Null, |i| row[i].to_json()))
                .collect(),
        );
        if left.iter().all(|&n| n == 0) {
            break;
        }
    }
    Ok(Table { columns, rows })
}

/// Reviews the network with the analyzer and applies what an MLP can act on.
fn review(
    inputs: &Inputs<'_>,
    train: &Matrix,
    params: &TrainParams,
    observer: &mut dyn Observer,
) -> Result<(Value, TrainParams), TrainingError> {
    let width = inputs.encoder.width();
    let classes = inputs.encoder.classes().len();
    let hidden: Vec<usize> = match &params.architecture {
        Architecture::LogisticRegression => Vec::new(),
        Architecture::Mlp { hidden, .. } => hidden.clone(),
    };
    let mut layers: Vec<Value> = hidden
        .iter()
        .map(|h| json!({"type": "dense", "units": h, "activation": "relu"}))
        .collect();
    if let Architecture::Mlp { dropout, .. } = &params.architecture {
        if *dropout > 0.0 {
            layers.push(json!({"type": "dropout", "rate": dropout}));
        }
    }
    layers.push(json!({"type": "dense", "units": classes, "activation": "softmax"}));
    let input = AnalysisInput {
        model_description: Some(format!("{classes}-class tabular classifier")),
        architecture: Some(json!({"input_shape": [width], "layers": layers})),
        data_sample: Some(format!("{} samples, {classes} classes", train.rows)),
        performance_metrics: None,
    };
    let analysis = analysis::analyze(&input).map_err(|e| TrainingError::Invalid {
        field: "architecture".into(),
        message: e.to_string(),
    })?;
    let findings: Vec<Value> = analysis
        .findings
        .iter()
        .map(|f| json!({"id": f.id, "severity": f.severity, "title": f.title, "evidence": f.evidence}))
        .collect();
    let wants_regularization = analysis
        .findings
        .iter()
        .any(|f| f.id == "no_regularization");
    let mut revised = params.clone();
    let mut changes = Vec::new();
    if wants_regularization {
        if let Architecture::Mlp { dropout, .. } = &mut revised.architecture {
            if *dropout == 0.0 {
                *dropout = DROPOUT;
                changes.push(format!("dropout {DROPOUT} after each hidden layer"));
            }
        }
        if revised.weight_decay == 0.0 {
            revised.weight_decay = WEIGHT_DECAY;
            changes.push(format!("weight decay {WEIGHT_DECAY}"));
        }
    }
    let base = json!({
        "method": "the builtin analyzer's review of the network as a layer list",
        "parameters": analysis.totals.params,
        "findings": findings,
        "not_applicable": analysis.findings.iter()
            .filter(|f| f.id != "no_regularization")
            .map(|f| f.id.clone()).collect::<Vec<_>>(),
    });
    if changes.is_empty() {
        let mut report = base;
        report["status"] = json!("no_change");
        report["reason"] = json!("no finding this engine can act on");
        return Ok((report, params.clone()));
    }
    let before = probe(train, inputs, params, observer)?;
    let after = probe(train, inputs, &revised, observer)?;
    let keep = after.balanced_accuracy >= before.balanced_accuracy - TOLERANCE;
    let mut report = base;
    report["status"] = json!(if keep { "applied" } else { "reverted" });
    report["changes"] = json!(changes);
    report["without"] = scores(&before);
    report["with"] = scores(&after);
    report["effect"] = effect(&before, &after);
    Ok((report, if keep { revised } else { params.clone() }))
}
