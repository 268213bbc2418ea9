//! Forecasters: statsmodels' yearly sunspots uploaded as a CSV and forecast by the LSTM
//! preset from its last 20 years, beating the naive forecast (MASE below 1), on both stores;
//! predictions from a window of values; the requests that cannot be trained.

use std::time::Duration;

use api_tests::openapi::assert_conforms;
use api_tests::{assert_envelope, finished, get, post_json, send, state_with};
use axum::body::Body;
use http::Request;
use serde_json::{json, Value};
use shared::AppState;

/// statsmodels' yearly sunspot numbers, 1700-2008 (tests/fixtures/make_sunspots.py).
const SUNSPOTS: &str = include_str!("../fixtures/sunspots.csv");

async fn upload(state: &AppState) -> String {
    let app = synthetic_data::router(state.clone());
    let r = send(
        &app,
        Request::post("/v1/datasets?name=sunspots")
            .header("content-type", "text/csv")
            .body(Body::from(SUNSPOTS))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "upload: {}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

fn request(dataset: &str) -> Value {
    json!({
        "model_config": {"name": "sunspots", "type": "time_series_forecasting", "dataset": dataset,
            "forecast": {"target": "SUNACTIVITY", "time_column": "YEAR", "window": 20}},
        "training_config": {"epochs": 40, "batch_size": 16, "learning_rate": 0.01, "seed": 4}
    })
}

async fn sunspots(state: AppState) {
    let dataset = upload(&state).await;
    let app = models::router(state);
    let r = post_json(&app, "/v1/models/train", &request(&dataset)).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["model_id"].as_str().unwrap().to_string();
    let s = finished(&app, &id, Duration::from_secs(300)).await;
    assert_eq!(s["status"], "completed", "{s}");
    let f = &s["final_metrics"]["forecast"];
    assert_eq!(s["final_metrics"]["task"], "regression");
    let mase = f["model"]["mase"].as_f64().unwrap();
    assert!(mase < 1.0, "{f}");
    assert!(mase < f["naive"]["mase"].as_f64().unwrap(), "{f}");
    assert!(f["seasonal_naive"]["mae"].as_f64().is_some());
    assert_eq!(f["window"], 20);
    let r = get(&app, &format!("/v1/models/{id}")).await;
    assert_conforms("GET", "/v1/models/{id}", &r);
    assert_eq!(r.body["network"]["preset"], "lstm_forecaster");
    assert_eq!(r.body["forecast"]["target"], "SUNACTIVITY");
    assert!(r.body["r2"].as_f64().is_some());

    // The next value after the last 20 years.
    let last: Vec<f64> = SUNSPOTS
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let window = &last[last.len() - 20..];
    let r = post_json(
        &app,
        &format!("/v1/models/{id}/predict"),
        &json!({ "values": window }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_conforms("POST", "/v1/models/{id}/predict", &r);
    let next = r.body["predictions"][0]["value"].as_f64().unwrap();
    assert!((0.0..250.0).contains(&next), "{next}");
    for (body, field) in [
        (json!({"values": [1.0, 2.0]}), "values"),
        (json!({"values": ["a"]}), "values[0]"),
        (json!({"images": ["aGk="]}), "images"),
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
async fn an_lstm_forecasts_sunspots_better_than_the_naive_forecast_on_sqlite() {
    sunspots(state_with(api_tests::sqlite_store(), &[])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_lstm_forecasts_sunspots_better_than_the_naive_forecast_on_dynamodb() {
    sunspots(state_with(api_tests::dynamo_store().await, &[])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forecasters_that_cannot_be_trained_are_refused_at_submission() {
    let state = state_with(api_tests::sqlite_store(), &[]);
    let dataset = upload(&state).await;
    let app = models::router(state);
    let cases = [
        (
            "/model_config/forecast",
            Value::Null,
            "model_config.forecast",
        ),
        (
            "/model_config/forecast/target",
            json!("nope"),
            "model_config.forecast.target",
        ),
        (
            "/model_config/forecast/time_column",
            json!("SUNACTIVITY"),
            "model_config.forecast.time_column",
        ),
        (
            "/model_config/forecast/window",
            json!(308),
            "model_config.forecast.window",
        ),
        (
            "/model_config/forecast/window",
            json!(0),
            "model_config.forecast.window",
        ),
        (
            "/model_config/architecture",
            json!("gbm"),
            "model_config.architecture",
        ),
        (
            "/model_config/architecture",
            json!([{"type": "dense", "units": 2}]),
            "model_config.architecture.layers[0]",
        ),
        (
            "/model_config/type",
            json!("regression"),
            "model_config.forecast",
        ),
    ];
    for (pointer, value, field) in cases {
        let mut body = request(&dataset);
        body["model_config"]["architecture"] = Value::Null;
        *body.pointer_mut(pointer).unwrap() = value;
        let r = post_json(&app, "/v1/models/train", &body).await;
        assert_eq!(
            assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
            field,
            "{body}"
        );
    }
}
