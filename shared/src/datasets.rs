//! Making and keeping datasets: generate rows from a schema straight to CSV and JSONL files
//! while measuring their quality, then store the files, the schema and the record. Used by
//! `POST /v1/ai/synthetic-data`, dataset uploads, and `enhance`'s augmentation plan.

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::records::{DatasetColumn, DatasetRecord};
use crate::state::AppState;
use crate::synth::{
    Balance, CsvSink, DataSchema, Generator, JsonlSink, Quality, QualityAccumulator, Reference,
    Row, SynthError, Table,
};

/// Rows shown in a response's `preview`.
pub const PREVIEW_ROWS: usize = 5;

/// What to generate.
pub struct Plan<'a> {
    pub schema: &'a DataSchema,
    pub seed: u64,
    pub balance: Balance,
    pub count: u64,
    /// Keep every row as JSON for the response (small sets only).
    pub keep_rows: bool,
    /// Real rows to score realism against; without, fidelity to the schema is measured.
    pub reference: Option<&'a Table>,
}

pub struct Generated {
    pub quality: Quality,
    pub preview: Vec<Value>,
    pub rows: Vec<Value>,
    pub csv: PathBuf,
    pub jsonl: PathBuf,
    pub csv_bytes: u64,
    pub jsonl_bytes: u64,
    pub seconds: f64,
}

/// The engine's validation errors name the field; they become `VALIDATION_ERROR`s.
pub fn synth_error(e: SynthError) -> ApiError {
    match e {
        SynthError::Invalid { field, message } => ApiError::validation(
            field.clone(),
            Value::Null,
            "see message",
            format!("{field}: {message}"),
        ),
        other => ApiError::internal(other),
    }
}

fn io_err(e: std::io::Error) -> ApiError {
    ApiError::internal(e)
}

pub fn row_object(header: &[String], row: &Row) -> Value {
    Value::Object(
        header
            .iter()
            .zip(row)
            .map(|(k, cell)| (k.clone(), cell.to_json()))
            .collect(),
    )
}

type File = BufWriter<std::fs::File>;

/// Opens the CSV and JSONL files of dataset `id` in `dir`.
fn sinks(
    dir: &Path,
    id: &str,
    header: &[String],
) -> ApiResult<(CsvSink<File>, JsonlSink<File>, PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(io_err)?;
    let csv_path = dir.join(format!("{id}.csv"));
    let jsonl_path = dir.join(format!("{id}.jsonl"));
    let csv = CsvSink::new(
        BufWriter::new(std::fs::File::create(&csv_path).map_err(io_err)?),
        header,
    )
    .map_err(synth_error)?;
    let jsonl = JsonlSink::new(
        BufWriter::new(std::fs::File::create(&jsonl_path).map_err(io_err)?),
        header,
    )
    .map_err(synth_error)?;
    Ok((csv, jsonl, csv_path, jsonl_path))
}

fn size(p: &Path) -> ApiResult<u64> {
    std::fs::metadata(p).map(|m| m.len()).map_err(io_err)
}

/// Generates `plan.count` rows to CSV and JSONL files in `dir`, measuring quality as they
/// pass. Memory stays bounded: rows are written as they come (plus the preview, the metrics'
/// bounded sample, and every row only when `keep_rows`). Blocking: call from a blocking task.
pub fn generate(plan: &Plan<'_>, dir: &Path, id: &str) -> ApiResult<Generated> {
    let started = Instant::now();
    let header = plan.schema.header();
    let generator =
        Generator::new(plan.schema, plan.seed, plan.balance, plan.count).map_err(synth_error)?;
    let (mut csv, mut jsonl, csv_path, jsonl_path) = sinks(dir, id, &header)?;
    // Fidelity is measured against the class balance asked for, not the schema's natural one.
    let mut metrics = QualityAccumulator::with_balance(plan.schema, plan.seed, plan.balance);
    let (mut preview, mut rows) = (Vec::new(), Vec::new());
    for row in generator {
        metrics.push(&row);
        csv.write_row(&row).map_err(synth_error)?;
        jsonl.write_row(&row).map_err(synth_error)?;
        if preview.len() < PREVIEW_ROWS {
            preview.push(row_object(&header, &row));
        }
        if plan.keep_rows {
            rows.push(row_object(&header, &row));
        }
    }
    csv.finish().map_err(synth_error)?;
    jsonl.finish().map_err(synth_error)?;
    let quality = metrics.finish(match plan.reference {
        Some(table) => Reference::Sample(table),
        None => Reference::Spec,
    });
    Ok(Generated {
        quality,
        preview,
        rows,
        csv_bytes: size(&csv_path)?,
        jsonl_bytes: size(&jsonl_path)?,
        csv: csv_path,
        jsonl: jsonl_path,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Writes a parsed table as the same CSV and JSONL a generated dataset has, in the schema's
/// column order (target last). Blocking.
pub fn write_table(
    table: &Table,
    schema: &DataSchema,
    dir: &Path,
    id: &str,
) -> ApiResult<(PathBuf, PathBuf, u64, u64)> {
    let header = schema.header();
    let index: Vec<Option<usize>> = header.iter().map(|h| table.column_index(h)).collect();
    let (mut csv, mut jsonl, csv_path, jsonl_path) = sinks(dir, id, &header)?;
    for row in &table.rows {
        let cells: Row = index
            .iter()
            .map(|i| {
                crate::synth::Cell::from_json(i.and_then(|i| row.get(i)).unwrap_or(&Value::Null))
            })
            .collect();
        csv.write_row(&cells).map_err(synth_error)?;
        jsonl.write_row(&cells).map_err(synth_error)?;
    }
    csv.finish().map_err(synth_error)?;
    jsonl.finish().map_err(synth_error)?;
    Ok((
        csv_path.clone(),
        jsonl_path.clone(),
        size(&csv_path)?,
        size(&jsonl_path)?,
    ))
}

pub fn column_kinds(schema: &DataSchema) -> Vec<DatasetColumn> {
    let mut out: Vec<DatasetColumn> = schema
        .columns
        .iter()
        .map(|c| DatasetColumn {
            name: c.name.clone(),
            kind: c.kind.kind_name().to_string(),
        })
        .collect();
    if let Some(t) = &schema.target {
        out.push(DatasetColumn {
            name: t.name.clone(),
            kind: "target".into(),
        });
    }
    out
}

/// Stores the files and the schema, then the record that points at them; removes the files.
pub async fn store(
    state: &AppState,
    record: &DatasetRecord,
    schema: &DataSchema,
    csv: &Path,
    jsonl: &Path,
) -> ApiResult<()> {
    let schema_path = csv.with_extension("schema.json");
    let text = serde_json::to_vec_pretty(schema).map_err(ApiError::internal)?;
    tokio::fs::write(&schema_path, text).await.map_err(io_err)?;
    let result = async {
        state
            .blobs
            .put_file(&record.csv_key(), csv, "text/csv")
            .await?;
        state
            .blobs
            .put_file(&record.jsonl_key(), jsonl, "application/x-ndjson")
            .await?;
        state
            .blobs
            .put_file(&record.schema_key(), &schema_path, "application/json")
            .await?;
        Ok::<(), ApiError>(())
    }
    .await;
    for p in [csv, jsonl, schema_path.as_path()] {
        let _ = tokio::fs::remove_file(p).await;
    }
    result?;
    state.store.create_dataset(record).await?;
    Ok(())
}

pub fn download_urls(id: &str) -> Value {
    json!({
        "csv": format!("/v1/datasets/{id}/download?format=csv"),
        "jsonl": format!("/v1/datasets/{id}/download?format=jsonl"),
    })
}
