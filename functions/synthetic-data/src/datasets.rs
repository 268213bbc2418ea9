//! Dataset routes: list, one record (with its schema), download (a table as CSV, JSON Lines or
//! Parquet; an image dataset as safetensors), and upload of a table (for fitting and for
//! training) or of an ImageFolder zip (`crate::image_upload`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use shared::http::download::Download;
use shared::http::{PathId, QueryPairs};
use shared::records::{DatasetOrigin, DatasetRecord};
use shared::validate::Fields;
use shared::wire::{Dataset, DatasetCreated, DatasetList, DatasetSummary};
use shared::{clock, ids, paging, ApiError, ApiResult, AppState};
use synth::{self, Table};

use shared::datasets::{self, download_urls, synth_error};

pub(crate) fn summary(d: &DatasetRecord) -> DatasetSummary {
    DatasetSummary {
        id: d.id.clone(),
        name: d.name.clone(),
        origin: d.origin,
        rows: d.rows,
        columns: d.columns.clone(),
        target: d.target.clone(),
        schema_source: d.schema_source.clone(),
        seed: d.seed,
        csv_bytes: d.csv_bytes,
        jsonl_bytes: d.jsonl_bytes,
        parquet_bytes: d.parquet_bytes,
        created_at: clock::rfc3339(d.created_at),
        training_shape: d.training_shape.clone(),
        download_urls: if d.is_images() {
            datasets::image_download_urls(&d.id)
        } else {
            let mut urls = download_urls(&d.id);
            if d.parquet_bytes.is_none() {
                urls.parquet = None;
            }
            urls
        },
        images: d.images.clone(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    QueryPairs(params): QueryPairs,
) -> ApiResult<Json<DatasetList>> {
    let (mut limit, mut after) = (paging::DEFAULT_LIMIT, None);
    for (key, value) in params {
        match key.as_str() {
            "limit" => limit = paging::limit(&value)?,
            "next_token" => after = Some(paging::token(&value, ids::DATASET_PREFIX)?),
            other => return Err(paging::unknown(other, &value, "limit, next_token")),
        }
    }
    let page = state.store.list_datasets(limit, after.as_deref()).await?;
    Ok(Json(DatasetList {
        datasets: page.datasets.iter().map(summary).collect(),
        next_token: page.last.as_deref().map(paging::encode),
    }))
}

async fn load(state: &AppState, id: &str) -> ApiResult<DatasetRecord> {
    let not_found = || {
        ApiError::NotFound(format!(
            "dataset {id} does not exist; create one with POST /v1/ai/synthetic-data or upload a CSV with POST /v1/datasets"
        ))
    };
    if !ids::is_valid(id, ids::DATASET_PREFIX) {
        return Err(not_found());
    }
    state.store.get_dataset(id).await?.ok_or_else(not_found)
}

pub async fn get_dataset(
    State(state): State<AppState>,
    PathId(id): PathId,
) -> ApiResult<Json<Dataset>> {
    let record = load(&state, &id).await?;
    // An image dataset has no schema file.
    let schema = if record.is_images() {
        None
    } else {
        state
            .blobs
            .get(&record.schema_key())
            .await?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
    };
    let object = |v: Option<Value>| match v {
        Some(Value::Object(o)) => Some(o),
        _ => None,
    };
    Ok(Json(Dataset {
        summary: summary(&record),
        quality: object(record.quality.clone()),
        schema: object(schema),
    }))
}

pub async fn download(
    State(state): State<AppState>,
    PathId(id): PathId,
    QueryPairs(params): QueryPairs,
) -> ApiResult<Response> {
    let mut format = None;
    for (key, value) in params {
        match key.as_str() {
            "format" if matches!(value.as_str(), "csv" | "jsonl" | "parquet" | "safetensors") => {
                format = Some(value)
            }
            "format" => return Err(ApiError::validation(
                "format",
                json!(value),
                "csv, jsonl, parquet or safetensors",
                "format must be csv, jsonl or parquet (a table), or safetensors (an image dataset)",
            )),
            other => return Err(paging::unknown(other, &value, "format")),
        }
    }
    let record = load(&state, &id).await?;
    if let Some(info) = &record.images {
        return download_images(&state, &record, info.bytes, format.as_deref()).await;
    }
    let format = format.unwrap_or_else(|| "csv".into());
    if format == "safetensors" {
        return Err(ApiError::validation(
            "format",
            json!(format),
            "csv, jsonl or parquet",
            format!("dataset {id} is a table: it downloads as csv, jsonl or parquet; safetensors is an image dataset's format"),
        ));
    }
    let (key, size, content_type) = match format.as_str() {
        "csv" => (
            record.csv_key(),
            record.csv_bytes,
            "text/csv; charset=utf-8",
        ),
        "jsonl" => (
            record.jsonl_key(),
            record.jsonl_bytes,
            "application/x-ndjson",
        ),
        _ => (
            record.parquet_key(),
            record.parquet_bytes.ok_or_else(|| {
                ApiError::NotFound(format!(
                    "dataset {id} was stored before Parquet copies were kept; download csv or jsonl"
                ))
            })?,
            datasets::PARQUET_TYPE,
        ),
    };
    let filename = format!("{id}.{format}");
    let download = Download {
        key: &key,
        size,
        body: None,
        content_type,
        filename,
        // Parquet is binary: base64 is what API Gateway needs for it.
        text: format != "parquet",
    };
    shared::http::download::answer(&state.blobs, download, || {
        tracing::error!(dataset = %id, key = %key, "dataset body missing");
        ApiError::NotFound(format!("the body of dataset {id} is missing"))
    })
    .await
}

/// An image dataset's one file, `format` safetensors (the default) and nothing else.
async fn download_images(
    state: &AppState,
    record: &DatasetRecord,
    size: u64,
    format: Option<&str>,
) -> ApiResult<Response> {
    let id = &record.id;
    if let Some(other) = format.filter(|f| *f != "safetensors") {
        return Err(ApiError::validation(
            "format",
            json!(other),
            "safetensors",
            format!("dataset {id} is an image dataset: it downloads as safetensors (format=safetensors), not {other}"),
        ));
    }
    let key = record.images_key();
    let download = Download {
        key: &key,
        size,
        body: None,
        content_type: datasets::SAFETENSORS_TYPE,
        filename: format!("{id}.safetensors"),
        text: false,
    };
    shared::http::download::answer(&state.blobs, download, || {
        tracing::error!(dataset = %id, key = %key, "image dataset body missing");
        ApiError::NotFound(format!("the body of dataset {id} is missing"))
    })
    .await
}

/// `POST /v1/datasets`: a CSV table, sent as `text/csv` (name and target in the query), as
/// JSON `{"name", "target", "csv": "..."}` / `{"name", "target", "rows": [{...}]}`, as a
/// Parquet file (`application/vnd.apache.parquet`, name and target in the query), or an
/// ImageFolder zip (`application/zip`, name and size in the query: `crate::image_upload`).
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    QueryPairs(params): QueryPairs,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit_bytes: crate::UPLOAD_LIMIT_BYTES,
            }
        } else {
            ApiError::validation("body", Value::Null, "a readable body", e.body_text())
        }
    })?;
    let content_type = media_type(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    let created = store_body(&state, &content_type, params, body).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `text/csv; charset=utf-8` → `text/csv`.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// An upload's body, sent with the request or (`crate::uploads`) PUT to an upload URL first:
/// read by its media type and stored as a dataset.
pub(crate) async fn store_body(
    state: &AppState,
    content_type: &str,
    params: Vec<(String, String)>,
    body: Bytes,
) -> ApiResult<DatasetCreated> {
    if crate::image_upload::is_zip(content_type) {
        return crate::image_upload::upload(state, params, body).await;
    }
    let (mut name, mut target) = (None, None);
    for (key, value) in params {
        match key.as_str() {
            "name" => name = Some(value),
            "target" => target = Some(value),
            other => return Err(paging::unknown(other, &value, "name, target")),
        }
    }
    let text = |bytes: &[u8]| {
        std::str::from_utf8(bytes).map(str::to_string).map_err(|_| {
            ApiError::validation(
                "body",
                Value::Null,
                "UTF-8 text",
                "the body is not UTF-8 text",
            )
        })
    };
    let (csv, table) = match content_type {
        "text/csv" | "text/plain" | "application/csv" => {
            let csv = text(&body)?;
            let table = Table::from_csv(&csv);
            (csv, table)
        }
        "application/json" => {
            // Strict: a key sent twice is refused, as on every other JSON route.
            let value: Value = shared::http::json::parse_strict(&body).map_err(|e| {
                ApiError::validation(
                    "body",
                    Value::Null,
                    "a JSON object",
                    format!("request body is not valid JSON: {e}"),
                )
            })?;
            let f = Fields::new("", &value)?;
            f.only(&["name", "target", "csv", "rows"])?;
            name = f.string("name", 200)?.or(name);
            target = f.string("target", 200)?.or(target);
            match (f.get("csv"), f.get("rows")) {
                (Some(Value::String(csv)), None) => (csv.clone(), Table::from_csv(csv)),
                (None, Some(Value::Array(_))) => {
                    let csv = csv_of_json_rows(&body)?;
                    let table = Table::from_csv(&csv);
                    (csv, table)
                }
                _ => {
                    return Err(ApiError::validation(
                        "csv",
                        Value::Null,
                        "either csv (text) or rows (array of objects)",
                        "send the table as csv text or as rows",
                    ))
                }
            }
        }
        datasets::PARQUET_TYPE | "application/x-parquet" => {
            let bytes = body.to_vec();
            let (csv, table) = tokio::task::spawn_blocking(move || datasets::parquet_upload(bytes))
                .await
                .map_err(ApiError::internal)??;
            (csv, Ok(table))
        }
        other => {
            return Err(ApiError::validation(
                "content-type",
                json!(other),
                "text/csv, application/json, application/vnd.apache.parquet or application/zip",
                "upload a CSV as text/csv, JSON with csv or rows, a Parquet file, or an ImageFolder zip as application/zip",
            ))
        }
    };
    let table = table.map_err(synth_error)?;
    if table.rows.is_empty() {
        return Err(ApiError::validation(
            "body",
            json!(0),
            "at least one data row",
            "the table has no rows",
        ));
    }

    let rows = table.rows.len() as u64;
    let target_for_fit = target.clone();
    let (schema, report, table, suggestions) = tokio::task::spawn_blocking(move || {
        synth::fit(&table, target_for_fit.as_deref()).map(|(schema, report)| {
            let suggestions = synth::suggest(&table, &schema);
            (schema, report, table, suggestions)
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(synth_error)?;

    let id = ids::new_dataset_id();
    let dir = state.config.scratch_dir.join("mlaas-upload");
    let columns = datasets::upload_columns(&table, &report);
    let training_shape = datasets::upload_shape(&table, &columns);
    let files = {
        let id = id.clone();
        tokio::task::spawn_blocking(move || datasets::write_upload(&csv, &table, &dir, &id))
            .await
            .map_err(ApiError::internal)??
    };
    let record = DatasetRecord {
        id: id.clone(),
        name,
        origin: DatasetOrigin::Uploaded,
        rows,
        columns,
        target: schema.target.as_ref().map(|t| t.name.clone()),
        schema_source: "uploaded".into(),
        seed: None,
        csv_bytes: files.csv_bytes,
        jsonl_bytes: files.jsonl_bytes,
        parquet_bytes: Some(files.parquet_bytes),
        quality: None,
        created_at: clock::now(),
        training_shape: Some(training_shape),
        images: None,
    };
    datasets::store(state, &record, &schema, &files).await?;
    let body = DatasetCreated {
        summary: summary(&record),
        schema: Some(schema),
        suggested_constraints: Some(suggestions),
    };
    Ok(body)
}

/// The CSV that JSON `rows` spell: columns are the union of keys in first-seen order, and a
/// cell is the value's own text (a number's numeral as written, so `1.50` stays `1.50`; a
/// string's characters; `true`/`false`; null and a missing key are empty). Nested arrays and
/// objects are refused, naming `rows[i].key`.
fn csv_of_json_rows(body: &[u8]) -> ApiResult<String> {
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        rows: Vec<RawRow<'a>>,
    }
    struct RawRow<'a>(Vec<(String, &'a serde_json::value::RawValue)>);
    impl<'de: 'a, 'a> serde::Deserialize<'de> for RawRow<'a> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visit<'a>(std::marker::PhantomData<&'a ()>);
            impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
                type Value = RawRow<'a>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object of column name to value")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<RawRow<'a>, A::Error> {
                    let mut cells = Vec::new();
                    while let Some(key) = map.next_key::<String>()? {
                        cells.push((key, map.next_value()?));
                    }
                    Ok(RawRow(cells))
                }
            }
            d.deserialize_map(Visit(std::marker::PhantomData))
        }
    }
    let invalid = |field: String, message: String| {
        ApiError::validation(field, Value::Null, "rows of scalar values", message)
    };
    let parsed: Body<'_> = serde_json::from_slice(body).map_err(|e| {
        invalid(
            "rows".into(),
            format!("rows must be an array of objects: {e}"),
        )
    })?;
    let mut header: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for row in &parsed.rows {
        for (key, _) in &row.0 {
            if !index.contains_key(key) {
                index.insert(key.clone(), header.len());
                header.push(key.clone());
            }
        }
    }
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let csv_error = |e: csv::Error| ApiError::internal(e);
    writer.write_record(&header).map_err(csv_error)?;
    let mut cells = vec![String::new(); header.len()];
    for (i, row) in parsed.rows.iter().enumerate() {
        cells.iter_mut().for_each(String::clear);
        for (key, raw) in &row.0 {
            let text = raw.get().trim();
            let cell = &mut cells[index[key]];
            match text.as_bytes().first() {
                Some(b'"') => {
                    *cell = serde_json::from_str::<String>(text)
                        .map_err(|e| invalid(format!("rows[{i}].{key}"), e.to_string()))?
                }
                Some(b'[' | b'{') => {
                    return Err(invalid(
                        format!("rows[{i}].{key}"),
                        format!("rows[{i}].{key}: nested arrays and objects are not supported; use scalar values"),
                    ))
                }
                _ if text == "null" => {}
                _ => cell.push_str(text),
            }
        }
        writer.write_record(&cells).map_err(csv_error)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::internal(e.into_error()))?;
    String::from_utf8(bytes).map_err(ApiError::internal)
}
