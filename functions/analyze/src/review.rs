//! The handler: builtin facts first, then the provider's review of them under the deadline.

use std::time::Instant;

use analysis::{self, Analysis};
use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared::http::JsonBody;
use shared::orchestrator::{Answer, Ask, Source};
use shared::providers::Prompt;
use shared::wire::AnalyzeResponse;
use shared::{usage, ApiResult, AppState};

use crate::merge;
use crate::request::AnalyzeRequest;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProviderSuggestion {
    /// architecture, regularization, data_augmentation, training, optimization, ...
    pub category: String,
    pub suggestion: String,
    pub expected_improvement: String,
    pub rationale: String,
}

/// What the `analysis` provider is asked for: a review of the computed facts.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProviderReview {
    pub strengths: Vec<String>,
    pub weaknesses: Vec<String>,
    pub suggestions: Vec<ProviderSuggestion>,
    pub accuracy_assessment: String,
    pub convergence_quality: String,
    pub overfitting_risk: String,
}

impl Answer for ProviderReview {
    const NAME: &'static str = "model_review";
    fn check(&self) -> Result<(), String> {
        if self.strengths.len() > 12 || self.weaknesses.len() > 12 || self.suggestions.len() > 12 {
            return Err("at most 12 strengths, weaknesses and suggestions each".into());
        }
        let blank = |s: &String| s.trim().is_empty();
        if self.strengths.iter().any(blank)
            || self.weaknesses.iter().any(blank)
            || self.suggestions.iter().any(|s| blank(&s.suggestion))
        {
            return Err("empty items".into());
        }
        Ok(())
    }
}

/// The facts a provider sees: what the analyzer computed, compact.
pub fn facts_for_prompt(facts: &Analysis) -> Value {
    let layers: Vec<_> = facts.layers.iter().take(60).collect();
    json!({
        "input_shape": facts.input_shape,
        "num_classes": facts.num_classes,
        "dataset": facts.dataset,
        "layers": layers,
        "totals": facts.totals,
        "findings": facts.findings,
        "performance": facts.performance,
        "assumptions": facts.assumptions,
    })
}

fn review_prompt(req: &AnalyzeRequest, facts: &Analysis) -> Prompt {
    Prompt {
        system: "You are a senior machine-learning engineer reviewing a model. The FACTS were \
                 computed by a program from the request (shapes, parameter counts, findings, \
                 reference results); treat them as correct and never state different numbers. \
                 Give strengths, weaknesses, concrete suggestions with their expected improvement \
                 and rationale, and short assessments of accuracy, convergence and overfitting risk."
            .into(),
        user: format!(
            "Model: {}\nData: {}\nReported metrics: {}\nFACTS: {}",
            req.input.model_description.as_deref().unwrap_or(""),
            req.input.data_sample.as_deref().unwrap_or("(not given)"),
            req.input
                .performance_metrics
                .as_ref()
                .map_or_else(|| "(none)".to_string(), Value::to_string),
            facts_for_prompt(facts),
        ),
        max_tokens: 2048,
    }
}

/// Runs the builtin analyzer (pure, fast) off the async threads.
pub fn builtin(req: &AnalyzeRequest) -> ApiResult<Analysis> {
    Ok(analysis::analyze(&req.input)?)
}

pub async fn analyze(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<AnalyzeResponse>> {
    let started = Instant::now();
    let req = AnalyzeRequest::parse(&body)?;
    if let Some(named) = &req.providers {
        state.ai.require_configured(named)?;
    }
    let facts = builtin(&req)?;

    let ask = Ask {
        capability: "analysis",
        prompt: review_prompt(&req, &facts),
        deadline: state.ai.deadline(),
        only: req.providers.clone(),
    };
    let (review, attempts, used) = match state.ai.ask::<ProviderReview>(ask).await {
        Ok(answered) => {
            let provider = match &answered.source {
                Source::Provider { provider, .. } => provider.name().to_string(),
                Source::Builtin => "builtin".into(),
            };
            (
                Some((answered.value, provider)),
                answered.attempts,
                answered.usage,
            )
        }
        Err(failed) => (None, failed.attempts, failed.usage),
    };
    usage::record(state.store.as_ref(), &used).await;
    let provider = review
        .as_ref()
        .map_or_else(|| "builtin".to_string(), |(_, p)| p.clone());
    let merged = merge::merge(&facts, review.as_ref().map(|(r, p)| (r, p.as_str())));
    Ok(Json(AnalyzeResponse {
        status: "success".into(),
        provider,
        analysis: merged,
        analysis_time_seconds: started.elapsed().as_secs_f64(),
        provider_attempts: attempts,
        usage: usage::block(&used),
        cached: None,
    }))
}
