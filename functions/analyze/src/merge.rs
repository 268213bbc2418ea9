//! Merging the builtin facts with a provider's review. Computed numbers (shapes, parameter
//! counts, the score, references) come only from the analyzer; the provider adds text, and
//! every item carries its `source`.

use analysis::{Finding, Severity};
use shared::wire::{
    self, ArchitectureAssessment, AssessmentItem, OptimizationSuggestion, PerformanceAssessment,
    ProviderAssessment,
};

use crate::review::ProviderReview;

const BUILTIN: &str = "builtin";

/// A finding (or strength) from the analyzer as a detail item.
fn finding_item(f: &Finding) -> AssessmentItem {
    AssessmentItem {
        text: f.title.clone(),
        source: BUILTIN.into(),
        id: Some(f.id.clone()),
        severity: Some(f.severity),
        detail: Some(f.detail.clone()),
        evidence: Some(f.evidence.clone()),
    }
}

fn provider_item(text: &str, provider: &str) -> AssessmentItem {
    AssessmentItem {
        text: text.to_string(),
        source: provider.to_string(),
        id: None,
        severity: None,
        detail: None,
        evidence: None,
    }
}

pub fn merge(
    facts: &analysis::Analysis,
    review: Option<(&ProviderReview, &str)>,
) -> wire::Analysis {
    let mut strengths_detail: Vec<AssessmentItem> =
        facts.strengths.iter().map(finding_item).collect();
    let mut weaknesses_detail: Vec<AssessmentItem> = facts
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .map(finding_item)
        .collect();
    let mut suggestions: Vec<OptimizationSuggestion> = facts
        .suggestions
        .iter()
        .map(|s| OptimizationSuggestion {
            category: s.category.clone(),
            suggestion: s.suggestion.clone(),
            expected_improvement: s.expected_improvement.clone(),
            basis: s.basis.clone(),
            finding_id: Some(s.finding_id.clone()),
            source: BUILTIN.into(),
        })
        .collect();
    let perf = &facts.performance;
    let mut performance = PerformanceAssessment {
        accuracy_assessment: perf.accuracy_assessment.clone(),
        convergence_quality: perf.convergence_quality.clone(),
        overfitting_risk: perf.overfitting_risk.clone(),
        source: BUILTIN.into(),
        details: perf.clone(),
        provider_assessment: None,
    };
    if let Some((r, provider)) = review {
        strengths_detail.extend(r.strengths.iter().map(|t| provider_item(t, provider)));
        weaknesses_detail.extend(r.weaknesses.iter().map(|t| provider_item(t, provider)));
        suggestions.extend(r.suggestions.iter().map(|s| OptimizationSuggestion {
            category: s.category.clone(),
            suggestion: s.suggestion.clone(),
            expected_improvement: s.expected_improvement.clone(),
            basis: format!("{provider}'s rationale: {}", s.rationale),
            finding_id: None,
            source: provider.to_string(),
        }));
        performance.provider_assessment = Some(ProviderAssessment {
            accuracy_assessment: r.accuracy_assessment.clone(),
            convergence_quality: r.convergence_quality.clone(),
            overfitting_risk: r.overfitting_risk.clone(),
            source: provider.to_string(),
        });
    }
    let texts = |items: &[AssessmentItem]| items.iter().map(|i| i.text.clone()).collect();
    wire::Analysis {
        architecture_assessment: ArchitectureAssessment {
            strengths: texts(&strengths_detail),
            weaknesses: texts(&weaknesses_detail),
            overall_score: facts.score.overall,
            strengths_detail,
            weaknesses_detail,
            score_details: facts.score.clone(),
            input_shape: facts.input_shape.clone(),
            num_classes: facts.num_classes,
            layers: facts.layers.clone(),
            totals: facts.totals.clone(),
            memory: facts.memory.clone(),
            assumptions: facts.assumptions.clone(),
            findings: facts.findings.clone(),
        },
        performance_analysis: performance,
        optimization_suggestions: suggestions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::ProviderSuggestion;
    use serde_json::json;

    /// Four dense layers without normalization, with reported metrics: findings of every
    /// severity, strengths and suggestions, all computed.
    fn facts() -> analysis::Analysis {
        let input = analysis::AnalysisInput {
            model_description: Some("CNN for CIFAR-10".into()),
            architecture: Some(json!({
                "input_shape": [32, 32, 3],
                "layers": [
                    {"type": "conv2d", "filters": 32, "kernel_size": 3},
                    {"type": "max_pooling2d", "pool_size": 2},
                    {"type": "conv2d", "filters": 64, "kernel_size": 3},
                    {"type": "max_pooling2d", "pool_size": 2},
                    {"type": "flatten"},
                    {"type": "dense", "units": 128},
                    {"type": "dense", "units": 10}
                ]
            })),
            data_sample: None,
            performance_metrics: Some(json!({"train_accuracy": 0.99, "val_accuracy": 0.7})),
        };
        analysis::analyze(&input).expect("analyzes")
    }

    #[test]
    fn builtin_only_marks_everything_builtin() {
        let facts = facts();
        let m = merge(&facts, None);
        let a = &m.architecture_assessment;
        let expected: Vec<String> = facts
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .map(|f| f.title.clone())
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(a.weaknesses, expected);
        assert_eq!(a.strengths.len(), facts.strengths.len());
        assert_eq!(a.overall_score, facts.score.overall);
        assert!(!m.optimization_suggestions.is_empty());
        assert!(m
            .optimization_suggestions
            .iter()
            .all(|s| s.source == "builtin"));
        assert!(a.weaknesses_detail.iter().all(|w| w.id.is_some()));
        assert!(m.performance_analysis.provider_assessment.is_none());
    }

    #[test]
    fn a_provider_adds_text_but_never_numbers() {
        let facts = facts();
        let review = ProviderReview {
            strengths: vec!["Good filter progression".into()],
            weaknesses: vec!["No dropout".into()],
            suggestions: vec![ProviderSuggestion {
                category: "regularization".into(),
                suggestion: "Dropout 0.3".into(),
                expected_improvement: "less overfitting".into(),
                rationale: "dense layer dominates".into(),
            }],
            accuracy_assessment: "fine".into(),
            convergence_quality: "stable".into(),
            overfitting_risk: "moderate".into(),
        };
        let builtin = merge(&facts, None);
        let m = merge(&facts, Some((&review, "anthropic")));
        let a = &m.architecture_assessment;
        assert_eq!(
            a.overall_score, facts.score.overall,
            "the score stays the rubric's"
        );
        assert_eq!(a.totals.params, facts.totals.params);
        let n = builtin.architecture_assessment.weaknesses.len();
        assert_eq!(a.weaknesses.len(), n + 1);
        assert_eq!(a.weaknesses_detail[n].source, "anthropic");
        assert!(a.weaknesses_detail[n].id.is_none());
        let last = m.optimization_suggestions.last().unwrap();
        assert_eq!(last.source, "anthropic");
        assert_eq!(last.basis, "anthropic's rationale: dense layer dominates");
        assert_eq!(
            m.performance_analysis.overfitting_risk,
            facts.performance.overfitting_risk
        );
        assert_eq!(
            m.performance_analysis
                .provider_assessment
                .as_ref()
                .unwrap()
                .overfitting_risk,
            "moderate"
        );
    }
}
