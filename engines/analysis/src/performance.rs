//! `performance_metrics`: parsing free-form keys and values ("12ms", "2.3 hours", "85%"),
//! the train/validation gap, convergence against a uniform guess, and accuracy against a
//! cited reference table.
//!
//! Thresholds (rules of thumb, stated in the output):
//! - accuracy gap g = train − held-out: g < 0.02 low, g < 0.05 moderate, else high;
//! - loss gap: for classification with k classes, n = (val − train) / ln(k), the gap in
//!   units of a uniform guess's loss: n < 0.05 low, n < 0.15 moderate, else high (a relative
//!   gap would call 0.015 → 0.03 "+100%"); otherwise r = (val − train) / train: r < 0.10
//!   low, r < 0.30 moderate, else high; with accuracy and loss, the worse one counts;
//! - convergence, for k classes: ρ = loss / ln(k), where ln(k) is the cross-entropy of a
//!   uniform guess: ρ < 0.5 converged well, ρ < 0.8 partially converged, ρ < 1 barely
//!   better than chance, else no better than a uniform guess.

use serde::Serialize;
use serde_json::{Map, Value};

use super::input::{Context, Task};
use super::shapes::Propagation;
use super::text::{normalize_key, quantity};
use super::AnalysisError;

/// One published result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReferenceResult {
    pub model: &'static str,
    pub accuracy: f64,
    /// Short citation for prose ("He et al. 2015").
    pub citation: &'static str,
    /// Full source with the figure it comes from.
    pub source: &'static str,
}

struct Reference {
    dataset: &'static str,
    best: ReferenceResult,
    baseline: ReferenceResult,
}

/// Top-1 test accuracy references per dataset: a strong published model and a simple
/// baseline, so a result can be placed between them.
const REFERENCES: &[Reference] = &[
    Reference {
        dataset: "CIFAR-10",
        best: ReferenceResult {
            model: "ResNet-110",
            accuracy: 0.9357,
            citation: "He et al. 2015",
            source: "He et al. 2015, Deep Residual Learning for Image Recognition, arXiv:1512.03385, Table 6 (6.43% error)",
        },
        baseline: ReferenceResult {
            model: "plain CNN",
            accuracy: 0.79,
            citation: "Keras cifar10_cnn example",
            source: "Keras examples, cifar10_cnn.py: 79% validation accuracy after 50 epochs, no augmentation",
        },
    },
    Reference {
        dataset: "CIFAR-100",
        best: ReferenceResult {
            model: "WRN-28-10",
            accuracy: 0.8115,
            citation: "Zagoruyko & Komodakis 2016",
            source: "Zagoruyko & Komodakis 2016, Wide Residual Networks, arXiv:1605.07146 (18.85% error)",
        },
        baseline: ReferenceResult {
            model: "conv net with dropout",
            accuracy: 0.628,
            citation: "Srivastava et al. 2014",
            source: "Srivastava et al. 2014, Dropout: A Simple Way to Prevent Neural Networks from Overfitting, JMLR 15 (37.20% error)",
        },
    },
    Reference {
        dataset: "MNIST",
        best: ReferenceResult {
            model: "DropConnect ensemble",
            accuracy: 0.9979,
            citation: "Wan et al. 2013",
            source: "Wan et al. 2013, Regularization of Neural Networks using DropConnect, ICML (0.21% error)",
        },
        baseline: ReferenceResult {
            model: "LeNet-5",
            accuracy: 0.9905,
            citation: "LeCun et al. 1998",
            source: "LeCun et al. 1998, Gradient-Based Learning Applied to Document Recognition (0.95% error)",
        },
    },
    Reference {
        dataset: "Fashion-MNIST",
        best: ReferenceResult {
            model: "WRN-28-10 + random erasing",
            accuracy: 0.963,
            citation: "Zhong et al. 2017",
            source: "Zhong et al. 2017, Random Erasing Data Augmentation, arXiv:1708.04896 (96.3%, as listed in the Fashion-MNIST benchmark)",
        },
        baseline: ReferenceResult {
            model: "SVC (best scikit-learn classifier)",
            accuracy: 0.897,
            citation: "Xiao et al. 2017",
            source: "Xiao et al. 2017, Fashion-MNIST, arXiv:1708.07747, benchmark (SVC 89.7%)",
        },
    },
    Reference {
        dataset: "ImageNet",
        best: ReferenceResult {
            model: "ResNet-50",
            accuracy: 0.7613,
            citation: "He et al. 2015",
            source: "He et al. 2015, arXiv:1512.03385; 76.13% top-1 single-crop as reproduced by torchvision's ResNet-50 weights",
        },
        baseline: ReferenceResult {
            model: "AlexNet",
            accuracy: 0.5652,
            citation: "Krizhevsky et al. 2012",
            source: "Krizhevsky et al. 2012, ImageNet Classification with Deep CNNs; 56.52% top-1 single-crop as reproduced by torchvision",
        },
    },
    Reference {
        dataset: "IMDB",
        best: ReferenceResult {
            model: "BERT-base + in-task pre-training",
            accuracy: 0.9563,
            citation: "Sun et al. 2019",
            source: "Sun et al. 2019, How to Fine-Tune BERT for Text Classification?, arXiv:1905.05583 (4.37% error)",
        },
        baseline: ReferenceResult {
            model: "word vectors + bag of words",
            accuracy: 0.8889,
            citation: "Maas et al. 2011",
            source: "Maas et al. 2011, Learning Word Vectors for Sentiment Analysis, ACL (88.89%)",
        },
    },
];

/// The metrics as parsed: fractions in [0, 1], latency in ms, training time in hours.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct ParsedMetrics {
    /// Under a plain key ("accuracy", "acc"): held-out unless a validation key is also given.
    pub accuracy: Option<f64>,
    pub train_accuracy: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub test_accuracy: Option<f64>,
    pub top5_accuracy: Option<f64>,
    pub loss: Option<f64>,
    pub train_loss: Option<f64>,
    pub val_loss: Option<f64>,
    pub test_loss: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub mse: Option<f64>,
    pub mae: Option<f64>,
    pub rmse: Option<f64>,
    pub r2: Option<f64>,
    pub inference_latency_ms: Option<f64>,
    pub training_time_hours: Option<f64>,
    pub epochs: Option<u64>,
    pub max_latency_ms: Option<f64>,
    pub max_model_size_mb: Option<f64>,
    /// Keys not recognized, passed through unchanged.
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReferenceComparison {
    pub dataset: &'static str,
    /// Which metric was compared ("test_accuracy", "val_accuracy", "accuracy", …).
    pub metric: &'static str,
    pub accuracy: f64,
    pub best: ReferenceResult,
    pub baseline: ReferenceResult,
    /// (best − accuracy) × 100; negative when above the reference.
    pub points_below_best: f64,
    /// (accuracy − baseline) × 100; negative when below the baseline.
    pub points_above_baseline: f64,
    pub ratio_to_best: f64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Convergence {
    pub loss: f64,
    pub loss_metric: &'static str,
    pub classes: usize,
    /// ln(classes): the cross-entropy of predicting every class with equal probability.
    pub uniform_guess_loss: f64,
    /// loss / ln(classes).
    pub ratio: f64,
    pub label: &'static str,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GeneralizationGap {
    /// train − held-out accuracy.
    pub accuracy_gap: Option<f64>,
    /// held-out − train loss.
    pub loss_gap: Option<f64>,
    /// (held-out − train) / ln(classes): the gap in units of a uniform guess's loss.
    pub loss_gap_normalized: Option<f64>,
    /// (held-out − train) / train loss (absent when the training loss is 0).
    pub loss_gap_relative: Option<f64>,
    pub rule: &'static str,
}

/// Which loss-gap measure the risk (and the generalization score) used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LossGap {
    /// (val − train) / ln(k).
    Normalized(f64),
    /// (val − train) / train; infinite when the training loss is 0.
    Relative(f64),
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ComputeFacts {
    pub macs_per_sample: Option<u64>,
    pub inference_latency_ms: Option<f64>,
    /// MACs / latency: the throughput the reported latency implies at batch size 1.
    pub effective_gmacs_per_second: Option<f64>,
    pub training_time_hours: Option<f64>,
    /// samples × epochs / training seconds, when all are known.
    pub training_samples_per_second: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Risk {
    Low,
    Moderate,
    High,
}

impl Risk {
    fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Moderate => "moderate",
            Risk::High => "high",
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PerformanceAnalysis {
    pub metrics: ParsedMetrics,
    pub accuracy_assessment: String,
    pub reference: Option<ReferenceComparison>,
    /// "converged well" | "partially converged" | "barely better than chance" |
    /// "no better than a uniform guess" | "unknown (…)".
    pub convergence_quality: String,
    pub convergence: Option<Convergence>,
    /// "low" | "moderate" | "high" | "unknown (no validation metric given)".
    pub overfitting_risk: String,
    pub generalization_gap: Option<GeneralizationGap>,
    pub compute: ComputeFacts,
    pub notes: Vec<String>,
    #[serde(skip)]
    pub(crate) risk: Option<Risk>,
    /// The accuracy compared against references (held-out when available) and its key.
    #[serde(skip)]
    pub(crate) headline_accuracy: Option<(f64, &'static str)>,
    #[serde(skip)]
    pub(crate) loss_gap: Option<LossGap>,
}

impl PerformanceAnalysis {
    /// The held-out accuracy as the analyzer read it (test, else validation, else a plain
    /// `accuracy`), with its key: the one reading of a reported accuracy every caller uses.
    pub fn held_out_accuracy(&self) -> Option<(f64, &'static str)> {
        self.headline_accuracy
            .filter(|(_, key)| *key != "train_accuracy")
    }
}

#[derive(Clone, Copy)]
enum Field {
    Accuracy,
    TrainAccuracy,
    ValAccuracy,
    TestAccuracy,
    Top5,
    Loss,
    TrainLoss,
    ValLoss,
    TestLoss,
    Precision,
    Recall,
    F1,
    Mse,
    Mae,
    Rmse,
    R2,
    Latency,
    TrainingTime,
    Epochs,
    MaxLatency,
    MaxModelSize,
}

const KEYS: &[(&str, Field)] = &[
    ("accuracy", Field::Accuracy),
    ("acc", Field::Accuracy),
    ("train_accuracy", Field::TrainAccuracy),
    ("training_accuracy", Field::TrainAccuracy),
    ("train_acc", Field::TrainAccuracy),
    ("val_accuracy", Field::ValAccuracy),
    ("validation_accuracy", Field::ValAccuracy),
    ("valid_accuracy", Field::ValAccuracy),
    ("val_acc", Field::ValAccuracy),
    ("test_accuracy", Field::TestAccuracy),
    ("test_acc", Field::TestAccuracy),
    ("eval_accuracy", Field::TestAccuracy),
    ("top5_accuracy", Field::Top5),
    ("top_5_accuracy", Field::Top5),
    ("top5", Field::Top5),
    ("loss", Field::Loss),
    ("train_loss", Field::TrainLoss),
    ("training_loss", Field::TrainLoss),
    ("val_loss", Field::ValLoss),
    ("validation_loss", Field::ValLoss),
    ("valid_loss", Field::ValLoss),
    ("test_loss", Field::TestLoss),
    ("eval_loss", Field::TestLoss),
    ("precision", Field::Precision),
    ("recall", Field::Recall),
    ("f1", Field::F1),
    ("f1_score", Field::F1),
    ("mse", Field::Mse),
    ("mean_squared_error", Field::Mse),
    ("mae", Field::Mae),
    ("mean_absolute_error", Field::Mae),
    ("rmse", Field::Rmse),
    ("root_mean_squared_error", Field::Rmse),
    ("r2", Field::R2),
    ("r2_score", Field::R2),
    ("r_squared", Field::R2),
    ("inference_latency", Field::Latency),
    ("inference_latency_ms", Field::Latency),
    ("latency", Field::Latency),
    ("latency_ms", Field::Latency),
    ("inference_time", Field::Latency),
    ("training_time", Field::TrainingTime),
    ("train_time", Field::TrainingTime),
    ("training_duration", Field::TrainingTime),
    ("epochs", Field::Epochs),
    ("num_epochs", Field::Epochs),
    ("max_latency", Field::MaxLatency),
    ("max_latency_ms", Field::MaxLatency),
    ("latency_budget", Field::MaxLatency),
    ("max_inference_latency", Field::MaxLatency),
    ("max_model_size", Field::MaxModelSize),
    ("max_model_size_mb", Field::MaxModelSize),
    ("model_size_limit", Field::MaxModelSize),
];

fn bad(field: &str, expected: &str, v: &Value) -> AnalysisError {
    AnalysisError::invalid(
        format!("performance_metrics.{field}"),
        format!("{expected}, got {v}"),
    )
}

/// A fraction: 0.847, 84.7 (read as percent), "85%", "0.85".
fn fraction(key: &str, v: &Value, notes: &mut Vec<String>) -> Result<f64, AnalysisError> {
    const EXPECTED: &str =
        "must be a fraction in [0, 1], a percentage in (1, 100], or a string like \"85%\"";
    let (x, percent) = match v {
        Value::Number(n) => (n.as_f64().ok_or_else(|| bad(key, EXPECTED, v))?, false),
        Value::String(s) => match quantity(s) {
            Some((x, unit)) if unit == "%" => (x, true),
            Some((x, unit)) if unit.is_empty() => (x, false),
            _ => return Err(bad(key, EXPECTED, v)),
        },
        _ => return Err(bad(key, EXPECTED, v)),
    };
    if percent {
        if (0.0..=100.0).contains(&x) {
            return Ok(x / 100.0);
        }
    } else if (0.0..=1.0).contains(&x) {
        return Ok(x);
    } else if x > 1.0 && x <= 100.0 {
        notes.push(format!("{key} = {x} read as a percentage ({})", x / 100.0));
        return Ok(x / 100.0);
    }
    Err(bad(key, EXPECTED, v))
}

fn number(key: &str, v: &Value, expected: &str) -> Result<f64, AnalysisError> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| bad(key, expected, v)),
        Value::String(s) => match quantity(s) {
            Some((x, unit)) if unit.is_empty() => Ok(x),
            _ => Err(bad(key, expected, v)),
        },
        _ => Err(bad(key, expected, v)),
    }
}

fn non_negative(key: &str, v: &Value) -> Result<f64, AnalysisError> {
    let x = number(key, v, "must be a non-negative number")?;
    if x >= 0.0 {
        Ok(x)
    } else {
        Err(bad(key, "must be a non-negative number", v))
    }
}

/// Seconds per unit for the duration units we read.
fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" | "nanosecond" | "nanoseconds" => 1e-9,
        "us" | "µs" | "μs" | "microsecond" | "microseconds" => 1e-6,
        "ms" | "msec" | "millisecond" | "milliseconds" => 1e-3,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        _ => return None,
    })
}

/// A duration in seconds: a number in `default_unit`, or text like "12ms", "2.3 hours",
/// "1h 30min" (terms are added).
fn duration_seconds(
    key: &str,
    v: &Value,
    default_unit: &str,
    notes: &mut Vec<String>,
) -> Result<f64, AnalysisError> {
    let expected = format!("must be a non-negative duration: a number ({default_unit}) or a string like \"12ms\" or \"2.3 hours\"");
    let err = || bad(key, &expected, v);
    let secs = match v {
        Value::Number(n) => {
            notes.push(format!(
                "{key} given without a unit: read as {default_unit}"
            ));
            n.as_f64().ok_or_else(err)? * unit_seconds(default_unit).ok_or_else(err)?
        }
        Value::String(s) => {
            let lower = s.trim().to_lowercase();
            let mut rest = lower.as_str();
            let mut total = 0.0;
            let mut terms = 0;
            while !rest.is_empty() {
                let (x, tail) = quantity(rest).ok_or_else(err)?;
                // The unit is the leading run of letters; the remainder may hold more terms.
                let unit: String = tail
                    .chars()
                    .take_while(|c| c.is_alphabetic() || *c == 'µ' || *c == 'μ')
                    .collect();
                let after = tail[unit.len()..].trim_start_matches([' ', ',']).trim();
                let unit = if unit.is_empty() {
                    if terms == 0 && after.is_empty() {
                        notes.push(format!(
                            "{key} given without a unit: read as {default_unit}"
                        ));
                    }
                    default_unit.to_string()
                } else {
                    unit
                };
                total += x * unit_seconds(&unit).ok_or_else(err)?;
                terms += 1;
                // `after` is a suffix of `rest` (both already lower case and trimmed).
                rest = &rest[rest.len() - after.len()..];
            }
            total
        }
        _ => return Err(err()),
    };
    if secs >= 0.0 && secs.is_finite() {
        Ok(secs)
    } else {
        Err(err())
    }
}

fn parse_metrics(
    metrics: Option<&Value>,
    notes: &mut Vec<String>,
) -> Result<ParsedMetrics, AnalysisError> {
    let mut m = ParsedMetrics::default();
    let obj = match metrics {
        None | Some(Value::Null) => return Ok(m),
        Some(Value::Object(obj)) => obj,
        Some(other) => {
            return Err(AnalysisError::invalid(
                "performance_metrics",
                format!(
                    "must be an object of metric names to values, got {}",
                    crate::json_type(other)
                ),
            ))
        }
    };
    for (key, v) in obj {
        let norm = normalize_key(key);
        let Some(&(_, field)) = KEYS.iter().find(|(k, _)| *k == norm) else {
            m.other.insert(key.clone(), v.clone());
            continue;
        };
        if v.is_null() {
            continue;
        }
        let slot: &mut Option<f64> = match field {
            Field::Accuracy => &mut m.accuracy,
            Field::TrainAccuracy => &mut m.train_accuracy,
            Field::ValAccuracy => &mut m.val_accuracy,
            Field::TestAccuracy => &mut m.test_accuracy,
            Field::Top5 => &mut m.top5_accuracy,
            Field::Loss => &mut m.loss,
            Field::TrainLoss => &mut m.train_loss,
            Field::ValLoss => &mut m.val_loss,
            Field::TestLoss => &mut m.test_loss,
            Field::Precision => &mut m.precision,
            Field::Recall => &mut m.recall,
            Field::F1 => &mut m.f1,
            Field::Mse => &mut m.mse,
            Field::Mae => &mut m.mae,
            Field::Rmse => &mut m.rmse,
            Field::R2 => &mut m.r2,
            Field::Latency => &mut m.inference_latency_ms,
            Field::TrainingTime => &mut m.training_time_hours,
            Field::MaxLatency => &mut m.max_latency_ms,
            Field::MaxModelSize => &mut m.max_model_size_mb,
            Field::Epochs => {
                let e = number(key, v, "must be a positive integer")?;
                if e < 1.0 || e.fract() != 0.0 || e > 1e9 {
                    return Err(bad(key, "must be a positive integer", v));
                }
                m.epochs = Some(e as u64);
                continue;
            }
        };
        if slot.is_some() {
            notes.push(format!(
                "{key} repeats a metric already given; the first value is used"
            ));
            continue;
        }
        let value = match field {
            Field::Accuracy
            | Field::TrainAccuracy
            | Field::ValAccuracy
            | Field::TestAccuracy
            | Field::Top5
            | Field::Precision
            | Field::Recall
            | Field::F1 => fraction(key, v, notes)?,
            Field::Loss
            | Field::TrainLoss
            | Field::ValLoss
            | Field::TestLoss
            | Field::Mse
            | Field::Mae
            | Field::Rmse => non_negative(key, v)?,
            Field::R2 => {
                let r = number(key, v, "must be a number ≤ 1")?;
                if r > 1.0 {
                    return Err(bad(key, "must be a number ≤ 1", v));
                }
                r
            }
            Field::Latency | Field::MaxLatency => duration_seconds(key, v, "ms", notes)? * 1e3,
            Field::TrainingTime => duration_seconds(key, v, "hours", notes)? / 3600.0,
            Field::MaxModelSize => {
                super::layers::parse_size_mb(v, &format!("performance_metrics.{key}"))?
            }
            Field::Epochs => unreachable!("handled above"),
        };
        *slot = Some(value);
    }
    Ok(m)
}

/// Rounds for prose (the structured fields keep full precision).
fn r(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

pub(crate) fn analyze(
    metrics: Option<&Value>,
    ctx: &Context,
    prop: &Propagation,
    assumptions: &mut Vec<String>,
) -> Result<PerformanceAnalysis, AnalysisError> {
    let mut notes = Vec::new();
    let m = parse_metrics(metrics, &mut notes)?;

    // Which accuracy is held-out: an explicit validation/test key; a plain "accuracy" is
    // training accuracy when a validation key is also given (Keras naming), else held-out.
    let held_acc = m
        .val_accuracy
        .map(|a| (a, "val_accuracy"))
        .or(m.test_accuracy.map(|a| (a, "test_accuracy")));
    let train_acc = m
        .train_accuracy
        .map(|a| (a, "train_accuracy"))
        .or(if held_acc.is_some() {
            m.accuracy.map(|a| (a, "accuracy"))
        } else {
            None
        });
    let held_acc = held_acc.or(if train_acc.is_some() {
        m.accuracy.map(|a| (a, "accuracy"))
    } else {
        None
    });
    let held_loss = m.val_loss.or(m.test_loss);
    let train_loss = m
        .train_loss
        .map(|l| (l, "train_loss"))
        .or(m.loss.map(|l| (l, "loss")));

    // Headline accuracy for the reference: test > validation > plain > training.
    let headline = m
        .test_accuracy
        .map(|a| (a, "test_accuracy"))
        .or(m.val_accuracy.map(|a| (a, "val_accuracy")))
        .or(m.accuracy.map(|a| (a, "accuracy")))
        .or(m.train_accuracy.map(|a| (a, "train_accuracy")));
    if let Some((_, "accuracy")) = headline {
        if held_acc.is_none() {
            notes.push(
                "\"accuracy\" without a split is taken as the held-out accuracy; if it is \
                 training accuracy the comparison is optimistic"
                    .into(),
            );
        }
    }
    if let Some((_, "train_accuracy")) = headline {
        notes.push("only training accuracy given: the reference comparison is optimistic".into());
    }

    // Classes for convergence: the resolved count, else a softmax/sigmoid output's width.
    let classes = ctx.num_classes.or_else(|| {
        let units = prop.facts.output_units?;
        if ctx.task == Task::Classification {
            let k = if units == 1 { 2 } else { units };
            notes.push(format!(
                "number of classes not stated; {k} assumed from the output layer's {units} unit(s)"
            ));
            Some(k)
        } else {
            None
        }
    });

    // Reference comparison.
    let reference = match (headline, ctx.dataset) {
        (Some((acc, metric)), Some(d)) if ctx.task != Task::Regression => REFERENCES
            .iter()
            .find(|r| r.dataset == d.name)
            .map(|r| ReferenceComparison {
                dataset: r.dataset,
                metric,
                accuracy: acc,
                best: r.best.clone(),
                baseline: r.baseline.clone(),
                points_below_best: (r.best.accuracy - acc) * 100.0,
                points_above_baseline: (acc - r.baseline.accuracy) * 100.0,
                ratio_to_best: acc / r.best.accuracy,
            }),
        _ => None,
    };
    let accuracy_assessment = assess_accuracy(&m, headline, reference.as_ref(), classes, ctx);

    // Convergence.
    let (convergence, convergence_quality) = match (ctx.task, classes) {
        (Task::Regression, _) => (
            None,
            "unknown (regression loss has no scale-free reference)".to_string(),
        ),
        (_, Some(k)) if k >= 2 => {
            let loss = train_loss.or(held_loss.map(|l| {
                (
                    l,
                    if m.val_loss.is_some() {
                        "val_loss"
                    } else {
                        "test_loss"
                    },
                )
            }));
            match loss {
                Some((loss, metric)) => {
                    let uniform = (k as f64).ln();
                    let ratio = loss / uniform;
                    let label = if ratio < 0.5 {
                        "converged well"
                    } else if ratio < 0.8 {
                        "partially converged"
                    } else if ratio < 1.0 {
                        "barely better than chance"
                    } else {
                        "no better than a uniform guess"
                    };
                    (
                        Some(Convergence {
                            loss,
                            loss_metric: metric,
                            classes: k,
                            uniform_guess_loss: uniform,
                            ratio,
                            label,
                        }),
                        label.to_string(),
                    )
                }
                None => (None, "unknown (no loss given)".to_string()),
            }
        }
        _ => (
            None,
            "unknown (number of classes not known, so no uniform-guess reference)".to_string(),
        ),
    };

    // Generalization gap.
    let acc_gap = match (train_acc, held_acc) {
        (Some((t, _)), Some((h, _))) => Some(t - h),
        _ => None,
    };
    let abs_loss_gap = match (train_loss, held_loss) {
        (Some((t, _)), Some(h)) => Some(h - t),
        _ => None,
    };
    let relative = match (train_loss, abs_loss_gap) {
        (Some((t, _)), Some(d)) if t > 0.0 => Some(d / t),
        (Some(_), Some(d)) if d > 0.0 => Some(f64::INFINITY),
        (Some(_), Some(_)) => Some(0.0),
        _ => None,
    };
    let uniform = classes
        .filter(|&k| k >= 2 && ctx.task != Task::Regression)
        .map(|k| (k as f64).ln());
    let normalized = abs_loss_gap.zip(uniform).map(|(d, u)| d / u);
    let loss_gap = match (normalized, relative) {
        (Some(n), _) => Some(LossGap::Normalized(n)),
        (None, Some(r)) => Some(LossGap::Relative(r)),
        _ => None,
    };
    let acc_risk = acc_gap.map(|g| {
        if g < 0.02 {
            Risk::Low
        } else if g < 0.05 {
            Risk::Moderate
        } else {
            Risk::High
        }
    });
    let loss_risk = loss_gap.map(|g| {
        let (value, low, moderate) = match g {
            LossGap::Normalized(n) => (n, 0.05, 0.15),
            LossGap::Relative(r) => (r, 0.10, 0.30),
        };
        if value < low {
            Risk::Low
        } else if value < moderate {
            Risk::Moderate
        } else {
            Risk::High
        }
    });
    let risk = acc_risk.max(loss_risk);
    let overfitting_risk = risk.map_or_else(
        || "unknown (no validation metric given)".to_string(),
        |r| r.as_str().to_string(),
    );
    let generalization_gap = risk.map(|_| GeneralizationGap {
        accuracy_gap: acc_gap,
        loss_gap: abs_loss_gap,
        loss_gap_normalized: normalized,
        loss_gap_relative: relative.filter(|g| g.is_finite()),
        rule: "accuracy gap < 0.02 low, < 0.05 moderate, else high; loss gap / ln(classes) < 0.05 low, < 0.15 moderate, else high (without a class count: relative loss gap < 0.10 low, < 0.30 moderate); the worse applies",
    });

    if m.mse.is_some() || m.mae.is_some() || m.rmse.is_some() || m.r2.is_some() {
        notes.push(
            "regression metrics (mse/mae/rmse/r2) are passed through; no reference applies \
             without a known regression benchmark"
                .into(),
        );
    }

    let macs = prop.totals.macs;
    let compute = ComputeFacts {
        macs_per_sample: macs,
        inference_latency_ms: m.inference_latency_ms,
        effective_gmacs_per_second: match (macs, m.inference_latency_ms) {
            (Some(macs), Some(ms)) if ms > 0.0 => Some(macs as f64 / (ms / 1e3) / 1e9),
            _ => None,
        },
        training_time_hours: m.training_time_hours,
        training_samples_per_second: match (ctx.samples, m.epochs, m.training_time_hours) {
            (Some(n), Some(e), Some(h)) if h > 0.0 => Some(n as f64 * e as f64 / (h * 3600.0)),
            _ => None,
        },
    };
    if compute.effective_gmacs_per_second.is_some() {
        notes.push(
            "effective_gmacs_per_second assumes the latency is for one sample (batch size 1)"
                .into(),
        );
    }
    // Notes about how values were read are assumptions too; keep them in one place.
    assumptions.extend(notes.iter().filter(|n| n.contains("read as")).cloned());

    Ok(PerformanceAnalysis {
        metrics: m,
        accuracy_assessment,
        reference,
        convergence_quality,
        convergence,
        overfitting_risk,
        generalization_gap,
        compute,
        notes,
        risk,
        headline_accuracy: headline,
        loss_gap,
    })
}

fn assess_accuracy(
    m: &ParsedMetrics,
    headline: Option<(f64, &'static str)>,
    reference: Option<&ReferenceComparison>,
    classes: Option<usize>,
    ctx: &Context,
) -> String {
    let Some((acc, metric)) = headline else {
        return if ctx.task == Task::Regression
            && (m.mse.is_some() || m.mae.is_some() || m.rmse.is_some() || m.r2.is_some())
        {
            "regression metrics given; no accuracy reference applies".to_string()
        } else {
            "no accuracy metric given".to_string()
        };
    };
    if let Some(rc) = reference {
        let vs_best = if rc.points_below_best > 0.0 {
            format!(
                "{} points below {} ({}, {})",
                points(rc.points_below_best),
                rc.best.model,
                rc.best.accuracy,
                rc.best.citation
            )
        } else {
            format!(
                "{} points above {} ({}, {}): unusually high, check the evaluation split for leakage",
                points(-rc.points_below_best),
                rc.best.model, rc.best.accuracy, rc.best.citation
            )
        };
        let vs_baseline = if rc.points_above_baseline >= 0.0 {
            format!(
                "{} points above the {} baseline ({}, {})",
                points(rc.points_above_baseline),
                rc.baseline.model,
                rc.baseline.accuracy,
                rc.baseline.citation
            )
        } else {
            format!(
                "{} points below the {} baseline ({}, {})",
                points(-rc.points_above_baseline),
                rc.baseline.model,
                rc.baseline.accuracy,
                rc.baseline.citation
            )
        };
        return format!(
            "{} ({metric}) on {}: {vs_best}; {vs_baseline}",
            r(acc, 4),
            rc.dataset
        );
    }
    match classes {
        Some(k) if k >= 2 => {
            let chance = 1.0 / k as f64;
            let adjusted = (acc - chance) / (1.0 - chance);
            format!(
                "{} ({metric}) with {k} classes: chance is {}; chance-adjusted accuracy {} (no published reference for this data)",
                r(acc, 4),
                r(chance, 4),
                r(adjusted, 3)
            )
        }
        _ => format!(
            "{} ({metric}); no dataset or class count to compare it with",
            r(acc, 4)
        ),
    }
}

/// Percentage points for prose: one decimal, two when it would round to 0.0.
fn points(x: f64) -> String {
    if x.abs() < 0.05 {
        format!("{x:.2}")
    } else {
        format!("{x:.1}")
    }
}

/// The chance-adjusted accuracy `(acc − 1/k) / (1 − 1/k)`, clipped to [0, 1].
pub(crate) fn chance_adjusted(acc: f64, k: usize) -> f64 {
    let chance = 1.0 / k as f64;
    ((acc - chance) / (1.0 - chance)).clamp(0.0, 1.0)
}
