//! The rate-limit check, after routing (it needs the route template) and after the key
//! check (unauthenticated requests are not counted). Every limited response carries
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (unix seconds when
//! the window ends); over the limit: `429 RATE_LIMIT_EXCEEDED` with `Retry-After`. A read
//! (GET, HEAD) runs while it is counted; a write runs only once it is admitted.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use serde_json::json;

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

/// The handler's answer: already produced (a read ran while it was counted) or still to run.
enum Handler {
    Ran(Response),
    Pending(Request, Next),
}

impl Handler {
    async fn response(self) -> Response {
        match self {
            Handler::Ran(response) => response,
            Handler::Pending(req, next) => next.run(req).await,
        }
    }
}

pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
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
    // Records outlive their window by one more, then DynamoDB's TTL removes them.
    let counting = state
        .store
        .hit_window(&key, start, limit, end + ratelimit::WINDOW_SECONDS);
    // A read changes nothing, so it runs while its window is counted: a request then waits
    // for one store round trip instead of two in a row (on DynamoDB a few ms, most of a cold
    // start's budget). A read that turns out to be over the limit is answered 429 and its
    // result dropped. Writes are counted first, so a refused write never runs.
    let (hit, handler) = if matches!(*req.method(), Method::GET | Method::HEAD) {
        let (hit, response) = tokio::join!(counting, next.run(req));
        (hit, Handler::Ran(response))
    } else {
        (counting.await, Handler::Pending(req, next))
    };
    let hit = match hit {
        Ok(hit) => hit,
        Err(e) => {
            tracing::error!(error = %e, route = %route, "rate limiter could not count");
            if ratelimit::fails_closed(&route) {
                return ApiError::ServiceUnavailable {
                    message: "the rate limiter cannot count requests right now; retry shortly"
                        .into(),
                    details: json!({"component": "rate_limiter"}),
                }
                .into_response();
            }
            return handler.response().await;
        }
    };
    let mut response = if hit.allowed {
        handler.response().await
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
