//! `Idempotency-Key` on POST requests: the same key and request within 24 hours answers with
//! the stored response (plus `Idempotent-Replayed: true`) and does no work twice.
//!
//! - The key is scoped per client (the API key's identity when authentication is on, else
//!   the source IP, as the rate limiter counts) and per route (method and route template).
//! - The request's fingerprint is sha256 of method, path, query and body; the same key with
//!   another fingerprint is `409 CONFLICT` (`reason: key_reused`).
//! - While the first request runs, the same key is `409 CONFLICT` (`reason: in_flight`) with
//!   `Retry-After`. An in-flight record older than the request deadline plus
//!   [`ABANDON_MARGIN_SECONDS`] belongs to a crashed instance and is claimed afresh.
//! - Only final answers are stored: 2xx, and 4xx except 409 and 429. Anything else (5xx, a
//!   panic, a dropped request) releases the key so a retry runs again; so does a body over
//!   [`MAX_STORED_BODY_BYTES`] (DynamoDB items stop at 400 KB).
//! - A store that cannot claim the key answers `503 SERVICE_UNAVAILABLE`: the client asked
//!   for at-most-once, so the request does not run unprotected.

use std::sync::Arc;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::limit::client_of;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Claim, IdempotencyClaim, SharedStore, StoredResponse};

pub const HEADER: &str = "idempotency-key";
/// Set on a replayed response.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// How long a key is remembered.
pub const TTL_SECONDS: i64 = 24 * 3600;
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// Bodies larger than this are not stored (the key is released instead).
pub const MAX_STORED_BODY_BYTES: usize = 350 * 1024;
/// The largest request buffered for fingerprinting: Lambda's own payload limit. Each
/// handler still applies its own, smaller limit.
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;
/// An in-flight claim older than the request deadline plus this is abandoned (the Lambda
/// timeout is 29 s, so no live request is that old).
pub const ABANDON_MARGIN_SECONDS: i64 = 35;
/// What `Retry-After` says while the first request is still running.
pub const IN_FLIGHT_RETRY_AFTER_SECONDS: u64 = 2;
/// Response headers stored and replayed with the body.
const REPLAYED_HEADERS: [&str; 6] = [
    "content-type",
    "content-disposition",
    "location",
    "cache-control",
    "x-cache",
    "age",
];

/// 1-255 printable ASCII characters (space to `~`).
pub fn valid_key(key: &[u8]) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.iter().all(|b| (0x20..=0x7e).contains(b))
}

pub(crate) fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        // Length-prefixed, so no two different part lists hash alike.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// Reads a whole body, up to `limit` bytes, else `PAYLOAD_TOO_LARGE`.
pub(crate) async fn buffer(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
    }
    to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit_bytes: limit })
}

/// The headers of `response` worth storing, with its status and body.
pub(crate) fn stored(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> StoredResponse {
    StoredResponse {
        status: status.as_u16(),
        headers: REPLAYED_HEADERS
            .iter()
            .filter_map(|name| {
                let v = headers.get(*name)?.to_str().ok()?;
                Some((name.to_string(), v.to_string()))
            })
            .collect(),
        body: body.to_vec(),
    }
}

/// A response rebuilt from storage.
pub(crate) fn rebuild(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    for (name, value) in stored.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(n, v);
        }
    }
    response
}

/// Which answers are final, and so stored for replay.
pub fn is_final(status: StatusCode) -> bool {
    status.is_success()
        || (status.is_client_error()
            && status != StatusCode::CONFLICT
            && status != StatusCode::TOO_MANY_REQUESTS)
}

/// Releases the key if the request never reached a final answer (panic, dropped future).
struct ReleaseOnDrop {
    store: SharedStore,
    key: String,
    token: String,
    armed: bool,
}

impl ReleaseOnDrop {
    async fn release(mut self) {
        self.armed = false;
        if let Err(e) = self.store.release_idempotency(&self.key, &self.token).await {
            tracing::warn!(error = %e, "idempotency key could not be released");
        }
    }
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (store, key, token) = (self.store.clone(), self.key.clone(), self.token.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = store.release_idempotency(&key, &token).await {
                    tracing::warn!(error = %e, "idempotency key could not be released");
                }
            });
        }
    }
}

/// The middleware (a route layer, inside the rate limiter).
pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    if !valid_key(raw.as_bytes()) {
        let shown: String = String::from_utf8_lossy(raw.as_bytes())
            .chars()
            .take(64)
            .collect();
        return ApiError::validation(
            "Idempotency-Key",
            json!(shown),
            "1-255 printable ASCII characters",
            "the Idempotency-Key header must be 1-255 printable ASCII characters",
        )
        .into_response();
    }
    let user_key = String::from_utf8_lossy(raw.as_bytes()).into_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_string(), |m| m.as_str().to_string());
    let client = client_of(&req, &state.config.client_keys);
    let (parts, body) = req.into_parts();
    let bytes = match buffer(&parts.headers, body, MAX_REQUEST_BYTES).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let fingerprint = sha256_hex(&[
        parts.method.as_str().as_bytes(),
        parts.uri.path().as_bytes(),
        parts.uri.query().unwrap_or("").as_bytes(),
        &bytes,
    ]);
    let key = format!("{client}#{} {route}#{user_key}", parts.method);
    let now = chrono::Utc::now().timestamp();
    let deadline = state.config.request_deadline.as_secs() as i64;
    let claim = IdempotencyClaim {
        key: key.clone(),
        fingerprint,
        token: ulid::Ulid::new().to_string(),
        now,
        stale_before: now - deadline - ABANDON_MARGIN_SECONDS,
        expires_at: now + TTL_SECONDS,
    };
    match state.store.claim_idempotency(&claim).await {
        Ok(Claim::New) => {}
        Ok(Claim::Done(stored)) => {
            let mut response = rebuild(stored);
            response
                .headers_mut()
                .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
            return response;
        }
        Ok(Claim::Mismatch) => {
            return ApiError::IdempotencyConflict {
                message: "this Idempotency-Key was already used with a different request \
                          (method, path, query or body) in the last 24 hours; use a new key"
                    .into(),
                reason: "key_reused",
                retry_after_secs: None,
            }
            .into_response()
        }
        Ok(Claim::InFlight { .. }) => {
            return ApiError::IdempotencyConflict {
                message: "a request with this Idempotency-Key is still in progress; retry \
                          after it completes to receive its response"
                    .into(),
                reason: "in_flight",
                retry_after_secs: Some(IN_FLIGHT_RETRY_AFTER_SECONDS),
            }
            .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "idempotency key could not be claimed");
            return ApiError::ServiceUnavailable {
                message: "idempotency keys cannot be checked right now; retry shortly".into(),
                details: json!({"component": "idempotency"}),
            }
            .into_response();
        }
    }
    let guard = ReleaseOnDrop {
        store: Arc::clone(&state.store),
        key,
        token: claim.token.clone(),
        armed: true,
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "response body could not be read");
            guard.release().await;
            return ApiError::internal(std::io::Error::other(e.to_string())).into_response();
        }
    };
    if is_final(parts.status) && bytes.len() <= MAX_STORED_BODY_BYTES {
        let record = stored(parts.status, &parts.headers, &bytes);
        match state
            .store
            .finish_idempotency(&guard.key, &guard.token, &record)
            .await
        {
            Ok(()) => {
                let mut guard = guard;
                guard.armed = false;
            }
            Err(e) => {
                tracing::warn!(error = %e, "idempotent response could not be stored");
                guard.release().await;
            }
        }
    } else {
        if bytes.len() > MAX_STORED_BODY_BYTES {
            tracing::info!(
                bytes = bytes.len(),
                "response too large to store for idempotent replay; key released"
            );
        }
        guard.release().await;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Whether a response is a replay.
pub fn is_replayed(headers: &HeaderMap) -> bool {
    headers
        .get(REPLAYED_HEADER)
        .is_some_and(|v| v.as_bytes() == b"true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_255_printable_ascii() {
        assert!(valid_key(b"a"));
        assert!(valid_key(b"order 42/retry-1~"));
        assert!(valid_key(&[b'k'; 255]));
        assert!(!valid_key(b""));
        assert!(!valid_key(&[b'k'; 256]));
        assert!(!valid_key(b"tab\there"));
        assert!(!valid_key("caf\u{e9}".as_bytes()));
    }

    #[test]
    fn final_answers() {
        assert!(is_final(StatusCode::OK));
        assert!(is_final(StatusCode::CREATED));
        assert!(is_final(StatusCode::BAD_REQUEST));
        assert!(is_final(StatusCode::NOT_FOUND));
        assert!(!is_final(StatusCode::CONFLICT));
        assert!(!is_final(StatusCode::TOO_MANY_REQUESTS));
        assert!(!is_final(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(!is_final(StatusCode::SERVICE_UNAVAILABLE));
    }

    #[test]
    fn hashing_separates_parts() {
        assert_ne!(sha256_hex(&[b"ab", b"c"]), sha256_hex(&[b"a", b"bc"]));
    }
}
