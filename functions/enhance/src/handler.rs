//! `POST /v1/ai/enhance`: builtin facts first, then the three parts' providers concurrently
//! under one deadline; whatever finished is merged, the rest answered by the builtin part.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use analysis::{self, Analysis, AnalysisInput};
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use shared::datasets::{self, Plan};
use shared::http::JsonBody;
use shared::orchestrator::{fan_out, Answer, Answered, Ask, Source, Unanswered};
use shared::providers::Prompt;
use shared::records::{DatasetOrigin, DatasetRecord};
use shared::wire::{objects, EnhanceResponse, EnhancementSummary, Enhancements};
use shared::{clock, ids, usage, ApiError, ApiResult, AppState};
use synth::{self, Balance};

use crate::parts::{self, PartOutput};
use crate::request::{DataKind, EnhanceRequest};
use crate::roadmap;

type Part<'a> = Pin<Box<dyn Future<Output = PartOutput> + Send + 'a>>;

/// Provider calls end this long before the parts' deadline, so each part can still merge
/// its answer and return before the fan-out stops waiting.
const MERGE_MARGIN: Duration = Duration::from_millis(200);

fn context(req: &EnhanceRequest, facts: &Analysis) -> String {
    format!(
        "Model: {}\nTraining data: {}\nMetrics: {}\nOptimization focus: {}\nConstraints: max latency {} ms, max size {} MB\nComputed facts: {}",
        req.model_description,
        req.training_data.as_deref().unwrap_or("(not given)"),
        req.performance_metrics.as_ref().map_or("(none)".into(), Value::to_string),
        req.optimization_focus,
        req.max_latency_ms.map_or("(none)".into(), |v| v.to_string()),
        req.max_size_mb.map_or("(none)".into(), |v| v.to_string()),
        json!({"totals": facts.totals, "findings": facts.findings, "performance": facts.performance}),
    )
}

fn prompt(system: &str, req: &EnhanceRequest, facts: &Analysis) -> Prompt {
    Prompt {
        system: system.to_string(),
        user: context(req, facts),
        max_tokens: 2048,
    }
}

/// The analyzer's reference result for the recognized dataset, with its source.
pub fn reference_accuracy(facts: &Analysis) -> Option<(f64, String)> {
    let best = &facts.performance.reference.as_ref()?.best;
    Some((best.accuracy, format!("{} ({})", best.model, best.source)))
}

async fn asked<T: Answer>(
    state: &AppState,
    capability: &'static str,
    prompt: Prompt,
    deadline: tokio::time::Instant,
    req: &EnhanceRequest,
) -> Result<shared::orchestrator::Answered<T>, Unanswered> {
    state
        .ai
        .ask::<T>(Ask {
            capability,
            prompt,
            deadline: deadline.checked_sub(MERGE_MARGIN).unwrap_or(deadline),
            only: req.providers.clone(),
        })
        .await
}

fn provider_of(source: &Source) -> Option<String> {
    match source {
        Source::Provider { provider, .. } => Some(provider.name().to_string()),
        Source::Builtin => None,
    }
}

/// A part's output: the builtin body, merged with the provider's answer when one came.
fn part_output<T>(
    answer: Result<Answered<T>, Unanswered>,
    base: Value,
    computed: bool,
    merge: impl FnOnce(Value, &Answered<T>, &str) -> Value,
) -> PartOutput {
    match answer {
        Ok(a) => {
            let provider = provider_of(&a.source);
            let body = match &provider {
                Some(p) => merge(base, &a, p),
                None => base,
            };
            PartOutput {
                body,
                provider,
                attempts: a.attempts,
                usage: a.usage,
                computed,
            }
        }
        Err(f) => PartOutput {
            body: base,
            provider: None,
            attempts: f.attempts,
            usage: f.usage,
            computed,
        },
    }
}

fn fallback(body: &Value, computed: bool) -> PartOutput {
    PartOutput {
        body: body.clone(),
        provider: None,
        attempts: vec![],
        usage: vec![],
        computed,
    }
}

/// Generates a tabular augmentation set with the builtin designer and stores it.
async fn tabular_dataset(state: &AppState, req: &EnhanceRequest) -> ApiResult<(String, u64, f64)> {
    let schema = synth::design(&req.model_description, req.training_data.as_deref());
    let count = parts::planned_samples(req).clamp(1, parts::MAX_ENHANCE_ROWS);
    let id = ids::new_dataset_id();
    // A fresh seed per plan; it is stored on the dataset record, so the set can be remade.
    let seed = u64::from(rand::random::<u32>());
    let dir = state.config.scratch_dir.join("mlaas-enhance");
    let generated = {
        let (schema, id) = (schema.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            let plan = Plan {
                schema: &schema,
                seed,
                balance: Balance::Natural,
                count,
                keep_rows: false,
                reference: None,
                compare_rows: 0,
                constraints: &[],
                conditions: &[],
            };
            datasets::generate(&plan, &dir, &id)
        })
        .await
        .map_err(ApiError::internal)??
    };
    let realism = generated.quality.realism_score;
    let record = DatasetRecord {
        id: id.clone(),
        name: Some(format!(
            "augmentation for: {}",
            req.model_description.chars().take(80).collect::<String>()
        )),
        origin: DatasetOrigin::Generated,
        rows: count,
        columns: datasets::column_kinds(&schema),
        target: schema.target.as_ref().map(|t| t.name.clone()),
        schema_source: "builtin".into(),
        seed: Some(seed),
        csv_bytes: generated.files.csv_bytes,
        jsonl_bytes: generated.files.jsonl_bytes,
        parquet_bytes: Some(generated.files.parquet_bytes),
        quality: serde_json::to_value(&generated.quality).ok(),
        created_at: clock::now(),
        training_shape: Some(datasets::generated_shape(&schema, &generated.quality)),
        images: None,
    };
    datasets::store(state, &record, &schema, &generated.files).await?;
    Ok((id, count, realism))
}

fn constraints(req: &EnhanceRequest, facts: &Analysis) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(limit) = req.max_size_mb {
        let params = facts.totals.params.map(|p| p as f64).filter(|p| *p > 0.0);
        out.push(match params {
            Some(p) => {
                let mb = p * 4.0 / 1e6;
                json!({"constraint": "max_model_size", "limit_mb": limit, "computed_mb": mb,
                       "within": mb <= limit, "basis": "parameters × 4 bytes (fp32 weights)"})
            }
            None => json!({"constraint": "max_model_size", "limit_mb": limit, "computed_mb": null, "within": null,
                           "note": "give architecture.layers to compute the model size"}),
        });
    }
    if let Some(limit) = req.max_latency_ms {
        let measured = req
            .performance_metrics
            .as_ref()
            .and_then(|m| m.get("inference_latency"))
            .and_then(crate::request::parse_latency_ms);
        out.push(match measured {
            Some(ms) => json!({"constraint": "max_inference_latency", "limit_ms": limit, "measured_ms": ms,
                               "within": ms <= limit, "basis": "performance_metrics.inference_latency"}),
            None => json!({"constraint": "max_inference_latency", "limit_ms": limit, "measured_ms": null, "within": null,
                           "note": "latency depends on hardware; report performance_metrics.inference_latency to check it"}),
        });
    }
    out
}

pub async fn enhance(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<EnhanceResponse>> {
    let started = Instant::now();
    let req = EnhanceRequest::parse(&body)?;
    if let Some(named) = &req.providers {
        state.ai.require_configured(named)?;
    }
    let deadline = state.ai.deadline();
    let analysis = analysis::analyze(&AnalysisInput {
        model_description: Some(req.model_description.clone()),
        architecture: req.architecture.clone(),
        data_sample: req.training_data.clone(),
        performance_metrics: req.performance_metrics.clone(),
    })
    .map_err(|e| match e {
        analysis::AnalysisError::Invalid { field, message } => ApiError::validation(
            field.clone(),
            Value::Null,
            "see message",
            format!("{field}: {message}"),
        ),
        #[allow(unreachable_patterns)]
        other => ApiError::validation(
            "architecture",
            Value::Null,
            "see message",
            other.to_string(),
        ),
    })?;
    let facts = analysis;
    // The analyzer's reading of the reported accuracy (held-out first), so both routes
    // read "0.5%" alike.
    let accuracy = facts.performance.held_out_accuracy().map(|(a, _)| a);
    let reference = reference_accuracy(&facts);

    let (mut names, mut fallbacks, mut futures): (Vec<&str>, Vec<PartOutput>, Vec<Part<'_>>) =
        (Vec::new(), Vec::new(), Vec::new());
    let (state_ref, req_ref, facts_ref) = (&state, &req, &facts);

    if req.wants("data") {
        let base = parts::builtin_synthetic(&req);
        let computed = req.samples.is_some() || req.data_kind == DataKind::Tabular;
        names.push("synthetic_data");
        fallbacks.push(fallback(&base, computed));
        futures.push(Box::pin(async move {
            let ask = asked::<parts::AugmentationAdvice>(
                state_ref,
                "synthetic_data",
                prompt("You plan data augmentation for training a model. Recommend augmentation strategies for this data type, how many samples to add, and why.", req_ref, facts_ref),
                deadline,
                req_ref,
            );
            let tabular = async {
                if req_ref.data_kind == DataKind::Tabular {
                    Some(tabular_dataset(state_ref, req_ref).await)
                } else {
                    None
                }
            };
            let (answer, dataset) = tokio::join!(ask, tabular);
            let mut body = base;
            match dataset {
                Some(Ok((id, count, realism))) => {
                    body["dataset_id"] = json!(id);
                    body["generated_samples"] = json!(count);
                    body["quality_score"] = json!(realism);
                    body["quality_score_basis"] = json!("realism_score of the generated set (fidelity to its schema)");
                    body["download_urls"] = json!(datasets::download_urls(&id));
                }
                Some(Err(e)) => tracing::error!(error = %e, "augmentation dataset not generated"),
                None => {
                    body["note"] = json!("no generator for this data type yet: a plan only");
                }
            }
            part_output(answer, body, computed, |b, a, p| parts::merge_synthetic(b, &a.value, p))
        }));
    }

    if req.wants("architecture") {
        let has_layers = req.architecture.is_some();
        let (base, computed) = parts::builtin_architecture(&req, has_layers.then_some(&facts));
        names.push("architecture_optimization");
        fallbacks.push(fallback(&base, computed));
        futures.push(Box::pin(async move {
            let answer = asked::<parts::ArchitectureAdvice>(
                state_ref,
                "architecture_review",
                prompt("You review model architectures. Recommend concrete architecture changes (component, modification, rationale) that serve the optimization focus within the constraints, and the improvements to expect with their basis. Treat the computed facts as correct.", req_ref, facts_ref),
                deadline,
                req_ref,
            )
            .await;
            part_output(answer, base, computed, |b, a, p| parts::merge_architecture(b, &a.value, p))
        }));
    }

    if req.wants("training") {
        let (base, computed) = parts::builtin_research(&req, reference.clone(), accuracy);
        names.push("research_insights");
        fallbacks.push(fallback(&base, computed));
        futures.push(Box::pin(async move {
            let answer = asked::<parts::ResearchAdvice>(
                state_ref,
                "research",
                prompt("You research the current state of the art. List the latest training techniques that apply to this model and data, the best published accuracy for this task and dataset, and the typical accuracy of production systems, with sources.", req_ref, facts_ref),
                deadline,
                req_ref,
            )
            .await;
            part_output(answer, base, computed, |b, a, p| {
                parts::merge_research(b, &a.value, p, &a.citations, accuracy)
            })
        }));
    }

    let outcomes = fan_out(deadline, futures).await;
    let mut enhancements = serde_json::Map::new();
    let (mut providers_used, mut attempts, mut used, mut confidence, mut timed_out) = (
        Vec::<String>::new(),
        serde_json::Map::new(),
        Vec::new(),
        0.0,
        Vec::new(),
    );
    for ((name, outcome), fallback) in names.iter().zip(outcomes).zip(fallbacks) {
        let part = match outcome.done() {
            Some(part) => part,
            None => {
                timed_out.push(*name);
                let mut body = fallback.body.clone();
                body["status"] = json!("provider_timed_out");
                PartOutput { body, ..fallback }
            }
        };
        if let Some(p) = &part.provider {
            if !providers_used.contains(p) {
                providers_used.push(p.clone());
            }
        }
        confidence += part.confidence();
        attempts.insert(name.to_string(), json!(part.attempts));
        used.extend(part.usage.clone());
        enhancements.insert(name.to_string(), part.body);
    }
    let confidence = if names.is_empty() {
        0.0
    } else {
        confidence / names.len() as f64
    };
    usage::record(state.store.as_ref(), &used).await;
    let roadmap = roadmap::derive(&Value::Object(enhancements.clone()));
    let part = |name: &str| enhancements.get(name).and_then(Value::as_object).cloned();
    Ok(Json(EnhanceResponse {
        status: if timed_out.is_empty() { "success" } else { "partial" }.into(),
        enhancement_summary: EnhancementSummary {
            providers_used,
            total_processing_time: started.elapsed().as_secs_f64(),
            confidence_score: confidence,
            confidence_basis: "mean over requested parts: provider answer on computed facts 1.0, provider answer alone 0.75, computed builtin facts alone 0.5, curated table alone 0.25".into(),
            parts_timed_out: timed_out.iter().map(|s| s.to_string()).collect(),
            optimization_focus: req.optimization_focus.clone(),
        },
        enhancements: Enhancements {
            synthetic_data: part("synthetic_data"),
            architecture_optimization: part("architecture_optimization"),
            research_insights: part("research_insights"),
        },
        implementation_roadmap: objects(roadmap),
        constraints: objects(constraints(&req, &facts)),
        provider_attempts: attempts,
        usage: usage::block(&used),
        cached: None,
    }))
}
