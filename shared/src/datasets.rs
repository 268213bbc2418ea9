//! Making and keeping datasets: generate rows from a schema straight to CSV and JSONL files
//! while measuring their quality, then store the files, the schema and the record. Used by
//! `POST /v1/ai/synthetic-data`, dataset uploads, and `enhance`'s augmentation plan. An image
//! dataset (an ImageFolder upload) is one safetensors file and its record (`store_images`).

use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::records::{DatasetColumn, DatasetRecord, TargetSummary, TrainingShape};
use crate::state::AppState;
use synth::{
    Balance, ColumnKind, CsvSink, DataSchema, FitReport, Generator, JsonlSink, ParquetSink,
    ParquetType, Quality, QualityAccumulator, Reference, Row, SynthError, Table,
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
    /// Keep this many of the first rows (JSON values in header order) for the privacy report.
    pub compare_rows: usize,
    /// Hold on every row (`fixed_combinations` takes its combinations from `reference`).
    pub constraints: &'a [synth::Constraint],
    /// Every row meets them (conditional sampling).
    pub conditions: &'a [synth::Condition],
}

pub struct Generated {
    pub quality: Quality,
    pub preview: Vec<Value>,
    pub rows: Vec<Value>,
    /// The first `Plan::compare_rows` rows, each in header order.
    pub compared: Vec<Vec<Value>>,
    pub files: Files,
    pub seconds: f64,
    /// What the constraints did, when there were any.
    pub constraints: Option<synth::ConstraintsReport>,
    /// What the conditions did, when there were any.
    pub conditions: Option<synth::ConditionsReport>,
}

/// A dataset's three bodies as written to the scratch folder, and their sizes.
#[derive(Debug, Clone)]
pub struct Files {
    pub csv: PathBuf,
    pub jsonl: PathBuf,
    pub parquet: PathBuf,
    pub csv_bytes: u64,
    pub jsonl_bytes: u64,
    pub parquet_bytes: u64,
}

impl Files {
    /// Removes the files: a request that fails after generating them keeps nothing.
    pub async fn discard(&self) {
        for p in [&self.csv, &self.jsonl, &self.parquet] {
            let _ = tokio::fs::remove_file(p).await;
        }
    }

    fn measured(csv: PathBuf, jsonl: PathBuf, parquet: PathBuf) -> ApiResult<Files> {
        Ok(Files {
            csv_bytes: size(&csv)?,
            jsonl_bytes: size(&jsonl)?,
            parquet_bytes: size(&parquet)?,
            csv,
            jsonl,
            parquet,
        })
    }
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
        SynthError::Unsatisfiable { field, message } => ApiError::Unsatisfiable {
            message: format!("{field}: {message}"),
            field,
        },
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

/// The Parquet file of dataset `id` in `dir`, for `types`.
fn parquet_sink(
    dir: &Path,
    id: &str,
    header: &[String],
    types: Vec<ParquetType>,
) -> ApiResult<(ParquetSink<File>, PathBuf)> {
    let path = dir.join(format!("{id}.parquet"));
    let file = BufWriter::new(std::fs::File::create(&path).map_err(io_err)?);
    Ok((
        ParquetSink::new(file, header, types).map_err(synth_error)?,
        path,
    ))
}

fn finish_parquet(sink: ParquetSink<File>) -> ApiResult<()> {
    sink.finish().map_err(synth_error)?.flush().map_err(io_err)
}

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

/// Generates `plan.count` rows to CSV, JSONL and Parquet files in `dir`, measuring quality
/// as they pass. Memory stays bounded: rows are written as they come (plus the preview, the metrics'
/// bounded sample, and every row only when `keep_rows`). Blocking: call from a blocking task.
pub fn generate(plan: &Plan<'_>, dir: &Path, id: &str) -> ApiResult<Generated> {
    let started = Instant::now();
    let header = plan.schema.header();
    let generator =
        Generator::new(plan.schema, plan.seed, plan.balance, plan.count).map_err(synth_error)?;
    let (mut plain, mut constrained) = if plan.constraints.is_empty() && plan.conditions.is_empty()
    {
        (Some(generator), None)
    } else {
        let c = synth::Constrained::new(
            generator,
            plan.schema,
            plan.constraints,
            plan.conditions,
            plan.reference,
        )
        .map_err(synth_error)?;
        (None, Some(c))
    };
    let source: &mut dyn Iterator<Item = synth::Row> = match (&mut plain, &mut constrained) {
        (Some(g), _) => g,
        (_, Some(c)) => c,
        _ => unreachable!("one of the two is set"),
    };
    let (mut csv, mut jsonl, csv_path, jsonl_path) = sinks(dir, id, &header)?;
    let (mut parquet, parquet_path) =
        parquet_sink(dir, id, &header, ParquetType::of_schema(plan.schema))?;
    // Fidelity is measured against the class balance asked for, not the schema's natural one.
    let mut metrics = QualityAccumulator::with_balance(plan.schema, plan.seed, plan.balance);
    let (mut preview, mut rows, mut compared) = (Vec::new(), Vec::new(), Vec::new());
    for row in source {
        metrics.push(&row);
        csv.write_row(&row).map_err(synth_error)?;
        jsonl.write_row(&row).map_err(synth_error)?;
        parquet.write_row(&row).map_err(synth_error)?;
        if preview.len() < PREVIEW_ROWS {
            preview.push(row_object(&header, &row));
        }
        if plan.keep_rows {
            rows.push(row_object(&header, &row));
        }
        if compared.len() < plan.compare_rows {
            compared.push(row.iter().map(synth::Cell::to_json).collect());
        }
    }
    if let Some(failure) = constrained.as_mut().and_then(|c| c.failure()) {
        return Err(synth_error(failure));
    }
    csv.finish().map_err(synth_error)?;
    jsonl.finish().map_err(synth_error)?;
    finish_parquet(parquet)?;
    let quality = metrics.finish(match plan.reference {
        Some(table) => Reference::Sample(table),
        None => Reference::Spec,
    });
    Ok(Generated {
        quality,
        preview,
        rows,
        compared,
        files: Files::measured(csv_path, jsonl_path, parquet_path)?,
        seconds: started.elapsed().as_secs_f64(),
        conditions: constrained.as_ref().and_then(|c| c.conditions_report()),
        constraints: constrained
            .filter(|_| !plan.constraints.is_empty())
            .map(|c| c.report()),
    })
}

/// Writes `rows` (in `header` order, typed by `types`) as dataset `id`'s CSV, JSONL and
/// Parquet files in `dir`. Blocking.
pub fn write_rows(
    dir: &Path,
    id: &str,
    header: &[String],
    types: Vec<ParquetType>,
    rows: &[Row],
) -> ApiResult<Files> {
    let (mut csv, mut jsonl, csv_path, jsonl_path) = sinks(dir, id, header)?;
    let (mut parquet, parquet_path) = parquet_sink(dir, id, header, types)?;
    for row in rows {
        csv.write_row(row).map_err(synth_error)?;
        jsonl.write_row(row).map_err(synth_error)?;
        parquet.write_row(row).map_err(synth_error)?;
    }
    csv.finish().map_err(synth_error)?;
    jsonl.finish().map_err(synth_error)?;
    finish_parquet(parquet)?;
    Files::measured(csv_path, jsonl_path, parquet_path)
}

/// The privacy report of generated rows (`compared`, in `schema.header()` order) against the
/// real rows the schema was fitted on, over the columns both have: numeric, integer and
/// datetime columns compared as numbers, the others (and the target) as categories. Blocking.
pub fn privacy_report(
    schema: &DataSchema,
    real: &Table,
    holdout: Option<&Table>,
    compared: &[Vec<Value>],
    seed: u64,
) -> synth::privacy::PrivacyReport {
    use synth::privacy::{Compared, Measure};
    /// A compared column's index in the generated rows, in the real rows, in the held-out rows.
    type At = (usize, usize, Option<usize>);
    let (mut at, mut columns, mut measures, mut integer) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (j, name) in schema.header().iter().enumerate() {
        let Some(r) = real.column_index(name) else {
            continue;
        };
        let (measure, whole) = match schema.columns.iter().find(|c| &c.name == name) {
            Some(c) => match c.kind {
                ColumnKind::Numeric { .. } | ColumnKind::Datetime { .. } => {
                    (Measure::Numeric, false)
                }
                ColumnKind::Integer { .. } => (Measure::Numeric, true),
                ColumnKind::Categorical { .. } | ColumnKind::Boolean { .. } => {
                    (Measure::Categorical, false)
                }
            },
            None => (Measure::Categorical, false),
        };
        at.push((j, r, holdout.and_then(|t| t.column_index(name))));
        columns.push(name.clone());
        measures.push(measure);
        integer.push(whole);
    }
    let project = |rows: &[Vec<Value>], pick: fn(&At) -> Option<usize>| {
        rows.iter()
            .map(|row| {
                at.iter()
                    .map(|a| {
                        pick(a)
                            .and_then(|i| row.get(i))
                            .cloned()
                            .unwrap_or(Value::Null)
                    })
                    .collect::<Vec<Value>>()
            })
            .collect::<Vec<_>>()
    };
    let synthetic = project(compared, |a| Some(a.0));
    let real_rows = project(&real.rows, |a| Some(a.1));
    let holdout_rows = holdout.map(|t| project(&t.rows, |a| a.2));
    synth::privacy::report(&Compared {
        columns: &columns,
        measures: &measures,
        integer: &integer,
        real: &real_rows,
        synthetic: &synthetic,
        holdout: holdout_rows.as_deref(),
        seed,
    })
}

/// How JSON Lines spells one uploaded column: as its cells were typed when read.
#[derive(Clone, Copy, PartialEq)]
enum JsonType {
    Number,
    Boolean,
    Text,
}

fn json_type(table: &Table, j: usize) -> JsonType {
    let mut cells = table
        .rows
        .iter()
        .filter_map(|r| r.get(j))
        .filter(|v| !v.is_null())
        .peekable();
    if cells.peek().is_none() {
        return JsonType::Text;
    }
    let cells: Vec<&Value> = cells.collect();
    if cells.iter().all(|v| v.is_number()) {
        JsonType::Number
    } else if cells.iter().all(|v| v.is_boolean()) {
        JsonType::Boolean
    } else {
        JsonType::Text
    }
}

/// Stores an upload: the CSV exactly as sent (every cell byte for byte: leading zeros, long
/// integers, `1.50`, `TRUE`, header spaces, empty columns), and JSON Lines of the same cells,
/// each column spelled as it was typed when read (`table`, parsed from `csv`): numbers as the
/// numerals written (copied when they are JSON numerals, so no digit is lost), booleans as
/// `true`/`false`, anything else as the text written; an empty cell is `null`. And Parquet,
/// each column typed by its cells (`ParquetType::of_values`). Blocking.
pub fn write_upload(csv: &str, table: &Table, dir: &Path, id: &str) -> ApiResult<Files> {
    std::fs::create_dir_all(dir).map_err(io_err)?;
    let csv_path = dir.join(format!("{id}.csv"));
    let jsonl_path = dir.join(format!("{id}.jsonl"));
    std::fs::write(&csv_path, csv).map_err(io_err)?;
    let types: Vec<JsonType> = (0..table.columns.len())
        .map(|j| json_type(table, j))
        .collect();
    let keys: Vec<String> = table
        .columns
        .iter()
        .map(|c| serde_json::to_string(c).map_err(ApiError::internal))
        .collect::<ApiResult<_>>()?;
    let mut out = BufWriter::new(std::fs::File::create(&jsonl_path).map_err(io_err)?);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.as_bytes());
    let mut line = Vec::new();
    for record in reader.records() {
        let record = record.map_err(ApiError::internal)?;
        line.clear();
        line.push(b'{');
        for (j, key) in keys.iter().enumerate() {
            if j > 0 {
                line.push(b',');
            }
            line.extend_from_slice(key.as_bytes());
            line.push(b':');
            let cell = record.get(j).unwrap_or("");
            let t = cell.trim();
            match types[j] {
                _ if t.is_empty() => line.extend_from_slice(b"null"),
                JsonType::Number if synth::table::is_json_number(t) => {
                    line.extend_from_slice(t.as_bytes())
                }
                JsonType::Number => match synth::table::typed_field(t) {
                    Value::Number(n) => line.extend_from_slice(n.to_string().as_bytes()),
                    _ => serde_json::to_writer(&mut line, cell).map_err(ApiError::internal)?,
                },
                JsonType::Boolean => line.extend_from_slice(if t.eq_ignore_ascii_case("true") {
                    b"true"
                } else {
                    b"false"
                }),
                JsonType::Text => {
                    serde_json::to_writer(&mut line, cell).map_err(ApiError::internal)?
                }
            }
        }
        line.extend_from_slice(b"}\n");
        out.write_all(&line).map_err(io_err)?;
    }
    out.flush().map_err(io_err)?;
    drop(out);
    let types = (0..table.columns.len())
        .map(|j| ParquetType::of_values(table.rows.iter().filter_map(|r| r.get(j))))
        .collect();
    let (mut parquet, parquet_path) = parquet_sink(dir, id, &table.columns, types)?;
    let mut cells = Vec::with_capacity(table.columns.len());
    for row in &table.rows {
        cells.clear();
        cells.extend(row.iter().map(synth::Cell::from_json));
        parquet.write_row(&cells).map_err(synth_error)?;
    }
    finish_parquet(parquet)?;
    Files::measured(csv_path, jsonl_path, parquet_path)
}

/// An upload's columns in the order sent, each with how it was read and why (from the
/// fit's report and the cells themselves).
pub fn upload_columns(table: &Table, report: &FitReport) -> Vec<DatasetColumn> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let fitted = report.columns.iter().find(|c| &c.name == name);
            let padded = table.rows.iter().find_map(|r| match r.get(j) {
                Some(Value::String(s)) if synth::table::is_zero_padded(s.trim()) => {
                    Some(s.clone())
                }
                _ => None,
            });
            let (kind, reason) = match fitted.map(|c| c.kind.as_str()) {
                _ if report.target.as_deref() == Some(name.as_str()) => (
                    "target".to_string(),
                    "the target column: its distinct values are the classes".to_string(),
                ),
                Some("skipped") | None => (
                    "empty".to_string(),
                    "every cell is empty: kept in the data, not used for training".to_string(),
                ),
                Some("numeric") => ("numeric".into(), "every non-empty cell is a number".into()),
                Some("integer") => (
                    "integer".into(),
                    "every non-empty cell is an integer".into(),
                ),
                Some("boolean") => (
                    "boolean".into(),
                    "every non-empty cell is true or false (any case)".into(),
                ),
                Some("datetime") => (
                    "datetime".into(),
                    "every non-empty cell is an RFC 3339 instant or a YYYY-MM-DD date".into(),
                ),
                Some(kind) => (
                    kind.to_string(),
                    match padded {
                        Some(example) => format!(
                            "numerals padded with leading zeros ({example:?}) are identifiers such as codes: read as text categories"
                        ),
                        None => "some cells are neither numbers, booleans nor dates: read as text categories".into(),
                    },
                ),
            };
            let words = (kind == "categorical").then(|| text_words(table, j)).flatten();
            let reason = match &words {
                Some(w) => format!(
                    "free text ({:.1} words per value on average): text categories for a tabular \
                     model, words for a text classifier (model_config.type text_classification)",
                    w.mean
                ),
                None => reason,
            };
            DatasetColumn {
                name: name.clone(),
                kind,
                reason: Some(reason),
                words,
            }
        })
        .collect()
}

/// A string column whose values have at least this many words on average is free text
/// (reported with its word counts, and what a text classifier reads by default).
pub const TEXT_MEAN_WORDS: f64 = 3.0;

/// The word counts of column `j`'s non-empty string cells, when they read as free text.
fn text_words(table: &Table, j: usize) -> Option<synth::WordCounts> {
    let cells = table.rows.iter().filter_map(|r| match r.get(j) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
        _ => None,
    });
    let stats = text::LengthStats::of(cells)?;
    (stats.mean >= TEXT_MEAN_WORDS).then_some(synth::WordCounts {
        values: stats.texts,
        mean: (stats.mean * 100.0).round() / 100.0,
        p95: stats.p95 as u64,
        max: stats.max as u64,
    })
}

/// A generated dataset's training shape: its schema's encoded width and the class counts
/// its quality metrics counted.
pub fn generated_shape(schema: &DataSchema, quality: &Quality) -> TrainingShape {
    let feature_width = schema
        .columns
        .iter()
        .map(|c| match &c.kind {
            ColumnKind::Categorical { categories, .. } => categories.len() as u64,
            ColumnKind::Boolean { .. } => 2,
            _ => 1,
        })
        .sum();
    let (target, class_counts) = TargetSummary::of(quality.class_counts.iter().cloned());
    TrainingShape {
        feature_width,
        class_counts,
        target: Some(target),
    }
}

/// An upload's training shape, counted over its rows as they were typed.
pub fn upload_shape(table: &Table, columns: &[DatasetColumn]) -> TrainingShape {
    let mut feature_width = 0;
    let mut class_counts: std::collections::BTreeMap<String, u64> = Default::default();
    for (j, column) in columns.iter().enumerate() {
        let cells = table.rows.iter().filter_map(|r| r.get(j));
        match column.kind.as_str() {
            "target" => {
                for key in cells.filter_map(synth::table::value_key) {
                    *class_counts.entry(key).or_default() += 1;
                }
            }
            "categorical" | "boolean" => {
                let distinct: std::collections::HashSet<String> = cells
                    .filter_map(synth::table::value_key)
                    .map(|k| {
                        if column.kind == "boolean" {
                            k.to_ascii_lowercase()
                        } else {
                            k
                        }
                    })
                    .collect();
                feature_width += distinct.len() as u64;
            }
            "empty" => {}
            _ => feature_width += 1,
        }
    }
    let (target, class_counts) = TargetSummary::of(class_counts);
    TrainingShape {
        feature_width,
        class_counts,
        target: Some(target),
    }
}

pub fn column_kinds(schema: &DataSchema) -> Vec<DatasetColumn> {
    let mut out: Vec<DatasetColumn> = schema
        .columns
        .iter()
        .map(|c| DatasetColumn {
            name: c.name.clone(),
            kind: c.kind.kind_name().to_string(),
            reason: None,
            words: None,
        })
        .collect();
    if let Some(t) = &schema.target {
        out.push(DatasetColumn {
            name: t.name.clone(),
            kind: "target".into(),
            reason: None,
            words: None,
        });
    }
    out
}

/// Stores the files and the schema, then the record that points at them; removes the files.
pub async fn store(
    state: &AppState,
    record: &DatasetRecord,
    schema: &DataSchema,
    files: &Files,
) -> ApiResult<()> {
    let (csv, jsonl, parquet) = (&files.csv, &files.jsonl, &files.parquet);
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
            .put_file(&record.parquet_key(), parquet, PARQUET_TYPE)
            .await?;
        state
            .blobs
            .put_file(&record.schema_key(), &schema_path, "application/json")
            .await?;
        Ok::<(), ApiError>(())
    }
    .await;
    for p in [csv, jsonl, parquet, &schema_path] {
        let _ = tokio::fs::remove_file(p).await;
    }
    result?;
    state.store.create_dataset(record).await?;
    Ok(())
}

/// A Parquet upload as the table its cells make (`synth::parquet_file::read_rows`: numbers,
/// booleans, text as is, instants as RFC 3339, nulls), so each column is typed by what its
/// file says (a text column of numerals stays text), and the CSV text that table spells (a
/// number's shortest numeral, `true`/`false`, null as an empty cell) for the stored copy.
/// Blocking.
pub fn parquet_upload(bytes: Vec<u8>) -> ApiResult<(String, Table)> {
    let (names, rows) = synth::parquet_file::read_rows(bytes).map_err(synth_error)?;
    let mut seen = std::collections::HashSet::new();
    for (i, name) in names.iter().enumerate() {
        if !seen.insert(name.as_str()) {
            return Err(ApiError::validation(
                format!("body.columns[{i}]"),
                Value::String(name.clone()),
                "unique column names",
                format!("the Parquet file has two columns named {name:?}"),
            ));
        }
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&names).map_err(ApiError::internal)?;
    let mut record = Vec::with_capacity(names.len());
    for row in &rows {
        record.clear();
        record.extend(row.iter().map(|v| match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }));
        out.write_record(&record).map_err(ApiError::internal)?;
    }
    let bytes = out.into_inner().map_err(ApiError::internal)?;
    let csv = String::from_utf8(bytes).map_err(ApiError::internal)?;
    Ok((
        csv,
        Table {
            columns: names,
            rows,
        },
    ))
}

/// Parquet's media type (IANA, 2024).
pub const PARQUET_TYPE: &str = "application/vnd.apache.parquet";

/// A table's download URLs.
pub fn download_urls(id: &str) -> crate::wire::DownloadUrls {
    crate::wire::DownloadUrls {
        csv: Some(format!("/v1/datasets/{id}/download?format=csv")),
        jsonl: Some(format!("/v1/datasets/{id}/download?format=jsonl")),
        parquet: Some(format!("/v1/datasets/{id}/download?format=parquet")),
        safetensors: None,
    }
}

/// An image dataset's download URL: its one safetensors file.
pub fn image_download_urls(id: &str) -> crate::wire::DownloadUrls {
    crate::wire::DownloadUrls {
        csv: None,
        jsonl: None,
        parquet: None,
        safetensors: Some(format!("/v1/datasets/{id}/download?format=safetensors")),
    }
}

/// The media type an image dataset's safetensors file is stored and answered with (the
/// format has none registered).
pub const SAFETENSORS_TYPE: &str = "application/octet-stream";

/// Stores an image dataset: its safetensors file (`bytes`, at `record.images_key()`), then
/// the record that points at it. The file passes through the scratch folder, as the blob
/// store streams files.
pub async fn store_images(state: &AppState, record: &DatasetRecord, bytes: &[u8]) -> ApiResult<()> {
    let dir = state.config.scratch_dir.join("mlaas-upload");
    tokio::fs::create_dir_all(&dir).await.map_err(io_err)?;
    let path = dir.join(format!("{}.images.safetensors", record.id));
    tokio::fs::write(&path, bytes).await.map_err(io_err)?;
    let put = state
        .blobs
        .put_file(&record.images_key(), &path, SAFETENSORS_TYPE)
        .await;
    let _ = tokio::fs::remove_file(&path).await;
    put?;
    state.store.create_dataset(record).await?;
    Ok(())
}
