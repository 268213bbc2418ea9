//! Every family's export, run by tract (an independent ONNX runtime), against `predict` on
//! the same rows.

use prost::Message;
use serde_json::{json, Value};
use synth::{DatasetColumn, Table};
use tract_onnx::prelude::*;

use super::proto::{self, AttributeProto, ModelProto, NodeProto, TensorProto};
use super::*;
use crate::fixtures::{json_rows, xor};
use crate::{
    gbm, linear, train, Activation, Baseline, FitOptions, GbmParams, Matrix, OptimizerKind,
    Prediction, Style, TrainParams,
};

fn col(name: &str, kind: &str) -> DatasetColumn {
    DatasetColumn {
        name: name.into(),
        kind: kind.into(),
        reason: None,
        words: None,
    }
}

/// Every column kind, with gaps: `x` numeric (every 7th missing), `n` integer, `at` a
/// datetime, `flag` boolean, `color` categorical (every 11th missing), and `target`: three
/// classes, or a number.
fn mixed(rows: usize, regression: bool) -> (Table, Vec<DatasetColumn>) {
    let colors = ["red", "green", "blue", "amber"];
    let rows = (0..rows)
        .map(|i| {
            let x = ((i * 37) % 101) as f64 / 25.0 - 2.0;
            let n = (i * 13) % 17;
            let flag = i % 3 == 0;
            let color = colors[(i * 7) % 4];
            let effect = match color {
                "red" => 1.5,
                "blue" => -1.0,
                _ => 0.0,
            };
            let score = x + if flag { 1.0 } else { -1.0 } + effect + n as f64 * 0.05;
            let target = if regression {
                json!(3.0 * score + ((i * 29) % 13) as f64 * 0.1)
            } else {
                json!(if score < -0.5 {
                    "low"
                } else if score < 1.0 {
                    "mid"
                } else {
                    "high"
                })
            };
            vec![
                if i % 7 == 3 { Value::Null } else { json!(x) },
                json!(n),
                json!(format!(
                    "2024-{:02}-{:02}T{:02}:00:00Z",
                    1 + i % 12,
                    1 + i % 28,
                    i % 24
                )),
                json!(flag),
                if i % 11 == 5 {
                    Value::Null
                } else {
                    json!(color)
                },
                target,
            ]
        })
        .collect();
    let table = Table {
        columns: ["x", "n", "at", "flag", "color", "target"]
            .map(String::from)
            .to_vec(),
        rows,
    };
    let kinds = vec![
        col("x", "numeric"),
        col("n", "integer"),
        col("at", "datetime"),
        col("flag", "boolean"),
        col("color", "categorical"),
        col("target", if regression { "numeric" } else { "categorical" }),
    ];
    (table, kinds)
}

/// Train and validation matrices and the encoder, fitted on the first 80 % of rows.
fn encode(
    table: &Table,
    kinds: &[DatasetColumn],
    task: Task,
    style: Style,
) -> (Matrix, Matrix, Encoder) {
    let cut = table.rows.len() * 4 / 5;
    let part = |rows: &[Vec<Value>]| Table {
        columns: table.columns.clone(),
        rows: rows.to_vec(),
    };
    let (train_t, val_t) = (part(&table.rows[..cut]), part(&table.rows[cut..]));
    let options = FitOptions {
        task,
        style,
        ..FitOptions::default()
    };
    let enc = Encoder::fit_with(&train_t, kinds, "target", &options).unwrap();
    (
        enc.encode(&train_t).unwrap(),
        enc.encode(&val_t).unwrap(),
        enc,
    )
}

/// The validation rows as a client sends them, plus rows a client may also send: an unseen
/// category, every value missing, a boolean spelled `True`.
fn request_rows(table: &Table) -> Vec<Value> {
    let mut rows = json_rows(&Table {
        columns: table.columns.clone(),
        rows: table.rows[table.rows.len() * 4 / 5..].to_vec(),
    });
    for r in &mut rows {
        r.as_object_mut().unwrap().remove("target");
    }
    if table.columns.len() > 3 {
        rows.push(json!({"x": 0.5, "n": 3, "at": "2024-06-01T00:00:00Z", "flag": "True", "color": "purple"}));
        rows.push(json!({}));
    } else {
        rows.push(json!({"x1": 0.25}));
    }
    rows
}

fn cell<'a>(row: &'a Value, column: &str) -> &'a Value {
    row.get(column).unwrap_or(&Value::Null)
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => synth::schema::parse_instant(s).map_or(f64::NAN, |t| t as f64),
        _ => f64::NAN,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The graph's inputs for `rows`, as a caller of any runtime builds them (module docs).
fn inputs(sig: &Signature, rows: &[Value]) -> TVec<TValue> {
    let n = rows.len();
    sig.inputs
        .iter()
        .map(|p| {
            let t: Tensor = if p.name == MATRIX_INPUT && !p.columns.is_empty() {
                let v: Vec<f32> = rows
                    .iter()
                    .flat_map(|r| p.columns.iter().map(move |c| number(cell(r, c)) as f32))
                    .collect();
                Tensor::from_shape(&[n, p.columns.len()], &v).unwrap()
            } else {
                match p.elem_type {
                    ElemType::Float => {
                        let v: Vec<f32> = rows
                            .iter()
                            .map(|r| number(cell(r, &p.name)) as f32)
                            .collect();
                        Tensor::from_shape(&[n, 1], &v).unwrap()
                    }
                    ElemType::Double => {
                        let v: Vec<f64> = rows.iter().map(|r| number(cell(r, &p.name))).collect();
                        Tensor::from_shape(&[n, 1], &v).unwrap()
                    }
                    ElemType::String => {
                        let v: Vec<String> = rows.iter().map(|r| text(cell(r, &p.name))).collect();
                        tract_ndarray::Array2::from_shape_vec((n, 1), v)
                            .unwrap()
                            .into()
                    }
                }
            };
            t.into_tvalue()
        })
        .collect()
}

/// tract has no `TreeEnsembleRegressor`; its `TreeEnsembleClassifier` evaluates trees the
/// same way. This rewrites the regressor as a classifier with a class per target (at least
/// three, so tract does not take it for a binary layout), without a post transform, and
/// slices the targets' columns out of its scores.
fn regressor_as_classifier(bytes: &[u8]) -> Vec<u8> {
    let mut m = ModelProto::decode(bytes).unwrap();
    let g = m.graph.as_mut().unwrap();
    let at = g
        .node
        .iter()
        .position(|n| n.op_type == "TreeEnsembleRegressor")
        .unwrap();
    let node = &mut g.node[at];
    let out = node.output[0].clone();
    node.op_type = "TreeEnsembleClassifier".into();
    let targets = node
        .attribute
        .iter()
        .find(|a| a.name == "n_targets")
        .unwrap()
        .i;
    let classes = targets.max(3);
    node.attribute
        .retain(|a| a.name != "n_targets" && a.name != "aggregate_function");
    for a in &mut node.attribute {
        if let Some(rest) = a.name.strip_prefix("target_") {
            a.name = format!("class_{rest}");
        }
        if a.name == "base_values" {
            a.floats.resize(classes as usize, 0.0);
        }
    }
    node.attribute.push(AttributeProto {
        name: "classlabels_int64s".into(),
        r#type: proto::attribute_proto::AttributeType::Ints as i32,
        ints: (0..classes).collect(),
        ..AttributeProto::default()
    });
    node.output = vec![format!("{out}.label"), format!("{out}.scores")];
    for (name, v) in [
        ("slice.starts", 0),
        ("slice.ends", targets),
        ("slice.axes", 1),
    ] {
        g.initializer.push(TensorProto {
            name: name.into(),
            dims: vec![1],
            data_type: proto::tensor_proto::DataType::Int64 as i32,
            int64_data: vec![v],
            ..TensorProto::default()
        });
    }
    g.node.insert(
        at + 1,
        NodeProto {
            op_type: "Slice".into(),
            input: vec![
                format!("{out}.scores"),
                "slice.starts".into(),
                "slice.ends".into(),
                "slice.axes".into(),
            ],
            output: vec![out],
            ..NodeProto::default()
        },
    );
    m.encode_to_vec()
}

/// Runs the export with tract on `rows` and checks every answer against `predict`:
/// probabilities within 1e-5, the same labels, values within 1e-5 relative (1e-5 absolute
/// below 1).
fn check(model: &Model, rows: &[Value]) {
    let sig = signature(model.encoder());
    let mut bytes = export(model).unwrap();
    if model.family() == "gbm" {
        bytes = regressor_as_classifier(&bytes);
    }
    let mut graph = tract_onnx::onnx().model_for_read(&mut &bytes[..]).unwrap();
    for (i, p) in sig.inputs.iter().enumerate() {
        let dt = match p.elem_type {
            ElemType::Float => f32::datum_type(),
            ElemType::Double => f64::datum_type(),
            ElemType::String => String::datum_type(),
        };
        let width = p.width.unwrap_or(1);
        graph = graph
            .with_input_fact(i, InferenceFact::dt_shape(dt, tvec![rows.len(), width]))
            .unwrap();
    }
    let runnable = graph.into_optimized().unwrap().into_runnable().unwrap();
    let out = runnable.run(inputs(&sig, rows)).unwrap();
    let expected = model.predict(rows).unwrap();
    match model.encoder().task {
        Task::Classification => {
            let labels = out[0].to_plain_array_view::<String>().unwrap();
            let probabilities = out[1].to_plain_array_view::<f32>().unwrap();
            assert_eq!(
                probabilities.shape(),
                [rows.len(), model.encoder().classes.len()]
            );
            for (r, p) in expected.iter().enumerate() {
                let Prediction::Class {
                    label,
                    probabilities: want,
                } = p
                else {
                    panic!("a class")
                };
                assert_eq!(&labels[[r]], label, "{} row {r}", model.family());
                for (k, class) in model.encoder().classes.iter().enumerate() {
                    let got = f64::from(probabilities[[r, k]]);
                    assert!(
                        (got - want[class]).abs() < 1e-5,
                        "{} row {r} class {class}: {got} vs {}",
                        model.family(),
                        want[class]
                    );
                }
            }
        }
        Task::Regression => {
            let values = out[0].to_plain_array_view::<f64>().unwrap();
            assert_eq!(values.shape(), [rows.len(), 1]);
            for (r, p) in expected.iter().enumerate() {
                let Prediction::Value { value } = p else {
                    panic!("a value")
                };
                let got = values[[r, 0]];
                assert!(
                    (got - value).abs() <= 1e-5 * value.abs().max(1.0),
                    "{} row {r}: {got} vs {value}",
                    model.family()
                );
            }
        }
    }
}

fn network(architecture: Architecture, epochs: u32) -> TrainParams {
    TrainParams {
        architecture,
        optimizer: OptimizerKind::Adam,
        epochs,
        batch_size: 16,
        learning_rate: 0.01,
        weight_decay: 0.0,
        target_accuracy: None,
        seed: 5,
    }
}

fn mlp(activation: Activation) -> Architecture {
    Architecture::Mlp {
        hidden: vec![12, 6],
        activation,
        dropout: 0.1,
    }
}

fn trees() -> GbmParams {
    GbmParams {
        trees: 25,
        max_depth: 4,
        ..GbmParams::default()
    }
}

#[test]
fn signatures_name_one_input_per_column_or_one_matrix() {
    let (table, kinds) = mixed(200, false);
    let (_, _, enc) = encode(&table, &kinds, Task::Classification, Style::Network);
    let sig = signature(&enc);
    let inputs: Vec<(&str, &str)> = sig
        .inputs
        .iter()
        .map(|p| (p.name.as_str(), p.elem_type.as_str()))
        .collect();
    assert_eq!(
        inputs,
        [
            ("x", "float"),
            ("n", "float"),
            ("at", "double"),
            ("flag", "string"),
            ("color", "string")
        ]
    );
    let outputs: Vec<&str> = sig.outputs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(outputs, ["label", "probabilities"]);
    assert_eq!(sig.outputs[1].width, Some(3));

    let (_, _, enc) = crate::fixtures::encoded(&xor(100, 1), "label");
    let sig = signature(&enc);
    assert_eq!(sig.inputs.len(), 1);
    assert_eq!(sig.inputs[0].name, MATRIX_INPUT);
    assert_eq!(sig.inputs[0].columns, ["x1", "x2"]);
    assert_eq!(sig.inputs[0].width, Some(2));

    // An output name a column already has moves aside.
    let mut renamed = enc.clone();
    renamed.features.push(FeatureEncoding::OneHot {
        column: "label".into(),
        kind: "categorical".into(),
        categories: vec!["a".into()],
    });
    let outputs: Vec<String> = signature(&renamed)
        .outputs
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(outputs, ["label_", "probabilities"]);
}

#[test]
fn networks_answer_as_predict_does() {
    let (table, kinds) = mixed(240, false);
    let rows = request_rows(&table);
    let (train_m, val_m, enc) = encode(&table, &kinds, Task::Classification, Style::Network);
    for architecture in [
        Architecture::LogisticRegression,
        mlp(Activation::Relu),
        mlp(Activation::Tanh),
        mlp(Activation::Gelu),
    ] {
        let t = train(&train_m, &val_m, &enc, &network(architecture, 8), &mut ()).unwrap();
        check(&t.model, &rows);
    }
    // Two classes, and the single-matrix input.
    let xor = xor(200, 3);
    let (train_m, val_m, enc) = crate::fixtures::encoded(&xor, "label");
    let t = train(
        &train_m,
        &val_m,
        &enc,
        &network(mlp(Activation::Relu), 10),
        &mut (),
    )
    .unwrap();
    check(&t.model, &request_rows(&xor));
}

#[test]
fn regressions_answer_as_predict_does() {
    let (table, kinds) = mixed(240, true);
    let rows = request_rows(&table);
    let (train_m, val_m, enc) = encode(&table, &kinds, Task::Regression, Style::Network);
    let t = linear::fit(&train_m, &val_m, &enc, 0.1, &mut ()).unwrap();
    assert_eq!(t.model.family(), "linear");
    check(&t.model, &rows);
    let t = train(
        &train_m,
        &val_m,
        &enc,
        &network(mlp(Activation::Gelu), 8),
        &mut (),
    )
    .unwrap();
    check(&t.model, &rows);
    check(&Model::Baseline(Baseline::fit(&enc, &train_m)), &rows);
    let (train_m, val_m, enc) = encode(&table, &kinds, Task::Regression, Style::Trees);
    let t = gbm::fit(&train_m, &val_m, &enc, &trees(), &mut ()).unwrap();
    check(&t.model, &rows);
}

#[test]
fn trees_answer_as_predict_does() {
    let (table, kinds) = mixed(240, false);
    let rows = request_rows(&table);
    let (train_m, val_m, enc) = encode(&table, &kinds, Task::Classification, Style::Trees);
    let t = gbm::fit(&train_m, &val_m, &enc, &trees(), &mut ()).unwrap();
    assert_eq!(t.model.family(), "gbm");
    check(&t.model, &rows);
    check(&Model::Baseline(Baseline::fit(&enc, &train_m)), &rows);
    // Binary, on the single-matrix input.
    let xor = xor(300, 4);
    let (train_m, val_m, enc) =
        crate::fixtures::encoded_for(&xor, "label", Task::Classification, Style::Trees);
    let t = gbm::fit(&train_m, &val_m, &enc, &trees(), &mut ()).unwrap();
    check(&t.model, &request_rows(&xor));
}

#[test]
fn thresholds_round_up_to_the_next_float() {
    for t in [0.1f64, -0.1, 1.0, 3.000_000_1, 1e-40, -2.5e9] {
        let up = threshold_up(t);
        assert!(f64::from(up) >= t);
        assert!(f64::from(up.next_down()) < t, "{t}");
    }
}
