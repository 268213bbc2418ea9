//! What can go wrong in one call to a provider, classified the way the providers' own SDKs
//! classify it: retry, move on to the next provider, or give up on this one.

use std::time::Duration;

/// How the orchestrator should react to an HTTP error status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 408, 409, 429 (rate), 5xx, Anthropic's 529: retry with backoff.
    Retryable,
    /// A 429 that means an exhausted quota or spend limit: retrying will not heal it.
    QuotaExhausted,
    /// 401/403: the key is wrong or lacks access.
    Auth,
    /// Any other 4xx: the request itself is wrong; no retry.
    Fatal,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    #[error("HTTP {status}: {message}")]
    Http {
        status: u16,
        kind: ErrorKind,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("connection failed: {0}")]
    Transport(String),
    #[error("no answer within the time left")]
    Timeout,
    #[error("the model refused: {0}")]
    Refusal(String),
    #[error("the answer was cut off ({0})")]
    Truncated(String),
    #[error("malformed response: {0}")]
    Malformed(String),
    #[error("answer does not fit the schema: {0}")]
    Invalid(String),
}

impl CallError {
    /// Worth another attempt at the same provider.
    pub fn retryable(&self) -> bool {
        match self {
            CallError::Http { kind, .. } => *kind == ErrorKind::Retryable,
            CallError::Transport(_) | CallError::Timeout => true,
            _ => false,
        }
    }

    /// The provider cannot serve for a while (quota, bad key): skip it on later requests too.
    pub fn disables_provider(&self) -> bool {
        matches!(
            self,
            CallError::Http {
                kind: ErrorKind::QuotaExhausted | ErrorKind::Auth,
                ..
            }
        )
    }

    /// The answer arrived but its content was unusable: one repair attempt is allowed.
    pub fn repairable(&self) -> bool {
        matches!(
            self,
            CallError::Malformed(_) | CallError::Invalid(_) | CallError::Truncated(_)
        )
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A short machine-readable reason for `details`.
    pub fn reason(&self) -> &'static str {
        match self {
            CallError::Http {
                kind: ErrorKind::QuotaExhausted,
                ..
            } => "quota_exhausted",
            CallError::Http {
                kind: ErrorKind::Auth,
                ..
            } => "authentication_failed",
            CallError::Http {
                kind: ErrorKind::Retryable,
                ..
            } => "provider_error",
            CallError::Http { .. } => "request_rejected",
            CallError::Transport(_) => "connection_failed",
            CallError::Timeout => "timeout",
            CallError::Refusal(_) => "refused",
            CallError::Truncated(_) => "truncated",
            CallError::Malformed(_) => "malformed_answer",
            CallError::Invalid(_) => "schema_violation",
        }
    }
}

/// Status classification shared by every provider (quota markers are checked by the caller).
pub fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        // 500-599 includes Anthropic's 529 (overloaded).
        408 | 409 | 429 | 500..=599 => ErrorKind::Retryable,
        401 | 403 => ErrorKind::Auth,
        _ => ErrorKind::Fatal,
    }
}

/// Markers of a 429 that will not heal by waiting, as the providers spell them.
pub const QUOTA_MARKERS: [&str; 5] = [
    "insufficient_quota",
    "enforced_spend_limit_reached",
    "billing_hard_limit_reached",
    "spending limit",
    "exceeded your current quota",
];
