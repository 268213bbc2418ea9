//! `POST /v1/models/{id}/predict`: rows in, the trained model's class and probabilities (or,
//! for regression, its value) out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use shared::http::{JsonBody, PathId};
use shared::records::{ArtifactInfo, ModelRecord};
use shared::validate::Fields;
use shared::wire::{Prediction, Predictions};
use shared::{ApiError, ApiResult, AppState};
use training::deep::DeepModel;
use training::{Model as Artifact, TrainingError};

/// A stored model, loaded: a tabular one or a layer-list network.
pub(crate) enum Loaded {
    Table(Artifact),
    Network(Box<DeepModel>),
}

/// Rows per request: a prediction answer stays well under API Gateway's 6 MB.
pub const MAX_ROWS: usize = 1000;
/// The request body limit: a Lambda invocation carries at most 6 MB, the event's envelope
/// included, so 5 MiB of rows. 1,000 rows of 64 numeric features are about 1.2 MB; the
/// limit holds 1,000 rows of about 250 such features.
pub const BODY_LIMIT_BYTES: usize = 5 * 1024 * 1024;
/// Loaded models kept in this instance, bounded by bytes (a model's weights take about its
/// artifact's size): a quarter of the function's memory, so a warm Lambda answers without
/// reading S3 again and the cache never starves a prediction. Least recently used goes first.
pub const CACHE_SHARE_OF_MEMORY: u64 = 4;

#[derive(Default)]
struct Cache {
    entries: HashMap<String, Entry>,
    used_bytes: u64,
    clock: u64,
}

struct Entry {
    artifact: Arc<Loaded>,
    bytes: u64,
    last_used: u64,
}

impl Cache {
    fn get(&mut self, key: &str) -> Option<Arc<Loaded>> {
        self.clock += 1;
        let now = self.clock;
        self.entries.get_mut(key).map(|e| {
            e.last_used = now;
            e.artifact.clone()
        })
    }

    /// Keeps `artifact` unless it alone exceeds the budget, evicting the least recently used.
    fn insert(&mut self, key: String, artifact: Arc<Loaded>, bytes: u64, budget: u64) {
        if bytes > budget || self.entries.contains_key(&key) {
            return;
        }
        while self.used_bytes + bytes > budget {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                self.used_bytes -= e.bytes;
            }
        }
        self.clock += 1;
        self.used_bytes += bytes;
        self.entries.insert(
            key,
            Entry {
                artifact,
                bytes,
                last_used: self.clock,
            },
        );
    }
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

pub(crate) async fn load(state: &AppState, info: &ArtifactInfo) -> ApiResult<Arc<Loaded>> {
    // The key plus the save time: a retrained model never serves stale weights.
    let cache_key = format!("{}@{}", info.key, info.saved_at.timestamp_millis());
    if let Some(a) = cache().lock().expect("cache lock").get(&cache_key) {
        return Ok(a);
    }
    let bytes = state
        .blobs
        .get(&info.key)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::internal(std::io::Error::other(format!(
                "artifact {} is missing from the blob store",
                info.key
            )))
        })?;
    let size = bytes.len() as u64;
    let network = info.family.as_deref() == Some("network");
    let artifact = tokio::task::spawn_blocking(move || {
        if network {
            DeepModel::from_bytes(&bytes).map(|m| Loaded::Network(Box::new(m)))
        } else {
            Artifact::from_bytes(&bytes).map(Loaded::Table)
        }
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let artifact = Arc::new(artifact);
    let budget = state.config.function_memory_bytes / CACHE_SHARE_OF_MEMORY;
    cache()
        .lock()
        .expect("cache lock")
        .insert(cache_key, artifact.clone(), size, budget);
    Ok(artifact)
}

/// The model's artifact, or a 409 while it has none.
pub(crate) fn trained_artifact(model: &ModelRecord) -> ApiResult<ArtifactInfo> {
    model.artifact.clone().ok_or_else(|| {
        ApiError::Conflict(format!(
            "model {id} is {} and has no trained weights yet; poll /v1/models/{id}/status",
            model.status.as_str(),
            id = model.id
        ))
    })
}

pub async fn predict(
    State(state): State<AppState>,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Predictions>> {
    let fields = Fields::new("", &body)?;
    const INPUTS: [&str; 4] = ["rows", "images", "values", "texts"];
    fields.only(&INPUTS)?;
    // The body first, so a bad one is a 400 whatever the model.
    let given: Vec<&str> = INPUTS
        .into_iter()
        .filter(|k| fields.get(k).is_some())
        .collect();
    if let [first, second, ..] = given.as_slice() {
        return Err(ApiError::validation(
            *second,
            fields.get(second).cloned().unwrap_or_default(),
            format!("absent when {first} is given"),
            "send one of rows (a table model), images (an image network), values (a forecaster) \
             or texts (a text classifier)",
        ));
    }
    let input = match given.first().copied() {
        Some("images") => Input::Images(images_of(fields.get("images"))?),
        Some("values") => Input::Values(values_of(fields.get("values"))?),
        Some("texts") => Input::Texts(texts_of(fields.get("texts"))?),
        _ => Input::Rows(rows_of(fields.get("rows"))?),
    };
    let model = crate::handlers::load_model(&state, &id).await?;
    let info = trained_artifact(&model)?;
    let artifact = load(&state, &info).await?;
    let model_file = artifact.clone();
    let (reads, hint) = match &*artifact {
        Loaded::Table(_) => ("rows", "{\"rows\": [feature name → value, ...]}"),
        Loaded::Network(n) => (
            n.manifest.input.request_field(),
            n.manifest.input.request_hint(),
        ),
    };
    if input.field() != reads {
        return Err(ApiError::validation(
            input.field(),
            Value::Null,
            format!("absent: this model reads {reads}"),
            format!("model {id} reads {reads}: send {hint}"),
        ));
    }
    let predictions = tokio::task::spawn_blocking(move || match (&*model_file, input) {
        (Loaded::Table(a), Input::Rows(rows)) => a.predict(&rows),
        (Loaded::Network(n), Input::Images(images)) => {
            let decoded = decode_images(n, &images)?;
            n.predict_images(&decoded)
        }
        (Loaded::Network(n), Input::Values(values)) => n.forecast(&values).map(|f| {
            f.into_iter()
                .map(|value| training::Prediction::Value { value })
                .collect()
        }),
        (Loaded::Network(n), Input::Texts(texts)) => n.predict_texts(&texts),
        (_, input) => Err(TrainingError::invalid(
            input.field(),
            "this model reads another input",
        )),
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| match e {
        TrainingError::Invalid { field, message } => ApiError::validation(
            field.clone(),
            Value::Null,
            "see message",
            format!("{field}: {message}"),
        ),
        other => ApiError::internal(other),
    })?;
    let predictions: Vec<Prediction> = predictions
        .into_iter()
        .map(|p| match p {
            training::Prediction::Class {
                label,
                probabilities,
            } => Prediction::Class {
                label,
                probabilities,
            },
            training::Prediction::Value { value } => Prediction::Value { value },
        })
        .collect();
    let (regression, family) = match &*artifact {
        Loaded::Table(a) => (
            a.encoder().task == training::Task::Regression,
            a.family().to_string(),
        ),
        Loaded::Network(n) => (
            n.manifest.task == training::Task::Regression,
            "network".to_string(),
        ),
    };
    Ok(Json(Predictions {
        model_id: model.id,
        model_status: model.status,
        task: if regression {
            shared::records::Task::Regression
        } else {
            shared::records::Task::Classification
        },
        family,
        classes: info.classes,
        features: info.features,
        count: predictions.len() as u32,
        predictions,
    }))
}

enum Input {
    Rows(Vec<Value>),
    Images(Vec<Vec<u8>>),
    /// A forecaster's window.
    Values(Vec<f64>),
    Texts(Vec<String>),
}

impl Input {
    fn field(&self) -> &'static str {
        match self {
            Input::Rows(_) => "rows",
            Input::Images(_) => "images",
            Input::Values(_) => "values",
            Input::Texts(_) => "texts",
        }
    }
}

/// Texts a predict request may send, and characters per text.
pub const MAX_TEXTS: usize = 1000;
pub const MAX_TEXT_CHARS: usize = 100_000;

/// `texts`: 1 to MAX_TEXTS strings.
fn texts_of(texts: Option<&Value>) -> ApiResult<Vec<String>> {
    match texts {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_TEXTS => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v.as_str() {
                Some(t) if t.chars().count() <= MAX_TEXT_CHARS => Ok(t.to_string()),
                Some(t) => Err(ApiError::validation(
                    format!("texts[{i}]"),
                    json!(t.chars().count()),
                    format!("at most {MAX_TEXT_CHARS} characters"),
                    format!("texts[{i}] is longer than {MAX_TEXT_CHARS} characters"),
                )),
                None => Err(ApiError::validation(
                    format!("texts[{i}]"),
                    v.clone(),
                    "a string",
                    format!(
                        "texts[{i}] must be a string, not a {}",
                        analysis::json_type(v)
                    ),
                )),
            })
            .collect(),
        other => Err(ApiError::validation(
            "texts",
            other.cloned().unwrap_or(Value::Null),
            format!("array of 1 to {MAX_TEXTS} strings"),
            format!("texts must be an array of 1 to {MAX_TEXTS} strings"),
        )),
    }
}

/// `values`: 1 to 1000 numbers (a forecaster checks the count against its window).
fn values_of(values: Option<&Value>) -> ApiResult<Vec<f64>> {
    let bad = |v: &Value| {
        ApiError::validation(
            "values",
            v.clone(),
            "array of 1 to 1000 numbers (the series' last window, oldest first)",
            "values must be an array of 1 to 1000 numbers",
        )
    };
    match values {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= 1000 => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_f64().ok_or_else(|| {
                    ApiError::validation(
                        format!("values[{i}]"),
                        v.clone(),
                        "a number",
                        format!("values[{i}] must be a number"),
                    )
                })
            })
            .collect(),
        other => Err(bad(other.unwrap_or(&Value::Null))),
    }
}

fn rows_of(rows: Option<&Value>) -> ApiResult<Vec<Value>> {
    match rows {
        Some(Value::Array(rows)) if !rows.is_empty() && rows.len() <= MAX_ROWS => Ok(rows.clone()),
        other => Err(ApiError::validation(
            "rows",
            other.cloned().unwrap_or(Value::Null),
            format!("array of 1 to {MAX_ROWS} objects (feature name → value)"),
            format!("rows must be an array of 1 to {MAX_ROWS} objects"),
        )),
    }
}

/// `images`: 1 to MAX_IMAGES base64 strings (a `data:image/...;base64,` prefix allowed).
fn images_of(images: Option<&Value>) -> ApiResult<Vec<Vec<u8>>> {
    use base64::Engine;
    let max = crate::network::MAX_IMAGES;
    let list = match images {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= max => items,
        other => {
            return Err(ApiError::validation(
                "images",
                other.cloned().unwrap_or(Value::Null),
                format!("array of 1 to {max} base64-encoded PNG or JPEG images"),
                format!("images must be an array of 1 to {max} base64 strings"),
            ))
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let bad = |why: String| {
                ApiError::validation(
                    format!("images[{i}]"),
                    Value::Null,
                    "a base64-encoded PNG or JPEG",
                    format!("images[{i}]: {why}"),
                )
            };
            let text = v
                .as_str()
                .ok_or_else(|| bad(format!("a {}, not a string", analysis::json_type(v))))?;
            let text = match text.split_once(";base64,") {
                Some((head, rest)) if head.starts_with("data:") => rest,
                _ => text,
            };
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| bad(format!("not base64 ({e})")))
        })
        .collect()
}

/// Each image decoded and resized to the network's input, as the upload did.
fn decode_images(n: &DeepModel, images: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, TrainingError> {
    let training::deep::InputSpec::Images {
        height,
        width,
        channels,
        ..
    } = n.manifest.input
    else {
        return Err(TrainingError::invalid(
            "images",
            "this model forecasts a series: send {\"values\": [the last window, oldest first]}",
        ));
    };
    images
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            images::decode_image(bytes, height, width, channels)
                .map_err(|e| TrainingError::invalid(format!("images[{i}]"), e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact() -> Arc<Loaded> {
        let table = training::fixtures::blobs(40, 1);
        let (train, val, encoder) = training::fixtures::encoded(&table, "label");
        let params = training::TrainParams {
            architecture: training::Architecture::LogisticRegression,
            optimizer: training::OptimizerKind::Adam,
            epochs: 1,
            batch_size: 8,
            learning_rate: 0.01,
            weight_decay: 0.0,
            target_accuracy: None,
            seed: 1,
        };
        let trained = training::train(&train, &val, &encoder, &params, &mut ()).unwrap();
        Arc::new(Loaded::Table(trained.model))
    }

    #[test]
    fn the_cache_is_bounded_by_bytes_and_evicts_the_least_recently_used() {
        let a = artifact();
        let mut c = Cache::default();
        c.insert("a".into(), a.clone(), 40, 100);
        c.insert("b".into(), a.clone(), 40, 100);
        assert!(c.get("a").is_some(), "a is now the most recent");
        c.insert("c".into(), a.clone(), 40, 100);
        assert!(c.get("b").is_none(), "b was least recently used");
        assert!(c.get("a").is_some() && c.get("c").is_some());
        assert_eq!(c.used_bytes, 80);
        c.insert("huge".into(), a, 101, 100);
        assert!(
            c.get("huge").is_none(),
            "larger than the whole budget: not kept"
        );
        assert_eq!(c.used_bytes, 80);
    }
}
