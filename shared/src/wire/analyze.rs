//! `POST /v1/ai/analyze`.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

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

/// A strength or weakness: the analyzer's findings carry their id, severity, detail and
/// evidence; a provider's carry only its text.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AssessmentItem {
    pub text: String,
    /// `builtin` or the provider's name.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<analysis::Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Value>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ArchitectureAssessment {
    pub strengths: Vec<String>,
    pub weaknesses: Vec<String>,
    /// The rubric's score in [0, 1] (`score_details`), never a provider's.
    pub overall_score: f64,
    pub strengths_detail: Vec<AssessmentItem>,
    pub weaknesses_detail: Vec<AssessmentItem>,
    pub score_details: analysis::Score,
    pub input_shape: Option<Vec<usize>>,
    pub num_classes: Option<usize>,
    pub layers: Vec<analysis::LayerRow>,
    pub totals: analysis::Totals,
    /// Training (Adam and SGD, batch 32) and inference (batch 1) memory in bytes:
    /// parameters, gradients, optimizer state, activations, input; null when a shape is
    /// unknown.
    pub memory: Option<analysis::memory::MemoryEstimate>,
    pub assumptions: Vec<String>,
    pub findings: Vec<analysis::Finding>,
}

/// A provider's own assessment, beside the analyzer's.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProviderAssessment {
    pub accuracy_assessment: String,
    pub convergence_quality: String,
    pub overfitting_risk: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PerformanceAssessment {
    pub accuracy_assessment: String,
    pub convergence_quality: String,
    pub overfitting_risk: String,
    /// Always `builtin`: these three are the analyzer's.
    pub source: String,
    pub details: analysis::PerformanceAnalysis,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_assessment: Option<ProviderAssessment>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OptimizationSuggestion {
    pub category: String,
    pub suggestion: String,
    pub expected_improvement: String,
    /// A cited result, "computed: …", "rule of thumb", or the provider's rationale.
    pub basis: String,
    /// The analyzer's finding this answers (builtin suggestions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Analysis {
    pub architecture_assessment: ArchitectureAssessment,
    pub performance_analysis: PerformanceAssessment,
    pub optimization_suggestions: Vec<OptimizationSuggestion>,
}

/// `200` of `POST /v1/ai/analyze`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AnalyzeResponse {
    pub status: String,
    pub provider: String,
    pub analysis: Analysis,
    pub analysis_time_seconds: f64,
    pub provider_attempts: Vec<crate::orchestrator::Attempt>,
    pub usage: UsageBlock,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<CacheHit>,
}
