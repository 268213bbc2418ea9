//! `/health`, `/v1/ai/status`, `/v1/ai/usage`.

use schemars::JsonSchema;
use serde::Serialize;

use crate::store::UsageRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

/// One service's state in `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    Operational,
    /// Running with a configuration problem (the orchestrator).
    Degraded,
    /// Not answering (the store).
    Unavailable,
}

/// A service `/health` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceName {
    Database,
    AiOrchestrator,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HealthServices {
    /// `operational` or `degraded`.
    pub ai_orchestrator: ServiceState,
    /// `operational` or `unavailable`.
    pub database: ServiceState,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DatabaseCheck {
    /// `sqlite` or `dynamodb`.
    pub backend: String,
    pub latency_ms: f64,
    pub error: Option<String>,
}

/// How AI answers are made: by the builtin engines alone, or by providers with the builtin
/// engines behind them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrchestratorMode {
    BuiltinOnly,
    ProvidersWithBuiltinFallback,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OrchestratorCheck {
    pub providers_configured: u32,
    pub mode: OrchestratorMode,
    pub configuration_problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HealthChecks {
    pub database: DatabaseCheck,
    pub ai_orchestrator: OrchestratorCheck,
}

/// `GET /health`: 200 when healthy or degraded, 503 when unhealthy.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Health {
    pub status: HealthStatus,
    pub timestamp: String,
    pub version: String,
    pub services: HealthServices,
    pub failing_services: Vec<ServiceName>,
    pub checks: HealthChecks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConfiguredState {
    Configured,
    NotConfigured,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProviderStatus {
    pub status: ConfiguredState,
    pub capabilities: Vec<String>,
    pub model: String,
    /// The environment variable holding the key (its name, never the value).
    pub key_variable: String,
    /// Skipped for a cooldown now, by any instance (provider health is kept in the store).
    pub cooling_down: bool,
    pub cooldown_seconds_left: Option<u64>,
}

/// One entry per provider, in the spec's order.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceStatus {
    pub openai: ProviderStatus,
    pub anthropic: ProviderStatus,
    pub perplexity: ProviderStatus,
    pub gemini: ProviderStatus,
    pub grok: ProviderStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverallHealth {
    FullyConfigured,
    PartialConfiguration,
    NotConfigured,
}

/// `GET /v1/ai/status`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AiStatus {
    pub service_status: ServiceStatus,
    pub overall_health: OverallHealth,
    pub configured_services: u32,
    pub total_services: u32,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UsageDay {
    pub date: String,
    pub providers: Vec<UsageRow>,
}

/// `GET /v1/ai/usage`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Usage {
    pub from: String,
    pub to: String,
    pub days: Vec<UsageDay>,
    pub totals: Vec<UsageRow>,
    pub total_cost_usd: f64,
    pub price_table_as_of: String,
    pub cost_note: String,
}
