//! Shape propagation, parameter and MAC counts.
//!
//! Two MAC conventions are reported, both checked layer by layer against the libraries
//! (`tests/fixtures/torch_reference`, made with torch 2.15 and torchinfo 1.8):
//! - `macs`: the multiply-accumulates of the layer's matrix products and convolutions,
//!   without bias adds, norms, activations or pooling: exactly `torch.utils.flop_counter`'s
//!   FLOPs / 2 (with oneDNN off, so an LSTM is counted as its matrix products).
//! - `torchinfo_mult_adds`: what torchinfo's `summary` reports: for a conv every parameter
//!   (bias included) once per output position; for a dense layer, norm or embedding its
//!   parameters once (no sequence factor); for an LSTM/GRU every parameter once per time
//!   step; attention 0 (torchinfo sums leaf modules only, and `nn.MultiheadAttention` has a
//!   child); a transformer block its two linear layers and two norms.
//!
//! Shapes exclude the batch dimension: `[H, W, C]` for images, `[seq, d]` for sequences,
//! `[features]` for flat vectors. A dimension that is not known is `None`, so a layer whose
//! count needs only known dimensions still gets one (an LSTM after an embedding has a known
//! parameter count even when the sequence length is not).
//!
//! Formulas (k kernel, s stride, p padding, C channels, d model width, h hidden size):
//! - conv2d: out = floor((n + 2p − k) / s) + 1 ("same": ceil(n / s));
//!   params = (k_h·k_w·C_in + bias)·filters; MACs = k_h·k_w·C_in·filters·H_out·W_out.
//! - conv1d on `[seq, C]` (channels last, as an embedding's output): the same rule along
//!   the sequence; params = (k·C_in + bias)·filters; MACs = k·C_in·filters·seq_out.
//! - max/avg pool: same output rule (stride defaults to the window); no params or MACs.
//! - global pool: H×W×C → C (and seq×d → d).
//! - dense: an implicit flatten of a spatial input; on `[seq, d]` it acts on the last axis;
//!   params = in·units + units; MACs = in·units (× seq).
//! - batchnorm: 2·C parameters (γ, β) plus 2·C running-statistic buffers; layernorm 2·d.
//! - embedding: vocab·dim; `[seq]` → `[seq, dim]`; a lookup, 0 MACs.
//! - LSTM/GRU (PyTorch: two bias vectors): gates·(in·h + h·h + 2h), gates 4 / 3;
//!   MACs = seq·gates·(in·h + h·h); ×2 when bidirectional.
//! - multi-head attention on `[seq, d]`: 4·(d² + d) (Q, K, V, O); MACs = 4·seq·d² + 2·seq²·d.
//! - transformer block: attention + 2 layernorms (4d) + FFN (d·ff + ff + ff·d + d), ff
//!   defaulting to 4d; MACs add 2·seq·d·ff.
//! - residual: no params; the added tensor must have the same shape.
//!
//! Counts are exact integers (u128 while summing, checked) so the spec CNN's 1,405,258
//! comes out exactly.

use super::input::Context;
use super::layers::{Architecture, LayerKind, LayerSpec, Op, Padding, ResidualFrom, Shortcut};
use super::{AnalysisError, LayerRow, Totals};

type Dims = Vec<Option<usize>>;

/// A structural event found while propagating, turned into findings later.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// A spatial dimension computed ≤ 0: the layer cannot run; shapes stop here. Kernel,
    /// stride and computed sizes have one entry per axis the window slides over (two for
    /// conv2d and pooling, one for conv1d).
    Collapse {
        layer: usize,
        input: Dims,
        kernel: Vec<usize>,
        stride: Vec<usize>,
        padding: String,
        computed: Vec<Option<i64>>,
    },
    /// A window larger than its (padded-away) input that still produced an output.
    KernelLarger {
        layer: usize,
        kernel: Vec<usize>,
        input_hw: Vec<usize>,
    },
    /// The layer needs a different rank than it receives (conv after a flat vector, …).
    Incompatible {
        layer: usize,
        kind: LayerKind,
        input: Dims,
        expected: &'static str,
    },
    ResidualMismatch {
        layer: usize,
        from: String,
        added: Dims,
        current: Dims,
    },
    HeadsIndivisible {
        layer: usize,
        d: usize,
        heads: usize,
    },
    /// A declared input size (`in_features`, `in_channels`, …) that disagrees with the shape.
    DeclaredMismatch {
        layer: usize,
        param: &'static str,
        declared: usize,
        computed: usize,
    },
}

/// The first dense layer fed by a flattened spatial map.
#[derive(Debug, Clone)]
pub(crate) struct FlattenDense {
    /// The explicit flatten layer, or `None` for the implicit flatten before a dense layer.
    pub flatten_layer: Option<usize>,
    pub dense_layer: usize,
    pub hwc: (usize, usize, usize),
    pub units: usize,
    pub params: u64,
}

/// Structure facts the findings and suggestions use.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub weight_layers: usize,
    pub conv_layers: Vec<usize>,
    /// Σ filters over conv layers: batch norm after each conv costs 2× this in parameters.
    pub conv_channels_total: u64,
    /// (layer, units, activation stated, is the output layer) for dense/output layers.
    pub dense_layers: Vec<(usize, usize, bool, bool)>,
    /// Σ units over hidden dense layers (for batch norm in an MLP).
    pub hidden_dense_units_total: u64,
    pub norm_layers: usize,
    /// Residual layers plus transformer blocks (which contain two).
    pub residual_layers: usize,
    /// (layer, drop rate), including `dropout` stated on weight layers.
    pub dropouts: Vec<(usize, f64)>,
    pub pooling_layers: usize,
    pub strided_convs: usize,
    pub global_pools: usize,
    pub embedding_layers: usize,
    pub recurrent_layers: usize,
    pub attention_layers: usize,
    /// Width of the last sequence representation (for layer-norm suggestions).
    pub sequence_width: Option<usize>,
    /// Output units of the output layer, when resolved.
    pub output_units: Option<usize>,
    pub flatten_dense: Option<FlattenDense>,
    /// Implicit flattens before dense layers (layer indices).
    pub implicit_flattens: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct Propagation {
    pub rows: Vec<LayerRow>,
    pub totals: Totals,
    pub events: Vec<Event>,
    pub facts: Facts,
    /// Per-layer parameter counts, indexed by layer.
    pub layer_params: Vec<Option<u64>>,
}

/// What one layer contributes.
struct Step {
    out: Option<Dims>,
    params: Option<u128>,
    macs: Option<u128>,
    /// torchinfo's mult-adds (see the module docs).
    mult_adds: Option<u128>,
    buffers: u128,
}

impl Step {
    fn passthrough(input: &Option<Dims>) -> Step {
        Step {
            out: input.clone(),
            params: Some(0),
            macs: Some(0),
            mult_adds: Some(0),
            buffers: 0,
        }
    }
}

/// Overflow-checked arithmetic on optional counts; `None` means "unknown".
struct Calc {
    layer: usize,
}

impl Calc {
    fn overflow(&self) -> AnalysisError {
        AnalysisError::invalid(
            format!("architecture.layers[{}]", self.layer),
            "parameter or MAC count overflows; the layer's sizes are implausibly large",
        )
    }

    fn mul(&self, factors: &[Option<usize>]) -> Result<Option<u128>, AnalysisError> {
        let mut acc: u128 = 1;
        for f in factors {
            let Some(f) = f else { return Ok(None) };
            acc = acc.checked_mul(*f as u128).ok_or_else(|| self.overflow())?;
        }
        Ok(Some(acc))
    }

    fn add(&self, terms: &[Option<u128>]) -> Result<Option<u128>, AnalysisError> {
        let mut acc: u128 = 0;
        for t in terms {
            let Some(t) = t else { return Ok(None) };
            acc = acc.checked_add(*t).ok_or_else(|| self.overflow())?;
        }
        Ok(Some(acc))
    }

    fn scale(&self, k: u128, v: Option<u128>) -> Result<Option<u128>, AnalysisError> {
        v.map(|v| v.checked_mul(k).ok_or_else(|| self.overflow()))
            .transpose()
    }

    fn dim(&self, v: Option<u128>) -> Result<Option<usize>, AnalysisError> {
        v.map(|v| usize::try_from(v).map_err(|_| self.overflow()))
            .transpose()
    }

    fn to_u64(&self, v: Option<u128>) -> Result<Option<u64>, AnalysisError> {
        v.map(|v| u64::try_from(v).map_err(|_| self.overflow()))
            .transpose()
    }
}

/// Output size along one axis; `Err(computed)` when it collapses to ≤ 0.
fn out_dim(n: usize, k: usize, s: usize, pad: Padding, axis: usize) -> Result<usize, i64> {
    let p = match pad {
        Padding::Same => return Ok(n.div_ceil(s)),
        Padding::Valid => 0,
        Padding::Explicit(ph, pw) => {
            if axis == 0 {
                ph
            } else {
                pw
            }
        }
    };
    let span = n as i64 + 2 * p as i64 - k as i64;
    let out = span.div_euclid(s as i64) + 1;
    if out <= 0 {
        Err(out)
    } else {
        Ok(out as usize)
    }
}

/// A window as messages name it: "a 3x3 window with stride 2x2", or along one axis "a
/// window of 5 with stride 1".
pub(crate) fn window_text(kernel: &[usize], stride: &[usize]) -> String {
    let join = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join("x");
    if kernel.len() == 1 {
        format!("a window of {} with stride {}", join(kernel), join(stride))
    } else {
        format!("a {} window with stride {}", join(kernel), join(stride))
    }
}

fn padding_name(p: Padding) -> String {
    match p {
        Padding::Valid => "valid".into(),
        Padding::Same => "same".into(),
        Padding::Explicit(h, w) if h == w => h.to_string(),
        Padding::Explicit(h, w) => format!("[{h}, {w}]"),
    }
}

fn known(d: &Dims) -> Option<Vec<usize>> {
    d.iter().copied().collect()
}

fn show(d: &Dims) -> String {
    let parts: Vec<String> = d
        .iter()
        .map(|x| x.map_or("?".to_string(), |v| v.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// The layer `Walk::step` is on: its spec and input, the notes its row shows, and the
/// overflow-checked arithmetic that names it in errors.
struct Layer<'a> {
    spec: &'a LayerSpec,
    input: &'a Option<Dims>,
    notes: &'a mut Vec<String>,
    calc: Calc,
}

/// The state threaded through the layers.
struct Walk<'a> {
    ctx: &'a Context,
    model_input: Option<Dims>,
    /// The structural output layer (the last dense layer), which may be typed "dense".
    output_layer: Option<usize>,
    /// Output of each layer so far (for residual `from`).
    outs: Vec<Option<Dims>>,
    last_weight_layer: Option<usize>,
    /// A flattened spatial map waiting for its first dense layer: (flatten layer, H, W, C).
    pending_flatten: Option<(Option<usize>, usize, usize, usize)>,
    /// Set by a collapse or an incompatible rank: reported shapes stop.
    broken: bool,
    events: Vec<Event>,
    facts: Facts,
}

impl Walk<'_> {
    /// `input` as a tensor of `rank`: unknown input becomes all-unknown dims; a different
    /// rank is an incompatibility (recorded) and also becomes all-unknown.
    fn expect_rank(
        &mut self,
        spec: &LayerSpec,
        input: &Option<Dims>,
        rank: usize,
        expected: &'static str,
    ) -> Dims {
        match input {
            None => vec![None; rank],
            Some(d) if d.len() == rank => d.clone(),
            Some(d) => {
                self.events.push(Event::Incompatible {
                    layer: spec.index,
                    kind: spec.kind,
                    input: d.clone(),
                    expected,
                });
                self.broken = true;
                vec![None; rank]
            }
        }
    }

    fn declared(
        &mut self,
        spec: &LayerSpec,
        param: &'static str,
        computed: Option<usize>,
        declared: Option<usize>,
        notes: &mut Vec<String>,
    ) -> Option<usize> {
        match (computed, declared) {
            (Some(c), Some(d)) if c != d => {
                self.events.push(Event::DeclaredMismatch {
                    layer: spec.index,
                    param,
                    declared: d,
                    computed: c,
                });
                Some(c)
            }
            (None, Some(d)) => {
                notes.push(format!("{param} = {d} as declared (input shape unknown)"));
                Some(d)
            }
            (c, _) => c,
        }
    }

    /// Output sizes of a window sliding over the first `kernel.len()` axes of `d` (one
    /// kernel and stride entry per axis), recording a collapse or an oversized window.
    fn window(
        &mut self,
        spec: &LayerSpec,
        d: &Dims,
        kernel: &[usize],
        stride: &[usize],
        padding: Padding,
    ) -> Vec<Option<usize>> {
        let axes = kernel.len();
        let mut computed = vec![None; axes];
        let mut outs = vec![None; axes];
        let mut collapsed = false;
        for (axis, (&k, &s)) in kernel.iter().zip(stride).enumerate() {
            if let Some(n) = d[axis] {
                match out_dim(n, k, s, padding, axis) {
                    Ok(o) => outs[axis] = Some(o),
                    Err(c) => {
                        collapsed = true;
                        computed[axis] = Some(c);
                    }
                }
            }
        }
        if collapsed {
            self.events.push(Event::Collapse {
                layer: spec.index,
                input: d.clone(),
                kernel: kernel.to_vec(),
                stride: stride.to_vec(),
                padding: padding_name(padding),
                computed,
            });
            self.broken = true;
        } else if let Some(sizes) = d[..axes].iter().copied().collect::<Option<Vec<usize>>>() {
            if kernel.iter().zip(&sizes).any(|(k, n)| k > n) {
                self.events.push(Event::KernelLarger {
                    layer: spec.index,
                    kernel: kernel.to_vec(),
                    input_hw: sizes,
                });
            }
        }
        outs
    }

    /// One layer's contribution, by its kind; each kind's method records its facts and events.
    fn step(
        &mut self,
        spec: &LayerSpec,
        input: &Option<Dims>,
        notes: &mut Vec<String>,
    ) -> Result<Step, AnalysisError> {
        let l = Layer {
            spec,
            input,
            notes,
            calc: Calc { layer: spec.index },
        };
        match spec.op {
            Op::Input | Op::Activation => Ok(Step::passthrough(input)),
            Op::Dropout { rate } => Ok(self.dropout(l, rate)),
            Op::Conv {
                filters,
                kernel,
                stride,
                padding,
                bias,
                in_channels,
            } => self.conv(l, filters, kernel, stride, padding, bias, in_channels),
            Op::Conv1d {
                filters,
                kernel,
                stride,
                padding,
                bias,
                in_channels,
            } => self.conv1d(l, filters, kernel, stride, padding, bias, in_channels),
            Op::Pool {
                size,
                stride,
                padding,
            } => Ok(self.pool(l, size, stride, padding)),
            Op::GlobalPool => Ok(self.global_pool(l)),
            Op::Flatten => self.flatten(l),
            Op::Dense {
                units,
                bias,
                in_features,
            } => self.dense(l, units, bias, in_features),
            Op::Norm => self.norm(l),
            Op::Embedding { vocab, dim } => self.embedding(l, vocab, dim),
            Op::Rnn {
                hidden,
                return_sequences,
                bidirectional,
                input_size,
            } => self.rnn(l, hidden, return_sequences, bidirectional, input_size),
            Op::Attention { heads, embed_dim } => self.attention(l, heads, embed_dim),
            Op::Transformer {
                heads,
                ff_dim,
                d_model,
            } => self.transformer(l, heads, ff_dim, d_model),
            Op::Residual { from, shortcut } => self.residual(l, from, shortcut),
        }
    }

    /// Dropout: shape unchanged; its rate is a fact for the regularization rules.
    fn dropout(&mut self, l: Layer, rate: f64) -> Step {
        self.facts.dropouts.push((l.spec.index, rate));
        Step::passthrough(l.input)
    }

    /// conv2d on `[H, W, C]`: params = (k_h·k_w·C_in + bias)·filters;
    /// MACs = k_h·k_w·C_in·filters·H_out·W_out.
    #[allow(clippy::too_many_arguments)] // The conv's own parameters, as `step` matched them.
    fn conv(
        &mut self,
        l: Layer,
        filters: usize,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
        bias: bool,
        in_channels: Option<usize>,
    ) -> Result<Step, AnalysisError> {
        let (spec, calc) = (l.spec, &l.calc);
        let d = self.expect_rank(spec, l.input, 3, "[H, W, C]");
        let c_in = self.declared(spec, "in_channels", d[2], in_channels, l.notes);
        let hw = self.window(
            spec,
            &d,
            &[kernel.0, kernel.1],
            &[stride.0, stride.1],
            padding,
        );
        let (ho, wo) = (hw[0], hw[1]);
        if padding == Padding::Same && (stride.0 > 1 || stride.1 > 1) {
            l.notes.push(
                "padding \"same\" with stride > 1: out = ceil(n / stride) (TensorFlow rule)".into(),
            );
        }
        let per_filter = calc.add(&[
            calc.mul(&[Some(kernel.0), Some(kernel.1), c_in])?,
            Some(u128::from(bias)),
        ])?;
        let params = calc.scale(filters as u128, per_filter)?;
        let macs = calc.mul(&[Some(kernel.0), Some(kernel.1), c_in, Some(filters), ho, wo])?;
        self.facts.conv_layers.push(spec.index);
        self.facts.conv_channels_total += filters as u64;
        if stride.0 > 1 || stride.1 > 1 {
            self.facts.strided_convs += 1;
        }
        // torchinfo counts a conv's weight and bias once per output position.
        let mult_adds = match (params, calc.mul(&[ho, wo])?) {
            (Some(p), Some(hw)) => Some(p.checked_mul(hw).ok_or_else(|| calc.overflow())?),
            _ => None,
        };
        Ok(Step {
            out: Some(vec![ho, wo, Some(filters)]),
            params,
            macs,
            mult_adds,
            buffers: 0,
        })
    }

    /// conv1d on `[seq, C]`: conv2d's window rule along the sequence;
    /// params = (k·C_in + bias)·filters; MACs = k·C_in·filters·seq_out.
    #[allow(clippy::too_many_arguments)] // The conv's own parameters, as `step` matched them.
    fn conv1d(
        &mut self,
        l: Layer,
        filters: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        bias: bool,
        in_channels: Option<usize>,
    ) -> Result<Step, AnalysisError> {
        let (spec, calc) = (l.spec, &l.calc);
        let d = self.expect_rank(spec, l.input, 2, "[seq, channels]");
        let c_in = self.declared(spec, "in_channels", d[1], in_channels, l.notes);
        let seq_out = self.window(spec, &d, &[kernel], &[stride], padding)[0];
        if padding == Padding::Same && stride > 1 {
            l.notes.push(
                "padding \"same\" with stride > 1: out = ceil(n / stride) (TensorFlow rule)".into(),
            );
        }
        let per_filter = calc.add(&[calc.mul(&[Some(kernel), c_in])?, Some(u128::from(bias))])?;
        let params = calc.scale(filters as u128, per_filter)?;
        let macs = calc.mul(&[Some(kernel), c_in, Some(filters), seq_out])?;
        // The conv facts: batch norm after it costs 2·filters, a stride downsamples.
        self.facts.conv_layers.push(spec.index);
        self.facts.conv_channels_total += filters as u64;
        if stride > 1 {
            self.facts.strided_convs += 1;
        }
        self.facts.sequence_width = Some(filters);
        // torchinfo counts a conv's weight and bias once per output position.
        let mult_adds = match (params, seq_out) {
            (Some(p), Some(n)) => Some(p.checked_mul(n as u128).ok_or_else(|| calc.overflow())?),
            _ => None,
        };
        Ok(Step {
            out: Some(vec![seq_out, Some(filters)]),
            params,
            macs,
            mult_adds,
            buffers: 0,
        })
    }

    /// Max/avg pool: the conv's output rule over the window; no params or MACs.
    fn pool(
        &mut self,
        l: Layer,
        size: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Step {
        let d = self.expect_rank(l.spec, l.input, 3, "[H, W, C]");
        let hw = self.window(
            l.spec,
            &d,
            &[size.0, size.1],
            &[stride.0, stride.1],
            padding,
        );
        let (ho, wo) = (hw[0], hw[1]);
        self.facts.pooling_layers += 1;
        Step {
            out: Some(vec![ho, wo, d[2]]),
            params: Some(0),
            macs: Some(0),
            mult_adds: Some(0),
            buffers: 0,
        }
    }

    /// Global pool: H×W×C → C and seq×d → d; a flat input is incompatible.
    fn global_pool(&mut self, l: Layer) -> Step {
        self.facts.global_pools += 1;
        let out = match l.input {
            None => vec![None],
            Some(d) if d.len() >= 2 => vec![*d.last().unwrap_or(&None)],
            Some(d) => {
                self.events.push(Event::Incompatible {
                    layer: l.spec.index,
                    kind: l.spec.kind,
                    input: d.clone(),
                    expected: "[H, W, C] or [seq, d]",
                });
                self.broken = true;
                vec![None]
            }
        };
        Step {
            out: Some(out),
            params: Some(0),
            macs: Some(0),
            mult_adds: Some(0),
            buffers: 0,
        }
    }

    /// Flatten: the product of the dimensions; a flattened `[H, W, C]` map waits for the
    /// dense layer it feeds (the large-flatten-dense rule).
    fn flatten(&mut self, l: Layer) -> Result<Step, AnalysisError> {
        let calc = &l.calc;
        let out = match l.input {
            None => vec![None],
            Some(d) => {
                if let [Some(h), Some(w), Some(c)] = d[..] {
                    self.pending_flatten = Some((Some(l.spec.index), h, w, c));
                }
                if d.len() == 1 {
                    l.notes.push("input already flat".into());
                }
                vec![calc.dim(calc.mul(d)?)?]
            }
        };
        Ok(Step {
            out: Some(out),
            params: Some(0),
            macs: Some(0),
            mult_adds: Some(0),
            buffers: 0,
        })
    }

    /// Dense (or output): an implicit flatten of a spatial input, the last axis of
    /// `[seq, d]`; params = in·units + units, MACs = in·units (× seq). An output layer
    /// without units defaults to the class count.
    fn dense(
        &mut self,
        l: Layer,
        units: Option<usize>,
        bias: bool,
        in_features: Option<usize>,
    ) -> Result<Step, AnalysisError> {
        let (spec, calc, notes) = (l.spec, &l.calc, l.notes);
        let i = spec.index;
        let units =
            match units {
                Some(u) => u,
                None => match self.ctx.num_classes {
                    Some(k) => {
                        notes.push(format!("units not given: {k} (the number of classes)"));
                        k
                    }
                    None => return Err(AnalysisError::invalid(
                        format!("architecture.layers[{i}].units"),
                        "required positive integer is missing (also accepted as out_features); \
                         the number of classes is unknown, so it cannot default",
                    )),
                },
            };
        let (in_f, seq, out) = match l.input {
            None => {
                notes.push("input unknown; treated as flat features".into());
                (None, Some(1), vec![Some(units)])
            }
            Some(d) if d.len() == 1 => (d[0], Some(1), vec![Some(units)]),
            Some(d) if d.len() == 2 => (d[1], d[0], vec![d[0], Some(units)]),
            Some(d) => {
                // A spatial map: flattened first (Keras Flatten / torch.flatten).
                let flat = calc.dim(calc.mul(d)?)?;
                notes.push(format!(
                    "implicit flatten {} → {}",
                    show(d),
                    flat.map_or("?".into(), |f| f.to_string())
                ));
                self.facts.implicit_flattens.push(i);
                if let [Some(h), Some(w), Some(c)] = d[..] {
                    self.pending_flatten = Some((None, h, w, c));
                }
                (flat, Some(1), vec![Some(units)])
            }
        };
        let in_f = self.declared(spec, "in_features", in_f, in_features, notes);
        let b = bias as u128;
        let params = calc.add(&[calc.mul(&[in_f, Some(units)])?, Some(b * units as u128)])?;
        let macs = calc.mul(&[in_f, Some(units), seq])?;
        let is_output = spec.kind == LayerKind::Output || self.output_layer == Some(i);
        self.facts
            .dense_layers
            .push((i, units, spec.activation.is_some(), is_output));
        if is_output {
            self.facts.output_units = Some(units);
        } else {
            self.facts.hidden_dense_units_total += units as u64;
        }
        if let Some((flatten_layer, h, w, c)) = self.pending_flatten.take() {
            if self.facts.flatten_dense.is_none() {
                if let Some(p) = calc.to_u64(params)? {
                    self.facts.flatten_dense = Some(FlattenDense {
                        flatten_layer,
                        dense_layer: i,
                        hwc: (h, w, c),
                        units,
                        params: p,
                    });
                }
            }
        }
        // torchinfo: a linear layer's own weight and bias, once (no sequence factor).
        Ok(Step {
            out: Some(out),
            params,
            macs,
            mult_adds: params,
            buffers: 0,
        })
    }

    /// Batch/layer norm over the last axis: 2·C parameters (γ, β); batch norm adds 2·C
    /// running-statistic buffers.
    fn norm(&mut self, l: Layer) -> Result<Step, AnalysisError> {
        let calc = &l.calc;
        self.facts.norm_layers += 1;
        let c = l.input.as_ref().and_then(|d| *d.last().unwrap_or(&None));
        let params = calc.mul(&[Some(2), c])?;
        let buffers = if l.spec.kind == LayerKind::BatchNorm {
            if let Some(c) = c {
                l.notes.push(format!(
                    "running mean/var: {} buffers, not parameters",
                    2 * c
                ));
            }
            calc.mul(&[Some(2), c])?.unwrap_or(0)
        } else {
            0
        };
        // torchinfo counts the scale and shift (2·C), once.
        Ok(Step {
            out: l.input.clone(),
            params,
            macs: Some(0),
            mult_adds: params,
            buffers,
        })
    }

    /// Embedding: `[seq]` token ids → `[seq, dim]`; vocab·dim parameters, a lookup (0 MACs).
    fn embedding(&mut self, l: Layer, vocab: usize, dim: usize) -> Result<Step, AnalysisError> {
        self.facts.embedding_layers += 1;
        self.facts.sequence_width = Some(dim);
        let d = self.expect_rank(l.spec, l.input, 1, "[seq] (token ids)");
        let params = l.calc.mul(&[Some(vocab), Some(dim)])?;
        // torchinfo counts the whole table as mult-adds (its weight, once).
        Ok(Step {
            out: Some(vec![d[0], Some(dim)]),
            params,
            macs: Some(0),
            mult_adds: params,
            buffers: 0,
        })
    }

    /// LSTM/GRU (PyTorch: two bias vectors): gates·(in·h + h·h + 2h) parameters, gates 4 / 3;
    /// MACs = seq·gates·(in·h + h·h); ×2 when bidirectional. A flat input is read as a
    /// univariate sequence.
    fn rnn(
        &mut self,
        l: Layer,
        hidden: usize,
        return_sequences: bool,
        bidirectional: bool,
        input_size: Option<usize>,
    ) -> Result<Step, AnalysisError> {
        let (spec, calc, notes) = (l.spec, &l.calc, l.notes);
        self.facts.recurrent_layers += 1;
        let d = match l.input {
            Some(d) if d.len() == 1 => {
                notes.push(format!(
                    "input {} read as a univariate sequence [{}, 1]",
                    show(d),
                    d[0].map_or("?".into(), |v| v.to_string())
                ));
                vec![d[0], Some(1)]
            }
            other => self.expect_rank(spec, other, 2, "[seq, features]"),
        };
        let in_f = self.declared(spec, "input_size", d[1], input_size, notes);
        let gates: usize = if spec.kind == LayerKind::Lstm { 4 } else { 3 };
        let dirs: usize = if bidirectional { 2 } else { 1 };
        let h = Some(hidden);
        let per_dir = calc.add(&[
            calc.mul(&[in_f, h])?,
            calc.mul(&[h, h])?,
            calc.mul(&[Some(2), h])?,
        ])?;
        let params = calc.scale((gates * dirs) as u128, per_dir)?;
        let per_step = calc.add(&[calc.mul(&[in_f, h])?, calc.mul(&[h, h])?])?;
        let macs = calc.scale((gates * dirs) as u128, per_step)?;
        let macs = match (macs, d[0]) {
            (Some(m), Some(seq)) => {
                Some(m.checked_mul(seq as u128).ok_or_else(|| calc.overflow())?)
            }
            _ => None,
        };
        let width = Some(hidden * dirs);
        self.facts.sequence_width = width;
        // torchinfo: every parameter of an RNN once per time step (both biases).
        let mult_adds = match (params, d[0]) {
            (Some(p), Some(seq)) => {
                Some(p.checked_mul(seq as u128).ok_or_else(|| calc.overflow())?)
            }
            _ => None,
        };
        Ok(Step {
            out: Some(if return_sequences {
                vec![d[0], width]
            } else {
                vec![width]
            }),
            params,
            macs,
            mult_adds,
            buffers: 0,
        })
    }

    /// Multi-head attention on `[seq, d]`: 4·(d² + d) parameters (Q, K, V, O);
    /// MACs = 4·seq·d² + 2·seq²·d.
    fn attention(
        &mut self,
        l: Layer,
        heads: Option<usize>,
        embed_dim: Option<usize>,
    ) -> Result<Step, AnalysisError> {
        let spec = l.spec;
        self.facts.attention_layers += 1;
        let d = self.expect_rank(spec, l.input, 2, "[seq, d]");
        let width = self.declared(spec, "embed_dim", d[1], embed_dim, l.notes);
        self.check_heads(spec, width, heads);
        self.facts.sequence_width = width.or(self.facts.sequence_width);
        let (params, macs) = attention_counts(&l.calc, d[0], width)?;
        // torchinfo leaves nn.MultiheadAttention out of its total: the module has a
        // child (out_proj), and only leaf modules are summed.
        Ok(Step {
            out: Some(vec![d[0], width]),
            params,
            macs,
            mult_adds: Some(0),
            buffers: 0,
        })
    }

    /// Transformer block: attention + 2 layernorms (4d) + FFN (d·ff + ff + ff·d + d), ff
    /// defaulting to 4d; MACs add 2·seq·d·ff.
    fn transformer(
        &mut self,
        l: Layer,
        heads: Option<usize>,
        ff_dim: Option<usize>,
        d_model: Option<usize>,
    ) -> Result<Step, AnalysisError> {
        let (spec, calc, notes) = (l.spec, &l.calc, l.notes);
        self.facts.attention_layers += 1;
        // A transformer block contains two residual adds and two layer norms.
        self.facts.residual_layers += 1;
        self.facts.norm_layers += 1;
        let d = self.expect_rank(spec, l.input, 2, "[seq, d]");
        let width = self.declared(spec, "d_model", d[1], d_model, notes);
        self.check_heads(spec, width, heads);
        self.facts.sequence_width = width.or(self.facts.sequence_width);
        let ff = match (ff_dim, width) {
            (Some(f), _) => Some(f),
            (None, Some(w)) => {
                notes.push(format!("ff_dim not given: 4·d = {}", 4 * w));
                Some(4 * w)
            }
            (None, None) => None,
        };
        let (attn_params, attn_macs) = attention_counts(calc, d[0], width)?;
        let norms = calc.mul(&[Some(4), width])?;
        let ffn = calc.add(&[
            calc.mul(&[width, ff])?,
            ff.map(|f| f as u128),
            calc.mul(&[ff, width])?,
            width.map(|w| w as u128),
        ])?;
        let params = calc.add(&[attn_params, norms, ffn])?;
        let macs = calc.add(&[attn_macs, calc.mul(&[Some(2), d[0], width, ff])?])?;
        // torchinfo: the two linear layers and two norms, once each; attention 0.
        let mult_adds = calc.add(&[norms, ffn])?;
        Ok(Step {
            out: Some(vec![d[0], width]),
            params,
            macs,
            mult_adds,
            buffers: 0,
        })
    }

    /// Residual add: the added tensor (by default the input of the last weight layer) must
    /// have the current shape, or be brought to it by the shortcut: `pad` (option A, no
    /// parameters) takes every s-th row and column and zero-pads the channels; `projection`
    /// (torchvision's downsample) is a 1×1 convolution of stride s, C_in·C_out parameters
    /// and no bias, then a batch norm (2·C_out, plus 2·C_out buffers); MACs C_in·C_out·H·W.
    /// s is the stride that maps the added map's height onto the current one.
    fn residual(
        &mut self,
        l: Layer,
        from: ResidualFrom,
        shortcut: Shortcut,
    ) -> Result<Step, AnalysisError> {
        let (notes, calc) = (l.notes, &l.calc);
        self.facts.residual_layers += 1;
        let (added, from_name) = match from {
            ResidualFrom::Input => (self.model_input.clone(), "the model input".to_string()),
            ResidualFrom::Layer(j) => (self.outs[j].clone(), format!("layer {j}")),
            ResidualFrom::Default => match self.last_weight_layer {
                None | Some(0) => (
                    self.model_input.clone(),
                    "the model input (default: input of the last weight layer)".to_string(),
                ),
                Some(w) => (
                    self.outs[w - 1].clone(),
                    format!("layer {} (default: input of weight layer {w})", w - 1),
                ),
            },
        };
        notes.push(format!("adds the output of {from_name}"));
        let mut step = Step::passthrough(l.input);
        if shortcut != Shortcut::Identity {
            // Spatial maps only: [H, W, C] onto [H', W', C'] with one stride.
            let fits = match (
                added.as_ref().and_then(known),
                l.input.as_ref().and_then(known),
            ) {
                (Some(a), Some(c)) if a.len() == 3 && c.len() == 3 => {
                    let s = (a[0] / c[0].max(1)).max(1);
                    let sub = |n: usize| (n - 1) / s + 1;
                    let ok = sub(a[0]) == c[0]
                        && sub(a[1]) == c[1]
                        && (shortcut == Shortcut::Projection || a[2] <= c[2]);
                    ok.then_some((s, a[2], c))
                }
                _ => None,
            };
            match fits {
                Some((s, c_in, c)) => {
                    notes.push(format!("shortcut {shortcut:?}, stride {s}").to_lowercase());
                    if shortcut == Shortcut::Projection {
                        let c_out = c[2];
                        let conv = calc.mul(&[Some(c_in), Some(c_out)])?;
                        step.params = calc.add(&[conv, calc.mul(&[Some(2), Some(c_out)])?])?;
                        step.macs = calc.mul(&[Some(c_in), Some(c_out), Some(c[0]), Some(c[1])])?;
                        step.mult_adds =
                            calc.mul(&[Some(c_in), Some(c_out), Some(c[0]), Some(c[1])])?;
                        step.buffers = 2 * c_out as u128;
                        self.facts.norm_layers += 1;
                    }
                }
                None => self.events.push(Event::ResidualMismatch {
                    layer: l.spec.index,
                    from: format!("{from_name} through a {shortcut:?} shortcut").to_lowercase(),
                    added: added.clone().unwrap_or_default(),
                    current: l.input.clone().unwrap_or_default(),
                }),
            }
            return Ok(step);
        }
        match (&added, l.input) {
            (Some(a), Some(c)) => {
                let differs = a.len() != c.len()
                    || a.iter()
                        .zip(c)
                        .any(|(x, y)| matches!((x, y), (Some(x), Some(y)) if x != y));
                if differs {
                    self.events.push(Event::ResidualMismatch {
                        layer: l.spec.index,
                        from: from_name,
                        added: a.clone(),
                        current: c.clone(),
                    });
                } else if known(a).is_none() || known(c).is_none() {
                    notes.push("shapes only partly known; match not fully checked".into());
                }
            }
            _ => notes.push("shapes unknown; match not checked".into()),
        }
        Ok(step)
    }

    fn check_heads(&mut self, spec: &LayerSpec, width: Option<usize>, heads: Option<usize>) {
        if let (Some(d), Some(h)) = (width, heads) {
            if d % h != 0 {
                self.events.push(Event::HeadsIndivisible {
                    layer: spec.index,
                    d,
                    heads: h,
                });
            }
        }
    }
}

/// Q, K, V and output projections (d×d + bias each) and the score/value products.
fn attention_counts(
    calc: &Calc,
    seq: Option<usize>,
    d: Option<usize>,
) -> Result<(Option<u128>, Option<u128>), AnalysisError> {
    let params = calc.scale(4, calc.add(&[calc.mul(&[d, d])?, d.map(|d| d as u128)])?)?;
    let macs = calc.add(&[
        calc.mul(&[Some(4), seq, d, d])?,
        calc.mul(&[Some(2), seq, seq, d])?,
    ])?;
    Ok((params, macs))
}

/// Walks the layers once (linear time), producing rows, totals, events and facts.
pub(crate) fn propagate(
    arch: &Architecture,
    ctx: &Context,
    assumptions: &mut Vec<String>,
) -> Result<Propagation, AnalysisError> {
    let model_input: Option<Dims> = ctx
        .input_shape
        .as_ref()
        .map(|s| s.iter().map(|&d| Some(d)).collect());
    let n = arch.layers.len();
    let mut walk = Walk {
        ctx,
        model_input: model_input.clone(),
        output_layer: arch.output.as_ref().map(|o| o.layer),
        outs: Vec::with_capacity(n),
        last_weight_layer: None,
        pending_flatten: None,
        broken: false,
        events: Vec::new(),
        facts: Facts::default(),
    };
    let mut rows = Vec::with_capacity(n);
    let mut layer_params = Vec::with_capacity(n);
    let mut total_params: Option<u128> = Some(0);
    let mut known_params: u128 = 0;
    let mut total_macs: Option<u128> = Some(0);
    let mut total_mult_adds: Option<u128> = Some(0);
    let mut buffers: u128 = 0;
    let mut unknown_layers = Vec::new();
    let mut current = model_input;

    for spec in &arch.layers {
        let i = spec.index;
        let mut notes = spec.notes.clone();
        let mut step = walk.step(spec, &current, &mut notes)?;
        if let Some(rate) = spec.inline_dropout {
            walk.facts.dropouts.push((i, rate));
        }
        if spec.kind.is_weight_layer() {
            walk.facts.weight_layers += 1;
            walk.last_weight_layer = Some(i);
            if spec.kind != LayerKind::Dense && spec.kind != LayerKind::Output {
                // Only a dense layer may consume a pending flatten.
                walk.pending_flatten = None;
            }
        }
        let calc = Calc { layer: i };
        let params = calc.to_u64(step.params)?;
        let macs = calc.to_u64(step.macs)?;
        match step.params {
            Some(p) => {
                known_params = known_params.checked_add(p).ok_or_else(|| calc.overflow())?;
                total_params = total_params.map(|t| t + p);
            }
            None => {
                unknown_layers.push(i);
                total_params = None;
            }
        }
        total_macs = match (total_macs, step.macs) {
            (Some(t), Some(m)) => Some(t.checked_add(m).ok_or_else(|| calc.overflow())?),
            _ => None,
        };
        let mult_adds = calc.to_u64(step.mult_adds)?;
        total_mult_adds = match (total_mult_adds, step.mult_adds) {
            (Some(t), Some(m)) => Some(t.checked_add(m).ok_or_else(|| calc.overflow())?),
            _ => None,
        };
        buffers = buffers
            .checked_add(step.buffers)
            .ok_or_else(|| calc.overflow())?;

        let out = step.out.take();
        let (output_shape, output_shape_partial) = match &out {
            Some(d) if !walk.broken => match known(d) {
                Some(k) => (Some(k), None),
                None if d.iter().any(Option::is_some) => (None, Some(d.clone())),
                None => (None, None),
            },
            _ => (None, None),
        };
        rows.push(LayerRow {
            index: i,
            type_written: spec.type_written.clone(),
            kind: spec.kind,
            output_shape,
            output_shape_partial,
            params,
            macs,
            torchinfo_mult_adds: mult_adds,
            activation: spec.activation.clone(),
            notes,
        });
        layer_params.push(params);
        walk.outs.push(out.clone());
        current = out;
    }

    if let Some(first) = walk.facts.implicit_flattens.first() {
        assumptions.push(format!(
            "layer {first}: a dense layer after a spatial layer flattens its input first \
             (implicit flatten, as Keras Flatten / torch.flatten)"
        ));
    }
    if walk.facts.recurrent_layers > 0 {
        assumptions.push(
            "LSTM/GRU parameters follow PyTorch (two bias vectors per gate); Keras uses one, \
             so it reports gates·h fewer per layer"
                .into(),
        );
    }
    if buffers > 0 {
        assumptions.push(
            "batch-norm running mean/variance are buffers, not parameters (torchinfo); they \
             are in totals.non_trainable_buffers"
                .into(),
        );
    }
    if !unknown_layers.is_empty() {
        assumptions.push(format!(
            "{} layer(s) have unknown parameter counts (they depend on an unknown dimension); \
             totals.params is unknown and totals.known_params sums the rest",
            unknown_layers.len()
        ));
    }

    let last = Calc {
        layer: n.saturating_sub(1),
    };
    let params = last.to_u64(total_params)?;
    let totals = Totals {
        params,
        trainable_params: params,
        non_trainable_buffers: last.to_u64(Some(buffers))?.unwrap_or(0),
        known_params: last.to_u64(Some(known_params))?.unwrap_or(0),
        layers_with_unknown_params: unknown_layers,
        macs: last.to_u64(total_macs)?,
        torchinfo_mult_adds: last.to_u64(total_mult_adds)?,
        model_size_mb_fp32: params.map(|p| p as f64 * 4.0 / 1e6),
        weight_layers: walk.facts.weight_layers,
    };
    if arch.layers.is_empty() {
        // No layers: nothing to count, and totals of zero would be misleading.
        return Ok(Propagation {
            rows,
            totals: Totals {
                params: None,
                trainable_params: None,
                macs: None,
                torchinfo_mult_adds: None,
                model_size_mb_fp32: None,
                ..totals
            },
            events: walk.events,
            facts: walk.facts,
            layer_params,
        });
    }
    Ok(Propagation {
        rows,
        totals,
        events: walk.events,
        facts: walk.facts,
        layer_params,
    })
}
