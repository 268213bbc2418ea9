//! ONNX export: a fitted model of any family as one ONNX graph that takes the **raw** feature
//! columns and answers what `predict` answers.
//!
//! * Inputs ([`signature`]): when every feature is a number (numeric or integer columns), one
//!   float matrix `input` of shape `[N, columns]` in the encoder's column order; otherwise one
//!   input per column, named as the column, of shape `[N, 1]`: `float` for numeric and
//!   integer columns, `double` for datetimes (unix seconds), `string` for categorical and
//!   boolean ones. A missing number is NaN; a missing or unseen category is any string the
//!   model was not trained on (`""`).
//! * The encoder as nodes: for networks, numbers are imputed with the train mean
//!   (`Equal(x, x)`/`Where`) and standardized (`Sub`/`Div`, in double as the encoder does), then cast
//!   to float; categories become one-hot columns (`ai.onnx.ml.CategoryMapper` to the sorted
//!   category's index, then `Equal` against `0..K`, unseen: all zeros). For trees, numbers pass
//!   through (NaN stays missing) and a category becomes its index as a float (NaN when unseen).
//!   Booleans map `true`/`True`/`TRUE` and the same for false, as the encoder lower-cases them.
//! * The model: a network is `Gemm` layers with `Relu`, `Tanh` or the erf GELU between them;
//!   gradient-boosted trees are one `ai.onnx.ml.TreeEnsembleRegressor` answering each
//!   booster's raw score (one column per booster), then the value, `[1 − σ(s), σ(s)]` for one
//!   binary booster, or the softmax over one booster per class (as `predict` computes them;
//!   not `TreeEnsembleClassifier`, whose two-class case onnxruntime computes its own way);
//!   the baseline is its constant, expanded to N rows.
//! * Outputs: classification `label` (string `[N]`, the most probable class, the first of
//!   equals as `ArgMax` picks it) and `probabilities` (float `[N, classes]`, classes in the
//!   record's order); regression `value` (double `[N, 1]`, in the target's units). An output
//!   name a feature column already uses gets a `_` appended.
//! * Opset 17 of the default domain and 3 of `ai.onnx.ml`, IR version 8 (onnxruntime 1.14 and
//!   later, tract). Split thresholds are float: each is the smallest float not below forust's
//!   double threshold, so `x < t` in float decides exactly as `x < threshold` in double.

#[allow(clippy::all)]
pub mod proto;

use std::collections::HashSet;

use prost::Message;

use self::proto::tensor_proto::DataType;
use self::proto::{
    attribute_proto::AttributeType, tensor_shape_proto, type_proto, AttributeProto, GraphProto,
    ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use super::data::{FeatureEncoding, Task};
use super::fitted::{Baseline, Model};
use super::gbm::GbmModel;
use super::model::{Activation, Architecture};
use super::{Artifact, Encoder, TrainingError};

/// The default domain's opset the graphs use.
pub const OPSET: i64 = 17;
/// The `ai.onnx.ml` opset (CategoryMapper, the tree ensembles).
pub const ML_OPSET: i64 = 3;
/// ONNX IR version 8 goes with opset 17.
pub const IR_VERSION: i64 = 8;
const ML: &str = "ai.onnx.ml";
/// The single input's name when every feature is a number.
pub const MATRIX_INPUT: &str = "input";

/// A tensor's element type, as ONNX names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemType {
    Float,
    Double,
    String,
}

impl ElemType {
    pub fn as_str(self) -> &'static str {
        match self {
            ElemType::Float => "float",
            ElemType::Double => "double",
            ElemType::String => "string",
        }
    }

    fn data_type(self) -> DataType {
        match self {
            ElemType::Float => DataType::Float,
            ElemType::Double => DataType::Double,
            ElemType::String => DataType::String,
        }
    }
}

/// One input or output of the graph: `[N]` when `width` is `None`, else `[N, width]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Port {
    pub name: String,
    pub elem_type: ElemType,
    pub width: Option<usize>,
    /// The matrix input: its columns, in order.
    pub columns: Vec<String>,
}

/// The graph's inputs and outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    pub inputs: Vec<Port>,
    pub outputs: Vec<Port>,
}

fn column_of(f: &FeatureEncoding) -> (&str, &str) {
    match f {
        FeatureEncoding::Standardized { column, kind, .. }
        | FeatureEncoding::OneHot { column, kind, .. }
        | FeatureEncoding::Raw { column, kind, .. }
        | FeatureEncoding::Code { column, kind, .. } => (column, kind),
    }
}

/// Whether every feature is a float number (the single-matrix input).
fn all_numeric(encoder: &Encoder) -> bool {
    encoder.features.iter().all(|f| {
        matches!(
            f,
            FeatureEncoding::Standardized { kind, .. } | FeatureEncoding::Raw { kind, .. }
                if kind == "numeric" || kind == "integer"
        )
    })
}

fn input_type(f: &FeatureEncoding) -> ElemType {
    match f {
        FeatureEncoding::OneHot { .. } | FeatureEncoding::Code { .. } => ElemType::String,
        _ if column_of(f).1 == "datetime" => ElemType::Double,
        _ => ElemType::Float,
    }
}

/// The inputs and outputs an export of a model with this encoder has (module docs).
pub fn signature(encoder: &Encoder) -> Signature {
    let inputs = if all_numeric(encoder) {
        vec![Port {
            name: MATRIX_INPUT.into(),
            elem_type: ElemType::Float,
            width: Some(encoder.features.len()),
            columns: encoder
                .features
                .iter()
                .map(|f| column_of(f).0.to_string())
                .collect(),
        }]
    } else {
        encoder
            .features
            .iter()
            .map(|f| Port {
                name: column_of(f).0.to_string(),
                elem_type: input_type(f),
                width: Some(1),
                columns: Vec::new(),
            })
            .collect()
    };
    let taken: HashSet<&str> = inputs.iter().map(|p| p.name.as_str()).collect();
    let name = |base: &str| {
        let mut n = base.to_string();
        while taken.contains(n.as_str()) {
            n.push('_');
        }
        n
    };
    let outputs = match encoder.task {
        Task::Classification => vec![
            Port {
                name: name("label"),
                elem_type: ElemType::String,
                width: None,
                columns: Vec::new(),
            },
            Port {
                name: name("probabilities"),
                elem_type: ElemType::Float,
                width: Some(encoder.classes.len()),
                columns: Vec::new(),
            },
        ],
        Task::Regression => vec![Port {
            name: name("value"),
            elem_type: ElemType::Double,
            width: Some(1),
            columns: Vec::new(),
        }],
    };
    Signature { inputs, outputs }
}

/// The model as an ONNX file (module docs).
pub fn export(model: &Model) -> Result<Vec<u8>, TrainingError> {
    let encoder = model.encoder();
    let sig = signature(encoder);
    let mut g = Graph::new(&sig);
    let features = g.features(encoder, &sig)?;
    match model {
        Model::Network(a) => g.network(a, &features, &sig),
        Model::Gbm(m) => g.trees(m, &features, &sig)?,
        Model::Baseline(b) => g.baseline(b, &features, &sig),
    }
    let graph = GraphProto {
        name: format!("mlaas {}", model.family()),
        node: g.nodes,
        initializer: g.initializers,
        input: sig.inputs.iter().map(value_info).collect(),
        output: sig.outputs.iter().map(value_info).collect(),
        ..GraphProto::default()
    };
    let meta = |key: &str, value: String| StringStringEntryProto {
        key: key.into(),
        value,
    };
    let file = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![
            OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
            },
            OperatorSetIdProto {
                domain: ML.into(),
                version: ML_OPSET,
            },
        ],
        producer_name: "mlaas".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!(
            "{} {} of {:?}: raw feature columns in, {} out",
            model.family(),
            encoder.task.as_str(),
            encoder.target,
            if encoder.task == Task::Classification {
                "label and probabilities"
            } else {
                "value"
            }
        ),
        graph: Some(graph),
        metadata_props: vec![
            meta("family", model.family().into()),
            meta("task", encoder.task.as_str().into()),
            meta("target", encoder.target.clone()),
            meta(
                "classes",
                serde_json::to_string(&encoder.classes).unwrap_or_default(),
            ),
        ],
        ..ModelProto::default()
    };
    Ok(file.encode_to_vec())
}

fn value_info(p: &Port) -> ValueInfoProto {
    let dim = |value| tensor_shape_proto::Dimension {
        value: Some(value),
        ..Default::default()
    };
    let mut dims = vec![dim(tensor_shape_proto::dimension::Value::DimParam(
        "N".into(),
    ))];
    if let Some(w) = p.width {
        dims.push(dim(tensor_shape_proto::dimension::Value::DimValue(
            w as i64,
        )));
    }
    ValueInfoProto {
        name: p.name.clone(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: p.elem_type.data_type() as i32,
                shape: Some(TensorShapeProto { dim: dims }),
            })),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}

/// Attribute constructors.
fn attr(name: &str, kind: AttributeType) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: kind as i32,
        ..AttributeProto::default()
    }
}
fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        i: v,
        ..attr(name, AttributeType::Int)
    }
}
fn ints(name: &str, v: Vec<i64>) -> AttributeProto {
    AttributeProto {
        ints: v,
        ..attr(name, AttributeType::Ints)
    }
}
fn floats(name: &str, v: Vec<f32>) -> AttributeProto {
    AttributeProto {
        floats: v,
        ..attr(name, AttributeType::Floats)
    }
}
fn string(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        s: v.as_bytes().to_vec(),
        ..attr(name, AttributeType::String)
    }
}
fn strings(name: &str, v: Vec<String>) -> AttributeProto {
    AttributeProto {
        strings: v.into_iter().map(String::into_bytes).collect(),
        ..attr(name, AttributeType::Strings)
    }
}

/// A graph under construction: nodes, constants, and fresh names that cannot collide with a
/// column's.
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    reserved: HashSet<String>,
    next: usize,
}

impl Graph {
    fn new(sig: &Signature) -> Graph {
        Graph {
            nodes: Vec::new(),
            initializers: Vec::new(),
            reserved: sig
                .inputs
                .iter()
                .chain(&sig.outputs)
                .map(|p| p.name.clone())
                .collect(),
            next: 0,
        }
    }

    fn fresh(&mut self, hint: &str) -> String {
        loop {
            self.next += 1;
            let name = format!("{hint}.{}", self.next);
            if !self.reserved.contains(&name) {
                return name;
            }
        }
    }

    fn constant(
        &mut self,
        hint: &str,
        dims: &[usize],
        fill: impl FnOnce(&mut TensorProto),
    ) -> String {
        let name = self.fresh(hint);
        let mut t = TensorProto {
            name: name.clone(),
            dims: dims.iter().map(|&d| d as i64).collect(),
            ..TensorProto::default()
        };
        fill(&mut t);
        self.initializers.push(t);
        name
    }

    fn f32s(&mut self, hint: &str, dims: &[usize], v: Vec<f32>) -> String {
        self.constant(hint, dims, |t| {
            t.data_type = DataType::Float as i32;
            t.float_data = v;
        })
    }

    fn f64s(&mut self, hint: &str, dims: &[usize], v: Vec<f64>) -> String {
        self.constant(hint, dims, |t| {
            t.data_type = DataType::Double as i32;
            t.double_data = v;
        })
    }

    fn i64s(&mut self, hint: &str, dims: &[usize], v: Vec<i64>) -> String {
        self.constant(hint, dims, |t| {
            t.data_type = DataType::Int64 as i32;
            t.int64_data = v;
        })
    }

    fn texts(&mut self, hint: &str, dims: &[usize], v: &[String]) -> String {
        self.constant(hint, dims, |t| {
            t.data_type = DataType::String as i32;
            t.string_data = v.iter().map(|s| s.clone().into_bytes()).collect();
        })
    }

    /// A node of the default domain (or `domain`) writing `outputs`.
    fn emit(
        &mut self,
        domain: &str,
        op: &str,
        inputs: &[&str],
        outputs: &[&str],
        attribute: Vec<AttributeProto>,
    ) {
        let name = self.fresh(op);
        self.nodes.push(NodeProto {
            name,
            op_type: op.into(),
            domain: domain.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute,
            ..NodeProto::default()
        });
    }

    /// A default-domain node with one fresh output, returned.
    fn op(&mut self, op: &str, inputs: &[&str], attribute: Vec<AttributeProto>) -> String {
        let out = self.fresh(&op.to_ascii_lowercase());
        self.emit("", op, inputs, &[&out], attribute);
        out
    }

    fn cast(&mut self, x: &str, to: DataType) -> String {
        self.op("Cast", &[x], vec![int("to", to as i64)])
    }

    /// `(x − mean) / std` in double, a missing x taken as the mean, cast to float. `x` is float
    /// or double; `mean` and `std` one value per column of x.
    fn standardize(&mut self, x: &str, double: bool, mean: Vec<f64>, std: Vec<f64>) -> String {
        let x = if double {
            x.to_string()
        } else {
            self.cast(x, DataType::Double)
        };
        let n = mean.len();
        let m = self.f64s("mean", &[1, n], mean);
        let s = self.f64s("std", &[1, n], std);
        // x == x is false only for NaN (tract's IsNaN takes no doubles).
        let present = self.op("Equal", &[&x, &x], vec![]);
        let filled = self.op("Where", &[&present, &x, &m], vec![]);
        let centered = self.op("Sub", &[&filled, &m], vec![]);
        let z = self.op("Div", &[&centered, &s], vec![]);
        self.cast(&z, DataType::Float)
    }

    /// A string column as its category's index (int64), −1 when unseen.
    fn category_index(&mut self, x: &str, kind: &str, categories: &[String]) -> String {
        let mut keys = Vec::new();
        let mut ids = Vec::new();
        for (i, c) in categories.iter().enumerate() {
            let mut spellings = vec![c.clone()];
            if kind == "boolean" {
                let mut title = c.clone();
                if let Some(first) = title.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                spellings.push(title);
                spellings.push(c.to_ascii_uppercase());
                spellings.dedup();
            }
            for s in spellings {
                keys.push(s);
                ids.push(i as i64);
            }
        }
        let out = self.fresh("category");
        self.emit(
            ML,
            "CategoryMapper",
            &[x],
            &[&out],
            vec![
                strings("cats_strings", keys),
                ints("cats_int64s", ids),
                int("default_int64", -1),
            ],
        );
        out
    }

    /// The encoded feature matrix, float `[N, width]`, from the inputs.
    fn features(&mut self, encoder: &Encoder, sig: &Signature) -> Result<String, TrainingError> {
        if encoder.features.is_empty() {
            return Err(TrainingError::Artifact("the model has no features".into()));
        }
        if all_numeric(encoder) {
            let input = MATRIX_INPUT;
            let standardized: Vec<(f64, f64)> = encoder
                .features
                .iter()
                .filter_map(|f| match f {
                    FeatureEncoding::Standardized { mean, std, .. } => Some((*mean, *std)),
                    _ => None,
                })
                .collect();
            return Ok(if standardized.is_empty() {
                // Trees: the numbers as they are.
                self.op("Identity", &[input], vec![])
            } else {
                let (mean, std) = standardized.into_iter().unzip();
                self.standardize(input, false, mean, std)
            });
        }
        let mut parts = Vec::new();
        for (f, port) in encoder.features.iter().zip(&sig.inputs) {
            let x = port.name.as_str();
            let double = port.elem_type == ElemType::Double;
            let part = match f {
                FeatureEncoding::Standardized { mean, std, .. } => {
                    self.standardize(x, double, vec![*mean], vec![*std])
                }
                FeatureEncoding::Raw { .. } if double => self.cast(x, DataType::Float),
                FeatureEncoding::Raw { .. } => self.op("Identity", &[x], vec![]),
                FeatureEncoding::OneHot {
                    kind, categories, ..
                } => {
                    let index = self.category_index(x, kind, categories);
                    let range = self.i64s(
                        "codes",
                        &[1, categories.len()],
                        (0..categories.len() as i64).collect(),
                    );
                    let hot = self.op("Equal", &[&index, &range], vec![]);
                    self.cast(&hot, DataType::Float)
                }
                FeatureEncoding::Code {
                    kind, categories, ..
                } => {
                    let index = self.category_index(x, kind, categories);
                    let code = self.cast(&index, DataType::Float);
                    let zero = self.f32s("zero", &[], vec![0.0]);
                    let nan = self.f32s("nan", &[], vec![f32::NAN]);
                    let unseen = self.op("Less", &[&code, &zero], vec![]);
                    self.op("Where", &[&unseen, &nan, &code], vec![])
                }
            };
            parts.push(part);
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        Ok(self.op("Concat", &refs, vec![int("axis", 1)]))
    }

    /// `label` and `probabilities` from per-class scores (`scores` already probabilities when
    /// `softmax` is false).
    fn class_outputs(&mut self, scores: &str, softmax: bool, encoder: &Encoder, sig: &Signature) {
        let (label, probabilities) = (&sig.outputs[0].name, &sig.outputs[1].name);
        if softmax {
            self.emit(
                "",
                "Softmax",
                &[scores],
                &[probabilities],
                vec![int("axis", 1)],
            );
        } else {
            self.emit("", "Identity", &[scores], &[probabilities], vec![]);
        }
        let best = self.op(
            "ArgMax",
            &[probabilities],
            vec![int("axis", 1), int("keepdims", 0)],
        );
        let classes = self.texts("classes", &[encoder.classes.len()], &encoder.classes);
        self.emit(
            "",
            "Gather",
            &[&classes, &best],
            &[label],
            vec![int("axis", 0)],
        );
    }

    fn network(&mut self, a: &Artifact, features: &str, sig: &Signature) {
        let activation = match &a.architecture {
            Architecture::LogisticRegression => Activation::Relu,
            Architecture::Mlp { activation, .. } => *activation,
        };
        let mut h = features.to_string();
        let last = a.layers.len().saturating_sub(1);
        for (i, l) in a.layers.iter().enumerate() {
            let w = self.f32s("weight", &[l.outputs, l.inputs], l.weight.clone());
            let b = self.f32s("bias", &[l.outputs], l.bias.clone());
            h = self.op("Gemm", &[&h, &w, &b], vec![int("transB", 1)]);
            if i < last {
                h = match activation {
                    Activation::Relu => self.op("Relu", &[&h], vec![]),
                    Activation::Tanh => self.op("Tanh", &[&h], vec![]),
                    // 0.5 · x · (1 + erf(x / √2)), as candle's `gelu_erf`.
                    Activation::Gelu => {
                        let root2 = self.f32s("sqrt2", &[], vec![std::f32::consts::SQRT_2]);
                        let one = self.f32s("one", &[], vec![1.0]);
                        let half = self.f32s("half", &[], vec![0.5]);
                        let scaled = self.op("Div", &[&h, &root2], vec![]);
                        let erf = self.op("Erf", &[&scaled], vec![]);
                        let plus = self.op("Add", &[&erf, &one], vec![]);
                        let times = self.op("Mul", &[&h, &plus], vec![]);
                        self.op("Mul", &[&times, &half], vec![])
                    }
                };
            }
        }
        match a.encoder.task {
            Task::Classification => self.class_outputs(&h, true, &a.encoder, sig),
            Task::Regression => {
                let scale = a.encoder.target_scale.unwrap_or(super::TargetScale {
                    mean: 0.0,
                    std: 1.0,
                });
                let z = self.cast(&h, DataType::Double);
                let std = self.f64s("target_std", &[], vec![scale.std]);
                let mean = self.f64s("target_mean", &[], vec![scale.mean]);
                let scaled = self.op("Mul", &[&z, &std], vec![]);
                self.emit(
                    "",
                    "Add",
                    &[&scaled, &mean],
                    &[&sig.outputs[0].name],
                    vec![],
                );
            }
        }
    }

    fn trees(
        &mut self,
        m: &GbmModel,
        features: &str,
        sig: &Signature,
    ) -> Result<(), TrainingError> {
        let boosters = m.booster_trees()?;
        let mut e = Ensemble::default();
        let mut tree_id = 0i64;
        for (target, b) in boosters.iter().enumerate() {
            for tree in &b.trees {
                for (id, n) in tree.iter().enumerate() {
                    e.push_node(tree_id, id, n);
                    if n.leaf {
                        e.leaf(tree_id, id, target as i64, n.weight);
                    }
                }
                tree_id += 1;
            }
        }
        if tree_id == 0 {
            return Err(TrainingError::Artifact("the model has no trees".into()));
        }
        let mut attrs = e.attributes("target");
        attrs.push(floats(
            "base_values",
            boosters.iter().map(|b| b.base_score as f32).collect(),
        ));
        attrs.push(int("n_targets", boosters.len() as i64));
        attrs.push(string("aggregate_function", "SUM"));
        attrs.push(string("post_transform", "NONE"));
        let scores = self.fresh("tree_scores");
        self.emit(ML, "TreeEnsembleRegressor", &[features], &[&scores], attrs);
        match m.encoder.task {
            Task::Regression => self.emit(
                "",
                "Cast",
                &[&scores],
                &[&sig.outputs[0].name],
                vec![int("to", DataType::Double as i64)],
            ),
            // One booster's log-odds s: [1 − σ(s), σ(s)].
            Task::Classification if boosters.len() == 1 => {
                let p = self.op("Sigmoid", &[&scores], vec![]);
                let one = self.f32s("one", &[], vec![1.0]);
                let q = self.op("Sub", &[&one, &p], vec![]);
                let both = self.op("Concat", &[&q, &p], vec![int("axis", 1)]);
                self.class_outputs(&both, false, &m.encoder, sig);
            }
            Task::Classification => self.class_outputs(&scores, true, &m.encoder, sig),
        }
        Ok(())
    }

    fn baseline(&mut self, b: &Baseline, features: &str, sig: &Signature) {
        let shape = self.op("Shape", &[features], vec![]);
        let first = self.i64s("first", &[1], vec![0]);
        let rows = self.op("Gather", &[&shape, &first], vec![int("axis", 0)]);
        let k = b.outputs.len();
        let width = self.i64s("width", &[1], vec![k as i64]);
        let target_shape = self.op("Concat", &[&rows, &width], vec![int("axis", 0)]);
        match b.encoder.task {
            Task::Classification => {
                let p = self.f32s(
                    "shares",
                    &[1, k],
                    b.outputs.iter().map(|&v| v as f32).collect(),
                );
                let all = self.op("Expand", &[&p, &target_shape], vec![]);
                self.class_outputs(&all, false, &b.encoder, sig);
            }
            Task::Regression => {
                let v = self.f64s("mean", &[1, 1], b.outputs.clone());
                self.emit(
                    "",
                    "Expand",
                    &[&v, &target_shape],
                    &[&sig.outputs[0].name],
                    vec![],
                );
            }
        }
    }
}

/// A tree ensemble's parallel attribute lists.
#[derive(Default)]
struct Ensemble {
    tree_ids: Vec<i64>,
    node_ids: Vec<i64>,
    features: Vec<i64>,
    modes: Vec<String>,
    values: Vec<f32>,
    true_ids: Vec<i64>,
    false_ids: Vec<i64>,
    missing_true: Vec<i64>,
    leaf_tree_ids: Vec<i64>,
    leaf_node_ids: Vec<i64>,
    leaf_targets: Vec<i64>,
    leaf_weights: Vec<f32>,
}

/// The smallest float not below `t`: for every float x, `x < up(t)` exactly when `x < t`.
fn threshold_up(t: f64) -> f32 {
    let r = t as f32;
    if f64::from(r) < t {
        r.next_up()
    } else {
        r
    }
}

impl Ensemble {
    fn push_node(&mut self, tree: i64, id: usize, n: &super::gbm::TreeNode) {
        self.tree_ids.push(tree);
        self.node_ids.push(id as i64);
        if n.leaf {
            self.features.push(0);
            self.modes.push("LEAF".into());
            self.values.push(0.0);
            self.true_ids.push(0);
            self.false_ids.push(0);
            self.missing_true.push(0);
        } else {
            self.features.push(n.feature as i64);
            self.modes.push("BRANCH_LT".into());
            self.values.push(threshold_up(n.threshold));
            self.true_ids.push(n.left as i64);
            self.false_ids.push(n.right as i64);
            self.missing_true.push(i64::from(n.missing_left));
        }
    }

    fn leaf(&mut self, tree: i64, id: usize, target: i64, weight: f32) {
        self.leaf_tree_ids.push(tree);
        self.leaf_node_ids.push(id as i64);
        self.leaf_targets.push(target);
        self.leaf_weights.push(weight);
    }

    fn attributes(self, prefix: &str) -> Vec<AttributeProto> {
        vec![
            ints("nodes_treeids", self.tree_ids),
            ints("nodes_nodeids", self.node_ids),
            ints("nodes_featureids", self.features),
            strings("nodes_modes", self.modes),
            floats("nodes_values", self.values),
            ints("nodes_truenodeids", self.true_ids),
            ints("nodes_falsenodeids", self.false_ids),
            ints("nodes_missing_value_tracks_true", self.missing_true),
            ints(&format!("{prefix}_treeids"), self.leaf_tree_ids),
            ints(&format!("{prefix}_nodeids"), self.leaf_node_ids),
            ints(&format!("{prefix}_ids"), self.leaf_targets),
            floats(&format!("{prefix}_weights"), self.leaf_weights),
        ]
    }
}

#[cfg(test)]
mod tests;
