//! ONNX export per family, for `bench/run export`: on the tables `bench/tabular_compare.py
//! prepare` wrote, fits each family as the worker does, then times `training::onnx::export`
//! (median of 20) and writes the file beside the test rows' `predict` answers, so
//! `bench/export_compare.py` can run it in onnxruntime beside scikit-learn's and LightGBM's
//! own exports of the same models. One JSON line per model.
//!
//!     export OUT_DIR

use std::time::Instant;

use bench::tables::{encode, load};
use serde_json::json;
use training::{
    linear, onnx, train, Activation, Architecture, Baseline, GbmParams, Model, OptimizerKind,
    Style, Task, TrainParams,
};

fn network(architecture: Architecture) -> TrainParams {
    TrainParams {
        architecture,
        optimizer: OptimizerKind::Adam,
        epochs: 30,
        batch_size: 32,
        learning_rate: 0.001,
        weight_decay: 0.0,
        target_accuracy: None,
        seed: 0,
    }
}

fn main() {
    training::fix_thread_count();
    let dir = std::env::args().nth(1).expect("usage: export OUT_DIR");
    for name in ["breast_cancer", "wine", "diabetes"] {
        let s = load(&dir, name);
        let net = encode(&s, Style::Network);
        let trees = encode(&s, Style::Trees);
        let mlp = Architecture::Mlp {
            hidden: vec![64, 32],
            activation: Activation::Relu,
            dropout: 0.0,
        };
        let mut models: Vec<(&str, Model)> = Vec::new();
        match s.task {
            Task::Classification => {
                let p = network(Architecture::LogisticRegression);
                let t = train(&net.0, &net.1, &net.2, &p, &mut ()).unwrap();
                models.push(("logistic_regression", t.model));
            }
            Task::Regression => {
                let t = linear::fit(&net.0, &net.1, &net.2, 0.0, &mut ()).unwrap();
                models.push(("linear", t.model));
            }
        }
        let t = train(&net.0, &net.1, &net.2, &network(mlp), &mut ()).unwrap();
        models.push(("mlp", t.model));
        let t = training::gbm::fit(&trees.0, &trees.1, &trees.2, &GbmParams::default(), &mut ())
            .unwrap();
        models.push(("gbm", t.model));
        models.push(("baseline", Model::Baseline(Baseline::fit(&net.2, &net.0))));

        let rows: Vec<serde_json::Value> = training::fixtures::json_rows(&s.test)
            .into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().remove("target");
                r
            })
            .collect();
        for (family, model) in &models {
            let mut times: Vec<f64> = (0..20)
                .map(|_| {
                    let t = Instant::now();
                    onnx::export(model).unwrap();
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let bytes = onnx::export(model).unwrap();
            let path = format!("{dir}/{name}.{family}.onnx");
            std::fs::write(&path, &bytes).unwrap();
            let predictions = model.predict(&rows).unwrap();
            let expected = format!("{dir}/{name}.{family}.predict.json");
            std::fs::write(&expected, serde_json::to_vec(&predictions).unwrap()).unwrap();
            println!(
                "{}",
                json!({"table": name, "family": family, "export_ms": times[10],
                    "bytes": bytes.len(), "artifact_bytes": model.to_bytes().unwrap().len(),
                    "parameters": model.parameter_count(), "trees": model.trees(),
                    "file": path, "predict": expected})
            );
        }
    }
}
