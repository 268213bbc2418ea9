//! `POST /v1/models/{id}/predict`: rows in, the trained model's class and probabilities out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use shared::http::{JsonBody, PathId};
use shared::records::ArtifactInfo;
use shared::training::{Artifact, TrainingError};
use shared::validate::Fields;
use shared::{ApiError, ApiResult, AppState};

/// Rows per request: a prediction answer stays well under API Gateway's 6 MB.
pub const MAX_ROWS: usize = 1000;
/// The request body limit: a Lambda invocation carries at most 6 MB, the event's envelope
/// included, so 5 MiB of rows. 1,000 rows of 64 numeric features are about 1.2 MB; the
/// limit holds 1,000 rows of about 250 such features.
pub const BODY_LIMIT_BYTES: usize = 5 * 1024 * 1024;
/// Loaded models kept in this instance; a warm Lambda answers without reading S3 again.
const CACHED_MODELS: usize = 8;

type Cache = Mutex<HashMap<String, Arc<Artifact>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

async fn load(state: &AppState, info: &ArtifactInfo) -> ApiResult<Arc<Artifact>> {
    // The key plus the save time: a retrained model never serves stale weights.
    let cache_key = format!("{}@{}", info.key, info.saved_at.timestamp_millis());
    if let Some(a) = cache().lock().expect("cache lock").get(&cache_key) {
        return Ok(a.clone());
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
    let artifact = tokio::task::spawn_blocking(move || Artifact::from_bytes(&bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let artifact = Arc::new(artifact);
    let mut c = cache().lock().expect("cache lock");
    if c.len() >= CACHED_MODELS {
        c.clear();
    }
    c.insert(cache_key, artifact.clone());
    Ok(artifact)
}

pub async fn predict(
    State(state): State<AppState>,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let fields = Fields::new("", &body)?;
    fields.only(&["rows"])?;
    let rows = match fields.get("rows") {
        Some(Value::Array(rows)) if !rows.is_empty() && rows.len() <= MAX_ROWS => rows.clone(),
        other => {
            return Err(ApiError::validation(
                "rows",
                other.cloned().unwrap_or(Value::Null),
                format!("array of 1 to {MAX_ROWS} objects (feature name → value)"),
                format!("rows must be an array of 1 to {MAX_ROWS} objects"),
            ))
        }
    };
    let model = crate::handlers::load_model(&state, &id).await?;
    let Some(info) = model.artifact.clone() else {
        return Err(ApiError::Conflict(format!(
            "model {id} is {} and has no trained weights yet; poll /v1/models/{id}/status",
            model.status.as_str()
        )));
    };
    let artifact = load(&state, &info).await?;
    let predictions = tokio::task::spawn_blocking(move || artifact.predict(&rows))
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
    Ok(Json(json!({
        "model_id": model.id,
        "model_status": model.status,
        "classes": info.classes,
        "features": info.features,
        "count": predictions.len(),
        "predictions": predictions,
    })))
}
