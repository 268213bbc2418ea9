//! Constraints that hold on every generated row.
//!
//! Each row from the [`Generator`] first goes through the constraints that have a transform
//! (`inequality`: the two values swapped when out of order; `one_hot`: the largest column
//! set to 1, the others to 0; `sum`: the columns scaled to the total), then every constraint
//! is checked, and a row that breaks one is drawn again (rejection: the same class under an
//! exact class balance, so class counts stay what was asked). A row rejected
//! [`MAX_REJECTIONS_IN_A_ROW`] times in a row, or an acceptance below [`ACCEPTANCE_FLOOR`]
//! after [`FLOOR_AFTER`] draws, ends generation with an error naming the constraint that
//! rejected most: never a hang.

use std::collections::HashSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::{Condition, ConditionsReport};
use crate::generate::Generator;
use crate::schema::{ColumnKind, DataSchema};
use crate::table::{Cell, Row, Table};
use crate::SynthError;

/// Draws without one accepted row before generation gives up.
pub const MAX_REJECTIONS_IN_A_ROW: u64 = 1000;
/// The smallest share of draws that must pass once [`FLOOR_AFTER`] draws were made: bounds
/// the work at 20 draws a row once past the first 10,000 draws.
pub const ACCEPTANCE_FLOOR: f64 = 0.05;
pub const FLOOR_AFTER: u64 = 10_000;

fn is_false(b: &bool) -> bool {
    !*b
}

/// One constraint, as a request names it. Optional fields are written only when set, so a
/// constraint answered (a suggestion, a stored one) is one a request may send as is, under
/// one schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Constraint {
    /// `min ≤ column ≤ max` (either bound may be left out).
    Range {
        column: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    /// `low < high` on every row (`low ≤ high` with `or_equal`).
    Inequality {
        low: String,
        high: String,
        #[serde(default, skip_serializing_if = "is_false")]
        or_equal: bool,
    },
    /// Every column ≥ 0 (> 0 with `strict`).
    Positive {
        columns: Vec<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        strict: bool,
    },
    /// Every column ≤ 0 (< 0 with `strict`).
    Negative {
        columns: Vec<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        strict: bool,
    },
    /// Only combinations of these columns' values seen in the sample rows.
    FixedCombinations { columns: Vec<String> },
    /// Exactly one of these columns is 1 (or true), the others 0 (or false).
    OneHot { columns: Vec<String> },
    /// The columns add up to `total` (within 1e-9 of |total|, at least 1e-9).
    Sum { columns: Vec<String>, total: f64 },
}

impl Constraint {
    pub fn kind(&self) -> &'static str {
        match self {
            Constraint::Range { .. } => "range",
            Constraint::Inequality { .. } => "inequality",
            Constraint::Positive { .. } => "positive",
            Constraint::Negative { .. } => "negative",
            Constraint::FixedCombinations { .. } => "fixed_combinations",
            Constraint::OneHot { .. } => "one_hot",
            Constraint::Sum { .. } => "sum",
        }
    }

    /// How it is enforced: `swap`, `argmax` or `scale` by construction, else `rejection`.
    pub fn method(&self) -> &'static str {
        match self {
            Constraint::Inequality { .. } => "swap",
            Constraint::OneHot { .. } => "argmax",
            Constraint::Sum { .. } => "scale",
            _ => "rejection",
        }
    }

    fn columns(&self) -> Vec<&str> {
        match self {
            Constraint::Range { column, .. } => vec![column],
            Constraint::Inequality { low, high, .. } => vec![low, high],
            Constraint::Positive { columns, .. }
            | Constraint::Negative { columns, .. }
            | Constraint::FixedCombinations { columns }
            | Constraint::OneHot { columns }
            | Constraint::Sum { columns, .. } => columns.iter().map(String::as_str).collect(),
        }
    }
}

/// What one constraint did over a generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConstraintReport {
    #[serde(rename = "type")]
    pub kind: String,
    pub columns: Vec<String>,
    /// `rejection`, or the transform (`swap`, `argmax`, `scale`) that makes it hold.
    pub method: String,
    /// Rows its transform changed.
    pub transformed: u64,
    /// Draws it rejected (a draw rejected by several counts for each).
    pub rejected: u64,
}

/// All constraints' outcome: every emitted row satisfied each of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConstraintsReport {
    pub constraints: Vec<ConstraintReport>,
    /// Rows drawn, including the rejected ones.
    pub draws: u64,
    pub accepted: u64,
    /// rejected draws / draws.
    pub rejection_rate: f64,
}

/// What a column holds, for checking constraints against it.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Boolean,
    Category,
}

/// Constraints bound to a schema's header: column positions checked once.
struct Bound {
    constraint: Constraint,
    at: Vec<usize>,
    /// `fixed_combinations`: the seen combinations, as JSON text per cell.
    allowed: HashSet<Vec<String>>,
    report: ConstraintReport,
}

fn number(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Num(x) => Some(*x),
        Cell::Int(i) => Some(*i as f64),
        Cell::Time(t) => Some(*t as f64),
        Cell::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn key(cell: &Cell) -> String {
    cell.to_json().to_string()
}

/// A table cell (as sample rows are read) spelled as the generated cell of that value would be.
fn table_key(value: &serde_json::Value, kind: &ColumnKind) -> String {
    use serde_json::Value;
    match (kind, value) {
        (ColumnKind::Integer { .. }, Value::Number(n)) => n.as_f64().map_or_else(
            || value.to_string(),
            |f| Value::from(f.round() as i64).to_string(),
        ),
        (ColumnKind::Boolean { .. }, Value::String(s)) => Value::Bool(matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "1" | "yes"
        ))
        .to_string(),
        (ColumnKind::Categorical { .. }, Value::Number(_) | Value::Bool(_)) => {
            Value::String(value.to_string()).to_string()
        }
        _ => value.to_string(),
    }
}

/// The generator's rows with `constraints` holding on each.
pub struct Constrained {
    inner: Generator,
    bound: Vec<Bound>,
    draws: u64,
    accepted: u64,
    rejected_draws: u64,
    failed: Option<SynthError>,
}

impl Constrained {
    /// Binds `constraints` to `schema`'s columns; `sample` gives `fixed_combinations` its
    /// combinations. A constraint naming an unknown column, a column of the wrong kind, or a
    /// combination without sample rows, is an error naming `constraints[i]`.
    ///
    /// `conditions` (see [`crate::conditions`]) turn the generator to conditional sampling;
    /// the rows that miss one are drawn again here, like the rows that break a constraint.
    pub fn new(
        mut inner: Generator,
        schema: &DataSchema,
        constraints: &[Constraint],
        conditions: &[Condition],
        sample: Option<&Table>,
    ) -> Result<Constrained, SynthError> {
        if !conditions.is_empty() {
            inner.condition(schema, conditions)?;
        }
        let header = schema.header();
        let kind_of = |name: &str| -> Option<(Kind, Option<&ColumnKind>)> {
            if let Some(c) = schema.columns.iter().find(|c| c.name == name) {
                let k = match c.kind {
                    ColumnKind::Numeric { .. }
                    | ColumnKind::Integer { .. }
                    | ColumnKind::Datetime { .. } => Kind::Number,
                    ColumnKind::Boolean { .. } => Kind::Boolean,
                    ColumnKind::Categorical { .. } => Kind::Category,
                };
                return Some((k, Some(&c.kind)));
            }
            (schema.target_name() == Some(name)).then_some((Kind::Category, None))
        };
        let mut bound = Vec::with_capacity(constraints.len());
        for (i, c) in constraints.iter().enumerate() {
            let field = format!("constraints[{i}]");
            let names = c.columns();
            let min_columns = match c {
                Constraint::OneHot { .. } | Constraint::Sum { .. } => 2,
                _ => 1,
            };
            if names.len() < min_columns {
                return Err(SynthError::invalid(
                    &field,
                    format!("{} needs at least {min_columns} columns", c.kind()),
                ));
            }
            let mut at = Vec::with_capacity(names.len());
            for name in &names {
                let Some((kind, _)) = kind_of(name) else {
                    return Err(SynthError::invalid(
                        &field,
                        format!("no column {name:?} (columns: {})", header.join(", ")),
                    ));
                };
                let numeric_only = !matches!(c, Constraint::FixedCombinations { .. });
                let ok = match c {
                    Constraint::FixedCombinations { .. } => true,
                    Constraint::OneHot { .. } => kind != Kind::Category,
                    Constraint::Sum { .. } => matches!(
                        kind_of(name).and_then(|k| k.1),
                        Some(ColumnKind::Numeric { .. })
                    ),
                    _ => kind == Kind::Number,
                };
                if numeric_only && !ok {
                    let wanted = match c {
                        Constraint::OneHot { .. } => "numeric, integer or boolean",
                        Constraint::Sum { .. } => "numeric (real-valued)",
                        _ => "numeric, integer or datetime",
                    };
                    return Err(SynthError::invalid(
                        &field,
                        format!("{} needs {wanted} columns; {name:?} is not", c.kind()),
                    ));
                }
                at.push(header.iter().position(|h| h == name).expect("in header"));
            }
            let mut allowed = HashSet::new();
            if let Constraint::FixedCombinations { columns } = c {
                let Some(table) = sample else {
                    return Err(SynthError::invalid(
                        &field,
                        "fixed_combinations needs sample_rows to take the combinations from",
                    ));
                };
                let mut idx = Vec::new();
                for name in columns {
                    let Some(j) = table.column_index(name) else {
                        return Err(SynthError::invalid(
                            &field,
                            format!("the sample rows have no column {name:?}"),
                        ));
                    };
                    let kind = kind_of(name).and_then(|k| k.1).cloned();
                    idx.push((j, kind));
                }
                for row in &table.rows {
                    allowed.insert(
                        idx.iter()
                            .map(|(j, kind)| {
                                let v = row.get(*j).cloned().unwrap_or_default();
                                match kind {
                                    Some(k) => table_key(&v, k),
                                    None => serde_json::Value::String(match &v {
                                        serde_json::Value::String(s) => s.clone(),
                                        other => other.to_string(),
                                    })
                                    .to_string(),
                                }
                            })
                            .collect(),
                    );
                }
            }
            if let Constraint::Range {
                min: Some(lo),
                max: Some(hi),
                ..
            } = c
            {
                if lo > hi {
                    return Err(SynthError::invalid(&field, "min is above max"));
                }
            }
            bound.push(Bound {
                report: ConstraintReport {
                    kind: c.kind().to_string(),
                    columns: names.iter().map(|s| s.to_string()).collect(),
                    method: c.method().to_string(),
                    transformed: 0,
                    rejected: 0,
                },
                constraint: c.clone(),
                at,
                allowed,
            });
        }
        Ok(Constrained {
            inner,
            bound,
            draws: 0,
            accepted: 0,
            rejected_draws: 0,
            failed: None,
        })
    }

    /// The generation's counts so far (complete once the iterator has ended).
    pub fn report(&self) -> ConstraintsReport {
        ConstraintsReport {
            constraints: self.bound.iter().map(|b| b.report.clone()).collect(),
            draws: self.draws,
            accepted: self.accepted,
            rejection_rate: if self.draws == 0 {
                0.0
            } else {
                self.rejected_draws as f64 / self.draws as f64
            },
        }
    }

    /// What the conditions did, when there were any.
    pub fn conditions_report(&self) -> Option<ConditionsReport> {
        self.inner
            .condition_reports()
            .map(|conditions| ConditionsReport {
                conditions,
                draws: self.draws,
                accepted: self.accepted,
                acceptance: if self.draws == 0 {
                    1.0
                } else {
                    self.accepted as f64 / self.draws as f64
                },
            })
    }

    /// Why generation stopped early, if it did.
    pub fn failure(&mut self) -> Option<SynthError> {
        self.failed.take()
    }

    /// Applies the transforms to `row`, then answers whether every constraint holds.
    fn admit(&mut self, row: &mut Row) -> bool {
        for b in self.bound.iter_mut() {
            if transform(&b.constraint, &b.at, row) {
                b.report.transformed += 1;
            }
        }
        let mut ok = true;
        for b in self.bound.iter_mut() {
            if !holds(&b.constraint, &b.at, &b.allowed, row) {
                b.report.rejected += 1;
                ok = false;
            }
        }
        // After the transforms: a swap or a scaling may move a conditioned value.
        self.inner.meets_conditions(row) && ok
    }

    fn give_up(&mut self) -> SynthError {
        let worst = self
            .bound
            .iter()
            .enumerate()
            .max_by_key(|(_, b)| b.report.rejected)
            .map(|(i, b)| (i, b.report.kind.clone(), b.report.rejected));
        let rate = self.accepted as f64 / self.draws.max(1) as f64;
        if self.inner.is_conditioned() {
            // Conditions make rows rare, not impossible to describe: the request is valid but
            // cannot be met within the bound (422), named by what rejected most.
            let condition = self.inner.worst_condition();
            let (field, what, rejected) = match (condition, &worst) {
                (Some((i, r, column)), Some((_, _, rc))) if r >= *rc => (
                    format!("conditions[{i}]"),
                    format!("condition on {column:?}"),
                    r,
                ),
                (Some((i, r, column)), None) => (
                    format!("conditions[{i}]"),
                    format!("condition on {column:?}"),
                    r,
                ),
                (_, Some((i, kind, rc))) => (
                    format!("constraints[{i}]"),
                    format!("{kind} constraint"),
                    *rc,
                ),
                (None, None) => ("conditions".to_string(), "condition".to_string(), 0),
            };
            let meeting = if self.bound.is_empty() {
                "the conditions"
            } else {
                "the conditions together with the constraints"
            };
            return SynthError::Unsatisfiable {
                field,
                message: format!(
                    "the {what} rejected {rejected} of {} draws (acceptance {:.4} %, below the \
                     {} % floor after {FLOOR_AFTER} draws or {MAX_REJECTIONS_IN_A_ROW} \
                     rejections in a row): rows meeting {meeting} are too rare in the fitted \
                     distribution",
                    self.draws,
                    rate * 100.0,
                    ACCEPTANCE_FLOOR * 100.0
                ),
            };
        }
        match worst {
            Some((i, kind, rejected)) => SynthError::invalid(
                format!("constraints[{i}]"),
                format!(
                    "the {kind} constraint rejected {rejected} of {} draws (acceptance {:.4} %, \
                     below the {} % floor or {MAX_REJECTIONS_IN_A_ROW} rejections in a row): \
                     the schema rarely or never produces rows that satisfy it",
                    self.draws,
                    rate * 100.0,
                    ACCEPTANCE_FLOOR * 100.0
                ),
            ),
            None => SynthError::invalid("constraints", "generation stopped"),
        }
    }
}

impl Iterator for Constrained {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.failed.is_some() {
            return None;
        }
        let mut row = self.inner.next()?;
        let mut in_a_row = 0u64;
        loop {
            self.draws += 1;
            if self.admit(&mut row) {
                self.accepted += 1;
                self.inner.emitted();
                return Some(row);
            }
            self.rejected_draws += 1;
            in_a_row += 1;
            let floor_broken = self.draws >= FLOOR_AFTER
                && (self.accepted as f64) < ACCEPTANCE_FLOOR * self.draws as f64;
            if in_a_row >= MAX_REJECTIONS_IN_A_ROW || floor_broken {
                self.failed = Some(self.give_up());
                return None;
            }
            row = self.inner.redraw();
        }
    }
}

/// Changes `row` so the constraint holds where a transform exists; `true` if it changed.
fn transform(c: &Constraint, at: &[usize], row: &mut Row) -> bool {
    match c {
        Constraint::Inequality { .. } => {
            let (Some(a), Some(b)) = (number(&row[at[0]]), number(&row[at[1]])) else {
                return false;
            };
            // Equal values cannot be put in order: a strict inequality rejects them.
            if a > b {
                row.swap(at[0], at[1]);
                // The two columns may differ in kind (an integer and a number): swap values,
                // keep each column's cell type.
                let (x, y) = (row[at[0]].clone(), row[at[1]].clone());
                row[at[0]] = like(&y, &x);
                row[at[1]] = like(&x, &y);
                true
            } else {
                false
            }
        }
        Constraint::OneHot { .. } => {
            let values: Vec<f64> = at
                .iter()
                .map(|&j| number(&row[j]).unwrap_or(f64::NEG_INFINITY))
                .collect();
            let top = values
                .iter()
                .enumerate()
                .fold(0, |best, (i, v)| if *v > values[best] { i } else { best });
            let mut changed = false;
            for (i, &j) in at.iter().enumerate() {
                let on = i == top;
                let cell = match &row[j] {
                    Cell::Bool(_) => Cell::Bool(on),
                    Cell::Int(_) => Cell::Int(i64::from(on)),
                    _ => Cell::Num(f64::from(u8::from(on))),
                };
                changed |= cell != row[j];
                row[j] = cell;
            }
            changed
        }
        Constraint::Sum { total, .. } => {
            let values: Option<Vec<f64>> = at.iter().map(|&j| number(&row[j])).collect();
            let Some(values) = values else {
                return false;
            };
            let sum: f64 = values.iter().sum();
            let same_sign = values.iter().all(|v| *v >= 0.0) || values.iter().all(|v| *v <= 0.0);
            if sum == 0.0 || !same_sign || (sum - total).abs() <= sum_tolerance(*total) {
                return false;
            }
            let k = total / sum;
            for (&j, v) in at.iter().zip(&values) {
                row[j] = Cell::Num(v * k);
            }
            true
        }
        _ => false,
    }
}

/// `value`'s number in the cell type of `template`.
fn like(template: &Cell, value: &Cell) -> Cell {
    let x = number(value).unwrap_or(0.0);
    match template {
        Cell::Int(_) => Cell::Int(x.round() as i64),
        Cell::Time(_) => Cell::Time(x.round() as i64),
        _ => Cell::Num(x),
    }
}

fn sum_tolerance(total: f64) -> f64 {
    (1e-9 * total.abs()).max(1e-9)
}

/// Whether the row satisfies the constraint (a missing value satisfies none but
/// `fixed_combinations`, which compares it as it is).
fn holds(c: &Constraint, at: &[usize], allowed: &HashSet<Vec<String>>, row: &Row) -> bool {
    let num = |j: usize| number(&row[j]);
    match c {
        Constraint::Range { min, max, .. } => {
            num(at[0]).is_some_and(|x| min.is_none_or(|lo| x >= lo) && max.is_none_or(|hi| x <= hi))
        }
        Constraint::Inequality { or_equal, .. } => match (num(at[0]), num(at[1])) {
            (Some(a), Some(b)) => {
                if *or_equal {
                    a <= b
                } else {
                    a < b
                }
            }
            _ => false,
        },
        Constraint::Positive { strict, .. } => at
            .iter()
            .all(|&j| num(j).is_some_and(|x| if *strict { x > 0.0 } else { x >= 0.0 })),
        Constraint::Negative { strict, .. } => at
            .iter()
            .all(|&j| num(j).is_some_and(|x| if *strict { x < 0.0 } else { x <= 0.0 })),
        Constraint::FixedCombinations { .. } => {
            let combo: Vec<String> = at.iter().map(|&j| key(&row[j])).collect();
            allowed.contains(&combo)
        }
        Constraint::OneHot { .. } => {
            let ones = at.iter().filter(|&&j| num(j) == Some(1.0)).count();
            let zeros = at.iter().filter(|&&j| num(j) == Some(0.0)).count();
            ones == 1 && ones + zeros == at.len()
        }
        Constraint::Sum { total, .. } => {
            let values: Option<Vec<f64>> = at.iter().map(|&j| num(j)).collect();
            values.is_some_and(|v| (v.iter().sum::<f64>() - total).abs() <= sum_tolerance(*total))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::Balance;
    use crate::schema::{ColumnSpec, Correlation, Distribution, TargetSpec};

    fn schema() -> DataSchema {
        let num = |name: &str, mean: f64| ColumnSpec {
            name: name.into(),
            kind: ColumnKind::Numeric {
                distribution: Distribution::Normal { mean, std: 10.0 },
                min: None,
                max: None,
                decimals: None,
            },
        };
        let flag = |name: &str| ColumnSpec {
            name: name.into(),
            kind: ColumnKind::Integer {
                distribution: Distribution::Uniform {
                    low: 0.0,
                    high: 1.0,
                },
                min: Some(0),
                max: Some(1),
            },
        };
        DataSchema {
            columns: vec![
                num("start", 50.0),
                num("end", 55.0),
                num("a", 5.0),
                num("b", 5.0),
                flag("flag_x"),
                flag("flag_y"),
                ColumnSpec {
                    name: "city".into(),
                    kind: ColumnKind::Categorical {
                        categories: vec!["paris".into(), "lyon".into(), "nice".into()],
                        weights: vec![1.0, 1.0, 1.0],
                    },
                },
            ],
            target: Some(TargetSpec {
                name: "y".into(),
                classes: vec!["no".into(), "yes".into()],
                weights: vec![0.8, 0.2],
            }),
            correlations: vec![Correlation {
                a: "start".into(),
                b: "end".into(),
                r: 0.3,
            }],
        }
    }

    fn constraints() -> Vec<Constraint> {
        vec![
            Constraint::Inequality {
                low: "start".into(),
                high: "end".into(),
                or_equal: false,
            },
            Constraint::Range {
                column: "start".into(),
                min: Some(30.0),
                max: Some(80.0),
            },
            Constraint::Positive {
                columns: vec!["a".into(), "b".into()],
                strict: true,
            },
            Constraint::Sum {
                columns: vec!["a".into(), "b".into()],
                total: 10.0,
            },
            Constraint::OneHot {
                columns: vec!["flag_x".into(), "flag_y".into()],
            },
            Constraint::FixedCombinations {
                columns: vec!["city".into(), "y".into()],
            },
        ]
    }

    fn sample() -> Table {
        Table {
            columns: vec!["city".into(), "y".into()],
            rows: vec![
                vec!["paris".into(), "no".into()],
                vec!["paris".into(), "yes".into()],
                vec!["lyon".into(), "no".into()],
            ],
        }
    }

    #[test]
    fn every_row_satisfies_every_constraint_over_many_seeds() {
        let s = schema();
        let header = s.header();
        let col = |n: &str| header.iter().position(|h| h == n).unwrap();
        for seed in 0..40 {
            for balance in [Balance::Natural, Balance::Stratified] {
                let g = Generator::new(&s, seed, balance, 300).unwrap();
                let mut c = Constrained::new(g, &s, &constraints(), &[], Some(&sample())).unwrap();
                let rows: Vec<Row> = c.by_ref().collect();
                assert!(c.failure().is_none());
                assert_eq!(rows.len(), 300, "exact count");
                for r in &rows {
                    let n = |j: usize| number(&r[j]).unwrap();
                    assert!(n(col("start")) < n(col("end")));
                    assert!((30.0..=80.0).contains(&n(col("start"))));
                    assert!(n(col("a")) > 0.0 && n(col("b")) > 0.0);
                    assert!((n(col("a")) + n(col("b")) - 10.0).abs() < 1e-8);
                    assert_eq!(n(col("flag_x")) + n(col("flag_y")), 1.0);
                    let combo = (r[col("city")].to_json(), r[col("y")].to_json());
                    assert!(
                        combo != ("nice".into(), "no".into())
                            && combo != ("lyon".into(), "yes".into())
                            && combo.0 != "nice",
                        "{combo:?}"
                    );
                }
                if balance == Balance::Stratified {
                    let yes = rows
                        .iter()
                        .filter(|r| r[col("y")].to_json() == "yes")
                        .count();
                    assert_eq!(yes, 150, "an exact balance survives rejection");
                }
                let report = c.report();
                assert_eq!(report.accepted, 300);
                assert!(report.draws > 300 && report.rejection_rate > 0.0);
                assert_eq!(report.constraints[0].method, "swap");
                assert!(report.constraints[0].transformed > 0);
            }
        }
    }

    #[test]
    fn an_unsatisfiable_constraint_ends_with_an_error_not_a_hang() {
        let s = schema();
        let g = Generator::new(&s, 1, Balance::Natural, 100).unwrap();
        let impossible = [Constraint::Range {
            column: "start".into(),
            min: Some(1e6),
            max: None,
        }];
        let mut c = Constrained::new(g, &s, &impossible, &[], None).unwrap();
        assert_eq!(c.by_ref().count(), 0);
        let err = c.failure().unwrap().to_string();
        assert!(
            err.starts_with("constraints[0]: the range constraint rejected 1000"),
            "{err}"
        );
    }

    #[test]
    fn bad_constraints_are_named() {
        let s = schema();
        let bad = |c: Constraint| {
            let g = Generator::new(&s, 1, Balance::Natural, 1).unwrap();
            Constrained::new(g, &s, &[c], &[], None)
                .err()
                .unwrap()
                .to_string()
        };
        assert!(bad(Constraint::Range {
            column: "nope".into(),
            min: None,
            max: None
        })
        .contains("no column \"nope\""));
        assert!(bad(Constraint::Positive {
            columns: vec!["city".into()],
            strict: false
        })
        .contains("numeric, integer or datetime"));
        assert!(bad(Constraint::FixedCombinations {
            columns: vec!["city".into()]
        })
        .contains("needs sample_rows"));
        assert!(bad(Constraint::Sum {
            columns: vec!["a".into()],
            total: 1.0
        })
        .contains("at least 2 columns"));
        assert!(bad(Constraint::Range {
            column: "a".into(),
            min: Some(2.0),
            max: Some(1.0)
        })
        .contains("min is above max"));
    }
}
