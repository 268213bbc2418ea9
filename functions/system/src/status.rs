//! `GET /v1/ai/status`: which providers are configured, from the environment, the model each
//! uses, and whether it is being skipped for a cooldown (by any instance: provider health
//! is kept in the store). Never the key.

use axum::extract::State;
use axum::Json;
use shared::providers::{Provider, ALL};
use shared::wire::{AiStatus, ConfiguredState, OverallHealth, ProviderStatus, ServiceStatus};
use shared::AppState;

pub async fn ai_status(State(state): State<AppState>) -> Json<AiStatus> {
    let cooling = state.ai.cooling_down().await;
    let status_of = |provider: Provider| {
        let cfg = state.config.provider(provider);
        let left = cooling
            .iter()
            .find(|(p, _)| *p == provider)
            .map(|(_, d)| d.as_secs());
        ProviderStatus {
            status: if cfg.configured() {
                ConfiguredState::Configured
            } else {
                ConfiguredState::NotConfigured
            },
            capabilities: provider
                .capabilities()
                .iter()
                .map(|c| c.to_string())
                .collect(),
            model: cfg.model.clone(),
            key_variable: cfg.key_var.to_string(),
            cooling_down: left.is_some(),
            cooldown_seconds_left: left,
        }
    };
    let configured = state.config.configured_providers().count();
    Json(AiStatus {
        service_status: ServiceStatus {
            openai: status_of(Provider::Openai),
            anthropic: status_of(Provider::Anthropic),
            perplexity: status_of(Provider::Perplexity),
            gemini: status_of(Provider::Gemini),
            grok: status_of(Provider::Grok),
        },
        overall_health: match configured {
            0 => OverallHealth::NotConfigured,
            n if n == ALL.len() => OverallHealth::FullyConfigured,
            _ => OverallHealth::PartialConfiguration,
        },
        configured_services: configured as u32,
        total_services: ALL.len() as u32,
    })
}
