//! Parsing `architecture`: layer types with their aliases, and each layer's parameters.
//!
//! Every error names the field (`architecture.layers[3].kernel_size`) and what was expected.
//! Unknown parameter keys are ignored: descriptions are free-form and carry extra notes.

use serde::Serialize;
use serde_json::{Map, Value};

use super::text::normalize_key;
use super::AnalysisError;

/// Far above any real hyper-parameter, low enough that a bad value ("units": 1e15) is
/// reported instead of overflowing the counts.
pub(crate) const MAX_INT: usize = 1_000_000_000;

/// Bounds the work per request (shape propagation is linear in the layer count).
pub(crate) const MAX_LAYERS: usize = 10_000;

/// The normalized layer kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    Input,
    /// A convolution along the sequence axis of `[seq, channels]`.
    Conv1d,
    Conv2d,
    #[serde(rename = "maxpool")]
    MaxPool,
    #[serde(rename = "avgpool")]
    AvgPool,
    GlobalAvgPool,
    GlobalMaxPool,
    Dense,
    /// A dense layer that is the model's output.
    Output,
    Flatten,
    Dropout,
    #[serde(rename = "batchnorm")]
    BatchNorm,
    #[serde(rename = "layernorm")]
    LayerNorm,
    Embedding,
    Lstm,
    Gru,
    MultiHeadAttention,
    TransformerBlock,
    Residual,
    Activation,
}

impl LayerKind {
    /// Layers with learned weight matrices: what "depth" counts.
    pub fn is_weight_layer(self) -> bool {
        matches!(
            self,
            LayerKind::Conv1d
                | LayerKind::Conv2d
                | LayerKind::Dense
                | LayerKind::Output
                | LayerKind::Lstm
                | LayerKind::Gru
                | LayerKind::MultiHeadAttention
                | LayerKind::TransformerBlock
        )
    }
}

/// Accepted spellings after normalization (lower case, `-`/space → `_`).
const ALIASES: &[(&str, LayerKind)] = &[
    ("input", LayerKind::Input),
    ("input_layer", LayerKind::Input),
    ("inputlayer", LayerKind::Input),
    ("conv1d", LayerKind::Conv1d),
    ("conv_1d", LayerKind::Conv1d),
    ("convolution1d", LayerKind::Conv1d),
    ("conv2d", LayerKind::Conv2d),
    ("conv", LayerKind::Conv2d),
    ("conv_2d", LayerKind::Conv2d),
    ("convolution2d", LayerKind::Conv2d),
    ("convolution", LayerKind::Conv2d),
    ("maxpool", LayerKind::MaxPool),
    ("max_pool", LayerKind::MaxPool),
    ("maxpool2d", LayerKind::MaxPool),
    ("max_pool2d", LayerKind::MaxPool),
    ("maxpooling2d", LayerKind::MaxPool),
    ("max_pooling2d", LayerKind::MaxPool),
    ("max_pooling", LayerKind::MaxPool),
    ("avgpool", LayerKind::AvgPool),
    ("avg_pool", LayerKind::AvgPool),
    ("avgpool2d", LayerKind::AvgPool),
    ("avg_pool2d", LayerKind::AvgPool),
    ("averagepooling2d", LayerKind::AvgPool),
    ("average_pooling2d", LayerKind::AvgPool),
    ("average_pooling", LayerKind::AvgPool),
    ("global_avg_pool", LayerKind::GlobalAvgPool),
    ("global_average_pooling2d", LayerKind::GlobalAvgPool),
    ("global_average_pooling1d", LayerKind::GlobalAvgPool),
    ("global_average_pooling", LayerKind::GlobalAvgPool),
    ("globalaveragepooling2d", LayerKind::GlobalAvgPool),
    ("globalaveragepooling1d", LayerKind::GlobalAvgPool),
    ("gap", LayerKind::GlobalAvgPool),
    ("global_max_pool", LayerKind::GlobalMaxPool),
    ("global_max_pooling2d", LayerKind::GlobalMaxPool),
    ("global_max_pooling1d", LayerKind::GlobalMaxPool),
    ("globalmaxpooling2d", LayerKind::GlobalMaxPool),
    ("globalmaxpooling1d", LayerKind::GlobalMaxPool),
    ("dense", LayerKind::Dense),
    ("linear", LayerKind::Dense),
    ("fully_connected", LayerKind::Dense),
    ("fc", LayerKind::Dense),
    ("output", LayerKind::Output),
    ("output_layer", LayerKind::Output),
    ("flatten", LayerKind::Flatten),
    ("dropout", LayerKind::Dropout),
    ("batchnorm", LayerKind::BatchNorm),
    ("batch_norm", LayerKind::BatchNorm),
    ("batchnorm1d", LayerKind::BatchNorm),
    ("batchnorm2d", LayerKind::BatchNorm),
    ("batch_normalization", LayerKind::BatchNorm),
    ("batchnormalization", LayerKind::BatchNorm),
    ("bn", LayerKind::BatchNorm),
    ("layernorm", LayerKind::LayerNorm),
    ("layer_norm", LayerKind::LayerNorm),
    ("layer_normalization", LayerKind::LayerNorm),
    ("layernormalization", LayerKind::LayerNorm),
    ("embedding", LayerKind::Embedding),
    ("lstm", LayerKind::Lstm),
    ("gru", LayerKind::Gru),
    ("multi_head_attention", LayerKind::MultiHeadAttention),
    ("multiheadattention", LayerKind::MultiHeadAttention),
    ("mha", LayerKind::MultiHeadAttention),
    ("attention", LayerKind::MultiHeadAttention),
    ("self_attention", LayerKind::MultiHeadAttention),
    ("transformer_block", LayerKind::TransformerBlock),
    ("transformer", LayerKind::TransformerBlock),
    ("transformer_encoder", LayerKind::TransformerBlock),
    ("transformer_encoder_layer", LayerKind::TransformerBlock),
    ("encoder_block", LayerKind::TransformerBlock),
    ("encoder_layer", LayerKind::TransformerBlock),
    ("residual", LayerKind::Residual),
    ("add", LayerKind::Residual),
    ("skip", LayerKind::Residual),
    ("skip_connection", LayerKind::Residual),
    ("shortcut", LayerKind::Residual),
    ("activation", LayerKind::Activation),
    ("relu", LayerKind::Activation),
    ("softmax", LayerKind::Activation),
    ("sigmoid", LayerKind::Activation),
    ("tanh", LayerKind::Activation),
    ("gelu", LayerKind::Activation),
    ("elu", LayerKind::Activation),
    ("leaky_relu", LayerKind::Activation),
];

const SUPPORTED: &str = "conv1d (conv_1d, convolution1d), conv2d (conv, convolution2d), \
maxpool (max_pooling2d, max_pool), avgpool (average_pooling2d, avg_pool), \
global_avg_pool (global_average_pooling2d, gap), global_max_pool, \
dense (linear, fully_connected, fc), output, flatten, dropout, \
batchnorm (batch_normalization, bn), layernorm (layer_normalization), embedding, lstm, gru, \
multi_head_attention (mha, attention), transformer_block (transformer, encoder_block), \
residual (add, skip), activation (relu, softmax, sigmoid, tanh, gelu), input";

pub(crate) fn kind_of(type_name: &str) -> Option<LayerKind> {
    let key = normalize_key(type_name);
    ALIASES.iter().find(|(a, _)| *a == key).map(|&(_, k)| k)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    Valid,
    /// Output size `ceil(n / stride)` (TensorFlow's rule; PyTorch only allows it at stride 1,
    /// where it keeps the size).
    Same,
    Explicit(usize, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidualFrom {
    /// The input of the most recent weight layer: `x + f(x)` around the last block.
    Default,
    /// The model input.
    Input,
    /// The output of this earlier layer.
    Layer(usize),
}

/// What a layer does, with its parsed parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Input,
    Conv {
        filters: usize,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
        bias: bool,
        in_channels: Option<usize>,
    },
    /// A convolution along the first axis of `[seq, channels]`: one kernel length, stride
    /// and padding (`Explicit(p, p)`, the same on both ends).
    Conv1d {
        filters: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        bias: bool,
        in_channels: Option<usize>,
    },
    Pool {
        size: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    },
    GlobalPool,
    Dense {
        /// `None` only for an output layer, which then defaults to the number of classes.
        units: Option<usize>,
        bias: bool,
        in_features: Option<usize>,
    },
    Flatten,
    Dropout {
        rate: f64,
    },
    Norm,
    Embedding {
        vocab: usize,
        dim: usize,
    },
    Rnn {
        hidden: usize,
        return_sequences: bool,
        bidirectional: bool,
        input_size: Option<usize>,
    },
    Attention {
        heads: Option<usize>,
        embed_dim: Option<usize>,
    },
    Transformer {
        heads: Option<usize>,
        ff_dim: Option<usize>,
        d_model: Option<usize>,
    },
    Residual {
        from: ResidualFrom,
        shortcut: Shortcut,
    },
    Activation,
}

/// How a residual layer brings the added tensor to the current shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// Added as it is: the shapes must match.
    Identity,
    /// He et al.'s option A (their CIFAR ResNets): every s-th row and column, channels
    /// zero-padded equally on both sides; no parameters.
    Pad,
    /// Option B, torchvision's `downsample`: a 1×1 convolution of stride s without bias and
    /// a batch norm.
    Projection,
}

#[derive(Debug, Clone)]
pub(crate) struct LayerSpec {
    pub index: usize,
    pub type_written: String,
    pub kind: LayerKind,
    pub op: Op,
    /// Lower-cased activation name, if stated.
    pub activation: Option<String>,
    /// A `dropout` rate stated on a weight layer (`{"type": "dense", "dropout": 0.5}`).
    pub inline_dropout: Option<f64>,
    /// The layer states a weight penalty (`kernel_regularizer`, `weight_decay`, `l2`).
    pub regularizer: bool,
    /// Defaults taken while parsing, shown in the layer's row.
    pub notes: Vec<String>,
}

/// The output layer as the structure shows it: the last dense layer, followed only by
/// dropout/activation layers.
#[derive(Debug, Clone)]
pub(crate) struct OutputRef {
    pub layer: usize,
    /// Activation of the output: the layer's own, or a trailing activation layer's.
    pub activation: Option<String>,
}

/// The parsed `architecture`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Architecture {
    pub layers: Vec<LayerSpec>,
    /// `false` when no `layers` list was given (nothing to count).
    pub has_layer_list: bool,
    /// From `architecture.input_shape` or the first layer's `input_shape`, with its path.
    pub input_shape: Option<(Vec<usize>, String)>,
    /// Path of a stated, non-zero weight penalty anywhere in the architecture.
    pub weight_decay_at: Option<String>,
    /// `architecture.max_model_size` in MB, if stated.
    pub max_model_size_mb: Option<f64>,
    pub output: Option<OutputRef>,
}

/// Parses `architecture`: an object with a `layers` array (a bare array is accepted as the
/// layer list), optional `input_shape`, `max_model_size`, and weight-decay keys.
pub(crate) fn parse(arch: Option<&Value>) -> Result<Architecture, AnalysisError> {
    let mut out = Architecture::default();
    let (obj, layers) = match arch {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Array(layers)) => (None, Some(layers)),
        Some(Value::Object(obj)) => match obj.get("layers") {
            None | Some(Value::Null) => (Some(obj), None),
            Some(Value::Array(layers)) => (Some(obj), Some(layers)),
            Some(other) => {
                return Err(AnalysisError::invalid(
                    "architecture.layers",
                    format!(
                        "must be an array of layer objects, got {}",
                        crate::json_type(other)
                    ),
                ))
            }
        },
        Some(other) => {
            return Err(AnalysisError::invalid(
                "architecture",
                format!(
                    "must be an object with a `layers` array, got {}",
                    crate::json_type(other)
                ),
            ))
        }
    };
    if let Some(obj) = obj {
        if let Some(v) = obj.get("input_shape").filter(|v| !v.is_null()) {
            out.input_shape = Some((
                parse_shape(v, "architecture.input_shape")?,
                "architecture.input_shape".into(),
            ));
        }
        for key in ["max_model_size_mb", "max_model_size"] {
            if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
                out.max_model_size_mb = Some(parse_size_mb(v, &format!("architecture.{key}"))?);
                break;
            }
        }
        out.weight_decay_at = weight_decay_in(obj, "architecture");
    }
    let Some(layers) = layers else {
        return Ok(out);
    };
    if layers.len() > MAX_LAYERS {
        return Err(AnalysisError::invalid(
            "architecture.layers",
            format!("at most {MAX_LAYERS} layers, got {}", layers.len()),
        ));
    }
    out.has_layer_list = true;
    out.layers.reserve(layers.len());
    for (i, v) in layers.iter().enumerate() {
        let spec = parse_layer(i, v)?;
        if out.weight_decay_at.is_none() && spec.regularizer {
            out.weight_decay_at = Some(format!("architecture.layers[{i}]"));
        }
        out.layers.push(spec);
    }
    // The first layer may carry the model input shape (Keras `input_shape=`, or an input layer).
    if out.input_shape.is_none() {
        if let Some(Value::Object(first)) = layers.first() {
            for key in ["input_shape", "shape"] {
                let is_input_layer = out.layers[0].kind == LayerKind::Input;
                if key == "shape" && !is_input_layer {
                    continue;
                }
                if let Some(v) = first.get(key).filter(|v| !v.is_null()) {
                    let path = format!("architecture.layers[0].{key}");
                    out.input_shape = Some((parse_shape(v, &path)?, path));
                    break;
                }
            }
        }
    }
    out.output = find_output(&out.layers);
    Ok(out)
}

/// A shape without the batch dimension: 1 to 3 positive integers.
pub(crate) fn parse_shape(v: &Value, field: &str) -> Result<Vec<usize>, AnalysisError> {
    let Value::Array(items) = v else {
        return Err(AnalysisError::invalid(
            field,
            "must be an array of 1 to 3 positive integers ([H, W, C], [seq_len] or [features])",
        ));
    };
    if items.is_empty() || items.len() > 3 {
        return Err(AnalysisError::invalid(
            field,
            format!("must have 1 to 3 dimensions, got {}", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(j, d)| positive_int(d, &format!("{field}[{j}]")))
        .collect()
}

/// A size limit in MB: a number (MB) or a string with a unit ("50MB", "2 GB", "500 KB").
pub(crate) fn parse_size_mb(v: &Value, field: &str) -> Result<f64, AnalysisError> {
    let bad = || {
        AnalysisError::invalid(
            field,
            "must be a positive number of megabytes or a string like \"50MB\"",
        )
    };
    let mb = match v {
        Value::Number(n) => n.as_f64().ok_or_else(bad)?,
        Value::String(s) => {
            let (x, unit) = super::text::quantity(s).ok_or_else(bad)?;
            match unit.as_str() {
                "" | "mb" | "m" | "megabytes" => x,
                "kb" | "k" | "kilobytes" => x / 1e3,
                "gb" | "g" | "gigabytes" => x * 1e3,
                "mib" => x * 1.048_576,
                "gib" => x * 1_073.741_824,
                _ => return Err(bad()),
            }
        }
        _ => return Err(bad()),
    };
    if mb > 0.0 && mb.is_finite() {
        Ok(mb)
    } else {
        Err(bad())
    }
}

const WEIGHT_DECAY_KEYS: &[&str] = &[
    "weight_decay",
    "l2",
    "l2_regularization",
    "l1",
    "kernel_regularizer",
    "regularization",
    "regularizer",
];

/// Path of the first stated, non-zero weight penalty in `obj` (or its `optimizer` object).
pub(crate) fn weight_decay_in(obj: &Map<String, Value>, path: &str) -> Option<String> {
    let stated = |v: &Value| match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x > 0.0),
        Value::String(s) => {
            let s = s.trim().to_lowercase();
            !(s.is_empty() || s == "none" || s == "0" || s == "false")
        }
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    };
    for (key, v) in obj {
        let k = normalize_key(key);
        if WEIGHT_DECAY_KEYS.contains(&k.as_str()) && stated(v) {
            return Some(format!("{path}.{key}"));
        }
        if k == "optimizer" {
            if let Value::Object(opt) = v {
                if let Some(found) = weight_decay_in(opt, &format!("{path}.{key}")) {
                    return Some(found);
                }
            }
        }
    }
    None
}

fn find_output(layers: &[LayerSpec]) -> Option<OutputRef> {
    let mut trailing_activation = None;
    for spec in layers.iter().rev() {
        match spec.kind {
            LayerKind::Dropout => {}
            LayerKind::Activation => {
                // The last activation layer is the one applied to the output.
                if trailing_activation.is_none() {
                    trailing_activation = spec.activation.clone();
                }
            }
            LayerKind::Dense | LayerKind::Output => {
                return Some(OutputRef {
                    layer: spec.index,
                    activation: trailing_activation.or_else(|| spec.activation.clone()),
                })
            }
            _ => return None,
        }
    }
    None
}

fn positive_int(v: &Value, field: &str) -> Result<usize, AnalysisError> {
    let as_int = match v {
        Value::Number(n) => n
            .as_u64()
            .map(|u| u as f64)
            .or_else(|| n.as_f64())
            .filter(|x| x.fract() == 0.0),
        _ => None,
    };
    match as_int {
        Some(x) if x >= 1.0 && x <= MAX_INT as f64 => Ok(x as usize),
        Some(x) if x < 1.0 => Err(AnalysisError::invalid(
            field,
            format!("must be a positive integer, got {x}"),
        )),
        Some(x) => Err(AnalysisError::invalid(
            field,
            format!("must be at most {MAX_INT}, got {x}"),
        )),
        None => Err(AnalysisError::invalid(
            field,
            format!("must be a positive integer, got {}", describe(v)),
        )),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {s:?}"),
        Value::Number(n) => n.to_string(),
        other => crate::json_type(other).to_string(),
    }
}

/// Reads one layer object's parameters, naming fields as `architecture.layers[i].<key>`.
struct Params<'a> {
    index: usize,
    obj: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    fn field(&self, key: &str) -> String {
        format!("architecture.layers[{}].{key}", self.index)
    }

    /// The first of `names` present with a non-null value.
    fn find(&self, names: &[&'static str]) -> Option<(&'static str, &'a Value)> {
        names
            .iter()
            .find_map(|&n| self.obj.get(n).filter(|v| !v.is_null()).map(|v| (n, v)))
    }

    fn int(&self, names: &[&'static str]) -> Result<Option<usize>, AnalysisError> {
        self.find(names)
            .map(|(n, v)| positive_int(v, &self.field(n)))
            .transpose()
    }

    fn required_int(&self, names: &[&'static str]) -> Result<usize, AnalysisError> {
        self.int(names)?.ok_or_else(|| self.missing(names))
    }

    fn missing(&self, names: &[&'static str]) -> AnalysisError {
        let also = if names.len() > 1 {
            format!(" (also accepted as {})", names[1..].join(", "))
        } else {
            String::new()
        };
        AnalysisError::invalid(
            self.field(names[0]),
            format!("required positive integer is missing{also}"),
        )
    }

    /// An int or an `[h, w]` pair.
    fn pair(&self, names: &[&'static str]) -> Result<Option<(usize, usize)>, AnalysisError> {
        let Some((n, v)) = self.find(names) else {
            return Ok(None);
        };
        let field = self.field(n);
        match v {
            Value::Array(items) if items.len() == 2 => Ok(Some((
                positive_int(&items[0], &format!("{field}[0]"))?,
                positive_int(&items[1], &format!("{field}[1]"))?,
            ))),
            Value::Array(items) => Err(AnalysisError::invalid(
                field,
                format!(
                    "must be an integer or an [h, w] pair, got an array of {}",
                    items.len()
                ),
            )),
            other => positive_int(other, &field).map(|k| Some((k, k))),
        }
    }

    /// An int or a one-element list (Keras' `kernel_size=(3,)`, PyTorch's `(3,)`), for a
    /// window along one axis.
    fn single(&self, names: &[&'static str]) -> Result<Option<usize>, AnalysisError> {
        let Some((n, v)) = self.find(names) else {
            return Ok(None);
        };
        let field = self.field(n);
        match v {
            Value::Array(items) if items.len() == 1 => {
                positive_int(&items[0], &format!("{field}[0]")).map(Some)
            }
            Value::Array(items) => Err(AnalysisError::invalid(
                field,
                format!(
                    "must be an integer or a one-element list (a window along one axis), got \
                     an array of {}",
                    items.len()
                ),
            )),
            other => positive_int(other, &field).map(Some),
        }
    }

    /// `valid`, `same`, an int, or (2-D windows) an `[h, w]` pair.
    fn padding(&self) -> Result<Padding, AnalysisError> {
        self.padding_of(2)
    }

    /// `valid`, `same`, an int, or a list of `axes` ints (one per axis, each padding both
    /// ends of its axis).
    fn padding_of(&self, axes: usize) -> Result<Padding, AnalysisError> {
        let Some((n, v)) = self.find(&["padding"]) else {
            return Ok(Padding::Valid);
        };
        let field = self.field(n);
        let non_negative = |v: &Value, field: &str| match v.as_u64() {
            Some(p) if p <= MAX_INT as u64 => Ok(p as usize),
            _ => Err(AnalysisError::invalid(
                field,
                format!(
                    "must be \"valid\", \"same\" or a non-negative integer, got {}",
                    describe(v)
                ),
            )),
        };
        match v {
            Value::String(s) => match s.trim().to_lowercase().as_str() {
                "valid" => Ok(Padding::Valid),
                "same" => Ok(Padding::Same),
                _ => Err(AnalysisError::invalid(
                    field,
                    format!(
                        "must be \"valid\", \"same\" or a non-negative integer, got {}",
                        describe(v)
                    ),
                )),
            },
            Value::Array(items) if items.len() == 2 && axes == 2 => Ok(Padding::Explicit(
                non_negative(&items[0], &format!("{field}[0]"))?,
                non_negative(&items[1], &format!("{field}[1]"))?,
            )),
            Value::Array(items) if items.len() == 1 && axes == 1 => {
                non_negative(&items[0], &format!("{field}[0]")).map(|p| Padding::Explicit(p, p))
            }
            other => non_negative(other, &field).map(|p| Padding::Explicit(p, p)),
        }
    }

    fn bool(&self, names: &[&'static str], default: bool) -> Result<bool, AnalysisError> {
        match self.find(names) {
            None => Ok(default),
            Some((_, Value::Bool(b))) => Ok(*b),
            Some((n, v)) => Err(AnalysisError::invalid(
                self.field(n),
                format!("must be true or false, got {}", describe(v)),
            )),
        }
    }

    fn string(&self, names: &[&'static str]) -> Result<Option<String>, AnalysisError> {
        match self.find(names) {
            None => Ok(None),
            Some((_, Value::String(s))) => Ok(Some(s.trim().to_lowercase())),
            Some((n, v)) => Err(AnalysisError::invalid(
                self.field(n),
                format!("must be a string, got {}", describe(v)),
            )),
        }
    }

    /// A drop probability in [0, 1]; values outside (0, 0.8] are findings, not errors.
    fn rate(&self, names: &[&'static str]) -> Result<Option<f64>, AnalysisError> {
        let Some((n, v)) = self.find(names) else {
            return Ok(None);
        };
        match v.as_f64() {
            Some(r) if (0.0..=1.0).contains(&r) => Ok(Some(r)),
            _ => Err(AnalysisError::invalid(
                self.field(n),
                format!("must be a drop probability in [0, 1], got {}", describe(v)),
            )),
        }
    }
}

fn parse_layer(index: usize, v: &Value) -> Result<LayerSpec, AnalysisError> {
    let Value::Object(obj) = v else {
        return Err(AnalysisError::invalid(
            format!("architecture.layers[{index}]"),
            format!(
                "must be an object with a \"type\", got {}",
                crate::json_type(v)
            ),
        ));
    };
    let p = Params { index, obj };
    let type_written = match obj.get("type") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(AnalysisError::invalid(
                p.field("type"),
                format!("required; one of: {SUPPORTED}"),
            ))
        }
        Some(other) => {
            return Err(AnalysisError::invalid(
                p.field("type"),
                format!("must be a string, got {}", describe(other)),
            ))
        }
    };
    let kind = kind_of(&type_written).ok_or_else(|| {
        AnalysisError::invalid(
            p.field("type"),
            format!("unknown layer type {type_written:?}; supported: {SUPPORTED}"),
        )
    })?;
    let mut notes = Vec::new();
    let mut activation = p.string(&["activation"])?;
    let op = match kind {
        LayerKind::Input => {
            if index != 0 {
                return Err(AnalysisError::invalid(
                    p.field("type"),
                    "an input layer must be the first layer",
                ));
            }
            Op::Input
        }
        LayerKind::Conv1d => {
            let kernel = p
                .single(&["kernel_size", "kernel"])?
                .ok_or_else(|| p.missing(&["kernel_size", "kernel"]))?;
            Op::Conv1d {
                filters: p.required_int(&["filters", "out_channels"])?,
                kernel,
                stride: p.single(&["stride", "strides"])?.unwrap_or(1),
                padding: p.padding_of(1)?,
                bias: p.bool(&["use_bias", "bias"], true)?,
                in_channels: p.int(&["in_channels"])?,
            }
        }
        LayerKind::Conv2d => {
            let kernel = p
                .pair(&["kernel_size", "kernel"])?
                .ok_or_else(|| p.missing(&["kernel_size", "kernel"]))?;
            Op::Conv {
                filters: p.required_int(&["filters", "out_channels"])?,
                kernel,
                stride: p.pair(&["stride", "strides"])?.unwrap_or((1, 1)),
                padding: p.padding()?,
                bias: p.bool(&["use_bias", "bias"], true)?,
                in_channels: p.int(&["in_channels"])?,
            }
        }
        LayerKind::MaxPool | LayerKind::AvgPool => {
            let size = match p.pair(&["pool_size", "kernel_size", "size"])? {
                Some(s) => s,
                None => {
                    notes.push("pool_size not given: 2x2 assumed (Keras default)".into());
                    (2, 2)
                }
            };
            Op::Pool {
                size,
                // Keras and PyTorch both default the pooling stride to the window.
                stride: p.pair(&["stride", "strides"])?.unwrap_or(size),
                padding: p.padding()?,
            }
        }
        LayerKind::GlobalAvgPool | LayerKind::GlobalMaxPool => Op::GlobalPool,
        LayerKind::Dense | LayerKind::Output => {
            let units = p.int(&["units", "out_features"])?;
            if units.is_none() && kind == LayerKind::Dense {
                return Err(p.missing(&["units", "out_features"]));
            }
            Op::Dense {
                units,
                bias: p.bool(&["use_bias", "bias"], true)?,
                in_features: p.int(&["in_features"])?,
            }
        }
        LayerKind::Flatten => Op::Flatten,
        LayerKind::Dropout => {
            let rate = match p.rate(&["rate", "p", "dropout"])? {
                Some(r) => r,
                None => {
                    notes.push("rate not given: 0.5 assumed (PyTorch default)".into());
                    0.5
                }
            };
            Op::Dropout { rate }
        }
        LayerKind::BatchNorm | LayerKind::LayerNorm => Op::Norm,
        LayerKind::Embedding => Op::Embedding {
            vocab: p.required_int(&["input_dim", "vocab_size", "num_embeddings"])?,
            dim: p.required_int(&["output_dim", "embedding_dim", "embed_dim"])?,
        },
        LayerKind::Lstm | LayerKind::Gru => Op::Rnn {
            hidden: p.required_int(&["units", "hidden_size"])?,
            return_sequences: p.bool(&["return_sequences"], false)?,
            bidirectional: p.bool(&["bidirectional"], false)?,
            input_size: p.int(&["input_size"])?,
        },
        LayerKind::MultiHeadAttention => Op::Attention {
            heads: p.int(&["heads", "num_heads"])?,
            embed_dim: p.int(&["embed_dim", "d_model"])?,
        },
        LayerKind::TransformerBlock => Op::Transformer {
            heads: p.int(&["heads", "num_heads", "nhead"])?,
            ff_dim: p.int(&["ff_dim", "d_ff", "dim_feedforward"])?,
            d_model: p.int(&["d_model", "embed_dim"])?,
        },
        LayerKind::Residual => {
            let from = match p.find(&["from", "from_layer", "source"]) {
                None => ResidualFrom::Default,
                Some((_, Value::String(s))) if s.trim().eq_ignore_ascii_case("input") => {
                    ResidualFrom::Input
                }
                Some((n, v)) => match v.as_u64() {
                    Some(j) if (j as usize) < index => ResidualFrom::Layer(j as usize),
                    _ => {
                        return Err(AnalysisError::invalid(
                            p.field(n),
                            format!(
                                "must be the index of an earlier layer (0..{index}) or \"input\", got {}",
                                describe(v)
                            ),
                        ))
                    }
                },
            };
            let shortcut = match p.string(&["shortcut"])?.as_deref() {
                None | Some("identity") | Some("none") => Shortcut::Identity,
                Some("pad") | Some("zero_pad") | Some("a") => Shortcut::Pad,
                Some("projection") | Some("conv") | Some("b") => Shortcut::Projection,
                Some(other) => {
                    return Err(AnalysisError::invalid(
                        p.field("shortcut"),
                        format!(
                            "unknown shortcut {other:?}; use identity, pad (option A) or \
                             projection (a 1x1 convolution and batch norm)"
                        ),
                    ))
                }
            };
            Op::Residual { from, shortcut }
        }
        LayerKind::Activation => {
            if activation.is_none() {
                activation = p.string(&["function", "fn"])?;
            }
            if activation.is_none() && normalize_key(&type_written) != "activation" {
                activation = Some(normalize_key(&type_written));
            }
            Op::Activation
        }
    };
    let inline_dropout = if kind.is_weight_layer() {
        p.rate(&["dropout"])?
    } else {
        None
    };
    let regularizer = weight_decay_in(obj, "").is_some();
    Ok(LayerSpec {
        index,
        type_written,
        kind,
        op,
        activation,
        inline_dropout,
        regularizer,
        notes,
    })
}
