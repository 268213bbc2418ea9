//! Fitting a schema to sample rows: column types, marginals, the target, and the copula's
//! correlations (the approach of SDV's GaussianCopulaSynthesizer).
//!
//! * Types: all booleans → boolean; all integers → integer; all numbers → numeric; all RFC 3339
//!   instants or `YYYY-MM-DD` dates → datetime; anything else categorical (frequencies become
//!   weights, categories ordered by frequency). Nulls are ignored.
//! * Numeric and integer marginals: normal, lognormal (all > 0), exponential (all ≥ 0), uniform,
//!   gamma (all > 0) and beta (all in (0, 1)) are fitted by maximum likelihood or the method of
//!   moments, each truncated to the observed range as it will be generated, and the one with the
//!   smallest Kolmogorov–Smirnov statistic wins. If even that one is rejected at 5% (asymptotic
//!   Kolmogorov distribution), 101 empirical quantiles are used instead.
//! * Dependence: every column becomes normal scores — rank-based Φ⁻¹((rank − ½)/n) with average
//!   ranks for ties for numbers and instants, and the midpoint of the category's frequency interval
//!   for categorical/boolean/target columns — and the Pearson correlation of the normal scores of
//!   each pair with |r| ≥ 0.01 becomes a `Correlation`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use statrs::function::gamma::digamma;

use super::marginal::{Continuous, Levels};
use super::schema::{
    format_instant, parse_instant, ColumnKind, ColumnSpec, Correlation, DataSchema, Distribution,
    TargetSpec, MAX_CATEGORIES, MAX_COLUMNS,
};
use super::stats::{average_ranks, kolmogorov_pvalue, ks_one_sample, norm_ppf, pearson};
use super::table::{value_key, Table};
use super::SynthError;

/// Quantiles kept when no parametric family fits.
const EMPIRICAL_QUANTILES: usize = 101;
/// Significance level below which a parametric fit is rejected.
const KS_ALPHA: f64 = 0.05;
/// Correlations weaker than this are left out of the schema.
const MIN_CORRELATION: f64 = 0.01;
/// A target is only auto-detected with at most this many classes.
const MAX_AUTO_TARGET_CLASSES: usize = 20;
/// Below this many rows every column carries a warning.
const FEW_ROWS: usize = 30;
/// Upper bound on pairs × rows for the correlation step.
const MAX_CORRELATION_WORK: usize = 50_000_000;
/// Decimals are inferred from the data up to this many.
const MAX_INFERRED_DECIMALS: u32 = 6;

/// What fitting found, column by column.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct FitReport {
    pub rows: usize,
    pub target: Option<String>,
    pub columns: Vec<ColumnFit>,
}

/// One column's fit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct ColumnFit {
    pub name: String,
    /// `numeric`, `integer`, `categorical`, `boolean`, `datetime`, `target`, or `skipped`.
    pub kind: String,
    /// The distribution family chosen (`normal`, …, `empirical`), or the kind for discrete
    /// columns.
    pub chosen: String,
    /// KS statistic of the chosen marginal against the data (continuous columns).
    pub ks_statistic: Option<f64>,
    /// Its asymptotic p-value.
    pub ks_p_value: Option<f64>,
    /// Every parametric candidate tried, with its KS statistic.
    pub candidates: Vec<(String, f64)>,
    /// Distinct non-null values.
    pub distinct: usize,
    /// Null values ignored.
    pub nulls: usize,
    pub warnings: Vec<String>,
}

/// A fitted column: its feature spec (None for the target and skipped columns), whether it takes
/// part in the copula, the report, and its normal scores per row (NaN where null).
struct Fitted {
    spec: Option<ColumnKind>,
    in_copula: bool,
    report: ColumnFit,
    scores: Vec<f64>,
}

/// Fits a schema to `table`. `target` names the target column; without it a column named
/// `target`, `label`, `class` or `y`, or starting with `is_`/`has_`, with 2 to 20 distinct values
/// is used if there is one.
pub fn fit(table: &Table, target: Option<&str>) -> Result<(DataSchema, FitReport), SynthError> {
    fit_inner(table, target, true)
}

/// [`fit`] with no target: every column is a feature, none is detected as the target.
pub fn fit_features(table: &Table) -> Result<(DataSchema, FitReport), SynthError> {
    fit_inner(table, None, false)
}

fn fit_inner(
    table: &Table,
    target: Option<&str>,
    detect: bool,
) -> Result<(DataSchema, FitReport), SynthError> {
    let n = table.rows.len();
    if n < 2 {
        return Err(SynthError::invalid(
            "sample_rows",
            format!("at least 2 rows are needed to fit a schema, got {n}"),
        ));
    }
    if table.columns.is_empty() {
        return Err(SynthError::invalid(
            "sample_rows",
            "the rows have no columns",
        ));
    }
    if table.columns.len() > MAX_COLUMNS {
        return Err(SynthError::invalid(
            "sample_rows",
            format!("at most {MAX_COLUMNS} columns, got {}", table.columns.len()),
        ));
    }
    for (j, name) in table.columns.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(SynthError::invalid(
                format!("sample_rows.columns[{j}]"),
                "column names must not be empty",
            ));
        }
    }
    let column_values = |j: usize| -> Vec<&Value> {
        table
            .rows
            .iter()
            .map(|r| r.get(j).unwrap_or(&Value::Null))
            .collect()
    };
    let target_index = match target {
        Some(name) => Some(table.column_index(name).ok_or_else(|| {
            SynthError::invalid("target", format!("column {name:?} is not in the sample"))
        })?),
        None if detect => detect_target(table, &column_values),
        None => None,
    };

    let mut features = Vec::new();
    let mut fitted: Vec<(String, Fitted)> = Vec::new();
    for (j, name) in table.columns.iter().enumerate() {
        if Some(j) == target_index {
            continue;
        }
        let f = fit_column(name, &column_values(j), n);
        if let Some(kind) = &f.spec {
            features.push(ColumnSpec {
                name: name.clone(),
                kind: kind.clone(),
            });
        }
        fitted.push((name.clone(), f));
    }
    let target_spec = match target_index {
        Some(j) => {
            let name = &table.columns[j];
            let (spec, f) = fit_target(name, &column_values(j), n)?;
            fitted.push((name.clone(), f));
            Some(spec)
        }
        None => None,
    };
    if features.is_empty() {
        return Err(SynthError::invalid(
            "sample_rows",
            "no feature column has any non-null value",
        ));
    }

    // Pearson correlation of normal scores, pairwise over rows where both are present. Wide and
    // long samples use evenly spaced rows so the pairs × rows work stays bounded.
    let modeled: Vec<&(String, Fitted)> = fitted.iter().filter(|(_, f)| f.in_copula).collect();
    let pairs = modeled.len() * modeled.len().saturating_sub(1) / 2;
    let stride = (pairs * n).div_ceil(MAX_CORRELATION_WORK).max(1);
    let thinned: Vec<Vec<f64>> = modeled
        .iter()
        .map(|(_, f)| f.scores.iter().step_by(stride).copied().collect())
        .collect();
    let mut correlations = Vec::new();
    for a in 0..modeled.len() {
        for b in a + 1..modeled.len() {
            if let Some(r) = pearson(&thinned[a], &thinned[b]) {
                if r.abs() >= MIN_CORRELATION {
                    correlations.push(Correlation {
                        a: modeled[a].0.clone(),
                        b: modeled[b].0.clone(),
                        r: (r * 1e4).round() / 1e4,
                    });
                }
            }
        }
    }

    let schema = DataSchema {
        columns: features,
        target: target_spec,
        correlations,
    };
    schema.validate()?;
    let report = FitReport {
        rows: n,
        target: schema.target.as_ref().map(|t| t.name.clone()),
        columns: fitted.into_iter().map(|(_, f)| f.report).collect(),
    };
    Ok((schema, report))
}

/// The first column named like a label (exact names first, then `is_`/`has_` prefixes) with
/// 2 to 20 distinct values.
fn detect_target<'a>(table: &'a Table, values: &dyn Fn(usize) -> Vec<&'a Value>) -> Option<usize> {
    let small = |j: usize| {
        let mut distinct = std::collections::HashSet::new();
        for v in values(j) {
            if let Some(k) = value_key(v) {
                distinct.insert(k);
                if distinct.len() > MAX_AUTO_TARGET_CLASSES {
                    return false;
                }
            }
        }
        distinct.len() >= 2
    };
    let lower: Vec<String> = table.columns.iter().map(|c| c.to_lowercase()).collect();
    for name in ["target", "label", "class", "y"] {
        if let Some(j) = lower.iter().position(|c| c == name) {
            if small(j) {
                return Some(j);
            }
        }
    }
    (0..lower.len())
        .find(|&j| (lower[j].starts_with("is_") || lower[j].starts_with("has_")) && small(j))
}

/// What type a column's non-null values share.
enum Inferred {
    Boolean(Vec<bool>),
    Integer(Vec<i64>),
    Numeric(Vec<f64>),
    Datetime(Vec<i64>),
    Categorical(Vec<String>),
    Empty,
}

fn infer(values: &[&Value]) -> Inferred {
    let present: Vec<&Value> = values.iter().copied().filter(|v| !v.is_null()).collect();
    if present.is_empty() {
        return Inferred::Empty;
    }
    if let Some(b) = present
        .iter()
        .map(|v| v.as_bool())
        .collect::<Option<Vec<_>>>()
    {
        return Inferred::Boolean(b);
    }
    if let Some(i) = present
        .iter()
        .map(|v| v.as_i64())
        .collect::<Option<Vec<_>>>()
    {
        return Inferred::Integer(i);
    }
    if let Some(x) = present
        .iter()
        .map(|v| v.as_f64().filter(|x| x.is_finite()))
        .collect::<Option<Vec<_>>>()
    {
        return Inferred::Numeric(x);
    }
    if let Some(t) = present
        .iter()
        .map(|v| v.as_str().and_then(parse_instant))
        .collect::<Option<Vec<_>>>()
    {
        return Inferred::Datetime(t);
    }
    Inferred::Categorical(present.iter().filter_map(|v| value_key(v)).collect())
}

fn fit_column(name: &str, values: &[&Value], n: usize) -> Fitted {
    let nulls = values.iter().filter(|v| v.is_null()).count();
    let mut report = ColumnFit {
        name: name.to_string(),
        kind: String::new(),
        chosen: String::new(),
        ks_statistic: None,
        ks_p_value: None,
        candidates: Vec::new(),
        distinct: 0,
        nulls,
        warnings: Vec::new(),
    };
    if n < FEW_ROWS {
        report
            .warnings
            .push(format!("only {n} rows: fitted parameters are uncertain"));
    }
    if nulls > 0 {
        report.warnings.push(format!(
            "{nulls} null values ignored; generated data has none"
        ));
    }
    let numbers = |values: &[&Value]| -> Vec<f64> {
        values
            .iter()
            .map(|v| match v {
                Value::String(s) => parse_instant(s).map_or(f64::NAN, |t| t as f64),
                other => other.as_f64().unwrap_or(f64::NAN),
            })
            .collect()
    };
    let (spec, scores) = match infer(values) {
        Inferred::Empty => {
            report.kind = "skipped".into();
            report.chosen = "none".into();
            report
                .warnings
                .push("every value is null: the column is left out".into());
            (None, vec![f64::NAN; n])
        }
        Inferred::Boolean(b) => {
            let trues = b.iter().filter(|&&x| x).count();
            report.kind = "boolean".into();
            report.chosen = "boolean".into();
            report.distinct = usize::from(trues > 0) + usize::from(trues < b.len());
            let p_true = trues as f64 / b.len() as f64;
            let levels = Levels::boolean(p_true);
            let scores = level_scores(values, &levels);
            (Some(ColumnKind::Boolean { p_true }), scores)
        }
        Inferred::Integer(ints) => {
            let xs: Vec<f64> = ints.iter().map(|&v| v as f64).collect();
            let (min, max) = (
                *ints.iter().min().expect("non-empty"),
                *ints.iter().max().expect("non-empty"),
            );
            report.kind = "integer".into();
            let distribution = choose_marginal(
                &xs,
                Some(min as f64 - 0.5),
                Some(max as f64 + 0.5),
                Some(1.0),
                &mut report,
            );
            (
                Some(ColumnKind::Integer {
                    distribution,
                    min: Some(min),
                    max: Some(max),
                }),
                rank_scores(&numbers(values)),
            )
        }
        Inferred::Numeric(xs) => {
            let (min, max) = min_max(&xs);
            let decimals = infer_decimals(&xs);
            report.kind = "numeric".into();
            let step = decimals.map(|d| 10f64.powi(-(d as i32)));
            let distribution = choose_marginal(&xs, Some(min), Some(max), step, &mut report);
            (
                Some(ColumnKind::Numeric {
                    distribution,
                    min: Some(min),
                    max: Some(max),
                    decimals,
                }),
                rank_scores(&numbers(values)),
            )
        }
        Inferred::Datetime(ts) => {
            let start = *ts.iter().min().expect("non-empty");
            let end = (*ts.iter().max().expect("non-empty")).max(start + 1);
            report.kind = "datetime".into();
            report.chosen = "uniform".into();
            report.distinct = distinct_count(ts.iter().map(|t| t.to_string()));
            let mut sorted: Vec<f64> = ts.iter().map(|&t| t as f64).collect();
            sorted.sort_by(f64::total_cmp);
            let uniform = Continuous::new(
                &Distribution::Uniform {
                    low: start as f64,
                    high: end as f64,
                },
                None,
                None,
            );
            let d = ks_one_sample(&sorted, |x| uniform.cdf(x), Some(1.0));
            let p = kolmogorov_pvalue(d, sorted.len());
            report.ks_statistic = Some(d);
            report.ks_p_value = Some(p);
            report.candidates.push(("uniform".into(), d));
            if p < KS_ALPHA {
                report.warnings.push(format!(
                    "instants are not uniform over their range (KS {d:.3}); generated ones are"
                ));
            }
            (
                Some(ColumnKind::Datetime {
                    start: format_instant(start),
                    end: format_instant(end),
                }),
                rank_scores(&numbers(values)),
            )
        }
        Inferred::Categorical(keys) => {
            report.kind = "categorical".into();
            report.chosen = "categorical".into();
            let (categories, weights, dropped) = frequencies(&keys, false);
            let distinct = categories.len() + dropped;
            report.distinct = distinct;
            if distinct > 50 || (distinct > 1 && distinct * 2 > keys.len()) {
                report.warnings.push(format!(
                    "high cardinality ({distinct} distinct of {} values): it may be an \
                     identifier; generated values only reuse observed categories",
                    keys.len()
                ));
            }
            if dropped > 0 {
                report.warnings.push(format!(
                    "only the {MAX_CATEGORIES} most frequent categories are kept; {dropped} dropped"
                ));
            }
            let levels = Levels::categorical(&categories, &weights);
            let scores = level_scores(values, &levels);
            (
                Some(ColumnKind::Categorical {
                    categories,
                    weights,
                }),
                scores,
            )
        }
    };
    Fitted {
        in_copula: spec.is_some(),
        spec,
        report,
        scores,
    }
}

fn fit_target(name: &str, values: &[&Value], n: usize) -> Result<(TargetSpec, Fitted), SynthError> {
    let keys: Vec<String> = values.iter().filter_map(|v| value_key(v)).collect();
    let (classes, weights, _) = frequencies(&keys, true);
    if classes.len() < 2 {
        return Err(SynthError::invalid(
            "target",
            format!(
                "target column {name:?} needs at least 2 distinct classes, found {}",
                classes.len()
            ),
        ));
    }
    if classes.len() > MAX_CATEGORIES {
        return Err(SynthError::invalid(
            "target",
            format!("target column {name:?} has more than {MAX_CATEGORIES} classes"),
        ));
    }
    let spec = TargetSpec {
        name: name.to_string(),
        classes,
        weights,
    };
    let levels = Levels::target(&spec);
    let nulls = values.len() - keys.len();
    let mut warnings = Vec::new();
    if nulls > 0 {
        warnings.push(format!("{nulls} rows without a class ignored"));
    }
    if n < FEW_ROWS {
        warnings.push(format!("only {n} rows: class frequencies are uncertain"));
    }
    let report = ColumnFit {
        name: name.to_string(),
        kind: "target".into(),
        chosen: "categorical".into(),
        ks_statistic: None,
        ks_p_value: None,
        candidates: Vec::new(),
        distinct: spec.classes.len(),
        nulls,
        warnings,
    };
    let scores = level_scores(values, &levels);
    Ok((
        spec,
        Fitted {
            spec: None,
            in_copula: true,
            report,
            scores,
        },
    ))
}

/// Categories and frequencies. Features are ordered by frequency (ties by first appearance) and
/// cut to the 1,000 most frequent; target classes are ordered numerically when they are all
/// numbers, else lexicographically, so `0`/`1` and `false`/`true` come out in natural order.
fn frequencies(keys: &[String], as_classes: bool) -> (Vec<String>, Vec<f64>, usize) {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        counts.entry(k.as_str()).or_insert((0, i)).0 += 1;
    }
    let mut entries: Vec<(&str, usize, usize)> = counts
        .into_iter()
        .map(|(k, (c, first))| (k, c, first))
        .collect();
    if as_classes {
        let numeric: Option<Vec<f64>> = entries.iter().map(|e| e.0.parse::<f64>().ok()).collect();
        if numeric.is_some() {
            entries.sort_by(|a, b| {
                let (x, y) = (
                    a.0.parse::<f64>().unwrap_or(0.0),
                    b.0.parse::<f64>().unwrap_or(0.0),
                );
                x.total_cmp(&y)
            });
        } else {
            entries.sort_by(|a, b| a.0.cmp(b.0));
        }
    } else {
        entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    }
    let dropped = entries.len().saturating_sub(MAX_CATEGORIES);
    entries.truncate(MAX_CATEGORIES);
    let total: usize = entries.iter().map(|e| e.1).sum();
    let categories = entries.iter().map(|e| e.0.to_string()).collect();
    let weights = entries.iter().map(|e| e.1 as f64 / total as f64).collect();
    (categories, weights, dropped)
}

/// SDV-style normal scores of a discrete column: Φ⁻¹ of the midpoint of the value's interval.
fn level_scores(values: &[&Value], levels: &Levels) -> Vec<f64> {
    let mid: Vec<f64> = (0..levels.len())
        .map(|i| {
            let (a, b) = levels.interval(i);
            norm_ppf((a + b) / 2.0)
        })
        .collect();
    values
        .iter()
        .map(|v| {
            value_key(v)
                .and_then(|k| levels.index_of_name(&k))
                .map_or(f64::NAN, |i| mid[i])
        })
        .collect()
}

/// Rank-based normal scores Φ⁻¹((rank − ½)/m) over the m non-null values (NaN stays NaN).
fn rank_scores(values: &[f64]) -> Vec<f64> {
    let present: Vec<usize> = (0..values.len())
        .filter(|&i| values[i].is_finite())
        .collect();
    let ranks = average_ranks(&present.iter().map(|&i| values[i]).collect::<Vec<_>>());
    let m = present.len() as f64;
    let mut scores = vec![f64::NAN; values.len()];
    for (&i, r) in present.iter().zip(ranks) {
        scores[i] = norm_ppf((r - 0.5) / m);
    }
    scores
}

fn min_max(xs: &[f64]) -> (f64, f64) {
    xs.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

fn distinct_count(keys: impl Iterator<Item = String>) -> usize {
    keys.collect::<std::collections::HashSet<_>>().len()
}

/// The most decimals any value shows in its shortest round-trip spelling, if at most 6.
fn infer_decimals(xs: &[f64]) -> Option<u32> {
    let mut most = 0u32;
    for x in xs {
        let text = format!("{x}");
        if text.contains(['e', 'E']) {
            return None;
        }
        let d = text
            .split_once('.')
            .map_or(0, |(_, frac)| frac.len() as u32);
        if d > MAX_INFERRED_DECIMALS {
            return None;
        }
        most = most.max(d);
    }
    Some(most)
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// Gamma maximum likelihood: the shape solves ln k − ψ(k) = ln(mean) − mean(ln x) (bisection on a
/// log scale, the left side being decreasing), and scale = mean / k.
fn gamma_mle(xs: &[f64]) -> Option<(f64, f64)> {
    let (mean, _) = mean_sd(xs);
    let mean_log = xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64;
    let s = mean.ln() - mean_log;
    if !(s.is_finite() && s > 0.0) {
        return None;
    }
    let f = |k: f64| k.ln() - digamma(k) - s;
    let (mut lo, mut hi) = (1e-4f64, 1e7f64);
    if f(lo) < 0.0 || f(hi) > 0.0 {
        return None;
    }
    for _ in 0..100 {
        let mid = (lo * hi).sqrt();
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let shape = (lo * hi).sqrt();
    Some((shape, mean / shape))
}

/// Fits the candidate families, keeps the best by KS, falls back to empirical quantiles when the
/// best is rejected at 5%, and records it all in `report`.
fn choose_marginal(
    xs: &[f64],
    lo: Option<f64>,
    hi: Option<f64>,
    step: Option<f64>,
    report: &mut ColumnFit,
) -> Distribution {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    report.distinct = {
        let mut d = sorted.clone();
        d.dedup();
        d.len()
    };
    let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
    if min == max {
        report.chosen = "empirical".into();
        report.ks_statistic = Some(0.0);
        report.ks_p_value = Some(1.0);
        return Distribution::Empirical {
            quantiles: vec![min, max],
        };
    }
    let (mean, sd) = mean_sd(xs);
    let mut candidates = vec![Distribution::Normal { mean, std: sd }];
    if min > 0.0 {
        let logs: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
        let (mu, sigma) = mean_sd(&logs);
        if sigma > 0.0 && sigma <= 20.0 && mu.abs() <= 300.0 {
            candidates.push(Distribution::Lognormal { mu, sigma });
        }
    }
    if min >= 0.0 && mean > 0.0 {
        candidates.push(Distribution::Exponential { rate: 1.0 / mean });
    }
    candidates.push(Distribution::Uniform {
        low: min,
        high: max,
    });
    if min > 0.0 {
        if let Some((shape, scale)) = gamma_mle(xs) {
            candidates.push(Distribution::Gamma { shape, scale });
        }
    }
    if min > 0.0 && max < 1.0 {
        let var = sd * sd;
        let common = mean * (1.0 - mean) / var - 1.0;
        if common > 0.0 {
            candidates.push(Distribution::Beta {
                alpha: mean * common,
                beta: (1.0 - mean) * common,
            });
        }
    }

    let ks_of = |d: &Distribution| {
        let m = Continuous::new(d, lo, hi);
        if m.mass() <= 1e-12 {
            return 1.0;
        }
        ks_one_sample(&sorted, |x| m.cdf(x), step)
    };
    let mut best: Option<(f64, Distribution)> = None;
    for d in candidates {
        if d.validate("candidate").is_err() {
            continue;
        }
        let ks = ks_of(&d);
        report.candidates.push((d.family().to_string(), ks));
        if best.as_ref().is_none_or(|(b, _)| ks < *b) {
            best = Some((ks, d));
        }
    }
    let (ks, distribution) = best.expect("normal is always a candidate");
    let p = kolmogorov_pvalue(ks, sorted.len());
    if p >= KS_ALPHA {
        report.chosen = distribution.family().into();
        report.ks_statistic = Some(ks);
        report.ks_p_value = Some(p);
        return distribution;
    }
    let quantiles = empirical_quantiles(&sorted, EMPIRICAL_QUANTILES);
    let empirical = Distribution::Empirical { quantiles };
    let ks = ks_of(&empirical);
    report.chosen = "empirical".into();
    report.ks_statistic = Some(ks);
    report.ks_p_value = Some(kolmogorov_pvalue(ks, sorted.len()));
    report.warnings.push(format!(
        "weak fit: no parametric family passed the KS test at 5% (best {} with KS {:.3}); \
         using {EMPIRICAL_QUANTILES} empirical quantiles",
        report
            .candidates
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or("none", |c| c.0.as_str()),
        report
            .candidates
            .iter()
            .map(|c| c.1)
            .fold(f64::INFINITY, f64::min)
    ));
    empirical
}

/// `count` quantiles of sorted data at p = i/(count − 1), linearly interpolated between order
/// statistics (numpy's default).
fn empirical_quantiles(sorted: &[f64], count: usize) -> Vec<f64> {
    let last = (sorted.len() - 1) as f64;
    (0..count)
        .map(|i| {
            let pos = i as f64 / (count - 1) as f64 * last;
            let k = (pos as usize).min(sorted.len() - 1);
            let next = (k + 1).min(sorted.len() - 1);
            sorted[k] + (pos - k as f64) * (sorted[next] - sorted[k])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Balance, Generator};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;
    use serde_json::json;

    fn table_of(name: &str, xs: &[f64]) -> Table {
        Table {
            columns: vec![name.into()],
            rows: xs.iter().map(|&x| vec![json!(x)]).collect(),
        }
    }

    fn normals(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.sample(StandardNormal)).collect()
    }

    fn chosen(table: &Table) -> (Distribution, ColumnFit) {
        let (schema, report) = fit(table, None).unwrap();
        let d = match &schema.columns[0].kind {
            ColumnKind::Numeric { distribution, .. } | ColumnKind::Integer { distribution, .. } => {
                distribution.clone()
            }
            other => panic!("{other:?}"),
        };
        (d, report.columns[0].clone())
    }

    #[test]
    fn lognormal_data_gets_a_lognormal() {
        // Non-round values so no decimals are inferred.
        let xs: Vec<f64> = normals(1, 2000)
            .iter()
            .map(|z| (3.0 + 0.8 * z).exp())
            .collect();
        let (d, report) = chosen(&table_of("amount", &xs));
        match d {
            Distribution::Lognormal { mu, sigma } => {
                assert!(
                    (mu - 3.0).abs() < 0.1 && (sigma - 0.8).abs() < 0.1,
                    "{mu} {sigma}"
                );
            }
            other => panic!("{other:?} {report:?}"),
        }
        assert!(report.candidates.len() >= 4);
        assert!(report.ks_p_value.unwrap() > 0.05);
    }

    #[test]
    fn normal_data_gets_a_normal() {
        let xs: Vec<f64> = normals(2, 2000).iter().map(|z| 10.0 + 2.0 * z).collect();
        let (d, report) = chosen(&table_of("x", &xs));
        match d {
            Distribution::Normal { mean, std } => {
                assert!((mean - 10.0).abs() < 0.2 && (std - 2.0).abs() < 0.2);
            }
            other => panic!("{other:?} {report:?}"),
        }
        assert_eq!(report.chosen, "normal");
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }

    #[test]
    fn bimodal_data_falls_back_to_empirical_quantiles() {
        let xs: Vec<f64> = normals(3, 2000)
            .iter()
            .enumerate()
            .map(|(i, z)| if i % 2 == 0 { z - 3.0 } else { z + 3.0 })
            .collect();
        let (d, report) = chosen(&table_of("x", &xs));
        match d {
            Distribution::Empirical { quantiles } => {
                assert_eq!(quantiles.len(), EMPIRICAL_QUANTILES);
                assert!(quantiles.windows(2).all(|w| w[0] <= w[1]));
            }
            other => panic!("{other:?}"),
        }
        assert!(report.warnings.iter().any(|w| w.contains("weak fit")));
        assert!(report.ks_statistic.unwrap() < 0.02);
    }

    #[test]
    fn recovers_the_correlation_of_two_columns() {
        let z1 = normals(4, 3000);
        let z2 = normals(5, 3000);
        let rows: Vec<Value> = z1
            .iter()
            .zip(&z2)
            .map(|(a, b)| {
                let c = 0.6 * a + 0.8 * b; // corr(a, c) = 0.6
                json!({"a": 5.0 + a, "c": (1.0 + 0.5 * c).exp()})
            })
            .collect();
        let (schema, _) = fit(&Table::from_json_rows(&rows).unwrap(), None).unwrap();
        let r = schema
            .correlations
            .iter()
            .find(|c| c.a == "a" && c.b == "c")
            .unwrap()
            .r;
        assert!((r - 0.6).abs() < 0.05, "{r}");
        // And generating from the fit reproduces it.
        let generated: Vec<Vec<f64>> = Generator::new(&schema, 1, Balance::Natural, 5000)
            .unwrap()
            .map(|row| {
                row.iter()
                    .map(|c| match c {
                        crate::Cell::Num(x) => *x,
                        other => panic!("{other:?}"),
                    })
                    .collect()
            })
            .collect();
        let a: Vec<f64> = generated.iter().map(|r| r[0]).collect();
        let c: Vec<f64> = generated.iter().map(|r| r[1].ln()).collect();
        assert!((pearson(&a, &c).unwrap() - 0.6).abs() < 0.06);
    }

    #[test]
    fn infers_types_target_and_weights() {
        const PLANS: [&str; 4] = ["basic", "pro", "basic", "team"];
        let rows: Vec<Value> = (0..40)
            .map(|i| {
                json!({
                    "age": 20 + (i * 7) % 40,
                    "plan": PLANS[i % 4],
                    "active": i % 3 != 0,
                    "joined": format!("2024-01-{:02}", 1 + i % 28),
                    "score": if i == 5 { Value::Null } else { json!((50 + i) as f64 / 100.0) },
                    "is_churned": i64::from(i % 5 == 0),
                })
            })
            .collect();
        let (schema, report) = fit(&Table::from_json_rows(&rows).unwrap(), None).unwrap();
        let kinds: Vec<&str> = schema.columns.iter().map(|c| c.kind.kind_name()).collect();
        assert_eq!(
            kinds,
            ["integer", "categorical", "boolean", "datetime", "numeric"]
        );
        let target = schema.target.as_ref().unwrap();
        assert_eq!(target.name, "is_churned");
        assert_eq!(target.classes, ["0", "1"]);
        assert!((target.weights[1] - 0.2).abs() < 1e-12);
        match &schema.columns[1].kind {
            ColumnKind::Categorical {
                categories,
                weights,
            } => {
                assert_eq!(categories, &["basic", "pro", "team"]);
                assert_eq!(weights, &[0.5, 0.25, 0.25]);
            }
            other => panic!("{other:?}"),
        }
        match &schema.columns[2].kind {
            ColumnKind::Boolean { p_true } => assert!((p_true - 26.0 / 40.0).abs() < 1e-12),
            other => panic!("{other:?}"),
        }
        match &schema.columns[4].kind {
            ColumnKind::Numeric { decimals, min, .. } => {
                assert_eq!(*decimals, Some(2));
                assert_eq!(*min, Some(0.5));
            }
            other => panic!("{other:?}"),
        }
        let score = report.columns.iter().find(|c| c.name == "score").unwrap();
        assert_eq!(score.nulls, 1);
        assert_eq!(report.target.as_deref(), Some("is_churned"));
        assert_eq!(report.columns.last().unwrap().kind, "target");
    }

    #[test]
    fn errors_and_warnings() {
        let one = Table::from_json_rows(&[json!({"a": 1})]).unwrap();
        assert!(
            matches!(fit(&one, None), Err(SynthError::Invalid { field, .. }) if field == "sample_rows")
        );
        let two =
            Table::from_json_rows(&[json!({"a": 1, "id": "x1"}), json!({"a": 2, "id": "x2"})])
                .unwrap();
        assert!(
            matches!(fit(&two, Some("nope")), Err(SynthError::Invalid { field, .. }) if field == "target")
        );
        let (schema, report) = fit(&two, None).unwrap();
        assert!(schema.target.is_none());
        let id = report.columns.iter().find(|c| c.name == "id").unwrap();
        assert!(id.warnings.iter().any(|w| w.contains("only 2 rows")));
        assert!(id.warnings.iter().any(|w| w.contains("high cardinality")));
        // A constant column is kept as a point mass.
        let constant = table_of("k", &[4.25, 4.25, 4.25]);
        let (d, _) = chosen(&constant);
        assert_eq!(
            d,
            Distribution::Empirical {
                quantiles: vec![4.25, 4.25]
            }
        );
    }

    #[test]
    fn target_classes_correlate_with_features() {
        let z = normals(6, 2000);
        let noise = normals(7, 2000);
        let rows: Vec<Value> = z
            .iter()
            .zip(&noise)
            .map(|(a, e)| json!({"x": a + 0.01, "label": if a + e > 1.0 { "yes" } else { "no" }}))
            .collect();
        let (schema, _) = fit(&Table::from_json_rows(&rows).unwrap(), None).unwrap();
        assert_eq!(schema.target.as_ref().unwrap().classes, ["no", "yes"]);
        let r = schema
            .correlations
            .iter()
            .find(|c| c.b == "label")
            .unwrap()
            .r;
        assert!(r > 0.3, "{r}");
    }

    #[test]
    fn gamma_mle_recovers_parameters() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let g = rand_distr::Gamma::new(3.0, 2.0).unwrap();
        let xs: Vec<f64> = (0..5000).map(|_| rng.sample(g)).collect();
        let (shape, scale) = gamma_mle(&xs).unwrap();
        assert!(
            (shape - 3.0).abs() < 0.2 && (scale - 2.0).abs() < 0.15,
            "{shape} {scale}"
        );
        assert_eq!(
            empirical_quantiles(&[1.0, 2.0, 3.0], 5),
            vec![1.0, 1.5, 2.0, 2.5, 3.0]
        );
        assert_eq!(infer_decimals(&[1.5, 2.25, 3.0]), Some(2));
        assert_eq!(infer_decimals(&[0.1 + 0.2]), None);
    }
}
