//! Uploads over the request limit: `POST /v1/datasets/uploads` answers a signed PUT URL, the
//! file goes there, `POST /v1/datasets/uploads/{id}/complete` stores the dataset. On S3
//! (moto_server) the PUT is a real presigned one sent with reqwest; on the local store the
//! URL is checked against the dev server's signature and the file written where the dev
//! server's PUT route writes it (that route itself runs in the smoke test).

use std::sync::Arc;

use api_tests::openapi::assert_conforms;
use api_tests::{assert_envelope, post_json, send};
use axum::body::Body;
use http::Request;
use serde_json::{json, Value};
use shared::store::SharedStore;
use shared::AppState;

/// scikit-learn's digits as an ImageFolder zip (tests/fixtures/make_digits.py).
const DIGITS: &[u8] = include_bytes!("../fixtures/digits.zip");
const SECRET: &str = "00112233445566778899aabbccddeeff";

fn local_state() -> AppState {
    api_tests::state_with(
        api_tests::sqlite_store(),
        &[
            ("MLAAS_LOCAL_BLOB_URL", "http://127.0.0.1:9/blobs"),
            ("MLAAS_LOCAL_BLOB_SECRET", SECRET),
        ],
    )
}

async fn complete(app: &axum::Router, id: &str) -> api_tests::Reply {
    send(
        app,
        Request::post(format!("/v1/datasets/uploads/{id}/complete"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn announce(app: &axum::Router, body: Value) -> api_tests::Reply {
    post_json(app, "/v1/datasets/uploads", &body).await
}

/// The URL's query, checked as `scripts/devserver.py` checks a PUT.
fn check_local_url(url: &str, bytes: u64) -> String {
    let (path, query) = url.split_once('?').unwrap();
    let key = path.strip_prefix("http://127.0.0.1:9/blobs/").unwrap();
    let q: std::collections::HashMap<&str, &str> =
        query.split('&').filter_map(|p| p.split_once('=')).collect();
    assert_eq!(q["max_bytes"], bytes.to_string());
    let expected = shared::blobs::local_signature(
        &shared::config::Secret::new(SECRET),
        &format!("PUT\n{key}\n{}\n{}", q["expires"], q["max_bytes"]),
    )
    .unwrap();
    assert_eq!(q["signature"], expected);
    key.to_string()
}

/// Stores `bytes` under `key` as the dev server's PUT route does.
async fn put_local(state: &AppState, key: &str, bytes: &[u8]) {
    let path = std::env::temp_dir().join(format!("upload-{}", ulid::Ulid::new()));
    tokio::fs::write(&path, bytes).await.unwrap();
    state
        .blobs
        .put_file(key, &path, "application/zip")
        .await
        .unwrap();
    tokio::fs::remove_file(&path).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_folder_goes_by_upload_url_on_the_local_store() {
    let state = local_state();
    let app = synthetic_data::router(state.clone());
    let n = DIGITS.len() as u64;
    let r = announce(
        &app,
        json!({"content_type": "application/zip", "bytes": n, "name": "digits", "size": "8x8"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_conforms("POST", "/v1/datasets/uploads", &r);
    assert_eq!(r.body["method"], "PUT");
    assert_eq!(r.body["headers"]["Content-Type"], "application/zip");
    let id = r.body["upload_id"].as_str().unwrap().to_string();
    assert_eq!(
        r.body["complete_url"],
        format!("/v1/datasets/uploads/{id}/complete")
    );
    let key = check_local_url(r.body["url"].as_str().unwrap(), n);

    // Completing before the PUT says what to do.
    let early = complete(&app, &id).await;
    assert_envelope(&early, 409, "CONFLICT");
    assert!(early.text.contains("PUT the file"), "{}", early.text);

    put_local(&state, &key, DIGITS).await;
    let r = complete(&app, &id).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_conforms("POST", "/v1/datasets/uploads/{id}/complete", &r);
    assert_eq!(r.body["rows"], 1797);
    assert_eq!(r.body["name"], "digits");
    assert_eq!(r.body["images"]["height"], 8);
    let dataset = r.body["id"].as_str().unwrap().to_string();
    assert!(
        state.blobs.size(&key).await.unwrap().is_none(),
        "the body is removed"
    );

    let again = complete(&app, &id).await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(again.text.contains(&dataset), "{}", again.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_announcements_and_completions_are_refused() {
    let state = local_state();
    let app = synthetic_data::router(state.clone());
    let cases = [
        (json!({"bytes": 10}), "content_type"),
        (
            json!({"content_type": "application/json", "bytes": 10}),
            "content_type",
        ),
        (json!({"content_type": "text/csv"}), "bytes"),
        (json!({"content_type": "text/csv", "bytes": 0}), "bytes"),
        (
            json!({"content_type": "text/csv", "bytes": 17 * 1024 * 1024}),
            "bytes",
        ),
        (
            json!({"content_type": "application/zip", "bytes": 101 * 1024 * 1024}),
            "bytes",
        ),
        (
            json!({"content_type": "application/zip", "bytes": 10, "target": "y"}),
            "target",
        ),
        (
            json!({"content_type": "text/csv", "bytes": 10, "size": "8x8"}),
            "size",
        ),
        (
            json!({"content_type": "application/zip", "bytes": 10, "size": "big"}),
            "size",
        ),
        (
            json!({"content_type": "text/csv", "bytes": 10, "extra": 1}),
            "extra",
        ),
    ];
    for (body, field) in cases {
        let r = announce(&app, body.clone()).await;
        assert_eq!(
            assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
            field,
            "{body}"
        );
    }
    let r = complete(&app, "up_nope").await;
    assert_envelope(&r, 404, "NOT_FOUND");
    let r = complete(&app, &shared::ids::new_id("up_")).await;
    assert_envelope(&r, 404, "NOT_FOUND");

    // A file larger than announced is refused and removed.
    let r = announce(
        &app,
        json!({"content_type": "text/csv", "bytes": 8, "target": "y"}),
    )
    .await;
    let id = r.body["upload_id"].as_str().unwrap().to_string();
    let key = check_local_url(r.body["url"].as_str().unwrap(), 8);
    put_local(&state, &key, b"x,y\n1,a\n2,b\n").await;
    let r = complete(&app, &id).await;
    assert_envelope(&r, 413, "PAYLOAD_TOO_LARGE");
    assert!(state.blobs.size(&key).await.unwrap().is_none());

    // A body that cannot be read is a 400 like a direct upload's, and stays for a retry.
    let csv = b"x,y\n";
    let r = announce(
        &app,
        json!({"content_type": "text/csv", "bytes": csv.len(), "target": "y"}),
    )
    .await;
    let id = r.body["upload_id"].as_str().unwrap().to_string();
    let key = check_local_url(r.body["url"].as_str().unwrap(), csv.len() as u64);
    put_local(&state, &key, csv).await;
    assert_envelope(&complete(&app, &id).await, 400, "VALIDATION_ERROR");

    // Without a blob route (the embedded store alone) there are no upload URLs.
    let bare = synthetic_data::router(api_tests::state_with(api_tests::sqlite_store(), &[]));
    let r = announce(&bare, json!({"content_type": "text/csv", "bytes": 10})).await;
    assert_envelope(&r, 503, "SERVICE_UNAVAILABLE");
}

/// A CSV over the 6 MB request limit PUT to a presigned S3 URL on moto_server, then completed
/// into a dataset on DynamoDB.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_large_csv_goes_by_presigned_put_on_s3() {
    let store: SharedStore = api_tests::dynamo_store().await;
    let blobs = Arc::new(api_tests::s3_blobs().await);
    let state = AppState::with_blobs(api_tests::config(&[]), store, blobs);
    let app = synthetic_data::router(state.clone());
    let mut csv = String::from("x,z,label\n");
    let mut i = 0u64;
    while csv.len() < 7 * 1024 * 1024 {
        csv.push_str(&format!(
            "{},{},{}\n",
            i % 997,
            (i * 7919) % 10007,
            ["a", "b"][(i % 2) as usize]
        ));
        i += 1;
    }
    let r = announce(
        &app,
        json!({"content_type": "text/csv", "bytes": csv.len(), "target": "label", "name": "big"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let url = r.body["url"].as_str().unwrap().to_string();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let id = r.body["upload_id"].as_str().unwrap().to_string();
    let put = reqwest::Client::new()
        .put(&url)
        .header("content-type", "text/csv")
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
    let r = complete(&app, &id).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["rows"], i);
    assert_eq!(r.body["target"], "label");
    assert_eq!(r.body["csv_bytes"], csv.len());
}
