//! The tabular families through the models Router with the worker in process: gradient-
//! boosted trees and `auto` on a table with categories and missing values, regression on a
//! numeric target, and the requests that cannot be trained, on both stores.

use std::time::Duration;

use api_tests::openapi::assert_conforms;
use api_tests::{assert_envelope, finished, get, post_json, state_with, upload_csv};
use axum::Router;
use serde_json::{json, Value};
use shared::AppState;

/// A tiny LCG in [0, 1): the tables are reproducible without another dependency.
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `label` is `yes` when x + bonus(colour) > 0.3 (red +0.5, blue −0.5); every 9th x is blank.
fn mixed_csv(rows: usize) -> String {
    let mut next = uniform(11);
    let mut out = String::from("x,z,colour,label\n");
    for i in 0..rows {
        let (x, z) = (next() * 2.0 - 1.0, next());
        let colour = ["red", "green", "blue"][(next() * 3.0) as usize % 3];
        let bonus = match colour {
            "red" => 0.5,
            "blue" => -0.5,
            _ => 0.0,
        };
        let label = if x + bonus > 0.3 { "yes" } else { "no" };
        let x = if i % 9 == 0 {
            String::new()
        } else {
            format!("{x:.5}")
        };
        out.push_str(&format!("{x},{z:.5},{colour},{label}\n"));
    }
    out
}

/// `y` = 4·a − 3·b + 2·[kind = k1] + noise (σ 0.1).
fn numeric_csv(rows: usize) -> String {
    let mut next = uniform(5);
    let mut out = String::from("a,b,kind,y\n");
    for _ in 0..rows {
        let (a, b) = (next(), next());
        let kind = if next() < 0.5 { "k1" } else { "k2" };
        let noise = (next() + next() + next() - 1.5) * 0.2;
        let y = 4.0 * a - 3.0 * b + if kind == "k1" { 2.0 } else { 0.0 } + noise;
        out.push_str(&format!("{a:.5},{b:.5},{kind},{y:.5}\n"));
    }
    out
}

async fn submit(app: &Router, body: &Value) -> String {
    let r = post_json(app, "/v1/models/train", body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    r.body["model_id"].as_str().unwrap().to_string()
}

async fn predict(app: &Router, model_id: &str, rows: Value) -> Value {
    let r = post_json(
        app,
        &format!("/v1/models/{model_id}/predict"),
        &json!({ "rows": rows }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_conforms("POST", "/v1/models/{id}/predict", &r);
    r.body
}

async fn trees_and_auto(state: AppState) {
    let dataset = upload_csv(&state, &mixed_csv(500), "label").await;
    let app = models::router(state);

    // gbm, with its options.
    let body = json!({
        "model_config": {"name": "trees", "type": "classification", "architecture": "gbm",
            "dataset": dataset, "gbm": {"trees": 60, "learning_rate": 0.2, "max_depth": 4, "colsample": 0.8}},
        "training_config": {"seed": 3}
    });
    let id = submit(&app, &body).await;
    let s = finished(&app, &id, Duration::from_secs(120)).await;
    assert_eq!(s["status"], "completed", "{s}");
    let m = &s["final_metrics"];
    assert_eq!(m["family"], "gbm");
    assert!(m["validation"]["accuracy"].as_f64().unwrap() >= 0.85, "{m}");
    let trees = m["trees"].as_u64().unwrap();
    assert_eq!(trees, 60, "one booster for two classes, 60 rounds");
    let gain = m["gain_importance"].as_array().unwrap();
    assert_eq!(gain[0]["column"], "x", "{gain:?}");
    assert!(m["permutation_importance"]["columns"][0]["column"] == "x");
    let history = s["history"].as_array().unwrap();
    assert_eq!(
        history.last().unwrap()["trees"].as_u64().unwrap(),
        trees,
        "the last stage holds every tree"
    );
    let artifact = &s["artifact"];
    assert_eq!(artifact["family"], "gbm");
    assert_eq!(artifact["trees"].as_u64().unwrap(), trees);
    assert!(artifact["key"].as_str().unwrap().ends_with(".json"));
    let r = get(&app, &format!("/v1/models/{id}")).await;
    assert_conforms("GET", "/v1/models/{id}", &r);
    assert_eq!(r.body["artifact"]["family"], "gbm");
    // A missing value and an unseen category are answered, not refused.
    let p = predict(
        &app,
        &id,
        json!([{"x": null, "z": 0.5, "colour": "purple"}, {"x": 0.9, "colour": "red"}]),
    )
    .await;
    assert_eq!(p["family"], "gbm");
    assert_eq!(p["task"], "classification");
    assert_eq!(p["predictions"][1]["label"], "yes");
    let probs = p["predictions"][0]["probabilities"].as_object().unwrap();
    let total: f64 = probs.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-9);

    // auto: the leaderboard.
    let body = json!({
        "model_config": {"name": "search", "type": "classification", "architecture": "auto",
            "dataset": dataset},
        "training_config": {"seed": 3, "time_budget_seconds": 30}
    });
    let id = submit(&app, &body).await;
    let s = finished(&app, &id, Duration::from_secs(180)).await;
    assert_eq!(s["status"], "completed", "{s}");
    let auto = &s["final_metrics"]["auto"];
    assert_eq!(auto["metric"], "accuracy");
    assert_eq!(auto["folds"], 5);
    let board = auto["leaderboard"].as_array().unwrap();
    assert!(board.len() >= 5, "{board:?}");
    let baseline = board.iter().find(|e| e["family"] == "baseline").unwrap();
    assert_eq!(baseline["status"], "scored");
    for e in board.iter().filter(|e| e["status"] == "scored") {
        assert_eq!(e["cv_scores"].as_array().unwrap().len(), 5, "{e}");
        for k in ["cv_mean", "cv_std", "fit_seconds", "predict_us_per_row"] {
            assert!(e[k].as_f64().unwrap() >= 0.0, "{k} in {e}");
        }
        assert!(e["size_bytes"].as_u64().unwrap() > 0);
    }
    for e in board.iter().filter(|e| e["status"] == "skipped") {
        assert!(e["skipped_reason"].as_str().is_some(), "{e}");
    }
    assert_eq!(board[0]["rank"], 1);
    assert_eq!(auto["best"], board[0]["candidate"]);
    assert!(auto["lift_over_baseline"].as_f64().unwrap() > 0.1, "{auto}");
    assert_eq!(s["final_metrics"]["family"], board[0]["family"]);
    assert!(
        s["final_metrics"]["validation"]["accuracy"]
            .as_f64()
            .unwrap()
            >= 0.85
    );
    let p = predict(&app, &id, json!([{"x": null, "colour": "blue"}])).await;
    assert!(p["predictions"][0]["label"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trees_and_auto_train_on_categories_and_missing_values_on_sqlite() {
    trees_and_auto(state_with(api_tests::sqlite_store(), &[])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trees_and_auto_train_on_categories_and_missing_values_on_dynamodb() {
    trees_and_auto(state_with(api_tests::dynamo_store().await, &[])).await;
}

async fn regression(state: AppState) {
    let dataset = upload_csv(&state, &numeric_csv(400), "y").await;
    let app = models::router(state);
    // `tabular`: the float target decides.
    for architecture in ["linear", "gbm", "mlp"] {
        let mut model = json!({"name": architecture, "type": "tabular",
            "architecture": architecture, "dataset": dataset});
        if architecture == "mlp" {
            model["hidden_layers"] = json!([32]);
        }
        let body = json!({"model_config": model,
            "training_config": {"seed": 1, "epochs": 60, "learning_rate": 0.01}});
        let id = submit(&app, &body).await;
        let s = finished(&app, &id, Duration::from_secs(120)).await;
        assert_eq!(s["status"], "completed", "{s}");
        let v = &s["final_metrics"]["validation"];
        assert_eq!(s["final_metrics"]["task"], "regression");
        let (r2, rmse) = (v["r2"].as_f64().unwrap(), v["rmse"].as_f64().unwrap());
        let floor = if architecture == "linear" { 0.98 } else { 0.85 };
        assert!(r2 > floor, "{architecture}: {v}");
        // The records show the validation R² where a classifier shows its accuracy.
        assert_eq!(s["r2"], v["r2"], "{s}");
        assert!(s["accuracy"].is_null(), "{s}");
        let listed = get(&app, "/v1/models").await;
        let row = listed.body["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id.as_str())
            .unwrap()
            .clone();
        assert_eq!(row["r2"], v["r2"], "{row}");
        assert_eq!(
            get(&app, &format!("/v1/models/{id}")).await.body["r2"],
            v["r2"]
        );
        assert!(v["mae"].as_f64().unwrap() <= rmse);
        let base = &v["baseline"];
        assert!(base["r2"].as_f64().unwrap() <= 0.05, "{base}");
        assert!(base["rmse"].as_f64().unwrap() > 2.0 * rmse);
        assert_eq!(s["accuracy"], Value::Null);
        let last = s["history"].as_array().unwrap().last().unwrap().clone();
        for k in ["val_rmse", "val_mae", "val_r2"] {
            assert!(last[k].as_f64().unwrap().is_finite(), "{k} in {last}");
        }
        assert!(last.get("val_accuracy").is_none());
        assert_eq!(s["artifact"]["task"], "regression");
        assert_eq!(s["artifact"]["classes"], json!([]));
        let p = predict(
            &app,
            &id,
            json!([{"a": 0.5, "b": 0.5, "kind": "k1"}, {"a": 0.2}]),
        )
        .await;
        assert_eq!(p["task"], "regression");
        let value = p["predictions"][0]["value"].as_f64().unwrap();
        // 4·0.5 − 3·0.5 + 2 = 2.5.
        assert!((value - 2.5).abs() < 0.6, "{architecture}: {value}");
        assert!(p["predictions"][1]["value"].as_f64().is_some());
        let svg = get(&app, &format!("/v1/models/{id}/metrics.svg")).await;
        assert!(svg.text.contains("val_r2"), "{}", svg.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_trains_on_a_numeric_target_on_sqlite() {
    regression(state_with(api_tests::sqlite_store(), &[])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_trains_on_a_numeric_target_on_dynamodb() {
    regression(state_with(api_tests::dynamo_store().await, &[])).await;
}

#[tokio::test]
async fn requests_that_do_not_fit_the_target_or_family_say_why() {
    let state = state_with(api_tests::sqlite_store(), &[]);
    let classes = upload_csv(&state, &mixed_csv(60), "label").await;
    let numbers = upload_csv(&state, &numeric_csv(60), "y").await;
    let app = models::router(state);
    let train =
        |model: Value, training: Value| json!({"model_config": model, "training_config": training});
    let cases = [
        (
            train(
                json!({"name": "r", "type": "regression", "architecture": "gbm", "dataset": classes}),
                json!({}),
            ),
            "model_config.type",
            "learns a number",
        ),
        (
            train(
                json!({"name": "r", "type": "regression", "architecture": "logistic_regression", "dataset": numbers}),
                json!({}),
            ),
            "model_config.architecture",
            "use linear",
        ),
        (
            train(
                json!({"name": "g", "type": "classification", "architecture": "mlp", "dataset": classes, "gbm": {"trees": 10}}),
                json!({}),
            ),
            "model_config.gbm",
            "gradient-boosted",
        ),
        (
            train(
                json!({"name": "g", "type": "classification", "architecture": "gbm", "dataset": classes, "gbm": {"budget": 1}}),
                json!({}),
            ),
            "model_config.gbm.budget",
            "",
        ),
        (
            train(
                json!({"name": "g", "type": "classification", "architecture": "gbm", "dataset": classes, "gbm": {"max_depth": 21}}),
                json!({}),
            ),
            "model_config.gbm.max_depth",
            "",
        ),
        (
            train(
                json!({"name": "g", "type": "classification", "architecture": "gbm", "dataset": classes, "gbm": {"learning_rate": 0}}),
                json!({}),
            ),
            "model_config.gbm.learning_rate",
            "",
        ),
        (
            train(
                json!({"name": "t", "type": "classification", "architecture": "gbm", "dataset": classes}),
                json!({"time_budget_seconds": 10}),
            ),
            "training_config.time_budget_seconds",
            "auto",
        ),
        (
            train(
                json!({"name": "t", "type": "classification", "architecture": "auto", "dataset": classes}),
                json!({"time_budget_seconds": 86_400}),
            ),
            "training_config.time_budget_seconds",
            "runtime",
        ),
        (
            train(
                json!({"name": "h", "type": "tabular", "architecture": "gbm", "dataset": numbers, "hidden_layers": [8]}),
                json!({}),
            ),
            "model_config.hidden_layers",
            "mlp",
        ),
    ];
    for (body, field, words) in cases {
        let r = post_json(&app, "/v1/models/train", &body).await;
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(details["field"], field, "{}", r.text);
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    }
}

#[tokio::test]
async fn trees_that_cannot_finish_in_a_job_are_refused_up_front() {
    let state = state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_MAX_RUNTIME_SECONDS", "1")],
    );
    let dataset = upload_csv(&state, &mixed_csv(2000), "label").await;
    let app = models::router(state);
    let body = |gbm: Value| {
        json!({"model_config": {"name": "big", "type": "classification", "architecture": "gbm",
            "dataset": dataset, "gbm": gbm}})
    };
    // 2,000 rows × 3 features × 10,000 trees × depth 20 × 3e-9 s = 3.6 s > 1 s.
    let r = post_json(
        &app,
        "/v1/models/train",
        &body(json!({"trees": 10_000, "max_depth": 20})),
    )
    .await;
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(details["field"], "model_config.gbm.trees", "{}", r.text);
    assert!(r.text.contains("about 4 s"), "{}", r.text);
    // The defaults fit: 2,000 × 3 × 100 × 6 × 3e-9 s.
    let r = post_json(&app, "/v1/models/train", &body(json!({}))).await;
    assert_eq!(r.status, 202, "{}", r.text);
}

#[tokio::test]
async fn a_target_of_many_distinct_numbers_keeps_a_small_record_and_trains_a_regression() {
    let state = state_with(api_tests::sqlite_store(), &[]);
    // 1,500 rows, nearly every target value distinct: more than the 1,000 class counts kept.
    let dataset = upload_csv(&state, &numeric_csv(1500), "y").await;
    let app = models::router(state.clone());
    let record = state.store.get_dataset(&dataset).await.unwrap().unwrap();
    let shape = record.training_shape.unwrap();
    assert!(
        shape.class_counts.is_empty(),
        "{:?}",
        shape.class_counts.len()
    );
    let target = shape.target.unwrap();
    assert_eq!(target.kind, "numeric");
    assert!(target.distinct > 1000, "{target:?}");
    let body = |kind: &str| {
        json!({"model_config": {"name": "many", "type": kind, "architecture": "gbm",
            "dataset": dataset, "gbm": {"trees": 20}}})
    };
    let r = post_json(&app, "/v1/models/train", &body("classification")).await;
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(details["field"], "model_config.type", "{}", r.text);
    assert!(
        r.text
            .contains(&format!("{} distinct numeric values", target.distinct)),
        "{}",
        r.text
    );
    let id = submit(&app, &body("tabular")).await;
    let s = finished(&app, &id, Duration::from_secs(120)).await;
    assert_eq!(s["status"], "completed", "{s}");
    assert_eq!(s["final_metrics"]["task"], "regression", "{s}");
}
