//! One column's marginal distribution: maps the copula's latent normal value to a cell, and gives
//! the CDF the metrics compare against.
//!
//! Continuous families use closed forms where they exist. Gamma and beta quantiles have none, so a
//! table of 2,049 quantiles is built once per generator (statrs' `inverse_cdf`) and interpolated;
//! the two extreme table cells use the exact quantile so the tails stay right. Categorical,
//! boolean and target columns use SDV's frequency encoding: category i owns the interval
//! [cum_{i−1}, cum_i) of u, whose width is its weight.

use std::collections::HashMap;
use std::sync::Arc;

use statrs::distribution::{Beta, ContinuousCDF, Gamma};

use super::schema::{normalized_weights, parse_instant, ColumnKind, Distribution, TargetSpec};
use super::stats::{norm_cdf, norm_ppf};
use super::table::Cell;

/// Quantile-table resolution for gamma and beta: 2,048 equal probability steps.
const TABLE_STEPS: usize = 2048;

/// Largest integer magnitude an f64 counts exactly; the default bounds of an integer column.
const SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A continuous distribution, optionally truncated to `[lo, hi]`. Truncation is done in u-space
/// (u ↦ F(lo) + u·(F(hi) − F(lo))), which keeps the copula's dependence and avoids point masses
/// at the bounds that clamping would create.
#[derive(Debug, Clone)]
pub struct Continuous {
    shape: Shape,
    lo: f64,
    hi: f64,
    u_lo: f64,
    u_hi: f64,
    truncated: bool,
}

#[derive(Debug, Clone)]
enum Shape {
    Normal {
        mean: f64,
        std: f64,
    },
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
        dist: Gamma,
        table: Option<Arc<[f64]>>,
    },
    Beta {
        dist: Beta,
        table: Option<Arc<[f64]>>,
    },
    Empirical {
        quantiles: Vec<f64>,
    },
}

impl Continuous {
    /// The distribution truncated to `[lo, hi]` (either bound optional). Parameters are expected
    /// to have passed [`Distribution::validate`]; invalid ones fall back to a standard normal
    /// so this never panics (validation is where they are reported).
    pub fn new(distribution: &Distribution, lo: Option<f64>, hi: Option<f64>) -> Continuous {
        let shape = match distribution {
            Distribution::Normal { mean, std } => Shape::Normal {
                mean: *mean,
                std: *std,
            },
            Distribution::Lognormal { mu, sigma } => Shape::Lognormal {
                mu: *mu,
                sigma: *sigma,
            },
            Distribution::Uniform { low, high } => Shape::Uniform {
                low: *low,
                high: *high,
            },
            Distribution::Exponential { rate } => Shape::Exponential { rate: *rate },
            // statrs parameterizes gamma by rate = 1/scale.
            Distribution::Gamma { shape, scale } => match Gamma::new(*shape, 1.0 / scale) {
                Ok(dist) => Shape::Gamma { dist, table: None },
                Err(_) => Shape::Normal {
                    mean: 0.0,
                    std: 1.0,
                },
            },
            Distribution::Beta { alpha, beta } => match Beta::new(*alpha, *beta) {
                Ok(dist) => Shape::Beta { dist, table: None },
                Err(_) => Shape::Normal {
                    mean: 0.0,
                    std: 1.0,
                },
            },
            Distribution::Empirical { quantiles } if quantiles.len() >= 2 => Shape::Empirical {
                quantiles: quantiles.clone(),
            },
            Distribution::Empirical { .. } => Shape::Normal {
                mean: 0.0,
                std: 1.0,
            },
        };
        let mut marginal = Continuous {
            shape,
            lo: lo.unwrap_or(f64::NEG_INFINITY),
            hi: hi.unwrap_or(f64::INFINITY),
            u_lo: 0.0,
            u_hi: 1.0,
            truncated: lo.is_some() || hi.is_some(),
        };
        if marginal.truncated {
            marginal.u_lo = lo.map_or(0.0, |x| marginal.base_cdf(x));
            marginal.u_hi = hi.map_or(1.0, |x| marginal.base_cdf(x));
        }
        marginal
    }

    /// Builds the gamma/beta quantile table (a no-op for other families). Done once per
    /// generator so per-row sampling is a table lookup.
    pub fn with_quantile_table(mut self) -> Continuous {
        let build = |inverse: &dyn Fn(f64) -> f64| -> Arc<[f64]> {
            let mut table = vec![0.0; TABLE_STEPS + 1];
            for (i, slot) in table.iter_mut().enumerate().take(TABLE_STEPS).skip(1) {
                *slot = inverse(i as f64 / TABLE_STEPS as f64);
            }
            // Cells 0 and TABLE_STEPS are never interpolated (the tails are exact).
            table[0] = table[1];
            table[TABLE_STEPS] = table[TABLE_STEPS - 1];
            table.into()
        };
        match &mut self.shape {
            Shape::Gamma { dist, table } => *table = Some(build(&|p| dist.inverse_cdf(p))),
            Shape::Beta { dist, table } => *table = Some(build(&|p| dist.inverse_cdf(p))),
            _ => {}
        }
        self
    }

    /// Probability mass inside the truncation bounds.
    pub fn mass(&self) -> f64 {
        self.u_hi - self.u_lo
    }

    /// CDF of the untruncated family.
    pub fn base_cdf(&self, x: f64) -> f64 {
        match &self.shape {
            Shape::Normal { mean, std } => norm_cdf((x - mean) / std),
            Shape::Lognormal { mu, sigma } => {
                if x <= 0.0 {
                    0.0
                } else {
                    norm_cdf((x.ln() - mu) / sigma)
                }
            }
            Shape::Uniform { low, high } => ((x - low) / (high - low)).clamp(0.0, 1.0),
            Shape::Exponential { rate } => {
                if x <= 0.0 {
                    0.0
                } else {
                    -(-rate * x).exp_m1()
                }
            }
            Shape::Gamma { dist, .. } => {
                if x <= 0.0 {
                    0.0
                } else if x.is_infinite() {
                    1.0
                } else {
                    dist.cdf(x)
                }
            }
            Shape::Beta { dist, .. } => {
                if x <= 0.0 {
                    0.0
                } else if x >= 1.0 {
                    1.0
                } else {
                    dist.cdf(x)
                }
            }
            Shape::Empirical { quantiles } => empirical_cdf(quantiles, x),
        }
    }

    /// Quantile of the untruncated family; u is kept inside (0, 1) so results are finite.
    pub fn base_quantile(&self, u: f64) -> f64 {
        let u = u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0);
        match &self.shape {
            Shape::Normal { mean, std } => mean + std * norm_ppf(u),
            Shape::Lognormal { mu, sigma } => (mu + sigma * norm_ppf(u)).exp(),
            Shape::Uniform { low, high } => low + u * (high - low),
            Shape::Exponential { rate } => -(-u).ln_1p() / rate,
            Shape::Gamma { dist, table } => {
                table_quantile(table.as_deref(), u, |p| dist.inverse_cdf(p))
            }
            Shape::Beta { dist, table } => {
                table_quantile(table.as_deref(), u, |p| dist.inverse_cdf(p))
            }
            Shape::Empirical { quantiles } => {
                let t = u * (quantiles.len() - 1) as f64;
                let i = (t as usize).min(quantiles.len() - 2);
                let frac = t - i as f64;
                quantiles[i] + frac * (quantiles[i + 1] - quantiles[i])
            }
        }
    }

    /// CDF of the (truncated) marginal.
    pub fn cdf(&self, x: f64) -> f64 {
        if x < self.lo {
            return 0.0;
        }
        if x >= self.hi {
            return 1.0;
        }
        let mass = self.mass();
        if mass <= 0.0 {
            // A point range: all mass at lo.
            return if x >= self.lo { 1.0 } else { 0.0 };
        }
        ((self.base_cdf(x) - self.u_lo) / mass).clamp(0.0, 1.0)
    }

    /// Quantile of the (truncated) marginal.
    pub fn quantile(&self, u: f64) -> f64 {
        let mass = self.mass();
        if mass <= 0.0 {
            return self.lo;
        }
        self.base_quantile(self.u_lo + u * mass)
            .clamp(self.lo, self.hi)
    }

    /// The value for latent normal `z`: F⁻¹(Φ(z)). Untruncated normal and lognormal skip the
    /// round trip through u, which is exact and saves two special-function calls.
    #[inline]
    pub fn from_latent(&self, z: f64) -> f64 {
        if !self.truncated {
            match self.shape {
                Shape::Normal { mean, std } => return mean + std * z,
                Shape::Lognormal { mu, sigma } => return (mu + sigma * z).exp(),
                _ => {}
            }
        }
        self.quantile(norm_cdf(z))
    }
}

/// Interpolates the quantile table inside [1/N, 1 − 1/N]; outside it calls the exact quantile.
fn table_quantile(table: Option<&[f64]>, u: f64, exact: impl Fn(f64) -> f64) -> f64 {
    let steps = TABLE_STEPS as f64;
    match table {
        Some(t) if u >= 1.0 / steps && u <= 1.0 - 1.0 / steps => {
            let pos = u * steps;
            let i = (pos as usize).clamp(1, TABLE_STEPS - 2);
            let frac = pos - i as f64;
            t[i] + frac * (t[i + 1] - t[i])
        }
        _ => exact(u),
    }
}

/// CDF of the piecewise-linear quantile function through `q` at p_i = i/(n−1): the largest p with
/// Q(p) ≤ x (flat stretches of Q are jumps of F).
fn empirical_cdf(q: &[f64], x: f64) -> f64 {
    let m = (q.len() - 1) as f64;
    let k = q.partition_point(|&v| v <= x);
    if k == 0 {
        return 0.0;
    }
    if k == q.len() {
        return 1.0;
    }
    let i = k - 1;
    // q[i] ≤ x < q[i+1], so the segment has positive width.
    ((i as f64 + (x - q[i]) / (q[i + 1] - q[i])) / m).clamp(0.0, 1.0)
}

/// A discrete column's levels (categories, booleans, target classes): names, normalized weights,
/// the cumulative interval ends in u-space, and the cell each level is written as.
#[derive(Debug, Clone)]
pub struct Levels {
    pub names: Vec<String>,
    pub weights: Vec<f64>,
    cum: Vec<f64>,
    cells: Vec<Cell>,
    lookup: HashMap<String, usize>,
    int_lookup: HashMap<i64, usize>,
}

impl Levels {
    fn new(names: Vec<String>, weights: &[f64], cells: Vec<Cell>) -> Levels {
        let weights = normalized_weights(names.len(), weights);
        let mut running = 0.0;
        let mut cum: Vec<f64> = weights
            .iter()
            .map(|w| {
                running += w;
                running
            })
            .collect();
        // The last level with weight ends exactly at 1, so u < 1 never lands on a level past it
        // (rounding could otherwise leave a sliver for a zero-weight trailing level).
        if let Some(last) = weights.iter().rposition(|&w| w > 0.0) {
            for c in &mut cum[last..] {
                *c = 1.0;
            }
        }
        let lookup = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let int_lookup = cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Cell::Int(v) => Some((*v, i)),
                _ => None,
            })
            .collect();
        Levels {
            names,
            weights,
            cum,
            cells,
            lookup,
            int_lookup,
        }
    }

    /// Categorical levels, written as text.
    pub fn categorical(categories: &[String], weights: &[f64]) -> Levels {
        let cells = categories
            .iter()
            .map(|c| Cell::Text(Arc::from(c.as_str())))
            .collect();
        Levels::new(categories.to_vec(), weights, cells)
    }

    /// Boolean levels in the order false, true (so `true` owns the top `p_true` of u).
    pub fn boolean(p_true: f64) -> Levels {
        Levels::new(
            vec!["false".into(), "true".into()],
            &[1.0 - p_true, p_true],
            vec![Cell::Bool(false), Cell::Bool(true)],
        )
    }

    /// Target classes. Classes that are all canonical integers are written as integers (so a
    /// `["0","1"]` label reads back as numbers in pandas), all `true`/`false` as booleans,
    /// anything else as text.
    pub fn target(target: &TargetSpec) -> Levels {
        let ints: Option<Vec<i64>> = target
            .classes
            .iter()
            .map(|c| c.parse::<i64>().ok().filter(|v| v.to_string() == *c))
            .collect();
        let cells = if let Some(ints) = ints {
            ints.into_iter().map(Cell::Int).collect()
        } else if target.classes.iter().all(|c| c == "true" || c == "false") {
            target
                .classes
                .iter()
                .map(|c| Cell::Bool(c == "true"))
                .collect()
        } else {
            target
                .classes
                .iter()
                .map(|c| Cell::Text(Arc::from(c.as_str())))
                .collect()
        };
        Levels::new(target.classes.clone(), &target.weights, cells)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The level whose interval contains u.
    #[inline]
    pub fn index_for(&self, u: f64) -> usize {
        self.cum
            .partition_point(|&c| c <= u)
            .min(self.names.len() - 1)
    }

    /// The interval [a, b) of u owned by level `i`.
    pub fn interval(&self, i: usize) -> (f64, f64) {
        let a = if i == 0 { 0.0 } else { self.cum[i - 1] };
        (a, self.cum[i])
    }

    /// The cell written for level `i`.
    #[inline]
    pub fn cell(&self, i: usize) -> Cell {
        self.cells[i].clone()
    }

    /// The level a cell stands for, if any.
    pub fn index_of_cell(&self, cell: &Cell) -> Option<usize> {
        match cell {
            Cell::Text(s) => self.lookup.get(&**s).copied(),
            Cell::Int(v) => self
                .int_lookup
                .get(v)
                .copied()
                .or_else(|| self.lookup.get(&v.to_string()).copied()),
            Cell::Bool(b) => self.lookup.get(if *b { "true" } else { "false" }).copied(),
            Cell::Num(x) => self.lookup.get(&x.to_string()).copied(),
            Cell::Time(_) | Cell::Null => None,
        }
    }

    /// The level a name stands for, if any.
    pub fn index_of_name(&self, name: &str) -> Option<usize> {
        self.lookup.get(name).copied()
    }
}

/// A column's full model: how a latent normal becomes a cell, and what it is compared with.
#[derive(Debug, Clone)]
pub enum ColumnModel {
    /// Real numbers, rounded to `decimals` when set (`scale` = 10^decimals).
    Numeric {
        marginal: Continuous,
        scale: Option<f64>,
        lo: f64,
        hi: f64,
    },
    /// Integers: the marginal truncated to [min − ½, max + ½], rounded.
    Integer {
        marginal: Continuous,
        min: i64,
        max: i64,
    },
    /// Unix seconds, uniform over [start, end].
    Datetime { marginal: Continuous },
    /// Categorical, boolean or target levels.
    Levels(Levels),
}

impl ColumnModel {
    /// The model for a feature column (no quantile tables; see [`ColumnModel::for_sampling`]).
    pub fn from_kind(kind: &ColumnKind) -> ColumnModel {
        match kind {
            ColumnKind::Numeric {
                distribution,
                min,
                max,
                decimals,
            } => ColumnModel::Numeric {
                marginal: Continuous::new(distribution, *min, *max),
                scale: decimals.map(|d| 10f64.powi(d as i32)),
                lo: min.unwrap_or(f64::NEG_INFINITY),
                hi: max.unwrap_or(f64::INFINITY),
            },
            ColumnKind::Integer {
                distribution,
                min,
                max,
            } => ColumnModel::Integer {
                marginal: Continuous::new(
                    distribution,
                    min.map(|v| v as f64 - 0.5),
                    max.map(|v| v as f64 + 0.5),
                ),
                min: min.unwrap_or(-SAFE_INTEGER as i64),
                max: max.unwrap_or(SAFE_INTEGER as i64),
            },
            ColumnKind::Datetime { start, end } => {
                let s = parse_instant(start).unwrap_or(0) as f64;
                let e = parse_instant(end)
                    .map_or(s + 1.0, |e| e as f64)
                    .max(s + 1.0);
                ColumnModel::Datetime {
                    marginal: Continuous::new(
                        &Distribution::Uniform { low: s, high: e },
                        None,
                        None,
                    ),
                }
            }
            ColumnKind::Categorical {
                categories,
                weights,
            } => ColumnModel::Levels(Levels::categorical(categories, weights)),
            ColumnKind::Boolean { p_true } => ColumnModel::Levels(Levels::boolean(*p_true)),
        }
    }

    /// The model with quantile tables built, for generating many rows.
    pub fn for_sampling(self) -> ColumnModel {
        match self {
            ColumnModel::Numeric {
                marginal,
                scale,
                lo,
                hi,
            } => ColumnModel::Numeric {
                marginal: marginal.with_quantile_table(),
                scale,
                lo,
                hi,
            },
            ColumnModel::Integer { marginal, min, max } => ColumnModel::Integer {
                marginal: marginal.with_quantile_table(),
                min,
                max,
            },
            other => other,
        }
    }

    /// The cell for latent normal `z`.
    #[inline]
    pub fn cell_from_latent(&self, z: f64) -> Cell {
        match self {
            ColumnModel::Numeric {
                marginal,
                scale,
                lo,
                hi,
            } => {
                let mut x = marginal.from_latent(z);
                if let Some(s) = scale {
                    // Rounding can step just outside a bound; keep the declared range.
                    x = ((x * s).round() / s).clamp(*lo, *hi);
                }
                Cell::Num(x)
            }
            ColumnModel::Integer { marginal, min, max } => {
                let x = marginal
                    .from_latent(z)
                    .round()
                    .clamp(*min as f64, *max as f64);
                Cell::Int(x as i64)
            }
            ColumnModel::Datetime { marginal } => {
                Cell::Time(marginal.from_latent(z).round() as i64)
            }
            ColumnModel::Levels(levels) => levels.cell(levels.index_for(norm_cdf(z))),
        }
    }

    /// For continuous columns: the marginal and the grid step of written values (1 for integers
    /// and seconds, 10^−decimals for rounded numerics), for a KS test that respects rounding.
    pub fn continuous(&self) -> Option<(&Continuous, Option<f64>)> {
        match self {
            ColumnModel::Numeric {
                marginal, scale, ..
            } => Some((marginal, scale.map(|s| 1.0 / s))),
            ColumnModel::Integer { marginal, .. } => Some((marginal, Some(1.0))),
            ColumnModel::Datetime { marginal } => Some((marginal, Some(1.0))),
            ColumnModel::Levels(_) => None,
        }
    }

    /// For discrete columns: their levels.
    pub fn levels(&self) -> Option<&Levels> {
        match self {
            ColumnModel::Levels(l) => Some(l),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{ks_one_sample, sorted_finite};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    /// Draws 5,000 values through the latent-normal path and returns the KS statistic against
    /// the marginal's own CDF.
    fn ks_of_draws(m: &Continuous, seed: u64) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let draws = sorted_finite((0..5000).map(|_| m.from_latent(rng.sample(StandardNormal))));
        ks_one_sample(&draws, |x| m.cdf(x), None)
    }

    // The 1% critical value of D for n = 5,000 is 1.63/√5000 ≈ 0.023.
    const KS_LIMIT: f64 = 0.023;

    #[test]
    fn every_family_samples_its_cdf() {
        let families = [
            Distribution::Normal {
                mean: 3.0,
                std: 2.0,
            },
            Distribution::Lognormal {
                mu: 1.0,
                sigma: 0.7,
            },
            Distribution::Uniform {
                low: -2.0,
                high: 5.0,
            },
            Distribution::Exponential { rate: 0.5 },
            Distribution::Gamma {
                shape: 2.5,
                scale: 3.0,
            },
            Distribution::Gamma {
                shape: 0.4,
                scale: 1.0,
            },
            Distribution::Beta {
                alpha: 2.0,
                beta: 5.0,
            },
            Distribution::Beta {
                alpha: 0.5,
                beta: 0.5,
            },
            Distribution::Empirical {
                quantiles: vec![0.0, 1.0, 1.0, 4.0, 10.0],
            },
        ];
        for (i, d) in families.iter().enumerate() {
            let m = Continuous::new(d, None, None).with_quantile_table();
            let ks = ks_of_draws(&m, i as u64);
            assert!(ks < KS_LIMIT, "{d:?}: KS {ks}");
            // The sampler must not simply agree with itself: a wrong CDF is detected.
            let other = Continuous::new(
                &Distribution::Normal {
                    mean: 100.0,
                    std: 1.0,
                },
                None,
                None,
            );
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let draws = sorted_finite((0..500).map(|_| m.from_latent(rng.sample(StandardNormal))));
            assert!(ks_one_sample(&draws, |x| other.cdf(x), None) > 0.5);
        }
    }

    #[test]
    fn quantile_table_matches_exact_quantiles() {
        let d = Distribution::Gamma {
            shape: 2.0,
            scale: 1.5,
        };
        let exact = Continuous::new(&d, None, None);
        let table = exact.clone().with_quantile_table();
        for &u in &[1e-6, 0.0003, 0.01, 0.2, 0.5, 0.77, 0.99, 0.9997] {
            let (a, b) = (exact.quantile(u), table.quantile(u));
            assert!((a - b).abs() / a < 1e-4, "u={u}: {a} vs {b}");
        }
    }

    #[test]
    fn truncation_keeps_values_inside_and_follows_truncated_cdf() {
        let m = Continuous::new(
            &Distribution::Normal {
                mean: 0.0,
                std: 1.0,
            },
            Some(-0.5),
            Some(2.0),
        );
        assert!((m.mass() - (norm_cdf(2.0) - norm_cdf(-0.5))).abs() < 1e-12);
        let ks = ks_of_draws(&m, 42);
        assert!(ks < KS_LIMIT, "KS {ks}");
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..2000 {
            let x = m.from_latent(rng.sample(StandardNormal));
            assert!((-0.5..=2.0).contains(&x));
        }
        assert_eq!(m.cdf(-0.6), 0.0);
        assert_eq!(m.cdf(2.0), 1.0);
    }

    #[test]
    fn integers_round_and_match_the_discretized_cdf() {
        let model = ColumnModel::from_kind(&ColumnKind::Integer {
            distribution: Distribution::Normal {
                mean: 5.0,
                std: 2.0,
            },
            min: Some(0),
            max: Some(9),
        })
        .for_sampling();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let draws =
            sorted_finite((0..5000).map(
                |_| match model.cell_from_latent(rng.sample(StandardNormal)) {
                    Cell::Int(v) => {
                        assert!((0..=9).contains(&v));
                        v as f64
                    }
                    other => panic!("{other:?}"),
                },
            ));
        let (m, step) = model.continuous().unwrap();
        assert!(ks_one_sample(&draws, |x| m.cdf(x), step) < KS_LIMIT);
    }

    #[test]
    fn empirical_cdf_inverts_the_quantile_function() {
        let q = vec![0.0, 1.0, 1.0, 4.0, 10.0];
        let m = Continuous::new(&Distribution::Empirical { quantiles: q }, None, None);
        assert_eq!(m.quantile(0.125), 0.5);
        assert_eq!(m.quantile(0.5), 1.0);
        assert!((m.cdf(0.5) - 0.125).abs() < 1e-12);
        // The flat stretch at 1 is a jump from 0.25 to 0.5.
        assert!((m.cdf(1.0) - 0.5).abs() < 1e-12);
        assert!((m.cdf(7.0) - 0.875).abs() < 1e-12);
        assert_eq!(m.cdf(-1.0), 0.0);
        assert_eq!(m.cdf(10.0), 1.0);
    }

    #[test]
    fn levels_follow_weights_and_encode_cells() {
        let l = Levels::categorical(&["a".into(), "b".into(), "c".into()], &[1.0, 0.0, 3.0]);
        assert_eq!(l.index_for(0.1), 0);
        assert_eq!(l.index_for(0.25), 2);
        assert_eq!(l.index_for(0.999_999), 2);
        assert_eq!(l.interval(1), (0.25, 0.25));
        assert_eq!(l.index_of_cell(&Cell::Text("c".into())), Some(2));

        let t = Levels::target(&TargetSpec {
            name: "y".into(),
            classes: vec!["0".into(), "1".into()],
            weights: vec![0.97, 0.03],
        });
        assert_eq!(t.cell(1), Cell::Int(1));
        assert_eq!(t.index_of_cell(&Cell::Int(1)), Some(1));
        let b = Levels::boolean(0.2);
        assert_eq!(b.index_for(0.79), 0);
        assert_eq!(b.index_for(0.81), 1);
        assert_eq!(b.index_of_cell(&Cell::Bool(true)), Some(1));
    }
}
