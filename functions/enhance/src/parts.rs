//! The three parts of an enhancement, each answered by the builtin engines first and then
//! by its provider: `synthetic_data` (augmentation plan), `architecture_optimization`,
//! `research_insights`. Provider answers are typed and checked; builtin answers say
//! `builtin` (computed) or `builtin_curated` (a sourced table).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared::orchestrator::{Answer, Attempt, Usage};

use crate::curated;
use crate::request::EnhanceRequest;

/// Share of the training set generated as augmentation when its size is known: 30 %, the
/// middle of the 20-50 % range augmentation studies commonly add (e.g. Wei & Zou 2019 use
/// 16-32 augmented sentences per original on small sets; on 50K+ sets they recommend fewer).
pub const AUGMENT_SHARE: f64 = 0.3;
/// Samples planned when the training set's size is unknown.
pub const DEFAULT_AUGMENT_SAMPLES: u64 = 10_000;
/// Tabular rows generated inline by `enhance` at most (more through /v1/ai/synthetic-data).
pub const MAX_ENHANCE_ROWS: u64 = 100_000;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AugmentationAdvice {
    /// Augmentation strategies for this data type, most useful first.
    pub strategies: Vec<String>,
    /// How many synthetic or augmented samples to add.
    pub recommended_samples: u64,
    pub rationale: String,
}

impl Answer for AugmentationAdvice {
    const NAME: &'static str = "augmentation_plan";
    fn check(&self) -> Result<(), String> {
        if self.strategies.is_empty() || self.strategies.len() > 10 {
            return Err("1 to 10 strategies".into());
        }
        if self.recommended_samples > 10_000_000 {
            return Err("recommended_samples above 10,000,000".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ArchitectureRecommendation {
    pub component: String,
    pub modification: String,
    pub rationale: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ExpectedImprovement {
    /// accuracy, f1_score, latency, model_size, ...
    pub metric: String,
    /// The expected change, e.g. "+0.03" or "-20% latency".
    pub change: String,
    pub basis: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ArchitectureAdvice {
    pub recommendations: Vec<ArchitectureRecommendation>,
    pub expected_improvements: Vec<ExpectedImprovement>,
}

impl Answer for ArchitectureAdvice {
    const NAME: &'static str = "architecture_advice";
    fn check(&self) -> Result<(), String> {
        if self.recommendations.is_empty() || self.recommendations.len() > 10 {
            return Err("1 to 10 recommendations".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ResearchAdvice {
    pub latest_techniques: Vec<String>,
    /// Best published accuracy for this task and dataset, if one applies (0-1).
    pub sota_accuracy: Option<f64>,
    /// Typical accuracy of production systems for this task, if known (0-1).
    pub industry_average: Option<f64>,
    pub notes: String,
}

impl Answer for ResearchAdvice {
    const NAME: &'static str = "research_insights";
    fn check(&self) -> Result<(), String> {
        let ok = |v: Option<f64>| v.is_none_or(|x| (0.0..=1.0).contains(&x));
        if !ok(self.sota_accuracy) || !ok(self.industry_average) {
            return Err("accuracies must be within [0, 1]".into());
        }
        if self.latest_techniques.is_empty() || self.latest_techniques.len() > 10 {
            return Err("1 to 10 techniques".into());
        }
        Ok(())
    }
}

/// One part's answer and how it was reached.
#[derive(Debug, Clone)]
pub struct PartOutput {
    pub body: Value,
    /// The provider that answered, if one did.
    pub provider: Option<String>,
    pub attempts: Vec<Attempt>,
    pub usage: Vec<Usage>,
    /// Whether the builtin part had computed facts behind it (not only a curated table).
    pub computed: bool,
}

impl PartOutput {
    /// The part's confidence, documented in the README:
    /// provider answer on computed facts 1.0; provider answer alone 0.75;
    /// builtin computed facts alone 0.5; a curated table alone 0.25.
    pub fn confidence(&self) -> f64 {
        match (self.provider.is_some(), self.computed) {
            (true, true) => 1.0,
            (true, false) => 0.75,
            (false, true) => 0.5,
            (false, false) => 0.25,
        }
    }
}

pub fn planned_samples(req: &EnhanceRequest) -> u64 {
    req.samples.map_or(DEFAULT_AUGMENT_SAMPLES, |n| {
        (n as f64 * AUGMENT_SHARE).round() as u64
    })
}

/// The builtin augmentation plan; a tabular dataset id and quality are added by the caller.
pub fn builtin_synthetic(req: &EnhanceRequest) -> Value {
    let strategies = curated::augmentation(req.data_kind);
    json!({
        "provider": "builtin_curated",
        "status": "builtin",
        "data_type": req.data_kind.name(),
        "generated_samples": planned_samples(req),
        "samples_basis": match req.samples {
            Some(n) => format!("{:.0} % of the {n} training samples", AUGMENT_SHARE * 100.0),
            None => format!("{DEFAULT_AUGMENT_SAMPLES} (training set size not given)"),
        },
        "quality_score": Value::Null,
        "augmentation_strategies": strategies.iter().map(|s| s.name).collect::<Vec<_>>(),
        "strategy_sources": strategies.iter().map(|s| json!({"strategy": s.name, "source": s.source})).collect::<Vec<_>>(),
    })
}

pub fn merge_synthetic(mut body: Value, advice: &AugmentationAdvice, provider: &str) -> Value {
    let mut strategies: Vec<Value> = advice.strategies.iter().map(|s| json!(s)).collect();
    for s in body["augmentation_strategies"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        if !strategies.contains(&s) {
            strategies.push(s);
        }
    }
    body["provider"] = json!(provider);
    body["status"] = json!("completed");
    body["augmentation_strategies"] = json!(strategies);
    body["provider_recommended_samples"] = json!(advice.recommended_samples);
    body["provider_rationale"] = json!(advice.rationale);
    body
}

/// Builtin architecture advice: the analyzer's suggestions when layers were given, else a
/// curated table for the model family.
pub fn builtin_architecture(
    req: &EnhanceRequest,
    facts: Option<&analysis::Analysis>,
) -> (Value, bool) {
    if let Some(facts) = facts.filter(|f| !f.layers.is_empty()) {
        let recs: Vec<Value> = facts
            .suggestions
            .iter()
            .map(|s| {
                json!({
                    "component": s.category,
                    "modification": s.suggestion,
                    "rationale": s.basis,
                    "expected_improvement": s.expected_improvement,
                    "source": "builtin",
                })
            })
            .collect();
        return (
            json!({
                "provider": "builtin",
                "status": "builtin",
                "recommendations": recs,
                "expected_improvements": {},
                "analysis": {"totals": facts.totals, "findings": facts.findings, "score": facts.score},
            }),
            true,
        );
    }
    let recs: Vec<Value> = curated::architecture(&req.model_description)
        .iter()
        .map(|(component, modification, rationale)| {
            json!({"component": component, "modification": modification, "rationale": rationale, "source": "builtin_curated"})
        })
        .collect();
    (
        json!({
            "provider": "builtin_curated",
            "status": "builtin",
            "recommendations": recs,
            "expected_improvements": {},
        }),
        false,
    )
}

pub fn merge_architecture(mut body: Value, advice: &ArchitectureAdvice, provider: &str) -> Value {
    let mut recs: Vec<Value> = advice
        .recommendations
        .iter()
        .map(|r| json!({"component": r.component, "modification": r.modification, "rationale": r.rationale, "source": provider}))
        .collect();
    recs.extend(
        body["recommendations"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    let improvements: serde_json::Map<String, Value> = advice
        .expected_improvements
        .iter()
        .map(|e| (e.metric.clone(), json!(e.change)))
        .collect();
    body["provider"] = json!(provider);
    body["status"] = json!("completed");
    body["recommendations"] = json!(recs);
    body["expected_improvements"] = Value::Object(improvements);
    body["expected_improvements_basis"] = json!(advice
        .expected_improvements
        .iter()
        .map(|e| json!({"metric": e.metric, "basis": e.basis, "source": provider}))
        .collect::<Vec<_>>());
    body
}

/// Where the measured accuracy stands against a reference result for the dataset.
pub fn improvement_potential(accuracy: Option<f64>, sota: Option<f64>) -> Value {
    match (accuracy, sota) {
        (Some(a), Some(s)) => {
            let gap = s - a;
            // Thresholds: over 10 points below the best result is high; 3-10 medium.
            let level = if gap > 0.10 {
                "High"
            } else if gap > 0.03 {
                "Medium"
            } else {
                "Low"
            };
            json!(level)
        }
        _ => Value::Null,
    }
}

pub fn builtin_research(
    req: &EnhanceRequest,
    reference: Option<(f64, String)>,
    accuracy: Option<f64>,
) -> (Value, bool) {
    let techniques = curated::techniques(req.data_kind);
    let computed = reference.is_some();
    (
        json!({
            "provider": "builtin_curated",
            "status": "builtin",
            "latest_techniques": techniques.iter().map(|t| t.name).collect::<Vec<_>>(),
            "technique_sources": techniques.iter().map(|t| json!({"technique": t.name, "source": t.source})).collect::<Vec<_>>(),
            "benchmarking_data": {
                "sota_accuracy": reference.as_ref().map(|r| r.0),
                "sota_source": reference.as_ref().map(|r| r.1.clone()),
                "industry_average": Value::Null,
                "current_accuracy": accuracy,
                "improvement_potential": improvement_potential(accuracy, reference.as_ref().map(|r| r.0)),
            },
            "citations": [],
        }),
        computed,
    )
}

pub fn merge_research(
    mut body: Value,
    advice: &ResearchAdvice,
    provider: &str,
    citations: &[shared::providers::Citation],
    accuracy: Option<f64>,
) -> Value {
    let mut techniques: Vec<Value> = advice.latest_techniques.iter().map(|t| json!(t)).collect();
    techniques.extend(
        body["latest_techniques"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    body["provider"] = json!(provider);
    body["status"] = json!("completed");
    body["latest_techniques"] = json!(techniques);
    body["notes"] = json!(advice.notes);
    body["citations"] = json!(citations);
    let bench = &mut body["benchmarking_data"];
    // A computed reference stays; the provider's figures are added beside it, attributed.
    if bench["sota_accuracy"].is_null() {
        bench["sota_accuracy"] = json!(advice.sota_accuracy);
        bench["sota_source"] = json!(format!("{provider} (see citations)"));
        bench["improvement_potential"] = improvement_potential(accuracy, advice.sota_accuracy);
    } else {
        bench["provider_sota_accuracy"] = json!(advice.sota_accuracy);
    }
    bench["industry_average"] = json!(advice.industry_average);
    bench["industry_average_source"] = json!(advice.industry_average.map(|_| provider));
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_table() {
        let p = |provider: bool, computed: bool| PartOutput {
            body: Value::Null,
            provider: provider.then(|| "openai".to_string()),
            attempts: vec![],
            usage: vec![],
            computed,
        };
        assert_eq!(p(true, true).confidence(), 1.0);
        assert_eq!(p(true, false).confidence(), 0.75);
        assert_eq!(p(false, true).confidence(), 0.5);
        assert_eq!(p(false, false).confidence(), 0.25);
    }

    #[test]
    fn potential_thresholds() {
        assert_eq!(
            improvement_potential(Some(0.823), Some(0.934)),
            json!("High")
        );
        assert_eq!(
            improvement_potential(Some(0.90), Some(0.934)),
            json!("Medium")
        );
        assert_eq!(improvement_potential(Some(0.93), Some(0.934)), json!("Low"));
        assert_eq!(improvement_potential(None, Some(0.9)), Value::Null);
    }

    #[test]
    fn a_research_provider_never_replaces_a_computed_reference() {
        let req = crate::request::EnhanceRequest::parse(
            &json!({"model_description": "CNN on CIFAR-10 images"}),
        )
        .unwrap();
        let (body, computed) =
            builtin_research(&req, Some((0.9357, "He et al. 2015".into())), Some(0.85));
        assert!(computed);
        let advice = ResearchAdvice {
            latest_techniques: vec!["x".into()],
            sota_accuracy: Some(0.99),
            industry_average: Some(0.9),
            notes: String::new(),
        };
        let merged = merge_research(body, &advice, "perplexity", &[], Some(0.85));
        assert_eq!(merged["benchmarking_data"]["sota_accuracy"], 0.9357);
        assert_eq!(merged["benchmarking_data"]["provider_sota_accuracy"], 0.99);
        assert_eq!(
            merged["benchmarking_data"]["industry_average_source"],
            "perplexity"
        );
    }
}
