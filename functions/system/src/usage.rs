//! `GET /v1/ai/usage?days=N`: provider calls, tokens and cost per UTC day, from the store.

use axum::extract::State;
use axum::Json;
use serde_json::json;
use shared::http::QueryPairs;
use shared::providers::pricing::PRICES_AS_OF;
use shared::wire::{Usage, UsageDay};
use shared::{usage, ApiError, ApiResult, AppState};

pub const DEFAULT_DAYS: u32 = 7;
pub const MAX_DAYS: u32 = 31;

pub async fn usage(
    State(state): State<AppState>,
    QueryPairs(params): QueryPairs,
) -> ApiResult<Json<Usage>> {
    let mut days = DEFAULT_DAYS;
    for (key, value) in params {
        match key.as_str() {
            "days" => {
                days = value
                    .parse::<u32>()
                    .ok()
                    .filter(|d| (1..=MAX_DAYS).contains(d))
                    .ok_or_else(|| {
                        ApiError::validation(
                            "days",
                            json!(value),
                            format!("integer from 1 to {MAX_DAYS}"),
                            "days is out of range",
                        )
                    })?
            }
            other => return Err(shared::paging::unknown(other, &value, "days")),
        }
    }
    let range = usage::last_days(days);
    let rows = state.store.usage(&range).await?;
    let per_day = range
        .iter()
        .map(|day| UsageDay {
            date: day.clone(),
            providers: rows.iter().filter(|r| &r.day == day).cloned().collect(),
        })
        .collect();
    let totals = usage::totals(&rows);
    Ok(Json(Usage {
        from: range.first().cloned().unwrap_or_default(),
        to: range.last().cloned().unwrap_or_default(),
        days: per_day,
        total_cost_usd: usage::sum_cost(totals.iter().map(|t| t.cost_usd)),
        totals,
        price_table_as_of: PRICES_AS_OF.to_string(),
        cost_note:
            "cost_usd counts calls whose cost the provider reported or the price table gives"
                .to_string(),
    }))
}
