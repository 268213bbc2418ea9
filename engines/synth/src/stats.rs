//! Statistical helpers shared by fitting and metrics.

use statrs::function::erf::{erfc, erfc_inv};
use std::f64::consts::SQRT_2;

/// Standard normal CDF Φ(z), via erfc so the lower tail keeps its relative precision.
#[inline]
pub(crate) fn norm_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / SQRT_2)
}

/// Standard normal quantile Φ⁻¹(u); u is clamped into (0, 1) so the result is always finite.
#[inline]
pub(crate) fn norm_ppf(u: f64) -> f64 {
    let u = u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0);
    -SQRT_2 * erfc_inv(2.0 * u)
}

/// One-sample Kolmogorov–Smirnov statistic D = sup |F_n(x) − F(x)| of `sorted` against `cdf`.
///
/// With `step = Some(h)` the data lie on a grid of spacing `h` (integers, rounded decimals,
/// whole seconds) and are compared with the CDF of the rounded variable, G(x) = F(x + h/2) with
/// left limit F(x − h/2); this is exact because both step functions only jump on the grid.
/// With `step = None` the comparison uses F(x) and its left limit F(x−) (taken at the next
/// float down), so atoms of F — flat stretches of an empirical quantile function — count
/// correctly. Ties are handled by evaluating once per distinct value.
pub(crate) fn ks_one_sample(sorted: &[f64], cdf: impl Fn(f64) -> f64, step: Option<f64>) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    let nf = n as f64;
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < n {
        let x = sorted[i];
        let mut j = i;
        while j < n && sorted[j] == x {
            j += 1;
        }
        // F_n(x−) = i/n, F_n(x) = j/n.
        let (below, at) = match step {
            Some(h) => (cdf(x - h / 2.0), cdf(x + h / 2.0)),
            None => (cdf(x.next_down()), cdf(x)),
        };
        d = d.max((i as f64 / nf - below).abs());
        d = d.max((j as f64 / nf - at).abs());
        i = j;
    }
    d
}

/// Two-sample Kolmogorov–Smirnov statistic sup |F_a(x) − F_b(x)| (scipy's
/// `ks_2samp(...).statistic`), over sorted finite samples. Written here rather than taken from
/// statrs because statrs' `ks_twosample` never returns when the statistic is 0 (its p-value
/// series does not converge at D = 0), which identical samples produce.
pub(crate) fn ks_two_sample(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut d: f64 = 0.0;
    while i < a.len() && j < b.len() {
        // Step past every copy of the smaller current value in both samples, then compare.
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] == x {
            i += 1;
        }
        while j < b.len() && b[j] == x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d
}

/// Asymptotic p-value of a one-sample KS statistic: the Kolmogorov survival function Q(λ) at
/// λ = (√n + 0.12 + 0.11/√n)·D (Stephens' small-sample correction).
pub(crate) fn kolmogorov_pvalue(d: f64, n: usize) -> f64 {
    if n == 0 || d <= 0.0 {
        return 1.0;
    }
    let sn = (n as f64).sqrt();
    kolmogorov_survival((sn + 0.12 + 0.11 / sn) * d)
}

/// Q(λ) = P(K > λ) of the Kolmogorov distribution. Two equivalent series, each used where it
/// converges in a few terms.
fn kolmogorov_survival(lambda: f64) -> f64 {
    if lambda < 1.18 {
        1.0 - kolmogorov_cdf_theta(lambda)
    } else {
        kolmogorov_survival_alternating(lambda)
    }
    .clamp(0.0, 1.0)
}

/// P(K ≤ λ) = √(2π)/λ Σ_{j≥1} exp(−(2j−1)²π²/(8λ²)), fast for small λ.
fn kolmogorov_cdf_theta(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 0.0;
    }
    let y = -std::f64::consts::PI.powi(2) / (8.0 * lambda * lambda);
    let sum: f64 = (1..=8)
        .map(|j| (((2 * j - 1) as f64).powi(2) * y).exp())
        .sum();
    (2.0 * std::f64::consts::PI).sqrt() / lambda * sum
}

/// Q(λ) = 2 Σ_{j≥1} (−1)^{j−1} exp(−2j²λ²), fast for large λ.
fn kolmogorov_survival_alternating(lambda: f64) -> f64 {
    let mut sum = 0.0;
    for j in 1..=100 {
        let term = (-2.0 * (j * j) as f64 * lambda * lambda).exp();
        sum += if j % 2 == 1 { term } else { -term };
        if term < 1e-17 {
            break;
        }
    }
    2.0 * sum
}

/// Pearson correlation over the pairs where both values are finite; `None` when fewer than two
/// such pairs or a side is constant (SDMetrics returns NaN there and skips the pair).
pub(crate) fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let (mut n, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for (&x, &y) in xs.iter().zip(ys) {
        if x.is_finite() && y.is_finite() {
            n += 1.0;
            sx += x;
            sy += y;
        }
    }
    if n < 2.0 {
        return None;
    }
    let (mx, my) = (sx / n, sy / n);
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (&x, &y) in xs.iter().zip(ys) {
        if x.is_finite() && y.is_finite() {
            let (dx, dy) = (x - mx, y - my);
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
        }
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// 1-based ranks with ties given their average rank (scipy's `rankdata(method="average")`).
pub(crate) fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        // Positions i..=j (0-based) share the mean of ranks i+1..=j+1.
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Shannon entropy of `counts` divided by ln(`levels`), `levels` clamped to ≥ 2, so a uniform
/// spread over every level the column can take scores 1 and a constant column 0.
pub(crate) fn normalized_entropy(counts: &[u64], levels: usize) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let t = total as f64;
    let h: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / t;
            -p * p.ln()
        })
        .sum();
    (h / (levels.max(2) as f64).ln()).clamp(0.0, 1.0)
}

/// Total variation distance ½ Σ |p_i − q_i| between two count vectors over the same levels,
/// each normalized by its own total.
pub(crate) fn total_variation(p: &[u64], q: &[u64]) -> f64 {
    let tp: u64 = p.iter().sum();
    let tq: u64 = q.iter().sum();
    if tp == 0 || tq == 0 {
        return 1.0;
    }
    let len = p.len().max(q.len());
    let get = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0) as f64;
    0.5 * (0..len)
        .map(|i| (get(p, i) / tp as f64 - get(q, i) / tq as f64).abs())
        .sum::<f64>()
}

/// Sorted finite values (NaN marks a null and is dropped).
pub(crate) fn sorted_finite(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_and_quantile_are_inverse() {
        for &z in &[-8.0, -6.0, -1.96, -0.5, 0.0, 0.3, 1.0, 2.5] {
            assert!((norm_ppf(norm_cdf(z)) - z).abs() < 1e-9, "z = {z}");
        }
        // Near 1 an f64 u keeps fewer digits, so the upper tail is only as exact as u allows.
        assert!((norm_ppf(norm_cdf(6.0)) - 6.0).abs() < 1e-5);
        // statrs' erfc is good to about 1e-11 here, far finer than any sampling error.
        assert!((norm_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-10);
        assert!(norm_ppf(0.0).is_finite() && norm_ppf(1.0).is_finite());
    }

    #[test]
    fn ks_one_sample_matches_hand_computation() {
        // Uniform(0,1), data {0.1, 0.4, 0.9}: D = max(1/3−0.1, 0.4−1/3, 2/3−0.4, 0.9−2/3, 1−0.9)
        let d = ks_one_sample(&[0.1, 0.4, 0.9], |x| x.clamp(0.0, 1.0), None);
        assert!((d - (2.0 / 3.0 - 0.4)).abs() < 1e-12, "{d}");
        // An atom: F jumps from 0.25 to 0.5 at 1; data with half its mass there fits it.
        let atom = |x: f64| {
            if x < 1.0 {
                x.clamp(0.0, 1.0) / 4.0
            } else {
                0.5 + (x - 1.0).clamp(0.0, 1.0) / 2.0
            }
        };
        let d = ks_one_sample(&[0.5, 1.0, 1.25, 1.75], atom, None);
        assert!((d - 0.125).abs() < 1e-12, "{d}");
        // Agrees with statrs' implementation on continuous data.
        let data: Vec<f64> = (1..200).map(|i| (i as f64 / 200.0).powf(1.3)).collect();
        let (expected, _) = statrs::stats_tests::ks_test::ks_onesample(
            data.clone(),
            &statrs::distribution::Uniform::new(0.0, 1.0).unwrap(),
            statrs::stats_tests::ks_test::KSOneSampleAlternativeMethod::TwoSidedAsymptotic,
            statrs::stats_tests::NaNPolicy::Error,
        )
        .unwrap();
        let d = ks_one_sample(&data, |x| x.clamp(0.0, 1.0), None);
        assert!((d - expected).abs() < 1e-12);
    }

    #[test]
    fn discrete_ks_is_zero_for_exact_frequencies() {
        // A fair die: each face 1/6; data holding each face once has D = 0 against the rounded
        // uniform(0.5, 6.5), which a continuous comparison would not give.
        let cdf = |x: f64| ((x - 0.5) / 6.0).clamp(0.0, 1.0);
        let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert!(ks_one_sample(&data, cdf, Some(1.0)) < 1e-12);
        assert!(ks_one_sample(&data, cdf, None) > 0.08);
        // Two faces only: F_n(2) = 1 against G(2) = 1/3.
        let d = ks_one_sample(&[1.0, 2.0], cdf, Some(1.0));
        assert!((d - 2.0 / 3.0).abs() < 1e-12, "{d}");
    }

    #[test]
    fn two_sample_ks_and_pvalue() {
        assert!((ks_two_sample(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]) - 0.5).abs() < 1e-12);
        assert_eq!(ks_two_sample(&[1.0, 2.0, 2.0], &[1.0, 2.0, 2.0]), 0.0);
        // Ties across samples: F_a(1) = 2/3 vs F_b(1) = 1/3.
        assert!((ks_two_sample(&[1.0, 1.0, 5.0], &[1.0, 3.0, 5.0]) - 1.0 / 3.0).abs() < 1e-12);
        // Critical value at 5% for large n is 1.358/√n.
        let p = kolmogorov_pvalue(1.358 / 100.0, 10_000);
        assert!((p - 0.05).abs() < 0.002, "{p}");
        assert!(kolmogorov_pvalue(0.001, 100) > 0.999);
        assert!(kolmogorov_pvalue(0.5, 100) < 1e-10);
        // The two series agree, so switching between them is seamless.
        for lambda in [0.6, 1.0, 1.18, 1.5, 2.0] {
            let a = 1.0 - kolmogorov_cdf_theta(lambda);
            let b = kolmogorov_survival_alternating(lambda);
            assert!((a - b).abs() < 1e-12, "{lambda}: {a} {b}");
        }
        // Q(1.0) = 0.26999967… (tabulated).
        assert!((kolmogorov_survival(1.0) - 0.269_999_671).abs() < 1e-8);
    }

    #[test]
    fn ranks_correlation_entropy_tvd() {
        assert_eq!(
            average_ranks(&[10.0, 20.0, 10.0, 5.0]),
            vec![2.5, 4.0, 2.5, 1.0]
        );
        let r = pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 9.0]).unwrap();
        assert!((r - 0.994_376_712_684_368_9).abs() < 1e-12, "{r}");
        assert!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_none());
        assert!((normalized_entropy(&[5, 5], 2) - 1.0).abs() < 1e-12);
        assert!((normalized_entropy(&[5, 5], 4) - 0.5).abs() < 1e-12);
        assert_eq!(normalized_entropy(&[7, 0], 2), 0.0);
        assert!((total_variation(&[3, 1], &[1, 1]) - 0.25).abs() < 1e-12);
    }
}
