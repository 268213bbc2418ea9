//! The data schema: what a client sends as `schema`, what an LLM provider returns as its typed
//! answer, and what [`crate::fit`] produces from sample rows.
//!
//! Kept LLM-friendly on purpose: plain objects, internally tagged enums (`"type"` for a column's
//! kind, `"name"` for a distribution), no maps with free keys, and only `f64`/`i64`/`u32` numbers.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::marginal::Continuous;
use super::SynthError;

/// At most this many columns, the target included: the copula is a dense matrix over them.
pub const MAX_COLUMNS: usize = 500;
/// At most this many categories in one categorical column or target.
pub const MAX_CATEGORIES: usize = 1000;
/// At most this many points in an `empirical` quantile list.
pub const MAX_QUANTILES: usize = 10_001;
/// At most this many decimals for a numeric column (beyond that an f64 cannot honour them).
pub const MAX_DECIMALS: u32 = 12;
/// Integer bounds stay where an f64 still counts every integer exactly.
const MAX_SAFE_INTEGER: i64 = 1 << 53;

/// A table's schema: feature columns, an optional classification target (generated last in each
/// row) and pairwise correlations in the copula's latent normal space.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct DataSchema {
    /// The feature columns, in output order.
    #[schemars(length(min = 1))]
    pub columns: Vec<ColumnSpec>,
    /// The classification target, if any: a categorical column written after the features.
    // Defaults are omitted when serializing, so requests and responses share one schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetSpec>,
    /// Correlations between pairs of columns (the target's name is allowed) in the latent normal
    /// space; unspecified pairs are independent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub correlations: Vec<Correlation>,
}

/// One feature column: its name and its kind with the kind's parameters.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct ColumnSpec {
    /// Column name, unique in the schema.
    pub name: String,
    #[serde(flatten)]
    pub kind: ColumnKind,
}

/// A column's kind (`"type"`) and parameters.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnKind {
    /// Real numbers drawn from `distribution`, truncated to `[min, max]` when given, rounded to
    /// `decimals` when given.
    Numeric {
        distribution: Distribution,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decimals: Option<u32>,
    },
    /// Integers: the continuous `distribution` truncated to `[min − ½, max + ½]`, then rounded.
    Integer {
        distribution: Distribution,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// One of `categories`, drawn with probabilities proportional to `weights` (an empty `weights`
    /// means equal weights).
    Categorical {
        categories: Vec<String>,
        // Omitted when empty, so requests and responses share one schema in the document.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        weights: Vec<f64>,
    },
    /// `true` with probability `p_true`.
    Boolean { p_true: f64 },
    /// Instants uniform between `start` and `end` (RFC 3339 or `YYYY-MM-DD`), written as RFC 3339
    /// UTC with whole seconds.
    Datetime { start: String, end: String },
}

/// A continuous distribution (`"name"`) and its parameters.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Distribution {
    Normal {
        mean: f64,
        std: f64,
    },
    /// `exp(N(mu, sigma))`.
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Uniform {
        low: f64,
        high: f64,
    },
    Exponential {
        rate: f64,
    },
    Gamma {
        shape: f64,
        scale: f64,
    },
    /// On (0, 1).
    Beta {
        alpha: f64,
        beta: f64,
    },
    /// Sorted values at equally spaced probabilities 0, 1/(n−1), …, 1; sampled by linear
    /// interpolation of this quantile function.
    Empirical {
        quantiles: Vec<f64>,
    },
}

/// The classification target: class names and their natural weights.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct TargetSpec {
    pub name: String,
    pub classes: Vec<String>,
    /// Natural class balance, proportional (need not sum to 1); empty (or absent) means equal
    /// weights.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<f64>,
}

/// A correlation between columns `a` and `b` in the copula's latent normal space. When a pair is
/// listed twice the last entry wins.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct Correlation {
    pub a: String,
    pub b: String,
    pub r: f64,
}

impl DataSchema {
    /// The output header: feature names, then the target's name.
    pub fn header(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| c.name.clone())
            .chain(self.target.iter().map(|t| t.name.clone()))
            .collect()
    }

    /// The feature columns.
    pub fn features(&self) -> &[ColumnSpec] {
        &self.columns
    }

    /// The target's name, if there is a target.
    pub fn target_name(&self) -> Option<&str> {
        self.target.as_ref().map(|t| t.name.as_str())
    }

    /// Position of a column in [`DataSchema::header`] (the target is last).
    pub fn position(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .or_else(|| {
                self.target
                    .as_ref()
                    .filter(|t| t.name == name)
                    .map(|_| self.columns.len())
            })
    }

    /// Checks every parameter and names the first bad field, e.g.
    /// `schema.columns[2].distribution.std`.
    pub fn validate(&self) -> Result<(), SynthError> {
        if self.columns.is_empty() {
            return Err(SynthError::invalid(
                "schema.columns",
                "at least one column is required",
            ));
        }
        let total = self.columns.len() + usize::from(self.target.is_some());
        if total > MAX_COLUMNS {
            return Err(SynthError::invalid(
                "schema.columns",
                format!("at most {MAX_COLUMNS} columns (target included), got {total}"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, column) in self.columns.iter().enumerate() {
            let path = format!("schema.columns[{i}]");
            check_name(&column.name, &format!("{path}.name"))?;
            if !seen.insert(column.name.as_str()) {
                return Err(SynthError::invalid(
                    format!("{path}.name"),
                    format!("duplicate column name {:?}", column.name),
                ));
            }
            column.kind.validate(&path)?;
        }
        if let Some(target) = &self.target {
            check_name(&target.name, "schema.target.name")?;
            if seen.contains(target.name.as_str()) {
                return Err(SynthError::invalid(
                    "schema.target.name",
                    format!("{:?} is also a feature column", target.name),
                ));
            }
            if target.classes.len() < 2 {
                return Err(SynthError::invalid(
                    "schema.target.classes",
                    "a target needs at least 2 classes",
                ));
            }
            check_levels(
                &target.classes,
                &target.weights,
                "schema.target.classes",
                "schema.target.weights",
            )?;
        }
        for (i, c) in self.correlations.iter().enumerate() {
            let path = format!("schema.correlations[{i}]");
            if self.position(&c.a).is_none() {
                return Err(SynthError::invalid(
                    format!("{path}.a"),
                    format!("unknown column {:?}", c.a),
                ));
            }
            if self.position(&c.b).is_none() {
                return Err(SynthError::invalid(
                    format!("{path}.b"),
                    format!("unknown column {:?}", c.b),
                ));
            }
            if c.a == c.b {
                return Err(SynthError::invalid(
                    format!("{path}.b"),
                    "a column cannot be correlated with itself",
                ));
            }
            if !c.r.is_finite() || !(-1.0..=1.0).contains(&c.r) {
                return Err(SynthError::invalid(
                    format!("{path}.r"),
                    format!("must be in [-1, 1], got {}", c.r),
                ));
            }
        }
        Ok(())
    }
}

impl ColumnKind {
    /// The kind's name as it appears in JSON (`"numeric"`, `"integer"`, …).
    pub fn kind_name(&self) -> &'static str {
        match self {
            ColumnKind::Numeric { .. } => "numeric",
            ColumnKind::Integer { .. } => "integer",
            ColumnKind::Categorical { .. } => "categorical",
            ColumnKind::Boolean { .. } => "boolean",
            ColumnKind::Datetime { .. } => "datetime",
        }
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        match self {
            ColumnKind::Numeric {
                distribution,
                min,
                max,
                decimals,
            } => {
                distribution.validate(&format!("{path}.distribution"))?;
                for (bound, name) in [(min, "min"), (max, "max")] {
                    if let Some(v) = bound {
                        if !v.is_finite() {
                            return Err(SynthError::invalid(
                                format!("{path}.{name}"),
                                "must be a finite number",
                            ));
                        }
                    }
                }
                if let (Some(lo), Some(hi)) = (min, max) {
                    if lo > hi {
                        return Err(SynthError::invalid(
                            format!("{path}.min"),
                            format!("min {lo} is greater than max {hi}"),
                        ));
                    }
                }
                if let Some(d) = decimals {
                    if *d > MAX_DECIMALS {
                        return Err(SynthError::invalid(
                            format!("{path}.decimals"),
                            format!("at most {MAX_DECIMALS}, got {d}"),
                        ));
                    }
                }
                // A point range is a constant column; otherwise the range must hold some mass.
                if min.is_none() || max.is_none() || min != max {
                    check_mass(distribution, *min, *max, path)?;
                }
                Ok(())
            }
            ColumnKind::Integer {
                distribution,
                min,
                max,
            } => {
                distribution.validate(&format!("{path}.distribution"))?;
                for (bound, name) in [(min, "min"), (max, "max")] {
                    if let Some(v) = bound {
                        if v.abs() > MAX_SAFE_INTEGER {
                            return Err(SynthError::invalid(
                                format!("{path}.{name}"),
                                format!("must be within ±2^53, got {v}"),
                            ));
                        }
                    }
                }
                if let (Some(lo), Some(hi)) = (min, max) {
                    if lo > hi {
                        return Err(SynthError::invalid(
                            format!("{path}.min"),
                            format!("min {lo} is greater than max {hi}"),
                        ));
                    }
                }
                check_mass(
                    distribution,
                    min.map(|v| v as f64 - 0.5),
                    max.map(|v| v as f64 + 0.5),
                    path,
                )
            }
            ColumnKind::Categorical {
                categories,
                weights,
            } => {
                if categories.is_empty() {
                    return Err(SynthError::invalid(
                        format!("{path}.categories"),
                        "at least one category is required",
                    ));
                }
                check_levels(
                    categories,
                    weights,
                    &format!("{path}.categories"),
                    &format!("{path}.weights"),
                )
            }
            ColumnKind::Boolean { p_true } => {
                if !p_true.is_finite() || !(0.0..=1.0).contains(p_true) {
                    return Err(SynthError::invalid(
                        format!("{path}.p_true"),
                        format!("must be in [0, 1], got {p_true}"),
                    ));
                }
                Ok(())
            }
            ColumnKind::Datetime { start, end } => {
                let s = parse_instant(start).ok_or_else(|| {
                    SynthError::invalid(
                        format!("{path}.start"),
                        format!("not an RFC 3339 instant or YYYY-MM-DD date: {start:?}"),
                    )
                })?;
                let e = parse_instant(end).ok_or_else(|| {
                    SynthError::invalid(
                        format!("{path}.end"),
                        format!("not an RFC 3339 instant or YYYY-MM-DD date: {end:?}"),
                    )
                })?;
                if s >= e {
                    return Err(SynthError::invalid(
                        format!("{path}.end"),
                        format!("end {end} must be after start {start}"),
                    ));
                }
                Ok(())
            }
        }
    }
}

impl Distribution {
    /// The distribution's name as it appears in JSON (`"normal"`, `"gamma"`, …).
    pub fn family(&self) -> &'static str {
        match self {
            Distribution::Normal { .. } => "normal",
            Distribution::Lognormal { .. } => "lognormal",
            Distribution::Uniform { .. } => "uniform",
            Distribution::Exponential { .. } => "exponential",
            Distribution::Gamma { .. } => "gamma",
            Distribution::Beta { .. } => "beta",
            Distribution::Empirical { .. } => "empirical",
        }
    }

    /// Checks the parameters; `path` is the distribution's own path.
    pub fn validate(&self, path: &str) -> Result<(), SynthError> {
        let bad = |field: &str, message: String| {
            Err(SynthError::invalid(format!("{path}.{field}"), message))
        };
        let positive = |field: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                bad(field, format!("must be a positive number, got {v}"))
            }
        };
        let finite = |field: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                bad(field, format!("must be a finite number, got {v}"))
            }
        };
        match self {
            Distribution::Normal { mean, std } => {
                finite("mean", *mean)?;
                positive("std", *std)
            }
            Distribution::Lognormal { mu, sigma } => {
                // exp(mu ± 40·sigma) must stay finite for the quantile function to be usable.
                if !mu.is_finite() || mu.abs() > 300.0 {
                    return bad("mu", format!("must be within ±300, got {mu}"));
                }
                positive("sigma", *sigma)?;
                if *sigma > 20.0 {
                    return bad("sigma", format!("must be at most 20, got {sigma}"));
                }
                Ok(())
            }
            Distribution::Uniform { low, high } => {
                finite("low", *low)?;
                finite("high", *high)?;
                if low >= high {
                    return bad(
                        "high",
                        format!("high {high} must be greater than low {low}"),
                    );
                }
                Ok(())
            }
            Distribution::Exponential { rate } => positive("rate", *rate),
            Distribution::Gamma { shape, scale } => {
                positive("shape", *shape)?;
                positive("scale", *scale)
            }
            Distribution::Beta { alpha, beta } => {
                positive("alpha", *alpha)?;
                positive("beta", *beta)
            }
            Distribution::Empirical { quantiles } => {
                if quantiles.len() < 2 || quantiles.len() > MAX_QUANTILES {
                    return bad(
                        "quantiles",
                        format!("needs 2 to {MAX_QUANTILES} values, got {}", quantiles.len()),
                    );
                }
                for (i, q) in quantiles.iter().enumerate() {
                    if !q.is_finite() {
                        return bad(&format!("quantiles[{i}]"), format!("not finite: {q}"));
                    }
                    if i > 0 && *q < quantiles[i - 1] {
                        return bad(
                            &format!("quantiles[{i}]"),
                            "quantiles must be sorted in non-decreasing order".into(),
                        );
                    }
                }
                Ok(())
            }
        }
    }
}

fn check_name(name: &str, field: &str) -> Result<(), SynthError> {
    if name.trim().is_empty() {
        return Err(SynthError::invalid(field, "must not be empty"));
    }
    if name.chars().count() > 256 {
        return Err(SynthError::invalid(field, "at most 256 characters"));
    }
    Ok(())
}

/// Categories (or classes) must be unique and non-empty; weights non-negative with a positive sum
/// and one per category, or absent for equal weights.
fn check_levels(
    levels: &[String],
    weights: &[f64],
    levels_field: &str,
    weights_field: &str,
) -> Result<(), SynthError> {
    if levels.len() > MAX_CATEGORIES {
        return Err(SynthError::invalid(
            levels_field,
            format!("at most {MAX_CATEGORIES} categories, got {}", levels.len()),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, level) in levels.iter().enumerate() {
        if level.is_empty() {
            return Err(SynthError::invalid(
                format!("{levels_field}[{i}]"),
                "must not be empty",
            ));
        }
        if !seen.insert(level.as_str()) {
            return Err(SynthError::invalid(
                format!("{levels_field}[{i}]"),
                format!("duplicate category {level:?}"),
            ));
        }
    }
    if weights.is_empty() {
        return Ok(());
    }
    if weights.len() != levels.len() {
        return Err(SynthError::invalid(
            weights_field,
            format!("{} weights for {} categories", weights.len(), levels.len()),
        ));
    }
    for (i, w) in weights.iter().enumerate() {
        if !w.is_finite() || *w < 0.0 {
            return Err(SynthError::invalid(
                format!("{weights_field}[{i}]"),
                format!("must be a non-negative number, got {w}"),
            ));
        }
    }
    if weights.iter().sum::<f64>() <= 0.0 {
        return Err(SynthError::invalid(
            weights_field,
            "weights must have a positive sum",
        ));
    }
    Ok(())
}

/// The truncation range must carry probability mass, or truncated sampling has nothing to draw.
fn check_mass(
    distribution: &Distribution,
    lo: Option<f64>,
    hi: Option<f64>,
    path: &str,
) -> Result<(), SynthError> {
    let marginal = Continuous::new(distribution, lo, hi);
    if marginal.mass() <= 1e-12 {
        return Err(SynthError::invalid(
            format!("{path}.min"),
            format!(
                "the {} distribution has (almost) no probability between min and max",
                distribution.family()
            ),
        ));
    }
    Ok(())
}

/// Parses an RFC 3339 instant or a `YYYY-MM-DD` date (midnight UTC) into unix seconds.
pub fn parse_instant(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
}

/// Formats unix seconds as RFC 3339 UTC with whole seconds (`2024-05-01T13:45:00Z`).
pub fn format_instant(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Equal weights when `weights` is empty, otherwise `weights` normalized to sum 1.
pub(crate) fn normalized_weights(count: usize, weights: &[f64]) -> Vec<f64> {
    if weights.is_empty() {
        return vec![1.0 / count as f64; count];
    }
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(mean: f64, std: f64) -> Distribution {
        Distribution::Normal { mean, std }
    }

    fn schema() -> DataSchema {
        DataSchema {
            columns: vec![
                ColumnSpec {
                    name: "x".into(),
                    kind: ColumnKind::Numeric {
                        distribution: normal(0.0, 1.0),
                        min: None,
                        max: None,
                        decimals: Some(2),
                    },
                },
                ColumnSpec {
                    name: "c".into(),
                    kind: ColumnKind::Categorical {
                        categories: vec!["a".into(), "b".into()],
                        weights: vec![0.5, 0.5],
                    },
                },
                ColumnSpec {
                    name: "n".into(),
                    kind: ColumnKind::Numeric {
                        distribution: normal(0.0, 1.0),
                        min: None,
                        max: None,
                        decimals: None,
                    },
                },
            ],
            target: Some(TargetSpec {
                name: "y".into(),
                classes: vec!["0".into(), "1".into()],
                weights: vec![0.9, 0.1],
            }),
            correlations: vec![Correlation {
                a: "x".into(),
                b: "y".into(),
                r: 0.3,
            }],
        }
    }

    fn field_of(result: Result<(), SynthError>) -> String {
        match result {
            Err(SynthError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn valid_schema_passes_and_header_puts_target_last() {
        let s = schema();
        s.validate().unwrap();
        assert_eq!(s.header(), vec!["x", "c", "n", "y"]);
        assert_eq!(s.target_name(), Some("y"));
        assert_eq!(s.position("y"), Some(3));
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut s = schema();
        s.columns[2].kind = ColumnKind::Numeric {
            distribution: normal(0.0, -1.0),
            min: None,
            max: None,
            decimals: None,
        };
        assert_eq!(field_of(s.validate()), "schema.columns[2].distribution.std");

        let mut s = schema();
        s.columns[1].name = "x".into();
        assert_eq!(field_of(s.validate()), "schema.columns[1].name");

        let mut s = schema();
        s.correlations[0].r = 1.5;
        assert_eq!(field_of(s.validate()), "schema.correlations[0].r");

        let mut s = schema();
        s.correlations[0].b = "nope".into();
        assert_eq!(field_of(s.validate()), "schema.correlations[0].b");

        let mut s = schema();
        s.target.as_mut().unwrap().weights = vec![1.0];
        assert_eq!(field_of(s.validate()), "schema.target.weights");

        let mut s = schema();
        s.columns[0].kind = ColumnKind::Numeric {
            distribution: normal(0.0, 1.0),
            min: Some(100.0),
            max: Some(200.0),
            decimals: None,
        };
        assert_eq!(field_of(s.validate()), "schema.columns[0].min");

        let mut s = schema();
        s.columns[0].kind = ColumnKind::Datetime {
            start: "2024-02-01".into(),
            end: "2024-01-01T00:00:00Z".into(),
        };
        assert_eq!(field_of(s.validate()), "schema.columns[0].end");

        let mut s = schema();
        s.columns.clear();
        assert_eq!(field_of(s.validate()), "schema.columns");
    }

    #[test]
    fn json_shape_is_internally_tagged_and_round_trips() {
        let s = schema();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["columns"][0]["type"], "numeric");
        assert_eq!(v["columns"][0]["distribution"]["name"], "normal");
        assert_eq!(v["columns"][0]["decimals"], 2);
        let back: DataSchema = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);

        // What an LLM would plausibly write: integers for floats, no target/correlations.
        let text = r#"{"columns":[{"name":"age","type":"integer",
            "distribution":{"name":"normal","mean":40,"std":12},"min":18,"max":90},
            {"name":"ok","type":"boolean","p_true":0.5}]}"#;
        let parsed: DataSchema = serde_json::from_str(text).unwrap();
        parsed.validate().unwrap();
        assert!(parsed.target.is_none() && parsed.correlations.is_empty());
        let json_schema = serde_json::to_value(schemars::schema_for!(DataSchema)).unwrap();
        assert!(json_schema.to_string().contains("lognormal"));
    }

    #[test]
    fn instants_parse_and_format() {
        assert_eq!(parse_instant("1970-01-02"), Some(86_400));
        assert_eq!(parse_instant("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_instant("yesterday"), None);
        assert_eq!(format_instant(86_400), "1970-01-02T00:00:00Z");
    }
}
