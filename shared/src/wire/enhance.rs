//! `POST /v1/ai/enhance`.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::*;

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnhancementScope {
    Architecture,
    Training,
    Data,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceConstraints {
    /// A latency such as `100ms` or `0.1s`.
    pub max_inference_latency: Option<Value>,
    /// A size such as `500MB` or `1.5GB`.
    pub max_model_size: Option<Value>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnhanceConfig {
    /// Default `accuracy`.
    #[schemars(length(min = 1, max = 100))]
    pub optimization_focus: Option<String>,
    pub performance_constraints: Option<PerformanceConstraints>,
    /// Default: all three.
    #[schemars(length(min = 1))]
    pub enhancement_scope: Option<Vec<EnhancementScope>>,
}

/// `POST /v1/ai/enhance`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnhanceRequest {
    #[schemars(length(min = 1, max = 5000))]
    pub model_description: String,
    #[schemars(length(min = 1, max = 5000))]
    pub training_data: Option<String>,
    pub performance_metrics: Option<Object>,
    pub architecture: Option<Object>,
    pub config: Option<EnhanceConfig>,
    pub providers: Option<Vec<Provider>>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EnhancementSummary {
    pub providers_used: Vec<String>,
    pub total_processing_time: f64,
    pub confidence_score: f64,
    pub confidence_basis: String,
    pub parts_timed_out: Vec<String>,
    pub optimization_focus: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Enhancements {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthetic_data: Option<Object>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture_optimization: Option<Object>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub research_insights: Option<Object>,
}

/// `200` of `POST /v1/ai/enhance`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EnhanceResponse {
    /// `success`, or `partial` when a part's provider timed out.
    pub status: String,
    pub enhancement_summary: EnhancementSummary,
    pub enhancements: Enhancements,
    pub implementation_roadmap: Vec<Object>,
    /// Checks of `config.performance_constraints`, one per constraint given.
    pub constraints: Vec<Object>,
    pub provider_attempts: Object,
    pub usage: UsageBlock,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<CacheHit>,
}
