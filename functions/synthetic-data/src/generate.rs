//! `POST /v1/ai/synthetic-data`: find the schema (explicit, fitted, provider-designed or
//! builtin-designed), generate the rows streaming to disk while measuring their quality,
//! store the dataset, answer with its id, a preview and the metrics.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use shared::datasets::{self, column_kinds, download_urls, synth_error, Plan};
use shared::orchestrator::{Answer, Ask, Source};
use shared::providers::Prompt;
use shared::records::{DatasetOrigin, DatasetRecord};
use shared::wire::{
    self, objects, GeneratedSchema, QualityMetrics, SyntheticData, SyntheticDataResponse, Timings,
};
use shared::{clock, ids, usage, ApiError, ApiResult, AppState};
use synth::{self, DataSchema, FitReport, Table};

use crate::recommend::{self, Recommendation};
use crate::request::{SchemaInput, SyntheticRequest, UtilityOptions};

/// What the `synthetic_data` provider is asked for: a schema, and its advice.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DesignedSchema {
    pub schema: DataSchema,
    /// At most five short, specific recommendations for using the data.
    pub recommendations: Vec<String>,
}

impl Answer for DesignedSchema {
    const NAME: &'static str = "synthetic_data_schema";
    fn check(&self) -> Result<(), String> {
        self.schema.validate().map_err(|e| e.to_string())?;
        if self.recommendations.len() > 10 {
            return Err("at most 10 recommendations".into());
        }
        Ok(())
    }
}

fn design_prompt(req: &SyntheticRequest) -> Prompt {
    Prompt {
        system: "You design tabular synthetic datasets for training machine-learning models. \
                 Answer with a JSON object fitting the schema: typed columns with realistic \
                 distributions and bounds, a classification target with its classes and natural \
                 class weights when the model classifies, correlations in the Gaussian copula's \
                 latent space (include correlations between features and the target so the \
                 features carry signal), and up to five specific recommendations."
            .into(),
        user: format!(
            "Model: {}\nExisting data: {}\nRows to generate: {}\nClass balance wanted: {}\n\
             Diversity wanted: {}\nRealism wanted: {}",
            req.model_description.as_deref().unwrap_or("(none)"),
            req.existing_data.as_deref().unwrap_or("(none)"),
            req.target_count,
            req.balance_label,
            req.diversity.as_deref().unwrap_or("(unspecified)"),
            req.realism.as_deref().unwrap_or("(unspecified)"),
        ),
        max_tokens: 4096,
    }
}

/// The schema to generate from, and where it came from.
struct Designed {
    schema: DataSchema,
    source: String,
    fit: Option<FitReport>,
    reference: Option<Table>,
    /// `privacy.holdout`'s rows, kept out of the fit.
    holdout: Option<Table>,
    /// Constraints every sample row satisfies (holdout rows included).
    suggestions: Option<Vec<synth::Suggestion>>,
    provider_advice: Vec<Recommendation>,
    attempts: Vec<shared::orchestrator::Attempt>,
    usage: Vec<shared::orchestrator::Usage>,
}

async fn find_schema(state: &AppState, req: &SyntheticRequest) -> ApiResult<Designed> {
    let plain = |schema, source: &str| Designed {
        schema,
        source: source.to_string(),
        fit: None,
        reference: None,
        holdout: None,
        suggestions: None,
        provider_advice: Vec::new(),
        attempts: Vec::new(),
        usage: Vec::new(),
    };
    match &req.schema {
        SchemaInput::Explicit(schema) => Ok(plain(schema.clone(), "explicit")),
        SchemaInput::Sample { table, target } => {
            let (fitted, holdout) = split_holdout(table, req.holdout, req.seed);
            let (target, whole) = (target.clone(), table.clone());
            let (schema, report, fitted, suggestions) = tokio::task::spawn_blocking(move || {
                synth::fit(&fitted, target.as_deref()).map(|(s, r)| {
                    let suggestions = synth::suggest(&whole, &s);
                    (s, r, fitted, suggestions)
                })
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(synth_error)?;
            Ok(Designed {
                fit: Some(report),
                reference: Some(fitted),
                holdout,
                suggestions: Some(suggestions),
                ..plain(schema, "fitted")
            })
        }
        SchemaInput::Describe => {
            let description = req.model_description.clone().unwrap_or_default();
            let existing = req.existing_data.clone();
            let ask = Ask {
                capability: "synthetic_data",
                prompt: design_prompt(req),
                deadline: state.ai.deadline(),
                only: req.providers.clone(),
            };
            let answered = state
                .ai
                .ask_or_builtin::<DesignedSchema>(ask, || DesignedSchema {
                    schema: synth::design(&description, existing.as_deref()),
                    recommendations: Vec::new(),
                })
                .await;
            let source = answered.source.name().to_string();
            let provider_advice = match &answered.source {
                Source::Provider { .. } => answered
                    .value
                    .recommendations
                    .iter()
                    .map(|text| Recommendation::new(text, &source, "provider_advice"))
                    .collect(),
                Source::Builtin => Vec::new(),
            };
            Ok(Designed {
                provider_advice,
                attempts: answered.attempts,
                usage: answered.usage,
                ..plain(answered.value.schema, &source)
            })
        }
    }
}

/// `privacy.holdout`: a seeded share of the sample rows kept out of the fit (a Fisher-Yates
/// shuffle of the row order with ChaCha8(seed), the last `round(share × rows)` held out).
fn split_holdout(table: &Table, share: Option<f64>, seed: u64) -> (Table, Option<Table>) {
    let Some(share) = share else {
        return (table.clone(), None);
    };
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut order: Vec<usize> = (0..table.rows.len()).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let held = (table.rows.len() as f64 * share).round() as usize;
    let (fit, out) = order.split_at(table.rows.len() - held);
    let pick = |idx: &[usize]| {
        let mut idx = idx.to_vec();
        idx.sort_unstable();
        Table {
            columns: table.columns.clone(),
            rows: idx.iter().map(|&i| table.rows[i].clone()).collect(),
        }
    };
    (pick(fit), Some(pick(out)))
}

/// `utility`: TSTR against TRTR on the held-out sample rows (`tabular::utility`), with the
/// first generated rows (at most `synth::privacy::MAX_COMPARED_ROWS`) as the synthetic side.
/// A target that is not a column, or a side no model can be fitted on, is a 400 naming it.
async fn utility_report(
    designed: &Designed,
    options: &UtilityOptions,
    compared: &[Vec<serde_json::Value>],
    seed: u64,
) -> ApiResult<synth::utility::UtilityReport> {
    let schema = &designed.schema;
    let (Some(real), Some(holdout)) = (designed.reference.clone(), designed.holdout.clone()) else {
        return Err(ApiError::internal(std::io::Error::other(
            "utility without sample rows or a holdout",
        )));
    };
    let schema_target = schema.target_name().map(str::to_string);
    let target = match (&options.target, &schema_target) {
        (Some(t), _) => t.clone(),
        (None, Some(t)) => t.clone(),
        (None, None) => return Err(ApiError::validation(
            "utility.target",
            serde_json::Value::Null,
            "a column of sample_rows",
            "the sample has no target: name the column to predict in utility.target (or target)",
        )),
    };
    let invalid = |e: tabular::TabularError| match e {
        tabular::TabularError::Invalid { field, message } => ApiError::validation(
            &field,
            serde_json::Value::Null,
            "rows a model can be fitted on",
            message,
        ),
        other => ApiError::internal(other),
    };
    let (columns, task) =
        tabular::utility::task_for(&column_kinds(schema), &target).map_err(|e| match e {
            tabular::TabularError::Invalid { message, .. } => ApiError::validation(
                "utility.target",
                serde_json::json!(target),
                "a categorical, boolean, numeric or integer column of sample_rows",
                message,
            ),
            other => invalid(other),
        })?;
    let synthetic = synth::Table {
        columns: schema.header(),
        rows: compared.to_vec(),
    };
    tokio::task::spawn_blocking(move || {
        tabular::utility::utility_report(&tabular::utility::UtilityInput {
            real: &real,
            holdout: &holdout,
            synthetic: &synthetic,
            columns: &columns,
            target: &target,
            task,
            seed,
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(invalid)
}

pub async fn synthetic_data(
    State(state): State<AppState>,
    shared::http::JsonBody(body): shared::http::JsonBody,
) -> ApiResult<Response> {
    let started = Instant::now();
    let req = SyntheticRequest::parse(&body)?;
    if let Some(named) = &req.providers {
        state.ai.require_configured(named)?;
    }
    if let Some(options) = &req.sequence {
        return crate::sequences::synthetic_sequences(&state, &req, options, started).await;
    }
    let designed = find_schema(&state, &req).await?;
    let schema_seconds = started.elapsed().as_secs_f64();

    let id = ids::new_dataset_id();
    let generated = {
        let (schema, req2, reference, dir, id) = (
            designed.schema.clone(),
            req.clone(),
            designed.reference.clone(),
            state.config.scratch_dir.join("mlaas-generate"),
            id.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let plan = Plan {
                schema: &schema,
                seed: req2.seed,
                balance: req2.balance,
                count: req2.target_count,
                keep_rows: req2.include_data,
                reference: reference.as_ref(),
                compare_rows: if reference.is_some() {
                    synth::privacy::MAX_COMPARED_ROWS
                } else {
                    0
                },
                constraints: &req2.constraints,
                conditions: &req2.conditions,
            };
            datasets::generate(&plan, &dir, &id)
        })
        .await
        .map_err(ApiError::internal)??
    };

    // Privacy against the real rows, when there are some.
    let privacy_started = Instant::now();
    let privacy = match &designed.reference {
        Some(real) => {
            let (schema, real, holdout, compared, seed) = (
                designed.schema.clone(),
                real.clone(),
                designed.holdout.clone(),
                generated.compared.clone(),
                req.seed,
            );
            Some(
                tokio::task::spawn_blocking(move || {
                    datasets::privacy_report(&schema, &real, holdout.as_ref(), &compared, seed)
                })
                .await
                .map_err(ApiError::internal)?,
            )
        }
        None => None,
    };
    let privacy_seconds = privacy
        .as_ref()
        .map(|_| privacy_started.elapsed().as_secs_f64());
    let utility_started = Instant::now();
    let utility = match &req.utility {
        Some(options) => {
            match utility_report(&designed, options, &generated.compared, req.seed).await {
                Ok(u) => Some(u),
                Err(e) => {
                    generated.files.discard().await;
                    return Err(e);
                }
            }
        }
        None => None,
    };
    let utility_seconds = utility
        .as_ref()
        .map(|_| utility_started.elapsed().as_secs_f64());
    let mut quality_json = serde_json::to_value(&generated.quality).map_err(ApiError::internal)?;
    if let (Some(p), Some(q)) = (&privacy, quality_json.as_object_mut()) {
        q.insert(
            "privacy".into(),
            serde_json::to_value(p).map_err(ApiError::internal)?,
        );
    }
    if let (Some(u), Some(q)) = (&utility, quality_json.as_object_mut()) {
        q.insert(
            "utility".into(),
            serde_json::to_value(u).map_err(ApiError::internal)?,
        );
    }
    // The dataset keeps what its rows were held to.
    if let (Some(c), Some(q)) = (&generated.constraints, quality_json.as_object_mut()) {
        q.insert(
            "constraints".into(),
            serde_json::json!({"given": req.constraints, "report": c}),
        );
    }
    if let (Some(c), Some(q)) = (&generated.conditions, quality_json.as_object_mut()) {
        q.insert(
            "conditions".into(),
            serde_json::json!({"given": req.conditions, "report": c}),
        );
    }
    if let (Some(s), Some(q)) = (&designed.suggestions, quality_json.as_object_mut()) {
        q.insert(
            "suggested_constraints".into(),
            serde_json::to_value(s).map_err(ApiError::internal)?,
        );
    }
    let record = DatasetRecord {
        id: id.clone(),
        name: req.name.clone(),
        origin: DatasetOrigin::Generated,
        rows: req.target_count,
        columns: column_kinds(&designed.schema),
        target: designed.schema.target.as_ref().map(|t| t.name.clone()),
        schema_source: designed.source.clone(),
        seed: Some(req.seed),
        csv_bytes: generated.files.csv_bytes,
        jsonl_bytes: generated.files.jsonl_bytes,
        parquet_bytes: Some(generated.files.parquet_bytes),
        quality: Some(quality_json.clone()),
        created_at: clock::now(),
        training_shape: Some(shared::datasets::generated_shape(
            &designed.schema,
            &generated.quality,
        )),
        images: None,
    };
    if generated.seconds > 0.0 {
        shared::http::timing::metric(
            "SyntheticRowsPerSecond",
            shared::emf::Unit::CountPerSecond,
            req.target_count as f64 / generated.seconds,
        );
    }
    let storing = Instant::now();
    datasets::store(&state, &record, &designed.schema, &generated.files).await?;
    usage::record(state.store.as_ref(), &designed.usage).await;

    let advice = recommend::derive(
        &req,
        &designed.schema,
        &designed.source,
        designed.fit.as_ref(),
        &generated.quality,
    );
    let recommendations: Vec<Recommendation> = advice
        .into_iter()
        .chain(designed.provider_advice.iter().cloned())
        .collect();

    let schema = &designed.schema;
    let quality = &generated.quality;
    let synthetic = SyntheticData {
        dataset_id: id.clone(),
        generated_samples: req.target_count,
        format: "structured".into(),
        data_format: "tabular".into(),
        constraints: generated.constraints.clone(),
        conditions: generated.conditions.clone(),
        suggested_constraints: designed.suggestions.clone(),
        sequences: None,
        quality_metrics: QualityMetrics {
            diversity_score: quality.diversity_score,
            realism_score: quality.realism_score,
            balance_ratio: quality.balance_ratio,
            method: quality.method.clone(),
            details: quality.clone(),
            privacy,
            utility,
        },
        data_schema: GeneratedSchema {
            features: schema.columns.iter().map(|c| c.name.clone()).collect(),
            target: schema.target_name().map(str::to_string),
            columns: schema.columns.clone(),
            target_spec: schema.target.clone(),
            correlations: schema.correlations.clone(),
            schema_source: designed.source.clone(),
        },
        seed: req.seed,
        balance: req.balance_label.clone(),
        download_url: format!("/v1/datasets/{id}/download?format=csv"),
        download_urls: download_urls(&id),
        preview: objects(generated.preview),
        data: req.include_data.then(|| objects(generated.rows)),
        fit_report: designed.fit.clone(),
    };
    let body = SyntheticDataResponse {
        status: "success".into(),
        provider: designed.source_provider().to_string(),
        synthetic_data: synthetic,
        recommendations: recommendations.iter().map(|r| r.text.clone()).collect(),
        recommendation_details: recommendations
            .into_iter()
            .map(|r| wire::Recommendation {
                text: r.text,
                source: r.source,
                reason: r.reason,
            })
            .collect(),
        generation_time_seconds: started.elapsed().as_secs_f64(),
        timings: Timings {
            schema_seconds,
            generation_seconds: generated.seconds,
            storage_seconds: storing.elapsed().as_secs_f64(),
            privacy_seconds,
            utility_seconds,
        },
        provider_attempts: designed.attempts,
        usage: usage::block(&designed.usage),
        cached: None,
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

impl Designed {
    /// Who produced the schema: a provider's name, or `builtin` for the project's engines
    /// (explicit and fitted schemas are the engine's work too).
    fn source_provider(&self) -> &str {
        match self.source.as_str() {
            "explicit" | "fitted" => "builtin",
            other => other,
        }
    }
}
