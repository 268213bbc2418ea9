//! Privacy of synthetic rows against the real rows they were fitted on: distance to closest
//! record (DCR) by SDMetrics' definitions (sdmetrics 0.32 `calculate_dcr`,
//! `DCRBaselineProtection`, `DCROverfittingProtection`), the exact-match rate and the
//! nearest-neighbour distance ratio.
//!
//! * The distance between two rows is the mean over the compared columns of: for a numeric
//!   (numeric, integer, datetime) column, `min(|a − b| / range, 1)` with `range` = max − min
//!   of the reference column (0 or 1 when the range is 0: equal or not), 1 when exactly one of
//!   the two is missing, 0 when both are; for a categorical (categorical, boolean, target)
//!   column, 0 when equal (both missing counts as equal), else 1.
//! * DCR of a row: its distance to the closest reference row. Reported for the synthetic rows
//!   against the real rows: the median and the 5th percentile (linear interpolation, as
//!   numpy's `percentile`), and the exact-match rate: the share of synthetic rows at distance
//!   0, identical to a real row in every compared column.
//! * `DCRBaselineProtection`: random rows, as many as the synthetic rows, each column drawn
//!   uniformly from the real column (integers uniform on `[min, max]`, other numbers on
//!   `[min, max)`, datetimes uniform seconds, categories uniform over the distinct values), a
//!   column's share of missing values kept; score = min(median DCR of the synthetic rows /
//!   median DCR of the random rows, 1), `None` when the random median is 0.
//! * `DCROverfittingProtection` (with rows held out of the fit): the share of synthetic rows
//!   strictly closer to the training rows than to the held-out ones; score =
//!   min(2 × (1 − share), 1).
//! * Nearest-neighbour distance ratio (NNDR): a synthetic row's distance to its closest real row
//!   over its distance to the second closest (1 when both are 0); reported as the median.
//!
//! Search: a k-d tree over the reference rows (`kdtree`), each row encoded as one coordinate
//! per column (a numeric column range-normalized, a category its index), queried with the
//! distance above. The tree prunes a box by the distance to the query clamped into the box,
//! which for this distance is never more than the distance to any row in the box, so the
//! nearest rows found are exactly the nearest (module tests compare with a full scan), up to
//! the 2⁻⁴⁰ grid normalized values are kept on (see `GRID`).

use std::collections::HashMap;

use kdtree::KdTree;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schema::parse_instant;

/// Synthetic rows a report compares at most (the first ones generated: rows are independent).
pub const MAX_COMPARED_ROWS: usize = 10_000;

/// How a column is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Numbers and instants: range-normalized absolute difference, capped at 1.
    Numeric,
    /// Equal or not.
    Categorical,
}

/// A missing value's coordinate: below anything a value can be (values are capped at ±1e300),
/// and far enough from `f64::MIN` that the tree's box arithmetic stays finite.
const MISSING: f64 = -1e305;
const CAP: f64 = 1e300;
/// Range-normalized coordinates are multiples of 2⁻⁴⁰ within ±1e6 (a distance caps at 1, so
/// ±1e6 is as far as any): the tree halves a box at the midpoint of its bounds, which for two
/// adjacent floats is one of them and would never separate them. Two values closer than 2⁻⁴⁰
/// of the column's range count as equal.
const GRID: f64 = (1u64 << 40) as f64;

/// Rows per leaf of the tree (`kdtree`'s "capacity" is a leaf's, not the tree's).
const LEAF_ROWS: usize = 16;

/// The spacing of category codes on their axis (module docs of `Index::encode`).
const CODE_STEP: f64 = 1e-9;

fn scaled(x: f64, min: f64, range: f64) -> f64 {
    (((x - min) / range).clamp(-1e6, 1e6) * GRID).round() / GRID
}

/// One compared column's coordinate rule, fitted on the reference rows.
#[derive(Clone, Debug)]
enum Axis {
    /// `(x − min) / range`.
    Scaled { min: f64, range: f64 },
    /// The number itself, compared for equality (a reference column with range 0, or none).
    Exact,
    /// Category indices (a missing value is a category of its own).
    Codes(HashMap<String, u32>),
}

/// Reference rows encoded for search, and how to encode a query the same way.
pub struct Index {
    axes: Vec<Axis>,
    tree: KdTree<f64, usize, Vec<f64>>,
    rows: usize,
}

fn numeric_value(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => parse_instant(s)
            .map(|t| t as f64)
            .or_else(|| s.trim().parse::<f64>().ok()),
        _ => None,
    }
    .filter(|x| x.is_finite())
}

fn category_key(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The distance of module docs between two encoded rows.
fn distance(axes: &[Axis], a: &[f64], b: &[f64]) -> f64 {
    let mut total = 0.0;
    for ((axis, &x), &y) in axes.iter().zip(a).zip(b) {
        total += match axis {
            Axis::Scaled { .. } => match (x == MISSING, y == MISSING) {
                (true, true) => 0.0,
                (true, false) | (false, true) => 1.0,
                (false, false) => (x - y).abs().min(1.0),
            },
            Axis::Exact | Axis::Codes(_) => f64::from(u8::from(x != y)),
        };
    }
    total / axes.len().max(1) as f64
}

impl Index {
    /// Fits the coordinates on `reference` (rows of `measures.len()` values, in column order)
    /// and indexes its rows.
    pub fn new(reference: &[Vec<Value>], measures: &[Measure]) -> Index {
        let axes: Vec<Axis> = measures
            .iter()
            .enumerate()
            .map(|(j, m)| match m {
                Measure::Numeric => {
                    let values = reference
                        .iter()
                        .filter_map(|r| r.get(j).and_then(numeric_value));
                    let (lo, hi) = values
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                            (lo.min(x), hi.max(x))
                        });
                    if hi > lo {
                        Axis::Scaled {
                            min: lo,
                            range: hi - lo,
                        }
                    } else {
                        Axis::Exact
                    }
                }
                Measure::Categorical => {
                    let mut codes = HashMap::new();
                    for r in reference {
                        if let Some(k) = r.get(j).and_then(category_key) {
                            let next = codes.len() as u32 + 1;
                            codes.entry(k).or_insert(next);
                        }
                    }
                    Axis::Codes(codes)
                }
            })
            .collect();
        let mut index = Index {
            tree: KdTree::with_capacity(axes.len().max(1), LEAF_ROWS),
            axes,
            rows: reference.len(),
        };
        for (i, r) in reference.iter().enumerate() {
            let point = index.encode(r);
            // Coordinates are finite by construction, so the tree accepts every point.
            index.tree.add(point, i).expect("finite coordinates");
        }
        index
    }

    /// A row's coordinates (module docs); a category the reference never had gets a code no
    /// reference row has.
    fn encode(&self, row: &[Value]) -> Vec<f64> {
        self.axes
            .iter()
            .enumerate()
            .map(|(j, axis)| {
                let v = row.get(j).unwrap_or(&Value::Null);
                match axis {
                    Axis::Scaled { min, range } => {
                        numeric_value(v).map_or(MISSING, |x| scaled(x, *min, *range))
                    }
                    Axis::Exact => numeric_value(v).map_or(MISSING, |x| x.clamp(-CAP, CAP)),
                    // Codes are compared for equality only; spaced by CODE_STEP, a category
                    // axis spans less than a normalized number's [0, 1], so the tree splits
                    // on the numbers first, where its boxes prune.
                    Axis::Codes(codes) => match category_key(v) {
                        None => 0.0,
                        Some(k) => {
                            codes.get(&k).map_or(f64::from(u32::MAX), |&c| f64::from(c)) * CODE_STEP
                        }
                    },
                }
            })
            .collect()
    }

    /// Distances from `row` to its closest and second closest reference rows (the second is
    /// `None` with one reference row).
    pub fn nearest_two(&self, row: &[Value]) -> (f64, Option<f64>) {
        if self.rows == 0 || self.axes.is_empty() {
            return (f64::NAN, None);
        }
        let point = self.encode(row);
        let axes = &self.axes;
        let found = self
            .tree
            .nearest(&point, 2, &|a: &[f64], b: &[f64]| distance(axes, a, b))
            .expect("a point of the tree's dimension");
        (found[0].0, found.get(1).map(|f| f.0))
    }

    /// Distance from `row` to its closest reference row.
    pub fn nearest(&self, row: &[Value]) -> f64 {
        if self.rows == 0 || self.axes.is_empty() {
            return f64::NAN;
        }
        let point = self.encode(row);
        let axes = &self.axes;
        self.tree
            .nearest(&point, 1, &|a: &[f64], b: &[f64]| distance(axes, a, b))
            .expect("a point of the tree's dimension")[0]
            .0
    }

    /// DCR of each row against the reference rows, on every core.
    pub fn dcr(&self, rows: &[Vec<Value>]) -> Vec<f64> {
        parallel(rows, |r| self.nearest(r))
    }
}

/// `f` of each row, the rows split evenly over the available cores (scoped threads: the
/// engine stays free of a runtime; the results keep the rows' order).
fn parallel<T: Send>(rows: &[Vec<Value>], f: impl Fn(&[Value]) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || rows.len() < 256 {
        return rows.iter().map(|r| f(r)).collect();
    }
    let chunk = rows.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter().map(|r| f(r)).collect::<Vec<T>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a privacy worker thread"))
            .collect()
    })
}

/// The median (the mean of the two middle values for an even count), `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 50.0)
}

/// The `p`th percentile with linear interpolation between closest ranks (numpy's default).
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = p / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (rank - lo as f64))
}

/// Draws one column's value.
type Draw = Box<dyn Fn(&mut ChaCha8Rng) -> Value>;

/// Random rows as `DCRBaselineProtection` draws them (module docs). `integer` marks the
/// numeric columns whose values are whole numbers.
pub fn random_rows(
    reference: &[Vec<Value>],
    measures: &[Measure],
    integer: &[bool],
    count: usize,
    seed: u64,
) -> Vec<Vec<Value>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = reference.len().max(1) as f64;
    let columns: Vec<Draw> = measures
        .iter()
        .enumerate()
        .map(|(j, m)| -> Draw {
            let cells: Vec<&Value> = reference.iter().filter_map(|r| r.get(j)).collect();
            let missing = reference.len() - cells.iter().filter(|v| !v.is_null()).count();
            let missing_share = missing as f64 / n;
            let draw: Draw = match m {
                Measure::Numeric => {
                    let times = cells
                        .iter()
                        .filter(|v| !v.is_null())
                        .all(|v| v.as_str().is_some_and(|s| parse_instant(s).is_some()));
                    let xs: Vec<f64> = cells.iter().filter_map(|v| numeric_value(v)).collect();
                    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let whole = integer.get(j).copied().unwrap_or(false);
                    if xs.is_empty() {
                        Box::new(|_| Value::Null)
                    } else if times {
                        Box::new(move |rng| {
                            let t = lo + rng.random::<f64>() * (hi - lo);
                            Value::String(super::schema::format_instant(t as i64))
                        })
                    } else if whole {
                        let (lo, hi) = (lo as i64, hi as i64);
                        Box::new(move |rng| Value::from(rng.random_range(lo..=hi)))
                    } else {
                        Box::new(move |rng| {
                            serde_json::Number::from_f64(lo + rng.random::<f64>() * (hi - lo))
                                .map_or(Value::Null, Value::Number)
                        })
                    }
                }
                Measure::Categorical => {
                    let mut distinct: Vec<Value> = Vec::new();
                    for v in cells.iter().filter(|v| !v.is_null()) {
                        if !distinct.contains(v) {
                            distinct.push((*v).clone());
                        }
                    }
                    if distinct.is_empty() {
                        Box::new(|_| Value::Null)
                    } else {
                        Box::new(move |rng| distinct[rng.random_range(0..distinct.len())].clone())
                    }
                }
            };
            Box::new(move |rng| {
                if rng.random::<f64>() < missing_share {
                    Value::Null
                } else {
                    draw(rng)
                }
            })
        })
        .collect();
    (0..count)
        .map(|_| columns.iter().map(|c| c(&mut rng)).collect())
        .collect()
}

/// `DCRBaselineProtection` from the two DCR lists (module docs).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
pub struct BaselineProtection {
    /// min(median synthetic DCR / median random DCR, 1); null when the random median is 0.
    pub score: Option<f64>,
    pub median_dcr_synthetic: f64,
    pub median_dcr_random: f64,
}

impl BaselineProtection {
    pub fn of(synthetic: &[f64], random: &[f64]) -> BaselineProtection {
        let s = median(synthetic).unwrap_or(f64::NAN);
        let r = median(random).unwrap_or(f64::NAN);
        BaselineProtection {
            score: (r != 0.0 && r.is_finite() && s.is_finite()).then(|| (s / r).min(1.0)),
            median_dcr_synthetic: s,
            median_dcr_random: r,
        }
    }
}

/// `DCROverfittingProtection` from each synthetic row's DCR to the training and to the
/// held-out rows (module docs).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
pub struct OverfittingProtection {
    /// min(2 × (1 − closer_to_training), 1).
    pub score: f64,
    /// Share of synthetic rows strictly closer to a training row than to any held-out row.
    pub closer_to_training: f64,
    pub closer_to_holdout: f64,
    /// Real rows held out of the fit.
    pub holdout_rows: usize,
}

impl OverfittingProtection {
    pub fn of(to_training: &[f64], to_holdout: &[f64], holdout_rows: usize) -> Self {
        let n = to_training.len().max(1) as f64;
        let closer = to_training
            .iter()
            .zip(to_holdout)
            .filter(|(t, h)| t < h)
            .count() as f64
            / n;
        OverfittingProtection {
            score: ((1.0 - closer) * 2.0).min(1.0),
            closer_to_training: closer,
            closer_to_holdout: 1.0 - closer,
            holdout_rows,
        }
    }
}

/// The privacy report of synthetic rows against the real rows they were fitted on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
pub struct PrivacyReport {
    /// Share of compared synthetic rows identical to a real row in every compared column
    /// (DCR 0).
    pub exact_match_rate: f64,
    /// Median DCR, synthetic → real.
    pub dcr_median: f64,
    /// 5th percentile DCR, synthetic → real.
    pub dcr_p5: f64,
    /// Median nearest-neighbour distance ratio.
    pub nndr_median: f64,
    pub dcr_baseline_protection: BaselineProtection,
    /// With `privacy.holdout`: rows held out of the fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dcr_overfitting_protection: Option<OverfittingProtection>,
    /// Synthetic rows compared (the first generated, at most 10,000).
    pub synthetic_rows: usize,
    /// Real rows compared against (the rows the generator was fitted on).
    pub real_rows: usize,
    /// The compared columns and how each was compared.
    pub columns: Vec<ComparedColumn>,
    pub method: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
pub struct ComparedColumn {
    pub name: String,
    /// `numeric` or `categorical`.
    pub measure: Measure,
}

/// Everything [`report`] compares: rows in `columns` order.
pub struct Compared<'a> {
    pub columns: &'a [String],
    pub measures: &'a [Measure],
    /// Numeric columns of whole numbers (drawn as integers for the baseline).
    pub integer: &'a [bool],
    pub real: &'a [Vec<Value>],
    pub synthetic: &'a [Vec<Value>],
    pub holdout: Option<&'a [Vec<Value>]>,
    pub seed: u64,
}

/// The report (module docs). Blocking: linear in synthetic rows times the search.
pub fn report(c: &Compared<'_>) -> PrivacyReport {
    let index = Index::new(c.real, c.measures);
    let (mut dcr, mut nndr) = (Vec::with_capacity(c.synthetic.len()), Vec::new());
    for (d1, d2) in parallel(c.synthetic, |r| index.nearest_two(r)) {
        dcr.push(d1);
        if let Some(d2) = d2 {
            nndr.push(if d2 > 0.0 { d1 / d2 } else { 1.0 });
        }
    }
    let random = random_rows(c.real, c.measures, c.integer, c.synthetic.len(), c.seed);
    let baseline = BaselineProtection::of(&dcr, &index.dcr(&random));
    let overfitting = c.holdout.filter(|h| !h.is_empty()).map(|h| {
        let held = Index::new(h, c.measures);
        OverfittingProtection::of(&dcr, &held.dcr(c.synthetic), h.len())
    });
    let n = dcr.len().max(1) as f64;
    PrivacyReport {
        exact_match_rate: dcr.iter().filter(|&&d| d == 0.0).count() as f64 / n,
        dcr_median: median(&dcr).unwrap_or(f64::NAN),
        dcr_p5: percentile(&dcr, 5.0).unwrap_or(f64::NAN),
        nndr_median: median(&nndr).unwrap_or(f64::NAN),
        dcr_baseline_protection: baseline,
        dcr_overfitting_protection: overfitting,
        synthetic_rows: c.synthetic.len(),
        real_rows: c.real.len(),
        columns: c
            .columns
            .iter()
            .zip(c.measures)
            .map(|(name, &measure)| ComparedColumn {
                name: name.clone(),
                measure,
            })
            .collect(),
        method: "SDMetrics' distance to closest record (range-normalized numbers capped at 1, \
                 categories 0/1, averaged over columns), exact k-d tree search"
            .into(),
    }
}

#[cfg(test)]
mod tests;
