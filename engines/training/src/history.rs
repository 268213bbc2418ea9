//! Downsampling a learning curve for display: which epochs to send when a history is longer
//! than a client wants to draw.
//!
//! * [`lttb`]: Largest-Triangle-Three-Buckets (Steinarsson, "Downsampling Time Series for
//!   Visual Representation", 2013): the first and last points, and from each of the
//!   `max − 2` equal buckets between them the point forming the largest triangle with the
//!   point kept before it and the mean of the next bucket. It keeps a curve's peaks and
//!   turns, which an even stride can step over.
//! * [`even`]: `max` indices evenly spaced from the first to the last, `round(k·(n−1)/(max−1))`,
//!   for aligning several curves on one epoch axis.

/// Indices of the points LTTB keeps from `(x, y)`, in order; all of them when `max ≥ n`.
/// `max` below 3 keeps the first and last.
pub fn lttb(points: &[(f64, f64)], max: usize) -> Vec<usize> {
    let n = points.len();
    if max >= n {
        return (0..n).collect();
    }
    if max < 3 {
        return if n == 1 { vec![0] } else { vec![0, n - 1] };
    }
    let every = (n - 2) as f64 / (max - 2) as f64;
    let mut kept = Vec::with_capacity(max);
    kept.push(0);
    let mut a = 0usize;
    for i in 0..max - 2 {
        // The next bucket's mean.
        let next_start = ((i + 1) as f64 * every) as usize + 1;
        let next_end = (((i + 2) as f64 * every) as usize + 1).min(n);
        let span = &points[next_start..next_end.max(next_start + 1).min(n)];
        let (mx, my) = span
            .iter()
            .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
        let (mx, my) = (mx / span.len() as f64, my / span.len() as f64);
        // This bucket's point with the largest triangle.
        let start = (i as f64 * every) as usize + 1;
        let end = (((i + 1) as f64 * every) as usize + 1).min(n - 1);
        let (ax, ay) = points[a];
        let mut best = (start, -1.0);
        for (j, &(x, y)) in points.iter().enumerate().take(end).skip(start) {
            let area = ((ax - mx) * (y - ay) - (ax - x) * (my - ay)).abs();
            if area > best.1 {
                best = (j, area);
            }
        }
        kept.push(best.0);
        a = best.0;
    }
    kept.push(n - 1);
    kept
}

/// `max` evenly spaced indices of `n` (all when `max ≥ n`), the first and last included.
pub fn even(n: usize, max: usize) -> Vec<usize> {
    if max >= n {
        return (0..n).collect();
    }
    if max < 2 {
        return vec![0];
    }
    let mut out: Vec<usize> = (0..max)
        .map(|k| ((k as f64) * (n - 1) as f64 / (max - 1) as f64).round() as usize)
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_histories_are_kept_whole() {
        let p: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, i as f64)).collect();
        assert_eq!(lttb(&p, 5), vec![0, 1, 2, 3, 4]);
        assert_eq!(lttb(&p, 50), vec![0, 1, 2, 3, 4]);
        assert_eq!(even(5, 9), vec![0, 1, 2, 3, 4]);
        assert_eq!(lttb(&p, 2), vec![0, 4]);
    }

    #[test]
    fn lttb_keeps_a_spike_an_even_stride_misses() {
        // A flat curve of 1,000 epochs with one spike at epoch 501.
        let p: Vec<(f64, f64)> = (0..1000)
            .map(|i| (i as f64, if i == 501 { 10.0 } else { 1.0 }))
            .collect();
        let kept = lttb(&p, 20);
        assert_eq!(kept.len(), 20);
        assert_eq!((kept[0], kept[19]), (0, 999));
        assert!(kept.contains(&501), "{kept:?}");
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        assert!(!even(1000, 20).contains(&501));
    }

    #[test]
    fn even_spacing_includes_both_ends() {
        assert_eq!(even(11, 3), vec![0, 5, 10]);
        assert_eq!(even(1000, 2), vec![0, 999]);
        assert_eq!(even(10, 4), vec![0, 3, 6, 9]);
    }
}
