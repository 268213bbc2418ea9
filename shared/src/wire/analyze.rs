//! `POST /v1/ai/analyze`.

use schemars::JsonSchema;
use serde::Serialize;
#[allow(unused_imports)]
use serde_json::Value;

#[allow(unused_imports)]
use super::*;

/// `POST /v1/ai/analyze`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeRequest {
    #[schemars(length(min = 1, max = 5000))]
    pub model_description: String,
    /// `{"layers": [{"type": "conv2d", ...}], "input_shape": [...]}`.
    pub architecture: Option<Object>,
    #[schemars(length(min = 1, max = 5000))]
    pub data_sample: Option<String>,
    pub performance_metrics: Option<Object>,
    pub providers: Option<Vec<Provider>>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ArchitectureAssessment {
    pub strengths: Vec<String>,
    pub weaknesses: Vec<String>,
    pub overall_score: Option<f64>,
    pub strengths_detail: Vec<Object>,
    pub weaknesses_detail: Vec<Object>,
    pub score_details: Value,
    pub input_shape: Value,
    pub num_classes: Value,
    pub layers: Value,
    pub totals: Value,
    /// Training (Adam and SGD, batch 32) and inference (batch 1) memory in bytes:
    /// parameters, gradients, optimizer state, activations, input; null when a shape is
    /// unknown.
    pub memory: Value,
    pub assumptions: Value,
    pub findings: Value,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Analysis {
    pub architecture_assessment: ArchitectureAssessment,
    pub performance_analysis: Object,
    pub optimization_suggestions: Vec<Object>,
}

/// `200` of `POST /v1/ai/analyze`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AnalyzeResponse {
    pub status: String,
    pub provider: String,
    pub analysis: Analysis,
    pub analysis_time_seconds: f64,
    pub provider_attempts: Vec<Value>,
    pub usage: UsageBlock,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<CacheHit>,
}
