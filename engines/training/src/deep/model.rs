//! A trained layer-list network as one safetensors file: every parameter and batch-norm
//! buffer under its PyTorch name (float32), and `__metadata__.manifest`, a JSON document with
//! the format, the layer list, the input shape, the classes and the input normalization. The
//! file is rebuilt by planning the layer list again, so a file and its network cannot
//! disagree.

use std::collections::{BTreeMap, HashMap};

use analysis::network::Plan;
use candle_core::{Device, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fit::{outputs, softmax_rows};
use super::net::Net;
use super::{image_floats, Inputs, Samples, Targets};
use crate::fitted::Prediction;
use crate::model::argmax;
use crate::{Task, TrainingError};

/// The manifest's `format`.
pub const DEEP_FORMAT: &str = "mlaas.network";
const DEEP_FORMAT_VERSION: u32 = 1;
const MANIFEST_KEY: &str = "manifest";

/// What the network reads, and how raw inputs become its tensor.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputSpec {
    /// Images resized to `height`×`width` with `channels` (1 or 3), scaled to [0, 1], then
    /// `(x − mean[c]) / std[c]` with the training split's per-channel statistics.
    Images {
        height: usize,
        width: usize,
        channels: usize,
        mean: Vec<f32>,
        std: Vec<f32>,
    },
    /// The last `window` values of a series, standardized with the training part's mean and
    /// standard deviation; the network answers the next `horizon`, which are scaled back.
    Series {
        window: usize,
        horizon: usize,
        mean: f64,
        std: f64,
    },
    /// A text column read as word ids ([`text::Vocabulary`], built on the training split):
    /// the first `max_length` words, padded.
    Text {
        column: String,
        max_length: usize,
        vocabulary: text::Vocabulary,
    },
}

impl InputSpec {
    /// The predict request's field this network reads.
    pub fn request_field(&self) -> &'static str {
        match self {
            InputSpec::Images { .. } => "images",
            InputSpec::Series { .. } => "values",
            InputSpec::Text { .. } => "texts",
        }
    }

    /// What a predict request sends, in words.
    pub fn request_hint(&self) -> &'static str {
        match self {
            InputSpec::Images { .. } => "{\"images\": [base64 PNG or JPEG, ...]}",
            InputSpec::Series { .. } => {
                "{\"values\": [the last window of the series, oldest first]}"
            }
            InputSpec::Text { .. } => "{\"texts\": [\"...\", ...]}",
        }
    }
}

/// The file's manifest.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DeepManifest {
    pub format: String,
    pub version: u32,
    /// The layer list as planned (`{"input_shape", "layers"}`; a preset expanded).
    pub architecture: Value,
    pub input_shape: Vec<usize>,
    pub outputs: usize,
    pub task: Task,
    /// Class names in output order (classification).
    pub classes: Vec<String>,
    pub input: InputSpec,
}

impl DeepManifest {
    pub fn new(
        architecture: Value,
        plan: &Plan,
        task: Task,
        classes: Vec<String>,
        input: InputSpec,
    ) -> DeepManifest {
        DeepManifest {
            format: DEEP_FORMAT.into(),
            version: DEEP_FORMAT_VERSION,
            architecture,
            input_shape: plan.input_shape.clone(),
            outputs: plan.outputs,
            task,
            classes,
            input,
        }
    }
}

/// A trained network that predicts.
pub struct DeepModel {
    pub manifest: DeepManifest,
    pub plan: Plan,
    net: Net,
}

impl DeepModel {
    pub(crate) fn new(manifest: DeepManifest, plan: Plan, net: Net) -> DeepModel {
        DeepModel {
            manifest,
            plan,
            net,
        }
    }

    pub fn parameter_count(&self) -> usize {
        self.net.parameter_count()
    }

    /// The safetensors file (see the module docs).
    pub fn to_bytes(&self) -> Result<Vec<u8>, TrainingError> {
        let mut data: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (name, var) in self.net.named() {
            let values = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            data.push((name.to_string(), var.dims().to_vec(), bytes));
        }
        let views = data
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| TrainingError::Artifact(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let manifest = serde_json::to_string(&self.manifest)
            .map_err(|e| TrainingError::Artifact(e.to_string()))?;
        let metadata = HashMap::from([(MANIFEST_KEY.to_string(), manifest)]);
        safetensors::serialize(views, Some(metadata))
            .map_err(|e| TrainingError::Artifact(e.to_string()))
    }

    /// Reads a file [`DeepModel::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<DeepModel, TrainingError> {
        let bad = |m: String| TrainingError::Artifact(m);
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let manifest = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(MANIFEST_KEY))
            .ok_or_else(|| bad("no manifest in the safetensors metadata".into()))?;
        let manifest: DeepManifest =
            serde_json::from_str(manifest).map_err(|e| bad(format!("manifest: {e}")))?;
        if manifest.format != DEEP_FORMAT {
            return Err(bad(format!(
                "format {:?} is not {DEEP_FORMAT}",
                manifest.format
            )));
        }
        let plan = analysis::network::plan(
            &manifest.architecture,
            &manifest.input_shape,
            manifest.outputs,
        )?;
        let file = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in file.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(bad(format!("tensor {name} is not float32")));
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            tensors.insert(
                name.to_string(),
                Tensor::from_vec(values, view.shape(), &Device::Cpu)?,
            );
        }
        let net = Net::load(&plan, &tensors)?;
        Ok(DeepModel {
            manifest,
            plan,
            net,
        })
    }

    /// Predictions for images already decoded to the model's `[H, W, C]` bytes.
    pub fn predict_images(&self, images: &[Vec<u8>]) -> Result<Vec<Prediction>, TrainingError> {
        let InputSpec::Images {
            height,
            width,
            channels,
            mean,
            std,
        } = &self.manifest.input
        else {
            return Err(TrainingError::invalid(
                "images",
                format!("this network reads {}", self.manifest.input.request_field()),
            ));
        };
        let per = height * width * channels;
        let mut values = Vec::with_capacity(images.len() * per);
        for (i, image) in images.iter().enumerate() {
            if image.len() != per {
                return Err(TrainingError::invalid(
                    format!("images[{i}]"),
                    format!(
                        "{} bytes; a {height}x{width}x{channels} image has {per}",
                        image.len()
                    ),
                ));
            }
            image_floats(image, *height, *width, mean, std, &mut values);
        }
        let samples = Samples {
            inputs: Inputs::Floats {
                values,
                shape: vec![*channels, *height, *width],
            },
            targets: Targets::Values {
                values: vec![0.0; images.len()],
                width: 1,
                mean: 0.0,
                std: 1.0,
            },
        };
        self.predict(&samples)
    }

    /// A text classifier's predictions for `texts`, each read as the training texts were.
    pub fn predict_texts(&self, texts: &[String]) -> Result<Vec<Prediction>, TrainingError> {
        let InputSpec::Text {
            max_length,
            vocabulary,
            ..
        } = &self.manifest.input
        else {
            return Err(TrainingError::invalid(
                "texts",
                format!("this network reads {}", self.manifest.input.request_field()),
            ));
        };
        let mut ids = Vec::with_capacity(texts.len() * max_length);
        for t in texts {
            vocabulary.encode(t, *max_length, &mut ids);
        }
        let samples = Samples {
            inputs: Inputs::Tokens {
                ids,
                len: *max_length,
            },
            targets: Targets::Values {
                values: vec![0.0; texts.len()],
                width: 1,
                mean: 0.0,
                std: 1.0,
            },
        };
        self.predict(&samples)
    }

    /// A forecaster's `horizon` next values after `recent` (the last `window` values of the
    /// series, oldest first), in the target's units.
    pub fn forecast(&self, recent: &[f64]) -> Result<Vec<f64>, TrainingError> {
        let InputSpec::Series {
            window,
            horizon,
            mean,
            std,
        } = &self.manifest.input
        else {
            return Err(TrainingError::invalid(
                "values",
                format!("this network reads {}", self.manifest.input.request_field()),
            ));
        };
        if recent.len() != *window {
            return Err(TrainingError::invalid(
                "values",
                format!(
                    "{} values; this forecaster reads the last {window} values of the series",
                    recent.len()
                ),
            ));
        }
        if let Some(i) = recent.iter().position(|v| !v.is_finite()) {
            return Err(TrainingError::invalid(
                format!("values[{i}]"),
                "must be a finite number",
            ));
        }
        let samples = Samples {
            inputs: Inputs::Floats {
                values: recent.iter().map(|v| ((v - mean) / std) as f32).collect(),
                shape: vec![*window],
            },
            targets: Targets::Values {
                values: vec![0.0; *horizon],
                width: *horizon,
                mean: *mean,
                std: *std,
            },
        };
        let (out, _) = outputs(&self.net, &samples)?;
        Ok(out.iter().map(|&v| f64::from(v) * std + mean).collect())
    }

    /// Predictions for prepared samples (their targets are ignored).
    pub fn predict(&self, samples: &Samples) -> Result<Vec<Prediction>, TrainingError> {
        if samples.is_empty() {
            return Ok(Vec::new());
        }
        let (out, width) = outputs(&self.net, samples)?;
        Ok(match self.manifest.task {
            Task::Classification => softmax_rows(&out, width)
                .chunks_exact(width)
                .map(|row| Prediction::Class {
                    label: self.manifest.classes[argmax(row) as usize].clone(),
                    probabilities: self
                        .manifest
                        .classes
                        .iter()
                        .cloned()
                        .zip(row.iter().copied())
                        .collect(),
                })
                .collect(),
            Task::Regression => out
                .iter()
                .map(|&v| Prediction::Value {
                    value: f64::from(v),
                })
                .collect(),
        })
    }
}
