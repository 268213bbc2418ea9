//! Handlers for the model routes. Parsing lives in `request`, arithmetic in `estimate`;
//! these only move records between the request, the store and the response.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use shared::http::JsonBody;
use shared::http::QueryPairs;
use shared::records::{JobRecord, JobStatus, ModelRecord, ModelStatus};
use shared::store::ModelQuery;
use shared::{clock, ids, ApiError, ApiResult, AppState};

use crate::estimate;
use crate::request::TrainRequest;
use shared::paging;

/// The steps the worker runs before training when `ai_enhancement` is on.
pub const ENHANCEMENT_STEPS: [&str; 3] = [
    "synthetic_data_generation",
    "architecture_optimization",
    "hyperparameter_tuning",
];

fn monitoring_url(model_id: &str) -> String {
    format!("/v1/models/{model_id}/status")
}

fn summary(m: &ModelRecord) -> Value {
    json!({
        "id": m.id,
        "name": m.name,
        "type": m.model_type,
        "status": m.status,
        "accuracy": m.accuracy,
        "created_at": clock::rfc3339(m.created_at),
        "updated_at": clock::rfc3339(m.updated_at),
        "training_job_id": m.training_job_id,
    })
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
) -> ApiResult<Json<Value>> {
    let query = list_query(params)?;
    let (page, counts) =
        tokio::try_join!(state.store.list_models(&query), state.store.model_counts(),)?;
    let (total, active) = (
        counts.matching(query.status),
        counts.of(ModelStatus::Training),
    );
    Ok(Json(json!({
        "models": page.models.iter().map(summary).collect::<Vec<_>>(),
        "total_models": total,
        "active_training": active,
        "next_token": page.last.as_deref().map(paging::encode),
    })))
}

/// `POST /v1/models/train`: stores a model and its queued job, answers 202.
pub async fn train(State(state): State<AppState>, JsonBody(body): JsonBody) -> ApiResult<Response> {
    let req = TrainRequest::parse(&body)?;
    let now = clock::now();
    let model_id = ids::new_model_id();
    let job_id = ids::new_job_id();
    let scheduled: Vec<String> = if req.training.ai_enhancement {
        ENHANCEMENT_STEPS.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    };
    // Named providers without a key do not block training: the builtin engines stand in,
    // and the answer says so.
    let not_configured: Vec<String> = req
        .training
        .providers
        .iter()
        .filter(|name| {
            shared::providers::Provider::parse(name)
                .is_some_and(|p| !state.config.provider(p).configured())
        })
        .cloned()
        .collect();
    let estimated = estimate::completion(now, &req.training);

    let model = ModelRecord {
        id: model_id.clone(),
        name: req.model.name,
        model_type: req.model.model_type,
        architecture: req.model.architecture,
        dataset: req.model.dataset,
        target_accuracy: req.model.target_accuracy,
        status: ModelStatus::Queued,
        accuracy: None,
        training_job_id: job_id.clone(),
        training_config: req.training.clone(),
        created_at: now,
        updated_at: now,
    };
    let mut job = JobRecord {
        id: job_id.clone(),
        model_id: model_id.clone(),
        status: JobStatus::Queued,
        status_transitions: Vec::new(),
        training_config: req.training,
        ai_enhancements_scheduled: scheduled.clone(),
        estimated_completion: estimated,
        failure_reason: None,
        created_at: now,
        updated_at: now,
    };
    job.transition(JobStatus::Queued, now, Some("job accepted".into()));
    state.store.create_training(&model, &job).await?;
    tracing::info!(model_id = %model_id, job_id = %job_id, "training job queued");

    let body = json!({
        "status": "training_started",
        "model_id": model_id,
        "training_job_id": job_id,
        "estimated_completion": clock::rfc3339(estimated),
        "ai_enhancements_scheduled": scheduled,
        "monitoring_url": monitoring_url(&model_id),
        "providers_not_configured": not_configured,
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

async fn load_model(state: &AppState, id: &str) -> ApiResult<ModelRecord> {
    let not_found = || ApiError::NotFound(format!("model {id} does not exist"));
    if !ids::is_valid(id, ids::MODEL_PREFIX) {
        return Err(not_found());
    }
    state.store.get_model(id).await?.ok_or_else(not_found)
}

/// `GET /v1/models/{id}`: the whole record.
pub async fn get_model(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let model = load_model(&state, &id).await?;
    let mut body = serde_json::to_value(&model).map_err(ApiError::internal)?;
    body["monitoring_url"] = json!(monitoring_url(&model.id));
    Ok(Json(body))
}

/// `GET /v1/models/{id}/status`: the job's status with every transition's time.
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let model = load_model(&state, &id).await?;
    let job = state
        .store
        .get_job(&model.training_job_id)
        .await?
        .ok_or_else(|| {
            tracing::error!(model_id = %model.id, job_id = %model.training_job_id, "job record missing");
            ApiError::NotFound(format!("training job of model {id} does not exist"))
        })?;
    Ok(Json(json!({
        "model_id": model.id,
        "model_status": model.status,
        "training_job_id": job.id,
        "status": job.status,
        "status_transitions": job.status_transitions,
        "training_config": job.training_config,
        "ai_enhancements_scheduled": job.ai_enhancements_scheduled,
        "estimated_completion": clock::rfc3339(job.estimated_completion),
        "failure_reason": job.failure_reason,
        "created_at": clock::rfc3339(job.created_at),
        "updated_at": clock::rfc3339(job.updated_at),
    })))
}
