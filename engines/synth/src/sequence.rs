//! Sequences: rows grouped by an entity key and ordered by an index, fitted from sample rows of
//! many entities and generated as new entities with their own lengths.
//!
//! The sample splits in two tables. The **context** table has one row per entity: the columns
//! constant within every entity, the entity's length (`__length`) and, with a numeric or
//! datetime index, its first index value (`__start`). The **steps** table has every row: the
//! other columns and, with an index, the step from the previous row's index (`__delta`, null
//! on an entity's first row). Each table gets its own Gaussian-copula schema ([`fit_features`]),
//! so a context column may correlate with the length, and a step column with another.
//!
//! Within an entity the steps' latent normals follow a first-order autoregression,
//! z_t = ρ ⊙ z_{t−1} + √(1 − ρ²) ⊙ w_t with w_t ~ N(0, R) from the steps' copula: each column
//! keeps its N(0, 1) latent marginal (so its fitted distribution), R its cross-column
//! correlation (exact for columns of equal ρ), and ρ_c its lag-1 autocorrelation, estimated on
//! the sample's normal scores as Σ z_t z_{t−1} / √(Σ z_t² · Σ z_{t−1}²) over consecutive pairs
//! within entities (clamped to ±0.99). Lag k then decays as ρ^k.
//!
//! [`SequenceGenerator`] draws a context row, then that many steps, row by row; new entities
//! get new keys (`1, 2, …` for an integer key, else `seq_000001, …`), never the sample's.

use std::collections::HashMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, StandardNormal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::copula::Copula;
use crate::fit::fit_features;
use crate::generate::{Balance, Generator};
use crate::marginal::ColumnModel;
use crate::metrics::{Quality, QualityAccumulator, Reference};
use crate::schema::{parse_instant, ColumnKind, DataSchema};
use crate::stats::{ks_two_sample, norm_ppf, sorted_finite};
use crate::table::{value_key, value_number, Cell, Row, Table};
use crate::SynthError;

pub const LENGTH: &str = "__length";
pub const START: &str = "__start";
pub const DELTA: &str = "__delta";
/// The longest generated entity.
pub const MAX_LENGTH: i64 = 100_000;
/// Lags compared by the autocorrelation similarity.
pub const LAGS: usize = 5;
/// Largest |ρ| kept.
const MAX_RHO: f64 = 0.99;

/// How the index is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndexKind {
    Integer,
    Numeric,
    Datetime,
}

/// A fitted sequence model: everything generation needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SequenceModel {
    pub sequence_key: String,
    /// Whether the sample's keys were all integers (new keys are then 1, 2, …).
    pub integer_key: bool,
    pub sequence_index: Option<String>,
    pub index_kind: Option<IndexKind>,
    /// One row per entity: the context columns, `__length`, and `__start` with an index.
    pub context: DataSchema,
    /// One row per step: the step columns, and `__delta` with an index.
    pub steps: Option<DataSchema>,
    /// Each step column's lag-1 coefficient on its latent normal scores.
    pub autoregression: Vec<(String, f64)>,
    /// The generated rows' columns, in the sample's order.
    pub header: Vec<String>,
    /// Entities and rows in the sample.
    pub entities: usize,
    pub rows: usize,
}

fn invalid(field: &str, message: impl Into<String>) -> SynthError {
    SynthError::invalid(field, message)
}

/// The sample's entities: row indices per key, in first-seen order, each sorted by the index.
fn entities(
    table: &Table,
    key: usize,
    index: Option<usize>,
) -> Result<Vec<Vec<usize>>, SynthError> {
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        let Some(k) = row.get(key).and_then(value_key) else {
            return Err(invalid(
                &format!("sample_rows[{i}].{}", table.columns[key]),
                "every row needs its sequence key",
            ));
        };
        let g = *at.entry(k).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    if let Some(j) = index {
        for (i, row) in table.rows.iter().enumerate() {
            if index_value(&row[j]).is_none() {
                return Err(invalid(
                    &format!("sample_rows[{i}].{}", table.columns[j]),
                    "the sequence index must be a number or an ISO 8601 instant on every row",
                ));
            }
        }
        for g in &mut groups {
            g.sort_by(|&a, &b| {
                let (x, y) = (
                    index_value(&table.rows[a][j]).unwrap_or(0.0),
                    index_value(&table.rows[b][j]).unwrap_or(0.0),
                );
                x.total_cmp(&y)
            });
        }
    }
    Ok(groups)
}

fn index_value(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => parse_instant(s).map(|t| t as f64),
        other => value_number(other),
    }
}

/// The latent normal score of a sample value under a column's model (NaN when null or unknown).
fn normal_score(model: &ColumnModel, v: &Value) -> f64 {
    let u = match model {
        ColumnModel::Levels(levels) => {
            value_key(v)
                .and_then(|k| levels.index_of_name(&k))
                .map(|i| {
                    let (a, b) = levels.interval(i);
                    0.5 * (a + b)
                })
        }
        ColumnModel::Integer { marginal, .. } => {
            value_number(v).map(|x| 0.5 * (marginal.cdf(x - 0.5) + marginal.cdf(x + 0.5)))
        }
        ColumnModel::Numeric { marginal, .. } => value_number(v).map(|x| marginal.cdf(x)),
        ColumnModel::Datetime { marginal } => index_value(v).map(|x| marginal.cdf(x)),
    };
    u.map_or(f64::NAN, |u| norm_ppf(u.clamp(1e-9, 1.0 - 1e-9)))
}

/// Fits a [`SequenceModel`] to sample rows of many entities.
pub fn fit_sequences(
    table: &Table,
    key: &str,
    index: Option<&str>,
) -> Result<SequenceModel, SynthError> {
    for reserved in [LENGTH, START, DELTA] {
        if table.column_index(reserved).is_some() {
            return Err(invalid(
                "sample_rows",
                format!("{reserved:?} is a reserved column name for sequences"),
            ));
        }
    }
    let k = table.column_index(key).ok_or_else(|| {
        invalid(
            "sequence_key",
            format!(
                "no column {key:?} in the sample rows ({})",
                table.columns.join(", ")
            ),
        )
    })?;
    let ix = match index {
        Some(name) if name == key => {
            return Err(invalid(
                "sequence_index",
                "the index must be another column than the key",
            ))
        }
        Some(name) => Some(table.column_index(name).ok_or_else(|| {
            invalid(
                "sequence_index",
                format!("no column {name:?} in the sample rows"),
            )
        })?),
        None => None,
    };
    let groups = entities(table, k, ix)?;
    if groups.len() < 2 {
        return Err(invalid(
            "sample_rows",
            format!(
                "at least 2 entities (distinct {key:?} values) are needed, got {}",
                groups.len()
            ),
        ));
    }
    if groups.iter().all(|g| g.len() < 2) {
        return Err(invalid(
            "sample_rows",
            "every entity has one row: nothing to learn a sequence from",
        ));
    }
    let integer_key = table
        .rows
        .iter()
        .all(|r| r[k].as_i64().is_some() || r[k].as_u64().is_some());
    let index_kind = ix.map(|j| {
        if table.rows.iter().any(|r| r[j].is_string()) {
            IndexKind::Datetime
        } else if table.rows.iter().all(|r| r[j].as_i64().is_some()) {
            IndexKind::Integer
        } else {
            IndexKind::Numeric
        }
    });
    // Context: constant within every entity.
    let others: Vec<usize> = (0..table.columns.len())
        .filter(|&j| j != k && Some(j) != ix)
        .collect();
    let (context_cols, step_cols): (Vec<usize>, Vec<usize>) = others.iter().partition(|&&j| {
        groups
            .iter()
            .all(|g| g.iter().all(|&i| table.rows[i][j] == table.rows[g[0]][j]))
    });
    let mut context = Table {
        columns: context_cols
            .iter()
            .map(|&j| table.columns[j].clone())
            .collect(),
        rows: Vec::with_capacity(groups.len()),
    };
    context.columns.push(LENGTH.into());
    if ix.is_some() {
        context.columns.push(START.into());
    }
    for g in &groups {
        let first = &table.rows[g[0]];
        let mut row: Vec<Value> = context_cols.iter().map(|&j| first[j].clone()).collect();
        row.push(Value::from(g.len() as u64));
        if let Some(j) = ix {
            row.push(Value::from(index_value(&first[j]).unwrap_or(0.0)));
        }
        context.rows.push(row);
    }
    let (context_schema, _) = fit_features(&context)?;

    let mut steps = Table {
        columns: step_cols
            .iter()
            .map(|&j| table.columns[j].clone())
            .collect(),
        rows: Vec::with_capacity(table.rows.len()),
    };
    if ix.is_some() {
        steps.columns.push(DELTA.into());
    }
    for g in &groups {
        for (t, &i) in g.iter().enumerate() {
            let r = &table.rows[i];
            let mut row: Vec<Value> = step_cols.iter().map(|&j| r[j].clone()).collect();
            if let Some(j) = ix {
                row.push(if t == 0 {
                    Value::Null
                } else {
                    let prev = index_value(&table.rows[g[t - 1]][j]).unwrap_or(0.0);
                    Value::from(index_value(&r[j]).unwrap_or(0.0) - prev)
                });
            }
            steps.rows.push(row);
        }
    }
    let steps_schema = if steps.columns.is_empty() {
        None
    } else {
        Some(fit_features(&steps)?.0)
    };
    let autoregression = match &steps_schema {
        None => Vec::new(),
        Some(schema) => schema
            .columns
            .iter()
            .map(|c| {
                let j = steps.column_index(&c.name).expect("fitted from this table");
                let model = ColumnModel::from_kind(&c.kind);
                (c.name.clone(), lag_one(&steps, j, &model, &groups))
            })
            .collect(),
    };
    let fitted: Vec<&str> = context_schema
        .columns
        .iter()
        .chain(steps_schema.iter().flat_map(|s| s.columns.iter()))
        .map(|c| c.name.as_str())
        .collect();
    let header = table
        .columns
        .iter()
        .enumerate()
        .filter(|(j, name)| *j == k || Some(*j) == ix || fitted.contains(&name.as_str()))
        .map(|(_, name)| name.clone())
        .collect();
    Ok(SequenceModel {
        sequence_key: key.to_string(),
        integer_key,
        sequence_index: index.map(str::to_string),
        index_kind,
        context: context_schema,
        steps: steps_schema,
        autoregression,
        header,
        entities: groups.len(),
        rows: table.rows.len(),
    })
}

/// Pooled lag-1 autocorrelation of column `j`'s normal scores within entities (`steps` rows are
/// the entities' rows in order).
fn lag_one(steps: &Table, j: usize, model: &ColumnModel, groups: &[Vec<usize>]) -> f64 {
    let (mut xy, mut xx, mut yy) = (0.0, 0.0, 0.0);
    let mut at = 0;
    for g in groups {
        let scores: Vec<f64> = (at..at + g.len())
            .map(|i| normal_score(model, &steps.rows[i][j]))
            .collect();
        at += g.len();
        for w in scores.windows(2) {
            if w[0].is_finite() && w[1].is_finite() {
                xy += w[0] * w[1];
                xx += w[0] * w[0];
                yy += w[1] * w[1];
            }
        }
    }
    if xx <= 0.0 || yy <= 0.0 {
        return 0.0;
    }
    (xy / (xx * yy).sqrt()).clamp(-MAX_RHO, MAX_RHO)
}

/// Where each output column comes from.
#[derive(Clone, Copy)]
enum Source {
    Key,
    Index,
    Context(usize),
    Step(usize),
}

/// Exactly `count` rows of new entities (the last one cut short if `count` ends inside it).
pub struct SequenceGenerator {
    model: SequenceModel,
    sources: Vec<Source>,
    context: Generator,
    context_header: Vec<String>,
    step_models: Vec<ColumnModel>,
    copula: Option<Copula>,
    rho: Vec<f64>,
    rng: ChaCha8Rng,
    remaining: u64,
    entity: u64,
    length: i64,
    t: i64,
    context_row: Row,
    index: f64,
    eps: Vec<f64>,
    w: Vec<f64>,
    z: Vec<f64>,
}

impl SequenceGenerator {
    pub fn new(model: &SequenceModel, seed: u64, count: u64) -> Result<Self, SynthError> {
        let context = Generator::new(&model.context, seed, Balance::Natural, u64::MAX)?;
        let context_header = model.context.header();
        let step_names: Vec<String> = model.steps.as_ref().map_or_else(Vec::new, |s| s.header());
        let sources = model
            .header
            .iter()
            .map(|h| {
                if *h == model.sequence_key {
                    Source::Key
                } else if Some(h) == model.sequence_index.as_ref() {
                    Source::Index
                } else if let Some(i) = context_header.iter().position(|c| c == h) {
                    Source::Context(i)
                } else {
                    Source::Step(step_names.iter().position(|c| c == h).unwrap_or(0))
                }
            })
            .collect();
        let step_models: Vec<ColumnModel> = model.steps.as_ref().map_or_else(Vec::new, |s| {
            s.columns
                .iter()
                .map(|c| ColumnModel::from_kind(&c.kind).for_sampling())
                .collect()
        });
        let copula = model.steps.as_ref().map(Copula::for_schema);
        let dim = step_models.len();
        let rho = model.autoregression.iter().map(|(_, r)| *r).collect();
        Ok(SequenceGenerator {
            model: model.clone(),
            sources,
            context,
            context_header,
            step_models,
            copula,
            rho,
            // A stream apart from the context generator's.
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5e9_0e4ce),
            remaining: count,
            entity: 0,
            length: 0,
            t: 0,
            context_row: Vec::new(),
            index: 0.0,
            eps: vec![0.0; dim],
            w: vec![0.0; dim],
            z: vec![0.0; dim],
        })
    }

    fn context_number(&self, name: &str) -> Option<f64> {
        let i = self.context_header.iter().position(|c| c == name)?;
        match self.context_row.get(i)? {
            Cell::Int(v) => Some(*v as f64),
            Cell::Num(x) => Some(*x),
            Cell::Time(t) => Some(*t as f64),
            _ => None,
        }
    }

    fn start_entity(&mut self) {
        self.context_row = self.context.next().unwrap_or_default();
        self.entity += 1;
        self.length = self
            .context_number(LENGTH)
            .map_or(1, |l| l.round() as i64)
            .clamp(1, MAX_LENGTH);
        self.index = self.context_number(START).unwrap_or(0.0);
        self.t = 0;
    }
}

impl Iterator for SequenceGenerator {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if self.t >= self.length || self.entity == 0 {
            self.start_entity();
        }
        let mut steps: Row = Vec::with_capacity(self.step_models.len());
        if let Some(copula) = &self.copula {
            for e in self.eps.iter_mut() {
                *e = StandardNormal.sample(&mut self.rng);
            }
            copula.correlate(&self.eps, &mut self.w);
            for (c, z) in self.z.iter_mut().enumerate() {
                let r = self.rho[c];
                *z = if self.t == 0 {
                    self.w[c]
                } else {
                    r * *z + (1.0 - r * r).sqrt() * self.w[c]
                };
            }
            for (model, &z) in self.step_models.iter().zip(&self.z) {
                steps.push(model.cell_from_latent(z));
            }
        }
        if self.t > 0 {
            let delta = self
                .model
                .steps
                .as_ref()
                .and_then(|s| s.columns.iter().position(|c| c.name == DELTA))
                .and_then(|i| match &steps[i] {
                    Cell::Num(x) => Some(*x),
                    Cell::Int(v) => Some(*v as f64),
                    _ => None,
                })
                .unwrap_or(0.0);
            // The index never goes back.
            self.index += delta.max(0.0);
        }
        let row = self
            .sources
            .iter()
            .map(|s| match *s {
                Source::Key => {
                    if self.model.integer_key {
                        Cell::Int(self.entity as i64)
                    } else {
                        Cell::Text(format!("seq_{:06}", self.entity).into())
                    }
                }
                Source::Index => match self.model.index_kind {
                    Some(IndexKind::Integer) => Cell::Int(self.index.round() as i64),
                    Some(IndexKind::Datetime) => Cell::Time(self.index.round() as i64),
                    _ => Cell::Num(self.index),
                },
                Source::Context(i) => self.context_row.get(i).cloned().unwrap_or(Cell::Null),
                Source::Step(i) => steps.get(i).cloned().unwrap_or(Cell::Null),
            })
            .collect();
        self.t += 1;
        Some(row)
    }
}

/// How close generated sequences are to the sample's, beyond each column's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SequenceQuality {
    pub real_entities: usize,
    pub synthetic_entities: usize,
    /// 1 − KS statistic between the real and generated entity lengths.
    pub length_similarity: f64,
    /// Mean over the numeric step columns of 1 − mean_k |r_k(real) − r_k(synthetic)| / 2, for
    /// lags k = 1..5 (None without a numeric step column).
    pub autocorrelation_similarity: Option<f64>,
    pub columns: Vec<ColumnAutocorrelation>,
    /// Mean of the two similarities (the length similarity alone when there is no numeric step
    /// column).
    pub score: f64,
}

/// One numeric step column's autocorrelations, lags 1..5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ColumnAutocorrelation {
    pub column: String,
    pub real: Vec<f64>,
    pub synthetic: Vec<f64>,
    pub similarity: f64,
}

/// Pooled autocorrelation at lags 1..=LAGS of `series` (one list per entity): with m the mean
/// and N the count of all values, r_k = [Σ (x_t − m)(x_{t+k} − m) / N_k] / [Σ (x − m)² / N],
/// the first sum over the N_k pairs k apart within an entity (0 without pairs or variance).
pub fn autocorrelations(series: &[Vec<f64>]) -> Vec<f64> {
    let all: Vec<f64> = series.iter().flatten().copied().collect();
    let n = all.len() as f64;
    if all.is_empty() {
        return vec![0.0; LAGS];
    }
    let m = all.iter().sum::<f64>() / n;
    let var = all.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    (1..=LAGS)
        .map(|k| {
            let (mut s, mut pairs) = (0.0, 0usize);
            for x in series {
                for t in 0..x.len().saturating_sub(k) {
                    s += (x[t] - m) * (x[t + k] - m);
                    pairs += 1;
                }
            }
            if pairs == 0 || var <= 0.0 {
                0.0
            } else {
                s / pairs as f64 / var
            }
        })
        .collect()
}

impl SequenceModel {
    /// The context and step columns as one schema (the reserved columns left out), for the
    /// per-column metrics and the stored dataset's schema.
    pub fn flat_schema(&self) -> DataSchema {
        let reserved = |n: &str| [LENGTH, START, DELTA].contains(&n);
        let mut columns = Vec::new();
        for name in &self.header {
            let found = self
                .context
                .columns
                .iter()
                .chain(self.steps.iter().flat_map(|s| s.columns.iter()))
                .find(|c| &c.name == name && !reserved(&c.name));
            if let Some(c) = found {
                columns.push(c.clone());
            }
        }
        DataSchema {
            columns,
            target: None,
            correlations: Vec::new(),
        }
    }

    /// Entities of generated `rows` (in [`SequenceModel::header`] order): consecutive rows with
    /// the same key.
    fn synthetic_entities<'a>(&self, rows: &'a [Row]) -> Vec<&'a [Row]> {
        let k = self
            .header
            .iter()
            .position(|h| *h == self.sequence_key)
            .unwrap_or(0);
        let mut out = Vec::new();
        let mut start = 0;
        for i in 1..=rows.len() {
            if i == rows.len() || rows[i][k] != rows[start][k] {
                if i > start {
                    out.push(&rows[start..i]);
                }
                start = i;
            }
        }
        out
    }

    /// The per-column quality (SDMetrics' column shapes and pair trends on the rows, keys and
    /// index left out) and the sequence quality of generated `rows` against the `real` sample.
    pub fn quality(&self, real: &Table, rows: &[Row], seed: u64) -> (Quality, SequenceQuality) {
        let flat = self.flat_schema();
        let flat_header = flat.header();
        let at: Vec<usize> = flat_header
            .iter()
            .map(|h| self.header.iter().position(|x| x == h).unwrap_or(0))
            .collect();
        let mut acc = QualityAccumulator::new(&flat, seed);
        for row in rows {
            let cells: Row = at.iter().map(|&j| row[j].clone()).collect();
            acc.push(&cells);
        }
        let quality = acc.finish(Reference::Sample(real));

        let key = real.column_index(&self.sequence_key).unwrap_or(0);
        let ix = self
            .sequence_index
            .as_ref()
            .and_then(|n| real.column_index(n));
        let groups = entities(real, key, ix).unwrap_or_default();
        let synthetic = self.synthetic_entities(rows);
        let real_lengths = sorted_finite(groups.iter().map(|g| g.len() as f64));
        let synthetic_lengths = sorted_finite(synthetic.iter().map(|e| e.len() as f64));
        let length_similarity = if synthetic_lengths.is_empty() {
            0.0
        } else {
            1.0 - ks_two_sample(&real_lengths, &synthetic_lengths)
        };
        let mut columns = Vec::new();
        if let Some(steps) = &self.steps {
            for c in &steps.columns {
                let numeric = matches!(
                    c.kind,
                    ColumnKind::Numeric { .. }
                        | ColumnKind::Integer { .. }
                        | ColumnKind::Datetime { .. }
                );
                let (Some(rj), Some(sj)) = (
                    real.column_index(&c.name),
                    self.header.iter().position(|h| *h == c.name),
                ) else {
                    continue;
                };
                if !numeric {
                    continue;
                }
                let real_series: Vec<Vec<f64>> = groups
                    .iter()
                    .map(|g| {
                        g.iter()
                            .filter_map(|&i| index_value(&real.rows[i][rj]))
                            .collect()
                    })
                    .collect();
                let synthetic_series: Vec<Vec<f64>> = synthetic
                    .iter()
                    .map(|e| {
                        e.iter()
                            .filter_map(|r| match &r[sj] {
                                Cell::Num(x) => Some(*x),
                                Cell::Int(v) => Some(*v as f64),
                                Cell::Time(t) => Some(*t as f64),
                                _ => None,
                            })
                            .collect()
                    })
                    .collect();
                let (r, s) = (
                    autocorrelations(&real_series),
                    autocorrelations(&synthetic_series),
                );
                let similarity = 1.0
                    - r.iter().zip(&s).map(|(a, b)| (a - b).abs()).sum::<f64>()
                        / (2.0 * LAGS as f64);
                columns.push(ColumnAutocorrelation {
                    column: c.name.clone(),
                    real: r,
                    synthetic: s,
                    similarity,
                });
            }
        }
        let autocorrelation_similarity = (!columns.is_empty())
            .then(|| columns.iter().map(|c| c.similarity).sum::<f64>() / columns.len() as f64);
        let score =
            autocorrelation_similarity.map_or(length_similarity, |a| 0.5 * (a + length_similarity));
        (
            quality,
            SequenceQuality {
                real_entities: groups.len(),
                synthetic_entities: synthetic.len(),
                length_similarity,
                autocorrelation_similarity,
                columns,
                score,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// 80 entities: `id` (integer key), `t` (integer index, step 1 or 2), `region` (context:
    /// "north" entities are longer), `value` an AR(1) series with ρ = 0.8, `kind` i.i.d.
    fn sample() -> Table {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut rows = Vec::new();
        for id in 0..80i64 {
            let north = id % 2 == 0;
            let len = if north {
                rng.random_range(20..40)
            } else {
                rng.random_range(5..15)
            };
            let mut z: f64 = StandardNormal.sample(&mut rng);
            let mut t = 100 * id;
            for _ in 0..len {
                let e: f64 = StandardNormal.sample(&mut rng);
                z = 0.8 * z + 0.6 * e;
                let kind = if rng.random_bool(0.3) { "x" } else { "y" };
                rows.push(vec![
                    Value::from(id),
                    Value::from(t),
                    Value::from(if north { "north" } else { "south" }),
                    Value::from((50.0 + 10.0 * z * 100.0).round() / 100.0),
                    Value::from(kind),
                ]);
                t += if rng.random_bool(0.5) { 1 } else { 2 };
            }
        }
        Table {
            columns: ["id", "t", "region", "value", "kind"]
                .map(String::from)
                .to_vec(),
            rows,
        }
    }

    #[test]
    fn fits_context_steps_and_the_lag_one_coefficient() {
        let m = fit_sequences(&sample(), "id", Some("t")).unwrap();
        assert_eq!(m.entities, 80);
        assert_eq!(m.header, ["id", "t", "region", "value", "kind"]);
        assert_eq!(m.context.header(), ["region", LENGTH, START]);
        assert_eq!(m.steps.as_ref().unwrap().header(), ["value", "kind", DELTA]);
        assert_eq!(m.index_kind, Some(IndexKind::Integer));
        assert!(m.integer_key);
        let rho: HashMap<&str, f64> = m
            .autoregression
            .iter()
            .map(|(c, r)| (c.as_str(), *r))
            .collect();
        assert!((rho["value"] - 0.8).abs() < 0.06, "{rho:?}");
        assert!(rho["kind"].abs() < 0.1, "{rho:?}");
        // The context copula keeps region ↔ length.
        assert!(
            m.context
                .correlations
                .iter()
                .any(|c| (c.a == LENGTH || c.b == LENGTH) && c.r.abs() > 0.5),
            "{:?}",
            m.context.correlations
        );
    }

    #[test]
    fn generates_whole_entities_with_their_context_order_and_dependence() {
        let real = sample();
        let m = fit_sequences(&real, "id", Some("t")).unwrap();
        let rows: Vec<Row> = SequenceGenerator::new(&m, 7, 5000).unwrap().collect();
        assert_eq!(rows.len(), 5000);
        let again: Vec<Row> = SequenceGenerator::new(&m, 7, 5000).unwrap().collect();
        assert_eq!(rows, again, "seeded");
        let entities = m.synthetic_entities(&rows);
        assert!(entities.len() > 100, "{}", entities.len());
        let (mut north, mut south) = (vec![], vec![]);
        for e in &entities[..entities.len() - 1] {
            let region = &e[0][2];
            assert!(
                e.iter().all(|r| &r[2] == region && r[0] == e[0][0]),
                "context and key are constant"
            );
            let ts: Vec<i64> = e
                .iter()
                .map(|r| match r[1] {
                    Cell::Int(v) => v,
                    ref other => panic!("{other:?}"),
                })
                .collect();
            assert!(ts.windows(2).all(|w| w[1] >= w[0]), "{ts:?}");
            if region == &Cell::Text("north".into()) {
                north.push(e.len() as f64);
            } else {
                south.push(e.len() as f64);
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(
            mean(&north) > mean(&south) + 8.0,
            "{} {}",
            mean(&north),
            mean(&south)
        );
        let (quality, seq) = m.quality(&real, &rows, 1);
        assert!(seq.length_similarity > 0.6, "{seq:?}");
        let value = seq.columns.iter().find(|c| c.column == "value").unwrap();
        assert!(
            (value.synthetic[0] - value.real[0]).abs() < 0.1,
            "{value:?}"
        );
        assert!(value.similarity > 0.9, "{value:?}");
        assert!(quality.realism_score > 0.7, "{quality:?}");
        assert_eq!(seq.real_entities, 80);
    }

    #[test]
    fn autocorrelations_by_hand() {
        // One series 1, 2, 3, 4: m = 2.5, var = 1.25; lag 1 pairs: (−1.5·−0.5 + −0.5·0.5 +
        // 0.5·1.5) / 3 = 0.4167 → 0.3333; lag 2: (−1.5·0.5 + −0.5·1.5) / 2 = −0.75 → −0.6.
        let r = autocorrelations(&[vec![1.0, 2.0, 3.0, 4.0]]);
        assert!((r[0] - 1.0 / 3.0).abs() < 1e-12, "{r:?}");
        assert!((r[1] + 0.6).abs() < 1e-12, "{r:?}");
        assert_eq!(r[4], 0.0, "no pairs at lag 5");
    }

    #[test]
    fn bad_samples_are_named() {
        let t = sample();
        let field = |r: Result<SequenceModel, SynthError>| match r {
            Err(SynthError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(fit_sequences(&t, "nope", None)), "sequence_key");
        assert_eq!(field(fit_sequences(&t, "id", Some("id"))), "sequence_index");
        assert_eq!(
            field(fit_sequences(&t, "id", Some("region"))),
            "sample_rows[0].region"
        );
        let one = Table {
            columns: t.columns.clone(),
            rows: t.rows.iter().filter(|r| r[0] == 0).cloned().collect(),
        };
        assert_eq!(field(fit_sequences(&one, "id", Some("t"))), "sample_rows");
        let mut reserved = t.clone();
        reserved.columns[4] = DELTA.into();
        assert_eq!(field(fit_sequences(&reserved, "id", None)), "sample_rows");
    }
}

#[cfg(test)]
mod edge_tests {
    use super::*;

    #[test]
    fn a_sample_of_keys_and_an_index_only_still_measures_finite_numbers() {
        let rows = (0..30)
            .map(|i| vec![Value::from(i % 3), Value::from(i)])
            .collect();
        let t = Table {
            columns: vec!["k".into(), "t".into()],
            rows,
        };
        let m = fit_sequences(&t, "k", Some("t")).unwrap();
        let rows: Vec<Row> = SequenceGenerator::new(&m, 1, 50).unwrap().collect();
        assert_eq!(rows.len(), 50);
        let (q, s) = m.quality(&t, &rows, 1);
        let json = serde_json::to_string(&(q, s)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        for f in ["realism_score", "diversity_score"] {
            assert!(v[0][f].is_number(), "{f}: {json}");
        }
        assert!(v[1]["score"].is_number(), "{json}");
        // No index at all, and a key only.
        let m = fit_sequences(&t, "k", None).unwrap();
        assert_eq!(SequenceGenerator::new(&m, 1, 10).unwrap().count(), 10);
    }
}
