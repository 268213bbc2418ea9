//! List prices, in one place, to cost calls whose provider does not report a cost itself.
//! Perplexity (`usage.cost.total_cost`) and xAI (`usage.cost_in_usd_ticks`) report their own
//! cost, which is used instead when present.
//!
//! Prices are USD per million tokens, standard tier, as published on each provider's pricing
//! page; checked on PRICES_AS_OF. A model not listed here is reported with tokens and no cost.

pub const PRICES_AS_OF: &str = "2026-04-02";

/// (model prefix, input USD / 1M tokens, output USD / 1M tokens). Longest prefix wins.
const PRICES: [(&str, f64, f64); 12] = [
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("claude-sonnet-4", 3.00, 15.00),
    ("claude-haiku-4", 1.00, 5.00),
    ("claude-opus-4", 15.00, 75.00),
    ("sonar-pro", 3.00, 15.00),
    ("gemini-2.5-flash", 0.30, 2.50),
    ("gemini-2.5-pro", 1.25, 10.00),
    ("grok-4", 3.00, 15.00),
];

/// Cost in USD from the price table, if the model is listed.
pub fn cost_usd(model: &str, input_tokens: u64, output_tokens: u64) -> Option<f64> {
    let (_, input, output) = PRICES
        .iter()
        .filter(|(prefix, _, _)| model.starts_with(prefix))
        .max_by_key(|(prefix, _, _)| prefix.len())?;
    Some((input_tokens as f64 * input + output_tokens as f64 * output) / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_prices() {
        // 1,000 in × $0.40/M + 500 out × $1.60/M = $0.0004 + $0.0008
        let c = cost_usd("gpt-4.1-mini-2025-04-14", 1000, 500).unwrap();
        assert!((c - 0.0012).abs() < 1e-12, "{c}");
        let c = cost_usd("gpt-4.1", 1_000_000, 0).unwrap();
        assert!((c - 2.0).abs() < 1e-12);
        assert_eq!(cost_usd("llama-3", 10, 10), None);
    }
}
