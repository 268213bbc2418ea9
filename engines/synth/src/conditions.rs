//! Conditional sampling: rows whose columns take a fixed value, fall in a range, or follow
//! given category shares.
//!
//! Every condition restricts one column's latent normal z_k: a fixed numeric value to the point
//! Φ⁻¹(F(value)), a range to [Φ⁻¹(F(min)), Φ⁻¹(F(max))], a category to its frequency interval.
//! Category shares pick each row's category first, with exact counts (largest remainder, then
//! sequential draws without replacement, as the class balance does), and then restrict to it.
//!
//! The latent order is permuted so the point conditions come first, then the interval with the
//! smallest probability, then every other column, and the correlation matrix is factored in
//! that order. With L the Cholesky factor, z_i = Σ_{j<i} L_ij ε_j + L_ii ε_i, so solving for
//! ε_i fixes the points exactly, and drawing ε_i from a truncated normal puts z_i in its
//! interval: both are the exact conditional of the Gaussian copula (the "copula" method). Any
//! further interval is met by rejection: the row is drawn again, by [`crate::Constrained`],
//! which bounds the draws and gives up with [`SynthError::Unsatisfiable`] naming the condition
//! that rejected most. A condition no row can meet (a value outside the column's support, a
//! category of zero weight) is refused before any draw.

use std::collections::BTreeMap;

use nalgebra::{Cholesky, DMatrix};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, StandardNormal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::copula::effective_correlation;
use crate::generate::{draw_without_replacement, open_unit};
use crate::marginal::{ColumnModel, Levels};
use crate::schema::{parse_instant, DataSchema};
use crate::stats::{norm_cdf, norm_ppf};
use crate::table::{Cell, Row};
use crate::SynthError;

/// Conditions one request may give.
pub const MAX_CONDITIONS: usize = 20;

/// One condition, as a request names it: `column` with exactly one of `value`, a range
/// (`min` and/or `max`), or category shares (`values`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub column: String,
    /// Every row has this value: a category, a boolean, a number, or for a datetime column an
    /// ISO 8601 instant or Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Every row's value is at least this (numeric, integer and datetime columns; a datetime's
    /// as an ISO 8601 instant or Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<RangeEnd>,
    /// Every row's value is at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<RangeEnd>,
    /// Category (or `true`/`false`) → share of the rows; shares are normalized to sum to 1 and
    /// met exactly (largest remainder), categories left out get none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<BTreeMap<String, f64>>,
}

/// A range's end: a number, or (for a datetime column) an ISO 8601 instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RangeEnd {
    Number(f64),
    Instant(String),
}

impl RangeEnd {
    /// The end as a number: an instant as Unix seconds, on a datetime column only.
    fn number(&self, field: &str, datetime: bool) -> Result<f64, SynthError> {
        match self {
            RangeEnd::Number(x) => Ok(*x),
            RangeEnd::Instant(s) if datetime => {
                parse_instant(s).map(|t| t as f64).ok_or_else(|| {
                    SynthError::invalid(field, format!("{s:?} is not an ISO 8601 instant"))
                })
            }
            RangeEnd::Instant(s) => Err(SynthError::invalid(
                field,
                format!("a range needs numbers on this column, got {s:?}"),
            )),
        }
    }
}

impl Condition {
    /// `value`, `range` or `shares`.
    pub fn kind(&self) -> &'static str {
        if self.values.is_some() {
            "shares"
        } else if self.value.is_some() {
            "value"
        } else {
            "range"
        }
    }
}

/// What one condition did over a generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConditionReport {
    pub column: String,
    /// `value`, `range` or `shares`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `copula`: sampled from the copula conditioned on it, so no draw is lost to it;
    /// `rejection`: draws outside it are drawn again.
    pub method: String,
    /// Draws it rejected.
    pub rejected: u64,
    /// Rows per category (shares only), as emitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<BTreeMap<String, u64>>,
}

/// All conditions' outcome: every emitted row met each of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConditionsReport {
    pub conditions: Vec<ConditionReport>,
    /// Rows drawn, including the rejected ones (by conditions or constraints).
    pub draws: u64,
    pub accepted: u64,
    /// accepted / draws.
    pub acceptance: f64,
}

/// How a condition restricts its column's latent normal.
#[derive(Debug, Clone)]
enum Restriction {
    /// z fixed; the cell written as the value given.
    Point { z: f64, cell: Cell },
    /// z in [a, b]; `cell`: the one category it stands for, else the value range to clamp
    /// rounding into.
    Interval {
        a: f64,
        b: f64,
        cell: Option<Cell>,
        range: (f64, f64),
    },
    /// One level per row, with exact counts.
    Levels {
        intervals: Vec<(f64, f64)>,
        cells: Vec<Cell>,
        names: Vec<String>,
        remaining: Vec<u64>,
        total: u64,
        chosen: usize,
        emitted: Vec<u64>,
    },
}

impl Restriction {
    /// The z interval the current row must fall in.
    fn interval(&self) -> (f64, f64) {
        match self {
            Restriction::Point { z, .. } => (*z, *z),
            Restriction::Interval { a, b, .. } => (*a, *b),
            Restriction::Levels {
                intervals, chosen, ..
            } => intervals[*chosen],
        }
    }

    /// Probability that an unconditioned draw meets it (averaged over the levels' shares).
    fn mass(&self) -> f64 {
        match self {
            Restriction::Point { .. } => 0.0,
            Restriction::Interval { a, b, .. } => z_mass(*a, *b),
            Restriction::Levels {
                intervals,
                remaining,
                total,
                ..
            } => intervals
                .iter()
                .zip(remaining)
                .map(|(&(a, b), &n)| z_mass(a, b) * n as f64 / (*total).max(1) as f64)
                .sum(),
        }
    }

    /// Whether the cell (after any constraint transform) meets it.
    fn met_by(&self, cell: &Cell) -> bool {
        match self {
            Restriction::Point { cell: want, .. } => cell == want,
            Restriction::Interval {
                cell: Some(want), ..
            } => cell == want,
            Restriction::Interval {
                cell: None,
                range: (lo, hi),
                ..
            } => number(cell).is_some_and(|x| x >= *lo && x <= *hi),
            Restriction::Levels { cells, chosen, .. } => cell == &cells[*chosen],
        }
    }
}

fn z_mass(a: f64, b: f64) -> f64 {
    (norm_cdf(b) - norm_cdf(a)).max(0.0)
}

fn number(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Num(x) => Some(*x),
        Cell::Int(i) => Some(*i as f64),
        Cell::Time(t) => Some(*t as f64),
        _ => None,
    }
}

/// Φ⁻¹ that keeps 0 and 1 as ∓∞ (an unbounded side).
fn z_of(u: f64) -> f64 {
    if u <= 0.0 {
        f64::NEG_INFINITY
    } else if u >= 1.0 {
        f64::INFINITY
    } else {
        norm_ppf(u)
    }
}

/// A standard normal truncated to [a, b], by inversion; an interval above 0 is drawn on the
/// mirrored side, where Φ keeps its relative precision.
fn truncated_normal(rng: &mut ChaCha8Rng, a: f64, b: f64) -> f64 {
    if a >= b {
        return a;
    }
    if a > 0.0 {
        return -truncated_normal(rng, -b, -a);
    }
    let (pa, pb) = (norm_cdf(a), norm_cdf(b));
    let u = pa + (pb - pa) * open_unit(rng);
    norm_ppf(u).clamp(a, b)
}

struct Bound {
    /// The request's index (`conditions[i]`); `None` for a class balance turned into a
    /// restriction of the target.
    index: Option<usize>,
    column: String,
    kind: &'static str,
    latent: usize,
    /// Position of the cell in a row.
    at: usize,
    restriction: Restriction,
    rejected: u64,
}

/// The copula conditioned on a request's conditions (see the module doc).
pub(crate) struct Conditioned {
    bound: Vec<Bound>,
    /// Permuted position → latent index.
    order: Vec<usize>,
    /// The factor of the permuted correlation matrix, dense, row-major.
    factor: Vec<f64>,
    points: usize,
    /// `bound` index of the interval sampled exactly (at position `points`).
    exact: Option<usize>,
    eps: Vec<f64>,
}

/// A class plan of the generator, handed over when conditions take sampling over.
pub(crate) struct ClassCounts {
    pub remaining: Vec<u64>,
    pub total: u64,
}

impl Conditioned {
    /// Binds `conditions` to the schema's column models (`features` in schema order, `target`
    /// the target's levels). `classes`: the exact class counts the balance asked for, if any.
    pub(crate) fn new(
        schema: &DataSchema,
        features: &[ColumnModel],
        target: Option<&Levels>,
        conditions: &[Condition],
        classes: Option<ClassCounts>,
        count: u64,
    ) -> Result<Conditioned, SynthError> {
        let offset = usize::from(target.is_some());
        let mut bound: Vec<Bound> = Vec::with_capacity(conditions.len() + 1);
        for (i, c) in conditions.iter().enumerate() {
            let field = format!("conditions[{i}]");
            let given = [c.value.is_some(), c.min.is_some() || c.max.is_some()]
                .into_iter()
                .chain([c.values.is_some()])
                .filter(|x| *x)
                .count();
            if given != 1 {
                return Err(SynthError::invalid(
                    &field,
                    "give exactly one of value, a range (min and/or max), or values (shares)",
                ));
            }
            if bound.iter().any(|b| b.column == c.column) {
                return Err(SynthError::invalid(
                    &field,
                    format!("{:?} already has a condition: one per column", c.column),
                ));
            }
            let (latent, at, model) = if schema.target_name() == Some(c.column.as_str()) {
                let levels = target.expect("a target name means a target");
                if classes.is_some() {
                    return Err(SynthError::invalid(
                        &field,
                        "the target's classes are already set by the requested balance; \
                         give the balance or a condition on the target, not both",
                    ));
                }
                (0, features.len(), Model::Levels(levels))
            } else if let Some(j) = schema.columns.iter().position(|s| s.name == c.column) {
                let model = match &features[j] {
                    ColumnModel::Levels(l) => Model::Levels(l),
                    other => Model::Continuous(other),
                };
                (j + offset, j, model)
            } else {
                return Err(SynthError::invalid(
                    &field,
                    format!(
                        "no column {:?} (columns: {})",
                        c.column,
                        schema.header().join(", ")
                    ),
                ));
            };
            let restriction = restrict(&field, c, model, count)?;
            bound.push(Bound {
                index: Some(i),
                column: c.column.clone(),
                kind: c.kind(),
                latent,
                at,
                restriction,
                rejected: 0,
            });
        }
        if let (Some(counts), Some(levels)) = (classes, target) {
            bound.push(Bound {
                index: None,
                column: schema.target_name().unwrap_or_default().to_string(),
                kind: "shares",
                latent: 0,
                at: features.len(),
                restriction: levels_restriction(levels, counts.remaining, counts.total),
                rejected: 0,
            });
        }
        // Points first, then the rarest interval, then the rest in latent order.
        let mut first: Vec<usize> = (0..bound.len())
            .filter(|&b| matches!(bound[b].restriction, Restriction::Point { .. }))
            .collect();
        let points = first.len();
        let exact = (0..bound.len())
            .filter(|&b| !matches!(bound[b].restriction, Restriction::Point { .. }))
            .min_by(|&x, &y| {
                bound[x]
                    .restriction
                    .mass()
                    .total_cmp(&bound[y].restriction.mass())
            });
        first.extend(exact);
        let dim = schema.columns.len() + offset;
        let mut order: Vec<usize> = first.iter().map(|&b| bound[b].latent).collect();
        let rest: Vec<usize> = (0..dim).filter(|k| !order.contains(k)).collect();
        order.extend(rest);
        let corr = effective_correlation(schema);
        let permuted = DMatrix::from_fn(dim, dim, |i, j| corr[(order[i], order[j])]);
        let l = Cholesky::new(permuted)
            .map(|c| c.l())
            // The effective matrix is positive definite, and so is any permutation of it.
            .unwrap_or_else(|| DMatrix::identity(dim, dim));
        let factor = (0..dim * dim).map(|x| l[(x / dim, x % dim)]).collect();
        Ok(Conditioned {
            bound,
            order,
            factor,
            points,
            exact,
            eps: vec![0.0; dim],
        })
    }

    /// Draws the latent normals (latent order) of the next row into `z`; `fresh`: a new row
    /// (each share condition picks its level), else another draw for the same row.
    pub(crate) fn draw(&mut self, rng: &mut ChaCha8Rng, fresh: bool, z: &mut [f64]) {
        if fresh {
            for b in &mut self.bound {
                if let Restriction::Levels {
                    remaining,
                    total,
                    chosen,
                    ..
                } = &mut b.restriction
                {
                    if *total > 0 {
                        *chosen = draw_without_replacement(rng, remaining, total);
                    }
                }
            }
        }
        let dim = self.order.len();
        let exact = self.exact.map(|b| self.bound[b].restriction.interval());
        let point_z: Vec<f64> = self.bound[..]
            .iter()
            .filter_map(|b| match b.restriction {
                Restriction::Point { z, .. } => Some(z),
                _ => None,
            })
            .collect();
        for pos in 0..dim {
            let row = &self.factor[pos * dim..pos * dim + pos + 1];
            let s: f64 = row[..pos]
                .iter()
                .zip(&self.eps[..pos])
                .map(|(l, e)| l * e)
                .sum();
            let d = row[pos];
            let e = if pos < self.points {
                if d > 1e-12 {
                    (point_z[pos] - s) / d
                } else {
                    0.0
                }
            } else if pos == self.points && exact.is_some() && d > 1e-12 {
                let (a, b) = exact.expect("checked");
                truncated_normal(rng, (a - s) / d, (b - s) / d)
            } else {
                StandardNormal.sample(rng)
            };
            self.eps[pos] = e;
            z[self.order[pos]] = s + d * e;
        }
    }

    /// Writes the conditioned cells: a point's value as given, a met interval's category or
    /// its value clamped into the range (rounding and table interpolation can step just
    /// outside). A missed interval is left as drawn, for the check to reject.
    pub(crate) fn settle(&self, z: &[f64], row: &mut Row) {
        for b in &self.bound {
            let (a, hi) = b.restriction.interval();
            let inside = z[b.latent] >= a && z[b.latent] <= hi;
            match &b.restriction {
                Restriction::Point { cell, .. } => row[b.at] = cell.clone(),
                _ if !inside => {}
                Restriction::Interval {
                    cell: Some(cell), ..
                } => row[b.at] = cell.clone(),
                Restriction::Interval {
                    cell: None,
                    range: (lo, hi),
                    ..
                } => {
                    row[b.at] = match row[b.at] {
                        Cell::Num(x) => Cell::Num(x.clamp(*lo, *hi)),
                        Cell::Int(x) => Cell::Int(x.clamp(lo.ceil() as i64, hi.floor() as i64)),
                        Cell::Time(x) => Cell::Time(x.clamp(lo.ceil() as i64, hi.floor() as i64)),
                        ref other => other.clone(),
                    }
                }
                Restriction::Levels { cells, chosen, .. } => row[b.at] = cells[*chosen].clone(),
            }
        }
    }

    /// Whether the row meets every condition; counts a rejection against each one it misses
    /// (the balance's restriction is not a condition and is never missed: it is exact or
    /// sampled exactly).
    pub(crate) fn check(&mut self, row: &Row) -> bool {
        let mut ok = true;
        for b in &mut self.bound {
            if !b.restriction.met_by(&row[b.at]) {
                b.rejected += 1;
                ok = false;
            }
        }
        ok
    }

    /// Counts an emitted row for the share conditions.
    pub(crate) fn emitted(&mut self) {
        for b in &mut self.bound {
            if let Restriction::Levels {
                emitted, chosen, ..
            } = &mut b.restriction
            {
                emitted[*chosen] += 1;
            }
        }
    }

    /// Each condition's report, in request order.
    pub(crate) fn reports(&self) -> Vec<ConditionReport> {
        let mut out: Vec<(usize, ConditionReport)> = Vec::new();
        for (k, b) in self.bound.iter().enumerate() {
            let Some(i) = b.index else { continue };
            let method =
                if matches!(b.restriction, Restriction::Point { .. }) || self.exact == Some(k) {
                    "copula"
                } else {
                    "rejection"
                };
            let counts = match &b.restriction {
                Restriction::Levels { names, emitted, .. } => {
                    Some(names.iter().cloned().zip(emitted.iter().copied()).collect())
                }
                _ => None,
            };
            out.push((
                i,
                ConditionReport {
                    column: b.column.clone(),
                    kind: b.kind.to_string(),
                    method: method.to_string(),
                    rejected: b.rejected,
                    counts,
                },
            ));
        }
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, r)| r).collect()
    }

    /// The condition that rejected most draws: its request index, count and column.
    pub(crate) fn worst(&self) -> Option<(usize, u64, &str)> {
        self.bound
            .iter()
            .filter_map(|b| b.index.map(|i| (i, b.rejected, b.column.as_str())))
            .filter(|(_, r, _)| *r > 0)
            .max_by_key(|(_, r, _)| *r)
    }
}

enum Model<'a> {
    Levels(&'a Levels),
    Continuous(&'a ColumnModel),
}

fn unsatisfiable(field: &str, message: String) -> SynthError {
    SynthError::Unsatisfiable {
        field: field.to_string(),
        message,
    }
}

fn levels_restriction(levels: &Levels, remaining: Vec<u64>, total: u64) -> Restriction {
    let n = levels.len();
    Restriction::Levels {
        intervals: (0..n)
            .map(|i| {
                let (a, b) = levels.interval(i);
                (z_of(a), z_of(b))
            })
            .collect(),
        cells: (0..n).map(|i| levels.cell(i)).collect(),
        names: levels.names.clone(),
        remaining,
        total,
        chosen: 0,
        emitted: vec![0; n],
    }
}

/// The level a JSON value names (a category's text, `true`/`false`, or a number's text).
fn level_of(levels: &Levels, v: &Value) -> Option<usize> {
    match v {
        Value::String(s) => levels.index_of_name(s),
        Value::Bool(b) => levels.index_of_name(if *b { "true" } else { "false" }),
        Value::Number(n) => levels.index_of_name(&n.to_string()).or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0)
                .and_then(|f| levels.index_of_name(&(f as i64).to_string()))
        }),
        _ => None,
    }
}

fn restrict(
    field: &str,
    c: &Condition,
    model: Model<'_>,
    count: u64,
) -> Result<Restriction, SynthError> {
    match model {
        Model::Levels(levels) => {
            let names = || levels.names.join(", ");
            if c.min.is_some() || c.max.is_some() {
                return Err(SynthError::invalid(
                    field,
                    format!(
                        "{:?} is categorical: give a value or values (shares), not a range",
                        c.column
                    ),
                ));
            }
            if let Some(v) = &c.value {
                let Some(i) = level_of(levels, v) else {
                    return Err(SynthError::invalid(
                        field,
                        format!("{v} is not a value of {:?} ({})", c.column, names()),
                    ));
                };
                if levels.weights[i] <= 0.0 {
                    return Err(unsatisfiable(
                        field,
                        format!(
                            "{:?} never takes {v}: its weight is 0, so no row can meet it",
                            c.column
                        ),
                    ));
                }
                let (a, b) = levels.interval(i);
                return Ok(Restriction::Interval {
                    a: z_of(a),
                    b: z_of(b),
                    cell: Some(levels.cell(i)),
                    range: (f64::NEG_INFINITY, f64::INFINITY),
                });
            }
            let shares = c.values.as_ref().expect("one of the three is given");
            let mut weights = vec![0.0; levels.len()];
            for (name, &share) in shares {
                let Some(i) = levels.index_of_name(name) else {
                    return Err(SynthError::invalid(
                        field,
                        format!("{name:?} is not a value of {:?} ({})", c.column, names()),
                    ));
                };
                if !share.is_finite() || share < 0.0 {
                    return Err(SynthError::invalid(
                        field,
                        format!("the share of {name:?} must be a number ≥ 0, got {share}"),
                    ));
                }
                if share > 0.0 && levels.weights[i] <= 0.0 {
                    return Err(unsatisfiable(
                        field,
                        format!("{:?} never takes {name:?}: its weight is 0", c.column),
                    ));
                }
                weights[i] = share;
            }
            if weights.iter().sum::<f64>() <= 0.0 {
                return Err(SynthError::invalid(field, "the shares must not all be 0"));
            }
            let remaining = crate::generate::largest_remainder(&weights, count);
            Ok(levels_restriction(levels, remaining, count))
        }
        Model::Continuous(model) => {
            if c.values.is_some() {
                return Err(SynthError::invalid(
                    field,
                    format!(
                        "{:?} is not categorical: give a value or a range, not shares",
                        c.column
                    ),
                ));
            }
            let (marginal, lo, hi, whole) = match model {
                ColumnModel::Numeric {
                    marginal, lo, hi, ..
                } => (marginal, *lo, *hi, false),
                ColumnModel::Integer { marginal, min, max } => {
                    (marginal, *min as f64, *max as f64, true)
                }
                ColumnModel::Datetime { marginal } => (
                    marginal,
                    marginal.quantile(0.0),
                    marginal.quantile(1.0),
                    true,
                ),
                ColumnModel::Levels(_) => unreachable!("levels are handled above"),
            };
            let datetime = matches!(model, ColumnModel::Datetime { .. });
            if let Some(v) = &c.value {
                let x = match v {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) if datetime => parse_instant(s).map(|t| t as f64),
                    _ => None,
                };
                let Some(x) = x.filter(|x| x.is_finite()) else {
                    return Err(SynthError::invalid(
                        field,
                        format!(
                            "{:?} needs a number{}, got {v}",
                            c.column,
                            if datetime {
                                " (Unix seconds) or an ISO 8601 instant"
                            } else {
                                ""
                            }
                        ),
                    ));
                };
                if whole && x.fract() != 0.0 {
                    return Err(SynthError::invalid(
                        field,
                        format!("{:?} holds whole numbers, got {x}", c.column),
                    ));
                }
                if x < lo || x > hi {
                    return Err(unsatisfiable(
                        field,
                        format!(
                            "{:?} only takes values in [{lo}, {hi}], so no row can be {x}",
                            c.column
                        ),
                    ));
                }
                let cell = match model {
                    ColumnModel::Integer { .. } => Cell::Int(x as i64),
                    ColumnModel::Datetime { .. } => Cell::Time(x as i64),
                    _ => Cell::Num(x),
                };
                // The latent of the value's quantile (an integer's: its interval's middle).
                let u = if whole {
                    0.5 * (marginal.cdf(x - 0.5) + marginal.cdf(x + 0.5))
                } else {
                    marginal.cdf(x)
                };
                let z = norm_ppf(u);
                return Ok(Restriction::Point { z, cell });
            }
            let (min, max) = (
                c.min
                    .as_ref()
                    .map_or(Ok(f64::NEG_INFINITY), |b| b.number(field, datetime))?,
                c.max
                    .as_ref()
                    .map_or(Ok(f64::INFINITY), |b| b.number(field, datetime))?,
            );
            if min.is_nan() || max.is_nan() || min > max {
                return Err(SynthError::invalid(field, "min is above max"));
            }
            // Integers and seconds are rounded from the latent value: widen to the rounding
            // interval of the whole numbers inside the range.
            let (a_x, b_x) = if whole {
                (min.ceil() - 0.5, max.floor() + 0.5)
            } else {
                (min, max)
            };
            let (ua, ub) = (
                if a_x == f64::NEG_INFINITY {
                    0.0
                } else {
                    marginal.cdf(a_x)
                },
                if b_x == f64::INFINITY {
                    1.0
                } else {
                    marginal.cdf(b_x)
                },
            );
            if ub - ua <= 0.0 || b_x < a_x {
                return Err(unsatisfiable(
                    field,
                    format!(
                        "{:?} has no probability in [{min}, {max}]: its values lie in [{lo}, {hi}]",
                        c.column
                    ),
                ));
            }
            Ok(Restriction::Interval {
                a: z_of(ua),
                b: z_of(ub),
                cell: None,
                range: (min, max),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraints::{Constrained, Constraint};
    use crate::generate::{Balance, Generator};
    use crate::schema::{ColumnKind, ColumnSpec, Correlation, Distribution, TargetSpec};

    fn normal(name: &str) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            kind: ColumnKind::Numeric {
                distribution: Distribution::Normal {
                    mean: 0.0,
                    std: 1.0,
                },
                min: None,
                max: None,
                decimals: None,
            },
        }
    }

    /// x, y standard normal with r = 0.8; n an integer in [0, 10]; city categorical with a
    /// never-seen "rome"; when a datetime; target y2 with classes no/yes at 0.7/0.3.
    fn schema() -> DataSchema {
        DataSchema {
            columns: vec![
                normal("x"),
                normal("y"),
                ColumnSpec {
                    name: "n".into(),
                    kind: ColumnKind::Integer {
                        distribution: Distribution::Uniform {
                            low: 0.0,
                            high: 10.0,
                        },
                        min: Some(0),
                        max: Some(10),
                    },
                },
                ColumnSpec {
                    name: "city".into(),
                    kind: ColumnKind::Categorical {
                        categories: vec!["paris".into(), "lyon".into(), "rome".into()],
                        weights: vec![0.6, 0.4, 0.0],
                    },
                },
                ColumnSpec {
                    name: "when".into(),
                    kind: ColumnKind::Datetime {
                        start: "2024-01-01T00:00:00Z".into(),
                        end: "2024-12-31T00:00:00Z".into(),
                    },
                },
            ],
            target: Some(TargetSpec {
                name: "label".into(),
                classes: vec!["no".into(), "yes".into()],
                weights: vec![0.7, 0.3],
            }),
            correlations: vec![
                Correlation {
                    a: "x".into(),
                    b: "y".into(),
                    r: 0.8,
                },
                Correlation {
                    a: "x".into(),
                    b: "label".into(),
                    r: 0.5,
                },
            ],
        }
    }

    fn cond(json: serde_json::Value) -> Condition {
        serde_json::from_value(json).unwrap()
    }

    fn run(
        conditions: &[Condition],
        constraints: &[Constraint],
        balance: Balance,
        seed: u64,
        count: u64,
    ) -> Result<(Vec<Row>, ConditionsReport), SynthError> {
        let s = schema();
        let g = Generator::new(&s, seed, balance, count)?;
        let mut c = Constrained::new(g, &s, constraints, conditions, None)?;
        let rows: Vec<Row> = c.by_ref().collect();
        if let Some(e) = c.failure() {
            return Err(e);
        }
        Ok((rows, c.conditions_report().unwrap()))
    }

    fn num(cell: &Cell) -> f64 {
        match cell {
            Cell::Num(x) => *x,
            Cell::Int(i) => *i as f64,
            Cell::Time(t) => *t as f64,
            other => panic!("not a number: {other:?}"),
        }
    }

    fn mean_std(v: &[f64]) -> (f64, f64) {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
        (m, var.sqrt())
    }

    #[test]
    fn a_fixed_value_gives_the_copulas_exact_conditional() {
        let (rows, report) = run(
            &[cond(serde_json::json!({"column": "x", "value": 1.5}))],
            &[],
            Balance::Natural,
            3,
            20_000,
        )
        .unwrap();
        assert_eq!(rows.len(), 20_000);
        assert!(rows.iter().all(|r| r[0] == Cell::Num(1.5)));
        // y | x = 1.5 ~ N(0.8 · 1.5, 1 − 0.64).
        let ys: Vec<f64> = rows.iter().map(|r| num(&r[1])).collect();
        let (m, s) = mean_std(&ys);
        assert!((m - 1.2).abs() < 0.02, "{m}");
        assert!((s - 0.6).abs() < 0.02, "{s}");
        assert_eq!(report.conditions[0].method, "copula");
        assert_eq!(report.draws, 20_000, "no draw is lost");
        assert_eq!(report.acceptance, 1.0);
    }

    #[test]
    fn a_rare_range_is_sampled_exactly_not_by_rejection() {
        // P(x > 3) ≈ 0.00135: rejection would need ~740 draws a row.
        let (rows, report) = run(
            &[cond(serde_json::json!({"column": "x", "min": 3.0}))],
            &[],
            Balance::Natural,
            5,
            20_000,
        )
        .unwrap();
        let xs: Vec<f64> = rows.iter().map(|r| num(&r[0])).collect();
        assert!(xs.iter().all(|&x| x >= 3.0));
        // E[x | x > 3] = φ(3) / (1 − Φ(3)) ≈ 3.2831; E[y | x > 3] = 0.8 of it.
        let (mx, _) = mean_std(&xs);
        assert!((mx - 3.2831).abs() < 0.01, "{mx}");
        let (my, _) = mean_std(&rows.iter().map(|r| num(&r[1])).collect::<Vec<_>>());
        assert!((my - 0.8 * 3.2831).abs() < 0.03, "{my}");
        assert_eq!(report.conditions[0].method, "copula");
        assert_eq!(report.conditions[0].rejected, 0);
        assert_eq!(report.draws, 20_000);
    }

    #[test]
    fn several_conditions_and_a_constraint_hold_on_every_row_over_many_seeds() {
        let conditions = [
            cond(serde_json::json!({"column": "x", "min": -1.0, "max": 0.5})),
            cond(serde_json::json!({"column": "n", "min": 2.2, "max": 6})),
            cond(serde_json::json!({"column": "city", "values": {"paris": 0.25, "lyon": 0.75}})),
            cond(serde_json::json!({"column": "when", "value": "2024-06-01T00:00:00Z"})),
        ];
        // A datetime range by ISO instants, read as Unix seconds.
        let (rows, _) = run(
            &[cond(
                serde_json::json!({"column": "when", "min": "2024-03-01T00:00:00Z",
                                      "max": "2024-03-31"}),
            )],
            &[],
            Balance::Natural,
            2,
            300,
        )
        .unwrap();
        let (lo, hi) = (
            parse_instant("2024-03-01T00:00:00Z").unwrap(),
            parse_instant("2024-03-31").unwrap(),
        );
        assert!(rows
            .iter()
            .all(|r| matches!(r[4], Cell::Time(t) if (lo..=hi).contains(&t))));
        let constraints = [Constraint::Inequality {
            low: "x".into(),
            high: "y".into(),
            or_equal: false,
        }];
        let when = parse_instant("2024-06-01T00:00:00Z").unwrap();
        for seed in 0..20 {
            let (rows, report) =
                run(&conditions, &constraints, Balance::Stratified, seed, 400).unwrap();
            assert_eq!(rows.len(), 400);
            let mut cities = BTreeMap::new();
            let mut labels = BTreeMap::new();
            for r in &rows {
                let (x, y, n) = (num(&r[0]), num(&r[1]), num(&r[2]));
                assert!((-1.0..=0.5).contains(&x) && x < y, "{r:?}");
                assert!(
                    matches!(r[2], Cell::Int(_)) && (3.0..=6.0).contains(&n),
                    "{r:?}"
                );
                assert_eq!(r[4], Cell::Time(when));
                *cities.entry(r[3].to_json().to_string()).or_insert(0) += 1;
                *labels.entry(r[5].to_json().to_string()).or_insert(0) += 1;
            }
            // Shares and the stratified balance are both exact.
            assert_eq!(cities["\"paris\""], 100);
            assert_eq!(cities["\"lyon\""], 300);
            assert_eq!(labels["\"no\""], 200);
            assert_eq!(labels["\"yes\""], 200);
            let counts = report.conditions[2].counts.as_ref().unwrap();
            assert_eq!(
                (counts["paris"], counts["lyon"], counts["rome"]),
                (100, 300, 0)
            );
            // One interval is sampled exactly, the other by rejection; the point is exact.
            let methods: Vec<&str> = report
                .conditions
                .iter()
                .map(|c| c.method.as_str())
                .collect();
            assert_eq!(
                methods.iter().filter(|m| **m == "copula").count(),
                2,
                "{methods:?}"
            );
            assert_eq!(methods[3], "copula");
            assert_eq!(report.accepted, 400);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_rows() {
        let c = [cond(serde_json::json!({"column": "label", "value": "yes"}))];
        let a = run(&c, &[], Balance::Natural, 9, 500).unwrap().0;
        let b = run(&c, &[], Balance::Natural, 9, 500).unwrap().0;
        assert_eq!(a, b);
        assert!(a.iter().all(|r| r[5] == Cell::Text("yes".into())));
    }

    #[test]
    fn conditions_no_row_can_meet_are_refused_before_drawing() {
        for (c, field) in [
            (
                serde_json::json!({"column": "city", "value": "rome"}),
                "conditions[0]",
            ),
            (
                serde_json::json!({"column": "n", "min": 11}),
                "conditions[0]",
            ),
            (
                serde_json::json!({"column": "n", "value": 12}),
                "conditions[0]",
            ),
            (
                serde_json::json!({"column": "n", "min": 3.2, "max": 3.8}),
                "conditions[0]",
            ),
            (
                serde_json::json!({"column": "city", "values": {"rome": 1.0}}),
                "conditions[0]",
            ),
        ] {
            match run(&[cond(c.clone())], &[], Balance::Natural, 1, 10) {
                Err(SynthError::Unsatisfiable { field: f, .. }) => assert_eq!(f, field, "{c}"),
                other => panic!("{c}: {:?}", other.map(|r| r.1)),
            }
        }
    }

    #[test]
    fn conditions_too_rare_together_end_in_unsatisfiable_not_a_hang() {
        // x > 2 is sampled exactly; y < −2 given x > 2 almost never happens (r = 0.8).
        let c = [
            cond(serde_json::json!({"column": "x", "min": 2.0})),
            cond(serde_json::json!({"column": "y", "max": -2.0})),
        ];
        match run(&c, &[], Balance::Natural, 1, 1000) {
            Err(SynthError::Unsatisfiable { field, message }) => {
                assert_eq!(field, "conditions[1]", "{message}");
            }
            other => panic!("{:?}", other.map(|r| r.1)),
        }
    }

    #[test]
    fn bad_conditions_are_named() {
        for c in [
            serde_json::json!({"column": "nope", "value": 1}),
            serde_json::json!({"column": "city", "min": 1}),
            serde_json::json!({"column": "x", "values": {"a": 1}}),
            serde_json::json!({"column": "x"}),
            serde_json::json!({"column": "x", "value": 1, "min": 0}),
            serde_json::json!({"column": "n", "value": 2.5}),
            serde_json::json!({"column": "x", "min": 2, "max": 1}),
            serde_json::json!({"column": "city", "value": "berlin"}),
            serde_json::json!({"column": "city", "values": {"paris": -1}}),
            serde_json::json!({"column": "city", "values": {"paris": 0}}),
            serde_json::json!({"column": "x", "min": "2024-01-01"}),
            serde_json::json!({"column": "when", "max": "soon"}),
        ] {
            let two = [
                cond(serde_json::json!({"column": "y", "min": 0})),
                cond(c.clone()),
            ];
            match run(&two, &[], Balance::Natural, 1, 10) {
                Err(SynthError::Invalid { field, .. }) => assert_eq!(field, "conditions[1]", "{c}"),
                other => panic!("{c}: {:?}", other.map(|r| r.1)),
            }
        }
        // One condition per column; the target's classes come from the balance or a condition.
        let twice = [
            cond(serde_json::json!({"column": "x", "min": 0})),
            cond(serde_json::json!({"column": "x", "max": 1})),
        ];
        assert!(matches!(
            run(&twice, &[], Balance::Natural, 1, 10),
            Err(SynthError::Invalid { field, .. }) if field == "conditions[1]"
        ));
        let target = [cond(
            serde_json::json!({"column": "label", "values": {"yes": 1}}),
        )];
        assert!(matches!(
            run(&target, &[], Balance::Stratified, 1, 10),
            Err(SynthError::Invalid { field, .. }) if field == "conditions[0]"
        ));
        assert!(
            serde_json::from_value::<Condition>(serde_json::json!({"column": "x", "eq": 1}))
                .is_err()
        );
    }
}
