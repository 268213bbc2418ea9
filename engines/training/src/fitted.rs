//! A fitted model of any family, as `predict`, the metrics and the AutoML search see it: its
//! encoder, its outputs on an encoded matrix, its predictions for JSON rows, and one file.
//!
//! Files: a network is the safetensors file of [`Artifact`]; gradient-boosted trees and the
//! baseline are one JSON document (`{"format": "mlaas.tabular-model", "version", "family",
//! "encoder", ...}`, the trees as forust's own JSON model). [`Model::from_bytes`] tells
//! them apart by the first byte (a JSON document opens with `{`; a safetensors file with its
//! header's length, little-endian).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::artifact::Artifact;
use super::data::{Encoder, Matrix, Task};
use super::gbm::GbmModel;
use super::metrics::{Metrics, RegressionMetrics, Scored};
use super::model::argmax;
use super::TrainingError;

/// The `format` of the JSON model files.
pub const JSON_FORMAT: &str = "mlaas.tabular-model";
pub const JSON_FORMAT_VERSION: u32 = 1;

/// One row's prediction: a class with every class's probability, or a number.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Prediction {
    Class {
        /// The most probable class (the first of equals in class order).
        label: String,
        /// Class → probability (classes sort as the encoder orders them).
        probabilities: BTreeMap<String, f64>,
    },
    Value {
        value: f64,
    },
}

impl Prediction {
    pub fn label(&self) -> Option<&str> {
        match self {
            Prediction::Class { label, .. } => Some(label),
            Prediction::Value { .. } => None,
        }
    }
}

/// A model's answers on an encoded matrix.
#[derive(Clone, Debug, PartialEq)]
pub enum Outputs {
    /// Row-major class probabilities, and the mean cross-entropy of the true classes when the
    /// matrix is labeled (computed by the family in its own space: log-softmax for networks).
    Classes { probabilities: Vec<f64>, loss: f64 },
    /// One value per row, in the target's units.
    Values(Vec<f64>),
}

impl Outputs {
    /// Every metric of these outputs against `m`'s labels.
    pub fn score(&self, encoder: &Encoder, m: &Matrix) -> Scored {
        match self {
            Outputs::Classes {
                probabilities,
                loss,
            } => {
                let k = encoder.classes.len().max(1);
                let predicted: Vec<u32> = probabilities.chunks_exact(k).map(argmax).collect();
                Scored::Classification(
                    Metrics::from_predictions(&encoder.classes, &m.y, &predicted, *loss)
                        .with_probabilities(&m.y, probabilities),
                )
            }
            Outputs::Values(values) => Scored::Regression(RegressionMetrics::of(
                &m.values,
                values,
                encoder.target_scale.map(|s| s.mean),
            )),
        }
    }

    /// The task's headline metric (accuracy, or R²) against `m`'s labels, cheaply.
    pub fn headline(&self, encoder: &Encoder, m: &Matrix) -> f64 {
        match self {
            Outputs::Classes { probabilities, .. } => {
                let k = encoder.classes.len().max(1);
                let correct = probabilities
                    .chunks_exact(k)
                    .zip(&m.y)
                    .filter(|(row, &y)| argmax(row) == y)
                    .count();
                correct as f64 / m.rows.max(1) as f64
            }
            Outputs::Values(values) => RegressionMetrics::of(&m.values, values, None).r2,
        }
    }

    /// As [`Prediction`]s.
    pub fn predictions(&self, encoder: &Encoder) -> Vec<Prediction> {
        match self {
            Outputs::Classes { probabilities, .. } => {
                let k = encoder.classes.len().max(1);
                probabilities
                    .chunks_exact(k)
                    .map(|row| Prediction::Class {
                        label: encoder.classes[argmax(row) as usize].clone(),
                        probabilities: encoder.classes.iter().cloned().zip(row.to_vec()).collect(),
                    })
                    .collect()
            }
            Outputs::Values(values) => values
                .iter()
                .map(|&value| Prediction::Value { value })
                .collect(),
        }
    }
}

/// Mean cross-entropy of probabilities, each clipped to [f64::MIN_POSITIVE, 1] before the log.
pub(crate) fn cross_entropy(probabilities: &[f64], truth: &[u32], k: usize) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let total: f64 = probabilities
        .chunks_exact(k)
        .zip(truth)
        .map(|(row, &y)| -row[y as usize].clamp(f64::MIN_POSITIVE, 1.0).ln())
        .sum();
    total / truth.len() as f64
}

/// The baseline a model must beat: the train split's most frequent class (its share as every
/// class's probability) or its mean.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Baseline {
    pub encoder: Encoder,
    /// Classification: the train share of each class; regression: `[mean]`.
    pub outputs: Vec<f64>,
}

impl Baseline {
    pub fn fit(encoder: &Encoder, train: &Matrix) -> Baseline {
        let outputs = match encoder.task {
            Task::Classification => {
                let k = encoder.classes.len();
                let mut counts = vec![0.0; k];
                for &y in &train.y {
                    counts[y as usize] += 1.0;
                }
                let n = train.rows.max(1) as f64;
                counts.iter().map(|c| c / n).collect()
            }
            Task::Regression => {
                vec![train.values.iter().sum::<f64>() / train.rows.max(1) as f64]
            }
        };
        Baseline {
            encoder: encoder.clone(),
            outputs,
        }
    }

    fn outputs(&self, m: &Matrix) -> Outputs {
        match self.encoder.task {
            Task::Classification => {
                let probabilities: Vec<f64> = (0..m.rows)
                    .flat_map(|_| self.outputs.iter().copied())
                    .collect();
                let loss = cross_entropy(&probabilities, &m.y, self.outputs.len());
                Outputs::Classes {
                    probabilities,
                    loss,
                }
            }
            Task::Regression => Outputs::Values(vec![self.outputs[0]; m.rows]),
        }
    }
}

/// A fitted model of any family.
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    /// Logistic or linear regression, or an MLP (candle).
    Network(Artifact),
    /// Gradient-boosted trees (forust).
    Gbm(Box<GbmModel>),
    Baseline(Baseline),
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "snake_case")]
enum JsonBody {
    Gbm(Box<GbmModel>),
    Baseline(Baseline),
}

#[derive(Serialize, Deserialize)]
struct JsonFile {
    format: String,
    version: u32,
    #[serde(flatten)]
    body: JsonBody,
}

impl Model {
    /// `linear`, `logistic_regression`, `mlp`, `gbm` or `baseline`.
    pub fn family(&self) -> &'static str {
        match self {
            Model::Network(a) => match (a.encoder.task, &a.architecture) {
                (Task::Regression, super::Architecture::LogisticRegression) => "linear",
                (_, arch) => arch.name(),
            },
            Model::Gbm(_) => "gbm",
            Model::Baseline(_) => "baseline",
        }
    }

    pub fn encoder(&self) -> &Encoder {
        match self {
            Model::Network(a) => &a.encoder,
            Model::Gbm(g) => &g.encoder,
            Model::Baseline(b) => &b.encoder,
        }
    }

    /// Parameters: a network's weights and biases; trees' nodes (each a split or a leaf
    /// value); the baseline's outputs.
    pub fn parameter_count(&self) -> usize {
        match self {
            Model::Network(a) => a.parameter_count(),
            Model::Gbm(g) => g.nodes(),
            Model::Baseline(b) => b.outputs.len(),
        }
    }

    /// Trees of a gradient-boosted model.
    pub fn trees(&self) -> Option<usize> {
        match self {
            Model::Gbm(g) => Some(g.trees()),
            _ => None,
        }
    }

    /// Answers on an encoded matrix (the encoder's own encoding of rows).
    pub fn outputs(&self, m: &Matrix) -> Result<Outputs, TrainingError> {
        match self {
            Model::Network(a) => a.outputs(m),
            Model::Gbm(g) => g.outputs(m),
            Model::Baseline(b) => Ok(b.outputs(m)),
        }
    }

    /// Scores on an encoded, labeled matrix.
    pub fn evaluate(&self, m: &Matrix) -> Result<Scored, TrainingError> {
        Ok(self.outputs(m)?.score(self.encoder(), m))
    }

    /// Predictions for JSON rows (see [`Encoder::encode_rows`] for what a row may hold).
    pub fn predict(&self, rows: &[Value]) -> Result<Vec<Prediction>, TrainingError> {
        match self {
            Model::Network(a) => a.predict(rows),
            _ => {
                let encoder = self.encoder();
                let x = encoder.encode_rows(rows)?;
                let m = Matrix {
                    x,
                    rows: rows.len(),
                    width: encoder.width(),
                    ..Matrix::default()
                };
                Ok(self.outputs(&m)?.predictions(encoder))
            }
        }
    }

    /// The model's file (module docs).
    pub fn to_bytes(&self) -> Result<Vec<u8>, TrainingError> {
        let body = match self {
            Model::Network(a) => return a.to_bytes(),
            Model::Gbm(g) => JsonBody::Gbm(g.clone()),
            Model::Baseline(b) => JsonBody::Baseline(b.clone()),
        };
        serde_json::to_vec(&JsonFile {
            format: JSON_FORMAT.into(),
            version: JSON_FORMAT_VERSION,
            body,
        })
        .map_err(|e| TrainingError::Artifact(e.to_string()))
    }

    /// Reads a file written by [`Model::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, TrainingError> {
        if bytes.first() != Some(&b'{') {
            return Artifact::from_bytes(bytes).map(Model::Network);
        }
        let file: JsonFile = serde_json::from_slice(bytes)
            .map_err(|e| TrainingError::Artifact(format!("model file: {e}")))?;
        if file.format != JSON_FORMAT || file.version != JSON_FORMAT_VERSION {
            return Err(TrainingError::Artifact(format!(
                "format {} v{} is not {JSON_FORMAT} v{JSON_FORMAT_VERSION}",
                file.format, file.version
            )));
        }
        Ok(match file.body {
            JsonBody::Gbm(g) => {
                g.check()?;
                Model::Gbm(g)
            }
            JsonBody::Baseline(b) => Model::Baseline(b),
        })
    }

    /// The file name's extension: `safetensors` or `json`.
    pub fn extension(&self) -> &'static str {
        match self {
            Model::Network(_) => "safetensors",
            _ => "json",
        }
    }
}
