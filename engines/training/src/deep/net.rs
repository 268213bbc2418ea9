//! A planned layer list as candle tensors: each layer's parameters named as PyTorch names
//! them (`layers.3.weight`, `layers.5.weight_ih_l0_reverse`, `layers.7.self_attn.in_proj_weight`),
//! initialized as PyTorch initializes them but drawn from ChaCha8(seed), and the forward pass.
//!
//! Layouts (batch first): a `[H, W, C]` image is `[N, C, H, W]` (candle's convolution layout,
//! so a flatten reads channels, then rows, then columns, as `torch.flatten` does), a `[seq, d]`
//! sequence `[N, seq, d]`, `[features]` `[N, features]`, `[seq]` token ids `[N, seq]` (u32).
//! A conv1d reads and writes the sequence layout `[N, seq, C]` (its weight is PyTorch's
//! `[F, C, k]`), so it follows an embedding and feeds an LSTM without a transpose.

use std::collections::BTreeMap;

use analysis::network::{Added, Op, Padding, Plan, PlannedLayer, Shortcut};
use analysis::LayerKind;
use candle_core::{DType, Device, Tensor, Var, D};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::TrainingError;

/// Batch- and layer-norm epsilon (PyTorch's default).
const NORM_EPS: f64 = 1e-5;
/// Batch norm's running-statistics momentum (PyTorch's default).
const BN_MOMENTUM: f64 = 0.1;

/// A nonlinearity the trainer builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Act {
    Identity,
    Relu,
    Sigmoid,
    Tanh,
    Gelu,
    Elu,
    LeakyRelu,
    Softmax,
}

pub(crate) const ACTIVATIONS: &str = "relu, sigmoid, tanh, gelu, elu, leaky_relu, softmax, linear";

impl Act {
    pub(crate) fn parse(name: &str) -> Option<Act> {
        Some(
            match name.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                "linear" | "identity" | "none" | "" => Act::Identity,
                "relu" => Act::Relu,
                "sigmoid" => Act::Sigmoid,
                "tanh" => Act::Tanh,
                "gelu" => Act::Gelu,
                "elu" => Act::Elu,
                "leaky_relu" | "leakyrelu" => Act::LeakyRelu,
                "softmax" => Act::Softmax,
                _ => return None,
            },
        )
    }

    fn apply(self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Act::Identity => Ok(x.clone()),
            Act::Relu => x.relu(),
            Act::Sigmoid => candle_nn::ops::sigmoid(x),
            Act::Tanh => x.tanh(),
            Act::Gelu => x.gelu_erf(),
            Act::Elu => x.elu(1.0),
            Act::LeakyRelu => candle_nn::ops::leaky_relu(x, 0.01),
            Act::Softmax => candle_nn::ops::softmax_last_dim(x),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Lstm,
    Gru,
}

/// One direction of a recurrent layer: indices into the parameters.
#[derive(Debug, Clone)]
struct Direction {
    w_ih: usize,
    w_hh: usize,
    b_ih: usize,
    b_hh: usize,
}

#[derive(Debug, Clone)]
struct AttentionParams {
    in_w: usize,
    in_b: usize,
    out_w: usize,
    out_b: usize,
    heads: usize,
}

/// A layer as built: indices into [`Net::params`] / [`Net::buffers`].
#[derive(Debug, Clone)]
enum Built {
    Identity,
    Conv {
        w: usize,
        b: Option<usize>,
        stride: usize,
        /// Zero padding (top, bottom, left, right).
        pad: [usize; 4],
    },
    Conv1d {
        w: usize,
        b: Option<usize>,
        stride: usize,
        /// Zero padding (start, end) of the sequence.
        pad: (usize, usize),
    },
    Pool {
        max: bool,
        size: (usize, usize),
        stride: (usize, usize),
        /// Padding (top, bottom, left, right): −∞ for max pooling, zeros for average
        /// pooling (PyTorch's `count_include_pad`).
        pad: [usize; 4],
    },
    GlobalPool {
        max: bool,
    },
    Flatten,
    Dense {
        w: usize,
        b: Option<usize>,
        flatten: bool,
    },
    Dropout(f32),
    BatchNorm {
        gamma: usize,
        beta: usize,
        mean: usize,
        var: usize,
    },
    LayerNorm {
        gamma: usize,
        beta: usize,
    },
    Embedding {
        table: usize,
    },
    Rnn {
        cell: Cell,
        hidden: usize,
        dirs: Vec<Direction>,
        return_sequences: bool,
    },
    Attention(AttentionParams),
    Transformer {
        attn: AttentionParams,
        norm1: (usize, usize),
        norm2: (usize, usize),
        linear1: (usize, usize),
        linear2: (usize, usize),
    },
    Residual {
        added: Added,
        shortcut: Brought,
    },
    Activation(Act),
}

/// How a residual's added tensor is brought to the current shape.
#[derive(Debug, Clone)]
enum Brought {
    As,
    /// Every `stride`-th row and column, then `lo` and `hi` zero channels.
    Pad {
        stride: usize,
        lo: usize,
        hi: usize,
    },
    /// A 1×1 convolution of `stride` (no bias) and a batch norm.
    Projection {
        w: usize,
        stride: usize,
        gamma: usize,
        beta: usize,
        mean: usize,
        var: usize,
    },
}

#[derive(Debug, Clone)]
struct Layer {
    built: Built,
    /// The activation after a weight layer (an activation layer is its own `Built`).
    after: Act,
    /// A dropout stated on a weight layer, after its activation.
    dropout: Option<f32>,
    /// Rank of the layer's input in the plan's layout (3 for `[H, W, C]`).
    input_rank: usize,
}

/// The network: its layers and named tensors.
pub(crate) struct Net {
    layers: Vec<Layer>,
    /// Trainable parameters, in layer order, with their PyTorch names.
    pub params: Vec<(String, Var)>,
    /// Batch-norm running statistics: saved, not trained.
    pub buffers: Vec<(String, Var)>,
    /// Which layer outputs a residual adds later.
    kept: Vec<bool>,
    /// Samples per evaluation pass (`analysis::footprint::network_eval_rows`, which the
    /// memory estimate assumes).
    pub eval_rows: usize,
}

/// How a forward pass runs.
pub(crate) enum Mode<'a> {
    /// Dropout from this stream; batch norm normalizes with the batch and updates its
    /// running statistics.
    Train(&'a mut ChaCha8Rng),
    Eval,
}

/// A layer the analyzer accepts but this trainer cannot build, naming it.
fn refuse(layer: &PlannedLayer, why: impl std::fmt::Display) -> TrainingError {
    TrainingError::invalid(
        format!("architecture.layers[{}]", layer.index),
        why.to_string(),
    )
}

/// Checks that every layer of `plan` can be built, without building it.
pub fn check(plan: &Plan) -> Result<(), TrainingError> {
    for (i, layer) in plan.layers.iter().enumerate() {
        let last = i + 1 == plan.layers.len();
        buildable(layer, last)?;
    }
    Ok(())
}

/// What the trainer cannot build, as an error on the layer.
fn buildable(layer: &PlannedLayer, last: bool) -> Result<(), TrainingError> {
    if let Some(name) = &layer.activation {
        if Act::parse(name).is_none() {
            return Err(refuse(
                layer,
                format!("activation {name:?} is not built here; use one of {ACTIVATIONS}"),
            ));
        }
    }
    let _ = last;
    match &layer.op {
        Op::Conv { stride, .. } if stride.0 != stride.1 => Err(refuse(
            layer,
            format!(
                "a convolution with different strides per axis ({}x{}) is not built here",
                stride.0, stride.1
            ),
        )),
        Op::Pool {
            size,
            stride,
            padding: Padding::Same,
        } if layer.kind == LayerKind::AvgPool => {
            // TensorFlow's same-padded average leaves the padding out of the count, which
            // zero padding does not; build it only where it pads nothing.
            let valid = |n: usize, k: usize, s: usize| (n >= k).then(|| (n - k) / s + 1);
            if valid(layer.input[0], size.0, stride.0) != Some(layer.output[0])
                || valid(layer.input[1], size.1, stride.1) != Some(layer.output[1])
            {
                return Err(refuse(
                    layer,
                    "\"same\"-padded average pooling is not built here; use valid or explicit \
                     padding (explicit padding counts the zeros, as PyTorch does)",
                ));
            }
            Ok(())
        }
        Op::Embedding { .. } if layer.input.len() != 1 => Err(refuse(
            layer,
            "an embedding reads token ids: it must be the first layer of a text model",
        )),
        _ => Ok(()),
    }
}

/// Draws `n` values uniform in ±`bound`.
fn uniform(rng: &mut ChaCha8Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-bound..=bound)).collect()
}

struct Builder<'a> {
    rng: &'a mut ChaCha8Rng,
    params: Vec<(String, Var)>,
    buffers: Vec<(String, Var)>,
}

impl Builder<'_> {
    fn tensor(values: Vec<f32>, shape: &[usize]) -> Result<Var, TrainingError> {
        Ok(Var::from_tensor(&Tensor::from_vec(
            values,
            shape,
            &Device::Cpu,
        )?)?)
    }

    fn param(
        &mut self,
        name: String,
        values: Vec<f32>,
        shape: &[usize],
    ) -> Result<usize, TrainingError> {
        self.params.push((name, Self::tensor(values, shape)?));
        Ok(self.params.len() - 1)
    }

    fn uniform(
        &mut self,
        name: String,
        shape: &[usize],
        bound: f32,
    ) -> Result<usize, TrainingError> {
        let n = shape.iter().product();
        let values = uniform(self.rng, n, bound);
        self.param(name, values, shape)
    }

    fn constant(
        &mut self,
        name: String,
        shape: &[usize],
        value: f32,
    ) -> Result<usize, TrainingError> {
        let n = shape.iter().product();
        self.param(name, vec![value; n], shape)
    }

    fn buffer(&mut self, name: String, len: usize, value: f32) -> Result<usize, TrainingError> {
        self.buffers
            .push((name, Self::tensor(vec![value; len], &[len])?));
        Ok(self.buffers.len() - 1)
    }

    /// `nn.Linear`: weight and bias uniform in ±1/√fan_in.
    fn linear(
        &mut self,
        prefix: &str,
        inputs: usize,
        outputs: usize,
        bias: bool,
    ) -> Result<(usize, Option<usize>), TrainingError> {
        let bound = 1.0 / (inputs.max(1) as f32).sqrt();
        let w = self.uniform(format!("{prefix}weight"), &[outputs, inputs], bound)?;
        let b = if bias {
            Some(self.uniform(format!("{prefix}bias"), &[outputs], bound)?)
        } else {
            None
        };
        Ok((w, b))
    }

    /// `nn.MultiheadAttention`: the packed Q/K/V projection Xavier-uniform with zero bias,
    /// the output projection as `nn.Linear` with zero bias.
    fn attention(
        &mut self,
        prefix: &str,
        d: usize,
        heads: usize,
    ) -> Result<AttentionParams, TrainingError> {
        let xavier = (6.0 / (d + 3 * d) as f32).sqrt();
        let in_w = self.uniform(format!("{prefix}in_proj_weight"), &[3 * d, d], xavier)?;
        let in_b = self.constant(format!("{prefix}in_proj_bias"), &[3 * d], 0.0)?;
        let out_w = self.uniform(
            format!("{prefix}out_proj.weight"),
            &[d, d],
            1.0 / (d as f32).sqrt(),
        )?;
        let out_b = self.constant(format!("{prefix}out_proj.bias"), &[d], 0.0)?;
        Ok(AttentionParams {
            in_w,
            in_b,
            out_w,
            out_b,
            heads,
        })
    }

    fn norm(&mut self, prefix: &str, c: usize) -> Result<(usize, usize), TrainingError> {
        Ok((
            self.constant(format!("{prefix}weight"), &[c], 1.0)?,
            self.constant(format!("{prefix}bias"), &[c], 0.0)?,
        ))
    }

    fn layer(&mut self, l: &PlannedLayer, last: bool) -> Result<Built, TrainingError> {
        let p = format!("layers.{}.", l.index);
        let channels = |shape: &[usize]| *shape.last().unwrap_or(&1);
        Ok(match &l.op {
            Op::Input => Built::Identity,
            Op::Flatten => Built::Flatten,
            Op::Activation => Built::Activation(
                l.activation
                    .as_deref()
                    .map(|a| Act::parse(a).expect("checked"))
                    .map(|a| {
                        if last && a == Act::Softmax {
                            Act::Identity
                        } else {
                            a
                        }
                    })
                    .unwrap_or(Act::Identity),
            ),
            Op::Dropout { rate } => Built::Dropout(*rate as f32),
            Op::Conv {
                filters,
                kernel,
                stride,
                padding,
                bias,
                ..
            } => {
                let c_in = l.input[2];
                let fan_in = c_in * kernel.0 * kernel.1;
                let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
                let w = self.uniform(
                    format!("{p}weight"),
                    &[*filters, c_in, kernel.0, kernel.1],
                    bound,
                )?;
                let b = if *bias {
                    Some(self.uniform(format!("{p}bias"), &[*filters], bound)?)
                } else {
                    None
                };
                let pad = pads(l, *kernel, *stride, *padding);
                Built::Conv {
                    w,
                    b,
                    stride: stride.0,
                    pad,
                }
            }
            Op::Conv1d {
                filters,
                kernel,
                stride,
                padding,
                bias,
                ..
            } => {
                // nn.Conv1d's default init, as conv2d's: kaiming-uniform (a = √5) weights and
                // a bias, both in ±1/√fan_in, fan_in = C_in·k.
                let c_in = l.input[1];
                let bound = 1.0 / ((c_in * kernel).max(1) as f32).sqrt();
                let w = self.uniform(format!("{p}weight"), &[*filters, c_in, *kernel], bound)?;
                let b = if *bias {
                    Some(self.uniform(format!("{p}bias"), &[*filters], bound)?)
                } else {
                    None
                };
                let pad = match padding {
                    Padding::Valid => (0, 0),
                    Padding::Explicit(p, _) => (*p, *p),
                    Padding::Same => {
                        // TensorFlow's rule, as `pads`: for stride 1, (k − 1)/2 before and
                        // the rest after (PyTorch's `padding="same"`).
                        let total =
                            ((l.output[0] - 1) * stride + kernel).saturating_sub(l.input[0]);
                        (total / 2, total - total / 2)
                    }
                };
                Built::Conv1d {
                    w,
                    b,
                    stride: *stride,
                    pad,
                }
            }
            Op::Pool {
                size,
                stride,
                padding,
            } => Built::Pool {
                max: l.kind == LayerKind::MaxPool,
                size: *size,
                stride: *stride,
                pad: pads(l, *size, *stride, *padding),
            },
            Op::GlobalPool => Built::GlobalPool {
                max: l.kind == LayerKind::GlobalMaxPool,
            },
            Op::Dense { bias, .. } => {
                let (inputs, flatten) = if l.input.len() == 3 {
                    (l.input.iter().product(), true)
                } else {
                    (channels(&l.input), false)
                };
                let units = channels(&l.output);
                let (w, b) = self.linear(&p, inputs, units, *bias)?;
                Built::Dense { w, b, flatten }
            }
            Op::Norm => {
                let c = channels(&l.input);
                let (gamma, beta) = self.norm(&p, c)?;
                if l.kind == LayerKind::BatchNorm {
                    let mean = self.buffer(format!("{p}running_mean"), c, 0.0)?;
                    let var = self.buffer(format!("{p}running_var"), c, 1.0)?;
                    Built::BatchNorm {
                        gamma,
                        beta,
                        mean,
                        var,
                    }
                } else {
                    Built::LayerNorm { gamma, beta }
                }
            }
            Op::Embedding { vocab, dim } => {
                let n = vocab * dim;
                let values: Vec<f32> = (0..n)
                    .map(|_| StandardNormal.sample(&mut *self.rng))
                    .collect();
                Built::Embedding {
                    table: self.param(format!("{p}weight"), values, &[*vocab, *dim])?,
                }
            }
            Op::Rnn {
                hidden,
                return_sequences,
                bidirectional,
                ..
            } => {
                let cell = if l.kind == LayerKind::Lstm {
                    Cell::Lstm
                } else {
                    Cell::Gru
                };
                let gates = if cell == Cell::Lstm { 4 } else { 3 };
                let in_f = if l.input.len() == 1 { 1 } else { l.input[1] };
                let bound = 1.0 / (*hidden as f32).sqrt();
                let mut dirs = Vec::new();
                for suffix in if *bidirectional {
                    &["", "_reverse"][..]
                } else {
                    &[""][..]
                } {
                    dirs.push(Direction {
                        w_ih: self.uniform(
                            format!("{p}weight_ih_l0{suffix}"),
                            &[gates * hidden, in_f],
                            bound,
                        )?,
                        w_hh: self.uniform(
                            format!("{p}weight_hh_l0{suffix}"),
                            &[gates * hidden, *hidden],
                            bound,
                        )?,
                        b_ih: self.uniform(
                            format!("{p}bias_ih_l0{suffix}"),
                            &[gates * hidden],
                            bound,
                        )?,
                        b_hh: self.uniform(
                            format!("{p}bias_hh_l0{suffix}"),
                            &[gates * hidden],
                            bound,
                        )?,
                    });
                }
                Built::Rnn {
                    cell,
                    hidden: *hidden,
                    dirs,
                    return_sequences: *return_sequences,
                }
            }
            Op::Attention { heads, .. } => {
                let d = l.input[1];
                Built::Attention(self.attention(&p, d, heads.unwrap_or(1))?)
            }
            Op::Transformer { heads, ff_dim, .. } => {
                let d = l.input[1];
                let ff = ff_dim.unwrap_or(4 * d);
                let attn = self.attention(&format!("{p}self_attn."), d, heads.unwrap_or(1))?;
                let (w1, b1) = self.linear(&format!("{p}linear1."), d, ff, true)?;
                let (w2, b2) = self.linear(&format!("{p}linear2."), ff, d, true)?;
                let norm1 = self.norm(&format!("{p}norm1."), d)?;
                let norm2 = self.norm(&format!("{p}norm2."), d)?;
                Built::Transformer {
                    attn,
                    norm1,
                    norm2,
                    linear1: (w1, b1.expect("bias")),
                    linear2: (w2, b2.expect("bias")),
                }
            }
            Op::Residual { shortcut, .. } => {
                let (c_in, out) = (l.added_shape.as_deref(), &l.output);
                let stride = match c_in {
                    Some(a) if a.len() == 3 => (a[0] / out[0].max(1)).max(1),
                    _ => 1,
                };
                let shortcut = match shortcut {
                    Shortcut::Identity => Brought::As,
                    Shortcut::Pad => {
                        let extra = out[2] - c_in.map_or(out[2], |a| a[2]);
                        Brought::Pad {
                            stride,
                            lo: extra / 2,
                            hi: extra - extra / 2,
                        }
                    }
                    Shortcut::Projection => {
                        let c_in = c_in.map_or(out[2], |a| a[2]);
                        let c_out = out[2];
                        let bound = 1.0 / (c_in as f32).sqrt();
                        let w = self.uniform(
                            format!("{p}downsample.0.weight"),
                            &[c_out, c_in, 1, 1],
                            bound,
                        )?;
                        let (gamma, beta) = self.norm(&format!("{p}downsample.1."), c_out)?;
                        let mean =
                            self.buffer(format!("{p}downsample.1.running_mean"), c_out, 0.0)?;
                        let var =
                            self.buffer(format!("{p}downsample.1.running_var"), c_out, 1.0)?;
                        Brought::Projection {
                            w,
                            stride,
                            gamma,
                            beta,
                            mean,
                            var,
                        }
                    }
                };
                Built::Residual {
                    added: l.added.expect("planned"),
                    shortcut,
                }
            }
        })
    }
}

impl Net {
    /// Fresh weights for `plan`, drawn from `rng` in layer order.
    pub fn init(plan: &Plan, rng: &mut ChaCha8Rng) -> Result<Net, TrainingError> {
        check(plan)?;
        let mut b = Builder {
            rng,
            params: Vec::new(),
            buffers: Vec::new(),
        };
        let n = plan.layers.len();
        let mut layers = Vec::with_capacity(n);
        let mut kept = vec![false; n];
        for (i, l) in plan.layers.iter().enumerate() {
            let last = i + 1 == n;
            let built = b.layer(l, last)?;
            if let Built::Residual {
                added: Added::Layer(j),
                ..
            } = built
            {
                kept[j] = true;
            }
            let after = match (&built, &l.activation) {
                (Built::Activation(_), _) | (_, None) => Act::Identity,
                (_, Some(a)) => match Act::parse(a).expect("checked") {
                    // The loss takes logits: a final softmax is applied at prediction.
                    Act::Softmax if last => Act::Identity,
                    a => a,
                },
            };
            layers.push(Layer {
                built,
                after,
                dropout: l.inline_dropout.map(|r| r as f32),
                input_rank: l.input.len(),
            });
        }
        Ok(Net {
            layers,
            params: b.params,
            buffers: b.buffers,
            kept,
            eval_rows: analysis::footprint::network_eval_rows(
                analysis::footprint::NetworkSize::of_plan(plan),
            ) as usize,
        })
    }

    /// The network for `plan` with saved tensors (as [`Net::named`] gives them).
    pub fn load(plan: &Plan, tensors: &BTreeMap<String, Tensor>) -> Result<Net, TrainingError> {
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let net = Net::init(plan, &mut rng)?;
        for (name, var) in net.params.iter().chain(&net.buffers) {
            let saved = tensors.get(name).ok_or_else(|| {
                TrainingError::Artifact(format!("tensor {name} is missing from the file"))
            })?;
            if saved.dims() != var.dims() {
                return Err(TrainingError::Artifact(format!(
                    "tensor {name} is {:?} in the file, {:?} in the network",
                    saved.dims(),
                    var.dims()
                )));
            }
            var.set(&saved.to_dtype(DType::F32)?)?;
        }
        Ok(net)
    }

    /// Parameters and buffers by name.
    pub fn named(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.params
            .iter()
            .chain(&self.buffers)
            .map(|(n, v)| (n.as_str(), v))
    }

    pub fn parameter_count(&self) -> usize {
        self.params.iter().map(|(_, v)| v.elem_count()).sum()
    }

    pub fn vars(&self) -> Vec<Var> {
        self.params.iter().map(|(_, v)| v.clone()).collect()
    }

    /// Σθ² over the parameters, for an L2 penalty.
    pub fn squared_norm(&self) -> candle_core::Result<Tensor> {
        let mut total = Tensor::zeros((), DType::F32, &Device::Cpu)?;
        for (_, v) in &self.params {
            total = (total + v.as_tensor().sqr()?.sum_all()?)?;
        }
        Ok(total)
    }

    fn p(&self, i: usize) -> &Tensor {
        self.params[i].1.as_tensor()
    }

    /// The outputs (logits, or forecast values) for a batch.
    pub fn forward(&self, x: &Tensor, mut mode: Mode<'_>) -> candle_core::Result<Tensor> {
        let mut outs: Vec<Option<Tensor>> = vec![None; self.layers.len()];
        let input = x.clone();
        let mut x = x.clone();
        for (i, layer) in self.layers.iter().enumerate() {
            x = self.step(layer, &x, &input, &outs, &mut mode)?;
            x = layer.after.apply(&x)?;
            if let (Some(rate), Mode::Train(rng)) = (layer.dropout, &mut mode) {
                x = dropout(&x, rate, rng)?;
            }
            if self.kept[i] {
                outs[i] = Some(x.clone());
            }
        }
        Ok(x)
    }

    fn step(
        &self,
        layer: &Layer,
        x: &Tensor,
        input: &Tensor,
        outs: &[Option<Tensor>],
        mode: &mut Mode<'_>,
    ) -> candle_core::Result<Tensor> {
        Ok(match &layer.built {
            Built::Identity => x.clone(),
            Built::Activation(a) => a.apply(x)?,
            Built::Dropout(rate) => match mode {
                Mode::Train(rng) => dropout(x, *rate, rng)?,
                Mode::Eval => x.clone(),
            },
            Built::Conv { w, b, stride, pad } => {
                let mut x = x.clone();
                if pad[0] + pad[1] > 0 {
                    x = x.pad_with_zeros(2, pad[0], pad[1])?;
                }
                if pad[2] + pad[3] > 0 {
                    x = x.pad_with_zeros(3, pad[2], pad[3])?;
                }
                let y = conv2d(&x, self.p(*w), *stride)?;
                match b {
                    Some(b) => y.broadcast_add(&self.p(*b).reshape((1, (), 1, 1))?)?,
                    None => y,
                }
            }
            Built::Conv1d { w, b, stride, pad } => {
                let x = if pad.0 + pad.1 > 0 {
                    x.pad_with_zeros(1, pad.0, pad.1)?
                } else {
                    x.clone()
                };
                let y = conv1d(&x, self.p(*w), *stride)?;
                match b {
                    Some(b) => y.broadcast_add(self.p(*b))?,
                    None => y,
                }
            }
            Built::Pool {
                max,
                size,
                stride,
                pad,
            } => {
                if *max {
                    pad_value(x, pad, -1e30)?.max_pool2d_with_stride(*size, *stride)?
                } else {
                    pad_value(x, pad, 0.0)?.avg_pool2d_with_stride(*size, *stride)?
                }
            }
            Built::GlobalPool { max } => {
                // [N, C, H, W] → [N, C]; [N, seq, d] → [N, d].
                let x = if layer.input_rank == 3 {
                    x.flatten_from(2)?
                } else {
                    x.transpose(1, 2)?
                };
                if *max {
                    x.max(D::Minus1)?
                } else {
                    x.mean(D::Minus1)?
                }
            }
            Built::Flatten => x.flatten_from(1)?,
            Built::Dense { w, b, flatten } => {
                let x = if *flatten {
                    x.flatten_from(1)?
                } else {
                    x.clone()
                };
                linear(&x, self.p(*w), b.map(|b| self.p(b)))?
            }
            Built::BatchNorm {
                gamma,
                beta,
                mean,
                var,
            } => {
                // Channels on axis 1: [N, C, H, W] and [N, C] already; [N, seq, d] moved.
                let seq = layer.input_rank == 2;
                let x = if seq { x.transpose(1, 2)? } else { x.clone() };
                let y = self.batch_norm(&x, (*gamma, *beta), (*mean, *var), mode)?;
                if seq {
                    y.transpose(1, 2)?
                } else {
                    y
                }
            }
            Built::LayerNorm { gamma, beta } => {
                // Over the last axis of the plan's layout: channels, for an image.
                if layer.input_rank == 3 {
                    let y = x.permute((0, 2, 3, 1))?;
                    layer_norm(&y, self.p(*gamma), self.p(*beta))?.permute((0, 3, 1, 2))?
                } else {
                    layer_norm(x, self.p(*gamma), self.p(*beta))?
                }
            }
            Built::Embedding { table } => {
                let (n, seq) = x.dims2()?;
                let t = self.p(*table);
                t.index_select(&x.flatten_all()?, 0)?
                    .reshape((n, seq, t.dim(1)?))?
            }
            Built::Rnn {
                cell,
                hidden,
                dirs,
                return_sequences,
            } => {
                let x = if x.rank() == 2 {
                    x.unsqueeze(2)?
                } else {
                    x.clone()
                };
                self.rnn(&x, *cell, *hidden, dirs, *return_sequences)?
            }
            Built::Attention(a) => self.attention(x, a)?,
            Built::Transformer {
                attn,
                norm1,
                norm2,
                linear1,
                linear2,
            } => {
                // PyTorch's TransformerEncoderLayer (post-norm, ReLU feed-forward).
                let h = (x + self.attention(x, attn)?)?;
                let h = layer_norm(&h, self.p(norm1.0), self.p(norm1.1))?;
                let f = linear(&h, self.p(linear1.0), Some(self.p(linear1.1)))?.relu()?;
                let f = linear(&f, self.p(linear2.0), Some(self.p(linear2.1)))?;
                layer_norm(&(h + f)?, self.p(norm2.0), self.p(norm2.1))?
            }
            Built::Residual { added, shortcut } => {
                let a = match added {
                    Added::Input => input,
                    Added::Layer(j) => outs[*j].as_ref().expect("kept"),
                };
                let a = match shortcut {
                    Brought::As => a.clone(),
                    Brought::Pad { stride, lo, hi } => {
                        let a = subsample(a, *stride)?;
                        if lo + hi > 0 {
                            a.pad_with_zeros(1, *lo, *hi)?
                        } else {
                            a
                        }
                    }
                    Brought::Projection {
                        w,
                        stride,
                        gamma,
                        beta,
                        mean,
                        var,
                    } => {
                        let y = conv2d(a, self.p(*w), *stride)?;
                        self.batch_norm(&y, (*gamma, *beta), (*mean, *var), mode)?
                    }
                };
                (x + a)?
            }
        })
    }

    fn batch_norm(
        &self,
        x: &Tensor,
        (gamma, beta): (usize, usize),
        (mean, var): (usize, usize),
        mode: &mut Mode<'_>,
    ) -> candle_core::Result<Tensor> {
        let c = x.dim(1)?;
        let mut shape = vec![1; x.rank()];
        shape[1] = c;
        let (m, v) = match mode {
            Mode::Train(_) => {
                // Statistics over every axis but the channels.
                let flat = x.transpose(0, 1)?.flatten_from(1)?;
                let n = flat.dim(1)? as f64;
                let m = flat.mean_keepdim(1)?;
                let v = flat.broadcast_sub(&m)?.sqr()?.mean_keepdim(1)?;
                let (rm, rv) = (&self.buffers[mean].1, &self.buffers[var].1);
                let unbiased = (v.flatten_all()?.detach() * (n / (n - 1.0).max(1.0)))?;
                rm.set(
                    &((rm.as_tensor() * (1.0 - BN_MOMENTUM))?
                        + (m.flatten_all()?.detach() * BN_MOMENTUM)?)?,
                )?;
                rv.set(&((rv.as_tensor() * (1.0 - BN_MOMENTUM))? + (unbiased * BN_MOMENTUM)?)?)?;
                (m.reshape(shape.as_slice())?, v.reshape(shape.as_slice())?)
            }
            Mode::Eval => (
                self.buffers[mean].1.as_tensor().reshape(shape.as_slice())?,
                self.buffers[var].1.as_tensor().reshape(shape.as_slice())?,
            ),
        };
        let y = x
            .broadcast_sub(&m)?
            .broadcast_div(&(v + NORM_EPS)?.sqrt()?)?;
        y.broadcast_mul(&self.p(gamma).reshape(shape.as_slice())?)?
            .broadcast_add(&self.p(beta).reshape(shape.as_slice())?)
    }

    /// `[N, seq, in]` → `[N, seq, h·dirs]` or the last step `[N, h·dirs]` (the backward
    /// direction's last step is its state after reading the whole sequence, at position 0).
    fn rnn(
        &self,
        x: &Tensor,
        cell: Cell,
        hidden: usize,
        dirs: &[Direction],
        return_sequences: bool,
    ) -> candle_core::Result<Tensor> {
        let (n, seq, _) = x.dims3()?;
        let mut per_dir = Vec::new();
        for (k, d) in dirs.iter().enumerate() {
            // The input projection of every step in one product; only h·W_hh is sequential.
            let xi = linear(x, self.p(d.w_ih), Some(self.p(d.b_ih)))?;
            let w_hh_t = self.p(d.w_hh).t()?;
            let b_hh = self.p(d.b_hh);
            let mut h = Tensor::zeros((n, hidden), DType::F32, &Device::Cpu)?;
            let mut c = h.clone();
            let mut steps = vec![None; seq];
            for t in 0..seq {
                let pos = if k == 0 { t } else { seq - 1 - t };
                let gi = xi.narrow(1, pos, 1)?.squeeze(1)?;
                let gh = h.matmul(&w_hh_t)?.broadcast_add(b_hh)?;
                match cell {
                    Cell::Lstm => {
                        let g = (gi + gh)?.chunk(4, 1)?;
                        let i = candle_nn::ops::sigmoid(&g[0])?;
                        let f = candle_nn::ops::sigmoid(&g[1])?;
                        let gg = g[2].tanh()?;
                        let o = candle_nn::ops::sigmoid(&g[3])?;
                        c = ((f * &c)? + (i * gg)?)?;
                        h = (o * c.tanh()?)?;
                    }
                    Cell::Gru => {
                        // PyTorch's GRU: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).
                        let gi = gi.chunk(3, 1)?;
                        let gh = gh.chunk(3, 1)?;
                        let r = candle_nn::ops::sigmoid(&(&gi[0] + &gh[0])?)?;
                        let z = candle_nn::ops::sigmoid(&(&gi[1] + &gh[1])?)?;
                        let nn = (&gi[2] + (r * &gh[2])?)?.tanh()?;
                        h = ((&z * &h)? + ((1.0 - &z)? * nn)?)?;
                    }
                }
                if return_sequences {
                    steps[pos] = Some(h.clone());
                }
            }
            per_dir.push(if return_sequences {
                let steps: Vec<Tensor> =
                    steps.into_iter().map(|s| s.expect("every step")).collect();
                Tensor::stack(&steps, 1)?
            } else {
                h
            });
        }
        Tensor::cat(&per_dir, D::Minus1)
    }

    /// Scaled dot-product attention over `heads` heads, with the packed Q/K/V projection.
    fn attention(&self, x: &Tensor, a: &AttentionParams) -> candle_core::Result<Tensor> {
        let (n, seq, d) = x.dims3()?;
        let dh = d / a.heads;
        let qkv = linear(x, self.p(a.in_w), Some(self.p(a.in_b)))?;
        let split = |k: usize| -> candle_core::Result<Tensor> {
            qkv.narrow(2, k * d, d)?
                .reshape((n, seq, a.heads, dh))?
                .transpose(1, 2)?
                .contiguous()
        };
        let (q, k, v) = (split(0)?, split(1)?, split(2)?);
        let scores = (q.matmul(&k.t()?)? / (dh as f64).sqrt())?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let y = weights
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((n, seq, d))?;
        linear(&y, self.p(a.out_w), Some(self.p(a.out_b)))
    }
}

/// A window's padding (top, bottom, left, right) as planned: explicit, or TensorFlow's
/// `same` rule, total = max((out − 1)·s + k − n, 0) with the extra pixel at the
/// bottom/right.
fn pads(
    l: &PlannedLayer,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: Padding,
) -> [usize; 4] {
    match padding {
        Padding::Valid => [0; 4],
        Padding::Explicit(ph, pw) => [ph, ph, pw, pw],
        Padding::Same => {
            let total =
                |n: usize, k: usize, s: usize, out: usize| ((out - 1) * s + k).saturating_sub(n);
            let th = total(l.input[0], kernel.0, stride.0, l.output[0]);
            let tw = total(l.input[1], kernel.1, stride.1, l.output[1]);
            [th / 2, th - th / 2, tw / 2, tw - tw / 2]
        }
    }
}

/// A convolution of `x` (`[N, C, H, W]`, already padded) with `w` (`[F, C, k_h, k_w]`) as
/// one matrix product over the unfolded input (im2col): `[N·H_out·W_out, C·k_h·k_w]` times
/// `wᵀ`. Why not candle's `conv2d`: its backward pass goes through `conv_transpose2d`,
/// which on the CPU made a small CNN's epoch 14× PyTorch's; the unfolding is one op
/// (`unfold.rs`) whose gradient is one op, and the product's gradients are products.
pub(crate) fn conv2d(x: &Tensor, w: &Tensor, stride: usize) -> candle_core::Result<Tensor> {
    let (n, c, h, width) = x.dims4()?;
    let (f, _, kh, kw) = w.dims4()?;
    let (ho, wo) = ((h - kh) / stride + 1, (width - kw) / stride + 1);
    let w2 = w.reshape((f, c * kh * kw))?;
    let cols = if kh == 1 && kw == 1 {
        subsample(&x.contiguous()?, stride)?
            .permute((0, 2, 3, 1))?
            .contiguous()?
            .reshape((n * ho * wo, c))?
    } else {
        x.contiguous()?
            .apply_op1(super::unfold::Unfold { kh, kw, stride })?
            .reshape((n * ho * wo, c * kh * kw))?
    };
    cols.matmul(&w2.t()?)?
        .reshape((n, ho * wo, f))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((n, f, ho, wo))
}

/// A convolution along the sequence of `x` (`[N, L, C]`, already padded) with `w`
/// (`[F, C, k]`, PyTorch's Conv1d layout), giving `[N, L_out, F]`: the taps `x[:, j + s·t, :]`
/// side by side on the last axis (`[N, L_out, k·C]`, column j·C + c) times `w` laid out the
/// same way. As `conv2d`, slices and one product, whose gradients are slices and products.
pub(crate) fn conv1d(x: &Tensor, w: &Tensor, stride: usize) -> candle_core::Result<Tensor> {
    let x = x.contiguous()?;
    let (_, len, c) = x.dims3()?;
    let (f, _, k) = w.dims3()?;
    let out = (len - k) / stride + 1;
    let tap = |j: usize| -> candle_core::Result<Tensor> {
        if stride == 1 {
            x.narrow(1, j, out)
        } else {
            // Positions j, j + s, …, j + s·(L_out − 1).
            let idx: Vec<u32> = (0..out).map(|t| (j + stride * t) as u32).collect();
            x.index_select(&Tensor::from_vec(idx, out, &Device::Cpu)?, 1)
        }
    };
    let cols = if k == 1 {
        tap(0)?
    } else {
        let taps = (0..k).map(tap).collect::<candle_core::Result<Vec<_>>>()?;
        Tensor::cat(&taps, D::Minus1)?
    };
    // [F, C, k] → [F, k, C] → [F, k·C]: column j·C + c, as the taps are laid out.
    let w2 = w.transpose(1, 2)?.contiguous()?.reshape((f, k * c))?;
    linear(&cols, &w2, None)
}

/// `x` (`[N, C, H, W]`) padded with `value`.
fn pad_value(x: &Tensor, pad: &[usize; 4], value: f64) -> candle_core::Result<Tensor> {
    if pad.iter().all(|&p| p == 0) {
        return Ok(x.clone());
    }
    if value == 0.0 {
        return x
            .pad_with_zeros(2, pad[0], pad[1])?
            .pad_with_zeros(3, pad[2], pad[3]);
    }
    let band = |x: &Tensor, dim: usize, n: usize| -> candle_core::Result<Option<Tensor>> {
        if n == 0 {
            return Ok(None);
        }
        let mut dims = x.dims().to_vec();
        dims[dim] = n;
        Ok(Some((Tensor::ones(dims, x.dtype(), x.device())? * value)?))
    };
    let mut x = x.clone();
    for (dim, lo, hi) in [(2, pad[0], pad[1]), (3, pad[2], pad[3])] {
        let parts: Vec<Tensor> = [band(&x, dim, lo)?, Some(x.clone()), band(&x, dim, hi)?]
            .into_iter()
            .flatten()
            .collect();
        x = Tensor::cat(&parts, dim)?;
    }
    Ok(x)
}

/// Every `s`-th row and column of `[N, C, H, W]` (`x[:, :, ::s, ::s]`).
fn subsample(x: &Tensor, s: usize) -> candle_core::Result<Tensor> {
    if s == 1 {
        return Ok(x.clone());
    }
    let pick = |n: usize| {
        let idx: Vec<u32> = (0..n).step_by(s).map(|i| i as u32).collect();
        Tensor::from_vec(idx.clone(), idx.len(), &Device::Cpu)
    };
    let (_, _, h, w) = x.dims4()?;
    x.contiguous()?
        .index_select(&pick(h)?, 2)?
        .index_select(&pick(w)?, 3)
}

/// `x Wᵀ + b` over the last axis of a rank-2 or rank-3 `x`.
fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> candle_core::Result<Tensor> {
    let y = match x.rank() {
        2 => x.matmul(&w.t()?)?,
        _ => x.broadcast_matmul(&w.t()?)?,
    };
    match b {
        Some(b) => y.broadcast_add(b),
        None => Ok(y),
    }
}

fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor) -> candle_core::Result<Tensor> {
    let m = x.mean_keepdim(D::Minus1)?;
    let centered = x.broadcast_sub(&m)?;
    let v = centered.sqr()?.mean_keepdim(D::Minus1)?;
    centered
        .broadcast_div(&(v + NORM_EPS)?.sqrt()?)?
        .broadcast_mul(gamma)?
        .broadcast_add(beta)
}

/// Inverted dropout with a mask from `rng`.
fn dropout(x: &Tensor, rate: f32, rng: &mut ChaCha8Rng) -> candle_core::Result<Tensor> {
    if rate <= 0.0 {
        return Ok(x.clone());
    }
    let keep = 1.0 / (1.0 - rate);
    let mask: Vec<f32> = (0..x.elem_count())
        .map(|_| {
            if rng.random::<f32>() < rate {
                0.0
            } else {
                keep
            }
        })
        .collect();
    x * Tensor::from_vec(mask, x.shape(), &Device::Cpu)?
}

/// The first layer's output, for tests of a single layer.
#[cfg(test)]
pub(crate) fn tests_pool(net: &Net, x: &Tensor) -> Vec<f32> {
    let outs = vec![None; net.layers.len()];
    let y = net
        .step(&net.layers[0], x, x, &outs, &mut Mode::Eval)
        .unwrap();
    y.flatten_all().unwrap().to_vec1().unwrap()
}
