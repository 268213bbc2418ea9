//! `GET /health`: real checks. The database is `operational` only if the store answered a
//! cheap read within the probe timeout just now; otherwise the answer is HTTP 503.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use shared::{clock, AppState, VERSION};

/// How long the store may take to answer the probe before it counts as down.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health(State(state): State<AppState>) -> Response {
    let started = Instant::now();
    let probe = tokio::time::timeout(PROBE_TIMEOUT, state.store.ping()).await;
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    let (database, database_error) = match probe {
        Ok(Ok(())) => ("operational", None),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health: store read failed");
            ("unavailable", Some("the store did not answer a read"))
        }
        Err(_) => {
            tracing::error!("health: store read timed out");
            ("unavailable", Some("the store did not answer within 2 s"))
        }
    };
    let problems = &state.config.problems;
    let orchestrator = if problems.is_empty() {
        "operational"
    } else {
        "degraded"
    };
    let (status, code) = if database != "operational" {
        ("unhealthy", StatusCode::SERVICE_UNAVAILABLE)
    } else if orchestrator != "operational" {
        ("degraded", StatusCode::OK)
    } else {
        ("healthy", StatusCode::OK)
    };
    let configured = state.config.configured_providers().count();
    let mut failing = Vec::new();
    if database != "operational" {
        failing.push("database");
    }
    if orchestrator != "operational" {
        failing.push("ai_orchestrator");
    }
    let body = json!({
        "status": status,
        "timestamp": clock::now_rfc3339(),
        "version": VERSION,
        "services": {
            "ai_orchestrator": orchestrator,
            "database": database,
        },
        "failing_services": failing,
        "checks": {
            "database": {
                "backend": state.store.backend(),
                "latency_ms": latency_ms,
                "error": database_error,
            },
            "ai_orchestrator": {
                "providers_configured": configured,
                // With no provider the builtin engines still answer every endpoint.
                "mode": if configured == 0 { "builtin_only" } else { "providers_with_builtin_fallback" },
                "configuration_problems": problems,
            },
        },
    });
    (code, Json(body)).into_response()
}
