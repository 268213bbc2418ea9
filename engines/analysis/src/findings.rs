//! Findings and strengths from the computed facts.
//!
//! Each rule records whether it applied (its precondition holds, e.g. "≥ 3 weight layers")
//! and whether it triggered; the design-hygiene score component is computed from those
//! outcomes (see `score`). Thresholds are rules of thumb and are stated in each finding's
//! evidence.
//!
//! Each rule is one function from the shared [`Inputs`] to a [`Verdict`], listed with its id,
//! nominal severity and score component in [`RULES`], which `evaluate` walks in order.

use serde_json::{json, Value};

use super::input::{Context, Task};
use super::layers::{Architecture, LayerKind, OutputRef};
use super::performance::{PerformanceAnalysis, Risk};
use super::shapes::{window_text, Event, Facts, Propagation};
use super::{Finding, Severity, Totals};

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

/// What the rules read: the request's facts, plus the values several rules (and the
/// strengths) share.
struct Inputs<'a> {
    ctx: &'a Context,
    arch: &'a Architecture,
    prop: &'a Propagation,
    perf: &'a PerformanceAnalysis,
    /// `prop.facts`.
    facts: &'a Facts,
    /// `prop.totals`.
    totals: &'a Totals,
    has_layers: bool,
    output: Option<&'a OutputRef>,
    output_units: Option<usize>,
    output_act: Option<&'a str>,
    /// A conv or pooling layer exists, so windows can collapse or outgrow their input.
    spatial_layers: bool,
    /// Where a weight penalty is stated: the architecture first, then the metrics.
    weight_decay: Option<String>,
    /// Dropout (rate > 0) or a weight penalty is stated.
    regularized: bool,
}

impl<'a> Inputs<'a> {
    fn new(
        ctx: &'a Context,
        arch: &'a Architecture,
        prop: &'a Propagation,
        perf: &'a PerformanceAnalysis,
    ) -> Self {
        let facts = &prop.facts;
        let output = arch.output.as_ref();
        let dropout_used = facts.dropouts.iter().any(|&(_, r)| r > 0.0);
        let weight_decay = arch
            .weight_decay_at
            .clone()
            .or_else(|| ctx.weight_decay_in_metrics.clone());
        Inputs {
            ctx,
            arch,
            prop,
            perf,
            facts,
            totals: &prop.totals,
            has_layers: !arch.layers.is_empty(),
            output,
            output_units: facts.output_units,
            output_act: output.and_then(|o| o.activation.as_deref()),
            spatial_layers: !facts.conv_layers.is_empty() || facts.pooling_layers > 0,
            regularized: dropout_used || weight_decay.is_some(),
            weight_decay,
        }
    }
}

/// What a triggered rule reports.
struct Triggered {
    severity: Severity,
    title: String,
    detail: String,
    evidence: Value,
}

/// How one rule came out on one request: whether its precondition holds, and what it found.
/// A finding without the precondition is dropped (see `evaluate`).
struct Verdict {
    applicable: bool,
    triggered: Option<Triggered>,
}

/// One rule: `check` decides it; the rest is what the score needs to know about it.
struct Rule {
    id: &'static str,
    /// The severity it carries when it triggers at its usual level.
    nominal: Severity,
    /// Counts toward design hygiene (see `Outcome::hygiene`).
    hygiene: bool,
    check: fn(&Inputs) -> Verdict,
}

impl Rule {
    /// A rule on the architecture or training setup, scored by design hygiene.
    const fn hygiene(id: &'static str, nominal: Severity, check: fn(&Inputs) -> Verdict) -> Rule {
        Rule {
            id,
            nominal,
            hygiene: true,
            check,
        }
    }

    /// A rule on the reported metrics, scored by the performance components instead.
    const fn performance(
        id: &'static str,
        nominal: Severity,
        check: fn(&Inputs) -> Verdict,
    ) -> Rule {
        Rule {
            id,
            nominal,
            hygiene: false,
            check,
        }
    }
}

/// Every rule, in evaluation order: `outcomes` follow this order, and findings of equal
/// severity keep it (the sort by severity is stable). A new rule is one function and one
/// entry here.
#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule::hygiene("no_normalization", Severity::Medium, no_normalization),
    Rule::hygiene("no_regularization", Severity::Medium, no_regularization),
    Rule::hygiene("deep_plain_stack", Severity::Medium, deep_plain_stack),
    Rule::hygiene("parameter_concentration", Severity::Medium, parameter_concentration),
    Rule::hygiene("output_class_mismatch", Severity::High, output_class_mismatch),
    Rule::hygiene("softmax_single_unit", Severity::High, softmax_single_unit),
    Rule::hygiene("sigmoid_multi_unit", Severity::Medium, sigmoid_multi_unit),
    Rule::hygiene("missing_output_activation", Severity::Info, missing_output_activation),
    Rule::hygiene("spatial_collapse", Severity::High, spatial_collapse),
    Rule::hygiene("kernel_larger_than_input", Severity::Medium, kernel_larger_than_input),
    Rule::hygiene("incompatible_layer_input", Severity::High, incompatible_layer_input),
    Rule::hygiene("residual_shape_mismatch", Severity::High, residual_shape_mismatch),
    Rule::hygiene("attention_heads_indivisible", Severity::High, attention_heads_indivisible),
    Rule::hygiene("declared_size_mismatch", Severity::High, declared_size_mismatch),
    Rule::hygiene("large_flatten_dense", Severity::Medium, large_flatten_dense),
    Rule::hygiene("no_downsampling", Severity::Medium, no_downsampling),
    Rule::hygiene("dropout_rate_out_of_range", Severity::Medium, dropout_rate_out_of_range),
    Rule::hygiene("model_size_exceeds_limit", Severity::High, model_size_exceeds_limit),
    Rule::performance("latency_exceeds_budget", Severity::High, latency_exceeds_budget),
    Rule::hygiene("narrow_bottleneck", Severity::Low, narrow_bottleneck),
    Rule::hygiene("unstated_hidden_activation", Severity::Info, unstated_hidden_activation),
    Rule::hygiene("input_shape_dataset_mismatch", Severity::Medium, input_shape_dataset_mismatch),
    Rule::hygiene("no_augmentation_mentioned", Severity::Low, no_augmentation_mentioned),
    // Performance findings (scored by the performance components, not hygiene).
    Rule::performance("overfitting", Severity::High, overfitting),
    Rule::performance("poor_convergence", Severity::High, poor_convergence),
    Rule::performance("below_baseline_accuracy", Severity::Medium, below_baseline_accuracy),
    Rule::performance("accuracy_above_reference", Severity::Low, accuracy_above_reference),
];

pub(crate) fn evaluate(
    ctx: &Context,
    arch: &Architecture,
    prop: &Propagation,
    perf: &PerformanceAnalysis,
) -> Evaluation {
    let inputs = Inputs::new(ctx, arch, prop, perf);
    let mut findings = Vec::new();
    let mut outcomes = Vec::with_capacity(RULES.len());
    for rule in RULES {
        let verdict = (rule.check)(&inputs);
        let triggered = verdict.triggered.filter(|_| verdict.applicable);
        outcomes.push(Outcome {
            id: rule.id,
            nominal: rule.nominal,
            applicable: verdict.applicable,
            triggered: triggered.as_ref().map(|t| t.severity),
            hygiene: rule.hygiene,
        });
        if let Some(t) = triggered {
            findings.push(Finding {
                id: rule.id.to_string(),
                severity: t.severity,
                title: t.title,
                detail: t.detail,
                evidence: t.evidence,
            });
        }
    }
    findings.sort_by_key(|f| f.severity);

    let Inputs {
        weight_decay,
        regularized,
        ..
    } = inputs;
    let strengths = strengths(ctx, arch, prop, perf, &outcomes, weight_decay);
    Evaluation {
        findings,
        strengths,
        outcomes,
        regularized,
    }
}

/// Normalization in a deep-enough net: from `NORMALIZATION_MIN_WEIGHT_LAYERS` weight layers,
/// triggers when there is no batch or layer normalization at all.
fn no_normalization(i: &Inputs) -> Verdict {
    let f = i.facts;
    Verdict {
        applicable: f.weight_layers >= NORMALIZATION_MIN_WEIGHT_LAYERS,
        triggered: (f.norm_layers == 0).then(|| Triggered {
            severity: Severity::Medium,
            title: format!(
                "No normalization in a {}-weight-layer network",
                f.weight_layers
            ),
            detail: format!(
                "{} weight layers and no batch or layer normalization; without it deeper \
                 nets train more slowly and are more sensitive to learning rate and \
                 initialization.",
                f.weight_layers
            ),
            evidence: json!({"weight_layers": f.weight_layers, "normalization_layers": 0,
                   "threshold_weight_layers": NORMALIZATION_MIN_WEIGHT_LAYERS}),
        }),
    }
}

/// Regularization for the parameter count: triggers when the (known) parameters exceed
/// `PARAMS_PER_SAMPLE_LIMIT` per training sample (or `UNREGULARIZED_PARAMS_LIMIT` without a
/// sample count) and neither dropout nor weight decay is stated.
fn no_regularization(i: &Inputs) -> Verdict {
    let (ctx, t) = (i.ctx, i.totals);
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
    Verdict {
        applicable: i.has_layers && (t.params.is_some() || params_lower_bound > limit),
        triggered: (!i.regularized && params_lower_bound > limit).then(|| {
            let ratio = ctx.samples.map(|n| params_lower_bound as f64 / n as f64);
            Triggered {
                severity: Severity::Medium,
                title: "No regularization for the parameter count".to_string(),
                detail: format!(
                    "{params_lower_bound} parameters{} and no dropout or weight decay stated; \
                     the limit is {limit_basis}.",
                    ratio.map_or(String::new(), |r| format!(" ({r:.1} per training sample)"))
                ),
                evidence: json!({"params": params_lower_bound, "training_samples": ctx.samples,
                       "params_per_sample": ratio, "limit": limit, "limit_basis": limit_basis,
                       "dropout_layers": 0, "weight_decay": Value::Null}),
            }
        }),
    }
}

/// Deep plain stack: more than `PLAIN_STACK_MAX_WEIGHT_LAYERS` weight layers without any
/// residual connection.
fn deep_plain_stack(i: &Inputs) -> Verdict {
    let f = i.facts;
    Verdict {
        applicable: f.weight_layers > PLAIN_STACK_MAX_WEIGHT_LAYERS,
        triggered: (f.residual_layers == 0).then(|| Triggered {
            severity: Severity::Medium,
            title: format!(
                "{} weight layers without residual connections",
                f.weight_layers
            ),
            detail: format!(
                "A plain stack deeper than {PLAIN_STACK_MAX_WEIGHT_LAYERS} weight layers \
                 tends to degrade: He et al. 2015 found a plain 34-layer net trains to \
                 higher error than a plain 18-layer one."
            ),
            evidence: json!({"weight_layers": f.weight_layers, "residual_connections": 0,
                   "threshold_weight_layers": PLAIN_STACK_MAX_WEIGHT_LAYERS}),
        }),
    }
}

/// One layer holding most parameters: more than `CONCENTRATION_SHARE` of a known total in a
/// net of ≥ 2 weight layers (embedding tables are large by design: excluded).
fn parameter_concentration(i: &Inputs) -> Verdict {
    let (arch, prop, f, t) = (i.arch, i.prop, i.facts, i.totals);
    let biggest = arch
        .layers
        .iter()
        .zip(&prop.layer_params)
        .filter(|(s, _)| s.kind != LayerKind::Embedding)
        .filter_map(|(s, p)| p.map(|p| (s, p)))
        .max_by_key(|&(_, p)| p);
    let total = t.params.unwrap_or(0);
    Verdict {
        applicable: t.params.is_some() && f.weight_layers >= 2 && total > 0,
        triggered: biggest.and_then(|(s, p)| {
            let share = p as f64 / total.max(1) as f64;
            (share > CONCENTRATION_SHARE).then(|| Triggered {
                // Small CNNs often have one conv at 50–80%; beyond that it is a sink.
                severity: if share > CONCENTRATION_SHARE_MEDIUM {
                    Severity::Medium
                } else {
                    Severity::Low
                },
                title: format!("Layer {} holds {} of all parameters", s.index, pct(share)),
                detail: format!(
                    "Layer {} ({}) has {p} of {total} parameters ({}); capacity is \
                     concentrated in one place, which is usually a flatten-into-dense \
                     bottleneck and the first place to overfit.",
                    s.index,
                    s.type_written,
                    pct(share)
                ),
                evidence: json!({"layer": s.index, "type": s.type_written, "params": p,
                       "total_params": total, "share": share,
                       "threshold_share": CONCENTRATION_SHARE}),
            })
        }),
    }
}

/// Output units vs classes: k units for k classes (or 1 unit for 2 classes).
fn output_class_mismatch(i: &Inputs) -> Verdict {
    let ctx = i.ctx;
    let class_ok = |units: usize, k: usize| units == k || (k == 2 && units == 1);
    Verdict {
        applicable: ctx.num_classes.is_some() && i.output_units.is_some(),
        triggered: match (i.output_units, ctx.num_classes, i.output) {
            (Some(units), Some(k), Some(o)) if !class_ok(units, k) => Some(Triggered {
                severity: Severity::High,
                title: format!("Output has {units} units for {k} classes"),
                detail: format!(
                    "The output layer (layer {}) has {units} units but the data has {k} classes \
                     ({}).",
                    o.layer, ctx.num_classes_source
                ),
                evidence: json!({"output_layer": o.layer, "output_units": units, "num_classes": k,
                       "num_classes_source": ctx.num_classes_source}),
            }),
            _ => None,
        },
    }
}

/// Softmax on one unit: its output is always 1.0.
fn softmax_single_unit(i: &Inputs) -> Verdict {
    Verdict {
        applicable: i.output_units.is_some(),
        triggered: match (i.output_units, i.output_act, i.output) {
            (Some(1), Some("softmax"), Some(o)) => Some(Triggered {
                severity: Severity::High,
                title: "Softmax over a single output unit".to_string(),
                detail: format!(
                    "Layer {}: softmax over one unit always outputs 1.0, so the model cannot \
                     learn; use sigmoid with 1 unit or softmax with 2.",
                    o.layer
                ),
                evidence: json!({"output_layer": o.layer, "output_units": 1, "activation": "softmax"}),
            }),
            _ => None,
        },
    }
}

/// Sigmoid on many units for single-label classification.
fn sigmoid_multi_unit(i: &Inputs) -> Verdict {
    let ctx = i.ctx;
    Verdict {
        applicable: i.output_units.is_some()
            && ctx.task == Task::Classification
            && !ctx.multi_label,
        triggered: match (i.output_units, i.output_act, i.output) {
            (Some(u), Some("sigmoid"), Some(o)) if u > 1 => Some(Triggered {
                severity: Severity::Medium,
                title: format!("Sigmoid over {u} output units for single-label classification"),
                detail: format!(
                    "Layer {}: independent sigmoids over {u} units do not sum to 1; for \
                     single-label classification softmax (or logits with cross-entropy) is \
                     the matching output. Ignore if the task is multi-label.",
                    o.layer
                ),
                evidence: json!({"output_layer": o.layer, "output_units": u, "activation": "sigmoid",
                       "multi_label_mentioned": false}),
            }),
            _ => None,
        },
    }
}

/// A classifier whose output layer states no (or a linear) activation: raw logits.
fn missing_output_activation(i: &Inputs) -> Verdict {
    Verdict {
        applicable: i.output_units.is_some() && i.ctx.task == Task::Classification,
        triggered: match i.output {
            Some(o) if is_linear(i.output_act) => Some(Triggered {
                severity: Severity::Info,
                title: "No output activation stated for a classifier".to_string(),
                detail: format!(
                    "Layer {} outputs raw logits. That is right when the loss applies \
                     softmax itself (PyTorch CrossEntropyLoss, Keras from_logits=True); \
                     otherwise add softmax (or sigmoid for one unit).",
                    o.layer
                ),
                evidence: json!({"output_layer": o.layer, "activation": i.output_act}),
            }),
            _ => None,
        },
    }
}

/// Events from shape propagation: the first spatial size that collapses to ≤ 0.
fn spatial_collapse(i: &Inputs) -> Verdict {
    let collapse = i.prop.events.iter().find_map(|e| match e {
        Event::Collapse {
            layer,
            input,
            kernel,
            stride,
            padding,
            computed,
        } => Some(Triggered {
            severity: Severity::High,
            title: format!("Spatial size collapses to ≤ 0 at layer {layer}"),
            detail: format!(
                "Layer {layer} gets {} and {} and padding {padding} gives \
                 out = floor((n + 2p − k) / s) + 1 ≤ 0; the model cannot run and shapes \
                 after it are unknown.",
                fmt_dims(input),
                window_text(kernel, stride)
            ),
            evidence: json!({"layer": layer, "input": input, "kernel": kernel,
               "stride": stride, "padding": padding,
               "computed_output": computed}),
        }),
        _ => None,
    });
    Verdict {
        applicable: i.spatial_layers,
        triggered: collapse,
    }
}

/// Kernel or pool windows larger than the map they slide over.
fn kernel_larger_than_input(i: &Inputs) -> Verdict {
    let larger: Vec<Value> = i
        .prop
        .events
        .iter()
        .filter_map(|e| match e {
            Event::KernelLarger {
                layer,
                kernel,
                input_hw,
            } => Some(json!({"layer": layer, "kernel": kernel, "input_hw": input_hw})),
            _ => None,
        })
        .collect();
    Verdict {
        applicable: i.spatial_layers,
        triggered: (!larger.is_empty()).then(|| Triggered {
            severity: Severity::Medium,
            title: format!("Window larger than its input in {} layer(s)", larger.len()),
            detail: "A kernel or pool window larger than the feature map it slides over mostly \
                 sees padding; the layer is wasted or the map was downsampled too early."
                .to_string(),
            evidence: json!({"layers": larger}),
        }),
    }
}

/// Layers that receive a tensor of the wrong rank.
fn incompatible_layer_input(i: &Inputs) -> Verdict {
    let incompatible: Vec<Value> = i
        .prop
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
    Verdict {
        applicable: i.has_layers,
        triggered: (!incompatible.is_empty()).then(|| Triggered {
            severity: Severity::High,
            title: format!(
                "{} layer(s) receive a tensor of the wrong rank",
                incompatible.len()
            ),
            detail: "A layer gets a tensor it cannot take (e.g. a conv after a flat vector); the \
                 model cannot run as written and shapes after it are unknown."
                .to_string(),
            evidence: json!({"layers": incompatible}),
        }),
    }
}

/// Residual adds joining tensors of different shapes.
fn residual_shape_mismatch(i: &Inputs) -> Verdict {
    let residual_mismatch: Vec<Value> = i
        .prop
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
    let residual_ops = i.arch.layers.iter().any(|s| s.kind == LayerKind::Residual);
    Verdict {
        applicable: residual_ops,
        triggered: (!residual_mismatch.is_empty()).then(|| Triggered {
            severity: Severity::High,
            title: format!(
                "{} residual add(s) join tensors of different shapes",
                residual_mismatch.len()
            ),
            detail: "An elementwise add needs equal shapes; add a 1x1 conv / linear projection on \
                 the shortcut or match the widths."
                .to_string(),
            evidence: json!({"layers": residual_mismatch}),
        }),
    }
}

/// Attention widths that are not a multiple of the head count.
fn attention_heads_indivisible(i: &Inputs) -> Verdict {
    let heads: Vec<Value> = i
        .prop
        .events
        .iter()
        .filter_map(|e| match e {
            Event::HeadsIndivisible { layer, d, heads } => {
                Some(json!({"layer": layer, "d_model": d, "heads": heads, "remainder": d % heads}))
            }
            _ => None,
        })
        .collect();
    Verdict {
        applicable: i.facts.attention_layers > 0,
        triggered: (!heads.is_empty()).then(|| Triggered {
            severity: Severity::High,
            title: "Model width not divisible by the number of heads".to_string(),
            detail: "Multi-head attention splits d into heads of d / heads each; PyTorch rejects \
                 a width that is not a multiple of the head count."
                .to_string(),
            evidence: json!({"layers": heads}),
        }),
    }
}

/// Declared input sizes (`in_features`, `in_channels`, …) that disagree with the computed
/// shape.
fn declared_size_mismatch(i: &Inputs) -> Verdict {
    let declared: Vec<Value> = i
        .prop
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
    Verdict {
        applicable: i.has_layers,
        triggered: (!declared.is_empty()).then(|| Triggered {
            severity: Severity::High,
            title: format!(
                "{} declared input size(s) disagree with the computed shape",
                declared.len()
            ),
            detail: "A layer states its input size (in_features, in_channels, …) and the shape \
                 reaching it differs; one of them is wrong. Counts use the computed shape."
                .to_string(),
            evidence: json!({"layers": declared}),
        }),
    }
}

/// Large dense after flatten: a map of ≥ 4 positions flattened into a dense layer of at
/// least `LARGE_FLATTEN_DENSE_PARAMS` parameters.
fn large_flatten_dense(i: &Inputs) -> Verdict {
    let f = i.facts;
    Verdict {
        applicable: f.flatten_dense.is_some(),
        triggered: f.flatten_dense.as_ref().and_then(|fd| {
            let (h, w, c) = fd.hwc;
            let positions = h * w;
            let gap_params = (c * fd.units + fd.units) as u64;
            (positions >= 4 && fd.params >= LARGE_FLATTEN_DENSE_PARAMS).then(|| Triggered {
                severity: Severity::Medium,
                title: format!(
                    "Flattening a {h}x{w}x{c} map into a {}-unit dense layer ({} parameters)",
                    fd.units, fd.params
                ),
                detail: format!(
                    "Layer {} flattens {h}x{w}x{c} = {} features into {} units: {} \
                     parameters that also discard where features are. Global average \
                     pooling first would give {c} features and {gap_params} parameters.",
                    fd.dense_layer,
                    h * w * c,
                    fd.units,
                    fd.params
                ),
                evidence: json!({"flatten_layer": fd.flatten_layer, "dense_layer": fd.dense_layer,
                       "map": [h, w, c], "flattened_features": h * w * c,
                       "dense_units": fd.units, "dense_params": fd.params,
                       "params_with_global_avg_pool": gap_params,
                       "params_saved": fd.params.saturating_sub(gap_params),
                       "threshold_params": LARGE_FLATTEN_DENSE_PARAMS}),
            })
        }),
    }
}

/// No downsampling in a deep conv net: `DOWNSAMPLING_MIN_CONV_LAYERS` or more conv layers
/// and neither pooling nor a strided conv.
fn no_downsampling(i: &Inputs) -> Verdict {
    let f = i.facts;
    let conv_macs: u64 = f
        .conv_layers
        .iter()
        .filter_map(|&l| i.prop.rows[l].macs)
        .sum();
    Verdict {
        applicable: f.conv_layers.len() >= DOWNSAMPLING_MIN_CONV_LAYERS,
        triggered: (f.pooling_layers == 0 && f.strided_convs == 0).then(|| Triggered {
            severity: Severity::Medium,
            title: format!(
                "{} conv layers and no pooling or strided convolution",
                f.conv_layers.len()
            ),
            detail: format!(
                "Every conv layer runs at full resolution: the receptive field grows \
                 slowly and compute is high ({conv_macs} conv MACs per sample)."
            ),
            evidence: json!({"conv_layers": f.conv_layers.len(), "pooling_layers": 0,
                   "strided_convs": 0, "conv_macs": conv_macs,
                   "input_shape": i.ctx.input_shape}),
        }),
    }
}

/// Dropout rates outside (0, `DROPOUT_MAX_RATE`]: medium when one is too high, low when
/// they are only 0.
fn dropout_rate_out_of_range(i: &Inputs) -> Verdict {
    let f = i.facts;
    let bad_rates: Vec<(usize, f64)> = f
        .dropouts
        .iter()
        .copied()
        .filter(|&(_, r)| r <= 0.0 || r > DROPOUT_MAX_RATE)
        .collect();
    Verdict {
        applicable: !f.dropouts.is_empty(),
        triggered: (!bad_rates.is_empty()).then(|| {
            let severity = if bad_rates.iter().any(|&(_, r)| r > DROPOUT_MAX_RATE) {
                Severity::Medium
            } else {
                Severity::Low
            };
            Triggered {
                severity,
                title: format!("{} dropout rate(s) outside (0, {DROPOUT_MAX_RATE}]", bad_rates.len()),
                detail: "A rate of 0 does nothing; above 0.8 most units are dropped every step and \
                 training struggles to learn (Srivastava et al. 2014 use 0.5 for hidden and \
                 0.2 for input units)."
                    .to_string(),
                evidence: json!({"layers": bad_rates.iter().map(|&(l, r)| json!({"layer": l, "rate": r})).collect::<Vec<_>>(),
                       "accepted_range": [0.0, DROPOUT_MAX_RATE]}),
            }
        }),
    }
}

/// Model size (fp32) vs a limit stated in the architecture or the metrics.
fn model_size_exceeds_limit(i: &Inputs) -> Verdict {
    let t = i.totals;
    let size_limit = i
        .arch
        .max_model_size_mb
        .or(i.perf.metrics.max_model_size_mb);
    Verdict {
        applicable: size_limit.is_some() && t.model_size_mb_fp32.is_some(),
        triggered: match (size_limit, t.model_size_mb_fp32) {
            (Some(limit), Some(size)) if size > limit => Some(Triggered {
                severity: Severity::High,
                title: format!("Model is {size:.2} MB (fp32), over the {limit} MB limit"),
                detail: format!(
                    "{} parameters × 4 bytes = {size:.2} MB against a stated limit of {limit} MB; \
                     int8 quantization would make it about {:.2} MB.",
                    t.params.unwrap_or(0),
                    size / 4.0
                ),
                evidence: json!({"model_size_mb_fp32": size, "max_model_size_mb": limit,
                       "params": t.params, "int8_size_mb": size / 4.0}),
            }),
            _ => None,
        },
    }
}

/// Reported inference latency vs a stated budget.
fn latency_exceeds_budget(i: &Inputs) -> Verdict {
    let metrics = &i.perf.metrics;
    Verdict {
        applicable: metrics.max_latency_ms.is_some() && metrics.inference_latency_ms.is_some(),
        triggered: match (metrics.inference_latency_ms, metrics.max_latency_ms) {
            (Some(lat), Some(budget)) if lat > budget => Some(Triggered {
                severity: Severity::High,
                title: format!("Inference latency {lat} ms exceeds the {budget} ms budget"),
                detail: format!(
                    "Reported latency is {:.1}× the stated budget.",
                    lat / budget.max(f64::MIN_POSITIVE)
                ),
                evidence: json!({"inference_latency_ms": lat, "max_latency_ms": budget,
                       "macs_per_sample": i.totals.macs}),
            }),
            _ => None,
        },
    }
}

/// Hidden dense layers narrower than the class count.
fn narrow_bottleneck(i: &Inputs) -> Verdict {
    let ctx = i.ctx;
    let hidden: Vec<(usize, usize)> = i
        .facts
        .dense_layers
        .iter()
        .filter(|d| !d.3)
        .map(|d| (d.0, d.1))
        .collect();
    let narrow: Vec<(usize, usize)> = match ctx.num_classes {
        Some(k) => hidden.iter().copied().filter(|&(_, u)| u < k).collect(),
        None => Vec::new(),
    };
    Verdict {
        applicable: ctx.num_classes.is_some() && !hidden.is_empty(),
        triggered: (!narrow.is_empty()).then(|| {
            let k = ctx.num_classes.unwrap_or(0);
            Triggered {
                severity: Severity::Low,
                title: format!("{} hidden dense layer(s) narrower than the {k} classes", narrow.len()),
                detail: format!(
                    "A hidden layer with fewer units than classes caps the rank of the logits \
                     below {k}, limiting which class boundaries can be represented."
                ),
                evidence: json!({"layers": narrow.iter().map(|&(l, u)| json!({"layer": l, "units": u})).collect::<Vec<_>>(),
                       "num_classes": k}),
            }
        }),
    }
}

/// Consecutive dense layers with no stated activation compose into one linear map.
fn unstated_hidden_activation(i: &Inputs) -> Verdict {
    let f = i.facts;
    let mut unstated = Vec::new();
    for pair in f.dense_layers.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.2 {
            continue;
        }
        let between_nonlinear = i.arch.layers[a.0 + 1..b.0].iter().any(|s| {
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
    Verdict {
        applicable: f.dense_layers.len() >= 2,
        triggered: (!unstated.is_empty()).then(|| Triggered {
            severity: Severity::Info,
            title: format!(
                "{} dense layer(s) feed another with no stated activation",
                unstated.len()
            ),
            detail: "If these layers really have no nonlinearity, each composes with the next \
                 into a single linear map; descriptions often omit a ReLU, so check."
                .to_string(),
            evidence: json!({"layers": unstated}),
        }),
    }
}

/// Stated input shape vs the recognized dataset's: medium when the rank or channel count
/// differs, info when only the size does (resizing is common).
fn input_shape_dataset_mismatch(i: &Inputs) -> Verdict {
    let ctx = i.ctx;
    Verdict {
        applicable: i.arch.input_shape.is_some() && ctx.dataset.and_then(|d| d.shape).is_some(),
        triggered: ctx.dataset_shape_conflict.as_ref().map(|(stated, ds)| {
            let structural = stated.len() != ds.len() || stated.last() != ds.last();
            let name = ctx.dataset.map(|d| d.name).unwrap_or_default();
            Triggered {
                severity: if structural {
                    Severity::Medium
                } else {
                    Severity::Info
                },
                title: format!("Input shape {stated:?} differs from {name}'s {ds:?}"),
                detail: if structural {
                    format!("The stated input has a different rank or channel count than {name} images.")
                } else {
                    format!("The stated size differs from {name}'s native size; fine if the images are resized.")
                },
                evidence: json!({"stated": stated, "dataset": name, "dataset_shape": ds}),
            }
        }),
    }
}

/// Augmentation for image classification: neither the description nor the data sample
/// mentions it.
fn no_augmentation_mentioned(i: &Inputs) -> Verdict {
    let ctx = i.ctx;
    Verdict {
        applicable: i.has_layers && ctx.image_input && ctx.task == Task::Classification,
        triggered: (!ctx.augmentation_mentioned).then(|| Triggered {
            severity: Severity::Low,
            title: "No data augmentation mentioned for image classification".to_string(),
            detail: "Neither the description nor the data sample mentions augmentation (flips, \
                 crops, …), the cheapest regularizer for image classifiers."
                .to_string(),
            evidence: json!({"image_input": true, "augmentation_mentioned": false,
                   "training_samples": ctx.samples}),
        }),
    }
}

/// Overfitting: the train/held-out gap's risk (see `performance`) is high or moderate.
fn overfitting(i: &Inputs) -> Verdict {
    let perf = i.perf;
    Verdict {
        applicable: perf.risk.is_some(),
        triggered: match (perf.risk, &perf.generalization_gap) {
            (Some(r @ (Risk::High | Risk::Moderate)), Some(gap)) => Some(Triggered {
                severity: if r == Risk::High {
                    Severity::High
                } else {
                    Severity::Medium
                },
                title: format!(
                    "{} overfitting risk",
                    if r == Risk::High { "High" } else { "Moderate" }
                ),
                detail: format!(
                    "Train/held-out gap: accuracy {}, loss {} ({} of a uniform guess's loss, {} relative).",
                    gap.accuracy_gap.map_or("n/a".into(), |g| format!("{g:.3}")),
                    gap.loss_gap.map_or("n/a".into(), |g| format!("{g:.3}")),
                    gap.loss_gap_normalized
                        .map_or("n/a".into(), |g| format!("{:.1}%", g * 100.0)),
                    gap.loss_gap_relative
                        .map_or("n/a".into(), |g| format!("{:.1}%", g * 100.0))
                ),
                evidence: json!({"accuracy_gap": gap.accuracy_gap, "loss_gap": gap.loss_gap,
                       "loss_gap_normalized": gap.loss_gap_normalized,
                       "loss_gap_relative": gap.loss_gap_relative, "rule": gap.rule}),
            }),
            _ => None,
        },
    }
}

/// Poor convergence: the loss is at least half a uniform guess's (low from 0.5, medium from
/// 0.8, high from 1.0).
fn poor_convergence(i: &Inputs) -> Verdict {
    let perf = i.perf;
    Verdict {
        applicable: perf.convergence.is_some(),
        triggered: perf.convergence.as_ref().and_then(|c| {
            let severity = if c.ratio >= 1.0 {
                Severity::High
            } else if c.ratio >= 0.8 {
                Severity::Medium
            } else if c.ratio >= 0.5 {
                Severity::Low
            } else {
                return None;
            };
            Some(Triggered {
                severity,
                title: format!("Loss is {} of a uniform guess's", pct(c.ratio)),
                detail: format!(
                    "{} = {} against ln({}) = {:.3} for predicting every class equally: {}.",
                    c.loss_metric, c.loss, c.classes, c.uniform_guess_loss, c.label
                ),
                evidence: json!({"loss": c.loss, "loss_metric": c.loss_metric, "classes": c.classes,
                       "uniform_guess_loss": c.uniform_guess_loss, "ratio": c.ratio}),
            })
        }),
    }
}

/// Accuracy below the dataset's simple reference baseline.
fn below_baseline_accuracy(i: &Inputs) -> Verdict {
    let perf = i.perf;
    Verdict {
        applicable: perf.reference.is_some(),
        triggered: perf.reference.as_ref().and_then(|rc| {
            (rc.points_above_baseline < 0.0).then(|| Triggered {
                severity: Severity::Medium,
                title: format!(
                    "Accuracy {:.1} points below a simple {} baseline",
                    -rc.points_above_baseline, rc.dataset
                ),
                detail: format!(
                    "{} = {} is below {} ({}, {}).",
                    rc.metric,
                    rc.accuracy,
                    rc.baseline.model,
                    rc.baseline.accuracy,
                    rc.baseline.source
                ),
                evidence: json!({"accuracy": rc.accuracy, "metric": rc.metric,
                       "baseline": rc.baseline.accuracy, "baseline_model": rc.baseline.model}),
            })
        }),
    }
}

/// Accuracy more than a point above the best published result: check for leakage.
fn accuracy_above_reference(i: &Inputs) -> Verdict {
    let perf = i.perf;
    Verdict {
        applicable: perf.reference.is_some(),
        triggered: perf.reference.as_ref().and_then(|rc| {
            (rc.points_below_best < -1.0).then(|| Triggered {
                severity: Severity::Low,
                title: format!(
                    "Accuracy {:.1} points above {}",
                    -rc.points_below_best, rc.best.model
                ),
                detail: format!(
                    "{} = {} beats {} ({}) by more than a point; check that the evaluation \
                     split is not part of training.",
                    rc.metric, rc.accuracy, rc.best.model, rc.best.source
                ),
                evidence: json!({"accuracy": rc.accuracy, "metric": rc.metric,
                       "reference": rc.best.accuracy, "reference_model": rc.best.model}),
            })
        }),
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
