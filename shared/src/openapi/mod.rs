//! The OpenAPI 3.1 document of the whole API, assembled from the wire types (`crate::wire`)
//! (schemars generates their JSON Schema 2020-12, which is OpenAPI 3.1's schema dialect, so
//! no translation is needed) and from the operation table below. `system` serves it at
//! `GET /openapi.json` and renders it at `GET /docs`; the conformance tests validate real
//! responses of every Router against it.

pub mod docs;

use std::sync::OnceLock;

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::transform::RecursiveTransform;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use crate::wire as s;

/// Where the component schemas live (and what `$ref`s point at).
pub const COMPONENTS: &str = "#/components/schemas/";

/// A parameter of an operation.
struct Param {
    name: &'static str,
    location: &'static str,
    required: bool,
    description: &'static str,
    schema: Value,
}

fn path_id(description: &'static str) -> Param {
    Param {
        name: "id",
        location: "path",
        required: true,
        description,
        schema: json!({"type": "string", "minLength": 1}),
    }
}

fn query(name: &'static str, description: &'static str, schema: Value) -> Param {
    Param {
        name,
        location: "query",
        required: false,
        description,
        schema,
    }
}

/// A history metric's name (`GET /v1/models/{id}/history`, `/v1/models/compare`).
fn metric_param() -> Param {
    query(
        "metric",
        "loss, val_loss, accuracy, val_accuracy, val_rmse, val_mae, val_r2 or seconds",
        serde_json::json!({"enum": ["loss", "val_loss", "accuracy", "val_accuracy", "val_rmse",
                                    "val_mae", "val_r2", "seconds"]}),
    )
}

fn idempotency_key() -> Param {
    Param {
        name: "Idempotency-Key",
        location: "header",
        required: false,
        description: "1-255 printable ASCII characters; the same key and request within 24 h \
                      replays the stored answer (`Idempotent-Replayed: true`).",
        schema: json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"}),
    }
}

/// How an operation may answer besides its success: the statuses each kind of route has.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// No key needed (`/health`, the document, the docs page).
    Open,
    /// A read behind the key check and the rate limiter.
    Read,
    /// A POST: JSON body, idempotency keys.
    Write,
    /// A POST that calls providers: fails closed when limits cannot be counted, has a deadline.
    Ai,
}

/// `(content type, schema)` pairs of a body.
type Content = Vec<(&'static str, Value)>;
/// `(status, description, content)` of a response.
type Response = (u16, &'static str, Content);

struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    function: &'static str,
    summary: &'static str,
    description: &'static str,
    kind: Kind,
    params: Vec<Param>,
    /// `(content type, schema)` pairs; required when present.
    body: Vec<(&'static str, Value)>,
    /// `(status, description, [(content type, schema)])`.
    responses: Vec<Response>,
}

fn json_content(schema: Value) -> Vec<(&'static str, Value)> {
    vec![("application/json", schema)]
}

fn error(
    status: u16,
    description: &'static str,
) -> (u16, &'static str, Vec<(&'static str, Value)>) {
    (status, description, json_content(error_ref()))
}

fn error_ref() -> Value {
    json!({"$ref": format!("{COMPONENTS}Error")})
}

/// The API trims strings and refuses blank ones: a request string with a minimum length
/// must hold a non-whitespace character.
fn non_blank(schema: &mut schemars::Schema) {
    let is_string = match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    if is_string && min >= 1 && schema.get("pattern").is_none() {
        schema.insert("pattern".into(), json!("\\S"));
    }
}

struct Schemas {
    requests: SchemaGenerator,
    responses: SchemaGenerator,
}

impl Schemas {
    fn new() -> Self {
        let settings = || {
            SchemaSettings::draft2020_12().with(|s| {
                s.definitions_path = "/components/schemas".into();
                s.meta_schema = None;
            })
        };
        Schemas {
            requests: settings()
                .for_deserialize()
                .with_transform(RecursiveTransform(non_blank))
                .into_generator(),
            responses: settings().for_serialize().into_generator(),
        }
    }
    fn req<T: JsonSchema>(&mut self) -> Value {
        self.requests.subschema_for::<T>().to_value()
    }
    fn res<T: JsonSchema>(&mut self) -> Value {
        self.responses.subschema_for::<T>().to_value()
    }
    fn into_components(mut self) -> Map<String, Value> {
        let mut all = self.requests.take_definitions(true);
        for (name, schema) in self.responses.take_definitions(true) {
            if let Some(existing) = all.get(&name) {
                assert_eq!(
                    existing, &schema,
                    "schema {name} differs between request and response use"
                );
            }
            all.insert(name, schema);
        }
        all.sort_keys();
        all
    }
}

fn operations(g: &mut Schemas) -> Vec<Op> {
    let limit = || {
        query(
            "limit",
            "page size, 1-100 (default 20)",
            json!({"type": "integer", "minimum": 1, "maximum": 100}),
        )
    };
    let next = || {
        query(
            "next_token",
            "the `next_token` of the previous page",
            json!({"type": "string"}),
        )
    };
    let model_id = || path_id("a model id (`model_...`)");
    let sweep_id = || path_id("a sweep id (`sweep_...`)");
    let dataset_id = || path_id("a dataset id (`ds_...`)");
    vec![
        Op {
            method: "get",
            path: "/health",
            id: "health",
            function: "system",
            summary: "Service health",
            description: "Probes the store (2 s) and checks the configuration. 200 `healthy` or \
                          `degraded`, 503 `unhealthy` (the store did not answer). No key needed.",
            kind: Kind::Open,
            params: vec![],
            body: vec![],
            responses: vec![
                (
                    200,
                    "healthy or degraded",
                    json_content(g.res::<s::Health>()),
                ),
                (
                    503,
                    "unhealthy: the store did not answer",
                    json_content(g.res::<s::Health>()),
                ),
            ],
        },
        Op {
            method: "get",
            path: "/v1/ai/status",
            id: "aiStatus",
            function: "system",
            summary: "Provider configuration",
            description: "Which of the five providers are configured, their models and cooldowns.",
            kind: Kind::Read,
            params: vec![],
            body: vec![],
            responses: vec![(200, "provider status", json_content(g.res::<s::AiStatus>()))],
        },
        Op {
            method: "get",
            path: "/v1/ai/usage",
            id: "aiUsage",
            function: "system",
            summary: "Provider usage and cost per UTC day",
            description: "Calls, tokens and cost per provider for the last `days` UTC days.",
            kind: Kind::Read,
            params: vec![query(
                "days",
                "how many UTC days, 1-31 (default 7)",
                json!({"type": "integer", "minimum": 1, "maximum": 31}),
            )],
            body: vec![],
            responses: vec![
                (
                    200,
                    "usage per day and totals",
                    json_content(g.res::<s::Usage>()),
                ),
                error(400, "a bad or unknown query parameter"),
            ],
        },
        Op {
            method: "get",
            path: "/openapi.json",
            id: "openapi",
            function: "system",
            summary: "This document",
            description: "The OpenAPI 3.1 document of the whole API. No key needed.",
            kind: Kind::Open,
            params: vec![],
            body: vec![],
            responses: vec![(200, "the document", json_content(json!({"type": "object"})))],
        },
        Op {
            method: "get",
            path: "/ui",
            id: "dashboard",
            function: "system",
            summary: "The dashboard",
            description: "Models and jobs, a model's curves and metrics, datasets and usage, as one self-contained HTML page reading this API (README, \"Dashboard\"). The page needs no key; the data it reads does, when keys are on.",
            kind: Kind::Open,
            params: vec![],
            body: vec![],
            responses: vec![(
                200,
                "the page",
                vec![("text/html", json!({"type": "string"}))],
            )],
        },
        Op {
            method: "get",
            path: "/docs",
            id: "docs",
            function: "system",
            summary: "Human-readable API reference",
            description: "This document rendered as one self-contained HTML page. No key needed.",
            kind: Kind::Open,
            params: vec![],
            body: vec![],
            responses: vec![(
                200,
                "the page",
                vec![("text/html", json!({"type": "string"}))],
            )],
        },
        Op {
            method: "get",
            path: "/v1/models",
            id: "listModels",
            function: "models",
            summary: "List models",
            description: "Models newest first, with totals.",
            kind: Kind::Read,
            params: vec![
                limit(),
                query(
                    "status",
                    "only models with this status",
                    g.res::<s::ModelStatus>(),
                ),
                next(),
            ],
            body: vec![],
            responses: vec![
                (
                    200,
                    "a page of models",
                    json_content(g.res::<s::ModelList>()),
                ),
                error(400, "a bad or unknown query parameter"),
            ],
        },
        Op {
            method: "post",
            path: "/v1/models/train",
            id: "trainModel",
            function: "models",
            summary: "Start training",
            description: "Validates the request (the first bad field is named), holds it against \
                          the worker's and the models function's memory and the dataset's classes \
                          (a request that cannot fit or be split is a 400 with the estimate), \
                          stores the model and a `queued` job, and answers 202 with the \
                          estimates in `resources`. The worker trains it.",
            kind: Kind::Write,
            params: vec![idempotency_key()],
            body: json_content(g.req::<s::TrainRequest>()),
            responses: vec![
                (
                    202,
                    "the job is queued",
                    json_content(g.res::<s::TrainAccepted>()),
                ),
                error(
                    400,
                    "a field is missing or invalid; an unsupported type or architecture; more \
                     memory than the worker or the models function has; data that cannot be split",
                ),
                error(404, "the dataset does not exist"),
            ],
        },
        Op {
            method: "get",
            path: "/v1/models/{id}",
            id: "getModel",
            function: "models",
            summary: "A model record",
            description: "The model, its training configuration, artifact and links.",
            kind: Kind::Read,
            params: vec![model_id()],
            body: vec![],
            responses: vec![
                (200, "the model", json_content(g.res::<s::Model>())),
                error(404, "no such model"),
            ],
        },
        Op {
            method: "get",
            path: "/v1/models/compare",
            id: "compareModels",
            function: "models",
            summary: "Compare models",
            description: "2-10 models side by side: their settings as dotted names with the \
                          ones that differ listed, final figures with the best epoch by \
                          `metric` (default val_loss), and that metric's curves aligned by \
                          epoch, at most `max_points` (default 200) evenly spaced epochs.",
            kind: Kind::Read,
            params: vec![
                Param {
                    name: "ids",
                    location: "query",
                    required: true,
                    description: "2-10 distinct model ids, comma-separated",
                    schema: serde_json::json!({"type": "string"}),
                },
                metric_param(),
                query(
                    "max_points",
                    "epochs at most on the aligned axis (2-10000, default 200)",
                    serde_json::json!({"type": "integer", "minimum": 2, "maximum": 10000}),
                ),
            ],
            body: vec![],
            responses: vec![
                (200, "the comparison", json_content(g.res::<s::ModelComparison>())),
                error(400, "bad ids or an unknown query parameter"),
                error(404, "a model that does not exist"),
            ],
        },
        Op {
            method: "get",
            path: "/v1/models/{id}/status",
            id: "getTrainingStatus",
            function: "models",
            summary: "Training status",
            description: "The job's status with every transition's time, progress, the learning \
                          curve, final metrics and the worker's heartbeat.",
            kind: Kind::Read,
            params: vec![model_id()],
            body: vec![],
            responses: vec![
                (200, "the job", json_content(g.res::<s::TrainingStatus>())),
                error(404, "no such model"),
            ],
        },
        Op {
            method: "post",
            path: "/v1/models/{id}/stop",
            id: "stopTraining",
            function: "models",
            summary: "Stop training",
            description: "A queued job stops at once (200 `stopped`); a running one is asked to \
                          stop (202 `stopping`). No body needed.",
            kind: Kind::Write,
            params: vec![model_id(), idempotency_key()],
            body: vec![],
            responses: vec![
                (
                    200,
                    "the queued job is stopped",
                    json_content(g.res::<s::StopAccepted>()),
                ),
                (
                    202,
                    "the running job is stopping",
                    json_content(g.res::<s::StopAccepted>()),
                ),
                error(404, "no such model"),
                error(
                    409,
                    "the job is already final (or an idempotency key clash)",
                ),
            ],
        },
        Op {
            method: "get",
            path: "/v1/models/{id}/history",
            id: "getTrainingHistory",
            function: "models",
            summary: "Learning curve, downsampled",
            description: "The job's per-epoch history within `from_epoch`..`to_epoch`: one \
                          metric's (epoch, value) points downsampled by Largest-Triangle-Three-\
                          Buckets to `max_points` (2-10000, default 500), or without `metric` \
                          the whole epoch records at evenly spaced epochs.",
            kind: Kind::Read,
            params: vec![
                model_id(),
                metric_param(),
                query(
                    "max_points",
                    "points at most (2-10000, default 500)",
                    serde_json::json!({"type": "integer", "minimum": 2, "maximum": 10000}),
                ),
                query(
                    "from_epoch",
                    "first epoch (default 1)",
                    serde_json::json!({"type": "integer", "minimum": 1}),
                ),
                query(
                    "to_epoch",
                    "last epoch (default the last)",
                    serde_json::json!({"type": "integer", "minimum": 1}),
                ),
            ],
            body: vec![],
            responses: vec![
                (200, "the curve", json_content(g.res::<s::HistoryPage>())),
                error(400, "a bad or unknown query parameter"),
                error(404, "no such model"),
            ],
        },
        Op {
            method: "get",
            path: "/v1/sweeps",
            id: "listSweeps",
            function: "models",
            summary: "List sweeps",
            description: "Sweeps newest first, as last recorded: each with its status, trial \
                          counts and best trial so far (`GET /v1/sweeps/{id}` brings one up to \
                          date).",
            kind: Kind::Read,
            params: vec![limit(), next()],
            body: vec![],
            responses: vec![
                (200, "a page of sweeps", json_content(g.res::<s::SweepList>())),
                error(400, "a bad or unknown query parameter"),
            ],
        },
        Op {
            method: "post",
            path: "/v1/sweeps",
            id: "createSweep",
            function: "models",
            summary: "Start a hyperparameter sweep",
            description: "A base training request, a search space over its dotted fields (grid, \
                          or seeded random with ranges), an objective and `max_parallel`: every \
                          trial is validated as a training request first (a bad point is a 400 \
                          naming `search.space.<field>`), then each trains as its own job, \
                          `max_parallel` at once, with optional successive halving (ASHA) \
                          across them. 202 with the trials started.",
            kind: Kind::Write,
            params: vec![idempotency_key()],
            body: json_content(g.req::<s::SweepRequest>()),
            responses: vec![
                (
                    202,
                    "the sweep runs",
                    json_content(g.res::<s::SweepAccepted>()),
                ),
                error(
                    400,
                    "a field is missing or invalid, or a trial is not a valid training request",
                ),
                error(404, "the dataset does not exist"),
            ],
        },
        Op {
            method: "get",
            path: "/v1/sweeps/{id}",
            id: "getSweep",
            function: "models",
            summary: "A sweep and its trials",
            description: "Status, every trial with its settings, status and objective (live \
                          while it trains), the best completed trial, the rungs of successive \
                          halving, and a compare link for the trials. Reading it also moves the \
                          sweep on if a trial ended unseen.",
            kind: Kind::Read,
            params: vec![sweep_id()],
            body: vec![],
            responses: vec![
                (200, "the sweep", json_content(g.res::<s::Sweep>())),
                error(404, "no such sweep"),
            ],
        },
        Op {
            method: "post",
            path: "/v1/sweeps/{id}/stop",
            id: "stopSweep",
            function: "models",
            summary: "Stop a sweep",
            description: "Pending trials are cancelled and running ones asked to stop (each keeps \
                          its weights and checkpoint). 202 with the sweep; 409 when it has ended.",
            kind: Kind::Write,
            params: vec![sweep_id(), idempotency_key()],
            body: vec![],
            responses: vec![
                (202, "stopping", json_content(g.res::<s::Sweep>())),
                error(404, "no such sweep"),
                error(409, "the sweep has ended (or an idempotency key clash)"),
            ],
        },
        Op {
            method: "post",
            path: "/v1/models/{id}/resume",
            id: "resumeTraining",
            function: "models",
            summary: "Resume a stopped job",
            description: "A stopped job continues from its last checkpoint (written when it \
                          stopped, at a hand-on, or every MLAAS_CHECKPOINT_INTERVAL_SECONDS): \
                          202 `queued`, and the run goes on exactly as if it had never stopped. \
                          No body needed.",
            kind: Kind::Write,
            params: vec![model_id(), idempotency_key()],
            body: vec![],
            responses: vec![
                (
                    202,
                    "the job is queued again",
                    json_content(g.res::<s::ResumeAccepted>()),
                ),
                error(404, "no such model"),
                error(
                    409,
                    "the job is not stopped, or has no checkpoint (or an idempotency key clash)",
                ),
            ],
        },
        Op {
            method: "post",
            path: "/v1/models/{id}/predict",
            id: "predict",
            function: "models",
            summary: "Predict with a trained model",
            description: "Class probabilities (or values) for 1-1000 feature rows of a table \
                          model; the body may be up to 5 MiB (1,000 rows of about 250 numeric \
                          features). A value the model cannot compute with (its standardized \
                          value or the output is not a finite float32) is a 400 naming \
                          `rows[i].feature`. A network reads what it was trained on: `images` \
                          (base64 PNG or JPEG, 1-256), `values` (a forecaster's last window) \
                          or `texts` (a text classifier's raw texts, 1-1000); one of the four \
                          per request, and another than the model's is a 400 naming it.",
            kind: Kind::Write,
            params: vec![model_id(), idempotency_key()],
            body: json_content(g.req::<s::PredictRequest>()),
            responses: vec![
                (
                    200,
                    "one prediction per row",
                    json_content(g.res::<s::Predictions>()),
                ),
                error(404, "no such model"),
                error(
                    409,
                    "the model has no trained weights yet (or an idempotency key clash)",
                ),
            ],
        },
        Op {
            method: "get",
            path: "/v1/models/{id}/metrics.svg",
            id: "metricsSvg",
            function: "models",
            summary: "Learning curves",
            description: "Loss and accuracy per epoch as a self-contained SVG.",
            kind: Kind::Read,
            params: vec![model_id()],
            body: vec![],
            responses: vec![
                (
                    200,
                    "the chart",
                    vec![("image/svg+xml", json!({"type": "string"}))],
                ),
                error(404, "no such model"),
            ],
        },
        Op {
            method: "get",
            path: "/v1/models/{id}/download",
            id: "downloadModel",
            function: "models",
            summary: "Download a trained model",
            description: "`format=onnx`: the whole pipeline as one ONNX graph (opset 17 and \
                          `ai.onnx.ml` 3): raw feature columns in (the record's \
                          `artifact.onnx.inputs`), `label` and `probabilities` or `value` out, \
                          the same answers as `predict`. `safetensors` (networks) or `json` \
                          (trees, the baseline): the stored artifact, the default. Above 4 MiB \
                          in AWS (1 MiB locally) a redirect to a presigned URL.",
            kind: Kind::Read,
            params: vec![
                model_id(),
                query(
                    "format",
                    "`onnx`, `safetensors` or `json` (default: the stored artifact's)",
                    json!({"type": "string", "enum": ["onnx", "safetensors", "json"]}),
                ),
            ],
            body: vec![],
            responses: vec![
                (
                    200,
                    "the file",
                    vec![
                        (
                            "application/octet-stream",
                            json!({"type": "string", "format": "binary"}),
                        ),
                        ("application/json", json!({"type": "object"})),
                    ],
                ),
                (
                    302,
                    "a presigned URL in `Location` (S3 in AWS, the dev server's blob route locally)",
                    vec![],
                ),
                error(400, "a bad or unknown query parameter, or a format the model is not stored in"),
                error(404, "no such model"),
                error(409, "the model has no trained weights yet"),
            ],
        },
        Op {
            method: "post",
            path: "/v1/ai/synthetic-data",
            id: "syntheticData",
            function: "synthetic-data",
            summary: "Generate a synthetic tabular dataset",
            description: "Designs a schema (explicit, fitted to `sample_rows`, by the \
                          `synthetic_data` provider or builtin), generates `target_count` rows \
                          with a Gaussian copula, stores the dataset and measures its quality.",
            kind: Kind::Ai,
            params: vec![idempotency_key()],
            body: json_content(g.req::<s::SyntheticDataRequest>()),
            responses: vec![
                (
                    200,
                    "the dataset and its quality",
                    json_content(g.res::<s::SyntheticDataResponse>()),
                ),
                error(
                    422,
                    "`conditions` no row can meet, or too rare to meet within the draw bound \
                     (code UNSATISFIABLE, `details.field` names the condition)",
                ),
            ],
        },
        Op {
            method: "get",
            path: "/v1/datasets",
            id: "listDatasets",
            function: "synthetic-data",
            summary: "List datasets",
            description: "Datasets newest first.",
            kind: Kind::Read,
            params: vec![limit(), next()],
            body: vec![],
            responses: vec![
                (
                    200,
                    "a page of datasets",
                    json_content(g.res::<s::DatasetList>()),
                ),
                error(400, "a bad or unknown query parameter"),
            ],
        },
        Op {
            method: "post",
            path: "/v1/datasets",
            id: "uploadDataset",
            function: "synthetic-data",
            summary: "Upload a CSV or Parquet table, or an ImageFolder zip of images",
            description: "A table as `text/csv` (name and target in the query), JSON with `csv` \
                          text or `rows`, or an Apache Parquet file \
                          (`application/vnd.apache.parquet`, name and target in the query); 6 MiB \
                          at most. Stored byte for byte as sent (JSON rows and Parquet as the CSV \
                          they spell), with JSON Lines and a typed Parquet copy; its schema is \
                          fitted on upload, and `columns` says how each column was read and why \
                          (a free-text column, of at least 3 words per value on average, with \
                          its `words` per value: what a text classifier reads). \
                          Or images as an ImageFolder zip (`application/zip`: \
                          `<class>/<image>.png|jpg|jpeg`, optionally under one top folder; name \
                          and size in the query): decoded, converted to 1 channel (every image \
                          gray) or 3, resized to one shape (`size`, else the first image's) and \
                          stored as one safetensors file; `images` gives the shape and the \
                          classes, `schema` is null.",
            kind: Kind::Write,
            params: vec![
                query("name", "the dataset's name", json!({"type": "string"})),
                query(
                    "target",
                    "the target column (a table)",
                    json!({"type": "string"}),
                ),
                query(
                    "size",
                    "an image upload's shape, `HxW` (height by width, 1 to 1024 each); default \
                     the first image's",
                    json!({"type": "string", "pattern": "^\\s*[0-9]+\\s*[xX,]\\s*[0-9]+\\s*$"}),
                ),
                idempotency_key(),
            ],
            body: vec![
                // A header row at least: an empty body is refused.
                ("text/csv", json!({"type": "string", "minLength": 1})),
                ("application/json", g.req::<s::DatasetUpload>()),
                (
                    crate::datasets::PARQUET_TYPE,
                    json!({"type": "string", "format": "binary"}),
                ),
                (
                    "application/zip",
                    json!({"type": "string", "format": "binary"}),
                ),
            ],
            responses: vec![(
                201,
                "the stored dataset",
                json_content(g.res::<s::DatasetCreated>()),
            )],
        },
        Op {
            method: "post",
            path: "/v1/datasets/uploads",
            id: "createUpload",
            function: "synthetic-data",
            summary: "An upload URL for a file over the 6 MB request limit",
            description: "Announces a CSV or Parquet table (up to 16 MiB) or an ImageFolder zip \
                          (up to 100 MiB) by its `content_type` and `bytes`, with the name, \
                          target or size `POST /v1/datasets` takes in its query. Answers where \
                          to `PUT` the file (a presigned S3 URL in AWS, the dev server's signed \
                          blob route locally; good for 15 minutes, the `Content-Type` header as \
                          given) and the `complete_url` to `POST` once it is there. 503 when the \
                          deployment has no upload URLs (the embedded store without the dev \
                          server).",
            kind: Kind::Write,
            params: vec![idempotency_key()],
            body: json_content(g.req::<s::UploadRequest>()),
            responses: vec![(
                201,
                "where to PUT the file",
                json_content(g.res::<s::UploadCreated>()),
            )],
        },
        Op {
            method: "post",
            path: "/v1/datasets/uploads/{id}/complete",
            id: "completeUpload",
            function: "synthetic-data",
            summary: "Store the uploaded file as a dataset",
            description: "Reads the file PUT to the upload's URL and stores it as `POST \
                          /v1/datasets` would have (the same checks and answer). 409 when \
                          nothing was PUT yet or the upload was completed already (the message \
                          names its dataset); 413 when the file is larger than announced. No \
                          body needed.",
            kind: Kind::Write,
            params: vec![path_id("an upload id (`up_...`)"), idempotency_key()],
            body: vec![],
            responses: vec![
                (
                    201,
                    "the stored dataset",
                    json_content(g.res::<s::DatasetCreated>()),
                ),
                error(404, "no such upload"),
                error(409, "nothing uploaded yet, or completed already"),
            ],
        },
        Op {
            method: "get",
            path: "/v1/datasets/{id}",
            id: "getDataset",
            function: "synthetic-data",
            summary: "A dataset record",
            description: "The record, its schema and quality.",
            kind: Kind::Read,
            params: vec![dataset_id()],
            body: vec![],
            responses: vec![
                (200, "the dataset", json_content(g.res::<s::Dataset>())),
                error(404, "no such dataset"),
            ],
        },
        Op {
            method: "get",
            path: "/v1/datasets/{id}/download",
            id: "downloadDataset",
            function: "synthetic-data",
            summary: "Download a dataset",
            description: "A table as CSV, JSON Lines or Parquet (typed columns, snappy); an image \
                          dataset as safetensors (`images` U8 `[N, H, W, C]`, `labels` U32 `[N]`, \
                          the class names in the metadata); above 4 MiB in AWS a presigned S3 \
                          redirect, above 1 MiB locally a redirect to the dev server's signed \
                          blob URL (the emulator loses large responses).",
            kind: Kind::Read,
            params: vec![
                dataset_id(),
                query(
                    "format",
                    "a table: `csv` (default), `jsonl` or `parquet`; an image dataset: \
                     `safetensors` (default, its only format)",
                    json!({"type": "string", "enum": ["csv", "jsonl", "parquet", "safetensors"]}),
                ),
            ],
            body: vec![],
            responses: vec![
                (
                    200,
                    "the body",
                    vec![
                        ("text/csv", json!({"type": "string"})),
                        ("application/x-ndjson", json!({"type": "string"})),
                        (
                            crate::datasets::PARQUET_TYPE,
                            json!({"type": "string", "format": "binary"}),
                        ),
                        (
                            crate::datasets::SAFETENSORS_TYPE,
                            json!({"type": "string", "format": "binary"}),
                        ),
                    ],
                ),
                (
                    302,
                    "a presigned URL in `Location` (S3 in AWS, the dev server's blob route locally)",
                    vec![],
                ),
                error(400, "a bad or unknown query parameter"),
                error(404, "no such dataset"),
            ],
        },
        Op {
            method: "post",
            path: "/v1/ai/analyze",
            id: "analyzeModel",
            function: "analyze",
            summary: "Analyze a model",
            description: "Shapes, parameters, findings, performance against references and a \
                          score, computed by the builtin analyzer and reviewed by the `analysis` \
                          provider when one answers.",
            kind: Kind::Ai,
            params: vec![idempotency_key()],
            body: json_content(g.req::<s::AnalyzeRequest>()),
            responses: vec![(
                200,
                "the analysis",
                json_content(g.res::<s::AnalyzeResponse>()),
            )],
        },
        Op {
            method: "post",
            path: "/v1/ai/enhance",
            id: "enhanceModel",
            function: "enhance",
            summary: "Plan model enhancements",
            description: "Augmentation, architecture and research parts concurrently under one \
                          deadline, with a roadmap.",
            kind: Kind::Ai,
            params: vec![idempotency_key()],
            body: json_content(g.req::<s::EnhanceRequest>()),
            responses: vec![(200, "the plan", json_content(g.res::<s::EnhanceResponse>()))],
        },
    ]
}

fn common_errors(op: &Op) -> Vec<Response> {
    let mut out = Vec::new();
    if op.kind != Kind::Open {
        out.push(error(
            401,
            "client authentication is on and no valid key was sent",
        ));
    }
    if matches!(op.kind, Kind::Write | Kind::Ai) {
        out.push(error(
            400,
            "the body is not valid JSON, has the wrong content type, or a field is invalid",
        ));
        out.push(error(
            409,
            "the Idempotency-Key was used with another request, or is still in flight",
        ));
        out.push(error(413, "the body is over the size limit"));
        out.push(error(
            503,
            "the idempotency store (or, on AI routes, the rate limiter) is unavailable",
        ));
    }
    if op.kind == Kind::Ai {
        out.push(error(
            400,
            "a named provider is not configured (MISSING_API_KEY)",
        ));
        out.push(error(504, "the request deadline passed"));
    }
    if op.path != "/openapi.json" && op.path != "/docs" && op.path != "/ui" {
        out.push(error(429, "over the rate limit; see Retry-After"));
    }
    out.push(error(
        500,
        "an internal error (logged; shown only as \"internal error\")",
    ));
    out
}

fn operation_json(op: Op) -> Value {
    let mut responses = Map::new();
    let extra = common_errors(&op);
    for (status, description, content) in op.responses.into_iter().chain(extra) {
        let key = status.to_string();
        if responses.contains_key(&key) {
            continue;
        }
        let mut r = Map::new();
        r.insert("description".into(), json!(description));
        r.insert(
            "headers".into(),
            json!({
                "Server-Timing": {"$ref": "#/components/headers/ServerTiming"},
                "X-Request-Id": {"$ref": "#/components/headers/RequestId"},
            }),
        );
        if !content.is_empty() {
            let c: Map<String, Value> = content
                .into_iter()
                .map(|(ct, schema)| (ct.to_string(), json!({ "schema": schema })))
                .collect();
            r.insert("content".into(), Value::Object(c));
        }
        responses.insert(key, Value::Object(r));
    }
    let mut sorted: Vec<(String, Value)> = responses.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut o = json!({
        "operationId": op.id,
        "summary": op.summary,
        "description": op.description,
        "tags": [op.function],
        "x-function": op.function,
        "responses": Value::Object(sorted.into_iter().collect()),
    });
    if !op.params.is_empty() {
        o["parameters"] = op
            .params
            .into_iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "in": p.location,
                    "required": p.required,
                    "description": p.description,
                    "schema": p.schema,
                })
            })
            .collect();
    }
    if !op.body.is_empty() {
        let c: Map<String, Value> = op
            .body
            .into_iter()
            .map(|(ct, schema)| (ct.to_string(), json!({ "schema": schema })))
            .collect();
        o["requestBody"] = json!({"required": true, "content": c});
    }
    if op.kind == Kind::Open {
        o["security"] = json!([]);
    }
    o
}

/// OpenAPI links: how an id one operation answers feeds the next, so a client generator (and
/// schemathesis' stateful phase) can follow a model or dataset through its routes.
/// `(source operation, status, link name, target operation, parameter, expression)`.
const LINKS: &[(&str, u16, &str, &str, &str, &str)] = &[
    (
        "trainModel",
        202,
        "model",
        "getModel",
        "id",
        "$response.body#/model_id",
    ),
    (
        "trainModel",
        202,
        "status",
        "getTrainingStatus",
        "id",
        "$response.body#/model_id",
    ),
    (
        "trainModel",
        202,
        "stop",
        "stopTraining",
        "id",
        "$response.body#/model_id",
    ),
    (
        "trainModel",
        202,
        "predict",
        "predict",
        "id",
        "$response.body#/model_id",
    ),
    (
        "trainModel",
        202,
        "metrics",
        "metricsSvg",
        "id",
        "$response.body#/model_id",
    ),
    (
        "syntheticData",
        200,
        "dataset",
        "getDataset",
        "id",
        "$response.body#/synthetic_data/dataset_id",
    ),
    (
        "syntheticData",
        200,
        "download",
        "downloadDataset",
        "id",
        "$response.body#/synthetic_data/dataset_id",
    ),
    (
        "uploadDataset",
        201,
        "dataset",
        "getDataset",
        "id",
        "$response.body#/id",
    ),
    (
        "uploadDataset",
        201,
        "download",
        "downloadDataset",
        "id",
        "$response.body#/id",
    ),
];

/// Links that fill a request body: a dataset just made is trained on (one epoch, so the
/// stateful phase stays short). `(source operation, status, dataset id expression)`.
const TRAIN_LINKS: &[(&str, u16, &str)] = &[
    (
        "syntheticData",
        200,
        "$response.body#/synthetic_data/dataset_id",
    ),
    ("uploadDataset", 201, "$response.body#/id"),
];

fn response_of<'a>(paths: &'a mut Map<String, Value>, op_id: &str, status: u16) -> &'a mut Value {
    let op = paths
        .values_mut()
        .flat_map(|item| {
            item.as_object_mut()
                .into_iter()
                .flat_map(|m| m.values_mut())
        })
        .find(|op| op["operationId"] == op_id)
        .unwrap_or_else(|| panic!("link source {op_id} is an operation"));
    let response = &mut op["responses"][status.to_string()];
    assert!(response.is_object(), "{op_id} answers {status}");
    response
}

fn add_links(paths: &mut Map<String, Value>) {
    for (source, status, name, target, param, expression) in LINKS {
        let response = response_of(paths, source, *status);
        response["links"][*name] = json!({
            "operationId": target,
            "parameters": {*param: expression},
        });
    }
    for (source, status, expression) in TRAIN_LINKS {
        let response = response_of(paths, source, *status);
        response["links"]["train"] = json!({
            "operationId": "trainModel",
            "requestBody": {
                "model_config": {
                    "name": "linked",
                    "type": "classification",
                    "architecture": "logistic_regression",
                    "dataset": expression,
                },
                "training_config": {"epochs": 1},
            },
            // The body is complete: a link follower (schemathesis' stateful phase) sends it
            // as is rather than merged into a generated one.
            "x-schemathesis": {"merge_body": false},
        });
    }
}

fn build() -> Value {
    let mut g = Schemas::new();
    let ops = operations(&mut g);
    // The envelope is referenced by name from every error response.
    g.res::<s::Error>();
    let mut paths = Map::new();
    for op in ops {
        let (path, method) = (op.path, op.method);
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = operation_json(op);
    }
    add_links(&mut paths);
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "ML Training API",
            "version": crate::VERSION,
            "description": "AI-enhanced model development: synthetic data, model analysis, \
                            enhancement plans, datasets and training. Every error is the envelope \
                            `{\"error\": {\"code\", \"message\", \"details\"}, \"timestamp\", \"request_id\"}`. \
                            Generated from the Rust types in `shared/src/wire`.",
        },
        "servers": [{"url": "http://localhost:5000", "description": "local emulator (`scripts/dev`)"}],
        "security": [{"bearer": []}, {"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": g.into_components(),
            "headers": {
                "ServerTiming": {
                    "description": "Where the request's time went, in milliseconds (W3C Server Timing): \
                                    `store` (store and blob calls), `provider` (AI-provider exchanges, \
                                    summed: parallel calls overlap), `compute` (total minus the two, at \
                                    least 0) and `total`; e.g. `store;dur=1.2, provider;dur=0.0, \
                                    compute;dur=3.1, total;dur=4.3`.",
                    "schema": {"type": "string",
                               "pattern": "^store;dur=[0-9.]+, provider;dur=[0-9.]+, compute;dur=[0-9.]+, total;dur=[0-9.]+$"},
                },
                "RequestId": {
                    "description": "The request's id, as in an error envelope's `request_id` (API Gateway's own id behind it).",
                    "schema": {"type": "string"},
                },
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "one of MLAAS_API_KEYS, when client authentication is on"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
    })
}

/// The document (built once per process).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

/// The response schema of `method path` for `status` and `content_type`, with `$ref`s
/// resolvable against the document root (`components` included), for validators.
pub fn response_schema(method: &str, path: &str, status: u16, content_type: &str) -> Option<Value> {
    let doc = document();
    let op = doc["paths"].get(path)?.get(method.to_ascii_lowercase())?;
    let response = op["responses"].get(status.to_string())?;
    let schema = response["content"].get(content_type)?.get("schema")?;
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    Some(root)
}
