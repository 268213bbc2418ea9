//! `POST /v1/datasets` with an ImageFolder zip (`application/zip`): the images decoded,
//! converted and resized by the `images` engine in a blocking task, stored as one safetensors
//! file, and a dataset record whose target is the class (`label`).

use axum::body::Bytes;
use serde_json::{json, Value};
use shared::records::{
    ClassCount, DatasetOrigin, DatasetRecord, ImageSetInfo, TargetSummary, TrainingShape,
};
use shared::wire::DatasetCreated;
use shared::{clock, datasets, ids, paging, ApiError, ApiResult, AppState};

/// The media types a zip archive is sent as (`application/x-zip-compressed`: Windows).
pub fn is_zip(content_type: &str) -> bool {
    matches!(
        content_type,
        "application/zip" | "application/x-zip-compressed"
    )
}

const EXPECTED: &str =
    "a zip of class folders of PNG or JPEG images (<class>/<image>.png), optionally under one top folder";

/// An engine error as the envelope's: the archive or the file it names is `body`.
fn image_error(e: images::ImageError) -> ApiError {
    match e {
        images::ImageError::File { file, message } => {
            ApiError::validation("body", json!(file), EXPECTED, format!("{file}: {message}"))
        }
        images::ImageError::Archive(message) => {
            ApiError::validation("body", Value::Null, EXPECTED, message)
        }
        other @ images::ImageError::Format(_) => ApiError::internal(other),
    }
}

/// What the handler keeps of a decoded set once its file is written (the pixels are dropped).
struct Decoded {
    height: usize,
    width: usize,
    channels: usize,
    classes: Vec<ClassCount>,
    images: u64,
    file: Vec<u8>,
}

pub async fn upload(
    state: &AppState,
    params: Vec<(String, String)>,
    body: Bytes,
) -> ApiResult<DatasetCreated> {
    let (mut name, mut size) = (None, None);
    for (key, value) in params {
        match key.as_str() {
            "name" => name = Some(value),
            "size" => {
                size = Some(images::parse_size(&value).ok_or_else(|| {
                    ApiError::validation(
                        "size",
                        json!(value),
                        format!("HxW (height x width), each 1 to {}", images::MAX_SIDE),
                        format!(
                            "size must be HxW, height by width, each 1 to {}, such as 28x28",
                            images::MAX_SIDE
                        ),
                    )
                })?)
            }
            other => return Err(paging::unknown(other, &value, "name, size")),
        }
    }
    let decoded = tokio::task::spawn_blocking(move || {
        let set = images::read_image_folder_within(&body, size, crate::IMAGE_PIXEL_LIMIT_BYTES)?;
        let file = set.to_safetensors()?;
        Ok::<_, images::ImageError>(Decoded {
            height: set.height,
            width: set.width,
            channels: set.channels,
            classes: set
                .classes
                .iter()
                .zip(set.counts())
                .map(|(class, rows)| ClassCount {
                    class: class.clone(),
                    rows,
                })
                .collect(),
            images: set.len() as u64,
            file,
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(image_error)?;

    let id = ids::new_dataset_id();
    let record = DatasetRecord {
        id: id.clone(),
        name,
        origin: DatasetOrigin::Uploaded,
        rows: decoded.images,
        columns: vec![],
        target: Some("label".into()),
        schema_source: "uploaded".into(),
        seed: None,
        csv_bytes: 0,
        jsonl_bytes: 0,
        parquet_bytes: None,
        quality: None,
        created_at: clock::now(),
        training_shape: Some(TrainingShape {
            feature_width: (decoded.height * decoded.width * decoded.channels) as u64,
            class_counts: decoded.classes.clone(),
            target: Some(TargetSummary {
                kind: "categorical".into(),
                distinct: decoded.classes.len() as u64,
            }),
        }),
        images: Some(ImageSetInfo {
            height: decoded.height as u32,
            width: decoded.width as u32,
            channels: decoded.channels as u32,
            classes: decoded.classes,
            bytes: decoded.file.len() as u64,
        }),
    };
    datasets::store_images(state, &record, &decoded.file).await?;
    let body = DatasetCreated {
        summary: crate::datasets::summary(&record),
        schema: None,
        suggested_constraints: None,
    };
    Ok(body)
}
