//! Test support: stores on SQLite (a fresh file per test) and on DynamoDB (moto_server,
//! fresh tables per test), and a one-call helper that drives a function's Router.

pub mod mock_providers;
pub mod openapi;

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use http::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use shared::store::dynamodb::{DynamoStore, Tables};
use shared::store::sqlite::SqliteStore;
use shared::store::SharedStore;
use shared::{AppState, Config};
use tower::ServiceExt;

/// Where `scripts/test` (and `.ci/run`) expose the moto_server they started.
pub const MOTO_VAR: &str = "MLAAS_TEST_DYNAMODB_URL";

pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("mlaas-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(format!("{name}-{}.db", ulid::Ulid::new()))
}

pub fn sqlite_store() -> SharedStore {
    Arc::new(SqliteStore::open(&temp_path("store")).expect("open sqlite"))
}

/// `n` stores on one SQLite file, each with its own connection, as separate local function
/// processes have.
pub fn sqlite_stores(n: usize) -> Vec<SharedStore> {
    let path = temp_path("shared");
    (0..n)
        .map(|_| Arc::new(SqliteStore::open(&path).expect("open sqlite")) as SharedStore)
        .collect()
}

/// The tables of one test, named by `suffix`.
pub fn tables_named(suffix: &str) -> Tables {
    Tables {
        models: format!("models-{suffix}"),
        jobs: format!("jobs-{suffix}"),
        meta: format!("meta-{suffix}"),
    }
}

/// moto_server's URL, from `scripts/test`.
pub fn moto_url() -> String {
    std::env::var(MOTO_VAR).unwrap_or_else(|_| {
        panic!("{MOTO_VAR} is not set: run the suite with scripts/test, which starts moto_server")
    })
}

/// A store on existing tables (another process created them), with its own client.
pub async fn dynamo_store_on(suffix: &str) -> SharedStore {
    Arc::new(DynamoStore::new(
        dynamo_client_at(&moto_url()).await,
        tables_named(suffix),
    ))
}

/// `n` stores on the same fresh DynamoDB tables, each with its own client, as separate
/// Lambda instances have.
pub async fn dynamo_stores(n: usize) -> Vec<SharedStore> {
    dynamo_stores_named(n).await.1
}

/// As `dynamo_stores`, also returning the tables' suffix (for `dynamo_store_on`).
pub async fn dynamo_stores_named(n: usize) -> (String, Vec<SharedStore>) {
    let endpoint = moto_url();
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    let tables = tables_named(&suffix);
    let first = DynamoStore::new(dynamo_client_at(&endpoint).await, tables.clone());
    first.create_tables().await.expect("create tables on moto");
    let mut out: Vec<SharedStore> = vec![Arc::new(first)];
    for _ in 1..n {
        out.push(Arc::new(DynamoStore::new(
            dynamo_client_at(&endpoint).await,
            tables.clone(),
        )));
    }
    (suffix, out)
}

/// A DynamoDB client for moto_server on loopback, with moto's dummy credentials.
pub async fn dynamo_client_at(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&sdk)
}

/// A DynamoDB store on fresh tables. Fails loudly without moto: the DynamoDB half of the
/// suite must never pass by being skipped.
pub async fn dynamo_store() -> SharedStore {
    let endpoint = std::env::var(MOTO_VAR).unwrap_or_else(|_| {
        panic!("{MOTO_VAR} is not set: run the suite with scripts/test, which starts moto_server")
    });
    let client = dynamo_client_at(&endpoint).await;
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    let store = DynamoStore::new(
        client,
        Tables {
            models: format!("models-{suffix}"),
            jobs: format!("jobs-{suffix}"),
            meta: format!("meta-{suffix}"),
        },
    );
    store.create_tables().await.expect("create tables on moto");
    Arc::new(store)
}

/// An S3 blob store on a fresh bucket in moto_server.
pub async fn s3_blobs() -> shared::blobs::S3Blobs {
    let endpoint = std::env::var(MOTO_VAR).unwrap_or_else(|_| {
        panic!("{MOTO_VAR} is not set: run the suite with scripts/test, which starts moto_server")
    });
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    // Path-style addressing: moto on loopback has no per-bucket host names.
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    let bucket = format!("datasets-{}", ulid::Ulid::new().to_string().to_lowercase());
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket on moto");
    shared::blobs::S3Blobs::new(client, bucket)
}

/// A config from explicit variables only, never the test process's own environment. Data
/// (dataset bodies) goes to a fresh temporary folder unless the test names one.
pub fn config(vars: &[(&str, &str)]) -> Config {
    let mut vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // Router tests send many requests from one client; rate limits are tested on their own.
    if !vars.iter().any(|(k, _)| k == "MLAAS_RATE_LIMITS") {
        vars.push(("MLAAS_RATE_LIMITS".into(), "off".into()));
    }
    // Likewise they repeat requests expecting fresh work; the cache is tested on its own.
    if !vars.iter().any(|(k, _)| k == "MLAAS_CACHE_TTL_SECONDS") {
        vars.push(("MLAAS_CACHE_TTL_SECONDS".into(), "0".into()));
    }
    if !vars.iter().any(|(k, _)| k == "MLAAS_DATA_DIR") {
        let dir = std::env::temp_dir()
            .join("mlaas-tests")
            .join(format!("data-{}", ulid::Ulid::new()));
        vars.push(("MLAAS_DATA_DIR".into(), dir.display().to_string()));
    }
    Config::from_lookup(move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
}

pub fn state_with(store: SharedStore, vars: &[(&str, &str)]) -> AppState {
    AppState::new(config(vars), store)
}

/// A state on a fresh SQLite store whose `providers` point at `mock`, with `extra`
/// variables, and a retry policy with 10 ms backoff so fault tests stay fast.
pub fn state_with_mock(
    mock: &mock_providers::MockProviders,
    providers: &[shared::providers::Provider],
    extra: &[(&str, &str)],
) -> AppState {
    state_with_mock_on(sqlite_store(), mock, providers, extra)
}

/// As `state_with_mock`, on the given store.
pub fn state_with_mock_on(
    store: SharedStore,
    mock: &mock_providers::MockProviders,
    providers: &[shared::providers::Provider],
    extra: &[(&str, &str)],
) -> AppState {
    let mut vars = mock.vars(providers);
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let policy = shared::orchestrator::Policy {
        backoff_base: std::time::Duration::from_millis(10),
        ..Default::default()
    };
    state_with(store, &vars).with_orchestrator(
        shared::orchestrator::Orchestrator::from_config(&config(&vars)).with_policy(policy),
    )
}

pub fn sqlite_state() -> AppState {
    state_with(sqlite_store(), &[])
}

/// Uploads `csv` as a dataset with `target` through the synthetic-data function's route
/// (sharing `state`'s store and blobs) and returns its id.
pub async fn upload_csv(state: &AppState, csv: &str, target: &str) -> String {
    let app = synthetic_data::router(state.clone());
    let r = send(
        &app,
        Request::post(format!("/v1/datasets?name=test&target={target}"))
            .header("content-type", "text/csv")
            .body(Body::from(csv.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "upload: {}", r.text);
    r.body["id"].as_str().expect("dataset id").to_string()
}

/// A small separable two-class table: `label` is `hi` exactly when x + y > 0.
pub fn separable_csv(rows: usize, seed: u64) -> String {
    let mut out = String::from("x,y,colour,label\n");
    // A tiny LCG keeps the fixture reproducible without another dependency.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    for i in 0..rows {
        let (x, y) = (next(), next());
        let colour = ["red", "green", "blue"][i % 3];
        let label = if x + y > 0.0 { "hi" } else { "lo" };
        out.push_str(&format!("{x:.4},{y:.4},{colour},{label}\n"));
    }
    out
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body as sent (binary bodies: Parquet).
    pub bytes: Vec<u8>,
}

/// Sends one request through a Router, as API Gateway would hand it to the function.
pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
        bytes: bytes.to_vec(),
    }
}

pub async fn get(router: &Router, path: &str) -> Reply {
    send(
        router,
        Request::get(path).body(Body::empty()).expect("request"),
    )
    .await
}

pub async fn post_json(router: &Router, path: &str, body: &Value) -> Reply {
    send(
        router,
        Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request"),
    )
    .await
}

/// Polls `GET /v1/models/{id}/status` until the job ends (completed, failed or stopped),
/// checks the final answer against the document, and returns it; fails after `limit`.
pub async fn finished(app: &Router, model_id: &str, limit: std::time::Duration) -> Value {
    let started = std::time::Instant::now();
    loop {
        let r = get(app, &format!("/v1/models/{model_id}/status")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if matches!(
            r.body["status"].as_str(),
            Some("completed" | "failed" | "stopped")
        ) {
            openapi::assert_conforms("GET", "/v1/models/{id}/status", &r);
            return r.body;
        }
        assert!(started.elapsed() < limit, "not done: {}", r.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Asserts `reply` is the spec's error envelope with `code`, and returns its details.
pub fn assert_envelope(reply: &Reply, status: u16, code: &str) -> Value {
    assert_eq!(reply.status.as_u16(), status, "body: {}", reply.text);
    let b = &reply.body;
    assert_eq!(b["error"]["code"], code, "body: {}", reply.text);
    assert!(b["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert!(b["error"].get("details").is_some());
    assert!(b["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(b["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    b["error"]["details"].clone()
}

/// Runs each `async fn case(store: SharedStore)` named as a test on a fresh SQLite store
/// (`mod sqlite`) and on a fresh DynamoDB store on moto_server (`mod dynamodb`).
#[macro_export]
macro_rules! on_both_stores {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case($crate::sqlite_store()).await
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case($crate::dynamo_store().await).await
                }
            )*
        }
    };
}

/// The spec's `POST /v1/ai/analyze` example: its CNN (1,405,258 parameters on 32x32x3),
/// CIFAR-10 sample and metrics.
pub fn spec_analyze_request() -> serde_json::Value {
    serde_json::json!({
        "model_description": "Convolutional Neural Network for image classification",
        "architecture": {"layers": spec_cnn_layers()},
        "data_sample": "CIFAR-10 dataset, 32x32 RGB images, 10 classes",
        "performance_metrics": {"accuracy": 0.847, "loss": 0.423, "training_time": "2.3 hours", "inference_latency": "12ms"}
    })
}

/// The layers of the spec's CNN.
pub fn spec_cnn_layers() -> serde_json::Value {
    serde_json::json!([
        {"type": "conv2d", "filters": 32, "kernel_size": 3},
        {"type": "maxpool", "pool_size": 2},
        {"type": "conv2d", "filters": 64, "kernel_size": 3},
        {"type": "dense", "units": 128},
        {"type": "output", "units": 10, "activation": "softmax"}
    ])
}

/// The spec's `POST /v1/ai/enhance` example (a text transformer, all three scopes).
pub fn spec_enhance_request() -> serde_json::Value {
    serde_json::json!({
        "model_description": "Transformer model for natural language processing",
        "training_data": "Text classification dataset, 50K samples, 5 categories",
        "performance_metrics": {"accuracy": 0.823, "f1_score": 0.801, "training_loss": 0.387, "validation_loss": 0.421},
        "config": {
            "optimization_focus": "accuracy",
            "performance_constraints": {"max_inference_latency": "100ms", "max_model_size": "500MB"},
            "enhancement_scope": ["architecture", "training", "data"]
        }
    })
}
