//! A fitted model of any family, as `predict`, the metrics and the AutoML search see it: its
//! encoder, its outputs on an encoded matrix, its predictions for JSON rows, and one file.
//!
//! Files: a network is the safetensors file of [`Artifact`]; gradient-boosted trees and the
//! baseline are one JSON document (`{"format": "mlaas.tabular-model", "version", "family",
//! "encoder", ...}`, the trees as forust's own JSON model). [`Model::from_bytes`] tells
//! them apart by the first byte (a JSON document opens with `{`; a safetensors file with its
//! header's length, little-endian).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::artifact::Artifact;
use super::data::{Encoder, Matrix, Task};
use super::gbm::GbmModel;
use super::metrics::Scored;
use super::TrainingError;
pub use tabular::outputs::{cross_entropy, Outputs, Prediction};

/// The `format` of the JSON model files.
pub const JSON_FORMAT: &str = "mlaas.tabular-model";
pub const JSON_FORMAT_VERSION: u32 = 1;

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
            Model::Gbm(g) => Ok(g.outputs(m)?),
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
