//! `GET /v1/models/{id}/download` through the models Router with the worker in process, on
//! both stores: the ONNX file's inputs and outputs are the ones the record lists, the stored
//! artifact comes back as it was written, and every bad request says why. (The numbers an
//! export answers are checked against `predict` with tract in the training engine, and with
//! onnxruntime through the dev server in `tests/onnx_check.py`.)

use std::time::{Duration, Instant};

use api_tests::openapi::assert_conforms;
use api_tests::{assert_envelope, get, post_json, state_with, upload_csv};
use axum::Router;
use prost::Message;
use serde_json::{json, Value};
use shared::AppState;
use training::onnx::proto::{type_proto, ModelProto};

/// `band` is `high` when 2·a + [shade = dark] > 1.2; every 8th `a` is blank.
fn table(rows: usize) -> String {
    let mut out = String::from("a,count,shade,band\n");
    for i in 0..rows {
        let a = ((i * 53) % 97) as f64 / 97.0;
        let shade = ["dark", "light", "pale"][(i * 5) % 3];
        let band = if 2.0 * a + f64::from(u8::from(shade == "dark")) > 1.2 {
            "high"
        } else {
            "low"
        };
        let a = if i % 8 == 0 {
            String::new()
        } else {
            format!("{a:.4}")
        };
        out.push_str(&format!("{a},{},{shade},{band}\n", (i * 7) % 11));
    }
    out
}

async fn trained(app: &Router, model: Value) -> (String, Value) {
    let r = post_json(
        app,
        "/v1/models/train",
        &json!({"model_config": model, "training_config": {"seed": 2, "epochs": 5}}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["model_id"].as_str().unwrap().to_string();
    let started = Instant::now();
    loop {
        let s = get(app, &format!("/v1/models/{id}/status")).await;
        match s.body["status"].as_str() {
            Some("completed") => {
                let record = get(app, &format!("/v1/models/{id}")).await;
                return (id, record.body);
            }
            Some("failed" | "stopped") => panic!("{}", s.text),
            _ => {}
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{}", s.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn names(values: &[training::onnx::proto::ValueInfoProto]) -> Vec<(String, i32)> {
    values
        .iter()
        .map(|v| {
            let Some(type_proto::Value::TensorType(t)) =
                v.r#type.as_ref().and_then(|t| t.value.as_ref())
            else {
                panic!("a tensor type")
            };
            (v.name.clone(), t.elem_type)
        })
        .collect()
}

/// ONNX's element type numbers for the names the record uses.
fn elem(name: &str) -> i32 {
    match name {
        "float" => 1,
        "string" => 8,
        "double" => 11,
        other => panic!("{other}"),
    }
}

fn listed(ports: &Value) -> Vec<(String, i32)> {
    ports
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                elem(p["type"].as_str().unwrap()),
            )
        })
        .collect()
}

async fn downloads(state: AppState) {
    let dataset = upload_csv(&state, &table(300), "band").await;
    let app = models::router(state);
    let url = |id: &str, q: &str| format!("/v1/models/{id}/download{q}");

    for (architecture, native) in [("gbm", "json"), ("mlp", "safetensors")] {
        let mut model = json!({"name": architecture, "type": "classification",
            "architecture": architecture, "dataset": dataset});
        if architecture == "mlp" {
            model["hidden_layers"] = json!([8]);
        }
        let (id, record) = trained(&app, model).await;
        assert_eq!(record["links"]["download"], url(&id, ""));
        let sig = &record["artifact"]["onnx"];
        assert_eq!(sig["opset"], 17, "{record}");
        assert_eq!(
            listed(&sig["inputs"]),
            [
                ("a".to_string(), 1),
                ("count".to_string(), 1),
                ("shade".to_string(), 8)
            ]
        );
        assert_eq!(sig["inputs"][0]["shape"], json!([null, 1]));
        assert_eq!(sig["outputs"][1]["shape"], json!([null, 2]));

        let r = get(&app, &url(&id, "?format=onnx")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_conforms("GET", "/v1/models/{id}/download", &r);
        assert_eq!(r.headers["content-type"], "application/octet-stream");
        assert_eq!(
            r.headers["content-disposition"],
            format!("attachment; filename=\"{id}.onnx\"").as_str()
        );
        let file = ModelProto::decode(&r.bytes[..]).expect("an ONNX model");
        assert_eq!(file.ir_version, 8);
        let opsets: Vec<(&str, i64)> = file
            .opset_import
            .iter()
            .map(|o| (o.domain.as_str(), o.version))
            .collect();
        assert_eq!(opsets, [("", 17), ("ai.onnx.ml", 3)]);
        let graph = file.graph.unwrap();
        assert_eq!(names(&graph.input), listed(&sig["inputs"]));
        assert_eq!(names(&graph.output), listed(&sig["outputs"]));
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        if architecture == "gbm" {
            assert!(ops.contains(&"TreeEnsembleRegressor"), "{ops:?}");
        } else {
            assert!(ops.contains(&"Gemm") && ops.contains(&"Softmax"), "{ops:?}");
        }

        // The stored artifact, byte for byte, by default and by name.
        let stored = get(&app, &url(&id, "")).await;
        assert_eq!(stored.status, 200);
        let named = get(&app, &url(&id, &format!("?format={native}"))).await;
        assert_eq!(named.bytes, stored.bytes);
        assert_eq!(
            stored.bytes.len() as u64,
            record["artifact"]["bytes"].as_u64().unwrap()
        );
        let expected_type = if native == "json" {
            "application/json"
        } else {
            "application/octet-stream"
        };
        assert_eq!(stored.headers["content-type"], expected_type);
        if native == "json" {
            assert_eq!(stored.body["format"], "mlaas.tabular-model");
        }
        // The other native format is not this model's.
        let other = if native == "json" {
            "safetensors"
        } else {
            "json"
        };
        let r = get(&app, &url(&id, &format!("?format={other}"))).await;
        assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_conforms("GET", "/v1/models/{id}/download", &r);
        assert_eq!(r.body["error"]["details"]["field"], "format");
        assert!(r.text.contains(native), "{}", r.text);

        for q in ["?format=pmml", "?fmt=onnx"] {
            let r = get(&app, &url(&id, q)).await;
            assert_envelope(&r, 400, "VALIDATION_ERROR");
        }
    }

    let r = get(&app, &url("mdl_01J0000000000000000000000Z", "?format=onnx")).await;
    assert_envelope(&r, 404, "NOT_FOUND");
    assert_conforms("GET", "/v1/models/{id}/download", &r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_download_as_onnx_and_as_stored_on_sqlite() {
    downloads(state_with(api_tests::sqlite_store(), &[])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_download_as_onnx_and_as_stored_on_dynamodb() {
    downloads(state_with(api_tests::dynamo_store().await, &[])).await;
}

#[tokio::test]
async fn a_model_still_training_has_nothing_to_download() {
    // No worker in this state: the job stays queued.
    let state = state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_WORKER_DISPATCH", "off")],
    );
    let dataset = upload_csv(&state, &table(40), "band").await;
    let app = models::router(state);
    let r = post_json(
        &app,
        "/v1/models/train",
        &json!({"model_config": {"name": "q", "type": "classification", "dataset": dataset}}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["model_id"].as_str().unwrap();
    let r = get(&app, &format!("/v1/models/{id}/download?format=onnx")).await;
    assert_envelope(&r, 409, "CONFLICT");
    assert!(r.text.contains("no trained weights"), "{}", r.text);
}
