//! Layer-list networks on image datasets, through the Routers with the worker in process:
//! scikit-learn's digits as an ImageFolder zip trained by a small CNN (at least 0.95
//! validation accuracy), its parameter count equal to the analyzer's, predictions from base64
//! PNGs, the safetensors file, and the requests that cannot be trained, on both stores.

use std::io::{Cursor, Read as _};
use std::time::Duration;

use api_tests::openapi::assert_conforms;
use api_tests::{assert_envelope, finished, get, post_json, send, state_with, upload_csv, Reply};
use axum::body::Body;
use axum::Router;
use base64::Engine as _;
use http::Request;
use serde_json::{json, Value};
use shared::AppState;

/// scikit-learn's 1,797 digits, 8×8 grayscale PNGs (tests/fixtures/make_digits.py).
const DIGITS_ZIP: &[u8] = include_bytes!("../fixtures/digits.zip");

/// A small CNN for 8×8 digits: 16 filters, a 2×2 pool, a dense output.
fn digits_cnn() -> Value {
    json!({"input_shape": [8, 8, 1], "layers": [
        {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"type": "batchnorm"},
        {"type": "maxpool", "pool_size": 2},
        {"type": "flatten"},
        {"type": "dropout", "rate": 0.2},
        {"type": "output", "activation": "softmax"}
    ]})
}

async fn upload_zip(state: &AppState, zip: &[u8]) -> String {
    let app = synthetic_data::router(state.clone());
    let r = send(
        &app,
        Request::post("/v1/datasets?name=digits")
            .header("content-type", "application/zip")
            .body(Body::from(zip.to_vec()))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "upload: {}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// The first `n` PNGs of the fixture with their class folders.
fn digit_pngs(n: usize) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(DIGITS_ZIP)).unwrap();
    (0..n)
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let class = f.name().unwrap().split('/').nth(1).unwrap().to_string();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            (class, bytes)
        })
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn digits(state: AppState, epochs: u32) {
    let dataset = upload_zip(&state, DIGITS_ZIP).await;
    let app = models::router(state.clone());
    let body = json!({
        "model_config": {"name": "digits cnn", "type": "image_classification",
            "architecture": digits_cnn(), "dataset": dataset},
        "training_config": {"epochs": epochs, "batch_size": 32, "learning_rate": 0.005, "seed": 7}
    });
    let r = post_json(&app, "/v1/models/train", &body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_conforms("POST", "/v1/models/train", &r);
    let id = r.body["model_id"].as_str().unwrap().to_string();
    let s = finished(&app, &id, Duration::from_secs(300)).await;
    assert_eq!(s["status"], "completed", "{s}");
    let m = &s["final_metrics"];
    assert_eq!(m["family"], "network");
    let accuracy = m["validation"]["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.95, "validation accuracy {accuracy}");
    assert_eq!(s["history"].as_array().unwrap().len(), epochs as usize);

    // The trained network is the one the analyzer counts.
    let analyze = analyze::router(state.clone());
    let a = post_json(
        &analyze,
        "/v1/ai/analyze",
        &json!({"model_description": "a digit classifier with 10 classes", "architecture": digits_cnn()}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let counted = a.body["analysis"]["architecture_assessment"]["totals"]["params"]
        .as_u64()
        .unwrap();
    let r = get(&app, &format!("/v1/models/{id}")).await;
    assert_conforms("GET", "/v1/models/{id}", &r);
    assert_eq!(r.body["artifact"]["parameters"].as_u64().unwrap(), counted);
    assert_eq!(r.body["network"]["parameters"].as_u64().unwrap(), counted);
    assert_eq!(r.body["network"]["input_shape"], json!([8, 8, 1]));
    assert_eq!(r.body["architecture"], "network");

    // Predictions from base64 PNGs (one as a data URL).
    let pngs = digit_pngs(40);
    let mut images: Vec<Value> = pngs.iter().map(|(_, p)| json!(b64(p))).collect();
    images[0] = json!(format!("data:image/png;base64,{}", b64(&pngs[0].1)));
    let r = post_json(
        &app,
        &format!("/v1/models/{id}/predict"),
        &json!({ "images": images }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_conforms("POST", "/v1/models/{id}/predict", &r);
    assert_eq!(r.body["family"], "network");
    let predictions = r.body["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 40);
    let right = predictions
        .iter()
        .zip(&pngs)
        .filter(|(p, (class, _))| p["label"] == class.as_str())
        .count();
    assert!(right >= 36, "{right} of 40 right");
    let total: f64 = predictions[0]["probabilities"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-6);

    // The file: safetensors with the manifest; ONNX is not offered for networks yet.
    let r = get(&app, &format!("/v1/models/{id}/download")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, header) = safetensors::SafeTensors::read_metadata(&r.bytes).unwrap();
    let manifest: Value =
        serde_json::from_str(&header.metadata().as_ref().unwrap()["manifest"]).unwrap();
    assert_eq!(manifest["format"], "mlaas.network");
    assert_eq!(manifest["classes"].as_array().unwrap().len(), 10);
    let r = get(&app, &format!("/v1/models/{id}/download?format=onnx")).await;
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(details["field"], "format");

    // Wrong inputs for this model.
    let r = post_json(
        &app,
        &format!("/v1/models/{id}/predict"),
        &json!({"rows": [{"x": 1}]}),
    )
    .await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "rows"
    );
    for (images, field) in [
        (json!(["not base64!"]), "images[0]"),
        (json!([b64(b"not an image")]), "images[0]"),
        (json!([]), "images"),
        (json!([3]), "images[0]"),
    ] {
        let r = post_json(
            &app,
            &format!("/v1/models/{id}/predict"),
            &json!({ "images": images }),
        )
        .await;
        assert_eq!(
            assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
            field,
            "{images}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cnn_learns_digits_from_an_image_folder_on_sqlite() {
    digits(state_with(api_tests::sqlite_store(), &[]), 12).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cnn_learns_digits_from_an_image_folder_on_dynamodb() {
    let store = api_tests::dynamo_store().await;
    digits(state_with(store, &[]), 12).await;
}

async fn refused(app: &Router, body: Value) -> (Value, Reply) {
    let r = post_json(app, "/v1/models/train", &body).await;
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    (details, r)
}

fn request(dataset: &str, architecture: Value) -> Value {
    json!({"model_config": {"name": "n", "type": "computer_vision", "architecture": architecture,
        "dataset": dataset}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn networks_that_cannot_be_trained_are_refused_at_submission() {
    let state = state_with(api_tests::sqlite_store(), &[]);
    let images = upload_zip(&state, DIGITS_ZIP).await;
    let table = upload_csv(&state, &api_tests::separable_csv(40, 1), "label").await;
    let app = models::router(state);

    // A layer the analyzer reads but the trainer does not build.
    let (d, _) = refused(
        &app,
        request(
            &images,
            json!([
                {"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": [1, 2]},
                {"type": "output"}
            ]),
        ),
    )
    .await;
    assert_eq!(d["field"], "model_config.architecture.layers[0]");
    // A window that does not fit: lenet5's second 5×5 convolution on a 4×4 map.
    let (d, r) = refused(&app, request(&images, json!("lenet5"))).await;
    assert_eq!(
        d["field"], "model_config.architecture.layers[2]",
        "{}",
        r.text
    );
    // A stated input shape that is not the dataset's.
    let (d, _) = refused(
        &app,
        request(
            &images,
            json!({"input_shape": [28, 28, 1], "layers": [{"type": "output"}]}),
        ),
    )
    .await;
    assert_eq!(d["field"], "model_config.architecture.input_shape");
    // Ending in the wrong width.
    let (d, _) = refused(
        &app,
        request(&images, json!([{"type": "dense", "units": 3}])),
    )
    .await;
    assert_eq!(d["field"], "model_config.architecture.layers[0]");
    // A tabular family on images, and a network on a table.
    let (d, _) = refused(&app, request(&images, json!("gbm"))).await;
    assert_eq!(d["field"], "model_config.architecture");
    let (d, _) = refused(&app, request(&table, json!("small_cnn"))).await;
    assert_eq!(d["field"], "model_config.dataset");
    // Tabular settings on a network.
    let mut body = request(&images, json!("small_cnn"));
    body["model_config"]["features"] = json!(["x"]);
    let (d, _) = refused(&app, body).await;
    assert_eq!(d["field"], "model_config.features");
    // Not layer objects.
    let (d, _) = refused(&app, request(&images, json!({"layers": [1]}))).await;
    assert_eq!(d["field"], "model_config.architecture.layers[0]");
    let (d, _) = refused(&app, request(&images, json!("resnet9000"))).await;
    assert_eq!(d["field"], "model_config.architecture");

    // More work than a job may do: refused with the numbers it was computed from.
    let wide = json!([
        {"type": "conv2d", "filters": 128, "kernel_size": 3, "padding": "same"},
        {"type": "conv2d", "filters": 128, "kernel_size": 3, "padding": "same"},
        {"type": "output"}
    ]);
    let mut body = request(&images, wide);
    // The job's own time limit is the budget (training_config.max_runtime_seconds).
    body["training_config"] = json!({"epochs": 100, "max_runtime_seconds": 600});
    let (d, r) = refused(&app, body).await;
    assert_eq!(d["field"], "model_config.architecture", "{}", r.text);
    let numbers = &d["received"];
    assert_eq!(numbers["budget_seconds"], 600, "{numbers}");
    assert_eq!(
        numbers["macs_per_sample"].as_u64().unwrap(),
        8 * 8 * 9 * 128 + 8 * 8 * 9 * 128 * 128 + 8 * 8 * 128 * 10,
        "{numbers}"
    );
    assert!(
        numbers["estimated_seconds"].as_f64().unwrap()
            > numbers["budget_seconds"].as_f64().unwrap()
    );
    assert!(numbers["preset_that_fits"].is_string(), "{numbers}");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("multiply-accumulates"), "{message}");
}

/// `n` 32×32 RGB PNGs in each of two classes (bright or dark), zipped as an ImageFolder.
fn rgb_zip(n: usize) -> Vec<u8> {
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (class, base) in [("bright", 200u8), ("dark", 40u8)] {
        for i in 0..n {
            let img = image::RgbImage::from_fn(32, 32, |x, y| {
                image::Rgb([
                    base,
                    base.wrapping_add((x * 3) as u8),
                    (y as u8).wrapping_mul(i as u8),
                ])
            });
            let mut png = Cursor::new(Vec::new());
            img.write_to(&mut png, image::ImageFormat::Png).unwrap();
            writer
                .start_file(
                    format!("{class}/{i}.png"),
                    zip::write::SimpleFileOptions::default(),
                )
                .unwrap();
            writer.write_all(&png.into_inner()).unwrap();
        }
    }
    writer.finish().unwrap().into_inner()
}

/// The spec's request (resnet50, 50 epochs) on an image dataset of 1,000 images: more than
/// a job's default hour, refused with the numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_resnet50_request_is_refused_with_its_cost_and_a_preset_that_fits() {
    let state = state_with(api_tests::sqlite_store(), &[]);
    let dataset = upload_zip(&state, &rgb_zip(500)).await;
    let app = models::router(state);
    let mut body = json!({
        "model_config": {"name": "Enhanced Image Classifier", "type": "computer_vision",
            "architecture": "resnet50", "dataset": dataset, "target_accuracy": 0.92},
        "training_config": {"epochs": 50, "batch_size": 32, "learning_rate": 0.001,
            "ai_enhancement": true, "providers": ["openai", "anthropic", "perplexity"]}
    });
    let (d, r) = refused(&app, body.clone()).await;
    assert_eq!(d["field"], "model_config.architecture", "{}", r.text);
    let n = &d["received"];
    // The analyzer's count for torchvision's resnet50 with a 2-class head.
    assert_eq!(
        n["parameters"].as_u64().unwrap(),
        25_557_032 - 2048 * 998 - 998
    );
    assert!(n["estimated_seconds"].as_f64().unwrap() > n["budget_seconds"].as_f64().unwrap());
    assert_eq!(n["budget_seconds"], 3600, "{n}");
    let fits = n["preset_that_fits"].as_str().unwrap().to_string();
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("the preset {fits} fits")),
        "{message}"
    );
    // And the preset it names is accepted as it stands.
    body["model_config"]["architecture"] = json!(fits);
    let r = post_json(&app, "/v1/models/train", &body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["model_id"].as_str().unwrap().to_string();
    let r = post_json(&app, &format!("/v1/models/{id}/stop"), &json!({})).await;
    assert!(r.status == 200 || r.status == 202, "{}", r.text);
    let s = finished(&app, &id, Duration::from_secs(300)).await;
    assert_eq!(s["status"], "stopped", "{s}");
}
