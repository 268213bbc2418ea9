//! Streaming row generation with class-balance control.
//!
//! Each row: draw ε ~ N(0, I), pick the target's latent z_t (see [`Balance`]), set z = L·ε with
//! ε_0 = z_t (the copula keeps the target first, so this is the exact conditional), then map every
//! latent through its column's marginal. Memory is O(columns + classes), whatever `count` is.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::conditions::{ClassCounts, Condition, Conditioned};
use super::copula::Copula;
use super::marginal::{ColumnModel, Levels};
use super::schema::DataSchema;
use super::stats::{norm_cdf, norm_ppf};
use super::table::Row;
use super::SynthError;

/// How many rows of each class to produce. Ignored without a target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Balance {
    /// Each row's class is drawn from the target's weights.
    Natural,
    /// Class counts as equal as possible (they differ by at most one; earlier classes get the
    /// extra rows).
    Stratified,
    /// `Ratio(r)`, r ∈ (0, 1]: the class with the largest natural weight gets weight 1, every
    /// other class weight r; exact counts by largest remainder.
    Ratio(f64),
}

/// Which class the next row belongs to.
#[derive(Debug, Clone)]
enum ClassPlan {
    Natural,
    /// Sequential sampling without replacement from the exact counts: class c with probability
    /// remaining_c / remaining_total. Every ordering of the multiset is equally likely, the
    /// counts are exact, and nothing `count`-sized is held.
    Exact {
        remaining: Vec<u64>,
        total: u64,
    },
}

/// An iterator over exactly `count` synthetic rows; the same schema, seed, balance and count give
/// the same rows bit for bit.
pub struct Generator {
    header: Vec<String>,
    features: Vec<ColumnModel>,
    target: Option<Levels>,
    copula: Copula,
    rng: ChaCha8Rng,
    plan: ClassPlan,
    remaining: u64,
    eps: Vec<f64>,
    z: Vec<f64>,
    /// The class of the row last returned (for `redraw`).
    last_class: Option<usize>,
    /// Set by [`Generator::condition`]: rows come from the conditioned copula instead.
    conditioned: Option<Conditioned>,
}

impl Generator {
    /// Validates the schema and the balance, then builds marginals (with quantile tables) and the
    /// copula once.
    pub fn new(
        schema: &DataSchema,
        seed: u64,
        balance: Balance,
        count: u64,
    ) -> Result<Generator, SynthError> {
        schema.validate()?;
        if let Balance::Ratio(r) = balance {
            if !r.is_finite() || r <= 0.0 || r > 1.0 {
                return Err(SynthError::invalid(
                    "balance",
                    format!("ratio must be in (0, 1], got {r}"),
                ));
            }
        }
        let features = schema
            .columns
            .iter()
            .map(|c| ColumnModel::from_kind(&c.kind).for_sampling())
            .collect();
        let target = schema.target.as_ref().map(Levels::target);
        let plan = match (&target, balance) {
            (None, _) | (Some(_), Balance::Natural) => ClassPlan::Natural,
            (Some(levels), Balance::Stratified) => {
                exact_plan(stratified_counts(levels.len(), count))
            }
            (Some(levels), Balance::Ratio(r)) => {
                exact_plan(largest_remainder(&ratio_weights(&levels.weights, r), count))
            }
        };
        let copula = Copula::for_schema(schema);
        let dim = copula.dim();
        Ok(Generator {
            header: schema.header(),
            features,
            target,
            copula,
            rng: ChaCha8Rng::seed_from_u64(seed),
            plan,
            remaining: count,
            eps: vec![0.0; dim],
            z: vec![0.0; dim],
            last_class: None,
            conditioned: None,
        })
    }

    /// Samples from the copula conditioned on `conditions` from now on (see
    /// [`crate::conditions`]); an exact class balance becomes one more restriction. Rows that
    /// miss a condition sampled by rejection are left for [`Generator::meets_conditions`] to
    /// catch, so only [`crate::Constrained`] calls this, with the generator's own schema and
    /// before any row is drawn (the share counts split the rows still to come).
    pub(crate) fn condition(
        &mut self,
        schema: &DataSchema,
        conditions: &[Condition],
    ) -> Result<(), SynthError> {
        if conditions.len() > super::conditions::MAX_CONDITIONS {
            return Err(SynthError::invalid(
                "conditions",
                format!(
                    "at most {} conditions, got {}",
                    super::conditions::MAX_CONDITIONS,
                    conditions.len()
                ),
            ));
        }
        let classes = match &self.plan {
            ClassPlan::Exact { remaining, total } => Some(ClassCounts {
                remaining: remaining.clone(),
                total: *total,
            }),
            ClassPlan::Natural => None,
        };
        self.conditioned = Some(Conditioned::new(
            schema,
            &self.features,
            self.target.as_ref(),
            conditions,
            classes,
            self.remaining,
        )?);
        self.plan = ClassPlan::Natural;
        Ok(())
    }

    /// Whether the row last returned meets every condition (true without conditions);
    /// counts each one missed.
    pub(crate) fn meets_conditions(&mut self, row: &Row) -> bool {
        self.conditioned.as_mut().is_none_or(|c| c.check(row))
    }

    /// Records that the row last returned was emitted (for the share counts).
    pub(crate) fn emitted(&mut self) {
        if let Some(c) = self.conditioned.as_mut() {
            c.emitted();
        }
    }

    /// The conditions' reports, when there are conditions.
    pub(crate) fn condition_reports(&self) -> Option<Vec<super::conditions::ConditionReport>> {
        self.conditioned.as_ref().map(Conditioned::reports)
    }

    /// The condition that rejected most draws (request index, rejections).
    pub(crate) fn worst_condition(&self) -> Option<(usize, u64, &str)> {
        self.conditioned.as_ref().and_then(Conditioned::worst)
    }

    pub(crate) fn is_conditioned(&self) -> bool {
        self.conditioned.is_some()
    }

    /// A row from the conditioned copula.
    fn conditioned_row(&mut self, fresh: bool) -> Row {
        let c = self.conditioned.as_mut().expect("conditioned");
        c.draw(&mut self.rng, fresh, &mut self.z);
        let offset = usize::from(self.target.is_some());
        let mut row = Vec::with_capacity(self.features.len() + offset);
        for (model, &z) in self.features.iter().zip(&self.z[offset..]) {
            row.push(model.cell_from_latent(z));
        }
        if let Some(levels) = &self.target {
            row.push(levels.cell(levels.index_for(norm_cdf(self.z[0]))));
        }
        c.settle(&self.z, &mut row);
        row
    }

    /// The column names of the rows, target last.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Rows still to come.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Whether the schema's correlation matrix had to be repaired to be positive definite.
    pub fn correlations_repaired(&self) -> bool {
        self.copula.repaired()
    }

    /// The next row's class and the target's latent value.
    fn draw_class(&mut self) -> Option<(usize, f64)> {
        let levels = self.target.as_ref()?;
        Some(match &mut self.plan {
            ClassPlan::Natural => {
                let u = open_unit(&mut self.rng);
                (levels.index_for(u), norm_ppf(u))
            }
            ClassPlan::Exact { remaining, total } => {
                let class = draw_without_replacement(&mut self.rng, remaining, total);
                // z_t uniform within the class's interval in u-space.
                let (a, b) = levels.interval(class);
                let u = a + (b - a) * open_unit(&mut self.rng);
                (class, norm_ppf(u))
            }
        })
    }
}

/// One draw from the multiset `remaining` (its `total` items), taken out: index c with
/// probability remaining_c / total. Drawn to the end, every ordering of the multiset is equally
/// likely and the counts are exact.
pub(crate) fn draw_without_replacement(
    rng: &mut ChaCha8Rng,
    remaining: &mut [u64],
    total: &mut u64,
) -> usize {
    let mut k = rng.random_range(0..*total);
    let mut pick = remaining.len() - 1;
    for (c, left) in remaining.iter().enumerate() {
        if k < *left {
            pick = c;
            break;
        }
        k -= left;
    }
    remaining[pick] -= 1;
    *total -= 1;
    pick
}

/// A uniform draw in the open interval (0, 1): 53 random bits, centred in their cell, so
/// Φ⁻¹ never sees 0 or 1.
pub(crate) fn open_unit(rng: &mut ChaCha8Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

fn exact_plan(counts: Vec<u64>) -> ClassPlan {
    let total = counts.iter().sum();
    ClassPlan::Exact {
        remaining: counts,
        total,
    }
}

/// `count` split over `classes` as evenly as possible, extras to the first classes.
pub(crate) fn stratified_counts(classes: usize, count: u64) -> Vec<u64> {
    let k = classes as u64;
    (0..k)
        .map(|c| count / k + u64::from(c < count % k))
        .collect()
}

/// Weight 1 for the (first) class with the largest natural weight, `r` for the others.
pub(crate) fn ratio_weights(natural: &[f64], r: f64) -> Vec<f64> {
    let majority = natural
        .iter()
        .enumerate()
        .fold(0, |best, (i, w)| if *w > natural[best] { i } else { best });
    (0..natural.len())
        .map(|i| if i == majority { 1.0 } else { r })
        .collect()
}

/// Hamilton's largest-remainder apportionment of `count` by `weights`: floors of the quotas, then
/// one more to the largest fractional parts (ties to the lower index). Sums to `count` exactly.
pub(crate) fn largest_remainder(weights: &[f64], count: u64) -> Vec<u64> {
    let total: f64 = weights.iter().sum();
    let quotas: Vec<f64> = weights.iter().map(|w| count as f64 * w / total).collect();
    let mut counts: Vec<u64> = quotas.iter().map(|q| q.floor() as u64).collect();
    let assigned: u64 = counts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = quotas[a] - quotas[a].floor();
        let fb = quotas[b] - quotas[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    if assigned <= count {
        for &i in order.iter().cycle().take((count - assigned) as usize) {
            counts[i] += 1;
        }
    } else {
        // Only reachable through float rounding on huge counts: take back from the largest.
        let mut excess = assigned - count;
        while excess > 0 {
            let i = (0..counts.len()).max_by_key(|&i| counts[i]).unwrap_or(0);
            counts[i] -= 1;
            excess -= 1;
        }
    }
    counts
}

impl Iterator for Generator {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if self.conditioned.is_some() {
            return Some(self.conditioned_row(true));
        }
        for e in self.eps.iter_mut() {
            *e = self.rng.sample(StandardNormal);
        }
        let drawn = self.draw_class();
        Some(self.row_for(drawn))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, usize::try_from(self.remaining).ok())
    }
}

impl Generator {
    /// Another row in place of the one last returned (rejected by a constraint), not
    /// counted: under an exact class plan of the same class, so the counts stay exact;
    /// otherwise with its class drawn again from the natural weights.
    pub fn redraw(&mut self) -> Row {
        if self.conditioned.is_some() {
            return self.conditioned_row(false);
        }
        for e in self.eps.iter_mut() {
            *e = self.rng.sample(StandardNormal);
        }
        let drawn = match (&self.plan, self.last_class, &self.target) {
            (ClassPlan::Exact { .. }, Some(class), Some(levels)) => {
                let (a, b) = levels.interval(class);
                let u = a + (b - a) * open_unit(&mut self.rng);
                Some((class, norm_ppf(u)))
            }
            _ => self.target.as_ref().map(|levels| {
                let u = open_unit(&mut self.rng);
                (levels.index_for(u), norm_ppf(u))
            }),
        };
        self.row_for(drawn)
    }

    /// The row for the drawn `eps` and class.
    fn row_for(&mut self, drawn: Option<(usize, f64)>) -> Row {
        let class = drawn.map(|(class, z_t)| {
            self.eps[0] = z_t / self.copula.first_diagonal();
            class
        });
        self.last_class = class;
        self.copula.correlate(&self.eps, &mut self.z);
        let offset = usize::from(class.is_some());
        let mut row = Vec::with_capacity(self.features.len() + offset);
        for (model, &z) in self.features.iter().zip(&self.z[offset..]) {
            row.push(model.cell_from_latent(z));
        }
        if let (Some(c), Some(levels)) = (class, &self.target) {
            row.push(levels.cell(c));
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ColumnKind, ColumnSpec, Correlation, Distribution, TargetSpec};
    use crate::stats::{norm_cdf, pearson};
    use crate::table::Cell;

    fn num(name: &str, distribution: Distribution) -> ColumnSpec {
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

    fn std_normal(name: &str) -> ColumnSpec {
        num(
            name,
            Distribution::Normal {
                mean: 0.0,
                std: 1.0,
            },
        )
    }

    fn corr(a: &str, b: &str, r: f64) -> Correlation {
        Correlation {
            a: a.into(),
            b: b.into(),
            r,
        }
    }

    fn classified(weights: Vec<f64>, r: f64) -> DataSchema {
        let classes = (0..weights.len()).map(|i| i.to_string()).collect();
        DataSchema {
            columns: vec![
                std_normal("x"),
                ColumnSpec {
                    name: "c".into(),
                    kind: ColumnKind::Categorical {
                        categories: vec!["a".into(), "b".into()],
                        weights: vec![1.0, 1.0],
                    },
                },
            ],
            target: Some(TargetSpec {
                name: "y".into(),
                classes,
                weights,
            }),
            correlations: vec![corr("x", "y", r)],
        }
    }

    fn num_of(cell: &Cell) -> f64 {
        match cell {
            Cell::Num(x) => *x,
            Cell::Int(v) => *v as f64,
            other => panic!("not a number: {other:?}"),
        }
    }

    fn class_counts(rows: &[Row], classes: usize) -> Vec<u64> {
        let mut counts = vec![0; classes];
        for row in rows {
            counts[num_of(row.last().unwrap()) as usize] += 1;
        }
        counts
    }

    #[test]
    fn yields_exactly_count_rows_in_header_order() {
        let schema = classified(vec![0.5, 0.5], 0.2);
        let gen = Generator::new(&schema, 1, Balance::Natural, 37).unwrap();
        assert_eq!(gen.header(), ["x", "c", "y"]);
        assert_eq!(gen.size_hint(), (37, Some(37)));
        let rows: Vec<Row> = gen.collect();
        assert_eq!(rows.len(), 37);
        assert!(rows.iter().all(|r| matches!(
            (&r[0], &r[1], &r[2]),
            (Cell::Num(_), Cell::Text(_), Cell::Int(_))
        )));
        assert_eq!(
            Generator::new(&schema, 1, Balance::Natural, 0)
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn copula_recovers_correlations_through_the_marginals() {
        let schema = DataSchema {
            columns: vec![
                std_normal("a"),
                num(
                    "b",
                    Distribution::Normal {
                        mean: 10.0,
                        std: 3.0,
                    },
                ),
                num(
                    "c",
                    Distribution::Lognormal {
                        mu: 0.0,
                        sigma: 0.5,
                    },
                ),
            ],
            target: None,
            correlations: vec![corr("a", "b", 0.7), corr("b", "c", -0.4)],
        };
        let rows: Vec<Row> = Generator::new(&schema, 5, Balance::Natural, 20_000)
            .unwrap()
            .collect();
        let col = |i: usize| rows.iter().map(|r| num_of(&r[i])).collect::<Vec<_>>();
        let (a, b) = (col(0), col(1));
        let latent_c: Vec<f64> = col(2).iter().map(|x| x.ln() / 0.5).collect();
        assert!((pearson(&a, &b).unwrap() - 0.7).abs() < 0.05);
        assert!((pearson(&b, &latent_c).unwrap() + 0.4).abs() < 0.05);
        assert!(pearson(&a, &latent_c).unwrap().abs() < 0.05 + 0.7 * 0.4);
    }

    #[test]
    fn stratified_counts_are_exact() {
        let schema = classified(vec![0.7, 0.2, 0.1], 0.3);
        let rows: Vec<Row> = Generator::new(&schema, 3, Balance::Stratified, 1000)
            .unwrap()
            .collect();
        assert_eq!(class_counts(&rows, 3), vec![334, 333, 333]);
        // The classes are interleaved, not written in blocks.
        let first_hundred = class_counts(&rows[..100], 3);
        assert!(first_hundred.iter().all(|&c| c > 15), "{first_hundred:?}");
    }

    #[test]
    fn ratio_counts_are_exact() {
        let schema = classified(vec![0.1, 0.9], 0.3);
        let rows: Vec<Row> = Generator::new(&schema, 3, Balance::Ratio(0.5), 1000)
            .unwrap()
            .collect();
        // Class 1 is the majority: weights 0.5 : 1 → 333.3 : 666.7.
        assert_eq!(class_counts(&rows, 2), vec![333, 667]);
        assert_eq!(largest_remainder(&[1.0, 0.25, 0.25], 7), vec![5, 1, 1]);
        assert_eq!(largest_remainder(&[1.0, 1.0, 1.0], 10), vec![4, 3, 3]);
        assert!(Generator::new(&schema, 3, Balance::Ratio(0.0), 10).is_err());
        assert!(Generator::new(&schema, 3, Balance::Ratio(1.5), 10).is_err());
    }

    #[test]
    fn natural_frequencies_follow_the_weights() {
        let schema = classified(vec![0.97, 0.03], 0.45);
        let rows: Vec<Row> = Generator::new(&schema, 8, Balance::Natural, 20_000)
            .unwrap()
            .collect();
        let counts = class_counts(&rows, 2);
        let share = counts[1] as f64 / 20_000.0;
        // σ = √(0.03·0.97/20000) ≈ 0.0012.
        assert!((share - 0.03).abs() < 0.005, "{share}");
    }

    #[test]
    fn features_keep_their_correlation_with_the_target_under_stratification() {
        let r = 0.45;
        let schema = classified(vec![0.97, 0.03], r);
        let rows: Vec<Row> = Generator::new(&schema, 21, Balance::Stratified, 20_000)
            .unwrap()
            .collect();
        // E[x | class] = r·E[z_t | z_t in the class's interval] (truncated normal mean).
        let cut = norm_ppf(0.97);
        let phi = (-cut * cut / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let expected = [r * -phi / 0.97, r * phi / 0.03];
        for (class, want) in expected.iter().enumerate() {
            let xs: Vec<f64> = rows
                .iter()
                .filter(|row| num_of(&row[2]) as usize == class)
                .map(|row| num_of(&row[0]))
                .collect();
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            assert!(
                (mean - want).abs() < 0.05,
                "class {class}: {mean} vs {want}"
            );
        }
        // And a feature that is not correlated does not separate the classes.
        let share_a = |class: usize| {
            let in_class: Vec<&Row> = rows
                .iter()
                .filter(|r| num_of(&r[2]) as usize == class)
                .collect();
            in_class
                .iter()
                .filter(|r| r[1] == Cell::Text("a".into()))
                .count() as f64
                / in_class.len() as f64
        };
        assert!((share_a(0) - share_a(1)).abs() < 0.04);
        assert!(norm_cdf(cut) > 0.969);
    }

    #[test]
    fn same_seed_same_rows_different_seed_different_rows() {
        let schema = classified(vec![0.8, 0.2], 0.3);
        for balance in [Balance::Natural, Balance::Stratified, Balance::Ratio(0.5)] {
            let a: Vec<Row> = Generator::new(&schema, 42, balance, 200).unwrap().collect();
            let b: Vec<Row> = Generator::new(&schema, 42, balance, 200).unwrap().collect();
            let c: Vec<Row> = Generator::new(&schema, 43, balance, 200).unwrap().collect();
            assert_eq!(a, b);
            assert_ne!(a, c);
        }
    }

    #[test]
    fn every_kind_is_generated_within_its_bounds() {
        let schema: DataSchema = serde_json::from_value(serde_json::json!({
            "columns": [
                {"name": "amount", "type": "numeric", "distribution": {"name": "gamma", "shape": 2.0, "scale": 30.0},
                 "min": 0.01, "max": 500.0, "decimals": 2},
                {"name": "hour", "type": "integer", "distribution": {"name": "uniform", "low": 0.0, "high": 24.0},
                 "min": 0, "max": 23},
                {"name": "when", "type": "datetime", "start": "2024-01-01", "end": "2024-12-31T23:59:59Z"},
                {"name": "flag", "type": "boolean", "p_true": 0.25},
                {"name": "risk", "type": "numeric", "distribution": {"name": "beta", "alpha": 2.0, "beta": 5.0}}
            ],
            "correlations": [{"a": "amount", "b": "risk", "r": 0.5}]
        }))
        .unwrap();
        let (start, end) = (1_704_067_200, 1_735_689_599);
        let mut trues = 0;
        for row in Generator::new(&schema, 9, Balance::Stratified, 5000).unwrap() {
            let amount = num_of(&row[0]);
            assert!((0.01..=500.0).contains(&amount));
            assert_eq!((amount * 100.0).round() / 100.0, amount);
            assert!((0..=23).contains(&(num_of(&row[1]) as i64)));
            match row[2] {
                Cell::Time(t) => assert!((start..=end).contains(&t)),
                ref other => panic!("{other:?}"),
            }
            if row[3] == Cell::Bool(true) {
                trues += 1;
            }
            assert!((0.0..=1.0).contains(&num_of(&row[4])));
        }
        assert!((trues as f64 / 5000.0 - 0.25).abs() < 0.03);
    }
}
