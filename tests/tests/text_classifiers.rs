//! Text classifiers: the first paragraphs of Python standard-library docstrings labeled by
//! topic (tests/fixtures/make_docstrings.py) uploaded as a CSV, a TextCNN trained on them on
//! both stores, its parameter count equal to the analyzer's, predictions from raw texts; the
//! requests that cannot be trained.

use std::time::Duration;

use api_tests::openapi::assert_conforms;
use api_tests::{assert_envelope, finished, get, post_json, state_with, upload_csv};
use serde_json::{json, Value};
use shared::AppState;

/// 1,349 docstrings in five topics: files, network, numbers, text, time.
const DOCSTRINGS: &str = include_str!("../fixtures/docstrings.csv");

fn request(dataset: &str) -> Value {
    json!({
        "model_config": {"name": "docstring topics", "type": "text_classification",
            "dataset": dataset},
        "training_config": {"epochs": 8, "batch_size": 32, "learning_rate": 0.005, "seed": 7}
    })
}

async fn docstrings(state: AppState) {
    let dataset = upload_csv(&state, DOCSTRINGS, "topic").await;
    let data = synthetic_data::router(state.clone());
    let d = get(&data, &format!("/v1/datasets/{dataset}")).await;
    let column = &d.body["columns"][0];
    assert_eq!(column["name"], "docstring", "{}", d.text);
    let p95 = column["words"]["p95"].as_u64().unwrap();
    assert!((20..60).contains(&p95), "{column}");

    let app = models::router(state.clone());
    let r = post_json(&app, "/v1/models/train", &request(&dataset)).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["model_id"].as_str().unwrap().to_string();
    let s = finished(&app, &id, Duration::from_secs(300)).await;
    assert_eq!(s["status"], "completed", "{s}");
    let m = &s["final_metrics"];
    // The majority class (files) is 35 % of the rows.
    let accuracy = m["validation"]["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.8, "validation accuracy {accuracy}: {m}");
    let transitions = s["secondary_transitions"].as_array().unwrap();
    assert!(
        transitions.iter().any(|h| h["status"] == "loading_data"
            && h["message"]
                .as_str()
                .is_some_and(|m| m.contains("a vocabulary of"))),
        "{transitions:?}"
    );

    let r = get(&app, &format!("/v1/models/{id}")).await;
    assert_conforms("GET", "/v1/models/{id}", &r);
    assert_eq!(r.body["network"]["preset"], "textcnn");
    assert_eq!(r.body["text"]["column"], "docstring");
    assert_eq!(r.body["text"]["max_length"].as_u64().unwrap(), p95);
    assert_eq!(r.body["text"]["vocab_size"], 20000);
    // The trained network is the one the analyzer counts.
    let mut architecture = r.body["network"]["architecture"].clone();
    architecture["input_shape"] = r.body["network"]["input_shape"].clone();
    let a = post_json(
        &analyze::router(state.clone()),
        "/v1/ai/analyze",
        &json!({"model_description": "a topic classifier with 5 classes", "architecture": architecture}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let counted = &a.body["analysis"]["architecture_assessment"]["totals"]["params"];
    assert_eq!(&r.body["artifact"]["parameters"], counted);
    assert_eq!(&r.body["network"]["parameters"], counted);

    let r = post_json(
        &app,
        &format!("/v1/models/{id}/predict"),
        &json!({"texts": [
            "Return the cosine of x (measured in radians).",
            "Create a new socket using the given address family and socket type.",
            "Return a copy of the string with leading whitespace removed.",
            "Remove (delete) the directory and all of the files in it.",
        ]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_conforms("POST", "/v1/models/{id}/predict", &r);
    let labels: Vec<&str> = r.body["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    let right = labels
        .iter()
        .zip(["numbers", "network", "text", "files"])
        .filter(|(a, b)| *a == b)
        .count();
    assert!(right >= 3, "{labels:?}");
    for (body, field) in [
        (json!({"rows": [{"docstring": "x"}]}), "rows"),
        (json!({"texts": []}), "texts"),
        (json!({"texts": [3]}), "texts[0]"),
        (json!({"texts": ["a"], "values": [1]}), "texts"),
    ] {
        let r = post_json(&app, &format!("/v1/models/{id}/predict"), &body).await;
        assert_eq!(
            assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
            field,
            "{body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_textcnn_learns_docstring_topics_on_sqlite() {
    docstrings(state_with(api_tests::sqlite_store(), &[])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_textcnn_learns_docstring_topics_on_dynamodb() {
    docstrings(state_with(api_tests::dynamo_store().await, &[])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_classifiers_that_cannot_be_trained_are_refused_at_submission() {
    let state = state_with(api_tests::sqlite_store(), &[]);
    // A second text column and a numeric one beside the docstrings.
    let mut csv = String::from("docstring,topic,comment,n\n");
    let mut rows = csv::Reader::from_reader(DOCSTRINGS.as_bytes());
    for (i, row) in rows.records().enumerate().step_by(5) {
        let row = row.unwrap();
        csv.push_str(&format!(
            "\"{}\",{},\"a comment of several words number {i}\",{i}\n",
            row[0].replace('"', "\"\""),
            &row[1]
        ));
    }
    let two = upload_csv(&state, &csv, "topic").await;
    let one = upload_csv(&state, DOCSTRINGS, "topic").await;
    let app = models::router(state);
    let cases = [
        (
            &two,
            "/model_config/text_column",
            Value::Null,
            "model_config.text_column",
        ),
        (
            &one,
            "/model_config/text_column",
            json!("nope"),
            "model_config.text_column",
        ),
        (
            &one,
            "/model_config/text_column",
            json!("topic"),
            "model_config.text_column",
        ),
        (
            &two,
            "/model_config/text_column",
            json!("n"),
            "model_config.text_column",
        ),
        (
            &one,
            "/model_config/max_length",
            json!(0),
            "model_config.max_length",
        ),
        (
            &one,
            "/model_config/max_length",
            json!(5000),
            "model_config.max_length",
        ),
        (
            &one,
            "/model_config/architecture",
            json!("gbm"),
            "model_config.architecture",
        ),
        (
            &one,
            "/model_config/architecture",
            json!([{"type": "dense", "units": 8}, {"type": "output"}]),
            "model_config.architecture.layers[0]",
        ),
        (
            &one,
            "/model_config/architecture",
            json!([{"type": "embedding", "vocab_size": 2, "output_dim": 4}, {"type": "gap"}, {"type": "output"}]),
            "model_config.architecture.layers[0].vocab_size",
        ),
        (
            &one,
            "/model_config/type",
            json!("classification"),
            "model_config.text_column",
        ),
    ];
    for (dataset, pointer, value, field) in cases {
        let mut body = request(dataset);
        body["model_config"]["text_column"] = json!("docstring");
        let key = pointer.rsplit('/').next().unwrap();
        body["model_config"][key] = value;
        if body["model_config"]["text_column"].is_null() {
            body["model_config"]
                .as_object_mut()
                .unwrap()
                .remove("text_column");
        }
        let r = post_json(&app, "/v1/models/train", &body).await;
        assert_eq!(
            assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
            field,
            "{body}"
        );
    }
    // With the column named, the two-text-column table trains.
    let mut body = request(&two);
    body["model_config"]["text_column"] = json!("comment");
    body["training_config"]["epochs"] = json!(1);
    let r = post_json(&app, "/v1/models/train", &body).await;
    assert_eq!(r.status, 202, "{}", r.text);
}
