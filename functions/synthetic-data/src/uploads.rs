//! Uploads larger than a request may carry (a Lambda request stops at 6 MB):
//! `POST /v1/datasets/uploads` announces the file and answers a URL to PUT it to (a presigned
//! S3 PUT in AWS; the dev server's signed PUT route locally), then
//! `POST /v1/datasets/uploads/{id}/complete` reads it from the blob store and stores the
//! dataset exactly as `POST /v1/datasets` would have. The announcement is kept beside the body
//! (`uploads/<id>.json`), so no table is needed.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared::http::{JsonBody, PathId};
use shared::validate::Fields;
use shared::wire::UploadCreated;
use shared::{clock, ids, ApiError, ApiResult, AppState};

use crate::datasets::{media_type, store_body};

pub const UPLOAD_PREFIX: &str = "up_";
/// A table is read whole into memory to fit its schema (about ten times its CSV size), so
/// 16 MiB keeps it well inside the function's 1,024 MB.
pub const MAX_TABLE_BYTES: u64 = 16 * 1024 * 1024;
/// An ImageFolder archive: its decoded pixels are bounded by `IMAGE_PIXEL_LIMIT_BYTES`.
pub const MAX_ARCHIVE_BYTES: u64 = 100 * 1024 * 1024;
/// How long the PUT URL is good for.
pub const URL_TTL: Duration = Duration::from_secs(15 * 60);

const TYPES: [&str; 3] = [
    "text/csv",
    "application/vnd.apache.parquet",
    "application/zip",
];

/// What an upload was announced as, kept until it is completed.
#[derive(Debug, Serialize, Deserialize)]
struct Intent {
    id: String,
    content_type: String,
    bytes: u64,
    name: Option<String>,
    target: Option<String>,
    size: Option<String>,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    expires_at: DateTime<Utc>,
    /// Set once completed: a second completion names it.
    dataset_id: Option<String>,
}

fn intent_key(id: &str) -> String {
    format!("uploads/{id}.json")
}

fn body_key(id: &str) -> String {
    format!("uploads/{id}.body")
}

fn max_bytes(content_type: &str) -> u64 {
    if crate::image_upload::is_zip(content_type) {
        MAX_ARCHIVE_BYTES
    } else {
        MAX_TABLE_BYTES
    }
}

/// `POST /v1/datasets/uploads`.
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let f = Fields::new("", &body)?;
    f.only(&["content_type", "bytes", "name", "target", "size"])?;
    let written = f.required_string("content_type", 100)?;
    let content_type = match media_type(&written).as_str() {
        "application/x-zip-compressed" => "application/zip".to_string(),
        "application/x-parquet" => "application/vnd.apache.parquet".to_string(),
        other => other.to_string(),
    };
    if !TYPES.contains(&content_type.as_str()) {
        return Err(ApiError::validation(
            "content_type",
            json!(written),
            format!("one of: {}", TYPES.join(", ")),
            "an upload URL takes a CSV, a Parquet file or an ImageFolder zip; JSON rows go to \
             POST /v1/datasets directly",
        ));
    }
    let limit = max_bytes(&content_type);
    let bytes = f.integer("bytes", 1, limit as i64)?.ok_or_else(|| {
        ApiError::validation(
            "bytes",
            Value::Null,
            format!("the file's size, 1 to {limit}"),
            "bytes is required: the size of the file to be sent",
        )
    })? as u64;
    let zip = crate::image_upload::is_zip(&content_type);
    let target = f.string("target", 200)?;
    let size = f.string("size", 20)?;
    for (key, given, allowed) in [
        ("target", target.is_some(), !zip),
        ("size", size.is_some(), zip),
    ] {
        if given && !allowed {
            return Err(ApiError::validation(
                key,
                f.get(key).cloned().unwrap_or_default(),
                if zip {
                    "absent for images (the class folders are the target)"
                } else {
                    "absent for a table (size resizes images)"
                },
                format!("{key} does not apply to {content_type}"),
            ));
        }
    }
    if let Some(s) = &size {
        if images::parse_size(s).is_none() {
            return Err(ApiError::validation(
                "size",
                json!(s),
                "HxW, each 1-1024 (e.g. 32x32)",
                format!("size {s:?} is not HxW"),
            ));
        }
    }
    let id = ids::new_id(UPLOAD_PREFIX);
    let expires_at =
        clock::now() + chrono::Duration::from_std(URL_TTL).map_err(ApiError::internal)?;
    let url = state
        .blobs
        .presigned_put(&body_key(&id), URL_TTL, &content_type, bytes)
        .await?
        .ok_or_else(|| ApiError::ServiceUnavailable {
            message: "this deployment hands out no upload URLs: run the service through \
                      scripts/devserver.py (its blob route takes the PUT) or on AWS (S3); \
                      files up to 6 MB go to POST /v1/datasets directly"
                .into(),
            details: json!({"blob_store": state.blobs.backend()}),
        })?;
    let intent = Intent {
        id: id.clone(),
        content_type: content_type.clone(),
        bytes,
        name: f.string("name", 200)?,
        target,
        size,
        expires_at,
        dataset_id: None,
    };
    save(&state, &intent).await?;
    let created = UploadCreated {
        upload_id: id.clone(),
        method: "PUT".into(),
        url,
        headers: BTreeMap::from([("Content-Type".to_string(), content_type)]),
        max_bytes: bytes,
        expires_at: clock::rfc3339(expires_at),
        complete_url: format!("/v1/datasets/uploads/{id}/complete"),
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn save(state: &AppState, intent: &Intent) -> ApiResult<()> {
    let dir = state.config.scratch_dir.join("mlaas-upload");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ApiError::internal)?;
    let path = dir.join(format!("{}.json", intent.id));
    let text = serde_json::to_vec(intent).map_err(ApiError::internal)?;
    tokio::fs::write(&path, text)
        .await
        .map_err(ApiError::internal)?;
    let put = state
        .blobs
        .put_file(&intent_key(&intent.id), &path, "application/json")
        .await;
    let _ = tokio::fs::remove_file(&path).await;
    Ok(put?)
}

/// `POST /v1/datasets/uploads/{id}/complete`.
pub async fn complete(State(state): State<AppState>, PathId(id): PathId) -> ApiResult<Response> {
    let missing = || {
        ApiError::NotFound(format!(
            "upload {id} does not exist: announce a file with POST /v1/datasets/uploads first"
        ))
    };
    if !ids::is_valid(&id, UPLOAD_PREFIX) {
        return Err(missing());
    }
    let intent = state
        .blobs
        .get(&intent_key(&id))
        .await?
        .ok_or_else(missing)?;
    let mut intent: Intent = serde_json::from_slice(&intent).map_err(ApiError::internal)?;
    if let Some(dataset) = &intent.dataset_id {
        return Err(ApiError::Conflict(format!(
            "upload {id} was completed already: it is dataset {dataset}"
        )));
    }
    let key = body_key(&id);
    let Some(sent) = state.blobs.size(&key).await? else {
        return Err(ApiError::Conflict(format!(
            "nothing was uploaded to {id} yet: PUT the file to the upload's url (good until \
             {}), then complete it",
            clock::rfc3339(intent.expires_at)
        )));
    };
    if sent > intent.bytes {
        state.blobs.delete(&key).await?;
        return Err(ApiError::PayloadTooLarge {
            limit_bytes: intent.bytes as usize,
        });
    }
    let body = state.blobs.get(&key).await?.ok_or_else(missing)?;
    let mut params = Vec::new();
    for (k, v) in [
        ("name", &intent.name),
        ("target", &intent.target),
        ("size", &intent.size),
    ] {
        if let Some(v) = v {
            params.push((k.to_string(), v.clone()));
        }
    }
    // A body that cannot be read stays, so the error can be read and a new upload made; it
    // goes when the bucket's lifecycle rule clears uploads/.
    let created = store_body(&state, &intent.content_type, params, Bytes::from(body)).await?;
    intent.dataset_id = Some(created.summary.id.clone());
    save(&state, &intent).await?;
    state.blobs.delete(&key).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}
