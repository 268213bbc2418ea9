//! Findings and strengths from the computed facts.
//!
//! Each rule records whether it applied (its precondition holds, e.g. "≥ 3 weight layers")
//! and whether it triggered; the design-hygiene score component is computed from those
//! outcomes (see `score`). Thresholds are rules of thumb and are stated in each finding's
//! evidence.

use serde_json::{json, Value};

use super::input::{Context, Task};
use super::layers::{Architecture, LayerKind};
use super::performance::{PerformanceAnalysis, Risk};
use super::shapes::{Event, Propagation};
use super::{Finding, Severity};

/// Weight layers from which missing normalization is flagged.
pub(crate) const NORMALIZATION_MIN_WEIGHT_LAYERS: usize = 3;
/// Parameters per training sample above which an unregularized model is flagged.
pub(crate) const PARAMS_PER_SAMPLE_LIMIT: u64 = 10;
/// Parameter count above which an unregularized model is flagged when the sample count is
/// unknown.
pub(crate) const UNREGULARIZED_PARAMS_LIMIT: u64 = 1_000_000;
/// Weight layers above which a plain stack without residuals is flagged.
pub(crate) const PLAIN_STACK_MAX_WEIGHT_LAYERS: usize = 8;
/// Share of all parameters in one layer above which it is flagged.
pub(crate) const CONCENTRATION_SHARE: f64 = 0.5;
/// Share above which the concentration finding is medium rather than low.
pub(crate) const CONCENTRATION_SHARE_MEDIUM: f64 = 0.8;
/// A dense layer after a flatten is "large" from this many parameters (with ≥ 4 positions).
pub(crate) const LARGE_FLATTEN_DENSE_PARAMS: u64 = 100_000;
/// Conv layers from which a net without any downsampling is flagged.
pub(crate) const DOWNSAMPLING_MIN_CONV_LAYERS: usize = 3;
/// Dropout rates outside (0, MAX] are flagged.
pub(crate) const DROPOUT_MAX_RATE: f64 = 0.8;

/// How one rule came out.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub id: &'static str,
    /// The severity the rule carries when it triggers at its usual level.
    pub nominal: Severity,
    pub applicable: bool,
    pub triggered: Option<Severity>,
    /// Counts toward design hygiene (architecture and training setup) rather than toward
    /// the performance components, which score the metrics themselves.
    pub hygiene: bool,
}

pub(crate) struct Evaluation {
    pub findings: Vec<Finding>,
    pub strengths: Vec<Finding>,
    pub outcomes: Vec<Outcome>,
    /// Dropout (rate > 0) or a weight penalty is stated.
    pub regularized: bool,
}

struct Rules {
    findings: Vec<Finding>,
    outcomes: Vec<Outcome>,
}

impl Rules {
    fn record(
        &mut self,
        id: &'static str,
        nominal: Severity,
        hygiene: bool,
        applicable: bool,
        finding: Option<(Severity, String, String, Value)>,
    ) {
        let finding = finding.filter(|_| applicable);
        self.outcomes.push(Outcome {
            id,
            nominal,
            applicable,
            triggered: finding.as_ref().map(|f| f.0),
            hygiene,
        });
        if let Some((severity, title, detail, evidence)) = finding {
            self.findings.push(Finding {
                id: id.to_string(),
                severity,
                title,
                detail,
                evidence,
            });
        }
    }
}

fn strength(id: &str, title: String, detail: String, evidence: Value) -> Finding {
    Finding {
        id: id.to_string(),
        severity: Severity::Info,
        title,
        detail,
        evidence,
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn is_linear(act: Option<&str>) -> bool {
    matches!(act, None | Some("linear" | "none" | "identity"))
}

pub(crate) fn evaluate(
    ctx: &Context,
    arch: &Architecture,
    prop: &Propagation,
    perf: &PerformanceAnalysis,
) -> Evaluation {
    let f = &prop.facts;
    let t = &prop.totals;
    let has_layers = !arch.layers.is_empty();
    let mut rules = Rules {
        findings: Vec::new(),
        outcomes: Vec::new(),
    };
    let output = arch.output.as_ref();
    let output_units = f.output_units;
    let output_act = output.and_then(|o| o.activation.as_deref());

    // Normalization in a deep-enough net.
    rules.record(
        "no_normalization",
        Severity::Medium,
        true,
        f.weight_layers >= NORMALIZATION_MIN_WEIGHT_LAYERS,
        (f.norm_layers == 0).then(|| {
            (
                Severity::Medium,
                format!(
                    "No normalization in a {}-weight-layer network",
                    f.weight_layers
                ),
                format!(
                    "{} weight layers and no batch or layer normalization; without it deeper \
                     nets train more slowly and are more sensitive to learning rate and \
                     initialization.",
                    f.weight_layers
                ),
                json!({"weight_layers": f.weight_layers, "normalization_layers": 0,
                       "threshold_weight_layers": NORMALIZATION_MIN_WEIGHT_LAYERS}),
            )
        }),
    );

    // Regularization for the parameter count.
    let dropout_used = f.dropouts.iter().any(|&(_, r)| r > 0.0);
    let weight_decay = arch
        .weight_decay_at
        .clone()
        .or_else(|| ctx.weight_decay_in_metrics.clone());
    let regularized = dropout_used || weight_decay.is_some();
    let params_lower_bound = t.known_params;
    let (limit, limit_basis) = match ctx.samples {
        Some(n) => (
            n.saturating_mul(PARAMS_PER_SAMPLE_LIMIT),
            format!(
                "{PARAMS_PER_SAMPLE_LIMIT} × {n} training samples ({})",
                ctx.samples_source
            ),
        ),
        None => (
            UNREGULARIZED_PARAMS_LIMIT,
            format!("{UNREGULARIZED_PARAMS_LIMIT} parameters (sample count unknown)"),
        ),
    };
    rules.record(
        "no_regularization",
        Severity::Medium,
        true,
        has_layers && (t.params.is_some() || params_lower_bound > limit),
        (!regularized && params_lower_bound > limit).then(|| {
            let ratio = ctx.samples.map(|n| params_lower_bound as f64 / n as f64);
            (
                Severity::Medium,
                "No regularization for the parameter count".to_string(),
                format!(
                    "{params_lower_bound} parameters{} and no dropout or weight decay stated; \
                     the limit is {limit_basis}.",
                    ratio.map_or(String::new(), |r| format!(" ({r:.1} per training sample)"))
                ),
                json!({"params": params_lower_bound, "training_samples": ctx.samples,
                       "params_per_sample": ratio, "limit": limit, "limit_basis": limit_basis,
                       "dropout_layers": 0, "weight_decay": Value::Null}),
            )
        }),
    );

    // Deep plain stack.
    rules.record(
        "deep_plain_stack",
        Severity::Medium,
        true,
        f.weight_layers > PLAIN_STACK_MAX_WEIGHT_LAYERS,
        (f.residual_layers == 0).then(|| {
            (
                Severity::Medium,
                format!(
                    "{} weight layers without residual connections",
                    f.weight_layers
                ),
                format!(
                    "A plain stack deeper than {PLAIN_STACK_MAX_WEIGHT_LAYERS} weight layers \
                     tends to degrade: He et al. 2015 found a plain 34-layer net trains to \
                     higher error than a plain 18-layer one."
                ),
                json!({"weight_layers": f.weight_layers, "residual_connections": 0,
                       "threshold_weight_layers": PLAIN_STACK_MAX_WEIGHT_LAYERS}),
            )
        }),
    );

    // One layer holding most parameters (embedding tables are large by design: excluded).
    let biggest = arch
        .layers
        .iter()
        .zip(&prop.layer_params)
        .filter(|(s, _)| s.kind != LayerKind::Embedding)
        .filter_map(|(s, p)| p.map(|p| (s, p)))
        .max_by_key(|&(_, p)| p);
    let total = t.params.unwrap_or(0);
    rules.record(
        "parameter_concentration",
        Severity::Medium,
        true,
        t.params.is_some() && f.weight_layers >= 2 && total > 0,
        biggest.and_then(|(s, p)| {
            let share = p as f64 / total.max(1) as f64;
            (share > CONCENTRATION_SHARE).then(|| {
                (
                    // Small CNNs often have one conv at 50–80%; beyond that it is a sink.
                    if share > CONCENTRATION_SHARE_MEDIUM {
                        Severity::Medium
                    } else {
                        Severity::Low
                    },
                    format!("Layer {} holds {} of all parameters", s.index, pct(share)),
                    format!(
                        "Layer {} ({}) has {p} of {total} parameters ({}); capacity is \
                         concentrated in one place, which is usually a flatten-into-dense \
                         bottleneck and the first place to overfit.",
                        s.index,
                        s.type_written,
                        pct(share)
                    ),
                    json!({"layer": s.index, "type": s.type_written, "params": p,
                           "total_params": total, "share": share,
                           "threshold_share": CONCENTRATION_SHARE}),
                )
            })
        }),
    );

    // Output units vs classes.
    let class_ok = |units: usize, k: usize| units == k || (k == 2 && units == 1);
    rules.record(
        "output_class_mismatch",
        Severity::High,
        true,
        ctx.num_classes.is_some() && output_units.is_some(),
        match (output_units, ctx.num_classes, output) {
            (Some(units), Some(k), Some(o)) if !class_ok(units, k) => Some((
                Severity::High,
                format!("Output has {units} units for {k} classes"),
                format!(
                    "The output layer (layer {}) has {units} units but the data has {k} classes \
                     ({}).",
                    o.layer, ctx.num_classes_source
                ),
                json!({"output_layer": o.layer, "output_units": units, "num_classes": k,
                       "num_classes_source": ctx.num_classes_source}),
            )),
            _ => None,
        },
    );

    // Softmax on one unit; sigmoid on many for single-label data.
    rules.record(
        "softmax_single_unit",
        Severity::High,
        true,
        output_units.is_some(),
        match (output_units, output_act, output) {
            (Some(1), Some("softmax"), Some(o)) => Some((
                Severity::High,
                "Softmax over a single output unit".to_string(),
                format!(
                    "Layer {}: softmax over one unit always outputs 1.0, so the model cannot \
                     learn; use sigmoid with 1 unit or softmax with 2.",
                    o.layer
                ),
                json!({"output_layer": o.layer, "output_units": 1, "activation": "softmax"}),
            )),
            _ => None,
        },
    );
    rules.record(
        "sigmoid_multi_unit",
        Severity::Medium,
        true,
        output_units.is_some() && ctx.task == Task::Classification && !ctx.multi_label,
        match (output_units, output_act, output) {
            (Some(u), Some("sigmoid"), Some(o)) if u > 1 => Some((
                Severity::Medium,
                format!("Sigmoid over {u} output units for single-label classification"),
                format!(
                    "Layer {}: independent sigmoids over {u} units do not sum to 1; for \
                     single-label classification softmax (or logits with cross-entropy) is \
                     the matching output. Ignore if the task is multi-label.",
                    o.layer
                ),
                json!({"output_layer": o.layer, "output_units": u, "activation": "sigmoid",
                       "multi_label_mentioned": false}),
            )),
            _ => None,
        },
    );
    rules.record(
        "missing_output_activation",
        Severity::Info,
        true,
        output_units.is_some() && ctx.task == Task::Classification,
        match output {
            Some(o) if is_linear(output_act) => Some((
                Severity::Info,
                "No output activation stated for a classifier".to_string(),
                format!(
                    "Layer {} outputs raw logits. That is right when the loss applies \
                     softmax itself (PyTorch CrossEntropyLoss, Keras from_logits=True); \
                     otherwise add softmax (or sigmoid for one unit).",
                    o.layer
                ),
                json!({"output_layer": o.layer, "activation": output_act}),
            )),
            _ => None,
        },
    );

    // Events from shape propagation.
    let spatial_layers = !f.conv_layers.is_empty() || f.pooling_layers > 0;
    let collapse =
        prop.events.iter().find_map(|e| match e {
            Event::Collapse {
                layer,
                input,
                kernel,
                stride,
                padding,
                computed,
            } => Some((
                Severity::High,
                format!("Spatial size collapses to ≤ 0 at layer {layer}"),
                format!(
                "Layer {layer} gets {} and a {}x{} window with stride {}x{} and padding {padding} \
                 gives out = floor((n + 2p − k) / s) + 1 ≤ 0; the model cannot run and shapes \
                 after it are unknown.",
                fmt_dims(input), kernel.0, kernel.1, stride.0, stride.1
            ),
                json!({"layer": layer, "input": input, "kernel": [kernel.0, kernel.1],
                   "stride": [stride.0, stride.1], "padding": padding,
                   "computed_output": [computed.0, computed.1]}),
            )),
            _ => None,
        });
    rules.record(
        "spatial_collapse",
        Severity::High,
        true,
        spatial_layers,
        collapse,
    );

    let larger: Vec<Value> = prop
        .events
        .iter()
        .filter_map(|e| match e {
            Event::KernelLarger {
                layer,
                kernel,
                input_hw,
            } => Some(json!({"layer": layer, "kernel": [kernel.0, kernel.1],
                             "input_hw": [input_hw.0, input_hw.1]})),
            _ => None,
        })
        .collect();
    rules.record(
        "kernel_larger_than_input",
        Severity::Medium,
        true,
        spatial_layers,
        (!larger.is_empty()).then(|| {
            (
                Severity::Medium,
                format!("Window larger than its input in {} layer(s)", larger.len()),
                "A kernel or pool window larger than the feature map it slides over mostly \
                 sees padding; the layer is wasted or the map was downsampled too early."
                    .to_string(),
                json!({"layers": larger}),
            )
        }),
    );

    let incompatible: Vec<Value> = prop
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Incompatible {
                layer,
                kind,
                input,
                expected,
            } => Some(json!({"layer": layer, "kind": kind, "input": input, "expected": expected})),
            _ => None,
        })
        .collect();
    rules.record(
        "incompatible_layer_input",
        Severity::High,
        true,
        has_layers,
        (!incompatible.is_empty()).then(|| {
            (
                Severity::High,
                format!(
                    "{} layer(s) receive a tensor of the wrong rank",
                    incompatible.len()
                ),
                "A layer gets a tensor it cannot take (e.g. a conv after a flat vector); the \
                 model cannot run as written and shapes after it are unknown."
                    .to_string(),
                json!({"layers": incompatible}),
            )
        }),
    );

    let residual_mismatch: Vec<Value> = prop
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ResidualMismatch {
                layer,
                from,
                added,
                current,
            } => Some(json!({"layer": layer, "adds": from, "added_shape": added,
                             "current_shape": current})),
            _ => None,
        })
        .collect();
    let residual_ops = arch.layers.iter().any(|s| s.kind == LayerKind::Residual);
    rules.record(
        "residual_shape_mismatch",
        Severity::High,
        true,
        residual_ops,
        (!residual_mismatch.is_empty()).then(|| {
            (
                Severity::High,
                format!(
                    "{} residual add(s) join tensors of different shapes",
                    residual_mismatch.len()
                ),
                "An elementwise add needs equal shapes; add a 1x1 conv / linear projection on \
                 the shortcut or match the widths."
                    .to_string(),
                json!({"layers": residual_mismatch}),
            )
        }),
    );

    let heads: Vec<Value> = prop
        .events
        .iter()
        .filter_map(|e| match e {
            Event::HeadsIndivisible { layer, d, heads } => {
                Some(json!({"layer": layer, "d_model": d, "heads": heads, "remainder": d % heads}))
            }
            _ => None,
        })
        .collect();
    rules.record(
        "attention_heads_indivisible",
        Severity::High,
        true,
        f.attention_layers > 0,
        (!heads.is_empty()).then(|| {
            (
                Severity::High,
                "Model width not divisible by the number of heads".to_string(),
                "Multi-head attention splits d into heads of d / heads each; PyTorch rejects \
                 a width that is not a multiple of the head count."
                    .to_string(),
                json!({"layers": heads}),
            )
        }),
    );

    let declared: Vec<Value> = prop
        .events
        .iter()
        .filter_map(|e| match e {
            Event::DeclaredMismatch {
                layer,
                param,
                declared,
                computed,
            } => Some(json!({"layer": layer, "param": param, "declared": declared,
                             "computed": computed})),
            _ => None,
        })
        .collect();
    rules.record(
        "declared_size_mismatch",
        Severity::High,
        true,
        has_layers,
        (!declared.is_empty()).then(|| {
            (
                Severity::High,
                format!(
                    "{} declared input size(s) disagree with the computed shape",
                    declared.len()
                ),
                "A layer states its input size (in_features, in_channels, …) and the shape \
                 reaching it differs; one of them is wrong. Counts use the computed shape."
                    .to_string(),
                json!({"layers": declared}),
            )
        }),
    );

    // Large dense after flatten.
    rules.record(
        "large_flatten_dense",
        Severity::Medium,
        true,
        f.flatten_dense.is_some(),
        f.flatten_dense.as_ref().and_then(|fd| {
            let (h, w, c) = fd.hwc;
            let positions = h * w;
            let gap_params = (c * fd.units + fd.units) as u64;
            (positions >= 4 && fd.params >= LARGE_FLATTEN_DENSE_PARAMS).then(|| {
                (
                    Severity::Medium,
                    format!(
                        "Flattening a {h}x{w}x{c} map into a {}-unit dense layer ({} parameters)",
                        fd.units, fd.params
                    ),
                    format!(
                        "Layer {} flattens {h}x{w}x{c} = {} features into {} units: {} \
                         parameters that also discard where features are. Global average \
                         pooling first would give {c} features and {gap_params} parameters.",
                        fd.dense_layer,
                        h * w * c,
                        fd.units,
                        fd.params
                    ),
                    json!({"flatten_layer": fd.flatten_layer, "dense_layer": fd.dense_layer,
                           "map": [h, w, c], "flattened_features": h * w * c,
                           "dense_units": fd.units, "dense_params": fd.params,
                           "params_with_global_avg_pool": gap_params,
                           "params_saved": fd.params.saturating_sub(gap_params),
                           "threshold_params": LARGE_FLATTEN_DENSE_PARAMS}),
                )
            })
        }),
    );

    // No downsampling in a deep conv net.
    let conv_macs: u64 = f
        .conv_layers
        .iter()
        .filter_map(|&i| prop.rows[i].macs)
        .sum();
    rules.record(
        "no_downsampling",
        Severity::Medium,
        true,
        f.conv_layers.len() >= DOWNSAMPLING_MIN_CONV_LAYERS,
        (f.pooling_layers == 0 && f.strided_convs == 0).then(|| {
            (
                Severity::Medium,
                format!(
                    "{} conv layers and no pooling or strided convolution",
                    f.conv_layers.len()
                ),
                format!(
                    "Every conv layer runs at full resolution: the receptive field grows \
                     slowly and compute is high ({conv_macs} conv MACs per sample)."
                ),
                json!({"conv_layers": f.conv_layers.len(), "pooling_layers": 0,
                       "strided_convs": 0, "conv_macs": conv_macs,
                       "input_shape": ctx.input_shape}),
            )
        }),
    );

    // Dropout rates.
    let bad_rates: Vec<(usize, f64)> = f
        .dropouts
        .iter()
        .copied()
        .filter(|&(_, r)| r <= 0.0 || r > DROPOUT_MAX_RATE)
        .collect();
    rules.record(
        "dropout_rate_out_of_range",
        Severity::Medium,
        true,
        !f.dropouts.is_empty(),
        (!bad_rates.is_empty()).then(|| {
            let severity = if bad_rates.iter().any(|&(_, r)| r > DROPOUT_MAX_RATE) {
                Severity::Medium
            } else {
                Severity::Low
            };
            (
                severity,
                format!("{} dropout rate(s) outside (0, {DROPOUT_MAX_RATE}]", bad_rates.len()),
                "A rate of 0 does nothing; above 0.8 most units are dropped every step and \
                 training struggles to learn (Srivastava et al. 2014 use 0.5 for hidden and \
                 0.2 for input units)."
                    .to_string(),
                json!({"layers": bad_rates.iter().map(|&(l, r)| json!({"layer": l, "rate": r})).collect::<Vec<_>>(),
                       "accepted_range": [0.0, DROPOUT_MAX_RATE]}),
            )
        }),
    );

    // Model size vs a stated limit.
    let size_limit = arch.max_model_size_mb.or(perf.metrics.max_model_size_mb);
    rules.record(
        "model_size_exceeds_limit",
        Severity::High,
        true,
        size_limit.is_some() && t.model_size_mb_fp32.is_some(),
        match (size_limit, t.model_size_mb_fp32) {
            (Some(limit), Some(size)) if size > limit => Some((
                Severity::High,
                format!("Model is {size:.2} MB (fp32), over the {limit} MB limit"),
                format!(
                    "{} parameters × 4 bytes = {size:.2} MB against a stated limit of {limit} MB; \
                     int8 quantization would make it about {:.2} MB.",
                    t.params.unwrap_or(0),
                    size / 4.0
                ),
                json!({"model_size_mb_fp32": size, "max_model_size_mb": limit,
                       "params": t.params, "int8_size_mb": size / 4.0}),
            )),
            _ => None,
        },
    );

    // Latency vs a stated budget.
    rules.record(
        "latency_exceeds_budget",
        Severity::High,
        false,
        perf.metrics.max_latency_ms.is_some() && perf.metrics.inference_latency_ms.is_some(),
        match (
            perf.metrics.inference_latency_ms,
            perf.metrics.max_latency_ms,
        ) {
            (Some(lat), Some(budget)) if lat > budget => Some((
                Severity::High,
                format!("Inference latency {lat} ms exceeds the {budget} ms budget"),
                format!(
                    "Reported latency is {:.1}× the stated budget.",
                    lat / budget.max(f64::MIN_POSITIVE)
                ),
                json!({"inference_latency_ms": lat, "max_latency_ms": budget,
                       "macs_per_sample": t.macs}),
            )),
            _ => None,
        },
    );

    // Hidden dense narrower than the class count.
    let hidden: Vec<(usize, usize)> = f
        .dense_layers
        .iter()
        .filter(|d| !d.3)
        .map(|d| (d.0, d.1))
        .collect();
    let narrow: Vec<(usize, usize)> = match ctx.num_classes {
        Some(k) => hidden.iter().copied().filter(|&(_, u)| u < k).collect(),
        None => Vec::new(),
    };
    rules.record(
        "narrow_bottleneck",
        Severity::Low,
        true,
        ctx.num_classes.is_some() && !hidden.is_empty(),
        (!narrow.is_empty()).then(|| {
            let k = ctx.num_classes.unwrap_or(0);
            (
                Severity::Low,
                format!("{} hidden dense layer(s) narrower than the {k} classes", narrow.len()),
                format!(
                    "A hidden layer with fewer units than classes caps the rank of the logits \
                     below {k}, limiting which class boundaries can be represented."
                ),
                json!({"layers": narrow.iter().map(|&(l, u)| json!({"layer": l, "units": u})).collect::<Vec<_>>(),
                       "num_classes": k}),
            )
        }),
    );

    // Consecutive dense layers with no stated activation compose into one linear map.
    let mut unstated = Vec::new();
    for pair in f.dense_layers.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.2 {
            continue;
        }
        let between_nonlinear = arch.layers[a.0 + 1..b.0].iter().any(|s| {
            !matches!(
                s.kind,
                LayerKind::Dropout
                    | LayerKind::BatchNorm
                    | LayerKind::LayerNorm
                    | LayerKind::Flatten
                    | LayerKind::Residual
            )
        });
        if !between_nonlinear {
            unstated.push(a.0);
        }
    }
    rules.record(
        "unstated_hidden_activation",
        Severity::Info,
        true,
        f.dense_layers.len() >= 2,
        (!unstated.is_empty()).then(|| {
            (
                Severity::Info,
                format!(
                    "{} dense layer(s) feed another with no stated activation",
                    unstated.len()
                ),
                "If these layers really have no nonlinearity, each composes with the next \
                 into a single linear map; descriptions often omit a ReLU, so check."
                    .to_string(),
                json!({"layers": unstated}),
            )
        }),
    );

    // Stated input shape vs the dataset.
    rules.record(
        "input_shape_dataset_mismatch",
        Severity::Medium,
        true,
        arch.input_shape.is_some() && ctx.dataset.and_then(|d| d.shape).is_some(),
        ctx.dataset_shape_conflict.as_ref().map(|(stated, ds)| {
            let structural = stated.len() != ds.len() || stated.last() != ds.last();
            let name = ctx.dataset.map(|d| d.name).unwrap_or_default();
            (
                if structural {
                    Severity::Medium
                } else {
                    Severity::Info
                },
                format!("Input shape {stated:?} differs from {name}'s {ds:?}"),
                if structural {
                    format!("The stated input has a different rank or channel count than {name} images.")
                } else {
                    format!("The stated size differs from {name}'s native size; fine if the images are resized.")
                },
                json!({"stated": stated, "dataset": name, "dataset_shape": ds}),
            )
        }),
    );

    // Augmentation for image classification.
    rules.record(
        "no_augmentation_mentioned",
        Severity::Low,
        true,
        has_layers && ctx.image_input && ctx.task == Task::Classification,
        (!ctx.augmentation_mentioned).then(|| {
            (
                Severity::Low,
                "No data augmentation mentioned for image classification".to_string(),
                "Neither the description nor the data sample mentions augmentation (flips, \
                 crops, …), the cheapest regularizer for image classifiers."
                    .to_string(),
                json!({"image_input": true, "augmentation_mentioned": false,
                       "training_samples": ctx.samples}),
            )
        }),
    );

    // Performance findings (scored by the performance components, not hygiene).
    rules.record(
        "overfitting",
        Severity::High,
        false,
        perf.risk.is_some(),
        match (perf.risk, &perf.generalization_gap) {
            (Some(r @ (Risk::High | Risk::Moderate)), Some(gap)) => Some((
                if r == Risk::High {
                    Severity::High
                } else {
                    Severity::Medium
                },
                format!(
                    "{} overfitting risk",
                    if r == Risk::High { "High" } else { "Moderate" }
                ),
                format!(
                    "Train/held-out gap: accuracy {}, loss {} ({} of a uniform guess's loss, {} relative).",
                    gap.accuracy_gap.map_or("n/a".into(), |g| format!("{g:.3}")),
                    gap.loss_gap.map_or("n/a".into(), |g| format!("{g:.3}")),
                    gap.loss_gap_normalized
                        .map_or("n/a".into(), |g| format!("{:.1}%", g * 100.0)),
                    gap.loss_gap_relative
                        .map_or("n/a".into(), |g| format!("{:.1}%", g * 100.0))
                ),
                json!({"accuracy_gap": gap.accuracy_gap, "loss_gap": gap.loss_gap,
                       "loss_gap_normalized": gap.loss_gap_normalized,
                       "loss_gap_relative": gap.loss_gap_relative, "rule": gap.rule}),
            )),
            _ => None,
        },
    );
    rules.record(
        "poor_convergence",
        Severity::High,
        false,
        perf.convergence.is_some(),
        perf.convergence.as_ref().and_then(|c| {
            let severity = if c.ratio >= 1.0 {
                Severity::High
            } else if c.ratio >= 0.8 {
                Severity::Medium
            } else if c.ratio >= 0.5 {
                Severity::Low
            } else {
                return None;
            };
            Some((
                severity,
                format!("Loss is {} of a uniform guess's", pct(c.ratio)),
                format!(
                    "{} = {} against ln({}) = {:.3} for predicting every class equally: {}.",
                    c.loss_metric, c.loss, c.classes, c.uniform_guess_loss, c.label
                ),
                json!({"loss": c.loss, "loss_metric": c.loss_metric, "classes": c.classes,
                       "uniform_guess_loss": c.uniform_guess_loss, "ratio": c.ratio}),
            ))
        }),
    );
    rules.record(
        "below_baseline_accuracy",
        Severity::Medium,
        false,
        perf.reference.is_some(),
        perf.reference.as_ref().and_then(|rc| {
            (rc.points_above_baseline < 0.0).then(|| {
                (
                    Severity::Medium,
                    format!(
                        "Accuracy {:.1} points below a simple {} baseline",
                        -rc.points_above_baseline, rc.dataset
                    ),
                    format!(
                        "{} = {} is below {} ({}, {}).",
                        rc.metric,
                        rc.accuracy,
                        rc.baseline.model,
                        rc.baseline.accuracy,
                        rc.baseline.source
                    ),
                    json!({"accuracy": rc.accuracy, "metric": rc.metric,
                           "baseline": rc.baseline.accuracy, "baseline_model": rc.baseline.model}),
                )
            })
        }),
    );
    rules.record(
        "accuracy_above_reference",
        Severity::Low,
        false,
        perf.reference.is_some(),
        perf.reference.as_ref().and_then(|rc| {
            (rc.points_below_best < -1.0).then(|| {
                (
                    Severity::Low,
                    format!(
                        "Accuracy {:.1} points above {}",
                        -rc.points_below_best, rc.best.model
                    ),
                    format!(
                        "{} = {} beats {} ({}) by more than a point; check that the evaluation \
                         split is not part of training.",
                        rc.metric, rc.accuracy, rc.best.model, rc.best.source
                    ),
                    json!({"accuracy": rc.accuracy, "metric": rc.metric,
                           "reference": rc.best.accuracy, "reference_model": rc.best.model}),
                )
            })
        }),
    );

    let mut findings = rules.findings;
    findings.sort_by_key(|f| f.severity);

    let strengths = strengths(ctx, arch, prop, perf, &rules.outcomes, weight_decay);
    Evaluation {
        findings,
        strengths,
        outcomes: rules.outcomes,
        regularized,
    }
}

fn fmt_dims(d: &[Option<usize>]) -> String {
    let parts: Vec<String> = d
        .iter()
        .map(|x| x.map_or("?".to_string(), |v| v.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Positive facts the computed structure supports.
fn strengths(
    ctx: &Context,
    arch: &Architecture,
    prop: &Propagation,
    perf: &PerformanceAnalysis,
    outcomes: &[Outcome],
    weight_decay: Option<String>,
) -> Vec<Finding> {
    let f = &prop.facts;
    let t = &prop.totals;
    let passed = |id: &str| {
        outcomes
            .iter()
            .any(|o| o.id == id && o.applicable && o.triggered.is_none())
    };
    let mut out = Vec::new();
    if f.norm_layers > 0 {
        out.push(strength(
            "normalization_present",
            format!("{} normalization layer(s)", f.norm_layers),
            "Batch/layer normalization stabilizes activations, allowing higher learning rates."
                .into(),
            json!({"normalization_layers": f.norm_layers}),
        ));
    }
    if f.residual_layers > 0 {
        out.push(strength(
            "residual_connections",
            format!("{} residual connection(s)", f.residual_layers),
            "Skip connections keep gradients flowing through depth (He et al. 2015).".into(),
            json!({"residual_connections": f.residual_layers, "weight_layers": f.weight_layers}),
        ));
    }
    let sensible_dropout = f
        .dropouts
        .iter()
        .any(|&(_, r)| r > 0.0 && r <= DROPOUT_MAX_RATE);
    if sensible_dropout || weight_decay.is_some() {
        let rates: Vec<f64> = f.dropouts.iter().map(|d| d.1).collect();
        out.push(strength(
            "regularization_present",
            "Regularization in place".into(),
            "Dropout and/or weight decay is stated, limiting overfitting.".into(),
            json!({"dropout_rates": rates, "weight_decay": weight_decay}),
        ));
    }
    if let (Some(p), Some(n)) = (t.params, ctx.samples) {
        if p <= n.saturating_mul(PARAMS_PER_SAMPLE_LIMIT) && p > 0 {
            out.push(strength(
                "capacity_fits_data",
                format!("{:.2} parameters per training sample", p as f64 / n as f64),
                format!(
                    "{p} parameters for {n} training samples is within the \
                     {PARAMS_PER_SAMPLE_LIMIT}-per-sample rule of thumb."
                ),
                json!({"params": p, "training_samples": n, "params_per_sample": p as f64 / n as f64}),
            ));
        }
    }
    if f.conv_layers.len() >= 2 && (f.pooling_layers > 0 || f.strided_convs > 0) {
        out.push(strength(
            "downsampling_present",
            "Spatial downsampling between conv layers".into(),
            "Pooling or strided convolution grows the receptive field and cuts compute.".into(),
            json!({"pooling_layers": f.pooling_layers, "strided_convs": f.strided_convs}),
        ));
    }
    if f.global_pools > 0 && f.flatten_dense.is_none() {
        out.push(strength(
            "global_pooling_head",
            "Global pooling before the classifier".into(),
            "A global pooling head keeps the classifier small (Lin et al. 2013).".into(),
            json!({"global_pool_layers": f.global_pools}),
        ));
    }
    if passed("output_class_mismatch") && passed("softmax_single_unit") && !arch.layers.is_empty() {
        out.push(strength(
            "output_matches_classes",
            "Output layer matches the class count".into(),
            format!(
                "{} output unit(s) for {} classes.",
                f.output_units.unwrap_or(0),
                ctx.num_classes.unwrap_or(0)
            ),
            json!({"output_units": f.output_units, "num_classes": ctx.num_classes}),
        ));
    }
    if perf.risk == Some(Risk::Low) {
        out.push(strength(
            "small_generalization_gap",
            "Small train/held-out gap".into(),
            "The held-out metrics track the training metrics closely.".into(),
            json!(perf.generalization_gap),
        ));
    }
    if let Some(c) = perf.convergence.as_ref().filter(|c| c.ratio < 0.5) {
        out.push(strength(
            "converged",
            "Loss well below a uniform guess".into(),
            format!(
                "{} = {} is {} of ln({}) = {:.3}.",
                c.loss_metric,
                c.loss,
                pct(c.ratio),
                c.classes,
                c.uniform_guess_loss
            ),
            json!({"loss": c.loss, "uniform_guess_loss": c.uniform_guess_loss, "ratio": c.ratio}),
        ));
    }
    if let Some(rc) = perf
        .reference
        .as_ref()
        .filter(|rc| rc.points_above_baseline >= 0.0)
    {
        out.push(strength(
            "above_baseline",
            format!("Above the {} baseline", rc.dataset),
            format!(
                "{} = {} is {:.1} points above {} ({}).",
                rc.metric,
                rc.accuracy,
                rc.points_above_baseline,
                rc.baseline.model,
                rc.baseline.citation
            ),
            json!({"accuracy": rc.accuracy, "baseline": rc.baseline.accuracy}),
        ));
    }
    out
}
