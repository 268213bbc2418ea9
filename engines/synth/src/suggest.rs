//! Constraints that hold on every real row, suggested from a sample table and the schema fitted
//! from it, each ready to pass back in a request's `constraints` list.
//!
//! Values are read by the schema's kind: numeric and integer cells as numbers, datetime cells
//! (text instants) as unix seconds with [`parse_instant`] — the seconds a generated
//! `Cell::Time` carries, which is what the constraints compare — and boolean cells as 0/1. A
//! schema column missing from the table, or holding a present cell that does not read as its
//! kind, is left out. Nulls are missing: each rule is checked on the rows where the columns it
//! names have values, and that row count is its `support`.
//!
//! Notation: for a column x, `n(x)` is its non-missing rows, `min(x)`/`max(x)` its observed
//! extremes; `n(a, b)` the rows where both a and b have values. A rule looks at no more than
//! [`MAX_CANDIDATES`] columns (the first in schema order), so its cost stays
//! O(candidates² · rows).
//!
//! 1. **range** — for every numeric, integer and datetime column x with n(x) ≥ 1:
//!    `Range{x, min: min(x), max: max(x)}`, datetimes in unix seconds; support = n(x).
//! 2. **positive / negative** — over numeric and integer columns (datetimes, booleans and
//!    one-hot members are left out): the columns with min(x) > 0 form one
//!    `Positive{strict: true}`, those with min(x) = 0 one `Positive{strict: false}`; likewise
//!    max(x) < 0 → `Negative{strict: true}`, max(x) = 0 → `Negative{strict: false}` (an
//!    all-zero column is in both non-strict groups). Columns in schema order; emitted in the
//!    order positive strict, positive, negative strict, negative, each only when non-empty.
//!    Each column is checked on its own values; support = rows where at least one of the
//!    group's columns has a value.
//! 3. **inequality** — for each unordered pair {a, b} (a before b in schema order) of numeric /
//!    integer columns, or of datetime columns (a datetime is never compared with a number:
//!    seconds against a quantity mean nothing), leaving out indicator columns (every value 0 or
//!    1: an indicator below a quantity is a coincidence), over the n(a, b) rows with both values:
//!    if a ≤ b on every row, `Inequality{low: a, high: b, or_equal: e}` with e = false when
//!    a < b on every row and e = true when a = b on at least one; otherwise the same with a and
//!    b swapped if b ≤ a on every row; otherwise nothing. At most one per pair (when a = b on
//!    every row, a ≤ b is the one). Required: n(a, b) ≥ [`MIN_SUPPORT`], and the pair is not
//!    already implied by the two range suggestions: skipped when max(low) < min(high) (strict),
//!    or max(low) ≤ min(high) (or_equal). Support = n(a, b).
//! 4. **one_hot** — candidates: boolean, integer and numeric columns whose every value is 0 or
//!    1 (false/true) and at least one is 1. Greedy grouping: for each candidate c not yet in a
//!    group, in schema order, start G = {c} and scan the other ungrouped candidates in schema
//!    order, adding d when no row has a 1 in both d and a member of G (the 1s stay disjoint, so
//!    a row has at most one 1). G is kept when |G| ≥ 2 and every row where all of G have values
//!    has exactly one 1, i.e. Σ_{x∈G} x = 1, with at least [`MIN_SUPPORT`] such rows; its
//!    members are then taken out of the candidates. `OneHot{columns: G}` in schema order,
//!    support = rows where all of G have values. Greedy: a group may be missed when an earlier
//!    disjoint column crowds out a member, but every group emitted holds.
//! 5. **fixed_combinations** — candidates: categorical and boolean columns (one-hot members left
//!    out) and the target, with 2 ≤ distinct values ≤ [`MAX_LEVELS`]. For each pair {a, b},
//!    over the n(a, b) rows with both values: d_a, d_b = distinct values of each on those rows,
//!    s = distinct (a, b) combinations seen. Suggested when s < d_a · d_b (some combination of
//!    values that both occur never occurs together) and n(a, b) ≥ [`ROWS_PER_COMBINATION`] · s
//!    (enough rows that the absence is informative). At most [`MAX_FIXED_COMBINATIONS`], lowest
//!    s / (d_a · d_b) first, ties in schema order. Support = n(a, b).
//! 6. **sum** — candidates: real-valued (numeric kind) columns that are not constant and not
//!    one-hot members. Each pair, then (when there are 3 to [`MAX_SUM_COLUMNS`] candidates) all
//!    of them together: over the rows where every column of the set has a value (at least
//!    [`MIN_SUPPORT`]), the row sums S lie in [lo, hi]; the total t is the first of mid =
//!    (lo + hi) / 2 rounded to 0, 1, …, 9 decimals, then mid itself, with |S − t| ≤ 1e-9 ·
//!    max(1, |t|) for S = lo and S = hi (hence every row): the tolerance the `sum` constraint
//!    checks with. `Sum{columns, total: t}`; support = those rows.
//!
//! Output: ranges, positive/negative, inequalities, one_hot, fixed_combinations, sums — schema
//! column order within each (fixed_combinations by ratio as above) — cut to
//! [`MAX_SUGGESTIONS`]. The same table and schema give the same list.

use std::collections::{HashMap, HashSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::constraints::Constraint;
use crate::schema::{format_instant, parse_instant, ColumnKind, DataSchema};
use crate::table::{value_key, Table};

/// At most this many suggestions are returned.
pub const MAX_SUGGESTIONS: usize = 50;
/// Inequality, one-hot and sum rules need at least this many rows with every value.
pub const MIN_SUPPORT: u64 = 10;
/// Each rule looks at no more than this many columns (the first in schema order).
pub const MAX_CANDIDATES: usize = 50;
/// Fixed combinations only pair columns with at most this many distinct values.
pub const MAX_LEVELS: usize = 20;
/// Fixed combinations need this many rows per combination seen.
pub const ROWS_PER_COMBINATION: u64 = 5;
/// At most this many fixed-combination suggestions.
pub const MAX_FIXED_COMBINATIONS: usize = 10;
/// The all-columns sum is only tried with at most this many columns.
pub const MAX_SUM_COLUMNS: usize = 10;

/// A constraint that holds on every real row, and the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Suggestion {
    /// The constraint, ready to pass back in `constraints`.
    pub constraint: Constraint,
    /// Rows it was checked on (rows where every column it names has a value; for positive and
    /// negative, where at least one has, each column being checked on its own values).
    pub support: u64,
    /// Why it is suggested, in one sentence with the numbers (e.g. "low < high on all 342 rows
    /// with both values").
    pub reason: String,
}

/// Constraints that hold on every row of `table`, read through `schema` (normally the schema
/// fitted from it); the rules are in the module documentation.
pub fn suggest(table: &Table, schema: &DataSchema) -> Vec<Suggestion> {
    let numbers = number_columns(table, schema);
    let flags = flag_columns(table, schema);
    let groups = one_hot_groups(&flags);
    let members: HashSet<&str> = groups
        .iter()
        .flat_map(|g| g.columns.iter().map(|&i| flags[i].name))
        .collect();

    let mut out = ranges(&numbers);
    out.extend(signs(&numbers, &members));
    out.extend(inequalities(&numbers));
    out.extend(groups.iter().map(|g| {
        let names: Vec<&str> = g.columns.iter().map(|&i| flags[i].name).collect();
        Suggestion {
            reason: format!(
                "exactly one of {} is 1 on all {} rows with every value",
                names.join(", "),
                g.support
            ),
            constraint: Constraint::OneHot {
                columns: owned(&names),
            },
            support: g.support,
        }
    }));
    out.extend(fixed_combinations(table, schema, &members));
    out.extend(sums(&numbers, &members));
    out.truncate(MAX_SUGGESTIONS);
    out
}

#[derive(Clone, Copy, PartialEq)]
enum NumberKind {
    Real,
    Integer,
    Datetime,
}

/// A numeric, integer or datetime column read as numbers.
struct NumberColumn<'a> {
    name: &'a str,
    kind: NumberKind,
    values: Vec<Option<f64>>,
    count: u64,
    min: f64,
    max: f64,
    /// Every value is 0 or 1.
    indicator: bool,
}

/// A column whose values are all 0/1 (or false/true), with at least one 1.
struct FlagColumn<'a> {
    name: &'a str,
    values: Vec<Option<bool>>,
}

/// The table's cells of one column (null where the row is short).
fn cells<'t>(table: &'t Table, name: &str) -> Option<Vec<&'t Value>> {
    let j = table.column_index(name)?;
    Some(
        table
            .rows
            .iter()
            .map(|r| r.get(j).unwrap_or(&Value::Null))
            .collect(),
    )
}

/// Reads every present cell with `read`; `None` when one does not read (the column is left out).
fn read_all<T>(cells: &[&Value], read: impl Fn(&Value) -> Option<T>) -> Option<Vec<Option<T>>> {
    cells
        .iter()
        .map(|v| match v {
            Value::Null => Some(None),
            v => read(v).map(Some),
        })
        .collect()
}

fn number_columns<'a>(table: &Table, schema: &'a DataSchema) -> Vec<NumberColumn<'a>> {
    let mut out = Vec::new();
    for spec in &schema.columns {
        let kind = match spec.kind {
            ColumnKind::Numeric { .. } => NumberKind::Real,
            ColumnKind::Integer { .. } => NumberKind::Integer,
            ColumnKind::Datetime { .. } => NumberKind::Datetime,
            _ => continue,
        };
        let Some(cells) = cells(table, &spec.name) else {
            continue;
        };
        let read = |v: &Value| match (kind, v) {
            (NumberKind::Datetime, Value::String(s)) => parse_instant(s).map(|t| t as f64),
            (NumberKind::Datetime, _) => None,
            (_, Value::Number(n)) => n.as_f64().filter(|x| x.is_finite()),
            (_, Value::String(s)) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
            _ => None,
        };
        let Some(values) = read_all(&cells, read) else {
            continue;
        };
        let present = values.iter().flatten();
        let count = present.clone().count() as u64;
        if count == 0 {
            continue;
        }
        let min = present.clone().copied().fold(f64::INFINITY, f64::min);
        let max = present.clone().copied().fold(f64::NEG_INFINITY, f64::max);
        let indicator = present.clone().all(|&x| x == 0.0 || x == 1.0);
        out.push(NumberColumn {
            name: &spec.name,
            kind,
            values,
            count,
            min,
            max,
            indicator,
        });
    }
    out
}

fn flag_columns<'a>(table: &Table, schema: &'a DataSchema) -> Vec<FlagColumn<'a>> {
    let mut out = Vec::new();
    for spec in &schema.columns {
        if out.len() == MAX_CANDIDATES {
            break;
        }
        if !matches!(
            spec.kind,
            ColumnKind::Boolean { .. } | ColumnKind::Integer { .. } | ColumnKind::Numeric { .. }
        ) {
            continue;
        }
        let Some(cells) = cells(table, &spec.name) else {
            continue;
        };
        let read = |v: &Value| match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => n.as_f64().and_then(|x| {
                if x == 0.0 {
                    Some(false)
                } else if x == 1.0 {
                    Some(true)
                } else {
                    None
                }
            }),
            _ => None,
        };
        let Some(values) = read_all(&cells, read) else {
            continue;
        };
        if values.contains(&Some(true)) {
            out.push(FlagColumn {
                name: &spec.name,
                values,
            });
        }
    }
    out
}

struct Group {
    /// Indices into the flag columns, in schema order.
    columns: Vec<usize>,
    support: u64,
}

fn one_hot_groups(flags: &[FlagColumn]) -> Vec<Group> {
    let mut grouped = vec![false; flags.len()];
    let mut groups = Vec::new();
    for start in 0..flags.len() {
        if grouped[start] {
            continue;
        }
        let mut members = vec![start];
        let mut ones: Vec<bool> = flags[start]
            .values
            .iter()
            .map(|v| *v == Some(true))
            .collect();
        for (d, flag) in flags.iter().enumerate() {
            if d == start || grouped[d] {
                continue;
            }
            let disjoint = flag
                .values
                .iter()
                .zip(&ones)
                .all(|(v, &one)| !(one && *v == Some(true)));
            if disjoint {
                members.push(d);
                for (one, v) in ones.iter_mut().zip(&flag.values) {
                    *one |= *v == Some(true);
                }
            }
        }
        if members.len() < 2 {
            continue;
        }
        // Disjoint 1s give at most one 1 a row; a complete row without any breaks the group.
        let mut support = 0u64;
        let mut covered = true;
        for (r, &one) in ones.iter().enumerate() {
            if members.iter().all(|&m| flags[m].values[r].is_some()) {
                support += 1;
                covered &= one;
            }
        }
        if covered && support >= MIN_SUPPORT {
            members.sort_unstable();
            for &m in &members {
                grouped[m] = true;
            }
            groups.push(Group {
                columns: members,
                support,
            });
        }
    }
    groups.sort_by_key(|g| g.columns[0]);
    groups
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A bound as written in a reason: datetimes also as their instant.
fn shown(kind: NumberKind, x: f64) -> String {
    match kind {
        NumberKind::Datetime => format!("{} ({x} s)", format_instant(x as i64)),
        _ => format!("{x}"),
    }
}

fn ranges(numbers: &[NumberColumn]) -> Vec<Suggestion> {
    numbers
        .iter()
        .map(|c| Suggestion {
            constraint: Constraint::Range {
                column: c.name.to_string(),
                min: Some(c.min),
                max: Some(c.max),
            },
            support: c.count,
            reason: format!(
                "{} is between {} and {} on all {} rows with a value",
                c.name,
                shown(c.kind, c.min),
                shown(c.kind, c.max),
                c.count
            ),
        })
        .collect()
}

fn signs(numbers: &[NumberColumn], members: &HashSet<&str>) -> Vec<Suggestion> {
    let eligible: Vec<&NumberColumn> = numbers
        .iter()
        .filter(|c| c.kind != NumberKind::Datetime && !members.contains(c.name))
        .collect();
    let mut out = Vec::new();
    for (positive, strict) in [(true, true), (true, false), (false, true), (false, false)] {
        let member = |c: &NumberColumn| match (positive, strict) {
            (true, true) => c.min > 0.0,
            (true, false) => c.min == 0.0,
            (false, true) => c.max < 0.0,
            (false, false) => c.max == 0.0,
        };
        let group: Vec<&NumberColumn> = eligible.iter().copied().filter(|c| member(c)).collect();
        if group.is_empty() {
            continue;
        }
        let rows = group.first().map_or(0, |c| c.values.len());
        let support = (0..rows)
            .filter(|&r| group.iter().any(|c| c.values[r].is_some()))
            .count() as u64;
        let names: Vec<&str> = group.iter().map(|c| c.name).collect();
        let op = match (positive, strict) {
            (true, true) => "> 0",
            (true, false) => "≥ 0",
            (false, true) => "< 0",
            (false, false) => "≤ 0",
        };
        let columns = owned(&names);
        out.push(Suggestion {
            constraint: if positive {
                Constraint::Positive { columns, strict }
            } else {
                Constraint::Negative { columns, strict }
            },
            support,
            reason: format!(
                "every value of {} is {op}, on {support} rows with at least one of them",
                names.join(", ")
            ),
        });
    }
    out
}

fn inequalities(numbers: &[NumberColumn]) -> Vec<Suggestion> {
    // An indicator below a quantity is a coincidence of the sample, not a rule.
    let candidates: Vec<&NumberColumn> = numbers
        .iter()
        .filter(|c| !c.indicator)
        .take(MAX_CANDIDATES)
        .collect();
    let mut out = Vec::new();
    for (i, a) in candidates.iter().enumerate() {
        for b in &candidates[i + 1..] {
            if (a.kind == NumberKind::Datetime) != (b.kind == NumberKind::Datetime) {
                continue;
            }
            let (mut lt, mut le, mut gt, mut ge) = (true, true, true, true);
            let (mut both, mut equal) = (0u64, 0u64);
            for (x, y) in a.values.iter().zip(&b.values) {
                let (Some(x), Some(y)) = (x, y) else {
                    continue;
                };
                both += 1;
                equal += u64::from(x == y);
                lt &= x < y;
                le &= x <= y;
                gt &= x > y;
                ge &= x >= y;
                if !le && !ge {
                    break;
                }
            }
            if both < MIN_SUPPORT {
                continue;
            }
            let (low, high, or_equal) = if le {
                (a, b, !lt)
            } else if ge {
                (b, a, !gt)
            } else {
                continue;
            };
            // The range suggestions already imply it: nothing to add.
            let implied = if or_equal {
                low.max <= high.min
            } else {
                low.max < high.min
            };
            if implied {
                continue;
            }
            let reason = if or_equal {
                format!(
                    "{} ≤ {} on all {both} rows with both values ({equal} of them equal)",
                    low.name, high.name
                )
            } else {
                format!(
                    "{} < {} on all {both} rows with both values",
                    low.name, high.name
                )
            };
            out.push(Suggestion {
                constraint: Constraint::Inequality {
                    low: low.name.to_string(),
                    high: high.name.to_string(),
                    or_equal,
                },
                support: both,
                reason,
            });
        }
    }
    out
}

/// A low-cardinality column as level indices.
struct LevelColumn<'a> {
    name: &'a str,
    levels: Vec<Option<usize>>,
}

fn level_column<'a>(table: &Table, name: &'a str) -> Option<LevelColumn<'a>> {
    let cells = cells(table, name)?;
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut levels = Vec::with_capacity(cells.len());
    for v in cells {
        let level = match value_key(v) {
            None => None,
            Some(k) => {
                let next = index.len();
                let i = *index.entry(k).or_insert(next);
                if index.len() > MAX_LEVELS {
                    return None;
                }
                Some(i)
            }
        };
        levels.push(level);
    }
    (index.len() >= 2).then_some(LevelColumn { name, levels })
}

fn fixed_combinations(
    table: &Table,
    schema: &DataSchema,
    members: &HashSet<&str>,
) -> Vec<Suggestion> {
    let names = schema
        .columns
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                ColumnKind::Categorical { .. } | ColumnKind::Boolean { .. }
            ) && !members.contains(c.name.as_str())
        })
        .map(|c| c.name.as_str())
        .chain(schema.target_name());
    let candidates: Vec<LevelColumn> = names
        .filter_map(|n| level_column(table, n))
        .take(MAX_CANDIDATES)
        .collect();
    // (seen, possible, suggestion) so the ratio can be compared exactly.
    let mut found: Vec<(u64, u64, Suggestion)> = Vec::new();
    for (i, a) in candidates.iter().enumerate() {
        for b in &candidates[i + 1..] {
            let mut seen = [[false; MAX_LEVELS]; MAX_LEVELS];
            let (mut in_a, mut in_b) = ([false; MAX_LEVELS], [false; MAX_LEVELS]);
            let mut both = 0u64;
            for (x, y) in a.levels.iter().zip(&b.levels) {
                if let (Some(x), Some(y)) = (*x, *y) {
                    both += 1;
                    seen[x][y] = true;
                    in_a[x] = true;
                    in_b[y] = true;
                }
            }
            let combos = seen.iter().flatten().filter(|&&s| s).count() as u64;
            let da = in_a.iter().filter(|&&s| s).count() as u64;
            let db = in_b.iter().filter(|&&s| s).count() as u64;
            let possible = da * db;
            if combos < possible && both >= ROWS_PER_COMBINATION * combos {
                found.push((
                    combos,
                    possible,
                    Suggestion {
                        constraint: Constraint::FixedCombinations {
                            columns: vec![a.name.to_string(), b.name.to_string()],
                        },
                        support: both,
                        reason: format!(
                            "only {combos} of the {da} × {db} = {possible} combinations of {} and \
                             {} occur, on {both} rows with both values",
                            a.name, b.name
                        ),
                    },
                ));
            }
        }
    }
    // Stable: ties keep schema order.
    found.sort_by(|x, y| (x.0 * y.1).cmp(&(y.0 * x.1)));
    found
        .into_iter()
        .take(MAX_FIXED_COMBINATIONS)
        .map(|(_, _, s)| s)
        .collect()
}

/// The `sum` constraint's tolerance (constraints.rs): 1e-9 · max(1, |total|).
fn sum_tolerance(total: f64) -> f64 {
    (1e-9 * total.abs()).max(1e-9)
}

/// The total the columns add up to on every row with all their values, and those rows.
fn constant_sum(columns: &[&NumberColumn]) -> Option<(f64, u64)> {
    let rows = columns.first()?.values.len();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut support = 0u64;
    let mut values = Vec::with_capacity(columns.len());
    for r in 0..rows {
        values.clear();
        for c in columns {
            match c.values[r] {
                Some(x) => values.push(x),
                None => break,
            }
        }
        if values.len() < columns.len() {
            continue;
        }
        // Summed in column order, as the constraint sums them.
        let s: f64 = values.iter().sum();
        support += 1;
        lo = lo.min(s);
        hi = hi.max(s);
        if hi - lo > 2.0 * sum_tolerance(lo.abs().max(hi.abs())) {
            return None;
        }
    }
    if support < MIN_SUPPORT {
        return None;
    }
    let mid = (lo + hi) / 2.0;
    let rounded = (0..10).map(|d| {
        let scale = 10f64.powi(d);
        (mid * scale).round() / scale
    });
    rounded
        .chain(std::iter::once(mid))
        .find(|&t| (lo - t).abs() <= sum_tolerance(t) && (hi - t).abs() <= sum_tolerance(t))
        .map(|t| (t, support))
}

fn sums(numbers: &[NumberColumn], members: &HashSet<&str>) -> Vec<Suggestion> {
    let candidates: Vec<&NumberColumn> = numbers
        .iter()
        .filter(|c| c.kind == NumberKind::Real && c.min < c.max && !members.contains(c.name))
        .take(MAX_CANDIDATES)
        .collect();
    let mut sets: Vec<Vec<&NumberColumn>> = Vec::new();
    for (i, a) in candidates.iter().enumerate() {
        for b in &candidates[i + 1..] {
            sets.push(vec![a, b]);
        }
    }
    if (3..=MAX_SUM_COLUMNS).contains(&candidates.len()) {
        sets.push(candidates.clone());
    }
    sets.into_iter()
        .filter_map(|set| {
            let (total, support) = constant_sum(&set)?;
            let names: Vec<&str> = set.iter().map(|c| c.name).collect();
            Some(Suggestion {
                reason: format!(
                    "{} = {total} on all {support} rows with every value (within 1e-9 · max(1, \
                     |total|))",
                    names.join(" + ")
                ),
                constraint: Constraint::Sum {
                    columns: owned(&names),
                    total,
                },
                support,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraints::Constrained;
    use crate::generate::{Balance, Generator};
    use serde_json::json;

    /// 60 rows with known structure: `start < end` (instants), `age ≥ 0` (with zeros),
    /// `income > 0` (some nulls) whose range lies above age's, one-hot `is_a, is_b, is_c`
    /// (`is_c` boolean), `city` within `country`, `part_a + part_b = 100`, `lo < hi` except on
    /// one row, and `x1, x2` one-hot except on one row.
    fn fixture() -> Table {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |m: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % m
        };
        let rows: Vec<Value> = (0..60u64)
            .map(|i| {
                let start = 1_704_067_200 + (i as i64) * 7 * 3600 + next(3000) as i64;
                let end = start + 3600 * (1 + next(5) as i64);
                let hot = next(3);
                let city = next(6);
                let country = ["fr", "de", "es"][(city / 2) as usize];
                let part_a = 10.0 + next(8000) as f64 / 100.0;
                let lo = next(100) as i64;
                let hi = if i == 30 { lo - 1 } else { lo + 1 + next(50) as i64 };
                let x1 = if i == 17 { 1 } else { i64::from(next(2) == 0) };
                let x2 = if i == 17 { 1 } else { 1 - x1 };
                json!({
                    "start": format_instant(start),
                    "end": format_instant(end),
                    "age": if i == 0 { 0 } else { next(80) },
                    "income": if i % 10 == 3 { Value::Null } else { json!(1000.5 + next(5000) as f64 * 0.25) },
                    "is_a": i64::from(hot == 0),
                    "is_b": i64::from(hot == 1),
                    "is_c": hot == 2,
                    "country": country,
                    "city": format!("city{city}"),
                    "part_a": part_a,
                    "part_b": 100.0 - part_a,
                    "lo": lo,
                    "hi": hi,
                    "x1": x1,
                    "x2": x2,
                    "target": if next(2) == 0 { "yes" } else { "no" },
                })
            })
            .collect();
        Table::from_json_rows(&rows).unwrap()
    }

    fn fitted() -> (Table, DataSchema) {
        let table = fixture();
        let (schema, _) = crate::fit::fit(&table, Some("target")).unwrap();
        (table, schema)
    }

    /// An independent check of `c` against every row of `table` (missing values skipped, as
    /// the rules do).
    fn holds_on_table(c: &Constraint, table: &Table) -> bool {
        let num = |row: &[Value], name: &str| -> Option<f64> {
            match &row[table.column_index(name).unwrap()] {
                Value::String(s) => parse_instant(s).map(|t| t as f64),
                Value::Bool(b) => Some(f64::from(u8::from(*b))),
                v => v.as_f64(),
            }
        };
        let all = |names: &[String], f: &dyn Fn(f64) -> bool| {
            table
                .rows
                .iter()
                .all(|r| names.iter().all(|n| num(r, n).is_none_or(|x: f64| f(x))))
        };
        match c {
            Constraint::Range { column, min, max } => {
                let (lo, hi) = (min.unwrap(), max.unwrap());
                all(std::slice::from_ref(column), &|x| lo <= x && x <= hi)
            }
            Constraint::Inequality {
                low,
                high,
                or_equal,
            } => table
                .rows
                .iter()
                .all(|r| match (num(r, low), num(r, high)) {
                    (Some(a), Some(b)) => {
                        if *or_equal {
                            a <= b
                        } else {
                            a < b
                        }
                    }
                    _ => true,
                }),
            Constraint::Positive { columns, strict } => {
                all(columns, &|x| if *strict { x > 0.0 } else { x >= 0.0 })
            }
            Constraint::Negative { columns, strict } => {
                all(columns, &|x| if *strict { x < 0.0 } else { x <= 0.0 })
            }
            Constraint::OneHot { columns } => table.rows.iter().all(|r| {
                let v: Option<Vec<f64>> = columns.iter().map(|n| num(r, n)).collect();
                v.is_none_or(|v| {
                    v.iter().all(|x| *x == 0.0 || *x == 1.0) && v.iter().sum::<f64>() == 1.0
                })
            }),
            Constraint::Sum { columns, total } => table.rows.iter().all(|r| {
                let v: Option<Vec<f64>> = columns.iter().map(|n| num(r, n)).collect();
                v.is_none_or(|v| (v.iter().sum::<f64>() - total).abs() <= sum_tolerance(*total))
            }),
            Constraint::FixedCombinations { columns } => {
                // Holds by definition; check the suggestion actually excludes something.
                let keys = |name: &String| -> HashSet<String> {
                    let j = table.column_index(name).unwrap();
                    table.rows.iter().filter_map(|r| value_key(&r[j])).collect()
                };
                let combos: HashSet<Vec<String>> = table
                    .rows
                    .iter()
                    .filter_map(|r| {
                        columns
                            .iter()
                            .map(|n| value_key(&r[table.column_index(n).unwrap()]))
                            .collect()
                    })
                    .collect();
                combos.len() < columns.iter().map(|n| keys(n).len()).product()
            }
        }
    }

    fn has(suggestions: &[Suggestion], c: &Constraint) -> bool {
        suggestions.iter().any(|s| &s.constraint == c)
    }

    #[test]
    fn recovers_the_known_constraints() {
        let (table, schema) = fitted();
        let s = suggest(&table, &schema);
        assert!(
            has(
                &s,
                &Constraint::Inequality {
                    low: "start".into(),
                    high: "end".into(),
                    or_equal: false
                }
            ),
            "{s:#?}"
        );
        assert!(s.iter().any(|x| matches!(
            &x.constraint,
            Constraint::Positive { columns, strict: false } if columns.contains(&"age".to_string())
        )));
        assert!(s.iter().any(|x| matches!(
            &x.constraint,
            Constraint::Positive { columns, strict: true } if columns.contains(&"income".to_string())
        )));
        assert!(has(
            &s,
            &Constraint::OneHot {
                columns: vec!["is_a".into(), "is_b".into(), "is_c".into()]
            }
        ));
        assert!(has(
            &s,
            &Constraint::FixedCombinations {
                columns: vec!["country".into(), "city".into()]
            }
        ));
        let sum = s
            .iter()
            .find(|x| matches!(&x.constraint, Constraint::Sum { columns, .. } if columns == &["part_a", "part_b"]))
            .expect("part_a + part_b");
        assert_eq!(
            sum.constraint,
            Constraint::Sum {
                columns: vec!["part_a".into(), "part_b".into()],
                total: 100.0
            }
        );
        assert_eq!(sum.support, 60);
        // Datetime ranges are in unix seconds; income's support leaves its nulls out.
        let range = |name: &str| {
            s.iter()
                .find(
                    |x| matches!(&x.constraint, Constraint::Range { column, .. } if column == name),
                )
                .unwrap()
        };
        let Constraint::Range { min: Some(min), .. } = range("start").constraint else {
            panic!()
        };
        assert!((1_704_067_200.0..1_704_070_200.0).contains(&min));
        assert_eq!(range("income").support, 54);
        // One-hot members are not repeated as positive columns or fixed combinations.
        assert!(!s.iter().any(|x| matches!(
            &x.constraint,
            Constraint::Positive { columns, .. } if columns.contains(&"is_a".to_string())
        )));
        assert!(!s.iter().any(|x| matches!(
            &x.constraint,
            Constraint::FixedCombinations { columns } if columns.contains(&"is_c".to_string())
        )));
        let reason = &s
            .iter()
            .find(|x| matches!(&x.constraint, Constraint::Inequality { low, .. } if low == "start"))
            .unwrap()
            .reason;
        assert_eq!(reason, "start < end on all 60 rows with both values");
    }

    #[test]
    fn a_pair_broken_on_one_row_is_not_suggested() {
        let (table, schema) = fitted();
        let s = suggest(&table, &schema);
        let names = |c: &Constraint| -> Vec<String> {
            match c {
                Constraint::Inequality { low, high, .. } => vec![low.clone(), high.clone()],
                Constraint::OneHot { columns } | Constraint::Sum { columns, .. } => columns.clone(),
                _ => vec![],
            }
        };
        for x in &s {
            let n = names(&x.constraint);
            assert!(
                !(n.contains(&"lo".to_string()) && n.contains(&"hi".to_string())),
                "{x:?}"
            );
            assert!(
                !(n.contains(&"x1".to_string()) && n.contains(&"x2".to_string())),
                "{x:?}"
            );
        }
        // Without the broken rows both come back.
        let mut fixed = table.clone();
        fixed.rows.remove(30);
        fixed.rows.remove(17);
        let s = suggest(&fixed, &schema);
        assert!(has(
            &s,
            &Constraint::Inequality {
                low: "lo".into(),
                high: "hi".into(),
                or_equal: false
            }
        ));
        assert!(has(
            &s,
            &Constraint::OneHot {
                columns: vec!["x1".into(), "x2".into()]
            }
        ));
    }

    #[test]
    fn implied_and_indicator_pairs_are_skipped() {
        let (table, schema) = fitted();
        let s = suggest(&table, &schema);
        // age ≤ 79 < 1000.5 ≤ income on every row, but the ranges already say so.
        assert!(!s.iter().any(|x| matches!(
            &x.constraint,
            Constraint::Inequality { low, high, .. } if low == "age" && high == "income"
        )));
        // is_a ≤ age holds here (age is 0 on one row only), by chance: indicators are not compared.
        assert!(!s.iter().any(|x| matches!(
            &x.constraint,
            Constraint::Inequality { low, high, .. }
                if [low, high].iter().any(|n| ["is_a", "is_b", "x1", "x2"].contains(&n.as_str()))
        )));
    }

    #[test]
    fn every_suggestion_holds_on_the_table_and_binds() {
        let (table, schema) = fitted();
        let s = suggest(&table, &schema);
        assert!(!s.is_empty() && s.len() <= MAX_SUGGESTIONS);
        for x in &s {
            assert!(holds_on_table(&x.constraint, &table), "{x:?}");
            assert!(x.support > 0, "{x:?}");
            let g = Generator::new(&schema, 1, Balance::Natural, 200).unwrap();
            if let Err(e) = Constrained::new(
                g,
                &schema,
                std::slice::from_ref(&x.constraint),
                &[],
                Some(&table),
            ) {
                panic!("{x:?} does not bind: {e}");
            }
        }
        let kinds: Vec<&str> = s.iter().map(|x| x.constraint.kind()).collect();
        let order = [
            "range",
            "positive",
            "negative",
            "inequality",
            "one_hot",
            "fixed_combinations",
            "sum",
        ];
        let rank = |k: &str| {
            let k = if k == "negative" { "positive" } else { k };
            order.iter().position(|o| *o == k).unwrap()
        };
        assert!(
            kinds.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
            "{kinds:?}"
        );
    }

    #[test]
    fn deterministic_and_round_trips_as_json() {
        let (table, schema) = fitted();
        let s = suggest(&table, &schema);
        assert_eq!(s, suggest(&table, &schema));
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v[0]["constraint"]["type"], "range");
        let back: Vec<Suggestion> = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn negative_columns_and_or_equal_pairs() {
        let rows: Vec<Value> = (0..20)
            .map(|i| {
                json!({
                    "loss": -(i as f64) - 0.5,
                    "debt": if i == 0 { 0 } else { -i },
                    "a": i,
                    "b": if i % 4 == 0 { i } else { i + 3 },
                })
            })
            .collect();
        let table = Table::from_json_rows(&rows).unwrap();
        let (schema, _) = crate::fit::fit(&table, None).unwrap();
        let s = suggest(&table, &schema);
        assert!(has(
            &s,
            &Constraint::Negative {
                columns: vec!["loss".into()],
                strict: true
            }
        ));
        assert!(has(
            &s,
            &Constraint::Negative {
                columns: vec!["debt".into()],
                strict: false
            }
        ));
        let ab = s
            .iter()
            .find(|x| {
                x.constraint
                    == Constraint::Inequality {
                        low: "a".into(),
                        high: "b".into(),
                        or_equal: true,
                    }
            })
            .expect("a ≤ b");
        assert_eq!(
            ab.reason,
            "a ≤ b on all 20 rows with both values (5 of them equal)"
        );
        for x in &s {
            assert!(holds_on_table(&x.constraint, &table), "{x:?}");
        }
    }

    #[test]
    fn output_is_capped() {
        let rows: Vec<Value> = (0..12)
            .map(|i| {
                let mut row = serde_json::Map::new();
                for c in 0..70 {
                    row.insert(format!("c{c:02}"), json!(i * 1000 + c));
                }
                Value::Object(row)
            })
            .collect();
        let table = Table::from_json_rows(&rows).unwrap();
        let (schema, _) = crate::fit::fit(&table, None).unwrap();
        let s = suggest(&table, &schema);
        assert_eq!(s.len(), MAX_SUGGESTIONS);
        assert!(s.iter().all(|x| x.constraint.kind() == "range"));
    }
}
