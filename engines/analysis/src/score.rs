//! The overall score: a weighted mean of four components, each in [0, 1].
//!
//! | component                | weight | value                                                            |
//! |--------------------------|--------|------------------------------------------------------------------|
//! | design_hygiene           | 0.35   | 1 − Σ w(triggered severity) / Σ w(nominal severity) over the applicable design rules; w: high 3, medium 2, low 1, info 0 |
//! | capacity_fit             | 0.15   | r = params / training samples; 1 if r ≤ L, else 1 − log10(r / L) / 2 (0 at 100·L); L = 10, or 100 when dropout/weight decay is used |
//! | performance_vs_reference | 0.30   | accuracy / published best for the dataset, clipped to [0, 1]; without a reference, chance-adjusted accuracy (acc − 1/k) / (1 − 1/k) |
//! | generalization           | 0.20   | the lower of 1 − accuracy gap / 0.10 and 1 − loss gap / ln(k) / 0.3 (or 1 − relative loss gap / 0.5 without k); clipped |
//!
//! Components that do not apply (no sample count, no metrics, …) are left out and the
//! remaining weights renormalized; `coverage` reports how much of the rubric applied. With
//! nothing to score, `overall` is the neutral 0.5.

use super::findings::Outcome;
use super::input::{Context, Task};
use super::performance::{chance_adjusted, LossGap, PerformanceAnalysis};
use super::shapes::Propagation;
use super::{Score, ScoreComponent};

pub(crate) const W_HYGIENE: f64 = 0.35;
pub(crate) const W_CAPACITY: f64 = 0.15;
pub(crate) const W_PERFORMANCE: f64 = 0.30;
pub(crate) const W_GENERALIZATION: f64 = 0.20;

/// Parameters per sample tolerated before capacity_fit drops, without / with regularization.
const CAPACITY_LIMIT: f64 = 10.0;
const CAPACITY_LIMIT_REGULARIZED: f64 = 100.0;
/// Accuracy gap at which generalization reaches 0.
const ACCURACY_GAP_ZERO: f64 = 0.10;
/// Relative loss gap at which generalization reaches 0.
const LOSS_GAP_ZERO: f64 = 0.5;
/// Loss gap in units of ln(classes) at which generalization reaches 0.
const NORMALIZED_LOSS_GAP_ZERO: f64 = 0.3;

pub(crate) const RUBRIC: &str = "overall = Σ weight·value over the components that apply, \
renormalized (neutral 0.5 if none apply). design_hygiene 0.35: 1 − Σ severity weight of \
triggered design rules / Σ nominal severity weight of applicable design rules (high 3, \
medium 2, low 1, info 0). capacity_fit 0.15: r = params / training samples; 1 if r ≤ 10 \
(≤ 100 with dropout or weight decay), else 1 − log10(r / limit) / 2, floored at 0. \
performance_vs_reference 0.30: accuracy / published best for the dataset (clipped to 1); \
without a reference, chance-adjusted accuracy (acc − 1/k) / (1 − 1/k). generalization \
0.20: the lower of 1 − (train − held-out accuracy) / 0.10 and 1 − (held-out − train loss) / \
ln(classes) / 0.3 (1 − relative loss gap / 0.5 without a class count), clipped to [0, 1].";

pub(crate) fn compute(
    outcomes: &[Outcome],
    regularized: bool,
    ctx: &Context,
    prop: &Propagation,
    perf: &PerformanceAnalysis,
) -> Score {
    let mut components = vec![
        hygiene(outcomes),
        capacity(ctx, prop, regularized),
        performance(ctx, perf),
        generalization(perf),
    ];
    let coverage: f64 = components
        .iter()
        .filter(|c| c.value.is_some())
        .map(|c| c.weight)
        .sum();
    let mut overall = 0.5;
    if coverage > 0.0 {
        overall = 0.0;
        for c in &mut components {
            if let Some(v) = c.value {
                c.applied_weight = c.weight / coverage;
                overall += c.applied_weight * v;
            }
        }
    }
    Score {
        overall: overall.clamp(0.0, 1.0),
        coverage,
        components,
        rubric: RUBRIC.to_string(),
    }
}

fn component(name: &str, weight: f64, value: Option<f64>, reason: String) -> ScoreComponent {
    ScoreComponent {
        name: name.to_string(),
        weight,
        applied_weight: 0.0,
        value: value.map(|v| v.clamp(0.0, 1.0)),
        reason,
    }
}

fn hygiene(outcomes: &[Outcome]) -> ScoreComponent {
    let applicable: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.hygiene && o.applicable)
        .collect();
    let possible: f64 = applicable.iter().map(|o| o.nominal.weight()).sum();
    let penalty: f64 = applicable
        .iter()
        .filter_map(|o| o.triggered)
        .map(|s| s.weight())
        .sum();
    let triggered = applicable.iter().filter(|o| o.triggered.is_some()).count();
    if possible == 0.0 {
        return component(
            "design_hygiene",
            W_HYGIENE,
            None,
            "no design rule applies (no layers given)".into(),
        );
    }
    let ids: Vec<&str> = applicable
        .iter()
        .filter(|o| o.triggered.is_some())
        .map(|o| o.id)
        .collect();
    component(
        "design_hygiene",
        W_HYGIENE,
        Some(1.0 - penalty / possible),
        format!(
            "{triggered} of {} applicable design rules triggered ({}); severity penalty {penalty} of {possible}",
            applicable.len(),
            if ids.is_empty() { "none".to_string() } else { ids.join(", ") }
        ),
    )
}

fn capacity(ctx: &Context, prop: &Propagation, regularized: bool) -> ScoreComponent {
    let (Some(params), Some(samples)) = (prop.totals.params, ctx.samples) else {
        return component(
            "capacity_fit",
            W_CAPACITY,
            None,
            "parameter count or training sample count unknown".into(),
        );
    };
    let limit = if regularized {
        CAPACITY_LIMIT_REGULARIZED
    } else {
        CAPACITY_LIMIT
    };
    let r = params as f64 / samples.max(1) as f64;
    let value = if r <= limit {
        1.0
    } else {
        1.0 - (r / limit).log10() / 2.0
    };
    component(
        "capacity_fit",
        W_CAPACITY,
        Some(value),
        format!(
            "{params} parameters / {samples} samples = {r:.2} per sample; limit {limit} ({})",
            if regularized {
                "regularized"
            } else {
                "no dropout or weight decay"
            }
        ),
    )
}

fn performance(ctx: &Context, perf: &PerformanceAnalysis) -> ScoreComponent {
    if let Some(rc) = &perf.reference {
        return component(
            "performance_vs_reference",
            W_PERFORMANCE,
            Some(rc.ratio_to_best),
            format!(
                "{} {} / {} {} ({}) = {:.3}",
                rc.metric,
                rc.accuracy,
                rc.best.model,
                rc.best.accuracy,
                rc.best.citation,
                rc.ratio_to_best
            ),
        );
    }
    let classes = ctx
        .num_classes
        .or(perf.convergence.as_ref().map(|c| c.classes));
    match (perf.headline_accuracy, classes) {
        (Some((acc, metric)), Some(k)) if k >= 2 && ctx.task != Task::Regression => {
            let v = chance_adjusted(acc, k);
            component(
                "performance_vs_reference",
                W_PERFORMANCE,
                Some(v),
                format!(
                    "no published reference for this data; chance-adjusted {metric} ({acc} − 1/{k}) / (1 − 1/{k}) = {v:.3}"
                ),
            )
        }
        _ => component(
            "performance_vs_reference",
            W_PERFORMANCE,
            None,
            "no accuracy with a reference or class count to compare against".into(),
        ),
    }
}

fn generalization(perf: &PerformanceAnalysis) -> ScoreComponent {
    if perf.risk.is_none() {
        return component(
            "generalization",
            W_GENERALIZATION,
            None,
            "no held-out metric next to a training metric".into(),
        );
    }
    let gap = perf.generalization_gap.as_ref();
    let acc = gap
        .and_then(|g| g.accuracy_gap)
        .map(|g| (1.0 - (g / ACCURACY_GAP_ZERO).clamp(0.0, 1.0), g));
    let loss = perf.loss_gap.map(|g| match g {
        LossGap::Normalized(n) => (
            1.0 - (n / NORMALIZED_LOSS_GAP_ZERO).clamp(0.0, 1.0),
            format!("loss gap / ln(classes) {n:.3} → 1 − gap / {NORMALIZED_LOSS_GAP_ZERO}"),
        ),
        // Infinite when the training loss is 0 and the held-out loss is not: scores 0.
        LossGap::Relative(r) => (
            1.0 - (r / LOSS_GAP_ZERO).clamp(0.0, 1.0),
            format!("relative loss gap {r:.3} → 1 − gap / {LOSS_GAP_ZERO}"),
        ),
    });
    let mut parts = Vec::new();
    if let Some((v, g)) = acc {
        parts.push(format!(
            "accuracy gap {g:.3} → 1 − gap / {ACCURACY_GAP_ZERO} = {v:.3}"
        ));
    }
    if let Some((v, how)) = &loss {
        parts.push(format!("{how} = {v:.3}"));
    }
    // The worse signal counts, as for the overfitting risk.
    let value = [acc.map(|a| a.0), loss.map(|l| l.0)]
        .into_iter()
        .flatten()
        .fold(1.0f64, f64::min);
    component(
        "generalization",
        W_GENERALIZATION,
        Some(value),
        format!(
            "{}; the lower applies (risk {})",
            parts.join("; "),
            perf.risk.map_or("unknown", risk_name)
        ),
    )
}

fn risk_name(r: super::performance::Risk) -> &'static str {
    match r {
        super::performance::Risk::Low => "low",
        super::performance::Risk::Moderate => "moderate",
        super::performance::Risk::High => "high",
    }
}
