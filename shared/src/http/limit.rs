//! The rate-limit check, after routing (it needs the route template) and after the key
//! check (unauthenticated requests are not counted). Every limited response carries
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (unix seconds when
//! the window ends); over the limit: `429 RATE_LIMIT_EXCEEDED` with `Retry-After`. A request
//! runs while it is counted; a write's handler waits at [`admitted`] until it is let in.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use serde_json::json;
use tokio::sync::watch;

use super::auth::presented_key;
use crate::auth::ClientKeys;
use crate::error::ApiError;
use crate::ratelimit;
use crate::state::AppState;

/// Who is asking: the API key when authentication is on, else the source IP.
pub fn client_of(req: &Request, keys: &ClientKeys) -> String {
    if keys.enabled() {
        if let Some(key) = presented_key(req) {
            return ClientKeys::client_id(key);
        }
    }
    let from_gateway = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        _ => None,
    };
    from_gateway
        .or_else(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_string())
        })
        .filter(|ip| !ip.is_empty())
        .map_or_else(|| "ip_unknown".to_string(), |ip| format!("ip_{ip}"))
}

fn set(response: &mut Response, name: &'static str, value: i64) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        response.headers_mut().insert(name, v);
    }
}

/// A write's admission, decided by [`rate_limit`] while the layers inside it run: `None`
/// until the window is counted.
#[derive(Clone)]
pub struct Admission(watch::Receiver<Option<bool>>);

/// The innermost layer: a write waits here until it is admitted, so the layers outside it
/// (the idempotency claim, the cache read) overlap the count while the handler never runs for
/// a refused request. A refused request gets a bare 429 here, which the idempotency layer
/// does not store and [`rate_limit`] replaces with the full answer.
pub async fn admitted(req: Request, next: Next) -> Response {
    if let Some(Admission(mut verdict)) = req.extensions().get::<Admission>().cloned() {
        let admitted = verdict
            .wait_for(Option::is_some)
            .await
            .is_ok_and(|v| *v == Some(true));
        if !admitted {
            return StatusCode::TOO_MANY_REQUESTS.into_response();
        }
    }
    next.run(req).await
}

pub async fn rate_limit(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(route) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
    else {
        return next.run(req).await;
    };
    let method = req.method().as_str().to_string();
    let Some(limit) = state.config.rate_limits.limit_for(&method, &route) else {
        return next.run(req).await;
    };
    let client = client_of(&req, &state.config.client_keys);
    let now = chrono::Utc::now().timestamp();
    let (start, end) = ratelimit::window(now);
    let key = format!("{method} {route}#{client}");
    let fails_closed = ratelimit::fails_closed(&route);
    // The request runs while its window is counted, so it waits for its store calls side by
    // side instead of one after another (on DynamoDB a round trip each: most of a cold
    // start's budget). A read changes nothing and runs through; a write stops at
    // [`admitted`] until the count is in. Either way an answer over the limit is dropped.
    let (verdict, admission) = watch::channel(None);
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        req.extensions_mut().insert(Admission(admission));
    }
    let counting = async {
        // Records outlive their window by one more, then DynamoDB's TTL removes them.
        let hit = state
            .store
            .hit_window(&key, start, limit, end + ratelimit::WINDOW_SECONDS)
            .await;
        let admit = match &hit {
            Ok(hit) => hit.allowed,
            Err(_) => !fails_closed,
        };
        // Nobody is waiting when the request finished without reaching the handler.
        let _ = verdict.send(Some(admit));
        hit
    };
    let (hit, response) = tokio::join!(counting, next.run(req));
    let hit = match hit {
        Ok(hit) => hit,
        Err(e) => {
            tracing::error!(error = %e, route = %route, "rate limiter could not count");
            if fails_closed {
                return ApiError::ServiceUnavailable {
                    message: "the rate limiter cannot count requests right now; retry shortly"
                        .into(),
                    details: json!({"component": "rate_limiter"}),
                }
                .into_response();
            }
            return response;
        }
    };
    let mut response = if hit.allowed {
        response
    } else {
        ApiError::RateLimited {
            limit,
            retry_after_secs: (end - now).max(1) as u64,
        }
        .into_response()
    };
    let remaining = if hit.allowed {
        limit.saturating_sub(hit.count)
    } else {
        0
    };
    set(&mut response, "x-ratelimit-limit", i64::from(limit));
    set(&mut response, "x-ratelimit-remaining", i64::from(remaining));
    set(&mut response, "x-ratelimit-reset", end);
    response
}
