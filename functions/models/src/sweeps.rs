//! `/v1/sweeps`: a search space over a base training request, every point an ordinary
//! training job, `max_parallel` at a time (`training_worker::sweeps` moves it along).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use shared::error::FieldError;
use shared::http::{JsonBody, PathId, QueryPairs};
use shared::records::sweep::{
    Direction, EarlyStopping, Objective, PlannedTrial, SearchMethod, SweepPlan, SweepRecord,
    SweepStatus, TrialRecord, TrialRef, TrialStatus, MAX_PARALLEL, MAX_TRIALS, OBJECTIVES,
};
use shared::records::{JobRecord, Task};
use shared::validate::Fields;
use shared::wire::{Sweep, SweepAccepted, SweepLinks, SweepList, SweepSummary, SweepTrial};
use shared::{clock, ids, paging, ApiError, ApiResult, AppState};
use training::sweep::{Asha, Domain, Point, SpaceError};
use training_worker::sweeps::{self as engine, Advanced, SweepError};

use crate::handlers;

/// Trials training at once unless `max_parallel` says otherwise.
pub const DEFAULT_MAX_PARALLEL: u32 = 2;
/// Random search's points unless `max_trials` says otherwise.
pub const DEFAULT_RANDOM_TRIALS: u32 = 10;
/// The space's fields live under these.
const SEARCHABLE: [&str; 2] = ["model_config.", "training_config."];

/// A sweep request, parsed.
struct Parsed {
    name: Option<String>,
    dataset: String,
    objective: Objective,
    max_parallel: u32,
    base: Value,
    method: SearchMethod,
    space: BTreeMap<String, Domain>,
    max_trials: Option<u32>,
    seed: Option<u64>,
    asha: Option<Asha>,
}

fn invalid(field: &str, received: Value, expected: &str, message: String) -> ApiError {
    ApiError::validation(field, received, expected, message)
}

/// `key` as one of the named `choices`, if present.
fn one_of<T: Copy>(f: &Fields, key: &str, choices: &[(&str, T)]) -> ApiResult<Option<T>> {
    let Some(given) = f.string(key, 40)? else {
        return Ok(None);
    };
    match choices.iter().find(|(name, _)| *name == given) {
        Some((_, value)) => Ok(Some(*value)),
        None => {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            Err(invalid(
                &f.path_of(key),
                json!(given),
                &names.join(" or "),
                format!("{} {given:?} is not {}", f.path_of(key), names.join(" or ")),
            ))
        }
    }
}

fn parse(body: &Value) -> ApiResult<Parsed> {
    let f = Fields::new("", body)?;
    f.only(&[
        "name",
        "dataset",
        "objective",
        "direction",
        "max_parallel",
        "base",
        "search",
        "early_stopping",
    ])?;
    let name = f.string("name", 200)?;
    let dataset = f.required_string("dataset", 100)?;
    let metric = f.required_string("objective", 40)?;
    if !OBJECTIVES.contains(&metric.as_str()) {
        return Err(invalid(
            "objective",
            json!(metric),
            &format!("one of: {}", OBJECTIVES.join(", ")),
            format!("{metric:?} is not a validation metric the history records"),
        ));
    }
    let direction = one_of(
        &f,
        "direction",
        &[
            ("maximize", Direction::Maximize),
            ("minimize", Direction::Minimize),
        ],
    )?
    .unwrap_or_else(|| Direction::of(&metric));
    let max_parallel = f
        .integer("max_parallel", 1, i64::from(MAX_PARALLEL))?
        .map_or(DEFAULT_MAX_PARALLEL, |n| n as u32);
    let base = f.required_object("base")?;
    base.only(&["model_config", "training_config"])?;
    base.required_object("model_config")?;
    base.object("training_config")?;
    let base = body["base"].clone();

    let search = f.required_object("search")?;
    search.only(&["method", "space", "max_trials", "seed"])?;
    let method = one_of(
        &search,
        "method",
        &[
            ("grid", SearchMethod::Grid),
            ("random", SearchMethod::Random),
        ],
    )?
    .ok_or_else(|| {
        invalid(
            "search.method",
            Value::Null,
            "grid or random",
            "search.method is required".into(),
        )
    })?;
    let max_trials = search
        .integer("max_trials", 1, MAX_TRIALS as i64)?
        .map(|n| n as u32);
    let seed = search.integer("seed", 0, (1 << 53) - 1)?.map(|n| n as u64);
    search.required_object("space")?;
    let raw = body["search"]["space"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    if raw.is_empty() {
        return Err(invalid(
            "search.space",
            json!({}),
            "at least one field",
            "search.space names no field to search".into(),
        ));
    }
    let mut space = BTreeMap::new();
    for (key, value) in &raw {
        space.insert(key.clone(), domain(key, value, method)?);
    }
    let asha = match f.object("early_stopping")? {
        None => None,
        Some(e) => {
            e.only(&["type", "min_epochs", "reduction_factor"])?;
            let kind = e.required_string("type", 20)?;
            if kind != "asha" {
                return Err(invalid(
                    "early_stopping.type",
                    json!(kind),
                    "asha",
                    format!("early_stopping.type {kind:?} is not asha"),
                ));
            }
            Some(Asha {
                min_epochs: e.integer("min_epochs", 1, 10_000)?.map_or(1, |n| n as u32),
                reduction_factor: e
                    .integer("reduction_factor", 2, 10)?
                    .map_or(3, |n| n as u32),
            })
        }
    };
    Ok(Parsed {
        name,
        dataset,
        objective: Objective { metric, direction },
        max_parallel,
        base,
        method,
        space,
        max_trials,
        seed,
        asha,
    })
}

/// One field of the space: a dotted path under `model_config` or `training_config`, and a
/// list of values or (random only) a range.
fn domain(key: &str, value: &Value, method: SearchMethod) -> ApiResult<Domain> {
    let field = format!("search.space.{key}");
    let path_ok = SEARCHABLE
        .iter()
        .any(|p| key.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
        && key.split('.').all(|part| !part.is_empty())
        && key != "model_config.dataset";
    if !path_ok {
        return Err(invalid(
            &field,
            json!(key),
            "a dotted field under model_config or training_config (not model_config.dataset)",
            format!("{key:?} is not a field of a training request the sweep can set"),
        ));
    }
    match value {
        Value::Array(values) if !values.is_empty() && values.len() <= MAX_TRIALS => {
            Ok(Domain::Choice(values.clone()))
        }
        Value::Object(range) if method == SearchMethod::Random => {
            let f = Fields::new(&field, value)?;
            f.only(&["min", "max", "log", "integer"])?;
            let number = |k: &str| match range.get(k).and_then(Value::as_f64) {
                Some(x) if x.is_finite() => Ok(x),
                _ => Err(invalid(
                    &format!("{field}.{k}"),
                    range.get(k).cloned().unwrap_or(Value::Null),
                    "a number",
                    format!("{field}.{k} must be a number"),
                )),
            };
            let (min, max) = (number("min")?, number("max")?);
            let log = f.boolean("log")?.unwrap_or(false);
            let integer = f.boolean("integer")?.unwrap_or(false);
            if min > max || (log && min <= 0.0) {
                return Err(invalid(
                    &field,
                    value.clone(),
                    "min ≤ max, and min > 0 for a log range",
                    format!("{field} is not a range that can be drawn from"),
                ));
            }
            Ok(Domain::Range {
                min,
                max,
                log,
                integer,
            })
        }
        other => Err(invalid(
            &field,
            other.clone(),
            match method {
                SearchMethod::Grid => "a non-empty list of values (at most 100)",
                SearchMethod::Random => {
                    "a non-empty list of values, or a range {\"min\", \"max\", \"log\"?, \"integer\"?}"
                }
            },
            format!("{field} lists no values to search"),
        )),
    }
}

/// Sets `value` at the dotted `path` of `body`, making objects on the way.
fn set_path(body: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let mut at = body;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Value::Object(map) = at else {
            return Err(format!(
                "{} is not an object in the base",
                parts[..i].join(".")
            ));
        };
        if i + 1 == parts.len() {
            map.insert(part.to_string(), value);
            return Ok(());
        }
        at = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(())
}

/// A trial's training request: the base, the point's values, the sweep's dataset, a name,
/// and the sweep's seed unless the base or the point sets one.
fn trial_body(p: &Parsed, point: &Point, name: &str, trial: usize, seed: u64) -> ApiResult<Value> {
    let mut body = p.base.clone();
    for (key, value) in point {
        set_path(&mut body, key, value.clone()).map_err(|why| {
            invalid(
                &format!("search.space.{key}"),
                value.clone(),
                "a field the base can hold",
                why,
            )
        })?;
    }
    let defaults = [
        ("model_config.dataset", json!(p.dataset)),
        (
            "model_config.name",
            json!(format!("{name} · trial {trial}")),
        ),
        ("training_config.seed", json!(seed)),
    ];
    for (path, value) in defaults {
        let (head, key) = path.split_once('.').expect("dotted");
        let present = body
            .get(head)
            .and_then(|o| o.get(key))
            .is_some_and(|v| !v.is_null());
        if !present || path == "model_config.dataset" {
            set_path(&mut body, path, value)
                .map_err(|why| invalid("base", p.base.clone(), "a training request's body", why))?;
        }
    }
    Ok(body)
}

/// A trial's failed validation, named where the sweep request has it: a searched field
/// (`search.space.<field>`), the dataset, or the base.
fn in_trial(e: ApiError, trial: usize, point: &Point) -> ApiError {
    let ApiError::Validation(fe) = e else {
        return e;
    };
    let FieldError {
        message,
        field,
        received,
        expected,
    } = *fe;
    let searched = point.iter().find(|(k, _)| {
        field == *k || field.starts_with(&format!("{k}.")) || field.starts_with(&format!("{k}["))
    });
    let named = match searched {
        Some((k, _)) => format!("search.space.{k}"),
        None if field == "model_config.dataset" => "dataset".to_string(),
        None => format!("base.{field}"),
    };
    let settings: Vec<String> = point.iter().map(|(k, v)| format!("{k}={v}")).collect();
    ApiError::validation(
        named,
        received,
        expected,
        format!("trial {trial} ({}): {message}", settings.join(", ")),
    )
}

/// Whether a trial of `task` records the objective.
fn records(task: Option<Task>, metric: &str) -> bool {
    match metric {
        "val_accuracy" => task != Some(Task::Regression),
        "val_rmse" | "val_mae" | "val_r2" => task == Some(Task::Regression),
        _ => true,
    }
}

fn internal(e: SweepError) -> ApiError {
    ApiError::internal(e)
}

/// `POST /v1/sweeps`: validates every trial as a training request, stores the sweep and its
/// plan, starts the first `max_parallel` trials, answers 202.
pub async fn submit(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let p = parse(&body)?;
    let seed = p
        .seed
        .unwrap_or_else(|| rand::random::<u64>() & ((1 << 53) - 1));
    let points = match p.method {
        SearchMethod::Grid => {
            let mut all = training::sweep::grid(&p.space, MAX_TRIALS).map_err(|e| {
                let field = match &e {
                    SpaceError::RangeInGrid { field } => format!("search.space.{field}"),
                    SpaceError::TooManyPoints { .. } => "search.space".to_string(),
                };
                invalid(
                    &field,
                    body["search"]["space"].clone(),
                    "lists whose product is at most 100 points",
                    e.to_string(),
                )
            })?;
            if let Some(n) = p.max_trials {
                all.truncate(n as usize);
            }
            all
        }
        SearchMethod::Random => training::sweep::random(
            &p.space,
            p.max_trials.unwrap_or(DEFAULT_RANDOM_TRIALS) as usize,
            seed,
        ),
    };
    if state.store.get_dataset(&p.dataset).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "dataset {} does not exist",
            p.dataset
        )));
    }
    let sweep_id = ids::new_id(ids::SWEEP_PREFIX);
    let name = p
        .name
        .clone()
        .unwrap_or_else(|| format!("sweep {sweep_id}"));
    let mut planned = Vec::with_capacity(points.len());
    let mut trials = Vec::with_capacity(points.len());
    let mut longest = 0u32;
    for (i, point) in points.iter().enumerate() {
        let body = trial_body(&p, point, &name, i, seed)?;
        let prepared = handlers::prepare(&state, &body)
            .await
            .map_err(|e| in_trial(e, i, point))?;
        let (model, mut job) = (prepared.model, prepared.job);
        if !records(model.task, &p.objective.metric) {
            return Err(invalid(
                "objective",
                json!(p.objective.metric),
                "a metric this task records (classification: val_loss, val_accuracy; regression: val_loss, val_rmse, val_mae, val_r2)",
                format!(
                    "trial {i} trains a {} model, which does not record {}",
                    model.task.map_or("classification", |t| match t {
                        Task::Classification => "classification",
                        Task::Regression => "regression",
                    }),
                    p.objective.metric
                ),
            ));
        }
        longest = longest.max(job.training_config.epochs);
        job.sweep = Some(TrialRef {
            sweep_id: sweep_id.clone(),
            trial: i as u32,
            metric: p.objective.metric.clone(),
            direction: p.objective.direction,
            rungs: p
                .asha
                .map(|a| a.rungs(job.training_config.epochs))
                .unwrap_or_default(),
            reduction_factor: p.asha.map_or(0, |a| a.reduction_factor),
        });
        trials.push(TrialRecord::pending(
            i as u32,
            point.iter().cloned().collect(),
        ));
        planned.push(PlannedTrial { model, job });
    }
    let plan_key = format!("sweeps/{sweep_id}/plan.json");
    engine::save_plan(&state, &plan_key, &SweepPlan { trials: planned })
        .await
        .map_err(internal)?;
    let now = clock::now();
    let record = SweepRecord {
        id: sweep_id.clone(),
        name,
        dataset: p.dataset.clone(),
        objective: p.objective.clone(),
        method: p.method,
        seed,
        max_parallel: p.max_parallel,
        early_stopping: p.asha.map(|a| EarlyStopping {
            min_epochs: a.min_epochs,
            reduction_factor: a.reduction_factor,
            rungs: a.rungs(longest),
        }),
        trials,
        rungs: Vec::new(),
        status: SweepStatus::Running,
        plan_key,
        version: 0,
        created_at: now,
        updated_at: now,
        ended_at: None,
    };
    state.store.create_sweep(&record).await?;
    tracing::info!(sweep_id = %sweep_id, trials = record.trials.len(), "sweep created");
    // The sweep is stored: a failure to start its first trials leaves them pending for the
    // next read of the sweep (its monitoring URL) to start, rather than failing the request.
    let advanced = match engine::advance(&state, &sweep_id).await {
        Ok(Some(a)) => a,
        other => {
            let why = other
                .err()
                .map_or("the sweep vanished".to_string(), |e| e.to_string());
            tracing::error!(sweep_id = %sweep_id, why, "could not start the sweep's first trials; a read of the sweep starts them");
            Advanced {
                sweep: record.clone(),
                jobs: Default::default(),
            }
        }
    };
    let view = view(&advanced);
    let body = SweepAccepted {
        sweep_id: sweep_id.clone(),
        status: view.status,
        trials: view.trials.len() as u32,
        max_parallel: record.max_parallel,
        seed,
        started: view
            .trials
            .into_iter()
            .filter(|t| t.status != TrialStatus::Pending)
            .collect(),
        monitoring_url: format!("/v1/sweeps/{sweep_id}"),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("sweep {id} does not exist"))
}

/// The sweep after an advance; if advancing fails (a store hiccup), the stored record.
async fn current(state: &AppState, id: &str) -> ApiResult<Advanced> {
    if !ids::is_valid(id, ids::SWEEP_PREFIX) {
        return Err(not_found(id));
    }
    match engine::advance(state, id).await {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(not_found(id)),
        Err(e) => {
            tracing::error!(sweep_id = id, error = %e, "could not advance the sweep; answering the stored record");
            let sweep = state
                .store
                .get_sweep(id)
                .await?
                .ok_or_else(|| not_found(id))?;
            Ok(Advanced {
                sweep,
                jobs: Default::default(),
            })
        }
    }
}

/// `GET /v1/sweeps/{id}`: every trial with its settings, status and metric, and the best.
pub async fn get(State(state): State<AppState>, PathId(id): PathId) -> ApiResult<Json<Sweep>> {
    Ok(Json(view(&current(&state, &id).await?)))
}

/// `POST /v1/sweeps/{id}/stop`: pending trials are cancelled, running ones stopped (each
/// keeps its weights, as `POST /v1/models/{id}/stop` does); 202 with the sweep.
pub async fn stop(State(state): State<AppState>, PathId(id): PathId) -> ApiResult<Response> {
    let sweep = current(&state, &id).await?.sweep;
    if sweep.status.is_final() {
        return Err(ApiError::Conflict(format!(
            "sweep {id} is already {}; nothing to stop",
            sweep.status.as_str()
        )));
    }
    let advanced = engine::stop_sweep(&state, &id)
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found(&id))?;
    Ok((StatusCode::ACCEPTED, Json(view(&advanced))).into_response())
}

/// `GET /v1/sweeps?limit=&next_token=`: sweeps newest first, as last recorded.
pub async fn list(
    State(state): State<AppState>,
    QueryPairs(params): QueryPairs,
) -> ApiResult<Json<SweepList>> {
    let (mut limit, mut after) = (paging::DEFAULT_LIMIT, None);
    for (key, value) in params {
        match key.as_str() {
            "limit" => limit = paging::limit(&value)?,
            "next_token" => after = Some(paging::token(&value, ids::SWEEP_PREFIX)?),
            other => return Err(paging::unknown(other, &value, "limit, next_token")),
        }
    }
    let page = state.store.list_sweeps(limit, after.as_deref()).await?;
    Ok(Json(SweepList {
        sweeps: page.sweeps.iter().map(summary).collect(),
        next_token: page.last.as_deref().map(paging::encode),
    }))
}

fn counts(s: &SweepRecord) -> BTreeMap<String, u32> {
    let mut counts = BTreeMap::new();
    for t in &s.trials {
        *counts.entry(t.status.as_str().to_string()).or_insert(0u32) += 1;
    }
    counts
}

fn summary(s: &SweepRecord) -> SweepSummary {
    let metric = &s.objective.metric;
    SweepSummary {
        sweep_id: s.id.clone(),
        name: s.name.clone(),
        status: s.status,
        dataset: s.dataset.clone(),
        objective: s.objective.clone(),
        method: s.method,
        max_parallel: s.max_parallel,
        trials: s.trials.len() as u32,
        counts: counts(s),
        best: s.best().map(|b| trial_view(b, None, metric)),
        created_at: clock::rfc3339(s.created_at),
        updated_at: clock::rfc3339(s.updated_at),
        ended_at: s.ended_at.map(clock::rfc3339),
        monitoring_url: format!("/v1/sweeps/{}", s.id),
    }
}

fn trial_view(t: &TrialRecord, job: Option<&JobRecord>, metric: &str) -> SweepTrial {
    // A running trial shows where it is now.
    let live = job.filter(|_| t.status == TrialStatus::Running);
    SweepTrial {
        trial: t.trial,
        settings: t.settings.clone(),
        status: t.status,
        model_id: t.model_id.clone(),
        training_job_id: t.job_id.clone(),
        metric: live
            .and_then(|j| shared::records::sweep::objective_value(j, metric))
            .or(t.metric),
        epochs_run: live.map(|j| j.history.len() as u32).or(t.epochs_run),
        pruned_at_epoch: t.pruned_at_epoch,
        failure_reason: t.failure_reason.clone(),
        started_at: t.started_at.map(clock::rfc3339),
        ended_at: t.ended_at.map(clock::rfc3339),
        monitoring_url: t
            .model_id
            .as_ref()
            .map(|m| format!("/v1/models/{m}/status")),
    }
}

fn view(a: &Advanced) -> Sweep {
    let s = &a.sweep;
    let metric = &s.objective.metric;
    let trials: Vec<SweepTrial> = s
        .trials
        .iter()
        .map(|t| {
            let job = t.job_id.as_ref().and_then(|j| a.jobs.get(j));
            trial_view(t, job, metric)
        })
        .collect();
    let counts = counts(s);
    let best = s.best().map(|b| trial_view(b, None, metric));
    let mut compared: Vec<&str> = s
        .best()
        .and_then(|b| b.model_id.as_deref())
        .into_iter()
        .collect();
    for t in &s.trials {
        if let Some(m) = t.model_id.as_deref() {
            if compared.len() < crate::compare::MAX_COMPARED && !compared.contains(&m) {
                compared.push(m);
            }
        }
    }
    let end = s.ended_at.unwrap_or_else(clock::now);
    Sweep {
        sweep_id: s.id.clone(),
        name: s.name.clone(),
        status: s.status,
        dataset: s.dataset.clone(),
        objective: s.objective.clone(),
        method: s.method,
        seed: s.seed,
        max_parallel: s.max_parallel,
        early_stopping: s.early_stopping.clone(),
        counts,
        trials,
        best,
        rungs: s.rungs.clone(),
        elapsed_seconds: (end - s.created_at).num_milliseconds() as f64 / 1000.0,
        created_at: clock::rfc3339(s.created_at),
        updated_at: clock::rfc3339(s.updated_at),
        ended_at: s.ended_at.map(clock::rfc3339),
        links: SweepLinks {
            this: format!("/v1/sweeps/{}", s.id),
            stop: format!("/v1/sweeps/{}/stop", s.id),
            compare: (compared.len() >= 2)
                .then(|| format!("/v1/models/compare?ids={}", compared.join(","))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_are_set_and_checked() {
        let mut body = json!({"model_config": {"type": "classification"}});
        set_path(&mut body, "training_config.learning_rate", json!(0.1)).unwrap();
        set_path(&mut body, "model_config.gbm.trees", json!(50)).unwrap();
        assert_eq!(
            body,
            json!({"model_config": {"type": "classification", "gbm": {"trees": 50}},
                   "training_config": {"learning_rate": 0.1}})
        );
        assert!(set_path(&mut body, "model_config.type.x", json!(1)).is_err());
        assert!(domain("model_config.dataset", &json!(["a"]), SearchMethod::Grid).is_err());
        assert!(domain("seed", &json!([1]), SearchMethod::Grid).is_err());
        assert!(domain("training_config.", &json!([1]), SearchMethod::Grid).is_err());
        assert!(domain("training_config.seed", &json!([]), SearchMethod::Grid).is_err());
        assert!(domain(
            "training_config.learning_rate",
            &json!({"min": 0.1, "max": 1}),
            SearchMethod::Grid
        )
        .is_err());
        assert_eq!(
            domain(
                "training_config.learning_rate",
                &json!({"min": 0.001, "max": 0.1, "log": true}),
                SearchMethod::Random
            )
            .unwrap(),
            Domain::Range {
                min: 0.001,
                max: 0.1,
                log: true,
                integer: false
            }
        );
        assert!(domain(
            "training_config.learning_rate",
            &json!({"min": 0, "max": 0.1, "log": true}),
            SearchMethod::Random
        )
        .is_err());
    }
}
