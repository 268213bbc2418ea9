//! Handlers for the model routes. Parsing lives in `request`, arithmetic in `estimate`;
//! these only move records between the request, the store and the response.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use shared::http::{JsonBody, PathId, QueryPairs};
use shared::records::{
    ArchitectureName, DatasetColumn, DatasetRecord, JobRecord, JobStatus, ModelRecord, ModelStatus,
    ModelType, TargetSummary, Task, MAX_CLASS_COUNTS,
};
use shared::store::{ModelQuery, StoreError};
use shared::{clock, ids, ApiError, ApiResult, AppState};
use training::Architecture;
use training_worker as worker;

use crate::estimate;
use crate::request;
use shared::paging;
use shared::wire::{
    CheckpointInfo, Model, ModelLinks, ModelList, ModelSummary, ResumeAccepted, StopAccepted,
    TrainAccepted, TrainDataset, TrainStatus, TrainingResources, TrainingStatus,
};

/// The steps the worker runs before training when `ai_enhancement` is on.
pub const ENHANCEMENT_STEPS: [&str; 3] = [
    "synthetic_data_generation",
    "architecture_optimization",
    "hyperparameter_tuning",
];

fn monitoring_url(model_id: &str) -> String {
    format!("/v1/models/{model_id}/status")
}

fn summary(m: &ModelRecord) -> ModelSummary {
    ModelSummary {
        id: m.id.clone(),
        name: m.name.clone(),
        model_type: m.model_type,
        status: m.status,
        accuracy: m.accuracy,
        r2: m.r2,
        created_at: clock::rfc3339(m.created_at),
        updated_at: clock::rfc3339(m.updated_at),
        training_job_id: m.training_job_id.clone(),
    }
}

fn list_query(params: Vec<(String, String)>) -> ApiResult<ModelQuery> {
    let mut query = ModelQuery {
        status: None,
        limit: paging::DEFAULT_LIMIT,
        after: None,
    };
    for (key, value) in params {
        match key.as_str() {
            "limit" => query.limit = paging::limit(&value)?,
            "status" => {
                query.status = Some(ModelStatus::parse(&value).ok_or_else(|| {
                    let names: Vec<&str> = ModelStatus::ALL.iter().map(|s| s.as_str()).collect();
                    ApiError::validation(
                        "status",
                        json!(value),
                        format!("one of: {}", names.join(", ")),
                        "status is not a model status",
                    )
                })?);
            }
            "next_token" => query.after = Some(paging::token(&value, ids::MODEL_PREFIX)?),
            other => return Err(paging::unknown(other, &value, "limit, status, next_token")),
        }
    }
    Ok(query)
}

/// `GET /v1/models?limit=&status=&next_token=`: newest first.
pub async fn list(
    State(state): State<AppState>,
    QueryPairs(params): QueryPairs,
) -> ApiResult<Json<ModelList>> {
    let query = list_query(params)?;
    let (page, counts) =
        tokio::try_join!(state.store.list_models(&query), state.store.model_counts(),)?;
    let (total, active) = (
        counts.matching(query.status),
        counts.of(ModelStatus::Training),
    );
    Ok(Json(ModelList {
        models: page.models.iter().map(summary).collect(),
        total_models: total,
        active_training: active,
        next_token: page.last.as_deref().map(paging::encode),
    }))
}

/// The dataset a request names, which must exist and have a target to learn.
async fn trainable_dataset(
    state: &AppState,
    id: &str,
    needs_target: bool,
) -> ApiResult<DatasetRecord> {
    let missing = || {
        ApiError::NotFound(format!(
            "dataset {id} does not exist: create one with POST /v1/ai/synthetic-data or upload \
             a CSV (or an ImageFolder zip of images) with POST /v1/datasets, then pass its \
             dataset_id as model_config.dataset"
        ))
    };
    if !ids::is_valid(id, ids::DATASET_PREFIX) {
        return Err(missing());
    }
    let dataset = state.store.get_dataset(id).await?.ok_or_else(missing)?;
    if needs_target && dataset.target.is_none() {
        return Err(ApiError::validation(
            "model_config.dataset",
            json!(id),
            "a dataset with a target column",
            format!(
                "dataset {id} has no target column to learn; upload it again naming the target"
            ),
        ));
    }
    Ok(dataset)
}

/// Each name of `model_config.<key>` must be a column of the dataset other than its target.
fn check_columns(dataset: &DatasetRecord, key: &str, names: &[String]) -> ApiResult<()> {
    let target = dataset.target.as_deref();
    for (i, name) in names.iter().enumerate() {
        let field = format!("model_config.{key}[{i}]");
        if Some(name.as_str()) == target {
            return Err(ApiError::validation(
                field,
                json!(name),
                "a column other than the target",
                format!("{name:?} is the dataset's target: it is what the model learns"),
            ));
        }
        if !dataset.columns.iter().any(|c| &c.name == name) {
            let known: Vec<&str> = dataset
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .filter(|c| Some(*c) != target)
                .collect();
            return Err(ApiError::validation(
                field,
                json!(name),
                format!("one of: {}", known.join(", ")),
                format!("{name:?} is not a column of dataset {}", dataset.id),
            ));
        }
    }
    Ok(())
}

/// What the model learns: the task `type` names, or for `tabular` the target's kind (a
/// `numeric` column: regression; any other: classification). A regression needs a numeric or
/// integer target, and logistic regression is a classifier.
fn task_of(
    model_type: ModelType,
    architecture: ArchitectureName,
    dataset: &DatasetRecord,
) -> ApiResult<Task> {
    let target = dataset.target.as_deref().unwrap_or_default();
    // The target's values as counted when the dataset was stored: all numbers (integers or
    // not), or anything else (records from before the summary: from the class counts).
    let summary = dataset.training_shape.as_ref().and_then(|shape| {
        shape.target.clone().or_else(|| {
            (!shape.class_counts.is_empty()).then(|| {
                TargetSummary::of(shape.class_counts.iter().map(|c| (c.class.clone(), c.rows))).0
            })
        })
    });
    let kind = summary.as_ref().map_or("unknown", |s| s.kind.as_str());
    let task = model_type.task().unwrap_or(if kind == "numeric" {
        Task::Regression
    } else {
        Task::Classification
    });
    if task == Task::Regression && !matches!(kind, "numeric" | "integer") {
        return Err(ApiError::validation(
            "model_config.type",
            json!(model_type.as_str()),
            "a classification type for this target",
            format!(
                "a regression learns a number, but the target {target:?} of dataset {} is {kind}; use type classification (or tabular), or a dataset with a numeric target",
                dataset.id
            ),
        ));
    }
    if task == Task::Regression && architecture == ArchitectureName::LogisticRegression {
        return Err(ApiError::validation(
            "model_config.architecture",
            json!(architecture.as_str()),
            "linear, mlp, gbm or auto for a regression",
            "logistic_regression is a classifier; use linear (least squares / ridge) for a regression",
        ));
    }
    if let Some(s) =
        summary.filter(|s| task == Task::Classification && s.distinct > MAX_CLASS_COUNTS as u64)
    {
        return Err(ApiError::validation(
            "model_config.type",
            json!(model_type.as_str()),
            format!("regression, or a target with at most {MAX_CLASS_COUNTS} classes"),
            format!(
                "the target {target:?} of dataset {} has {} distinct {} values: too many classes for a classifier (at most {MAX_CLASS_COUNTS}); use type regression",
                dataset.id, s.distinct, s.kind
            ),
        ));
    }
    Ok(task)
}

/// A forecaster: a network over one numeric column of a table, ordered by another.
fn forecast_job(
    state: &AppState,
    m: &shared::wire::TrainModelConfig,
    dataset: &DatasetRecord,
    training: &shared::records::TrainingConfig,
) -> ApiResult<crate::network::Planned> {
    let spec = m
        .forecast
        .as_ref()
        .ok_or_else(|| {
            ApiError::internal(std::io::Error::other(
                "a forecaster request without forecast",
            ))
        })?
        .spec();
    let spec = &spec;
    if dataset.images.is_some() {
        return Err(ApiError::validation(
            "model_config.dataset",
            json!(dataset.id),
            "a table with a time column and a numeric column",
            format!(
                "dataset {} holds images; a forecaster reads a table (a CSV with a time column)",
                dataset.id
            ),
        ));
    }
    if m.architecture.family() != ArchitectureName::Network {
        return Err(ApiError::validation(
            "model_config.architecture",
            json!(m.architecture.family().as_str()),
            "lstm_forecaster (the default) or a layer list reading [window]",
            "a forecaster is a network that reads the window's values: leave architecture out \
             (lstm_forecaster) or give a layer list",
        ));
    }
    let column = |name: &str| dataset.columns.iter().find(|c| c.name == name);
    let names = || {
        dataset
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match column(&spec.target) {
        Some(c) if matches!(c.kind.as_str(), "numeric" | "integer" | "target") => {}
        Some(c) => {
            return Err(ApiError::validation(
                "model_config.forecast.target",
                json!(spec.target),
                "a numeric column",
                format!(
                    "column {:?} of dataset {} is {}, not numbers",
                    spec.target, dataset.id, c.kind
                ),
            ))
        }
        None => {
            return Err(ApiError::validation(
                "model_config.forecast.target",
                json!(spec.target),
                format!("one of: {}", names()),
                format!(
                    "{:?} is not a column of dataset {}",
                    spec.target, dataset.id
                ),
            ))
        }
    }
    if spec.time_column == spec.target || column(&spec.time_column).is_none() {
        return Err(ApiError::validation(
            "model_config.forecast.time_column",
            json!(spec.time_column),
            format!("a column other than the target, one of: {}", names()),
            format!(
                "{:?} must be a column of dataset {} other than the target: it orders the rows",
                spec.time_column, dataset.id
            ),
        ));
    }
    crate::network::plan_job(
        m,
        dataset,
        crate::network::Data::Series(spec),
        training,
        state.config.worker.memory_bytes,
        state.config.function_memory_bytes,
        training.max_runtime_seconds(),
    )
}

/// A text classifier: a network over a table's text column (`model_config.text_column`, or
/// the one free-text column), the first `max_length` words of each text.
fn text_job(
    state: &AppState,
    m: &shared::wire::TrainModelConfig,
    dataset: &DatasetRecord,
    training: &shared::records::TrainingConfig,
) -> ApiResult<crate::network::Planned> {
    if dataset.images.is_some() {
        return Err(ApiError::validation(
            "model_config.dataset",
            json!(dataset.id),
            "a table with a text column and a target",
            format!(
                "dataset {} holds images; a text classifier reads a table (a CSV with a text \
                 column and a label)",
                dataset.id
            ),
        ));
    }
    if m.architecture.family() != ArchitectureName::Network {
        return Err(ApiError::validation(
            "model_config.architecture",
            json!(m.architecture.family().as_str()),
            "textcnn (the default), fasttext, or a layer list starting with an embedding",
            "a text classifier is a network that reads word ids: leave architecture out \
             (textcnn), name fasttext, or give a layer list whose first layer is an embedding",
        ));
    }
    let target = dataset.target.as_deref();
    let texts: Vec<&DatasetColumn> = dataset
        .columns
        .iter()
        .filter(|c| c.words.is_some() && Some(c.name.as_str()) != target)
        .collect();
    let names = |cols: &[&DatasetColumn]| {
        cols.iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let column = match &m.text_column {
        Some(name) => match dataset.columns.iter().find(|c| &c.name == name) {
            Some(c) if Some(name.as_str()) != target && c.kind == "categorical" => c,
            found => {
                let strings: Vec<&DatasetColumn> = dataset
                    .columns
                    .iter()
                    .filter(|c| c.kind == "categorical" && Some(c.name.as_str()) != target)
                    .collect();
                return Err(ApiError::validation(
                    "model_config.text_column",
                    json!(name),
                    format!(
                        "a string column other than the target, one of: {}",
                        names(&strings)
                    ),
                    match found {
                        None => format!("{name:?} is not a column of dataset {}", dataset.id),
                        Some(_) if Some(name.as_str()) == target => format!(
                            "{name:?} is the dataset's target: it is what the classifier learns"
                        ),
                        Some(c) => format!(
                            "column {name:?} of dataset {} is {}, not text",
                            dataset.id, c.kind
                        ),
                    },
                ));
            }
        },
        None => match texts.as_slice() {
            [one] => *one,
            [] => {
                return Err(ApiError::validation(
                    "model_config.text_column",
                    Value::Null,
                    "the name of the column of texts",
                    format!(
                        "dataset {} has no free-text column (a string column of at least {} \
                         words per value on average): name the column to read in \
                         model_config.text_column",
                        dataset.id,
                        shared::datasets::TEXT_MEAN_WORDS
                    ),
                ))
            }
            several => {
                return Err(ApiError::validation(
                    "model_config.text_column",
                    Value::Null,
                    format!("one of: {}", names(several)),
                    format!(
                        "dataset {} has {} free-text columns ({}): name the one to read in \
                         model_config.text_column",
                        dataset.id,
                        several.len(),
                        names(several)
                    ),
                ))
            }
        },
    };
    let max_length = match (m.max_length, &column.words) {
        (Some(n), _) => n,
        (None, Some(w)) => (w.p95 as usize).clamp(1, text::MAX_LENGTH),
        (None, None) => {
            return Err(ApiError::validation(
                "model_config.max_length",
                Value::Null,
                format!("1 to {}", text::MAX_LENGTH),
                format!(
                    "column {:?} has no word counts to take a default from (its values are \
                     short): give model_config.max_length, the words read per text",
                    column.name
                ),
            ))
        }
    };
    crate::network::plan_job(
        m,
        dataset,
        crate::network::Data::Text {
            column: &column.name,
            max_length,
        },
        training,
        state.config.worker.memory_bytes,
        state.config.function_memory_bytes,
        training.max_runtime_seconds(),
    )
}

/// A training request validated and resolved: the records its job starts from, and what the
/// answer reports.
pub struct Prepared {
    pub model: ModelRecord,
    pub job: JobRecord,
    pub dataset: DatasetRecord,
    pub resources: TrainingResources,
    pub providers_not_configured: Vec<String>,
}

/// `POST /v1/models/train`: stores a model and its queued job, hands the job to the worker,
/// answers 202.
pub async fn train(State(state): State<AppState>, JsonBody(body): JsonBody) -> ApiResult<Response> {
    let Prepared {
        model,
        job,
        dataset,
        resources,
        providers_not_configured,
    } = prepare(&state, &body).await?;
    state.store.create_training(&model, &job).await?;
    tracing::info!(model_id = %model.id, job_id = %job.id, "training job queued");
    worker::dispatch::dispatch(&state, &job);

    let body = TrainAccepted {
        status: TrainStatus::TrainingStarted,
        model_id: model.id.clone(),
        training_job_id: job.id.clone(),
        estimated_completion: clock::rfc3339(job.estimated_completion),
        ai_enhancements_scheduled: job.ai_enhancements_scheduled.clone(),
        monitoring_url: monitoring_url(&model.id),
        providers_not_configured,
        dataset: TrainDataset {
            id: dataset.id,
            rows: dataset.rows,
            target: dataset.target,
        },
        resources,
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// Everything `POST /v1/models/train` checks, nothing stored: the body parsed field by field,
/// the dataset, the family's limits and the worker's memory and time, then the queued model
/// and job with fresh ids (a sweep validates each trial with it).
pub async fn prepare(state: &AppState, body: &Value) -> ApiResult<Prepared> {
    // Seeds stay below 2^53 so they survive a round trip through JSON numbers.
    let req = request::parse(body)?;
    let training = request::resolve(&req, || rand::random::<u64>() & ((1 << 53) - 1));
    let m = req.model_config;
    let forecasting = m.model_type == ModelType::TimeSeriesForecasting;
    let dataset = trainable_dataset(state, &m.dataset, !forecasting).await?;
    let family = m.architecture.family();
    let network = match (&dataset.images, family) {
        _ if forecasting => Some(forecast_job(state, &m, &dataset, &training)?),
        _ if m.model_type.reads_text() => Some(text_job(state, &m, &dataset, &training)?),
        (Some(images), ArchitectureName::Network) => Some(crate::network::plan_job(
            &m,
            &dataset,
            crate::network::Data::Images(images),
            &training,
            state.config.worker.memory_bytes,
            state.config.function_memory_bytes,
            training.max_runtime_seconds(),
        )?),
        (Some(_), other) => {
            return Err(ApiError::validation(
                "model_config.architecture",
                json!(other.as_str()),
                format!(
                    "a network for images: a preset ({}) or a layer list",
                    analysis::presets::names().join(", ")
                ),
                format!(
                    "dataset {} holds images; {} trains on tables. Train a network on it: a preset ({}) or {{\"layers\": [...]}}",
                    dataset.id,
                    other.as_str(),
                    analysis::presets::names().join(", ")
                ),
            ))
        }
        (None, ArchitectureName::Network) => {
            return Err(ApiError::validation(
                "model_config.dataset",
                json!(dataset.id),
                "an image dataset (POST /v1/datasets with an ImageFolder zip), or type text_classification or time_series_forecasting for a table",
                format!(
                    "a layer-list network on a table reads its texts (type text_classification) or a series (type time_series_forecasting), and this request's type is {}; for dataset {}, a table, use one of those types, upload an ImageFolder zip with POST /v1/datasets, or train a tabular family (mlp, gbm, linear, auto)",
                    m.model_type.as_str(),
                    dataset.id
                ),
            ))
        }
        (None, _) if matches!(
            m.model_type,
            ModelType::ComputerVision | ModelType::ImageClassification
        ) =>
        {
            return Err(ApiError::validation(
                "model_config.type",
                json!(m.model_type.as_str()),
                "a tabular type (classification, regression, tabular) for a table",
                format!(
                    "type {} classifies images, and dataset {} is a table; upload an ImageFolder zip with POST /v1/datasets, or use type classification",
                    m.model_type.as_str(),
                    dataset.id
                ),
            ))
        }
        (None, _) => {
            for (key, names) in [("features", &m.features), ("exclude", &m.exclude)] {
                check_columns(&dataset, key, names.as_deref().unwrap_or_default())?;
            }
            None
        }
    };
    let task = if forecasting {
        Task::Regression
    } else {
        task_of(m.model_type, family, &dataset)?
    };
    let asked_budget = req
        .training_config
        .as_ref()
        .and_then(|t| t.time_budget_seconds);
    let max_runtime = state.config.worker.max_runtime.as_secs();
    match (family, asked_budget) {
        (ArchitectureName::Auto, Some(b)) if b > max_runtime => {
            return Err(ApiError::validation(
                "training_config.time_budget_seconds",
                json!(b),
                format!("at most {max_runtime} (the worker's runtime limit)"),
                format!("a job may run {max_runtime} s at most (the worker's runtime limit); ask for a shorter search"),
            ))
        }
        (ArchitectureName::Auto, _) | (_, None) => {}
        (other, Some(b)) => {
            return Err(ApiError::validation(
                "training_config.time_budget_seconds",
                json!(b),
                "absent unless architecture is auto",
                format!(
                    "time_budget_seconds bounds the auto search; this request trains {}",
                    other.as_str()
                ),
            ))
        }
    }
    // A tree fit cannot stop half-way (forust has no time limit): refuse one that would not
    // finish in a job's runtime, by the fit-time formula (README "Model families").
    let gbm_seconds = (family == ArchitectureName::Gbm).then(|| {
        let (engine_task, classes) = match task {
            Task::Classification => (
                training::Task::Classification,
                dataset
                    .training_shape
                    .as_ref()
                    .map_or(2, |s| s.class_counts.len()),
            ),
            Task::Regression => (training::Task::Regression, 1),
        };
        training::gbm::estimated_fit_seconds(
            dataset.rows as usize,
            dataset.columns.len().saturating_sub(1),
            training::gbm::boosters_for(engine_task, classes),
            &worker::gbm_params(m.gbm.as_ref(), 0),
        )
    });
    if let Some(seconds) = gbm_seconds.filter(|s| *s > max_runtime as f64) {
        return Err(ApiError::validation(
            "model_config.gbm.trees",
            json!(m.gbm.as_ref().and_then(|g| g.trees).unwrap_or(training::gbm::DEFAULT_TREES)),
            "fewer trees, a smaller max_depth, or fewer rows",
            format!(
                "fitting these trees takes about {seconds:.0} s (rows × features × boosters × trees × depth × {:.0e} s), more than the {max_runtime} s a job may run",
                training::gbm::SECONDS_PER_UNIT
            ),
        ));
    }
    // Trees and the search are held to the memory of the largest network `auto` tries: its
    // data copies bound theirs (trees bin each feature into at most 256 values).
    let architecture = if family.is_network() {
        Architecture::from_record(family, m.hidden_layers.clone()).map_err(ApiError::internal)?
    } else {
        Architecture::mlp(&[128, 64])
    };
    // The tuning search may double the batch: hold the worker to that.
    let mut planned = training.clone();
    if planned.ai_enhancement {
        planned.batch_size = planned.batch_size.saturating_mul(2);
    }
    let capacity = match &network {
        Some(n) => n.resources.clone(),
        None => crate::capacity::check(
            &dataset,
            task,
            &architecture,
            &planned,
            training.optimizer,
            state.config.worker.memory_bytes,
            state.config.function_memory_bytes,
        )?,
    };
    let now = clock::now();
    let model_id = ids::new_model_id();
    let job_id = ids::new_job_id();
    let scheduled: Vec<String> = if training.ai_enhancement {
        ENHANCEMENT_STEPS.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    };
    // Named providers without a key do not block training: the builtin engines stand in,
    // and the answer says so.
    let not_configured: Vec<String> = training
        .providers
        .iter()
        .filter(|name| {
            shared::providers::Provider::parse(name)
                .is_some_and(|p| !state.config.provider(p).configured())
        })
        .cloned()
        .collect();
    let network_seconds = network.as_ref().map(|n| n.seconds);
    let estimated = match (
        training.time_budget_seconds,
        gbm_seconds.or(network_seconds),
    ) {
        // The search stops at its budget; the refit and saving follow within it.
        (Some(b), _) => now + chrono::Duration::seconds(b as i64),
        (None, Some(s)) => now + chrono::Duration::milliseconds((s * 1000.0).ceil() as i64),
        (None, None) => estimate::completion(
            now,
            &training,
            &estimate::Shape {
                rows: dataset.rows,
                columns: dataset.columns.len() as u64,
                hidden: architecture.hidden().to_vec(),
            },
        ),
    };

    let model = ModelRecord {
        id: model_id.clone(),
        name: m.name,
        model_type: m.model_type,
        architecture: Some(family),
        dataset: Some(m.dataset),
        target_accuracy: m.target_accuracy,
        status: ModelStatus::Queued,
        accuracy: None,
        r2: None,
        training_job_id: job_id.clone(),
        training_config: training.clone(),
        hidden_layers: m.hidden_layers,
        task: Some(task),
        gbm: m.gbm,
        feature_columns: m.features,
        excluded_columns: m.exclude.unwrap_or_default(),
        text: network.as_ref().and_then(|n| n.text.clone()),
        network: network.map(|n| n.info),
        forecast: m.forecast.as_ref().map(|f| f.spec()),
        artifact: None,
        created_at: now,
        updated_at: now,
    };
    let mut job = JobRecord::queued(
        job_id.clone(),
        model_id.clone(),
        training,
        scheduled.clone(),
        estimated,
        now,
    );
    job.transition(JobStatus::Queued, now, Some("job accepted".into()));
    Ok(Prepared {
        model,
        job,
        dataset,
        resources: capacity,
        providers_not_configured: not_configured,
    })
}

pub(crate) async fn load_model(state: &AppState, id: &str) -> ApiResult<ModelRecord> {
    let not_found = || ApiError::NotFound(format!("model {id} does not exist"));
    if !ids::is_valid(id, ids::MODEL_PREFIX) {
        return Err(not_found());
    }
    state.store.get_model(id).await?.ok_or_else(not_found)
}

/// `GET /v1/models/{id}`: the whole record.
pub async fn get_model(
    State(state): State<AppState>,
    PathId(id): PathId,
) -> ApiResult<Json<Model>> {
    let model = load_model(&state, &id).await?;
    Ok(Json(Model {
        monitoring_url: monitoring_url(&model.id),
        links: ModelLinks::of(&model.id),
        record: model,
    }))
}

/// The model's job, after declaring it lost if its worker stopped beating.
pub async fn load_job(state: &AppState, model: &ModelRecord) -> ApiResult<JobRecord> {
    let job = state
        .store
        .get_job(&model.training_job_id)
        .await?
        .ok_or_else(|| {
            tracing::error!(model_id = %model.id, job_id = %model.training_job_id, "job record missing");
            ApiError::NotFound(format!("training job of model {} does not exist", model.id))
        })?;
    let was_final = job.status.is_final();
    let job = worker::reap_if_lost(state, job).await?;
    // A sweep trial that was just declared lost frees its slot.
    if !was_final && job.status.is_final() {
        worker::sweeps::trial_ended(state, &job).await;
    }
    Ok(job)
}

/// `GET /v1/models/{id}/status`: SageMaker-style: the primary status with its transitions,
/// the secondary status with its own, progress, per-epoch history, final metrics, the
/// enhancement reports and the failure reason.
pub async fn status(
    State(state): State<AppState>,
    PathId(id): PathId,
) -> ApiResult<Json<TrainingStatus>> {
    let model = load_model(&state, &id).await?;
    let job = load_job(&state, &model).await?;
    // Re-read the model when the job just ended, so both agree.
    let model = if job.status.is_final() && !model_is_final(&model) {
        load_model(&state, &id).await?
    } else {
        model
    };
    let heartbeat_age = job
        .heartbeat_at
        .map(|t| (clock::now() - t).num_milliseconds() as f64 / 1000.0);
    let final_metrics = match job.final_metrics.clone() {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    let billing = shared::billing::of(&job, state.config.worker.memory_bytes, clock::now());
    Ok(Json(TrainingStatus {
        model_id: model.id.clone(),
        model_status: model.status,
        accuracy: model.accuracy,
        r2: model.r2,
        training_job_id: job.id,
        status: job.status,
        status_transitions: job.status_transitions,
        secondary_status: job.secondary_status,
        secondary_transitions: job.secondary_transitions,
        progress: job.progress,
        history: job.history,
        final_metrics,
        ai_enhancements_scheduled: job.ai_enhancements_scheduled,
        ai_enhancements: job.enhancements,
        training_config: job.training_config,
        architecture: model.architecture,
        hidden_layers: model.hidden_layers,
        dataset: model.dataset,
        artifact: model.artifact,
        estimated_completion: clock::rfc3339(job.estimated_completion),
        failure_reason: job.failure_reason,
        heartbeat_at: job.heartbeat_at.map(clock::rfc3339),
        heartbeat_age_seconds: heartbeat_age,
        heartbeat_timeout_seconds: state.config.worker.heartbeat_timeout.as_secs(),
        created_at: clock::rfc3339(job.created_at),
        updated_at: clock::rfc3339(job.updated_at),
        invocations: job.invocations,
        checkpoints: job.checkpoints,
        checkpoint: job.checkpoint.as_ref().map(CheckpointInfo::of),
        last_checkpoint_at: job.checkpoint.as_ref().map(|c| clock::rfc3339(c.saved_at)),
        resumes: job.resumes,
        billing,
        links: ModelLinks::of(&model.id),
    }))
}

fn model_is_final(m: &ModelRecord) -> bool {
    matches!(
        m.status,
        ModelStatus::Completed | ModelStatus::Failed | ModelStatus::Stopped
    )
}

/// `POST /v1/models/{id}/stop`: a queued job stops at once; a running one is marked
/// `stopping` and its worker ends it `stopped` at its next write (within the heartbeat
/// interval), keeping the weights learned so far.
pub async fn stop(State(state): State<AppState>, PathId(id): PathId) -> ApiResult<Response> {
    use worker::sweeps::Stop;
    let model = load_model(&state, &id).await?;
    let stop = match worker::sweeps::stop_job(&state, &model.training_job_id).await {
        Ok(stop) => stop,
        Err(StoreError::ConditionFailed(_)) => {
            return Err(ApiError::Conflict(format!(
                "the training job of model {id} kept changing; try again"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    match stop {
        None => Err(ApiError::NotFound(format!(
            "training job of model {id} does not exist"
        ))),
        Some(Stop::Stopped(job)) => {
            worker::sweeps::trial_ended(&state, &job).await;
            Ok(stop_answer(&model, &job, StatusCode::OK))
        }
        Some(Stop::Stopping(job) | Stop::AlreadyStopping(job)) => {
            Ok(stop_answer(&model, &job, StatusCode::ACCEPTED))
        }
        Some(Stop::Ended(job)) => Err(ApiError::Conflict(format!(
            "the training job of model {id} is already {}; nothing to stop",
            job.status.as_str()
        ))),
    }
}

/// `POST /v1/models/{id}/resume`: a stopped job with a checkpoint is queued again and
/// continues from it; anything else is a 409 saying why.
pub async fn resume(State(state): State<AppState>, PathId(id): PathId) -> ApiResult<Response> {
    let model = load_model(&state, &id).await?;
    let job = load_job(&state, &model).await?;
    if job.status != JobStatus::Stopped {
        return Err(ApiError::Conflict(format!(
            "the training job of model {id} is {}; only a stopped job resumes",
            job.status.as_str()
        )));
    }
    let Some(pointer) = job.checkpoint.clone() else {
        return Err(ApiError::Conflict(format!(
            "the training job of model {id} stopped before it wrote a checkpoint; train it again"
        )));
    };
    let next = worker::requeue_stopped(&job, &pointer);
    match state.store.put_job_if(&next, JobStatus::Stopped).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed(_)) => {
            return Err(ApiError::Conflict(format!(
                "the training job of model {id} changed meanwhile; look at its status and try again"
            )))
        }
        Err(e) => return Err(e.into()),
    }
    let mut m = model.clone();
    m.status = ModelStatus::Queued;
    m.updated_at = clock::now();
    state.store.put_model(&m).await?;
    worker::dispatch::dispatch(&state, &next);
    let body = ResumeAccepted {
        model_id: model.id.clone(),
        training_job_id: job.id.clone(),
        status: next.status,
        checkpoint: CheckpointInfo::of(&pointer),
        monitoring_url: monitoring_url(&model.id),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

fn stop_answer(model: &ModelRecord, job: &JobRecord, code: StatusCode) -> Response {
    let body = StopAccepted {
        model_id: model.id.clone(),
        training_job_id: job.id.clone(),
        status: job.status,
        monitoring_url: monitoring_url(&model.id),
    };
    (code, Json(body)).into_response()
}

/// `GET /v1/models/{id}/metrics.svg`: loss and accuracy per epoch, drawn from the job's
/// history.
pub async fn metrics_svg(State(state): State<AppState>, PathId(id): PathId) -> ApiResult<Response> {
    let model = load_model(&state, &id).await?;
    let job = load_job(&state, &model).await?;
    let history: Vec<training::EpochStats> = job
        .history
        .iter()
        .map(|e| training::EpochStats {
            epoch: e.epoch,
            loss: e.loss,
            val_loss: e.val_loss,
            accuracy: e.accuracy,
            val_accuracy: e.val_accuracy,
            val_rmse: e.val_rmse,
            val_mae: e.val_mae,
            val_r2: e.val_r2,
            trees: e.trees,
            seconds: e.seconds,
        })
        .collect();
    let title = format!("{} ({})", model.name, job.status.as_str());
    let svg = training::history_svg(&title, &history);
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}
