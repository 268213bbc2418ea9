//! The `models` function's Router: training submission, records, paging, every bad input.

use api_tests::{assert_envelope, get, post_json, send, separable_csv, state_with, upload_csv};
use axum::body::Body;
use axum::Router;
use http::Request;
use serde_json::{json, Value};
use shared::AppState;

/// Jobs stay queued here: these tests are about records; training has its own file.
const QUEUE_ONLY: (&str, &str) = ("MLAAS_WORKER_DISPATCH", "off");

fn sqlite_state() -> AppState {
    state_with(api_tests::sqlite_store(), &[QUEUE_ONLY])
}

/// The spec's request, which names an image model this service cannot train.
fn spec_image_request() -> Value {
    json!({
        "model_config": {
            "name": "Enhanced Image Classifier",
            "type": "computer_vision",
            "architecture": "resnet50",
            "dataset": "custom_images",
            "target_accuracy": 0.92
        },
        "training_config": {
            "epochs": 50,
            "batch_size": 32,
            "learning_rate": 0.001,
            "ai_enhancement": true,
            "providers": ["openai", "anthropic", "perplexity"]
        }
    })
}

/// The spec's request made trainable: a tabular classifier on a stored dataset.
fn train_request(dataset: &str) -> Value {
    let mut body = spec_image_request();
    body["model_config"] = json!({
        "name": "Enhanced Classifier",
        "type": "classification",
        "architecture": "mlp",
        "dataset": dataset,
        "target_accuracy": 0.92
    });
    body
}

/// A state and a dataset in it.
async fn with_dataset(state: AppState) -> (Router, String) {
    let id = upload_csv(&state, &separable_csv(1000, 1), "label").await;
    (models::router(state), id)
}

async fn submit(app: &Router, body: &Value) -> Value {
    let r = post_json(app, "/v1/models/train", body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    r.body
}

async fn spec_flow(state: AppState) {
    let (app, dataset) = with_dataset(state).await;
    let answer = submit(&app, &train_request(&dataset)).await;
    assert_eq!(answer["status"], "training_started");
    let model_id = answer["model_id"].as_str().unwrap();
    let job_id = answer["training_job_id"].as_str().unwrap();
    assert!(model_id.starts_with("model_") && job_id.starts_with("job_"));
    assert_eq!(
        answer["monitoring_url"],
        format!("/v1/models/{model_id}/status")
    );
    assert_eq!(
        answer["ai_enhancements_scheduled"],
        json!([
            "synthetic_data_generation",
            "architecture_optimization",
            "hyperparameter_tuning"
        ])
    );
    assert_eq!(answer["dataset"]["id"], dataset);
    assert_eq!(answer["dataset"]["rows"], 1000);
    assert!(answer["estimated_completion"].is_string());

    let r = get(&app, &format!("/v1/models/{model_id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "Enhanced Classifier");
    assert_eq!(r.body["type"], "classification");
    assert_eq!(r.body["status"], "queued");
    assert_eq!(r.body["training_job_id"], job_id);

    let r = get(&app, answer["monitoring_url"].as_str().unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "queued");
    assert_eq!(r.body["training_job_id"], job_id);
    assert_eq!(r.body["status_transitions"][0]["status"], "queued");
    assert!(r.body["status_transitions"][0]["at"].is_string());

    let r = get(&app, "/v1/models").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["total_models"], 1);
    assert_eq!(r.body["active_training"], 0);
    let m = &r.body["models"][0];
    for key in ["id", "name", "type", "status", "accuracy", "created_at"] {
        assert!(m.get(key).is_some(), "model summary lacks {key}");
    }
}

#[tokio::test]
async fn spec_example_end_to_end_on_sqlite() {
    spec_flow(sqlite_state()).await;
}

#[tokio::test]
async fn spec_example_end_to_end_on_dynamodb() {
    spec_flow(state_with(api_tests::dynamo_store().await, &[QUEUE_ONLY])).await;
}

#[tokio::test]
async fn unconfigured_providers_are_named_not_refused() {
    let (app, dataset) = with_dataset(state_with(
        api_tests::sqlite_store(),
        &[("OPENAI_API_KEY", "sk-x"), QUEUE_ONLY],
    ))
    .await;
    let answer = submit(&app, &train_request(&dataset)).await;
    assert_eq!(
        answer["providers_not_configured"],
        json!(["anthropic", "perplexity"])
    );
}

#[tokio::test]
async fn every_bad_field_is_a_validation_error_naming_it() {
    let (app, dataset) = with_dataset(sqlite_state()).await;
    let cases = [
        (
            "/training_config/epochs",
            json!(0),
            "training_config.epochs",
        ),
        (
            "/training_config/epochs",
            json!(1001),
            "training_config.epochs",
        ),
        (
            "/training_config/epochs",
            json!(2.5),
            "training_config.epochs",
        ),
        (
            "/training_config/batch_size",
            json!(0),
            "training_config.batch_size",
        ),
        (
            "/training_config/batch_size",
            json!(65537),
            "training_config.batch_size",
        ),
        (
            "/training_config/learning_rate",
            json!(-0.1),
            "training_config.learning_rate",
        ),
        (
            "/training_config/learning_rate",
            json!(2),
            "training_config.learning_rate",
        ),
        (
            "/training_config/providers",
            json!("openai"),
            "training_config.providers",
        ),
        (
            "/training_config/providers",
            json!(["openai", "llama"]),
            "training_config.providers[1]",
        ),
        (
            "/model_config/target_accuracy",
            json!(1.2),
            "model_config.target_accuracy",
        ),
        ("/model_config/type", json!(null), "model_config.type"),
        (
            "/model_config/type",
            json!("computer_vision"),
            "model_config.type",
        ),
        (
            "/model_config/architecture",
            json!("vgg16"),
            "model_config.architecture",
        ),
        ("/model_config/dataset", json!(null), "model_config.dataset"),
        ("/model_config", json!([]), "model_config"),
    ];
    for (pointer, value, field) in cases {
        let mut body = train_request(&dataset);
        *body.pointer_mut(pointer).unwrap() = value.clone();
        let r = post_json(&app, "/v1/models/train", &body).await;
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(details["field"], field, "{pointer} = {value}");
        assert!(details.get("received").is_some());
        assert!(details["expected"].is_string());
    }
    let r = get(&app, "/v1/models").await;
    assert_eq!(
        r.body["total_models"], 0,
        "no rejected request stored anything"
    );
}

#[tokio::test]
async fn the_spec_image_request_is_refused_listing_what_is_supported() {
    // resnet50 is a preset; the spec's `custom_images` is not a stored dataset.
    let app = models::router(sqlite_state());
    let r = post_json(&app, "/v1/models/train", &spec_image_request()).await;
    assert_envelope(&r, 404, "NOT_FOUND");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("POST /v1/datasets"), "{message}");
    let mut body = spec_image_request();
    body["model_config"]["architecture"] = json!("vgg16");
    let r = post_json(&app, "/v1/models/train", &body).await;
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(details["field"], "model_config.architecture");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "logistic_regression, linear, mlp, gbm, auto, small_cnn, lenet5, resnet8, resnet20, resnet50"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn a_missing_dataset_is_404_saying_how_to_make_one() {
    let app = models::router(sqlite_state());
    for id in ["ds_01KB0000000000000000000000", "custom_images"] {
        let r = post_json(&app, "/v1/models/train", &train_request(id)).await;
        assert_envelope(&r, 404, "NOT_FOUND");
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("POST /v1/ai/synthetic-data") && message.contains("POST /v1/datasets"),
            "{message}"
        );
    }
    // A dataset without a target cannot be learned.
    let state = sqlite_state();
    let app_data = synthetic_data::router(state.clone());
    let r = send(
        &app_data,
        Request::post("/v1/datasets?name=plain")
            .header("content-type", "text/csv")
            .body(Body::from("a,b\n1,2\n3,4\n"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    let r = post_json(
        &models::router(state),
        "/v1/models/train",
        &train_request(id),
    )
    .await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "model_config.dataset"
    );
}

fn raw_post(body: impl Into<Body>, content_type: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/v1/models/train");
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(body.into()).unwrap()
}

#[tokio::test]
async fn malformed_bodies_answer_in_the_envelope() {
    let app = models::router(sqlite_state());
    let r = send(
        &app,
        raw_post("{\"model_config\": ", Some("application/json")),
    )
    .await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "body"
    );
    let r = send(&app, raw_post("[1,2]", Some("application/json"))).await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "body"
    );
    let r = send(&app, raw_post("", Some("application/json"))).await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "body"
    );
    let r = send(
        &app,
        raw_post(spec_image_request().to_string(), Some("text/plain")),
    )
    .await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "content-type"
    );
    let r = send(&app, raw_post(spec_image_request().to_string(), None)).await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "content-type"
    );
    let r = send(
        &app,
        raw_post(vec![0xff, 0xfe, 0x00], Some("application/json")),
    )
    .await;
    assert_envelope(&r, 400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = models::router(sqlite_state());
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let r = send(&app, raw_post(big.clone(), Some("application/json"))).await;
    let details = assert_envelope(&r, 413, "PAYLOAD_TOO_LARGE");
    assert_eq!(details["limit_bytes"], 1024 * 1024);
    // Without a Content-Length header the limit is enforced while reading.
    let stream = Body::from_stream(futures_stream(big));
    let r = send(&app, raw_post(stream, Some("application/json"))).await;
    assert_envelope(&r, 413, "PAYLOAD_TOO_LARGE");
}

fn futures_stream(
    text: String,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    futures_util::stream::iter(
        text.into_bytes()
            .chunks(64 * 1024)
            .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    )
}

#[tokio::test]
async fn unknown_models_are_404_and_wrong_methods_405() {
    let app = models::router(sqlite_state());
    let r = get(&app, "/v1/models/model_01jzzzzzzzzzzzzzzzzzzzzzzz").await;
    assert_envelope(&r, 404, "NOT_FOUND");
    let r = get(&app, "/v1/models/model_003/status").await;
    assert_envelope(&r, 404, "NOT_FOUND");
    let r = get(&app, "/v1/models/train").await;
    assert_envelope(&r, 405, "METHOD_NOT_ALLOWED");
    let r = send(
        &app,
        Request::delete("/v1/models").body(Body::empty()).unwrap(),
    )
    .await;
    assert_envelope(&r, 405, "METHOD_NOT_ALLOWED");
    let r = send(
        &app,
        Request::get("/v1/models/train/extra")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_envelope(&r, 404, "NOT_FOUND");
}

#[tokio::test]
async fn list_pages_with_next_token_and_filters_by_status() {
    let (app, dataset) = with_dataset(sqlite_state()).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut body = train_request(&dataset);
        body["model_config"]["name"] = json!(format!("model {i}"));
        ids.push(
            submit(&app, &body).await["model_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut url = "/v1/models?limit=2".to_string();
    loop {
        let r = get(&app, &url).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["total_models"], 5);
        for m in r.body["models"].as_array().unwrap() {
            seen.push(m["id"].as_str().unwrap().to_string());
        }
        match r.body["next_token"].as_str() {
            Some(token) => url = format!("/v1/models?limit=2&next_token={token}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "newest first, each once");

    let r = get(&app, "/v1/models?status=queued").await;
    assert_eq!(r.body["total_models"], 5);
    let r = get(&app, "/v1/models?status=completed").await;
    assert_eq!(r.body["total_models"], 0);
    assert_eq!(r.body["models"], json!([]));

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("status=running", "status"),
        ("next_token=garbage", "next_token"),
        ("sort=name", "sort"),
    ] {
        let r = get(&app, &format!("/v1/models?{query}")).await;
        assert_eq!(
            assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
            field,
            "{query}"
        );
    }
}

#[tokio::test]
async fn concurrent_submissions_get_distinct_ids() {
    let (app, dataset) = with_dataset(sqlite_state()).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, body) = (app.clone(), train_request(&dataset));
        tasks.push(tokio::spawn(async move { submit(&app, &body).await }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let answer = t.await.unwrap();
        assert!(ids.insert(answer["model_id"].as_str().unwrap().to_string()));
        assert!(ids.insert(answer["training_job_id"].as_str().unwrap().to_string()));
    }
    let r = get(&app, "/v1/models?limit=100").await;
    assert_eq!(r.body["total_models"], 20);
}
