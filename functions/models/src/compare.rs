//! Learning curves without unbounded fetches: a model's history by epoch range and
//! downsampled on the server (`GET /v1/models/{id}/history`), and several models side by
//! side (`GET /v1/models/compare`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use shared::error::{ApiError, ApiResult};
use shared::http::{PathId, QueryPairs};
use shared::records::{EpochRecord, ModelRecord};
use shared::state::AppState;
use shared::wire::models::{ComparedModel, HistoryPage, MetricPoint, ModelComparison};

use crate::handlers::{load_job, load_model};

/// The metrics an epoch record carries, by the names the history uses.
pub const METRICS: [&str; 8] = [
    "loss",
    "val_loss",
    "accuracy",
    "val_accuracy",
    "val_rmse",
    "val_mae",
    "val_r2",
    "seconds",
];
pub const DEFAULT_MAX_POINTS: usize = 500;
pub const MAX_POINTS: usize = 10_000;
/// Models one comparison takes.
pub const MAX_COMPARED: usize = 10;

fn parse_metric(value: &str) -> ApiResult<String> {
    if METRICS.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(ApiError::validation(
            "metric",
            json!(value),
            format!("one of: {}", METRICS.join(", ")),
            format!("{value:?} is not a metric the history records"),
        ))
    }
}

fn parse_count(key: &str, value: &str, min: u64, max: u64) -> ApiResult<u64> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::validation(
            key,
            json!(value),
            format!("integer from {min} to {max}"),
            format!("{key} must be a whole number from {min} to {max}"),
        )),
    }
}

fn unknown(key: &str, value: &str, known: &str) -> ApiError {
    ApiError::validation(
        key,
        json!(value),
        format!("one of the parameters {known}"),
        format!("unknown query parameter {key:?}"),
    )
}

/// `GET /v1/models/{id}/history?metric=&max_points=&from_epoch=&to_epoch=`.
pub async fn history(
    State(state): State<AppState>,
    PathId(id): PathId,
    QueryPairs(params): QueryPairs,
) -> ApiResult<Json<HistoryPage>> {
    let (mut metric, mut max_points, mut from, mut to) = (None, DEFAULT_MAX_POINTS, 1u32, None);
    for (key, value) in &params {
        match key.as_str() {
            "metric" => metric = Some(parse_metric(value)?),
            "max_points" => max_points = parse_count(key, value, 2, MAX_POINTS as u64)? as usize,
            "from_epoch" => from = parse_count(key, value, 1, u32::MAX as u64)? as u32,
            "to_epoch" => to = Some(parse_count(key, value, 1, u32::MAX as u64)? as u32),
            other => {
                return Err(unknown(
                    other,
                    value,
                    "metric, max_points, from_epoch, to_epoch",
                ))
            }
        }
    }
    if to.is_some_and(|t| t < from) {
        return Err(ApiError::validation(
            "to_epoch",
            json!(to),
            format!("at least from_epoch ({from})"),
            "to_epoch is before from_epoch",
        ));
    }
    let model = load_model(&state, &id).await?;
    let job = load_job(&state, &model).await?;
    let epochs = job.history.len();
    let to = to.unwrap_or(u32::MAX);
    let range: Vec<&EpochRecord> = job
        .history
        .iter()
        .filter(|e| (from..=to).contains(&e.epoch))
        .collect();
    let to_epoch = range.last().map_or(from, |e| e.epoch);
    let in_range = range.len();
    let (downsampling, points, history) = match &metric {
        Some(m) => {
            let series: Vec<(f64, f64)> = range
                .iter()
                .filter_map(|e| e.metric(m).map(|v| (f64::from(e.epoch), v)))
                .collect();
            let kept = training::history::lttb(&series, max_points);
            let how = if kept.len() < series.len() {
                "lttb"
            } else {
                "none"
            };
            let points = kept
                .iter()
                .map(|&i| MetricPoint {
                    epoch: series[i].0 as u32,
                    value: series[i].1,
                })
                .collect();
            (how, Some(points), None)
        }
        None => {
            let kept = training::history::even(range.len(), max_points);
            let how = if kept.len() < range.len() {
                "even"
            } else {
                "none"
            };
            (
                how,
                None,
                Some(kept.iter().map(|&i| range[i].clone()).collect()),
            )
        }
    };
    Ok(Json(HistoryPage {
        model_id: model.id,
        status: job.status,
        epochs,
        from_epoch: from,
        to_epoch,
        in_range,
        metric,
        max_points,
        downsampling: downsampling.into(),
        points,
        history,
    }))
}

/// The model's settings as dotted names: what the request configured and the stored
/// request's training configuration.
fn settings(model: &ModelRecord) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut put = |name: &str, v: Value| {
        if !v.is_null() {
            out.insert(name.to_string(), v);
        }
    };
    put("model_config.type", json!(model.model_type));
    put("model_config.architecture", json!(model.architecture));
    put("model_config.hidden_layers", json!(model.hidden_layers));
    put("model_config.dataset", json!(model.dataset));
    put("model_config.target_accuracy", json!(model.target_accuracy));
    put("model_config.features", json!(model.feature_columns));
    put("model_config.exclude", json!(model.excluded_columns));
    if let Some(n) = &model.network {
        put("model_config.architecture.layers", n.architecture.clone());
    }
    if let Ok(Value::Object(gbm)) = serde_json::to_value(&model.gbm) {
        for (k, v) in gbm {
            put(&format!("model_config.gbm.{k}"), v);
        }
    }
    if let Ok(Value::Object(cfg)) = serde_json::to_value(&model.training_config) {
        for (k, v) in cfg {
            put(&format!("training_config.{k}"), v);
        }
    }
    out.retain(|_, v| !matches!(v, Value::Array(a) if a.is_empty()));
    out
}

/// Whether a bigger value of `metric` is better.
fn higher_is_better(metric: &str) -> bool {
    shared::records::sweep::Direction::of(metric).maximize()
}

/// `GET /v1/models/compare?ids=a,b,c&metric=&max_points=`.
pub async fn compare(
    State(state): State<AppState>,
    QueryPairs(params): QueryPairs,
) -> ApiResult<Json<ModelComparison>> {
    let (mut ids, mut metric, mut max_points) = (None, "val_loss".to_string(), 200usize);
    for (key, value) in &params {
        match key.as_str() {
            "ids" => ids = Some(value.clone()),
            "metric" => metric = parse_metric(value)?,
            "max_points" => max_points = parse_count(key, value, 2, MAX_POINTS as u64)? as usize,
            other => return Err(unknown(other, value, "ids, metric, max_points")),
        }
    }
    let ids: Vec<String> = ids
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    if ids.len() < 2 || ids.len() > MAX_COMPARED || !ids.iter().all(|i| seen.insert(i.clone())) {
        return Err(ApiError::validation(
            "ids",
            json!(ids),
            format!("2 to {MAX_COMPARED} distinct model ids, comma-separated"),
            format!("compare takes 2 to {MAX_COMPARED} distinct model ids, as ids=a,b"),
        ));
    }
    let mut models = Vec::new();
    let mut histories = Vec::new();
    for id in &ids {
        let model = load_model(&state, id).await?;
        let job = load_job(&state, &model).await?;
        histories.push(job.history.clone());
        models.push((model, job));
    }
    let all: Vec<BTreeMap<String, Value>> = models.iter().map(|(m, _)| settings(m)).collect();
    let names: std::collections::BTreeSet<&String> = all.iter().flat_map(|s| s.keys()).collect();
    let differing: Vec<String> = names
        .into_iter()
        .filter(|n| all.iter().any(|s| s.get(*n) != all[0].get(*n)))
        .cloned()
        .collect();
    let longest = histories.iter().map(Vec::len).max().unwrap_or(0);
    let epochs: Vec<u32> = training::history::even(longest, max_points)
        .into_iter()
        .map(|i| i as u32 + 1)
        .collect();
    let mut series = BTreeMap::new();
    let mut compared = Vec::new();
    for (((model, job), history), settings) in models.into_iter().zip(&histories).zip(all) {
        let by_epoch: BTreeMap<u32, &EpochRecord> = history.iter().map(|e| (e.epoch, e)).collect();
        series.insert(
            model.id.clone(),
            epochs
                .iter()
                .map(|e| by_epoch.get(e).and_then(|r| r.metric(&metric)))
                .collect(),
        );
        let best = history
            .iter()
            .filter_map(|e| e.metric(&metric).map(|v| (e.epoch, v)))
            .reduce(|a, b| {
                let better = if higher_is_better(&metric) {
                    b.1 > a.1
                } else {
                    b.1 < a.1
                };
                if better {
                    b
                } else {
                    a
                }
            });
        compared.push(ComparedModel {
            model_id: model.id,
            name: model.name,
            status: model.status,
            job_status: job.status,
            settings,
            accuracy: model.accuracy,
            r2: model.r2,
            epochs_run: history.len(),
            final_val_loss: history.last().map(|e| e.val_loss),
            best_epoch: best.map(|b| b.0),
            best_value: best.map(|b| b.1),
        });
    }
    Ok(Json(ModelComparison {
        models: compared,
        differing,
        metric,
        max_points,
        epochs,
        series,
    }))
}
