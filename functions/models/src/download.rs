//! `GET /v1/models/{id}/download`: the trained model as a file. `format=onnx` is the whole
//! pipeline (encoder and model) as one ONNX graph, built from the stored artifact on request;
//! `safetensors` (networks) or `json` (trees, the baseline) is the stored artifact itself, and
//! the default.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;
use shared::http::download::Download;
use shared::http::{PathId, QueryPairs};
use shared::records::ArtifactInfo;
use shared::{paging, ApiError, ApiResult, AppState};

pub const FORMATS: [&str; 3] = ["onnx", "safetensors", "json"];
const BINARY: &str = "application/octet-stream";

/// `safetensors` or `json`: what the stored artifact is.
fn native_format(info: &ArtifactInfo) -> &'static str {
    if info.key.ends_with(".json") {
        "json"
    } else {
        "safetensors"
    }
}

pub async fn download(
    State(state): State<AppState>,
    PathId(id): PathId,
    QueryPairs(params): QueryPairs,
) -> ApiResult<Response> {
    let mut format = None;
    for (key, value) in params {
        match key.as_str() {
            "format" if FORMATS.contains(&value.as_str()) => format = Some(value),
            "format" => {
                return Err(ApiError::validation(
                    "format",
                    json!(value),
                    "onnx, safetensors or json",
                    "format must be onnx, safetensors (networks) or json (trees and the baseline)",
                ))
            }
            other => return Err(paging::unknown(other, &value, "format")),
        }
    }
    let model = crate::handlers::load_model(&state, &id).await?;
    let info = crate::predict::trained_artifact(&model)?;
    let native = native_format(&info);
    let format = format.unwrap_or_else(|| native.to_string());
    let family = info.family.clone().unwrap_or_else(|| "mlp".into());
    if format != "onnx" && format != native {
        return Err(ApiError::validation(
            "format",
            json!(format),
            format!("onnx or {native}"),
            format!("model {id} ({family}) is stored as {native}: download format={native} or format=onnx"),
        ));
    }
    let (key, bytes, content_type) = if format == "onnx" {
        let loaded = crate::predict::load(&state, &info).await?;
        let crate::predict::Loaded::Table(_) = &*loaded else {
            return Err(ApiError::validation(
                "format",
                json!(format),
                "safetensors",
                format!("the ONNX export covers the tabular families; model {id} is a layer-list network: download format=safetensors"),
            ));
        };
        let bytes = tokio::task::spawn_blocking(move || match &*loaded {
            crate::predict::Loaded::Table(artifact) => training::onnx::export(artifact),
            crate::predict::Loaded::Network(_) => unreachable!("refused above"),
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        let key = format!("models/{id}-{}.onnx", info.saved_at.timestamp_millis());
        (key, Some(bytes), BINARY)
    } else {
        let content_type = if native == "json" {
            "application/json"
        } else {
            BINARY
        };
        (info.key.clone(), None, content_type)
    };
    let size = bytes.as_ref().map_or(info.bytes, |b| b.len() as u64);
    // A large export goes by signed URL, so it is written to the store first (the store
    // answers it when the backend signs nothing).
    let body = match bytes {
        Some(b) if size > state.blobs.inline_limit() => {
            put(&state, &key, &b).await?;
            None
        }
        other => other,
    };
    let download = Download {
        key: &key,
        size,
        body,
        content_type,
        filename: format!("{id}.{format}"),
        text: format == "json",
    };
    shared::http::download::answer(&state.blobs, download, || {
        ApiError::internal(std::io::Error::other(format!(
            "artifact {key} is missing from the blob store"
        )))
    })
    .await
}

/// Writes an export to the blob store (through a scratch file, as the store takes files).
async fn put(state: &AppState, key: &str, bytes: &[u8]) -> ApiResult<()> {
    let dir = state.config.scratch_dir.clone();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ApiError::internal)?;
    let path = dir.join(format!(
        "{}.{:016x}.partial",
        key.replace('/', "_"),
        rand::random::<u64>()
    ));
    tokio::fs::write(&path, bytes)
        .await
        .map_err(ApiError::internal)?;
    let put = state.blobs.put_file(key, &path, BINARY).await;
    let _ = tokio::fs::remove_file(&path).await;
    put.map_err(ApiError::internal)
}
