//! Per-instance provider health: a circuit breaker that skips a provider for a cooldown
//! after repeated failures, or at once after an exhausted quota or a rejected key.

use tokio::time::Instant;

use super::Policy;
use crate::providers::CallError;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Health {
    consecutive_failures: u32,
    cooling_until: Option<Instant>,
}

impl Health {
    pub fn succeeded(&mut self) {
        self.consecutive_failures = 0;
        self.cooling_until = None;
    }

    pub fn failed(&mut self, error: &CallError, now: Instant, policy: &Policy) {
        self.consecutive_failures += 1;
        if error.disables_provider() {
            self.cooling_until = Some(now + policy.disabled_for);
        } else if self.consecutive_failures >= policy.failures_before_cooldown {
            self.cooling_until = Some(now + policy.cooldown);
            self.consecutive_failures = 0;
        }
    }

    pub fn cooling_left(&self, now: Instant) -> Option<Duration> {
        self.cooling_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ErrorKind;

    #[test]
    fn cools_after_repeated_failures_or_at_once_on_quota() {
        let policy = Policy::default();
        let now = Instant::now();
        let mut h = Health::default();
        let e500 = CallError::Http {
            status: 500,
            kind: ErrorKind::Retryable,
            message: String::new(),
            retry_after: None,
        };
        h.failed(&e500, now, &policy);
        h.failed(&e500, now, &policy);
        assert!(h.cooling_left(now).is_none());
        h.failed(&e500, now, &policy);
        assert_eq!(h.cooling_left(now), Some(policy.cooldown));
        h.succeeded();
        assert!(h.cooling_left(now).is_none());
        let quota = CallError::Http {
            status: 429,
            kind: ErrorKind::QuotaExhausted,
            message: String::new(),
            retry_after: None,
        };
        h.failed(&quota, now, &policy);
        assert_eq!(h.cooling_left(now), Some(policy.disabled_for));
        assert!(h.cooling_left(now + policy.disabled_for).is_none());
    }
}
