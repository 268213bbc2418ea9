//! `POST /v1/ai/synthetic-data` with `data_format: sequential`: fit a sequence model to the
//! sample rows (`synth::sequence`), generate new entities, measure them, store the dataset.

use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use shared::datasets::{self, column_kinds, download_urls, row_object, synth_error};
use shared::records::{DatasetOrigin, DatasetRecord};
use shared::wire::{
    objects, GeneratedSchema, QualityMetrics, Sequences, SyntheticData, SyntheticDataResponse,
    Timings,
};
use shared::{clock, ids, usage, ApiError, ApiResult, AppState};
use synth::sequence::{fit_sequences, IndexKind, SequenceGenerator, SequenceModel};
use synth::{Cell, ColumnKind, ColumnSpec, DataSchema, Distribution, ParquetType, Row};

use crate::request::{SchemaInput, SequenceOptions, SyntheticRequest};

/// The stored schema of a sequential dataset: the key (integer, or categorical over the
/// generated keys, each weighted by its rows), the index, then the context and step columns, in the rows' order.
fn stored_schema(model: &SequenceModel, rows: &[Row]) -> DataSchema {
    let flat = model.flat_schema();
    let column = |j: usize| rows.iter().map(move |r| &r[j]);
    let number = |c: &Cell| match c {
        Cell::Int(v) => *v as f64,
        Cell::Num(x) => *x,
        Cell::Time(t) => *t as f64,
        _ => 0.0,
    };
    let range = |j: usize| {
        column(j)
            .map(number)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            })
    };
    let uniform = |(lo, hi): (f64, f64)| Distribution::Uniform {
        low: lo,
        high: hi.max(lo + 1.0),
    };
    let columns = model
        .header
        .iter()
        .enumerate()
        .filter_map(|(j, name)| {
            let kind = if *name == model.sequence_key {
                if model.integer_key {
                    let (lo, hi) = range(j);
                    ColumnKind::Integer {
                        distribution: uniform((lo, hi)),
                        min: Some(lo as i64),
                        max: Some(hi as i64),
                    }
                } else {
                    // An entity's rows are contiguous: each key weighs its row count.
                    let (mut keys, mut weights): (Vec<String>, Vec<f64>) = (Vec::new(), Vec::new());
                    for c in column(j) {
                        let k = c.to_json().as_str().unwrap_or_default().to_string();
                        if keys.last() == Some(&k) {
                            *weights.last_mut().expect("a key per weight") += 1.0;
                        } else {
                            keys.push(k);
                            weights.push(1.0);
                        }
                    }
                    ColumnKind::Categorical {
                        categories: keys,
                        weights,
                    }
                }
            } else if Some(name) == model.sequence_index.as_ref() {
                let (lo, hi) = range(j);
                match model.index_kind {
                    Some(IndexKind::Integer) => ColumnKind::Integer {
                        distribution: uniform((lo, hi)),
                        min: Some(lo as i64),
                        max: Some(hi as i64),
                    },
                    Some(IndexKind::Datetime) => ColumnKind::Datetime {
                        start: Cell::Time(lo as i64).to_json().as_str()?.to_string(),
                        end: Cell::Time(hi as i64).to_json().as_str()?.to_string(),
                    },
                    _ => ColumnKind::Numeric {
                        distribution: uniform((lo, hi)),
                        min: Some(lo),
                        max: Some(hi),
                        decimals: None,
                    },
                }
            } else {
                flat.columns.iter().find(|c| &c.name == name)?.kind.clone()
            };
            Some(ColumnSpec {
                name: name.clone(),
                kind,
            })
        })
        .collect();
    DataSchema {
        columns,
        target: None,
        correlations: Vec::new(),
    }
}

pub async fn synthetic_sequences(
    state: &AppState,
    req: &SyntheticRequest,
    options: &SequenceOptions,
    started: Instant,
) -> ApiResult<Response> {
    let SchemaInput::Sample { table, .. } = &req.schema else {
        return Err(ApiError::validation(
            "sample_rows",
            serde_json::Value::Null,
            "rows of many entities",
            "sequential data is fitted from sample_rows",
        ));
    };
    let id = ids::new_dataset_id();
    // The request's parse bounds include_data to MAX_INLINE_ROWS rows.
    let (table, options2, seed, count, include_data, dir, id2) = (
        table.clone(),
        options.clone(),
        req.seed,
        req.target_count,
        req.include_data,
        state.config.scratch_dir.join("mlaas-generate"),
        id.clone(),
    );
    let done = tokio::task::spawn_blocking(move || -> ApiResult<Done> {
        let fit_started = Instant::now();
        let model =
            fit_sequences(&table, &options2.key, options2.index.as_deref()).map_err(synth_error)?;
        let fit_seconds = fit_started.elapsed().as_secs_f64();
        let gen_started = Instant::now();
        let rows: Vec<Row> = SequenceGenerator::new(&model, seed, count)
            .map_err(synth_error)?
            .collect();
        let (quality, sequence_quality) = model.quality(&table, &rows, seed);
        let schema = stored_schema(&model, &rows);
        let files = datasets::write_rows(
            &dir,
            &id2,
            &model.header,
            ParquetType::of_schema(&schema),
            &rows,
        )?;
        Ok(Done {
            generation_seconds: gen_started.elapsed().as_secs_f64(),
            fit_seconds,
            preview: rows
                .iter()
                .take(datasets::PREVIEW_ROWS)
                .map(|r| row_object(&model.header, r))
                .collect(),
            data: include_data.then(|| rows.iter().map(|r| row_object(&model.header, r)).collect()),
            model,
            quality,
            sequence_quality,
            schema,
            files,
        })
    })
    .await
    .map_err(ApiError::internal)??;

    let mut quality_json = serde_json::to_value(&done.quality).map_err(ApiError::internal)?;
    if let Some(q) = quality_json.as_object_mut() {
        q.insert(
            "sequences".into(),
            serde_json::to_value(&done.sequence_quality).map_err(ApiError::internal)?,
        );
    }
    let record = DatasetRecord {
        id: id.clone(),
        name: req.name.clone(),
        origin: DatasetOrigin::Generated,
        rows: req.target_count,
        columns: column_kinds(&done.schema),
        target: None,
        schema_source: "fitted".into(),
        seed: Some(req.seed),
        csv_bytes: done.files.csv_bytes,
        jsonl_bytes: done.files.jsonl_bytes,
        parquet_bytes: Some(done.files.parquet_bytes),
        quality: Some(quality_json),
        created_at: clock::now(),
        training_shape: None,
        images: None,
    };
    let storing = Instant::now();
    datasets::store(state, &record, &done.schema, &done.files).await?;
    let schema = &done.schema;
    let quality = &done.quality;
    let body = SyntheticDataResponse {
        status: "success".into(),
        provider: "builtin".into(),
        synthetic_data: SyntheticData {
            dataset_id: id.clone(),
            generated_samples: req.target_count,
            format: "structured".into(),
            data_format: "sequential".into(),
            quality_metrics: QualityMetrics {
                diversity_score: quality.diversity_score,
                realism_score: quality.realism_score,
                balance_ratio: None,
                method: quality.method.clone(),
                details: quality.clone(),
                privacy: None,
                utility: None,
            },
            data_schema: GeneratedSchema {
                features: schema.columns.iter().map(|c| c.name.clone()).collect(),
                target: None,
                columns: schema.columns.clone(),
                target_spec: None,
                correlations: Vec::new(),
                schema_source: "fitted".into(),
            },
            seed: req.seed,
            balance: "natural".into(),
            download_url: format!("/v1/datasets/{id}/download?format=csv"),
            download_urls: download_urls(&id),
            preview: objects(done.preview),
            data: req
                .include_data
                .then(|| objects(done.data.unwrap_or_default())),
            fit_report: None,
            constraints: None,
            conditions: None,
            suggested_constraints: None,
            sequences: Some(Sequences {
                model: done.model,
                quality: done.sequence_quality,
            }),
        },
        recommendations: Vec::new(),
        recommendation_details: Vec::new(),
        generation_time_seconds: started.elapsed().as_secs_f64(),
        timings: Timings {
            schema_seconds: done.fit_seconds,
            generation_seconds: done.generation_seconds,
            storage_seconds: storing.elapsed().as_secs_f64(),
            privacy_seconds: None,
            utility_seconds: None,
        },
        provider_attempts: Vec::new(),
        usage: usage::block(&[]),
        cached: None,
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

struct Done {
    model: SequenceModel,
    quality: synth::Quality,
    sequence_quality: synth::sequence::SequenceQuality,
    schema: DataSchema,
    files: datasets::Files,
    preview: Vec<serde_json::Value>,
    data: Option<Vec<serde_json::Value>>,
    fit_seconds: f64,
    generation_seconds: f64,
}
