//! A trained model as one safetensors file: each layer's weight (outputs × inputs) and bias as
//! little-endian f32 tensors named `layers.{i}.weight` / `layers.{i}.bias`, and the header's
//! `__metadata__` holding `manifest`, a JSON document with the format and version, the
//! architecture, the fitted encoder and the classes — everything needed to predict from JSON rows.
//! Any safetensors reader (Python's `safetensors.numpy.load`) can read the weights.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::data::{Encoder, Matrix, Task};
use super::fitted::{Outputs, Prediction};
use super::metrics::Scored;
use super::model::{log_softmax_rows, Architecture, Network};
use super::trainer::evaluate;
use super::TrainingError;

/// The `format` field of the manifest.
pub const FORMAT: &str = "mlaas.tabular-classifier";
/// Bumped when the layout changes incompatibly.
pub const FORMAT_VERSION: u32 = 1;
/// The safetensors metadata key holding the manifest.
const MANIFEST_KEY: &str = "manifest";

/// One linear layer's weights: `weight` is row-major (outputs × inputs).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerWeights {
    pub inputs: usize,
    pub outputs: usize,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// A trained network: a classifier, or a regressor of the standardized target.
#[derive(Clone, Debug, PartialEq)]
pub struct Artifact {
    pub architecture: Architecture,
    pub encoder: Encoder,
    pub classes: Vec<String>,
    pub layers: Vec<LayerWeights>,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    architecture: Architecture,
    encoder: Encoder,
    classes: Vec<String>,
    parameters: usize,
}

impl Artifact {
    pub(crate) fn new(
        architecture: Architecture,
        encoder: Encoder,
        net: &Network,
    ) -> Result<Artifact, TrainingError> {
        let layers = net
            .export()?
            .into_iter()
            .map(|(inputs, outputs, weight, bias)| LayerWeights {
                inputs,
                outputs,
                weight,
                bias,
            })
            .collect();
        let classes = encoder.classes().to_vec();
        Ok(Artifact {
            architecture,
            encoder,
            classes,
            layers,
        })
    }

    /// Trainable parameters (Σ over layers of weights + biases).
    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weight.len() + l.bias.len())
            .sum()
    }

    /// The safetensors file (see the module docs).
    pub fn to_bytes(&self) -> Result<Vec<u8>, TrainingError> {
        let manifest = Manifest {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            architecture: self.architecture.clone(),
            encoder: self.encoder.clone(),
            classes: self.classes.clone(),
            parameters: self.parameter_count(),
        };
        let manifest =
            serde_json::to_string(&manifest).map_err(|e| TrainingError::Artifact(e.to_string()))?;
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                [
                    (
                        format!("layers.{i}.weight"),
                        vec![l.outputs, l.inputs],
                        le_bytes(&l.weight),
                    ),
                    (
                        format!("layers.{i}.bias"),
                        vec![l.outputs],
                        le_bytes(&l.bias),
                    ),
                ]
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(name, shape, data)| {
                TensorView::new(Dtype::F32, shape.clone(), data)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| TrainingError::Artifact(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let metadata = HashMap::from([(MANIFEST_KEY.to_string(), manifest)]);
        safetensors::serialize(views, Some(metadata))
            .map_err(|e| TrainingError::Artifact(e.to_string()))
    }

    /// Reads a file written by [`Artifact::to_bytes`], checking the format, the version and that
    /// every tensor's shape fits the architecture, the encoder's width and the classes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Artifact, TrainingError> {
        let bad = |m: String| TrainingError::Artifact(m);
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let text = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(MANIFEST_KEY))
            .ok_or_else(|| bad("no manifest in the safetensors metadata".into()))?;
        let manifest: Manifest =
            serde_json::from_str(text).map_err(|e| bad(format!("manifest: {e}")))?;
        if manifest.format != FORMAT || manifest.version != FORMAT_VERSION {
            return Err(bad(format!(
                "format {} v{} is not {FORMAT} v{FORMAT_VERSION}",
                manifest.format, manifest.version
            )));
        }
        if manifest.classes != manifest.encoder.classes() {
            return Err(bad("manifest classes differ from the encoder's".into()));
        }
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let sizes = manifest
            .architecture
            .layer_sizes(manifest.encoder.width(), manifest.encoder.outputs());
        let mut layers = Vec::new();
        for (i, w) in sizes.windows(2).enumerate() {
            let (inputs, outputs) = (w[0], w[1]);
            let read = |name: String, shape: Vec<usize>| -> Result<Vec<f32>, TrainingError> {
                let view = tensors
                    .tensor(&name)
                    .map_err(|e| bad(format!("{name}: {e}")))?;
                if view.dtype() != Dtype::F32 || view.shape() != shape.as_slice() {
                    return Err(bad(format!(
                        "{name}: {:?} {:?}, expected F32 {shape:?}",
                        view.dtype(),
                        view.shape()
                    )));
                }
                Ok(view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect())
            };
            layers.push(LayerWeights {
                inputs,
                outputs,
                weight: read(format!("layers.{i}.weight"), vec![outputs, inputs])?,
                bias: read(format!("layers.{i}.bias"), vec![outputs])?,
            });
        }
        if tensors.len() != 2 * layers.len() {
            return Err(bad(format!(
                "{} tensors, expected {}",
                tensors.len(),
                2 * layers.len()
            )));
        }
        Ok(Artifact {
            architecture: manifest.architecture,
            encoder: manifest.encoder,
            classes: manifest.classes,
            layers,
        })
    }

    pub(crate) fn network(&self) -> Result<Network, TrainingError> {
        Network::from_weights(
            &self.architecture,
            self.layers
                .iter()
                .map(|l| (l.inputs, l.outputs, l.weight.clone(), l.bias.clone()))
                .collect(),
        )
    }

    /// Class probabilities and labels, or values, for JSON rows (see
    /// [`Encoder::encode_rows`] for what a row may hold).
    pub fn predict(&self, rows: &[Value]) -> Result<Vec<Prediction>, TrainingError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let xs = self.encoder.encode_rows(rows)?;
        let width = self.encoder.width();
        let x = Tensor::from_vec(xs.clone(), (rows.len(), width), &Device::Cpu)?;
        let out = self.network()?.forward(&x, None)?;
        let outputs = match self.encoder.task {
            Task::Classification => {
                let log_p = log_softmax_rows(&out)?;
                Outputs::Classes {
                    probabilities: log_p.iter().flatten().map(|lp| lp.exp()).collect(),
                    loss: 0.0,
                }
            }
            Task::Regression => Outputs::Values(self.values(&out)?),
        };
        // Finite inputs can still overflow inside the network: name the row and its most
        // extreme feature rather than answer NaN.
        let per_row = self.encoder.outputs();
        let answers: &[f64] = match &outputs {
            Outputs::Classes { probabilities, .. } => probabilities,
            Outputs::Values(v) => v,
        };
        if let Some(r) = answers
            .chunks(per_row)
            .position(|row| row.iter().any(|v| !v.is_finite()))
        {
            let features = &xs[r * width..(r + 1) * width];
            let (worst, z) = features
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .map_or((0, 0.0), |(i, z)| (i, *z));
            let column = self.encoder.column_of_feature(worst).unwrap_or("?");
            return Err(TrainingError::invalid(
                format!("rows[{r}].{column}"),
                format!(
                    "the model's output is not finite for this row; its most extreme feature is {column} (standardized {z:e})"
                ),
            ));
        }
        Ok(outputs.predictions(&self.encoder))
    }

    /// A regression network's outputs (rows × 1, standardized) in the target's units.
    pub(crate) fn values(&self, out: &Tensor) -> Result<Vec<f64>, TrainingError> {
        let scale = self
            .encoder
            .target_scale
            .unwrap_or(super::data::TargetScale {
                mean: 0.0,
                std: 1.0,
            });
        Ok(out
            .flatten_all()?
            .to_vec1::<f32>()?
            .into_iter()
            .map(|z| f64::from(z) * scale.std + scale.mean)
            .collect())
    }

    /// Answers on an encoded matrix.
    pub fn outputs(&self, m: &Matrix) -> Result<Outputs, TrainingError> {
        Ok(evaluate(&self.network()?, m, &self.encoder)?.outputs)
    }

    /// Scores the model on an encoded, labeled matrix.
    pub fn evaluate(&self, m: &Matrix) -> Result<Scored, TrainingError> {
        Ok(self.outputs(m)?.score(&self.encoder, m))
    }
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::model::{Activation, OptimizerKind};
    use super::super::trainer::{train, TrainParams};
    use super::*;

    #[test]
    fn round_trip_predicts_identically_and_reproduces_validation_accuracy() {
        let table = blobs(300, 11);
        let (_, val_t) = crate::split(&table, "label", 0.2, 7).unwrap();
        let (train_m, val_m, enc) = encoded(&table, "label");
        let params = TrainParams {
            architecture: Architecture::Mlp {
                hidden: vec![8, 4],
                activation: Activation::Gelu,
                dropout: 0.1,
            },
            optimizer: OptimizerKind::AdamW,
            epochs: 5,
            batch_size: 16,
            learning_rate: 0.01,
            weight_decay: 0.01,
            target_accuracy: None,
            seed: 3,
        };
        let t = train(&train_m, &val_m, &enc, &params, &mut ()).unwrap();
        let bytes = t.artifact().unwrap().to_bytes().unwrap();
        let back = Artifact::from_bytes(&bytes).unwrap();
        assert_eq!(&back, t.artifact().unwrap());
        assert_eq!(
            back.parameter_count(),
            params.architecture.parameter_count(enc.width(), 2)
        );
        assert_eq!(back.evaluate(&val_m).unwrap(), t.validation);
        // From JSON rows, as a client sends them: the same accuracy as in training.
        let rows = json_rows(&val_t);
        let before = t.artifact().unwrap().predict(&rows).unwrap();
        let after = back.predict(&rows).unwrap();
        assert_eq!(before, after);
        let correct = after
            .iter()
            .zip(&val_t.rows)
            .filter(|(p, r)| serde_json::json!(p.label().unwrap()) == r[3])
            .count();
        assert_eq!(
            correct as f64 / rows.len() as f64,
            t.validation.accuracy().unwrap()
        );
        let Prediction::Class {
            probabilities: p, ..
        } = &after[0]
        else {
            panic!("a class")
        };
        let total: f64 = p.values().sum();
        assert!((total - 1.0).abs() < 1e-6);
        assert_eq!(p.keys().collect::<Vec<_>>(), ["no", "yes"]);
    }

    #[test]
    fn corrupt_or_foreign_files_are_rejected() {
        let (train_m, val_m, enc) = encoded(&blobs(60, 12), "label");
        let params = TrainParams {
            architecture: Architecture::LogisticRegression,
            optimizer: OptimizerKind::Sgd,
            epochs: 1,
            batch_size: 8,
            learning_rate: 0.1,
            weight_decay: 0.0,
            target_accuracy: None,
            seed: 1,
        };
        let t = train(&train_m, &val_m, &enc, &params, &mut ()).unwrap();
        let bytes = t.artifact().unwrap().to_bytes().unwrap();
        assert!(Artifact::from_bytes(&bytes[..bytes.len() - 4]).is_err());
        assert!(Artifact::from_bytes(b"not a model").is_err());
        // A plain safetensors file without our manifest.
        let data = le_bytes(&[1.0, 2.0]);
        let view = TensorView::new(Dtype::F32, vec![2], &data).unwrap();
        let foreign = safetensors::serialize([("w", view)], None).unwrap();
        assert!(matches!(
            Artifact::from_bytes(&foreign),
            Err(TrainingError::Artifact(ref m)) if m.contains("manifest")
        ));
        // Prediction errors name the row and key.
        let err = t
            .artifact()
            .unwrap()
            .predict(&[serde_json::json!({"x1": "high"})])
            .unwrap_err();
        assert!(matches!(err, TrainingError::Invalid { ref field, .. } if field == "rows[0].x1"));
    }
}
