//! A layer list as a network to build: the same parse and shape walk as the analysis, with
//! every shape known (the data fixes the input) and every structural problem an error
//! naming its layer. The trainer builds exactly these layers, so a trained network's
//! parameter count is this plan's, which is the analysis's `totals.params`.

use serde_json::Value;

use super::input::{Context, Task};
use super::layers::{self, LayerSpec};
pub use super::layers::{Op, Padding, ResidualFrom, Shortcut};
use super::shapes::{self, Event};
use super::AnalysisError;
use super::LayerKind;

/// Which tensor a residual layer adds to its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The model input.
    Input,
    /// The output of this earlier layer.
    Layer(usize),
}

/// One layer with its resolved shapes (without the batch dimension: `[H, W, C]`,
/// `[seq, d]`, `[features]` or `[seq]` token ids).
#[derive(Debug, Clone)]
pub struct PlannedLayer {
    pub index: usize,
    /// The type as the request wrote it.
    pub type_written: String,
    pub kind: LayerKind,
    pub op: Op,
    /// The stated activation (lower case), on a weight layer or an activation layer.
    pub activation: Option<String>,
    /// A dropout rate stated on a weight layer.
    pub inline_dropout: Option<f64>,
    pub input: Vec<usize>,
    pub output: Vec<usize>,
    /// This layer's parameters, as the analysis counts them.
    pub params: u64,
    /// A residual layer's added tensor, and its shape.
    pub added: Option<Added>,
    pub added_shape: Option<Vec<usize>>,
}

/// A network whose every layer and shape is known.
#[derive(Debug, Clone)]
pub struct Plan {
    pub input_shape: Vec<usize>,
    pub layers: Vec<PlannedLayer>,
    /// Σ layer parameters: the analysis's `totals.params` for the same list and input.
    pub params: u64,
    /// Multiply-accumulates for one sample (the analysis's `totals.macs`).
    pub macs: u64,
    /// Batch-norm running statistics (not parameters).
    pub buffers: u64,
    /// Width of the final output (classes, or a forecast's horizon).
    pub outputs: usize,
}

/// An input shape as a request writes it (1 to 3 positive integers), errors naming `field`.
pub fn shape(v: &Value, field: &str) -> Result<Vec<usize>, AnalysisError> {
    layers::parse_shape(v, field)
}

/// Plans `architecture` (an object with `layers`, or a bare layer list) for inputs of
/// `input_shape` and `outputs` output units (an output layer without `units` gets them).
/// Errors name `architecture.…` fields, as the analysis does.
pub fn plan(
    architecture: &Value,
    input_shape: &[usize],
    outputs: usize,
) -> Result<Plan, AnalysisError> {
    let arch = layers::parse(Some(architecture))?;
    if !arch.has_layer_list || arch.layers.is_empty() {
        return Err(AnalysisError::invalid(
            "architecture.layers",
            "a network needs a non-empty `layers` list",
        ));
    }
    if let Some((stated, path)) = &arch.input_shape {
        if stated.as_slice() != input_shape {
            return Err(AnalysisError::invalid(
                path.clone(),
                format!("{stated:?} differs from the dataset's input shape {input_shape:?}"),
            ));
        }
    }
    let ctx = Context::for_network(input_shape, outputs);
    let prop = shapes::propagate(&arch, &ctx, &mut Vec::new())?;
    if let Some(e) = prop.events.iter().find_map(blocking) {
        return Err(e);
    }
    let n = arch.layers.len();
    let mut planned = Vec::with_capacity(n);
    let mut last_weight: Option<usize> = None;
    let mut previous = input_shape.to_vec();
    for (spec, row) in arch.layers.iter().zip(&prop.rows) {
        let field = format!("architecture.layers[{}]", spec.index);
        let output = row.output_shape.clone().ok_or_else(|| {
            AnalysisError::invalid(field.clone(), "the output shape of this layer is unknown")
        })?;
        let params = row.params.ok_or_else(|| {
            AnalysisError::invalid(
                field.clone(),
                "the parameter count of this layer is unknown",
            )
        })?;
        let added = match spec.op {
            Op::Residual { from, .. } => Some(match from {
                ResidualFrom::Input => Added::Input,
                ResidualFrom::Layer(j) => Added::Layer(j),
                ResidualFrom::Default => match last_weight {
                    None | Some(0) => Added::Input,
                    Some(w) => Added::Layer(w - 1),
                },
            }),
            _ => None,
        };
        if spec.kind.is_weight_layer() {
            last_weight = Some(spec.index);
        }
        let added_shape = added.map(|a| match a {
            Added::Input => input_shape.to_vec(),
            Added::Layer(j) => planned
                .get(j)
                .map(|l: &PlannedLayer| l.output.clone())
                .unwrap_or_default(),
        });
        let mut layer = planned_layer(spec, previous, output.clone(), params, added);
        layer.added_shape = added_shape;
        planned.push(layer);
        previous = output;
    }
    let last = planned.last().expect("non-empty");
    if last.output != [outputs] {
        return Err(AnalysisError::invalid(
            format!("architecture.layers[{}]", last.index),
            format!(
                "the network ends in shape {:?}; it must end in [{outputs}] (a dense or output \
                 layer of {outputs} units: one per class, or the forecast horizon)",
                last.output
            ),
        ));
    }
    Ok(Plan {
        input_shape: input_shape.to_vec(),
        params: prop.totals.params.unwrap_or(0),
        macs: prop.totals.macs.unwrap_or(0),
        buffers: prop.totals.non_trainable_buffers,
        layers: planned,
        outputs,
    })
}

fn planned_layer(
    spec: &LayerSpec,
    input: Vec<usize>,
    output: Vec<usize>,
    params: u64,
    added: Option<Added>,
) -> PlannedLayer {
    PlannedLayer {
        index: spec.index,
        type_written: spec.type_written.clone(),
        kind: spec.kind,
        op: spec.op.clone(),
        activation: spec.activation.clone(),
        inline_dropout: spec.inline_dropout,
        input,
        output,
        params,
        added,
        added_shape: None,
    }
}

fn show(d: &[Option<usize>]) -> String {
    let parts: Vec<String> = d
        .iter()
        .map(|x| x.map_or("?".to_string(), |v| v.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// A structural event that stops a network from being built, as an error on its layer.
fn blocking(e: &Event) -> Option<AnalysisError> {
    let at = |layer: &usize| format!("architecture.layers[{layer}]");
    Some(match e {
        Event::Collapse {
            layer,
            input,
            kernel,
            stride,
            padding,
            ..
        } => AnalysisError::invalid(
            at(layer),
            format!(
                "{} and {padding} padding does not fit the input {}",
                shapes::window_text(kernel, stride),
                show(input)
            ),
        ),
        Event::Incompatible {
            layer,
            input,
            expected,
            ..
        } => AnalysisError::invalid(
            at(layer),
            format!("expects an input of {expected}, gets {}", show(input)),
        ),
        Event::ResidualMismatch {
            layer,
            from,
            added,
            current,
        } => AnalysisError::invalid(
            at(layer),
            format!(
                "cannot add the output of {from} ({}) to {}: the shapes differ",
                show(added),
                show(current)
            ),
        ),
        Event::HeadsIndivisible { layer, d, heads } => AnalysisError::invalid(
            at(layer),
            format!("width {d} is not divisible by {heads} heads"),
        ),
        Event::DeclaredMismatch {
            layer,
            param,
            declared,
            computed,
        } => AnalysisError::invalid(
            at(layer),
            format!("{param} is declared {declared}, but the input gives {computed}"),
        ),
        Event::KernelLarger { .. } => return None,
    })
}

impl Context {
    /// What the data of a training job fixes: the input shape and the output width.
    pub(crate) fn for_network(input_shape: &[usize], outputs: usize) -> Context {
        Context {
            dataset: None,
            input_shape: Some(input_shape.to_vec()),
            input_shape_source: "dataset".into(),
            num_classes: Some(outputs),
            num_classes_source: "dataset".into(),
            samples: None,
            samples_source: "unknown".into(),
            task: Task::Classification,
            multi_label: false,
            augmentation_mentioned: false,
            image_input: input_shape.len() == 3,
            dataset_shape_conflict: None,
            weight_decay_in_metrics: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec_cnn() -> Value {
        json!({"layers": [
            {"type": "conv2d", "filters": 32, "kernel_size": 3, "activation": "relu"},
            {"type": "maxpool", "pool_size": 2},
            {"type": "conv2d", "filters": 64, "kernel_size": 3, "activation": "relu"},
            {"type": "flatten"},
            {"type": "dense", "units": 128, "activation": "relu"},
            {"type": "dropout", "rate": 0.5},
            {"type": "output", "activation": "softmax"}
        ]})
    }

    #[test]
    fn plan_counts_what_the_analysis_counts() {
        let arch = spec_cnn();
        let plan = plan(&arch, &[28, 28, 1], 10).unwrap();
        let analysis = crate::analyze(&crate::AnalysisInput {
            architecture: Some(json!({"input_shape": [28, 28, 1], "layers": arch["layers"]})),
            model_description: Some("a classifier of 10 classes".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(Some(plan.params), analysis.totals.params);
        assert_eq!(Some(plan.macs), analysis.totals.macs);
        assert_eq!(plan.layers[3].output, vec![11 * 11 * 64]);
        assert_eq!(plan.layers.last().unwrap().output, vec![10]);
        let sum: u64 = plan.layers.iter().map(|l| l.params).sum();
        assert_eq!(sum, plan.params);
    }

    #[test]
    fn structural_problems_name_their_layer() {
        let collapse = json!({"layers": [
            {"type": "conv2d", "filters": 4, "kernel_size": 9},
            {"type": "dense", "units": 2}
        ]});
        let e = plan(&collapse, &[8, 8, 1], 2).unwrap_err();
        assert_eq!(e.field(), "architecture.layers[0]");
        let wrong_end = json!([{"type": "dense", "units": 3}]);
        let e = plan(&wrong_end, &[4], 2).unwrap_err();
        assert_eq!(e.field(), "architecture.layers[0]");
        let rank = json!([{"type": "conv2d", "filters": 2, "kernel_size": 1}, {"type": "dense", "units": 2}]);
        assert_eq!(
            plan(&rank, &[4], 2).unwrap_err().field(),
            "architecture.layers[0]"
        );
        let shape = json!({"input_shape": [9, 9, 1], "layers": [{"type": "dense", "units": 2}]});
        assert_eq!(
            plan(&shape, &[8, 8, 1], 2).unwrap_err().field(),
            "architecture.input_shape"
        );
        assert_eq!(
            plan(&json!({"layers": []}), &[4], 2).unwrap_err().field(),
            "architecture.layers"
        );
    }

    #[test]
    fn residuals_resolve_what_they_add() {
        let arch = json!([
            {"type": "dense", "units": 8},
            {"type": "dense", "units": 8},
            {"type": "residual"},
            {"type": "residual", "from": "input"},
            {"type": "dense", "units": 2}
        ]);
        let p = plan(&arch, &[8], 2).unwrap();
        assert_eq!(p.layers[2].added, Some(Added::Layer(0)));
        assert_eq!(p.layers[3].added, Some(Added::Input));
    }
}
