//! The response cache of the AI endpoints (`POST /v1/ai/synthetic-data`, `/v1/ai/analyze`,
//! `/v1/ai/enhance`): a successful (2xx) answer is stored for `MLAAS_CACHE_TTL_SECONDS`
//! (default 300; 0 turns the cache off) and an identical request within that time gets it
//! back without calling any provider.
//!
//! - Key: sha256 of the path, the query, the JSON body re-serialized with sorted keys (so
//!   key order and whitespace do not matter), and the providers that would serve it (each
//!   configured provider with its model): adding or changing a provider starts afresh.
//! - `Cache-Control: no-cache` skips the read, runs the request and refreshes the entry.
//! - `X-Cache: HIT | MISS | BYPASS` says which happened; a hit's body gains a top-level
//!   `"cached": {"hit": true, "stored_at", "age_seconds"}` and the response an `Age` header.
//! - Bodies over [`MAX_CACHED_BODY_BYTES`] are not cached; a store that fails is skipped
//!   (the request runs as if uncached).
//! - A synthetic-data request without a `seed` draws one, so two runs legitimately differ;
//!   a hit returns the first run's dataset (its `seed` and `dataset_id` included), which is
//!   what a repeated identical request gets within the TTL. Send a `seed` or
//!   `Cache-Control: no-cache` to control it.

use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::idempotency::{buffer, rebuild, sha256_hex, stored};
use super::json::{parse_strict, DEFAULT_LIMIT_BYTES};
use crate::state::AppState;
use crate::store::CachedResponse;

/// The routes whose answers are cached.
pub const CACHED_ROUTES: [&str; 3] = ["/v1/ai/synthetic-data", "/v1/ai/analyze", "/v1/ai/enhance"];
pub const HEADER: &str = "x-cache";
/// Larger answers are not cached (DynamoDB items stop at 400 KB).
pub const MAX_CACHED_BODY_BYTES: usize = 350 * 1024;

/// JSON with object keys sorted at every level.
pub fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&map[k]));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

fn wants_fresh(req: &Request) -> bool {
    req.headers()
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("no-cache"))
}

fn mark(mut response: Response, how: &'static str) -> Response {
    response
        .headers_mut()
        .insert(HEADER, HeaderValue::from_static(how));
    response
}

/// The middleware (a route layer, inside the idempotency layer).
pub async fn cache(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ttl = state.config.cache_ttl.as_secs() as i64;
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str());
    if ttl == 0
        || req.method() != Method::POST
        || !route.is_some_and(|r| CACHED_ROUTES.contains(&r))
    {
        return next.run(req).await;
    }
    let fresh = wants_fresh(&req);
    let (parts, body) = req.into_parts();
    let bytes = match buffer(&parts.headers, body, DEFAULT_LIMIT_BYTES).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    // Not a JSON object: the handler says what is wrong; nothing to cache.
    let Some(request) = parse_strict(&bytes).ok().filter(Value::is_object) else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    let mut providers: Vec<String> = state
        .ai
        .configured()
        .into_iter()
        .map(|p| format!("{}:{}", p.name(), state.config.provider(p).model))
        .collect();
    providers.sort();
    let key = sha256_hex(&[
        parts.uri.path().as_bytes(),
        parts.uri.query().unwrap_or("").as_bytes(),
        canonical(&request).as_bytes(),
        providers.join(",").as_bytes(),
    ]);
    let now = chrono::Utc::now().timestamp();
    if !fresh {
        match state.store.cache_get(&key, now).await {
            Ok(Some(hit)) => return hit_response(hit, now),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "response cache could not be read"),
        }
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let how = if fresh { "BYPASS" } else { "MISS" };
    if !response.status().is_success() {
        return mark(response, how);
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "response body could not be read");
            return crate::error::ApiError::internal(std::io::Error::other(e.to_string()))
                .into_response();
        }
    };
    let is_object = serde_json::from_slice::<Value>(&bytes).is_ok_and(|v| v.is_object());
    if is_object && bytes.len() <= MAX_CACHED_BODY_BYTES {
        let entry = CachedResponse {
            response: stored(parts.status, &parts.headers, &bytes),
            stored_at: now,
        };
        if let Err(e) = state.store.cache_put(&key, &entry, now + ttl).await {
            tracing::warn!(error = %e, "response could not be cached");
        }
    }
    mark(Response::from_parts(parts, Body::from(bytes)), how)
}

fn hit_response(hit: CachedResponse, now: i64) -> Response {
    let age = (now - hit.stored_at).max(0);
    let mut stored = hit.response;
    if let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(&stored.body) {
        let stored_at = chrono::DateTime::from_timestamp(hit.stored_at, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        body.insert(
            "cached".into(),
            json!({"hit": true, "stored_at": stored_at, "age_seconds": age}),
        );
        stored.body = Value::Object(body).to_string().into_bytes();
    }
    stored
        .headers
        .retain(|(n, _)| n != HEADER && n != "age" && n != "content-length");
    let mut response = mark(rebuild(stored), "HIT");
    if let Ok(v) = HeaderValue::from_str(&age.to_string()) {
        response.headers_mut().insert(header::AGE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::canonical;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = json!({"b": 1, "a": {"y": [{"d": 1, "c": 2}], "x": null}});
        let b = json!({"a": {"x": null, "y": [{"c": 2, "d": 1}]}, "b": 1});
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(
            canonical(&a),
            r#"{"a":{"x":null,"y":[{"c":2,"d":1}]},"b":1}"#
        );
        assert_ne!(
            canonical(&json!({"a": [1, 2]})),
            canonical(&json!({"a": [2, 1]}))
        );
    }
}
