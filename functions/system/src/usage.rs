//! `GET /v1/ai/usage?days=N`: provider calls, tokens and cost per UTC day, from the store.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use shared::http::QueryPairs;
use shared::providers::pricing::PRICES_AS_OF;
use shared::{usage, ApiError, ApiResult, AppState};

pub const DEFAULT_DAYS: u32 = 7;
pub const MAX_DAYS: u32 = 31;

pub async fn usage(
    State(state): State<AppState>,
    QueryPairs(params): QueryPairs,
) -> ApiResult<Json<Value>> {
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
    let per_day: Vec<Value> = range
        .iter()
        .map(|day| {
            let providers: Vec<_> = rows.iter().filter(|r| &r.day == day).collect();
            json!({"date": day, "providers": providers})
        })
        .collect();
    let totals = usage::totals(&rows);
    let total_cost = usage::sum_cost(totals.iter().map(|t| t.cost_usd));
    Ok(Json(json!({
        "from": range.first(),
        "to": range.last(),
        "days": per_day,
        "totals": totals,
        "total_cost_usd": total_cost,
        "price_table_as_of": PRICES_AS_OF,
        "cost_note": "cost_usd counts calls whose cost the provider reported or the price table gives",
    })))
}
