//! Learning curves as a self-contained SVG: loss and val_loss on the left, accuracy and
//! val_accuracy on the right, epochs on x. No fonts, scripts or external references.
//!
//! Scales: x maps epoch e to `left + (e − 1)/(max(n, 2) − 1) · plot_width`; the loss axis spans
//! `[0, nice(max loss))` and the accuracy axis `[0, 1]`, where `nice` rounds up to 1, 2, 2.5 or 5
//! times a power of ten so the five tick labels are short.

use std::fmt::Write as _;

use super::trainer::EpochStats;

const WIDTH: f64 = 820.0;
const HEIGHT: f64 = 340.0;
const PANEL: f64 = WIDTH / 2.0;
const MARGIN_LEFT: f64 = 56.0;
const MARGIN_RIGHT: f64 = 16.0;
const MARGIN_TOP: f64 = 48.0;
const MARGIN_BOTTOM: f64 = 64.0;
const Y_TICKS: usize = 5;
const TRAIN_COLOR: &str = "#1f77b4";
const VAL_COLOR: &str = "#ff7f0e";

/// The chart for `history` (an SVG saying "no epochs yet" when it is empty).
pub fn history_svg(title: &str, history: &[EpochStats]) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(
        svg,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/><text x="{}" y="20" text-anchor="middle" font-size="14">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    if history.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#666">no epochs yet</text></svg>"##,
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        return svg;
    }
    let max_loss = history
        .iter()
        .flat_map(|s| [s.loss, s.val_loss])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    panel(
        &mut svg,
        0.0,
        "loss",
        nice(max_loss),
        history,
        &[
            ("loss", |s: &EpochStats| s.loss),
            ("val_loss", |s| s.val_loss),
        ],
    );
    // Regression draws the validation R² (below 0 drawn at 0) where classification draws
    // accuracy.
    if history.iter().any(|s| s.val_r2.is_some()) {
        panel(
            &mut svg,
            PANEL,
            "R²",
            1.0,
            history,
            &[("val_r2", |s: &EpochStats| s.val_r2.unwrap_or(f64::NAN))],
        );
    } else {
        panel(
            &mut svg,
            PANEL,
            "accuracy",
            1.0,
            history,
            &[
                ("accuracy", |s: &EpochStats| s.accuracy.unwrap_or(f64::NAN)),
                ("val_accuracy", |s| s.val_accuracy.unwrap_or(f64::NAN)),
            ],
        );
    }
    svg.push_str("</svg>");
    svg
}

type Series = (&'static str, fn(&EpochStats) -> f64);

fn panel(
    svg: &mut String,
    x0: f64,
    label: &str,
    y_max: f64,
    history: &[EpochStats],
    series: &[Series],
) {
    let left = x0 + MARGIN_LEFT;
    let right = x0 + PANEL - MARGIN_RIGHT;
    let top = MARGIN_TOP;
    let bottom = HEIGHT - MARGIN_BOTTOM;
    let last_epoch = history.iter().map(|s| s.epoch).max().unwrap_or(1).max(2) as f64;
    let x_of = |epoch: f64| left + (epoch - 1.0) / (last_epoch - 1.0) * (right - left);
    let y_of = |v: f64| bottom - (v / y_max).clamp(0.0, 1.0) * (bottom - top);
    let _ = write!(
        svg,
        r#"<g><text x="{}" y="{}" text-anchor="middle" font-size="12">{label}</text>"#,
        (left + right) / 2.0,
        top - 12.0
    );
    // Axes.
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/><line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#333"/>"##
    );
    for i in 0..=Y_TICKS {
        let v = y_max * i as f64 / Y_TICKS as f64;
        let y = y_of(v);
        let _ = write!(
            svg,
            r##"<line x1="{}" y1="{y:.1}" x2="{right}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            left,
            left - 6.0,
            y + 4.0,
            tick_label(v)
        );
    }
    // Epoch ticks: at most ~8, at a whole step.
    let step = (last_epoch / 8.0).ceil().max(1.0);
    let mut e = 1.0;
    while e <= last_epoch {
        let x = x_of(e);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{bottom}" x2="{x:.1}" y2="{}" stroke="#333"/><text x="{x:.1}" y="{}" text-anchor="middle">{e}</text>"##,
            bottom + 4.0,
            bottom + 16.0
        );
        e += step;
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">epoch</text>"#,
        (left + right) / 2.0,
        bottom + 32.0
    );
    for (k, (name, value)) in series.iter().enumerate() {
        let color = if name.starts_with("val") {
            VAL_COLOR
        } else {
            TRAIN_COLOR
        };
        let points: Vec<String> = history
            .iter()
            .filter(|s| value(s).is_finite())
            .map(|s| format!("{:.1},{:.1}", x_of(s.epoch as f64), y_of(value(s))))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        // Legend under the axis label.
        let lx = left + k as f64 * 120.0;
        let ly = HEIGHT - 12.0;
        let _ = write!(
            svg,
            r#"<line x1="{lx}" y1="{}" x2="{}" y2="{}" stroke="{color}" stroke-width="2"/><text x="{}" y="{ly}">{name}</text>"#,
            ly - 4.0,
            lx + 18.0,
            ly - 4.0,
            lx + 22.0
        );
    }
    svg.push_str("</g>");
}

/// The smallest of {1, 2, 2.5, 5} × 10^k that is ≥ v (1 for v ≤ 0).
fn nice(v: f64) -> f64 {
    if v.is_nan() || v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|&n| n >= v)
        .unwrap_or(10.0 * p)
}

fn tick_label(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tags balance: every open tag is closed in order; self-closing tags stand alone.
    fn balanced(svg: &str) -> bool {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let end = match rest[start..].find('>') {
                Some(e) => start + e,
                None => return false,
            };
            let tag = &rest[start + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop() != Some(name.trim()) {
                    return false;
                }
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap_or(""));
            }
            rest = &rest[end + 1..];
        }
        stack.is_empty()
    }

    fn stats(epoch: u32, loss: f64, acc: f64) -> EpochStats {
        EpochStats {
            epoch,
            loss,
            val_loss: loss * 1.1,
            accuracy: Some(acc),
            val_accuracy: Some(acc - 0.05),
            seconds: 0.1,
            ..EpochStats::default()
        }
    }

    #[test]
    fn chart_has_two_panels_four_series_and_an_escaped_title() {
        let history: Vec<EpochStats> = (1..=12)
            .map(|e| stats(e, 1.0 / e as f64, 0.5 + e as f64 / 30.0))
            .collect();
        let svg = history_svg("churn <model> & \"v2\"", &history);
        assert!(balanced(&svg), "{svg}");
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<polyline").count(), 4);
        for name in [
            ">loss<",
            ">val_loss<",
            ">accuracy<",
            ">val_accuracy<",
            ">epoch<",
        ] {
            assert!(svg.contains(name), "{name}");
        }
        assert!(svg.contains("churn &lt;model&gt; &amp; &quot;v2&quot;"));
        assert!(!svg.contains("<model>"));
        // Loss axis tops out at nice(1.1) = 2 → tick labels 0 … 2.
        assert!(svg.contains(">2<") && svg.contains(">0.4<"));
        // Each polyline has one point per epoch.
        let first = svg.split("points=\"").nth(1).unwrap();
        let points = first.split('"').next().unwrap();
        assert_eq!(points.split(' ').count(), 12);
    }

    #[test]
    fn empty_history_says_so() {
        let svg = history_svg("t", &[]);
        assert!(balanced(&svg));
        assert!(svg.contains("no epochs yet"));
        assert_eq!(svg.matches("<polyline").count(), 0);
        let one = history_svg("t", &[stats(1, f64::NAN, 0.5)]);
        assert!(balanced(&one));
        assert_eq!(one.matches("<polyline").count(), 4);
    }

    #[test]
    fn nice_rounds_up_to_short_numbers() {
        assert_eq!(nice(0.73), 1.0);
        assert_eq!(nice(1.1), 2.0);
        assert_eq!(nice(2.2), 2.5);
        assert_eq!(nice(37.0), 50.0);
        assert_eq!(nice(0.0), 1.0);
        assert!(!balanced("<g><text></g>"));
    }
}
