//! Recommendations derived from what generation found, each with its source and the finding
//! behind it. Thresholds are stated here and in the README.

use serde::Serialize;
use synth::{DataSchema, FitReport, Quality};

use crate::request::SyntheticRequest;

/// Natural minority/majority ratio under which the classes count as imbalanced.
pub const IMBALANCED_BELOW: f64 = 0.2;
/// Sample sizes under which a fitted schema rests on too little data.
pub const FEW_SAMPLE_ROWS: usize = 50;
/// A column whose shape score (KS or TV complement) is under this matches poorly.
pub const WEAK_COLUMN_BELOW: f64 = 0.8;
/// Categorical columns with more categories than this are high-cardinality.
pub const HIGH_CARDINALITY: usize = 50;
/// Realism asked to be "high" / "production_ready" expects at least this score.
pub const HIGH_REALISM: f64 = 0.85;
/// Diversity asked to be "high" expects at least this score.
pub const HIGH_DIVERSITY: f64 = 0.6;

#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub text: String,
    /// `builtin` (derived from the measurements) or the provider that advised it.
    pub source: String,
    /// What the recommendation rests on.
    pub reason: String,
}

impl Recommendation {
    pub fn new(text: &str, source: &str, reason: &str) -> Self {
        Recommendation {
            text: text.to_string(),
            source: source.to_string(),
            reason: reason.to_string(),
        }
    }
}

fn builtin(text: String, reason: &str) -> Recommendation {
    Recommendation {
        text,
        source: "builtin".into(),
        reason: reason.into(),
    }
}

pub fn derive(
    req: &SyntheticRequest,
    schema: &DataSchema,
    schema_source: &str,
    fit: Option<&FitReport>,
    quality: &Quality,
) -> Vec<Recommendation> {
    let mut out = Vec::new();
    if let Some(target) = &schema.target {
        let total: f64 = target.weights.iter().sum();
        let (min, max) = target
            .weights
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), w| (lo.min(*w), hi.max(*w)));
        let natural = if max > 0.0 { min / max } else { 1.0 };
        if total > 0.0 && natural < IMBALANCED_BELOW && req.balance_label == "natural" {
            out.push(builtin(
                format!(
                    "The natural classes of {} are imbalanced (minority/majority {:.3}); generate with quality_requirements.balance \"stratified\" or a ratio, or weight the loss when training",
                    target.name, natural
                ),
                "class_imbalance",
            ));
        }
    }
    if let Some(fit) = fit {
        if fit.rows < FEW_SAMPLE_ROWS {
            out.push(builtin(
                format!(
                    "The schema was fitted on {} sample rows; {}+ rows give steadier marginals and correlations",
                    fit.rows, FEW_SAMPLE_ROWS
                ),
                "few_sample_rows",
            ));
        }
        for c in &fit.columns {
            for w in &c.warnings {
                out.push(builtin(format!("Column {}: {w}", c.name), "fit_warning"));
            }
        }
    }
    for c in &schema.columns {
        if let synth::ColumnKind::Categorical { categories, .. } = &c.kind {
            let n = categories.len();
            if n > HIGH_CARDINALITY {
                out.push(builtin(
                    format!("Column {} has {n} categories; consider grouping rare ones or target encoding", c.name),
                    "high_cardinality",
                ));
            }
        }
    }
    for s in &quality.column_shapes {
        if s.score < WEAK_COLUMN_BELOW {
            out.push(builtin(
                format!(
                    "Column {} matches its reference poorly ({} {:.3}); check its distribution",
                    s.column, s.metric, s.score
                ),
                "weak_column_fit",
            ));
        }
    }
    let wants_high = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|v| matches!(v, "high" | "production_ready" | "very_high"))
    };
    if wants_high(&req.realism) && quality.realism_score < HIGH_REALISM {
        out.push(builtin(
            format!(
                "Realism {:.3} is below the {:.2} that \"{}\" asks for; provide sample_rows so the generator fits real data",
                quality.realism_score,
                HIGH_REALISM,
                req.realism.as_deref().unwrap_or_default()
            ),
            "realism_below_request",
        ));
    }
    if wants_high(&req.diversity) && quality.diversity_score < HIGH_DIVERSITY {
        out.push(builtin(
            format!(
                "Diversity {:.3} is below {:.2}; widen the distributions or add categories",
                quality.diversity_score, HIGH_DIVERSITY
            ),
            "diversity_below_request",
        ));
    }
    let duplicates = quality.rows.saturating_sub(quality.distinct_rows);
    if duplicates > 0 {
        out.push(builtin(
            format!("{duplicates} rows are exact duplicates of others; deduplicate before splitting train and test"),
            "duplicate_rows",
        ));
    }
    if schema_source == "builtin" {
        out.push(builtin(
            "The schema was designed by the builtin designer from the description; send sample_rows or an explicit schema for data closer to yours".to_string(),
            "builtin_design",
        ));
    }
    out
}
