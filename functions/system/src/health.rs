//! `GET /health`: real checks. The database is `operational` only if the store answered a
//! cheap read within the probe timeout just now; otherwise the answer is HTTP 503.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use shared::wire::{
    DatabaseCheck, Health, HealthChecks, HealthServices, HealthStatus, OrchestratorCheck,
    OrchestratorMode, ServiceName, ServiceState,
};
use shared::{clock, AppState, VERSION};

/// How long the store may take to answer the probe before it counts as down.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health(State(state): State<AppState>) -> Response {
    let started = Instant::now();
    let probe = tokio::time::timeout(PROBE_TIMEOUT, state.store.ping()).await;
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    let (database, database_error) = match probe {
        Ok(Ok(())) => (ServiceState::Operational, None),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health: store read failed");
            (
                ServiceState::Unavailable,
                Some("the store did not answer a read"),
            )
        }
        Err(_) => {
            tracing::error!("health: store read timed out");
            (
                ServiceState::Unavailable,
                Some("the store did not answer within 2 s"),
            )
        }
    };
    let problems = &state.config.problems;
    let orchestrator = if problems.is_empty() {
        ServiceState::Operational
    } else {
        ServiceState::Degraded
    };
    let mut failing = Vec::new();
    if database != ServiceState::Operational {
        failing.push(ServiceName::Database);
    }
    if orchestrator != ServiceState::Operational {
        failing.push(ServiceName::AiOrchestrator);
    }
    let (status, code) = if database != ServiceState::Operational {
        (HealthStatus::Unhealthy, StatusCode::SERVICE_UNAVAILABLE)
    } else if orchestrator != ServiceState::Operational {
        (HealthStatus::Degraded, StatusCode::OK)
    } else {
        (HealthStatus::Healthy, StatusCode::OK)
    };
    let configured = state.config.configured_providers().count() as u32;
    let body = Health {
        status,
        timestamp: clock::now_rfc3339(),
        version: VERSION.to_string(),
        services: HealthServices {
            ai_orchestrator: orchestrator,
            database,
        },
        failing_services: failing,
        checks: HealthChecks {
            database: DatabaseCheck {
                backend: state.store.backend().to_string(),
                latency_ms,
                error: database_error.map(str::to_string),
            },
            ai_orchestrator: OrchestratorCheck {
                providers_configured: configured,
                // With no provider the builtin engines still answer every endpoint.
                mode: if configured == 0 {
                    OrchestratorMode::BuiltinOnly
                } else {
                    OrchestratorMode::ProvidersWithBuiltinFallback
                },
                configuration_problems: problems.clone(),
            },
        },
    };
    (code, Json(body)).into_response()
}
