//! `GET /v1/ai/status`: which providers are configured, from the environment, the model each
//! uses, and whether it is being skipped for a cooldown (by any instance: provider health
//! is kept in the store). Never the key.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};
use shared::providers::ALL;
use shared::AppState;

pub async fn ai_status(State(state): State<AppState>) -> Json<Value> {
    let cooling = state.ai.cooling_down().await;
    let mut services = Map::new();
    for provider in ALL {
        let cfg = state.config.provider(provider);
        let left = cooling
            .iter()
            .find(|(p, _)| *p == provider)
            .map(|(_, d)| d.as_secs());
        services.insert(
            provider.name().to_string(),
            json!({
                "status": if cfg.configured() { "configured" } else { "not_configured" },
                "capabilities": provider.capabilities(),
                "model": cfg.model,
                "key_variable": cfg.key_var,
                "cooling_down": left.is_some(),
                "cooldown_seconds_left": left,
            }),
        );
    }
    let configured = state.config.configured_providers().count();
    let overall = match configured {
        0 => "not_configured",
        n if n == ALL.len() => "fully_configured",
        _ => "partial_configuration",
    };
    Json(json!({
        "service_status": services,
        "overall_health": overall,
        "configured_services": configured,
        "total_services": ALL.len(),
    }))
}
