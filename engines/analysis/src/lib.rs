//! The builtin model analyzer (pure): layer parsing, shapes, parameters, MACs, findings,
//! performance analysis, score.
//!
//! It computes the facts a provider review of `POST /v1/ai/analyze` is grounded in, so every
//! number here comes from the request by a documented formula or from a cited reference table;
//! nothing is hard-coded per model. No I/O, no async, no HTTP types.
//!
//! The pipeline, one module per step:
//! 1. `layers` parses `architecture` (types, aliases, parameters; errors name the field);
//! 2. `input` resolves what the request says about the data: input shape, classes, sample
//!    count, recognized dataset;
//! 3. `shapes` propagates shapes and counts parameters and MACs by PyTorch/torchinfo
//!    conventions, recording structural events (collapse, mismatches) on the way;
//! 4. `performance` parses `performance_metrics` and compares with a cited reference table;
//! 5. `findings` turns the facts into findings and strengths;
//! 6. `score` and `suggestions` follow from the findings.

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod findings;
pub mod footprint;
mod input;
mod layers;
pub mod memory;
pub mod network;
mod performance;
pub mod presets;
mod score;
mod shapes;
pub mod spec;
mod suggestions;
mod text;

#[doc(hidden)]
pub mod fixtures;

#[cfg(test)]
mod tests;

pub use layers::LayerKind;
pub use performance::{
    ComputeFacts, Convergence, GeneralizationGap, ParsedMetrics, PerformanceAnalysis,
    ReferenceComparison, ReferenceResult,
};

/// A JSON value's type as a request's error names it (`shared::validate` uses it too).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// What `POST /v1/ai/analyze` says about the model; every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AnalysisInput {
    pub model_description: Option<String>,
    pub architecture: Option<Value>,
    pub data_sample: Option<String>,
    pub performance_metrics: Option<Value>,
}

/// A request the analyzer cannot make sense of; `field` is a path such as
/// `architecture.layers[3].kernel_size`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl AnalysisError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AnalysisError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The path of the offending field.
    pub fn field(&self) -> &str {
        match self {
            AnalysisError::Invalid { field, .. } => field,
        }
    }
}

/// Ordered most severe first, so sorting findings puts what matters on top.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    /// Weight in the design-hygiene score component (see `score`): info findings are
    /// observations, not defects, so they cost nothing.
    pub fn weight(self) -> f64 {
        match self {
            Severity::High => 3.0,
            Severity::Medium => 2.0,
            Severity::Low => 1.0,
            Severity::Info => 0.0,
        }
    }
}

/// One computed observation; `evidence` holds the numbers behind it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    pub evidence: Value,
}

/// One layer of `architecture.layers` after shape propagation.
///
/// `params`/`macs` are `None` when they depend on a dimension that is not known (for
/// example the first dense layer when the input shape is unknown).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LayerRow {
    pub index: usize,
    /// The type as written in the request.
    #[serde(rename = "type")]
    pub type_written: String,
    pub kind: LayerKind,
    /// Output shape without the batch dimension (HWC for images, `[seq, d]` for sequences).
    pub output_shape: Option<Vec<usize>>,
    /// The dimensions that are known when the full shape is not (`null` marks unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_shape_partial: Option<Vec<Option<usize>>>,
    pub params: Option<u64>,
    /// Bias-free multiply-accumulates: `torch.utils.flop_counter` FLOPs / 2 (see `shapes`).
    pub macs: Option<u64>,
    /// torchinfo's mult-adds for the layer (see `shapes`).
    pub torchinfo_mult_adds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<String>,
    pub notes: Vec<String>,
}

/// Whole-model counts.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Totals {
    /// Parameters as torchinfo counts them (`None` if any layer's count is unknown).
    pub params: Option<u64>,
    /// Every counted parameter is trainable (batch-norm running statistics are buffers,
    /// reported in `non_trainable_buffers`), so this equals `params`.
    pub trainable_params: Option<u64>,
    /// Batch-norm running mean and variance (2·C per layer): saved with the model but not
    /// parameters; Keras adds them to its "Total params".
    pub non_trainable_buffers: u64,
    /// Sum of the layers whose count is known.
    pub known_params: u64,
    pub layers_with_unknown_params: Vec<usize>,
    /// Bias-free multiply-accumulates for one sample, `torch.utils.flop_counter`'s FLOPs / 2
    /// (`None` if any layer's count is unknown).
    pub macs: Option<u64>,
    /// torchinfo's `total_mult_adds` for a batch of one.
    pub torchinfo_mult_adds: Option<u64>,
    /// `params × 4 bytes / 10^6` (decimal megabytes, float32 weights, buffers excluded).
    pub model_size_mb_fp32: Option<f64>,
    /// Layers with learned weight matrices: conv, dense, output, LSTM, GRU, attention,
    /// transformer block (embeddings are lookups and normalization layers are affine).
    pub weight_layers: usize,
}

/// One term of the score rubric.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScoreComponent {
    pub name: String,
    /// Nominal weight in the rubric (the weights sum to 1).
    pub weight: f64,
    /// Weight after renormalizing over the components that apply (0 when it does not).
    pub applied_weight: f64,
    /// In [0, 1]; `None` when the component does not apply to this request.
    pub value: Option<f64>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Score {
    /// In [0, 1].
    pub overall: f64,
    /// Sum of the nominal weights of the components that applied: how much of the rubric
    /// this request could be scored on.
    pub coverage: f64,
    pub components: Vec<ScoreComponent>,
    pub rubric: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Suggestion {
    pub category: String,
    pub suggestion: String,
    pub expected_improvement: String,
    /// Where the estimate comes from: a cited result, "computed: …", or "rule of thumb".
    pub basis: String,
    pub finding_id: String,
}

/// Everything the analyzer computed for one request.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Analysis {
    pub input_shape: Option<Vec<usize>>,
    /// "architecture.input_shape" | "architecture.layers[0].input_shape" | "data_sample" |
    /// "model_description" | "unknown".
    pub input_shape_source: String,
    pub num_classes: Option<usize>,
    pub num_classes_source: String,
    /// Recognized dataset name (CIFAR-10, MNIST, …).
    pub dataset: Option<String>,
    pub training_samples: Option<u64>,
    pub training_samples_source: String,
    /// "classification" | "regression" | "unknown".
    pub task: String,
    pub layers: Vec<LayerRow>,
    pub totals: Totals,
    /// Training and inference memory (`None` when a shape or count is unknown).
    pub memory: Option<memory::MemoryEstimate>,
    pub assumptions: Vec<String>,
    pub findings: Vec<Finding>,
    pub strengths: Vec<Finding>,
    pub performance: PerformanceAnalysis,
    pub score: Score,
    pub suggestions: Vec<Suggestion>,
}

/// The memory breakdown when every layer's output shape and the parameter count are known.
fn memory_of(
    input_shape: Option<&[usize]>,
    rows: &[LayerRow],
    params: Option<u64>,
) -> Option<memory::MemoryEstimate> {
    let product = |dims: &[usize]| {
        dims.iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
    };
    let input = product(input_shape?)?;
    let mut activations = 0u64;
    for row in rows {
        activations = activations.checked_add(product(row.output_shape.as_deref()?)?)?;
    }
    memory::estimate(params?, activations, input)
}

/// Analyzes one request. Errors name the first field that cannot be read.
pub fn analyze(input: &AnalysisInput) -> Result<Analysis, AnalysisError> {
    let mut assumptions = Vec::new();
    let arch = layers::parse(input.architecture.as_ref())?;
    let ctx = input::resolve(input, &arch, &mut assumptions)?;
    let prop = shapes::propagate(&arch, &ctx, &mut assumptions)?;
    let perf = performance::analyze(
        input.performance_metrics.as_ref(),
        &ctx,
        &prop,
        &mut assumptions,
    )?;
    let eval = findings::evaluate(&ctx, &arch, &prop, &perf);
    let score = score::compute(&eval.outcomes, eval.regularized, &ctx, &prop, &perf);
    let suggestions = suggestions::build(&eval.findings, &ctx, &prop, &perf);
    Ok(Analysis {
        input_shape: ctx.input_shape.clone(),
        input_shape_source: ctx.input_shape_source.clone(),
        num_classes: ctx.num_classes,
        num_classes_source: ctx.num_classes_source.clone(),
        dataset: ctx.dataset.map(|d| d.name.to_string()),
        training_samples: ctx.samples,
        training_samples_source: ctx.samples_source.clone(),
        task: ctx.task.as_str().to_string(),
        memory: memory_of(ctx.input_shape.as_deref(), &prop.rows, prop.totals.params),
        layers: prop.rows,
        totals: prop.totals,
        assumptions,
        findings: eval.findings,
        strengths: eval.strengths,
        performance: perf,
        score,
        suggestions,
    })
}
