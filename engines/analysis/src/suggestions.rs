//! Suggestions that follow from the findings, each with its expected improvement and where
//! that estimate comes from: a cited result ("literature estimate"), a computation from this
//! model's numbers, or a rule of thumb.

use serde_json::Value;

use super::input::Context;
use super::performance::PerformanceAnalysis;
use super::shapes::Propagation;
use super::{Finding, LayerKind, Suggestion};

fn s(
    category: &str,
    suggestion: String,
    expected: String,
    basis: String,
    finding: &Finding,
) -> Suggestion {
    Suggestion {
        category: category.to_string(),
        suggestion,
        expected_improvement: expected,
        basis,
        finding_id: finding.id.clone(),
    }
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn pct(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        let p = part / whole * 100.0;
        // Small shares keep two significant decimals instead of rounding to 0.0%.
        if p < 1.0 {
            format!("{p:.2}%")
        } else {
            format!("{p:.1}%")
        }
    } else {
        "n/a".into()
    }
}

pub(crate) fn build(
    findings: &[Finding],
    ctx: &Context,
    prop: &Propagation,
    perf: &PerformanceAnalysis,
) -> Vec<Suggestion> {
    let f = &prop.facts;
    let total = prop.totals.params.unwrap_or(prop.totals.known_params) as f64;
    let mut out = Vec::new();
    for finding in findings {
        let e = &finding.evidence;
        match finding.id.as_str() {
            "no_normalization" => {
                let (what, extra) = if !f.conv_layers.is_empty() {
                    (
                        "Add batch normalization after each conv layer (before the activation)",
                        2 * f.conv_channels_total,
                    )
                } else if f.recurrent_layers + f.attention_layers > 0 {
                    (
                        "Add layer normalization around the recurrent/attention blocks",
                        2 * f.sequence_width.unwrap_or(0) as u64,
                    )
                } else {
                    (
                        "Add batch normalization after each hidden dense layer",
                        2 * f.hidden_dense_units_total,
                    )
                };
                out.push(s(
                    "architecture",
                    what.to_string(),
                    format!(
                        "faster, more stable training and often a modest accuracy gain; Ioffe & \
                         Szegedy 2015 matched their ImageNet baseline in 14× fewer training steps \
                         (literature estimate: gains on small networks are usually smaller). \
                         Cost: +{extra} parameters ({} of the model)",
                        pct(extra as f64, total)
                    ),
                    format!(
                        "Ioffe & Szegedy 2015, Batch Normalization, arXiv:1502.03167; computed: 2 \
                         parameters per normalized channel = {extra}"
                    ),
                    finding,
                ));
            }
            "no_regularization" => {
                out.push(s(
                    "regularization",
                    "Add dropout 0.3–0.5 before the dense layer(s), and/or weight decay (≈5e-4 with SGD)"
                        .into(),
                    "lower test error at the same capacity; Srivastava et al. 2014 report \
                     improvements on every benchmark they tried, on the order of 1–3 points for \
                     CIFAR-10 conv nets (literature estimate)"
                        .into(),
                    "Srivastava et al. 2014, Dropout, JMLR 15:1929–1958".into(),
                    finding,
                ));
            }
            "deep_plain_stack" => {
                out.push(s(
                    "architecture",
                    "Add residual (skip) connections around every two weight layers".into(),
                    "deeper stacks keep improving instead of degrading; He et al. 2015 (Table 2) \
                     report ImageNet top-1 error 28.54% for a plain 34-layer net vs 25.03% with \
                     residual connections (literature estimate)"
                        .into(),
                    "He et al. 2015, Deep Residual Learning, arXiv:1512.03385".into(),
                    finding,
                ));
            }
            "large_flatten_dense" => {
                let params = num(e, "dense_params").unwrap_or(0.0);
                let gap = num(e, "params_with_global_avg_pool").unwrap_or(0.0);
                let saved = num(e, "params_saved").unwrap_or(0.0);
                let layer = num(e, "dense_layer").unwrap_or(0.0);
                out.push(s(
                    "architecture",
                    "Replace Flatten + Dense with global average pooling + Dense".into(),
                    format!(
                        "layer {layer} shrinks from {params} to {gap} parameters, saving {saved} \
                         ({} of the model); Lin et al. 2013 found global average pooling acts as a \
                         structural regularizer with accuracy comparable to a dropout-regularized \
                         dense head on CIFAR-10",
                        pct(saved, total)
                    ),
                    "computed: C·units + units after pooling vs H·W·C·units + units; Lin et al. \
                     2013, Network in Network, arXiv:1312.4400"
                        .into(),
                    finding,
                ));
            }
            "parameter_concentration" => {
                // When the concentrated layer is the flatten-into-dense one, the suggestion
                // above covers it.
                let layer = num(e, "layer").map(|l| l as usize);
                if layer.is_some() && layer == f.flatten_dense.as_ref().map(|fd| fd.dense_layer)
                    && findings.iter().any(|x| x.id == "large_flatten_dense")
                {
                    continue;
                }
                let p = num(e, "params").unwrap_or(0.0);
                out.push(s(
                    "architecture",
                    format!(
                        "Narrow or factorize layer {} (e.g. halve its output width or use a low-rank pair)",
                        layer.unwrap_or(0)
                    ),
                    format!(
                        "halving its output width removes about {:.0} parameters ({} of the model)",
                        p / 2.0,
                        pct(p / 2.0, total)
                    ),
                    "computed: a dense/conv layer's weights scale linearly with its output width"
                        .into(),
                    finding,
                ));
            }
            "output_class_mismatch" => {
                let k = num(e, "num_classes").unwrap_or(0.0);
                out.push(s(
                    "output",
                    format!("Set the output layer to {k} units"),
                    "the output can then represent every class; with the wrong width training \
                     either fails or silently ignores classes"
                        .into(),
                    format!("computed: {k} classes from {}", ctx.num_classes_source),
                    finding,
                ));
            }
            "softmax_single_unit" => out.push(s(
                "output",
                "Use sigmoid on the single unit (binary cross-entropy), or softmax over 2 units".into(),
                "the model becomes trainable: softmax over one unit has zero gradient".into(),
                "computed: softmax(x) = 1 for a single logit".into(),
                finding,
            )),
            "sigmoid_multi_unit" => out.push(s(
                "output",
                "Use softmax (or logits with a cross-entropy loss) for single-label classes".into(),
                "calibrated, mutually exclusive class probabilities".into(),
                "rule of thumb".into(),
                finding,
            )),
            "missing_output_activation" => out.push(s(
                "output",
                "Confirm the loss takes logits (CrossEntropyLoss / from_logits=True), or add softmax".into(),
                "correct probabilities at inference; no accuracy change if the loss already applies softmax".into(),
                "rule of thumb".into(),
                finding,
            )),
            "spatial_collapse" => out.push(s(
                "architecture",
                format!(
                    "Remove a pooling/stride step before layer {}, or use \"same\" padding",
                    num(e, "layer").unwrap_or(0.0)
                ),
                "the model can run; shapes after the layer become computable".into(),
                "computed: out = floor((n + 2p − k) / s) + 1 must be ≥ 1".into(),
                finding,
            )),
            "kernel_larger_than_input" => out.push(s(
                "architecture",
                "Shrink the window to at most the feature-map size, or downsample later".into(),
                "no wasted computation on padding".into(),
                "computed: window vs feature-map size".into(),
                finding,
            )),
            "incompatible_layer_input" => out.push(s(
                "architecture",
                "Insert the missing reshape (Flatten, global pooling, or an embedding) so each layer gets the rank it expects".into(),
                "the model can run as described".into(),
                "computed: layer input ranks".into(),
                finding,
            )),
            "residual_shape_mismatch" => out.push(s(
                "architecture",
                "Add a projection (1x1 conv or linear) on the shortcut so the added shapes match".into(),
                "the residual add becomes valid (He et al. 2015 use projection shortcuts when dimensions change)".into(),
                "He et al. 2015, arXiv:1512.03385, §3.3".into(),
                finding,
            )),
            "attention_heads_indivisible" => {
                let fix = e
                    .get("layers")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(|l| {
                        let d = l.get("d_model")?.as_u64()?;
                        let h = l.get("heads")?.as_u64()?;
                        // The largest divisor of d not above the requested head count.
                        let best = (1..=h.min(d)).rev().find(|c| d % c == 0)?;
                        Some(format!(" (for d = {d}: {best} heads of {} each)", d / best))
                    })
                    .unwrap_or_default();
                out.push(s(
                    "architecture",
                    format!("Choose a head count that divides the model width{fix}"),
                    "the attention layer becomes valid".into(),
                    "computed: largest divisor of d not above the requested heads".into(),
                    finding,
                ));
            }
            "declared_size_mismatch" => out.push(s(
                "architecture",
                "Correct the declared input sizes to the computed ones (see evidence)".into(),
                "a consistent description; the counts here already use the computed shapes".into(),
                "computed: shape propagation".into(),
                finding,
            )),
            "no_downsampling" => {
                let macs = num(e, "conv_macs").unwrap_or(0.0);
                let first = f.conv_layers.first().copied();
                let after: f64 = f
                    .conv_layers
                    .iter()
                    .skip(1)
                    .filter_map(|&i| prop.rows[i].macs)
                    .map(|m| m as f64)
                    .sum();
                // A stack of conv1d layers downsamples one axis: a stride-2 step halves the
                // positions (there is no 1-D pooling layer to suggest).
                let one_axis = f
                    .conv_layers
                    .iter()
                    .all(|&i| prop.rows[i].kind == LayerKind::Conv1d);
                let (what, share, fraction, basis) = if one_axis {
                    (
                        format!(
                            "Add a stride-2 conv1d after layer {}",
                            first.unwrap_or(0)
                        ),
                        0.5,
                        "half",
                        "computed: MACs scale with seq_out, which a stride-2 step halves",
                    )
                } else {
                    (
                        format!(
                            "Add 2x2 max pooling (or a stride-2 conv) after layer {}",
                            first.unwrap_or(0)
                        ),
                        0.75,
                        "a quarter",
                        "computed: MACs scale with H_out·W_out, which a stride-2 step divides by ≈4",
                    )
                };
                out.push(s(
                    "efficiency",
                    what,
                    format!(
                        "later conv layers see {fraction} of the positions: about {:.0} of \
                         {macs:.0} conv MACs saved (≈{:.0}% of the {after:.0} after the first \
                         conv) and a receptive field that grows twice as fast",
                        after * share,
                        share * 100.0
                    ),
                    basis.into(),
                    finding,
                ));
            }
            "dropout_rate_out_of_range" => out.push(s(
                "regularization",
                "Use dropout rates between 0.2 and 0.5 (0.5 before dense layers, lower after convs)".into(),
                "regularization without starving the layer of signal".into(),
                "Srivastava et al. 2014, Dropout, JMLR 15 (0.5 hidden, 0.2 input)".into(),
                finding,
            )),
            "model_size_exceeds_limit" => {
                let size = num(e, "model_size_mb_fp32").unwrap_or(0.0);
                let limit = num(e, "max_model_size_mb").unwrap_or(0.0);
                out.push(s(
                    "efficiency",
                    "Quantize weights (int8 or fp16) or prune; or shrink the largest layer".into(),
                    format!(
                        "int8: {:.2} MB, fp16: {:.2} MB against the {limit} MB limit",
                        size / 4.0,
                        size / 2.0
                    ),
                    "computed: 1 byte (int8) or 2 bytes (fp16) per parameter instead of 4".into(),
                    finding,
                ));
            }
            "latency_exceeds_budget" => {
                let lat = num(e, "inference_latency_ms").unwrap_or(0.0);
                let budget = num(e, "max_latency_ms").unwrap_or(1.0);
                out.push(s(
                    "efficiency",
                    "Cut MACs (narrower/fewer layers, downsampling) or quantize for inference".into(),
                    format!("a {:.1}× speed-up is needed to meet the budget", lat / budget.max(f64::MIN_POSITIVE)),
                    "computed: reported latency / budget".into(),
                    finding,
                ));
            }
            "narrow_bottleneck" => out.push(s(
                "architecture",
                format!(
                    "Widen hidden dense layers to at least {} units",
                    num(e, "num_classes").unwrap_or(0.0)
                ),
                "logits of full rank over the classes".into(),
                "rule of thumb".into(),
                finding,
            )),
            "unstated_hidden_activation" => out.push(s(
                "architecture",
                "State (or add) a nonlinearity such as ReLU after the listed dense layers".into(),
                "the stacked layers add capacity instead of collapsing to one linear map".into(),
                "computed: W2(W1x + b1) + b2 is a single affine map".into(),
                finding,
            )),
            "input_shape_dataset_mismatch" => out.push(s(
                "data",
                "Make architecture.input_shape match the data, or state the resizing".into(),
                "a model that accepts the actual images".into(),
                "computed: stated shape vs the dataset's".into(),
                finding,
            )),
            "no_augmentation_mentioned" => {
                let digits = matches!(ctx.dataset.map(|d| d.name), Some("MNIST"));
                out.push(s(
                    "data",
                    if digits {
                        "Add small random shifts and rotations (no flips for digits)".into()
                    } else {
                        "Add random crops (4-pixel padding) and horizontal flips".into()
                    },
                    "typically a few points of test accuracy on CIFAR-scale data and a smaller \
                     train/test gap (literature estimate; crops and flips are the standard \
                     training setup of Krizhevsky et al. 2012 and He et al. 2015)"
                        .into(),
                    "Krizhevsky et al. 2012 (ImageNet, NeurIPS); He et al. 2015, arXiv:1512.03385 §4.2".into(),
                    finding,
                ));
            }
            "overfitting" => {
                let gap = num(e, "accuracy_gap");
                out.push(s(
                    "training",
                    "Add regularization (dropout, weight decay, augmentation) or stop earlier on the validation metric".into(),
                    match gap {
                        Some(g) => format!(
                            "target a train/validation accuracy gap below 0.02 (currently {g:.3})"
                        ),
                        None => "target a relative loss gap below 10%".into(),
                    },
                    "rule of thumb (thresholds in performance.generalization_gap.rule)".into(),
                    finding,
                ));
            }
            "poor_convergence" => {
                let ratio = num(e, "ratio").unwrap_or(0.0);
                out.push(s(
                    "training",
                    "Train longer or tune the learning rate; check labels and input scaling".into(),
                    format!(
                        "the loss is {:.0}% of a uniform guess's; below 50% is typical of a trained classifier",
                        ratio * 100.0
                    ),
                    "computed: loss / ln(classes)".into(),
                    finding,
                ));
            }
            "below_baseline_accuracy" => {
                let acc = num(e, "accuracy").unwrap_or(0.0);
                let base = num(e, "baseline").unwrap_or(0.0);
                out.push(s(
                    "training",
                    format!(
                        "Reproduce the {} baseline recipe first",
                        e.get("baseline_model").and_then(Value::as_str).unwrap_or("published")
                    ),
                    format!("{:.1} points to reach the baseline", (base - acc) * 100.0),
                    perf.reference
                        .as_ref()
                        .map_or("reference table".into(), |r| r.baseline.source.to_string()),
                    finding,
                ));
            }
            "accuracy_above_reference" => out.push(s(
                "evaluation",
                "Verify that the evaluation split is disjoint from training data".into(),
                "a trustworthy accuracy figure".into(),
                "rule of thumb: results above the published best deserve a leakage check".into(),
                finding,
            )),
            _ => {}
        }
    }
    out
}
