//! Quality metrics, computed on the rows actually produced, as they stream past.
//!
//! Exact over all rows: the row count, class counts and distinct rows (a 64-bit hash per row in a
//! set). Everything else uses a uniform reservoir sample (Algorithm R, seeded) of up to 20,000
//! rows (fewer for very wide schemas, so the sample stays under 4 million cells); data sets up to
//! that size are measured whole.
//!
//! * `balance_ratio` = minority class count / majority class count over all rows.
//! * `diversity_score` = mean over columns (target included) of the normalized Shannon entropy
//!   H / ln K, times distinct rows / rows. Categorical, boolean and target columns count their
//!   levels (K = levels with positive weight); numeric, integer and datetime columns are binned
//!   into 20 equal-width bins over the sample's min..max, with K = 20 or the number of grid
//!   values (integers, rounded decimals) in that range when smaller; K ≥ 2.
//! * `realism_score`, against real sample rows (`Reference::Sample`): SDMetrics' QualityReport,
//!   the mean of two properties —
//!   Column Shapes = mean over columns of KSComplement = 1 − D (two-sample Kolmogorov–Smirnov
//!   statistic, numeric/integer/datetime) or TVComplement = 1 − ½Σ|p_real − p_synth|
//!   (categorical/boolean/target);
//!   Column Pair Trends (SDMetrics 0.32 `ColumnPairTrends` with the QualityReport's default
//!   thresholds) = mean over the column pairs that show a trend in the real data of
//!   CorrelationSimilarity = 1 − |r_real − r_synth| / 2 (Pearson on the rows where both are
//!   non-null; both sides continuous; counted only when |r_real| > 0.5) or
//!   ContingencySimilarity = 1 − ½Σ|P_real(a,b) − P_synth(a,b)| over the two contingency tables,
//!   each normalized by its row count (a discrete side; counted only when the real table's
//!   Cramér's V > 0.3). A continuous side in a contingency pair is discretized in each data set
//!   separately, as ColumnPairTrends does: `np.digitize` over `np.histogram_bin_edges` of that
//!   data set's own values (10 equal-width bins from its min to its max, left-closed, values
//!   equal to the max in an 11th bin). Null is a category of its own (NaN falls in that 11th bin
//!   of a discretized side); Column Shapes ignores nulls. Pairs whose score is undefined (a
//!   constant side) are skipped, as SDMetrics skips NaN scores; with no pair left the property
//!   is absent and realism is Column Shapes alone. (SDMetrics subsamples 50,000 rows for
//!   ContingencySimilarity on larger tables; here every reservoir row counts.)
//!   Against the schema (`Reference::Spec`): fidelity to the specified distributions, the mean over
//!   columns of KSComplement against the marginal's theoretical CDF (rounding-aware: integers,
//!   seconds and rounded decimals are compared with the CDF of the rounded variable) or
//!   TVComplement against the specified weights. With a non-natural [`Balance`]
//!   ([`QualityAccumulator::with_balance`]) the expected distribution is the one that balance
//!   implies: the target's weights are the planned class shares, and each feature's law is the
//!   mixture Σ_c π_c·P(X | class c) of its exact class-conditional copula marginals, so asking for
//!   stratified data is not scored as infidelity.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::copula::effective_correlation;
use super::generate::{largest_remainder, ratio_weights, stratified_counts, Balance};
use super::marginal::{ColumnModel, Levels};
use super::schema::DataSchema;
use super::stats::{
    ks_one_sample, ks_two_sample, norm_cdf, norm_ppf, normalized_entropy, pearson, sorted_finite,
    total_variation,
};
use super::table::{value_key, value_number, Cell, Row, Table};

/// Reservoir size when the schema is narrow enough.
pub const MAX_METRIC_ROWS: usize = 20_000;
/// Upper bound on reservoir cells, which caps the reservoir for wide schemas.
const MAX_METRIC_CELLS: usize = 4_000_000;
/// Upper bound on pair-metric work (pairs × sampled rows); beyond it an evenly spread subset of
/// pairs is scored.
const MAX_PAIR_WORK: usize = 100_000_000;
/// Equal-width bins for the diversity entropy of continuous columns.
const ENTROPY_BINS: usize = 20;
/// Equal-width bins for the continuous side of ContingencySimilarity (numpy's
/// `histogram_bin_edges` default, which SDMetrics' ColumnPairTrends uses).
const CONTINGENCY_BINS: usize = 10;
/// SDMetrics' QualityReport averages a continuous pair only when |r_real| exceeds this
/// (`DEFAULT_REAL_CORRELATION_THRESHOLD`).
const REAL_CORRELATION_THRESHOLD: f64 = 0.5;
/// …and a contingency pair only when the real table's Cramér's V exceeds this
/// (`DEFAULT_REAL_ASSOCIATION_THRESHOLD`).
const REAL_ASSOCIATION_THRESHOLD: f64 = 0.3;

/// What realism is measured against.
pub enum Reference<'a> {
    /// Real sample rows: SDMetrics' QualityReport score.
    Sample(&'a Table),
    /// The schema itself: fidelity of the rows to the specified distributions.
    Spec,
}

/// One column's Column Shapes score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct ColumnScore {
    pub column: String,
    /// `KSComplement` or `TVComplement`.
    pub metric: String,
    pub score: f64,
}

/// The quality report of a generated data set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Quality {
    pub rows: u64,
    pub balance_ratio: Option<f64>,
    pub diversity_score: f64,
    pub realism_score: f64,
    /// `sdmetrics_quality_report` or `fidelity_to_spec`.
    pub method: String,
    pub column_shapes: Vec<ColumnScore>,
    /// The Column Pair Trends property (only against a sample, and only when some column pair
    /// meets SDMetrics' real-trend thresholds).
    pub column_pair_trends: Option<f64>,
    pub class_counts: Vec<(String, u64)>,
    pub distinct_rows: u64,
    /// Rows the sampled metrics were computed on.
    pub metric_sample_rows: usize,
}

/// Collects the metrics' inputs row by row; [`QualityAccumulator::finish`] computes them.
pub struct QualityAccumulator {
    names: Vec<String>,
    models: Vec<ColumnModel>,
    target: Option<usize>,
    rows: u64,
    class_counts: Vec<u64>,
    hashes: HashSet<u64>,
    /// Row-major encoded sample: continuous columns as numbers, discrete ones as level indices,
    /// NaN for null or unknown.
    reservoir: Vec<f64>,
    capacity: usize,
    rng: ChaCha8Rng,
    seed: u64,
    balance: Balance,
    /// Each feature's latent correlation with the target (only for a non-natural balance).
    target_rho: Vec<f64>,
}

impl QualityAccumulator {
    /// An accumulator for rows of `schema` (in [`DataSchema::header`] order) generated with the
    /// natural class balance. The seed drives the reservoir sample.
    pub fn new(schema: &DataSchema, seed: u64) -> QualityAccumulator {
        QualityAccumulator::with_balance(schema, seed, Balance::Natural)
    }

    /// An accumulator for rows generated with `balance`: fidelity to the schema is then measured
    /// against the distribution that balance implies (see the module docs).
    pub fn with_balance(schema: &DataSchema, seed: u64, balance: Balance) -> QualityAccumulator {
        let mut models: Vec<ColumnModel> = schema
            .columns
            .iter()
            .map(|c| ColumnModel::from_kind(&c.kind))
            .collect();
        let target = schema.target.as_ref().map(|t| {
            models.push(ColumnModel::Levels(Levels::target(t)));
            models.len() - 1
        });
        let class_counts = vec![0; schema.target.as_ref().map_or(0, |t| t.classes.len())];
        let width = models.len().max(1);
        QualityAccumulator {
            names: schema.header(),
            capacity: MAX_METRIC_ROWS.min((MAX_METRIC_CELLS / width).max(1)),
            models,
            target,
            rows: 0,
            class_counts,
            hashes: HashSet::new(),
            reservoir: Vec::new(),
            // A different stream from the generator's, so sampling is independent of the rows.
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x6d65_7472_6963_7321),
            seed,
            balance,
            target_rho: match (&schema.target, balance) {
                (None, _) | (Some(_), Balance::Natural) => Vec::new(),
                (Some(_), _) => {
                    // Latent order is target first, then features.
                    let m = effective_correlation(schema);
                    (1..m.nrows()).map(|i| m[(0, i)]).collect()
                }
            },
        }
    }

    /// The class shares the balance plans for the rows seen, when it is not natural.
    fn planned_mix(&self) -> Option<Vec<f64>> {
        let levels = self.models[self.target?].levels()?;
        let counts = match self.balance {
            Balance::Natural => return None,
            Balance::Stratified => stratified_counts(levels.len(), self.rows),
            Balance::Ratio(r) => largest_remainder(&ratio_weights(&levels.weights, r), self.rows),
        };
        let total: u64 = counts.iter().sum();
        (total > 0).then(|| counts.iter().map(|&c| c as f64 / total as f64).collect())
    }

    /// Adds one row.
    pub fn push(&mut self, row: &Row) {
        self.rows += 1;
        self.hashes.insert(row_hash(row));
        if let Some(t) = self.target {
            let levels = self.models[t].levels().expect("target is discrete");
            if let Some(c) = row.get(t).and_then(|cell| levels.index_of_cell(cell)) {
                self.class_counts[c] += 1;
            }
        }
        // Algorithm R: the i-th row (1-based) replaces a random slot with probability k/i.
        let width = self.models.len();
        let stored = self.reservoir.len() / width.max(1);
        if stored < self.capacity {
            for (j, model) in self.models.iter().enumerate() {
                self.reservoir.push(encode_cell(model, row.get(j)));
            }
        } else {
            let slot = self.rng.random_range(0..self.rows) as usize;
            if slot < self.capacity {
                for (j, model) in self.models.iter().enumerate() {
                    self.reservoir[slot * width + j] = encode_cell(model, row.get(j));
                }
            }
        }
    }

    /// Computes the report.
    pub fn finish(self, reference: Reference<'_>) -> Quality {
        let width = self.models.len();
        let m = self.reservoir.len().checked_div(width).unwrap_or(0);
        let columns: Vec<Vec<f64>> = (0..width)
            .map(|j| (0..m).map(|i| self.reservoir[i * width + j]).collect())
            .collect();

        let balance_ratio = self.target.and_then(|_| {
            let max = *self.class_counts.iter().max()?;
            let min = *self.class_counts.iter().min()?;
            (max > 0).then(|| min as f64 / max as f64)
        });
        let distinct_rows = self.hashes.len() as u64;
        let distinct_share = if self.rows == 0 {
            0.0
        } else {
            distinct_rows as f64 / self.rows as f64
        };
        let entropies: Vec<f64> = self
            .models
            .iter()
            .zip(&columns)
            .map(|(model, values)| column_entropy(model, values))
            .collect();
        let diversity_score = if entropies.is_empty() {
            0.0
        } else {
            entropies.iter().sum::<f64>() / entropies.len() as f64 * distinct_share
        };

        let (column_shapes, column_pair_trends, method) = match reference {
            Reference::Spec => (
                self.fidelity_shapes(&columns, self.planned_mix().as_deref()),
                None,
                "fidelity_to_spec",
            ),
            Reference::Sample(table) => {
                let (shapes, pairs) = self.quality_report(&columns, table);
                (shapes, pairs, "sdmetrics_quality_report")
            }
        };
        let shapes_mean = if column_shapes.is_empty() {
            None
        } else {
            Some(column_shapes.iter().map(|s| s.score).sum::<f64>() / column_shapes.len() as f64)
        };
        // SDMetrics averages the properties that could be computed (nanmean).
        let realism_score = match (shapes_mean, column_pair_trends) {
            (Some(s), Some(p)) => (s + p) / 2.0,
            (Some(s), None) => s,
            (None, Some(p)) => p,
            (None, None) => 0.0,
        };
        let class_counts = match self.target {
            Some(t) => self.models[t]
                .levels()
                .map(|l| {
                    l.names
                        .iter()
                        .cloned()
                        .zip(self.class_counts.iter().copied())
                        .collect()
                })
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Quality {
            rows: self.rows,
            balance_ratio,
            diversity_score,
            realism_score,
            method: method.to_string(),
            column_shapes,
            column_pair_trends,
            class_counts,
            distinct_rows,
            metric_sample_rows: m,
        }
    }

    /// Column Shapes against the schema's own distributions; with `mix`, against the
    /// distributions that class mix implies.
    fn fidelity_shapes(&self, columns: &[Vec<f64>], mix: Option<&[f64]>) -> Vec<ColumnScore> {
        let target_levels = self.target.and_then(|t| self.models[t].levels());
        self.models
            .iter()
            .zip(columns)
            .zip(&self.names)
            .enumerate()
            .filter_map(|(j, ((model, values), name))| {
                // The feature's latent law under the mix, when it differs from N(0, 1).
                let mixed = match (mix, target_levels, self.target_rho.get(j)) {
                    (Some(mix), Some(levels), Some(&rho))
                        if rho != 0.0 && Some(j) != self.target =>
                    {
                        Some(MixedLatent::new(rho, levels, mix))
                    }
                    _ => None,
                };
                let (metric, score) = match model {
                    ColumnModel::Levels(levels) => {
                        let counts = level_counts(values, levels.len());
                        if counts.iter().sum::<u64>() == 0 {
                            return None;
                        }
                        let expected: Vec<f64> = if Some(j) == self.target {
                            mix.map_or_else(|| levels.weights.clone(), <[f64]>::to_vec)
                        } else if let Some(g) = &mixed {
                            (0..levels.len())
                                .map(|l| {
                                    let (a, b) = levels.interval(l);
                                    g.cdf_of_u(b) - g.cdf_of_u(a)
                                })
                                .collect()
                        } else {
                            levels.weights.clone()
                        };
                        ("TVComplement", 1.0 - tv_against_weights(&counts, &expected))
                    }
                    _ => {
                        let (marginal, step) = model.continuous()?;
                        let sorted = sorted_finite(values.iter().copied());
                        if sorted.is_empty() {
                            return None;
                        }
                        let d = match &mixed {
                            Some(g) => {
                                ks_one_sample(&sorted, |x| g.cdf_of_u(marginal.cdf(x)), step)
                            }
                            None => ks_one_sample(&sorted, |x| marginal.cdf(x), step),
                        };
                        ("KSComplement", 1.0 - d)
                    }
                };
                Some(ColumnScore {
                    column: name.clone(),
                    metric: metric.into(),
                    score,
                })
            })
            .collect()
    }

    /// SDMetrics' QualityReport properties against real rows: Column Shapes and Column Pair
    /// Trends over the columns the sample has.
    fn quality_report(
        &self,
        synthetic: &[Vec<f64>],
        table: &Table,
    ) -> (Vec<ColumnScore>, Option<f64>) {
        // (schema column, real values encoded like the synthetic ones, level count incl. unseen)
        let mut scored: Vec<(usize, Vec<f64>, usize)> = Vec::new();
        for (j, (model, name)) in self.models.iter().zip(&self.names).enumerate() {
            let Some(col) = table.column_index(name) else {
                continue;
            };
            let cells = table
                .rows
                .iter()
                .map(|r| r.get(col).unwrap_or(&Value::Null));
            let (real, levels) = match model.levels() {
                Some(levels) => {
                    let mut unseen: HashMap<String, usize> = HashMap::new();
                    let real = cells
                        .map(|v| match real_level(levels, v) {
                            Some(i) => i as f64,
                            None => match value_key(v) {
                                Some(key) => {
                                    let next = levels.len() + unseen.len();
                                    *unseen.entry(key).or_insert(next) as f64
                                }
                                None => f64::NAN,
                            },
                        })
                        .collect();
                    (real, levels.len() + unseen.len())
                }
                None => (
                    cells.map(|v| value_number(v).unwrap_or(f64::NAN)).collect(),
                    0,
                ),
            };
            scored.push((j, real, levels));
        }

        let shapes: Vec<ColumnScore> = scored
            .iter()
            .filter_map(|(j, real, levels)| {
                let synth = &synthetic[*j];
                let (metric, score) = if self.models[*j].levels().is_some() {
                    let (a, b) = (level_counts(real, *levels), level_counts(synth, *levels));
                    if a.iter().sum::<u64>() == 0 || b.iter().sum::<u64>() == 0 {
                        return None;
                    }
                    ("TVComplement", 1.0 - total_variation(&a, &b))
                } else {
                    let (a, b) = (
                        sorted_finite(real.iter().copied()),
                        sorted_finite(synth.iter().copied()),
                    );
                    if a.is_empty() || b.is_empty() {
                        return None;
                    }
                    ("KSComplement", 1.0 - ks_two_sample(&a, &b))
                };
                Some(ColumnScore {
                    column: self.names[*j].clone(),
                    metric: metric.into(),
                    score,
                })
            })
            .collect();

        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for a in 0..scored.len() {
            for b in a + 1..scored.len() {
                pairs.push((a, b));
            }
        }
        let rows = synthetic
            .first()
            .map_or(0, Vec::len)
            .max(table.rows.len())
            .max(1);
        let budget = (MAX_PAIR_WORK / rows).max(1);
        if pairs.len() > budget {
            // Evenly spread subset, offset by the seed, so every column still takes part.
            let stride = pairs.len() as f64 / budget as f64;
            let offset = (self.seed % 1000) as f64 / 1000.0 * stride;
            pairs = (0..budget)
                .map(|k| pairs[((offset + k as f64 * stride) as usize).min(pairs.len() - 1)])
                .collect();
        }
        // Category codes for ContingencySimilarity, once per column (not per pair): discrete
        // columns always, continuous ones only when some pair mixes them with a discrete one.
        let discrete: Vec<bool> = scored
            .iter()
            .map(|(j, _, _)| self.models[*j].levels().is_some())
            .collect();
        let any_discrete = discrete.iter().any(|&d| d);
        let codes: Vec<Option<Codes>> = scored
            .iter()
            .zip(&discrete)
            .map(|((j, real, levels), &is_discrete)| {
                let synth = &synthetic[*j];
                if is_discrete {
                    Some(Codes::levels(real, synth, *levels))
                } else if any_discrete {
                    Codes::digitized(real, synth)
                } else {
                    None
                }
            })
            .collect();
        let pair_scores: Vec<f64> = pairs
            .iter()
            .filter_map(|&(a, b)| {
                if !discrete[a] && !discrete[b] {
                    let (ja, real_a, _) = &scored[a];
                    let (jb, real_b, _) = &scored[b];
                    let r_real = pearson(real_a, real_b)?;
                    // QualityReport's real_correlation_threshold: weakly correlated pairs don't
                    // count.
                    if r_real.abs() <= REAL_CORRELATION_THRESHOLD {
                        return None;
                    }
                    let r_syn = pearson(&synthetic[*ja], &synthetic[*jb])?;
                    Some(correlation_similarity(r_real, r_syn))
                } else {
                    let table = Contingency::new(codes[a].as_ref()?, codes[b].as_ref()?);
                    // QualityReport's real_association_threshold on Cramér's V of the real table.
                    if table.real_association()? <= REAL_ASSOCIATION_THRESHOLD {
                        return None;
                    }
                    table.similarity()
                }
            })
            .collect();
        let trends = if pair_scores.is_empty() {
            None
        } else {
            Some(pair_scores.iter().sum::<f64>() / pair_scores.len() as f64)
        };
        (shapes, trends)
    }
}

/// The CDF of a feature's latent normal when classes are drawn in shares π instead of their
/// natural weights: G(z) = Σ_c π_c · P(Z_f ≤ z | Z_t in class c's interval), where
/// P(Z_f ≤ z | Z_t ∈ [Φ⁻¹(a), Φ⁻¹(b)]) = 1/(b−a) ∫_a^b Φ((z − ρΦ⁻¹(u)) / √(1−ρ²)) du
/// (64-point midpoint rule in u), tabulated on a grid over [−8.5, 8.5] and interpolated.
struct MixedLatent {
    values: Vec<f64>,
}

const MIX_GRID: usize = 256;
const MIX_Z: f64 = 8.5;
const MIX_NODES: usize = 64;

impl MixedLatent {
    fn new(rho: f64, levels: &Levels, mix: &[f64]) -> MixedLatent {
        let s = (1.0 - rho * rho).max(1e-12).sqrt();
        // (class share, latent nodes of the class's interval)
        let classes: Vec<(f64, Vec<f64>)> = mix
            .iter()
            .enumerate()
            .filter(|(_, &p)| p > 0.0)
            .map(|(c, &p)| {
                let (a, b) = levels.interval(c);
                let nodes = (0..MIX_NODES)
                    .map(|k| norm_ppf(a + (k as f64 + 0.5) / MIX_NODES as f64 * (b - a)))
                    .collect();
                (p, nodes)
            })
            .collect();
        let values = (0..=MIX_GRID)
            .map(|i| {
                let z = -MIX_Z + 2.0 * MIX_Z * i as f64 / MIX_GRID as f64;
                classes
                    .iter()
                    .map(|(p, nodes)| {
                        p * nodes
                            .iter()
                            .map(|t| norm_cdf((z - rho * t) / s))
                            .sum::<f64>()
                            / MIX_NODES as f64
                    })
                    .sum::<f64>()
            })
            .collect();
        MixedLatent { values }
    }

    /// G(z), linear between grid points, 0 and 1 beyond the grid.
    fn cdf(&self, z: f64) -> f64 {
        let pos = (z + MIX_Z) / (2.0 * MIX_Z) * MIX_GRID as f64;
        if pos <= 0.0 {
            return 0.0;
        }
        if pos >= MIX_GRID as f64 {
            return 1.0;
        }
        let i = pos as usize;
        let frac = pos - i as f64;
        self.values[i] + frac * (self.values[i + 1] - self.values[i])
    }

    /// G(Φ⁻¹(u)): the probability, under the mix, that the natural-law CDF value is ≤ u.
    fn cdf_of_u(&self, u: f64) -> f64 {
        if u <= 0.0 {
            0.0
        } else if u >= 1.0 {
            1.0
        } else {
            self.cdf(norm_ppf(u))
        }
    }
}

/// A row's 64-bit hash: each cell's kind and exact payload (f64 by bit pattern), with std's
/// SipHash at fixed keys so counts are reproducible.
fn row_hash(row: &Row) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for cell in row {
        match cell {
            Cell::Num(x) => (0u8, x.to_bits()).hash(&mut h),
            Cell::Int(v) => (1u8, v).hash(&mut h),
            Cell::Text(s) => (2u8, &**s).hash(&mut h),
            Cell::Bool(b) => (3u8, b).hash(&mut h),
            Cell::Time(t) => (4u8, t).hash(&mut h),
            Cell::Null => 5u8.hash(&mut h),
        }
    }
    h.finish()
}

/// A generated cell as the reservoir stores it.
fn encode_cell(model: &ColumnModel, cell: Option<&Cell>) -> f64 {
    let Some(cell) = cell else {
        return f64::NAN;
    };
    if let Some(levels) = model.levels() {
        return levels.index_of_cell(cell).map_or(f64::NAN, |i| i as f64);
    }
    match cell {
        Cell::Num(x) => *x,
        Cell::Int(v) => *v as f64,
        Cell::Time(t) => *t as f64,
        Cell::Bool(b) => f64::from(u8::from(*b)),
        Cell::Text(s) => s.trim().parse().unwrap_or(f64::NAN),
        Cell::Null => f64::NAN,
    }
}

/// The level a real JSON value stands for; `1.0` matches class `"1"` as pandas would.
fn real_level(levels: &Levels, value: &Value) -> Option<usize> {
    let key = value_key(value)?;
    levels.index_of_name(&key).or_else(|| {
        let x = value.as_f64()?;
        (x.fract() == 0.0 && x.abs() < 9e15)
            .then(|| levels.index_of_name(&(x as i64).to_string()))
            .flatten()
    })
}

/// Counts of level indices (NaN and out-of-range ignored).
fn level_counts(values: &[f64], levels: usize) -> Vec<u64> {
    let mut counts = vec![0u64; levels];
    for &v in values {
        if v.is_finite() && v >= 0.0 && (v as usize) < levels {
            counts[v as usize] += 1;
        }
    }
    counts
}

/// ½ Σ |count_i / n − w_i|.
fn tv_against_weights(counts: &[u64], weights: &[f64]) -> f64 {
    let n: u64 = counts.iter().sum();
    0.5 * counts
        .iter()
        .zip(weights)
        .map(|(&c, &w)| (c as f64 / n as f64 - w).abs())
        .sum::<f64>()
}

/// Normalized entropy of one sampled column (see the module docs for K).
fn column_entropy(model: &ColumnModel, values: &[f64]) -> f64 {
    if let Some(levels) = model.levels() {
        let possible = levels.weights.iter().filter(|&&w| w > 0.0).count();
        return normalized_entropy(&level_counts(values, levels.len()), possible);
    }
    let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let (Some(min), Some(max)) = (
        finite.iter().copied().reduce(f64::min),
        finite.iter().copied().reduce(f64::max),
    ) else {
        return 0.0;
    };
    if max <= min {
        return 0.0;
    }
    let mut counts = vec![0u64; ENTROPY_BINS];
    let width = (max - min) / ENTROPY_BINS as f64;
    for x in &finite {
        counts[(((x - min) / width) as usize).min(ENTROPY_BINS - 1)] += 1;
    }
    // Values on a grid (integers, seconds, rounded decimals) may have fewer than 20 possible
    // values in range; with at most 20 grid values each bin holds at most one of them.
    let possible = match model.continuous().and_then(|(_, step)| step) {
        Some(h) => ((max - min) / h).round() as usize + 1,
        None => ENTROPY_BINS,
    };
    normalized_entropy(&counts, possible.min(ENTROPY_BINS))
}

/// CorrelationSimilarity = 1 − |r_real − r_synth| / 2.
fn correlation_similarity(r_real: f64, r_syn: f64) -> f64 {
    1.0 - (r_real - r_syn).abs() / 2.0
}

/// One column of a ContingencySimilarity pair as category codes `0..card`, real and synthetic.
struct Codes {
    real: Vec<u32>,
    synth: Vec<u32>,
    card: usize,
}

impl Codes {
    /// A discrete column: level indices (unseen real values included) as they are; null (NaN)
    /// is a category of its own, code `levels`, as pandas' `groupby(dropna=False)` keeps it.
    fn levels(real: &[f64], synth: &[f64], levels: usize) -> Codes {
        let code = |v: &f64| {
            if v.is_finite() && *v >= 0.0 && (*v as usize) < levels {
                *v as u32
            } else {
                levels as u32
            }
        };
        Codes {
            real: real.iter().map(code).collect(),
            synth: synth.iter().map(code).collect(),
            card: levels + 1,
        }
    }

    /// A continuous column as ColumnPairTrends discretizes it: each data set on its own edges,
    /// `np.digitize(x, np.histogram_bin_edges(x.dropna()))`. None when an infinite value makes
    /// numpy's edges fail (SDMetrics then scores the pair NaN).
    fn digitized(real: &[f64], synth: &[f64]) -> Option<Codes> {
        let real_edges = histogram_edges(real)?;
        let synth_edges = histogram_edges(synth)?;
        Some(Codes {
            real: real.iter().map(|&x| digitize(x, &real_edges)).collect(),
            synth: synth.iter().map(|&x| digitize(x, &synth_edges)).collect(),
            card: CONTINGENCY_BINS + 2,
        })
    }
}

/// `np.histogram_bin_edges(values.dropna(), bins=10)`: 10 equal-width bins from the minimum to
/// the maximum, edge i = i·((max − min)/10) + min and the last edge exactly max (numpy's
/// `linspace`); a constant column is widened to min − 0.5 .. max + 0.5, an empty one is 0 .. 1.
/// None when a value is infinite.
fn histogram_edges(values: &[f64]) -> Option<[f64; CONTINGENCY_BINS + 1]> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &x in values {
        if x.is_infinite() {
            return None;
        }
        if !x.is_nan() {
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    if lo > hi {
        (lo, hi) = (0.0, 1.0);
    } else if lo == hi {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let step = (hi - lo) / CONTINGENCY_BINS as f64;
    let mut edges = [0.0; CONTINGENCY_BINS + 1];
    for (i, e) in edges.iter_mut().enumerate() {
        *e = i as f64 * step + lo;
    }
    edges[CONTINGENCY_BINS] = hi;
    Some(edges)
}

/// `np.digitize(x, edges)` (right=False): the number of edges ≤ x, so the minimum is in bin 1,
/// the maximum alone in bin 11 with any value equal to it, and NaN (which numpy sorts last) in
/// bin 11 too.
fn digitize(x: f64, edges: &[f64; CONTINGENCY_BINS + 1]) -> u32 {
    if x.is_nan() {
        return edges.len() as u32;
    }
    edges.partition_point(|&e| e <= x) as u32
}

/// The real and synthetic contingency tables of one pair: the observed cells in (a, b) order
/// with their counts.
struct Contingency {
    /// (code a, code b, real count, synthetic count), at least one count positive.
    cells: Vec<(u32, u32, u64, u64)>,
    card_a: usize,
    card_b: usize,
    real_rows: u64,
    synth_rows: u64,
}

/// Above this many possible cells a pair's tables are counted by sorting instead of densely.
const DENSE_CELLS: usize = 1 << 16;

impl Contingency {
    fn new(a: &Codes, b: &Codes) -> Contingency {
        let (card_a, card_b) = (a.card, b.card);
        let mut cells = Vec::new();
        if card_a * card_b <= DENSE_CELLS {
            let mut counts = vec![(0u64, 0u64); card_a * card_b];
            for (&x, &y) in a.real.iter().zip(&b.real) {
                counts[x as usize * card_b + y as usize].0 += 1;
            }
            for (&x, &y) in a.synth.iter().zip(&b.synth) {
                counts[x as usize * card_b + y as usize].1 += 1;
            }
            for (k, &(r, s)) in counts.iter().enumerate() {
                if r + s > 0 {
                    cells.push(((k / card_b) as u32, (k % card_b) as u32, r, s));
                }
            }
        } else {
            // Tag the key's lowest bit with the side, sort, and count runs.
            let key =
                |x: u32, y: u32, side: u64| ((x as u64 * card_b as u64 + y as u64) << 1) | side;
            let mut keys: Vec<u64> = a
                .real
                .iter()
                .zip(&b.real)
                .map(|(&x, &y)| key(x, y, 0))
                .chain(a.synth.iter().zip(&b.synth).map(|(&x, &y)| key(x, y, 1)))
                .collect();
            keys.sort_unstable();
            for k in keys {
                let cell = k >> 1;
                let (x, y) = ((cell / card_b as u64) as u32, (cell % card_b as u64) as u32);
                match cells.last_mut() {
                    Some(last) if (last.0, last.1) == (x, y) => {}
                    _ => cells.push((x, y, 0, 0)),
                }
                let last = cells.last_mut().expect("pushed above");
                if k & 1 == 0 {
                    last.2 += 1;
                } else {
                    last.3 += 1;
                }
            }
        }
        Contingency {
            cells,
            card_a,
            card_b,
            real_rows: a.real.len().min(b.real.len()) as u64,
            synth_rows: a.synth.len().min(b.synth.len()) as u64,
        }
    }

    /// ContingencySimilarity = 1 − ½ Σ |P_real(a,b) − P_synth(a,b)|, each table normalized by
    /// its row count (None when a side has no rows).
    fn similarity(&self) -> Option<f64> {
        if self.real_rows == 0 || self.synth_rows == 0 {
            return None;
        }
        let (nr, ns) = (self.real_rows as f64, self.synth_rows as f64);
        let tvd: f64 = self
            .cells
            .iter()
            .map(|&(_, _, r, s)| (r as f64 / nr - s as f64 / ns).abs())
            .sum();
        Some(1.0 - tvd / 2.0)
    }

    /// Cramér's V of the real table (scipy's `association(method='cramer')`, no continuity
    /// correction) over the rows and columns that occur in it: χ² = n·(Σ O²/(r_i·c_j) − 1),
    /// V = √(χ²/n / min(R − 1, C − 1)). None with no real rows or fewer than 2 rows or columns
    /// (SDMetrics scores such a pair NaN).
    fn real_association(&self) -> Option<f64> {
        let mut row_sums = vec![0u64; self.card_a];
        let mut col_sums = vec![0u64; self.card_b];
        for &(x, y, r, _) in &self.cells {
            row_sums[x as usize] += r;
            col_sums[y as usize] += r;
        }
        let rows = row_sums.iter().filter(|&&c| c > 0).count();
        let cols = col_sums.iter().filter(|&&c| c > 0).count();
        if self.real_rows == 0 || rows < 2 || cols < 2 {
            return None;
        }
        let sum: f64 = self
            .cells
            .iter()
            .filter(|c| c.2 > 0)
            .map(|&(x, y, r, _)| {
                let o = r as f64;
                o * o / (row_sums[x as usize] as f64 * col_sums[y as usize] as f64)
            })
            .sum();
        let phi2 = (sum - 1.0).max(0.0);
        Some((phi2 / (rows.min(cols) - 1) as f64).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ColumnKind, ColumnSpec, Distribution, TargetSpec};
    use crate::{Balance, Generator};
    use serde_json::json;

    fn categorical(name: &str, cats: &[&str]) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            kind: ColumnKind::Categorical {
                categories: cats.iter().map(|c| c.to_string()).collect(),
                weights: vec![],
            },
        }
    }

    fn numeric(name: &str, distribution: Distribution) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            kind: ColumnKind::Numeric {
                distribution,
                min: None,
                max: None,
                decimals: None,
            },
        }
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn balance_ratio_counts_all_rows() {
        let schema = DataSchema {
            columns: vec![categorical("c", &["a", "b"])],
            target: Some(TargetSpec {
                name: "y".into(),
                classes: vec!["no".into(), "yes".into()],
                weights: vec![0.5, 0.5],
            }),
            correlations: vec![],
        };
        let mut acc = QualityAccumulator::new(&schema, 1);
        for class in ["no", "yes", "no", "no"] {
            acc.push(&vec![text("a"), text(class)]);
        }
        let q = acc.finish(Reference::Spec);
        assert!(close(q.balance_ratio.unwrap(), 1.0 / 3.0));
        assert_eq!(q.class_counts, vec![("no".into(), 3), ("yes".into(), 1)]);
        // Target TVComplement against [0.5, 0.5]: ½(|0.75−0.5| + |0.25−0.5|) = 0.25.
        let target = q.column_shapes.iter().find(|s| s.column == "y").unwrap();
        assert!(close(target.score, 0.75) && target.metric == "TVComplement");
    }

    #[test]
    fn diversity_is_mean_normalized_entropy_times_distinct_share() {
        let schema = DataSchema {
            columns: vec![
                categorical("c", &["a", "b", "c", "d"]),
                categorical("k", &["x", "y"]),
            ],
            target: None,
            correlations: vec![],
        };
        let mut acc = QualityAccumulator::new(&schema, 1);
        for (c, k) in [("a", "x"), ("a", "y"), ("b", "x"), ("b", "x")] {
            acc.push(&vec![text(c), text(k)]);
        }
        let q = acc.finish(Reference::Spec);
        assert_eq!(q.distinct_rows, 3);
        // c: H(½,½)/ln 4 = 0.5; k: H(¾,¼)/ln 2 = 0.811278…; distinct share 3/4.
        let hk = -(0.75f64 * 0.75f64.ln() + 0.25 * 0.25f64.ln()) / 2f64.ln();
        assert!(
            close(q.diversity_score, (0.5 + hk) / 2.0 * 0.75),
            "{}",
            q.diversity_score
        );
        assert_eq!(q.balance_ratio, None);
    }

    #[test]
    fn continuous_entropy_uses_twenty_bins_and_integer_grids() {
        let uniform = ColumnModel::from_kind(&ColumnKind::Numeric {
            distribution: Distribution::Uniform {
                low: 0.0,
                high: 1.0,
            },
            min: None,
            max: None,
            decimals: None,
        });
        // 40 evenly spread values fill the 20 bins twice each: entropy 1.
        let values: Vec<f64> = (0..40).map(|i| i as f64 / 39.0).collect();
        assert!(close(column_entropy(&uniform, &values), 1.0));
        let integer = ColumnModel::from_kind(&ColumnKind::Integer {
            distribution: Distribution::Uniform {
                low: 0.0,
                high: 4.0,
            },
            min: Some(0),
            max: Some(3),
        });
        // Four equally frequent integers 0..=3 can take only 4 values: entropy ln4/ln4 = 1.
        assert!(close(column_entropy(&integer, &[0.0, 1.0, 2.0, 3.0]), 1.0));
        assert_eq!(column_entropy(&integer, &[2.0, 2.0]), 0.0);
    }

    #[test]
    fn ks_complement_against_the_spec() {
        let schema = DataSchema {
            columns: vec![numeric(
                "u",
                Distribution::Uniform {
                    low: 0.0,
                    high: 1.0,
                },
            )],
            target: None,
            correlations: vec![],
        };
        let mut acc = QualityAccumulator::new(&schema, 1);
        for x in [0.1, 0.4, 0.9] {
            acc.push(&vec![Cell::Num(x)]);
        }
        let q = acc.finish(Reference::Spec);
        assert_eq!(q.method, "fidelity_to_spec");
        // D = max(1/3 − 0.1, 0.4 − 1/3, 2/3 − 0.4, 0.9 − 2/3, 1 − 0.9) = 4/15.
        assert!(close(q.column_shapes[0].score, 1.0 - 4.0 / 15.0));
        assert!(close(q.realism_score, 1.0 - 4.0 / 15.0));
        assert_eq!(q.column_pair_trends, None);
    }

    #[test]
    fn quality_report_against_a_sample_by_hand() {
        let schema = DataSchema {
            columns: vec![
                numeric(
                    "x",
                    Distribution::Normal {
                        mean: 0.0,
                        std: 1.0,
                    },
                ),
                numeric(
                    "y",
                    Distribution::Normal {
                        mean: 0.0,
                        std: 1.0,
                    },
                ),
                numeric(
                    "w",
                    Distribution::Normal {
                        mean: 0.0,
                        std: 1.0,
                    },
                ),
                categorical("c", &["a", "b"]),
            ],
            target: None,
            correlations: vec![],
        };
        let real = Table::from_json_rows(&[
            json!({"x": 1.0, "y": 1.0, "w": 1.0, "c": "a"}),
            json!({"x": 2.0, "y": 3.0, "w": 4.0, "c": "a"}),
            json!({"x": 3.0, "y": 2.0, "w": 3.0, "c": "b"}),
            json!({"x": 4.0, "y": 4.0, "w": 2.0, "c": "b"}),
        ])
        .unwrap();
        let mut acc = QualityAccumulator::new(&schema, 1);
        for (x, y, w, c) in [
            (10.0, 1.0, 4.0, "a"),
            (20.0, 2.0, 3.0, "a"),
            (30.0, 3.0, 2.0, "b"),
            (40.0, 4.0, 1.0, "a"),
        ] {
            acc.push(&vec![Cell::Num(x), Cell::Num(y), Cell::Num(w), text(c)]);
        }
        let q = acc.finish(Reference::Sample(&real));
        assert_eq!(q.method, "sdmetrics_quality_report");
        // Shapes: x is disjoint (KS 1 → 0), y and w have identical marginals (1); c: real ½/½
        // vs synth ¾/¼ → 0.75.
        let shapes: Vec<f64> = q.column_shapes.iter().map(|s| s.score).collect();
        assert_eq!(shapes, vec![0.0, 1.0, 1.0, 0.75]);
        // Pair trends, by hand:
        // (x,y): r_real = 0.8 (Σdxdy = 4, Σdx² = Σdy² = 5), r_synth = 1 → 1 − 0.2/2 = 0.9.
        // (x,w): r_real = 0.2, (y,w): r_real = 0.4 — not above 0.5, left out.
        // Contingency pairs, each side binned on its own range (real x over 1..4, synth x over
        // 10..40: both land in bins 1, 4, 7, 11), every real table has Cramér's V = 1:
        // (x,c): real (1a)(4a)(7b)(11b), synth (1a)(4a)(7b)(11a) → 1 − ½(¼+¼) = 0.75.
        // (y,c): real (1a)(7a)(4b)(11b), synth (1a)(4a)(7b)(11a) → 1 − ½(6·¼) = 0.25.
        // (w,c): real (1a)(11a)(7b)(4b), synth (11a)(7a)(4b)(1a) → 1 − ½(¼+¼) = 0.75.
        // SDMetrics 0.32 QualityReport on the same frames (x,y,w numerical, c categorical):
        // Column Shapes 0.6875, Column Pair Trends 0.6625, score 0.675, with the same per-pair
        // details.
        let trends = q.column_pair_trends.unwrap();
        assert!(close(trends, (0.9 + 0.75 + 0.25 + 0.75) / 4.0), "{trends}");
        assert!(
            close(trends, 0.6625) && close(q.realism_score, 0.675),
            "{q:?}"
        );
    }

    #[test]
    fn pair_trends_leave_out_pairs_without_a_real_trend() {
        let schema = DataSchema {
            columns: vec![
                numeric(
                    "x",
                    Distribution::Normal {
                        mean: 0.0,
                        std: 1.0,
                    },
                ),
                numeric(
                    "w",
                    Distribution::Normal {
                        mean: 0.0,
                        std: 1.0,
                    },
                ),
            ],
            target: None,
            correlations: vec![],
        };
        let real = Table::from_json_rows(&[
            json!({"x": 1.0, "w": 1.0}),
            json!({"x": 2.0, "w": 4.0}),
            json!({"x": 3.0, "w": 3.0}),
            json!({"x": 4.0, "w": 2.0}),
        ])
        .unwrap();
        let mut acc = QualityAccumulator::new(&schema, 1);
        for (x, w) in [(1.0, 4.0), (2.0, 3.0), (3.0, 2.0), (4.0, 1.0)] {
            acc.push(&vec![Cell::Num(x), Cell::Num(w)]);
        }
        let q = acc.finish(Reference::Sample(&real));
        // r_real = 0.2 ≤ 0.5: the only pair doesn't count, the property is absent (SDMetrics:
        // NaN) and realism is Column Shapes alone (x identical: 1; w identical: 1).
        assert_eq!(q.column_pair_trends, None);
        assert!(close(q.realism_score, 1.0));
    }

    #[test]
    fn contingency_similarity_and_association_by_hand() {
        // Categorical × categorical with a null (code 2 = null for 2 levels):
        // real a = x x y y null, b = p q p p q; synth a = x y y null, b = p p q q.
        let a = Codes::levels(
            &[0.0, 0.0, 1.0, 1.0, f64::NAN],
            &[0.0, 1.0, 1.0, f64::NAN],
            2,
        );
        let b = Codes::levels(&[0.0, 1.0, 0.0, 0.0, 1.0], &[0.0, 0.0, 1.0, 1.0], 2);
        let table = Contingency::new(&a, &b);
        // Cells real/5 vs synth/4: (x,p) .2/.25, (x,q) .2/0, (y,p) .4/.25, (y,q) 0/.25,
        // (null,q) .2/.25 → TVD ½·0.7 → 0.65. SDMetrics:
        // ContingencySimilarity.compute(real, synth) = 0.65 (null kept as a category).
        assert!(close(table.similarity().unwrap(), 0.65));
        // Real rows x(2) y(2) null(1), columns p(3) q(2): Σ O²/(r·c) = 1/6 + 1/4 + 4/6 + 1/2
        // = 19/12, φ² = 7/12, V = √(7/12) = 0.76376…; scipy's
        // association([[1,1],[2,0],[0,1]], method='cramer') gives the same.
        assert!(close(
            table.real_association().unwrap(),
            (7.0f64 / 12.0).sqrt()
        ));

        // Numeric × categorical: each side discretized on its own range, so synthetic values
        // ten times the real ones bin alike. ColumnPairTrends._discretize_column gives real
        // [1,2,3,4] → [1,4,7,11] and synth [10,20,30,40] → [1,4,7,11];
        // ContingencySimilarity.compute_breakdown → score 0.75, real_association 1.0.
        let x = Codes::digitized(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]).unwrap();
        assert_eq!(
            (x.real.clone(), x.synth.clone()),
            (vec![1, 4, 7, 11], vec![1, 4, 7, 11])
        );
        let c = Codes::levels(&[0.0, 0.0, 1.0, 1.0], &[0.0, 0.0, 1.0, 0.0], 2);
        let table = Contingency::new(&x, &c);
        assert!(close(table.similarity().unwrap(), 0.75));
        assert!(close(table.real_association().unwrap(), 1.0));
        // A real side with one category has no association (SDMetrics: NaN, pair skipped).
        let one = Codes::levels(&[0.0; 4], &[0.0; 4], 1);
        assert_eq!(Contingency::new(&x, &one).real_association(), None);
        // The dense and the sorted counting paths agree (600 × 600 possible cells → sorted).
        let wide = |v: &[f64]| v.iter().map(|x| x * 100.0).collect::<Vec<f64>>();
        let big = Codes::levels(
            &wide(&[0.0, 0.0, 1.0, 1.0, f64::NAN]),
            &wide(&[0.0, 1.0, 1.0, f64::NAN]),
            599,
        );
        let big_b = Codes::levels(
            &wide(&[0.0, 1.0, 0.0, 0.0, 1.0]),
            &wide(&[0.0, 0.0, 1.0, 1.0]),
            599,
        );
        let sparse = Contingency::new(&big, &big_b);
        assert!(close(sparse.similarity().unwrap(), 0.65));
        assert!(close(
            sparse.real_association().unwrap(),
            (7.0f64 / 12.0).sqrt()
        ));
    }

    #[test]
    fn correlation_similarity_and_numpy_binning() {
        // CorrelationSimilarity.compute_breakdown(x=[1,2,3,4], y=[1,3,2,4] vs x=[10..40],
        // y=[1..4]) → real 0.8, synthetic 1.0, score 0.9.
        let r_real = pearson(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        let r_syn = pearson(&[10.0, 20.0, 30.0, 40.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!(close(r_real, 0.8) && close(r_syn, 1.0));
        assert!(close(correlation_similarity(r_real, r_syn), 0.9));
        assert!(close(correlation_similarity(1.0, -1.0), 0.0));
        // np.digitize([-5, 0, 1, 1.5, 5, 10, 99, nan], np.histogram_bin_edges(values)):
        // [0, 10] → edges 0, 1, …, 10 → [0, 1, 2, 2, 6, 11, 11, 11];
        // constant [5, 5] → edges 4.5, 4.6, …, 5.5 → [0, 0, 0, 0, 6, 11, 11, 11];
        // no values → edges 0, 0.1, …, 1 (0.30000000000000004 included) → [0, 1, 11, …].
        let probe = [-5.0, 0.0, 1.0, 1.5, 5.0, 10.0, 99.0, f64::NAN];
        let bins = |values: &[f64]| {
            let edges = histogram_edges(values).unwrap();
            probe
                .iter()
                .map(|&x| digitize(x, &edges))
                .collect::<Vec<u32>>()
        };
        assert_eq!(
            bins(&[0.0, 10.0, f64::NAN]),
            vec![0, 1, 2, 2, 6, 11, 11, 11]
        );
        assert_eq!(bins(&[5.0, 5.0]), vec![0, 0, 0, 0, 6, 11, 11, 11]);
        assert_eq!(bins(&[]), vec![0, 1, 11, 11, 11, 11, 11, 11]);
        assert_eq!(histogram_edges(&[]).unwrap()[3], 0.30000000000000004);
        // An infinite value makes numpy's edges fail: SDMetrics scores such pairs NaN.
        assert_eq!(histogram_edges(&[1.0, f64::INFINITY]), None);
    }

    /// The project's score of a synthetic CSV against a real one, as `bench/src/bin/synth.rs`
    /// `score` computes it (schema fitted on the real table).
    fn score_csv(real: &str, synthetic: &str, target: &str) -> Quality {
        let real = Table::from_csv(real).unwrap();
        let synthetic = Table::from_csv(synthetic).unwrap();
        let (schema, _) = crate::fit(&real, Some(target)).unwrap();
        let index: Vec<usize> = schema
            .header()
            .iter()
            .map(|h| synthetic.column_index(h).unwrap())
            .collect();
        let mut acc = QualityAccumulator::new(&schema, 1);
        for row in &synthetic.rows {
            acc.push(&index.iter().map(|&i| Cell::from_json(&row[i])).collect());
        }
        acc.finish(Reference::Sample(&real))
    }

    /// 40 real and 30 synthetic rows (numpy seed 7; y correlated with x, z shifted by 1.5 in
    /// the synthetic rows, c associated with x, nulls in real x, z and c).
    const FIXTURE_REAL: &str = include_str!("testdata/pair_trends_real.csv");
    const FIXTURE_SYNTH: &str = include_str!("testdata/pair_trends_synth.csv");

    #[test]
    fn pair_trends_match_sdmetrics_on_a_fixture() {
        let q = score_csv(FIXTURE_REAL, FIXTURE_SYNTH, "target");
        // sdmetrics 0.32 `reports.single_table.QualityReport().generate(real, synth, metadata)`
        // with x, y, z numerical and c, target categorical: Column Shapes 0.6947435897435899,
        // Column Pair Trends 0.6208567732860931 (7 of 10 pairs meet the thresholds: x–z and
        // y–z have |r_real| ≤ 0.5, c–target has Cramér's V 0.261), score 0.6578001815148415.
        let trends = q.column_pair_trends.unwrap();
        assert!((trends - 0.6208567732860931).abs() < 1e-12, "{trends}");
        let shapes =
            q.column_shapes.iter().map(|s| s.score).sum::<f64>() / q.column_shapes.len() as f64;
        assert!((shapes - 0.6947435897435899).abs() < 1e-12, "{shapes}");
        assert!(
            (q.realism_score - 0.6578001815148415).abs() < 1e-12,
            "{}",
            q.realism_score
        );
    }

    /// End-to-end check against SDMetrics on any pair of CSVs, e.g. bench/sdv_compare.py's
    /// breast-cancer table and a sample: set SDMETRICS_COMPARE to one or more directories
    /// (`:`-separated), each holding real.csv, synth.csv and expected.json ({"column_shapes",
    /// "column_pair_trends", "quality_score"} from SDMetrics' QualityReport, target column
    /// `target`), and run with `--ignored`.
    #[test]
    #[ignore]
    fn pair_trends_match_sdmetrics_on_files() {
        let dirs = std::env::var("SDMETRICS_COMPARE").unwrap();
        for dir in dirs.split(':').map(std::path::PathBuf::from) {
            let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
            let expected: Value = serde_json::from_str(&read("expected.json")).unwrap();
            let q = score_csv(&read("real.csv"), &read("synth.csv"), "target");
            let shapes =
                q.column_shapes.iter().map(|s| s.score).sum::<f64>() / q.column_shapes.len() as f64;
            let got = json!({"column_shapes": shapes, "column_pair_trends": q.column_pair_trends,
                "quality_score": q.realism_score});
            eprintln!(
                "{}\n  project   {got}\n  sdmetrics {expected}",
                dir.display()
            );
            for key in ["column_shapes", "column_pair_trends", "quality_score"] {
                let (a, b) = (got[key].as_f64().unwrap(), expected[key].as_f64().unwrap());
                assert!((a - b).abs() < 1e-9, "{key}: project {a}, sdmetrics {b}");
            }
        }
    }

    #[test]
    fn fidelity_follows_the_requested_balance() {
        let schema: DataSchema = serde_json::from_value(json!({
            "columns": [
                {"name": "x", "type": "numeric", "distribution": {"name": "normal", "mean": 0.0, "std": 1.0}},
                {"name": "c", "type": "categorical", "categories": ["a", "b", "c"], "weights": [0.5, 0.3, 0.2]}
            ],
            "target": {"name": "y", "classes": ["0", "1"], "weights": [0.95, 0.05]},
            "correlations": [{"a": "x", "b": "y", "r": 0.6}, {"a": "c", "b": "y", "r": 0.4}]
        }))
        .unwrap();
        let score = |acc_balance: Balance| {
            let mut acc = QualityAccumulator::with_balance(&schema, 3, acc_balance);
            for row in Generator::new(&schema, 3, Balance::Stratified, 20_000).unwrap() {
                acc.push(&row);
            }
            acc.finish(Reference::Spec)
        };
        let aware = score(Balance::Stratified);
        assert!(aware.realism_score > 0.98, "{:?}", aware.column_shapes);
        // Measured against the natural law instead, the shifted feature and the target are off.
        let naive = score(Balance::Natural);
        assert!(naive.realism_score < 0.85, "{:?}", naive.column_shapes);
        // The mixture itself: with π equal to the natural weights it is N(0, 1) again.
        let levels = Levels::target(schema.target.as_ref().unwrap());
        let g = MixedLatent::new(0.6, &levels, &[0.95, 0.05]);
        for z in [-2.0, -0.5, 0.0, 1.0, 2.5] {
            assert!((g.cdf(z) - norm_cdf(z)).abs() < 2e-3, "{z}: {}", g.cdf(z));
        }
    }

    #[test]
    fn generated_data_scores_high_against_its_own_spec_and_low_against_a_wrong_sample() {
        let schema = DataSchema {
            columns: vec![
                numeric(
                    "x",
                    Distribution::Gamma {
                        shape: 2.0,
                        scale: 1.0,
                    },
                ),
                categorical("c", &["a", "b", "c"]),
            ],
            target: Some(TargetSpec {
                name: "y".into(),
                classes: vec!["0".into(), "1".into()],
                weights: vec![0.8, 0.2],
            }),
            correlations: vec![],
        };
        let mut acc = QualityAccumulator::new(&schema, 7);
        for row in Generator::new(&schema, 7, Balance::Natural, 30_000).unwrap() {
            acc.push(&row);
        }
        let q = acc.finish(Reference::Spec);
        assert_eq!(q.rows, 30_000);
        assert_eq!(q.metric_sample_rows, MAX_METRIC_ROWS);
        assert_eq!(q.distinct_rows, 30_000);
        assert!(q.realism_score > 0.98, "{q:?}");
        assert!((q.balance_ratio.unwrap() - 0.25).abs() < 0.03);
        assert!(q.diversity_score > 0.6 && q.diversity_score < 1.0);

        let wrong: Vec<Value> = (0..200)
            .map(|i| json!({"x": 50.0 + i as f64, "c": "a", "y": 1}))
            .collect();
        let mut acc = QualityAccumulator::new(&schema, 7);
        for row in Generator::new(&schema, 7, Balance::Natural, 2_000).unwrap() {
            acc.push(&row);
        }
        let q = acc.finish(Reference::Sample(&Table::from_json_rows(&wrong).unwrap()));
        assert!(q.realism_score < 0.5, "{}", q.realism_score);
    }
}
