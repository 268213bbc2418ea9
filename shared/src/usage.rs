//! Provider usage: the `usage` block every AI response carries (per provider actually
//! called), and the per-day totals the store keeps for `GET /v1/ai/usage`.

use chrono::{Duration, Utc};

use crate::orchestrator::Usage;
use crate::store::{MetaStore, UsageDelta, UsageRow};
use crate::wire::UsageBlock;

pub fn day_of(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// The last `n` UTC days, oldest first, ending today.
pub fn last_days(n: u32) -> Vec<String> {
    let today = Utc::now();
    (0..n)
        .rev()
        .map(|back| day_of(today - Duration::days(i64::from(back))))
        .collect()
}

/// Adds a response's usage to today's totals. A failure is logged, not returned: losing a
/// usage count must not fail the answer the client already has.
pub async fn record(store: &dyn MetaStore, usage: &[Usage]) {
    let today = day_of(Utc::now());
    for u in usage.iter().filter(|u| u.calls > 0) {
        crate::http::timing::provider_usage(
            &u.provider,
            u64::from(u.calls),
            u.total_tokens,
            u.cost_usd.unwrap_or(0.0),
        );
        let delta = UsageDelta {
            provider: u.provider.clone(),
            calls: u64::from(u.calls),
            failed_calls: u64::from(u.failed_calls),
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            total_tokens: u.total_tokens,
            cost_usd: u.cost_usd.unwrap_or(0.0),
        };
        if let Err(e) = store.add_usage(&today, &delta).await {
            tracing::error!(error = %e, provider = %u.provider, "usage not recorded");
        }
    }
}

/// A sum of costs that is `0.0` for no terms: `Iterator::sum` of no floats is `-0.0`, which
/// JSON shows as `-0.0`.
pub fn sum_cost(costs: impl IntoIterator<Item = f64>) -> f64 {
    costs.into_iter().fold(0.0, |total, c| total + c)
}

/// The response's `usage` block: one entry per provider called, and the summed known cost.
pub fn block(usage: &[Usage]) -> UsageBlock {
    UsageBlock {
        providers: usage.to_vec(),
        total_cost_usd: sum_cost(usage.iter().filter_map(|u| u.cost_usd)),
        price_table_as_of: crate::providers::pricing::PRICES_AS_OF.to_string(),
    }
}

/// Sums rows per provider across days.
pub fn totals(rows: &[UsageRow]) -> Vec<UsageRow> {
    let mut out: Vec<UsageRow> = Vec::new();
    for r in rows {
        let t = match out.iter_mut().find(|t| t.provider == r.provider) {
            Some(t) => t,
            None => {
                out.push(UsageRow {
                    day: String::new(),
                    provider: r.provider.clone(),
                    ..UsageRow::default()
                });
                out.last_mut().expect("just pushed")
            }
        };
        t.calls += r.calls;
        t.failed_calls += r.failed_calls;
        t.input_tokens += r.input_tokens;
        t.output_tokens += r.output_tokens;
        t.total_tokens += r.total_tokens;
        t.cost_usd += r.cost_usd;
    }
    out.sort_by(|a, b| a.provider.cmp(&b.provider));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_end_today_oldest_first() {
        let d = last_days(3);
        assert_eq!(d.len(), 3);
        assert_eq!(d[2], day_of(Utc::now()));
        assert!(d[0] < d[1] && d[1] < d[2]);
    }

    #[test]
    fn totals_sum_per_provider() {
        let row = |day: &str, p: &str, calls| UsageRow {
            day: day.into(),
            provider: p.into(),
            calls,
            cost_usd: 0.5,
            ..UsageRow::default()
        };
        let t = totals(&[
            row("a", "openai", 2),
            row("b", "openai", 3),
            row("a", "gemini", 1),
        ]);
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].provider, "openai");
        assert_eq!(t[1].calls, 5);
        assert!((t[1].cost_usd - 1.0).abs() < 1e-12);
    }
}
