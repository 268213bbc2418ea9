//! The Gaussian copula: a correlation matrix over the latent normals of every column, repaired to
//! the nearest valid correlation matrix when needed, and its Cholesky factor L so that z = L·ε
//! has that correlation for ε ~ N(0, I).
//!
//! Latent order puts the target first (index 0), then the features in schema order. With the
//! target first, L's first column is Σ_rt and its lower block is the Cholesky factor of the
//! Schur complement Σ_rr − Σ_rt Σ_tr, so fixing z_0 = z_t and drawing the rest as L·ε yields
//! exactly z_rest | z_t ~ N(Σ_rt z_t, Σ_rr − Σ_rt Σ_tr): class-conditional sampling reuses the
//! same factor, computed once.

use nalgebra::{Cholesky, DMatrix, SymmetricEigen};

use super::schema::DataSchema;

/// Smallest eigenvalue kept by the repair (before rescaling to unit diagonal).
pub const MIN_EIGENVALUE: f64 = 1e-6;

/// A lower-triangular factor stored by rows, keeping only non-zero entries: schemas usually
/// correlate few pairs, so most of L is zero and skipping it keeps wide schemas fast.
#[derive(Debug, Clone)]
pub struct Copula {
    dim: usize,
    starts: Vec<usize>,
    entries: Vec<(usize, f64)>,
    repaired: bool,
}

impl Copula {
    /// Factors `correlation` (symmetric, unit diagonal); repairs it first if it is not
    /// positive definite.
    pub fn new(correlation: &DMatrix<f64>) -> Copula {
        let dim = correlation.nrows();
        let (factor, repaired) = match Cholesky::new(correlation.clone()) {
            Some(c) => (c.l(), false),
            None => {
                let repaired = nearest_correlation(correlation);
                let l = Cholesky::new(repaired.clone())
                    .map(|c| c.l())
                    // Unreachable in practice (the repair leaves eigenvalues ≥ 1e-6); the
                    // identity keeps sampling defined rather than panicking.
                    .unwrap_or_else(|| DMatrix::identity(dim, dim));
                (l, true)
            }
        };
        let mut starts = Vec::with_capacity(dim + 1);
        let mut entries = Vec::new();
        for i in 0..dim {
            starts.push(entries.len());
            for j in 0..=i {
                let v = factor[(i, j)];
                if v != 0.0 {
                    entries.push((j, v));
                }
            }
        }
        starts.push(entries.len());
        Copula {
            dim,
            starts,
            entries,
            repaired,
        }
    }

    /// The copula of a schema: see [`latent_correlation`].
    pub fn for_schema(schema: &DataSchema) -> Copula {
        Copula::new(&latent_correlation(schema))
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Whether the specified matrix was not positive definite and had to be repaired.
    pub fn repaired(&self) -> bool {
        self.repaired
    }

    /// L[0][0]: 1 for a correlation matrix; used to turn a chosen z_0 back into ε_0.
    pub fn first_diagonal(&self) -> f64 {
        self.entries.first().map_or(1.0, |&(_, v)| v)
    }

    /// z = L·ε.
    #[inline]
    pub fn correlate(&self, eps: &[f64], z: &mut [f64]) {
        for (i, zi) in z.iter_mut().enumerate().take(self.dim) {
            *zi = self.entries[self.starts[i]..self.starts[i + 1]]
                .iter()
                .map(|&(j, v)| v * eps[j])
                .sum();
        }
    }
}

/// The latent correlation matrix of a schema, target first then features: identity except
/// for the listed correlations (the last entry wins when a pair repeats).
pub fn latent_correlation(schema: &DataSchema) -> DMatrix<f64> {
    let offset = usize::from(schema.target.is_some());
    let dim = schema.columns.len() + offset;
    let latent_index = |name: &str| -> Option<usize> {
        if schema.target_name() == Some(name) {
            return Some(0);
        }
        schema
            .columns
            .iter()
            .position(|c| c.name == name)
            .map(|i| i + offset)
    };
    let mut m = DMatrix::identity(dim, dim);
    for c in &schema.correlations {
        if let (Some(a), Some(b)) = (latent_index(&c.a), latent_index(&c.b)) {
            if a != b {
                let r = c.r.clamp(-1.0, 1.0);
                m[(a, b)] = r;
                m[(b, a)] = r;
            }
        }
    }
    m
}

/// The correlation matrix sampling actually uses: [`latent_correlation`], repaired by
/// [`nearest_correlation`] when it is not positive definite.
pub fn effective_correlation(schema: &DataSchema) -> DMatrix<f64> {
    let m = latent_correlation(schema);
    if Cholesky::new(m.clone()).is_some() {
        m
    } else {
        nearest_correlation(&m)
    }
}

/// Nearest valid correlation matrix by eigenvalue clipping: A = V·max(Λ, 1e-6)·Vᵀ, then
/// D^{-1/2}·A·D^{-1/2} to restore the unit diagonal (a congruence, so it stays positive definite).
pub fn nearest_correlation(m: &DMatrix<f64>) -> DMatrix<f64> {
    let n = m.nrows();
    let symmetric = (m + m.transpose()) * 0.5;
    let eigen = SymmetricEigen::new(symmetric);
    let clipped = eigen.eigenvalues.map(|v| v.max(MIN_EIGENVALUE));
    let a = &eigen.eigenvectors * DMatrix::from_diagonal(&clipped) * eigen.eigenvectors.transpose();
    let scale: Vec<f64> = (0..n).map(|i| 1.0 / a[(i, i)].sqrt()).collect();
    let mut out = DMatrix::from_fn(n, n, |i, j| a[(i, j)] * scale[i] * scale[j]);
    for i in 0..n {
        out[(i, i)] = 1.0;
        for j in 0..i {
            let v = 0.5 * (out[(i, j)] + out[(j, i)]);
            out[(i, j)] = v;
            out[(j, i)] = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::pearson;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    #[test]
    fn recovers_specified_correlations() {
        let target =
            DMatrix::from_row_slice(3, 3, &[1.0, 0.6, -0.3, 0.6, 1.0, 0.1, -0.3, 0.1, 1.0]);
        let copula = Copula::new(&target);
        assert!(!copula.repaired());
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 20_000;
        let mut cols: Vec<Vec<f64>> = (0..3).map(|_| Vec::with_capacity(n)).collect();
        let (mut eps, mut z) = (vec![0.0; 3], vec![0.0; 3]);
        for _ in 0..n {
            for e in eps.iter_mut() {
                *e = rng.sample(StandardNormal);
            }
            copula.correlate(&eps, &mut z);
            for (c, v) in cols.iter_mut().zip(&z) {
                c.push(*v);
            }
        }
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            let r = pearson(&cols[a], &cols[b]).unwrap();
            assert!((r - target[(a, b)]).abs() < 0.05, "({a},{b}): {r}");
        }
    }

    #[test]
    fn repairs_an_invalid_matrix() {
        // Pairwise plausible, jointly impossible: a≈b, b≈c, but a and c opposite.
        let bad = DMatrix::from_row_slice(3, 3, &[1.0, 0.9, -0.9, 0.9, 1.0, 0.9, -0.9, 0.9, 1.0]);
        assert!(Cholesky::new(bad.clone()).is_none());
        let fixed = nearest_correlation(&bad);
        let eigen = SymmetricEigen::new(fixed.clone());
        assert!(
            eigen.eigenvalues.iter().all(|&v| v > 0.0),
            "{:?}",
            eigen.eigenvalues
        );
        for i in 0..3 {
            assert_eq!(fixed[(i, i)], 1.0);
            for j in 0..3 {
                assert_eq!(fixed[(i, j)], fixed[(j, i)]);
                assert!(fixed[(i, j)].abs() <= 1.0);
            }
        }
        // Nearest: the signs and rough sizes survive.
        assert!(fixed[(0, 1)] > 0.3 && fixed[(1, 2)] > 0.3 && fixed[(0, 2)] < -0.3);
        assert!(Cholesky::new(fixed).is_some());
        let copula = Copula::new(&bad);
        assert!(copula.repaired());
        // A valid matrix is left alone.
        let good = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, 0.5, 1.0]);
        let same = nearest_correlation(&good);
        assert!((same[(0, 1)] - 0.5).abs() < 1e-9);
    }

    #[test]
    fn perfectly_correlated_columns_stay_usable() {
        let m = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        let copula = Copula::new(&m);
        let mut z = [0.0; 2];
        copula.correlate(&[0.7, -0.2], &mut z);
        assert!(z.iter().all(|v| v.is_finite()));
        assert!((z[0] - z[1]).abs() < 0.01);
    }
}
