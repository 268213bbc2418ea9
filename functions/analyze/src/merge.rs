//! Merging the builtin facts with a provider's review. Computed numbers (shapes, parameter
//! counts, the score, references) come only from the analyzer; the provider adds text, and
//! every item carries its `source`.

use serde_json::{json, Value};

use crate::review::ProviderReview;

fn item(text: &Value, source: &str, extra: &Value) -> Value {
    let mut v = json!({"text": text, "source": source});
    if let (Some(obj), Some(more)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in more {
            obj.insert(k.clone(), x.clone());
        }
    }
    v
}

/// A finding (or strength) from the analyzer as a detail item.
fn finding_item(f: &Value) -> Value {
    item(
        &f["title"],
        "builtin",
        &json!({"id": f["id"], "severity": f["severity"], "detail": f["detail"], "evidence": f["evidence"]}),
    )
}

pub fn merge(facts: &Value, review: Option<(&ProviderReview, &str)>) -> Value {
    let empty = Vec::new();
    let findings = facts["findings"].as_array().unwrap_or(&empty);
    let strengths = facts["strengths"].as_array().unwrap_or(&empty);
    let mut strengths_detail: Vec<Value> = strengths.iter().map(finding_item).collect();
    let mut weaknesses_detail: Vec<Value> = findings
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(finding_item)
        .collect();
    let mut suggestions: Vec<Value> = facts["suggestions"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s["source"] = json!("builtin");
            s
        })
        .collect();
    let perf = &facts["performance"];
    let mut performance = json!({
        "accuracy_assessment": perf["accuracy_assessment"],
        "convergence_quality": perf["convergence_quality"],
        "overfitting_risk": perf["overfitting_risk"],
        "source": "builtin",
        "details": perf,
    });
    if let Some((r, provider)) = review {
        strengths_detail.extend(
            r.strengths
                .iter()
                .map(|t| item(&json!(t), provider, &json!({}))),
        );
        weaknesses_detail.extend(
            r.weaknesses
                .iter()
                .map(|t| item(&json!(t), provider, &json!({}))),
        );
        suggestions.extend(r.suggestions.iter().map(|s| {
            json!({
                "category": s.category,
                "suggestion": s.suggestion,
                "expected_improvement": s.expected_improvement,
                "basis": format!("{provider}'s rationale: {}", s.rationale),
                "source": provider,
            })
        }));
        performance["provider_assessment"] = json!({
            "accuracy_assessment": r.accuracy_assessment,
            "convergence_quality": r.convergence_quality,
            "overfitting_risk": r.overfitting_risk,
            "source": provider,
        });
    }
    let texts =
        |items: &[Value]| -> Vec<Value> { items.iter().map(|i| i["text"].clone()).collect() };
    json!({
        "architecture_assessment": {
            "strengths": texts(&strengths_detail),
            "weaknesses": texts(&weaknesses_detail),
            "overall_score": facts["score"]["overall"],
            "strengths_detail": strengths_detail,
            "weaknesses_detail": weaknesses_detail,
            "score_details": facts["score"],
            "input_shape": facts["input_shape"],
            "num_classes": facts["num_classes"],
            "layers": facts["layers"],
            "totals": facts["totals"],
            "memory": facts["memory"],
            "assumptions": facts["assumptions"],
            "findings": findings,
        },
        "performance_analysis": performance,
        "optimization_suggestions": suggestions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::ProviderSuggestion;

    fn facts() -> Value {
        json!({
            "findings": [
                {"id": "no_normalization", "severity": "medium", "title": "No normalization layers", "detail": "d", "evidence": {"weight_layers": 4}},
                {"id": "note", "severity": "info", "title": "Info only", "detail": "d", "evidence": {}}
            ],
            "strengths": [{"id": "downsampling", "severity": "info", "title": "Spatial downsampling present", "detail": "d", "evidence": {}}],
            "suggestions": [{"category": "architecture", "suggestion": "Add batch normalization", "expected_improvement": "faster convergence", "basis": "Ioffe & Szegedy 2015"}],
            "performance": {"accuracy_assessment": "a", "convergence_quality": "c", "overfitting_risk": "unknown"},
            "score": {"overall": 0.61},
            "totals": {"params": 1405258}
        })
    }

    #[test]
    fn builtin_only_marks_everything_builtin() {
        let m = merge(&facts(), None);
        let a = &m["architecture_assessment"];
        assert_eq!(a["weaknesses"], json!(["No normalization layers"]));
        assert_eq!(a["strengths"], json!(["Spatial downsampling present"]));
        assert_eq!(a["overall_score"], 0.61);
        assert!(m["optimization_suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["source"] == "builtin"));
        assert!(m["performance_analysis"]
            .get("provider_assessment")
            .is_none());
    }

    #[test]
    fn a_provider_adds_text_but_never_numbers() {
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
        let m = merge(&facts(), Some((&review, "anthropic")));
        let a = &m["architecture_assessment"];
        assert_eq!(a["overall_score"], 0.61, "the score stays the rubric's");
        assert_eq!(a["totals"]["params"], 1405258);
        assert_eq!(a["weaknesses"].as_array().unwrap().len(), 2);
        assert_eq!(a["weaknesses_detail"][1]["source"], "anthropic");
        assert_eq!(m["optimization_suggestions"][1]["source"], "anthropic");
        assert_eq!(m["performance_analysis"]["overfitting_risk"], "unknown");
        assert_eq!(
            m["performance_analysis"]["provider_assessment"]["overfitting_risk"],
            "moderate"
        );
    }
}
