//! The models routes conform to the OpenAPI document: train on a dataset, status with
//! progress and history, stop, predict, metrics.svg. Jobs stay queued here (no worker), so
//! the queued shapes are checked; `training.rs` checks the trained ones against the same
//! document.

use api_tests::openapi::{assert_conforms, check, check_get, check_post};
use api_tests::{get, post_json, sqlite_state};
use serde_json::json;
use shared::AppState;

/// A small tabular dataset with a binary target, stored in `state`.
async fn dataset(state: &AppState) -> String {
    let app = synthetic_data::router(state.clone());
    let body = json!({
        "model_description": "Binary classification model for fraud detection",
        "existing_data": "Transaction data with features: amount, merchant, time, location",
        "target_count": 300, "seed": 3
    });
    let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["synthetic_data"]["dataset_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn train_body(dataset: &str) -> serde_json::Value {
    json!({
        "model_config": {
            "name": "Fraud detector", "type": "binary_classification",
            "architecture": "mlp", "hidden_layers": [16, 8],
            "dataset": dataset, "target_accuracy": 0.9
        },
        "training_config": {
            "epochs": 3, "batch_size": 32, "learning_rate": 0.01, "ai_enhancement": false,
            "providers": [], "optimizer": "adamw", "validation_split": 0.2, "seed": 42,
            "weight_decay": 0.0001
        }
    })
}

#[tokio::test]
async fn train_get_status_stop_predict_conform() {
    let state = api_tests::state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_WORKER_DISPATCH", "off")],
    );
    let ds = dataset(&state).await;
    let app = models::router(state);

    let r = post_json(&app, "/v1/models/train", &train_body(&ds)).await;
    check("POST", "/v1/models/train", &r, 202);
    let id = r.body["model_id"].as_str().unwrap().to_string();

    check_get(&app, "/v1/models", "/v1/models", 200).await;
    check_get(&app, "/v1/models/{id}", &format!("/v1/models/{id}"), 200).await;
    check_get(
        &app,
        "/v1/models/{id}/status",
        &format!("/v1/models/{id}/status"),
        200,
    )
    .await;
    // No weights yet: predict is a conflict.
    let rows = json!({"rows": [{"amount": 12.5}]});
    check(
        "POST",
        "/v1/models/{id}/predict",
        &post_json(&app, &format!("/v1/models/{id}/predict"), &rows).await,
        409,
    );
    let svg = get(&app, &format!("/v1/models/{id}/metrics.svg")).await;
    assert!(matches!(svg.status.as_u16(), 200 | 404), "{}", svg.text);
    assert_conforms("GET", "/v1/models/{id}/metrics.svg", &svg);

    // A queued job stops at once; stopping it again is a conflict.
    let stop = format!("/v1/models/{id}/stop");
    check(
        "POST",
        "/v1/models/{id}/stop",
        &post_json(&app, &stop, &json!({})).await,
        200,
    );
    check(
        "POST",
        "/v1/models/{id}/stop",
        &post_json(&app, &stop, &json!({})).await,
        409,
    );
    check_get(
        &app,
        "/v1/models/{id}/status",
        &format!("/v1/models/{id}/status"),
        200,
    )
    .await;
}

#[tokio::test]
async fn model_errors_conform() {
    let state = sqlite_state();
    let ds = dataset(&state).await;
    let app = models::router(state);

    let mut missing = train_body("ds_01jz0000000000000000000000");
    check_post(&app, "/v1/models/train", &missing, 404).await;
    missing["model_config"]["dataset"] = json!(ds);
    missing["model_config"]["type"] = json!("computer_vision");
    check_post(&app, "/v1/models/train", &missing, 400).await;
    let mut arch = train_body(&ds);
    arch["model_config"]["architecture"] = json!("resnet50");
    check_post(&app, "/v1/models/train", &arch, 400).await;
    let mut split = train_body(&ds);
    split["training_config"]["validation_split"] = json!(0.9);
    check_post(&app, "/v1/models/train", &split, 400).await;
    check_post(&app, "/v1/models/train", &json!({}), 400).await;

    let nope = "model_01jz0000000000000000000000";
    for (method, template, path) in [
        ("GET", "/v1/models/{id}", format!("/v1/models/{nope}")),
        (
            "GET",
            "/v1/models/{id}/status",
            format!("/v1/models/{nope}/status"),
        ),
        (
            "GET",
            "/v1/models/{id}/metrics.svg",
            format!("/v1/models/{nope}/metrics.svg"),
        ),
    ] {
        check(method, template, &get(&app, &path).await, 404);
    }
    check(
        "POST",
        "/v1/models/{id}/stop",
        &post_json(&app, &format!("/v1/models/{nope}/stop"), &json!({})).await,
        404,
    );
    check(
        "POST",
        "/v1/models/{id}/predict",
        &post_json(
            &app,
            &format!("/v1/models/{nope}/predict"),
            &json!({"rows": [{}]}),
        )
        .await,
        404,
    );
    check(
        "POST",
        "/v1/models/{id}/predict",
        &post_json(
            &app,
            &format!("/v1/models/{nope}/predict"),
            &json!({"rows": []}),
        )
        .await,
        400,
    );
}
