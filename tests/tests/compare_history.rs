//! `GET /v1/models/compare` and `GET /v1/models/{id}/history`: settings side by side with the
//! differing fields named, curves aligned by epoch, and histories downsampled on the server.

use std::time::Duration;

use api_tests::{assert_envelope, finished, get, post_json, separable_csv, state_with, upload_csv};
use serde_json::{json, Value};
use shared::store::SharedStore;

async fn trained(app: &axum::Router, dataset: &str, learning_rate: f64) -> (String, Value) {
    let body = json!({
        "model_config": {"name": format!("lr {learning_rate}"), "type": "classification",
                         "architecture": "logistic_regression", "dataset": dataset},
        "training_config": {"epochs": 30, "batch_size": 64, "learning_rate": learning_rate,
                            "seed": 4}
    });
    let r = post_json(app, "/v1/models/train", &body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["model_id"].as_str().unwrap().to_string();
    let status = finished(app, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "completed", "{status}");
    (id, status)
}

async fn compare_and_history(store: SharedStore) {
    let state = state_with(store, &[]);
    let dataset = upload_csv(&state, &separable_csv(300, 8), "label").await;
    let app = models::router(state);
    let mut runs = Vec::new();
    for lr in [0.001, 0.01, 0.1] {
        runs.push(trained(&app, &dataset, lr).await);
    }
    let ids: Vec<&str> = runs.iter().map(|(id, _)| id.as_str()).collect();

    let r = get(&app, &format!("/v1/models/compare?ids={}", ids.join(","))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    api_tests::openapi::assert_conforms("GET", "/v1/models/compare", &r);
    let c = &r.body;
    assert_eq!(
        c["differing"],
        json!(["training_config.learning_rate"]),
        "{c}"
    );
    assert_eq!(c["metric"], "val_loss");
    assert_eq!(c["epochs"].as_array().unwrap().len(), 30);
    for (i, (id, status)) in runs.iter().enumerate() {
        let m = &c["models"][i];
        assert_eq!(m["model_id"], *id);
        assert_eq!(m["settings"]["training_config.epochs"], 30);
        let series = c["series"][id].as_array().unwrap();
        let history = status["history"].as_array().unwrap();
        assert_eq!(series.len(), history.len());
        assert_eq!(series[29], history[29]["val_loss"]);
        // The best epoch is the one with the lowest validation loss.
        let best = history
            .iter()
            .min_by(|a, b| {
                a["val_loss"]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b["val_loss"].as_f64().unwrap())
            })
            .unwrap();
        assert_eq!(m["best_epoch"], best["epoch"], "{m}");
        assert_eq!(m["final_val_loss"], history[29]["val_loss"]);
    }
    // Downsampled on the server: evenly spaced epochs, both ends kept.
    let r = get(
        &app,
        &format!(
            "/v1/models/compare?ids={}&metric=val_accuracy&max_points=5",
            ids.join(",")
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["epochs"], json!([1, 8, 16, 23, 30]));
    assert_eq!(r.body["series"][ids[0]].as_array().unwrap().len(), 5);
    for bad in [
        format!("ids={}", ids[0]),
        format!("ids={},{}", ids[0], ids[0]),
        "ids=".to_string(),
        format!("ids={},{}&metric=f1", ids[0], ids[1]),
        format!("ids={},{}&max_points=1", ids[0], ids[1]),
        format!("ids={},{}&colour=red", ids[0], ids[1]),
    ] {
        let r = get(&app, &format!("/v1/models/compare?{bad}")).await;
        assert_envelope(&r, 400, "VALIDATION_ERROR");
    }
    let r = get(
        &app,
        &format!("/v1/models/compare?ids={},model_nope", ids[0]),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);

    // One model's curve: LTTB on one metric, whole records evenly spaced, a range.
    let id = ids[2];
    let r = get(
        &app,
        &format!("/v1/models/{id}/history?metric=val_loss&max_points=10"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    api_tests::openapi::assert_conforms("GET", "/v1/models/{id}/history", &r);
    let points = r.body["points"].as_array().unwrap();
    assert_eq!(points.len(), 10);
    assert_eq!(
        (points[0]["epoch"].as_u64(), points[9]["epoch"].as_u64()),
        (Some(1), Some(30))
    );
    assert_eq!(r.body["downsampling"], "lttb");
    assert_eq!(r.body["epochs"], 30);
    let r = get(&app, &format!("/v1/models/{id}/history?max_points=4")).await;
    let epochs: Vec<u64> = r.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, vec![1, 11, 20, 30]);
    assert_eq!(r.body["downsampling"], "even");
    let r = get(
        &app,
        &format!("/v1/models/{id}/history?from_epoch=5&to_epoch=9"),
    )
    .await;
    assert_eq!(r.body["in_range"], 5);
    assert_eq!(r.body["downsampling"], "none");
    assert_eq!(r.body["history"].as_array().unwrap().len(), 5);
    for bad in [
        "metric=f1",
        "max_points=0",
        "from_epoch=9&to_epoch=5",
        "page=2",
    ] {
        let r = get(&app, &format!("/v1/models/{id}/history?{bad}")).await;
        assert_envelope(&r, 400, "VALIDATION_ERROR");
    }
    let r = get(&app, "/v1/models/model_nope/history").await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_and_history_on_sqlite() {
    compare_and_history(api_tests::sqlite_store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_and_history_on_dynamodb() {
    compare_and_history(api_tests::dynamo_store().await).await;
}
