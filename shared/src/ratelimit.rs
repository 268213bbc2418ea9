//! Rate limits per endpoint and client, in one-minute windows counted in the store, so a
//! limit holds across every Lambda instance. The spec's table, and documented limits for
//! the endpoints it does not list. `MLAAS_RATE_LIMITS` overrides entries
//! (`/v1/ai/enhance=10,/health=200`) or turns limiting `off`.

use std::collections::HashMap;

pub const WINDOW_SECONDS: i64 = 60;

/// (method, route template, requests per window). `*` matches any method.
pub const DEFAULT_LIMITS: [(&str, &str, u32); 25] = [
    ("*", "/health", 100),
    ("*", "/v1/ai/status", 60),
    ("*", "/v1/ai/synthetic-data", 10),
    ("*", "/v1/ai/analyze", 20),
    ("*", "/v1/ai/enhance", 5),
    // Not in the spec's table: reads are cheap, writes start work.
    ("*", "/v1/ai/usage", 60),
    ("GET", "/v1/models", 120),
    ("*", "/v1/models/train", 10),
    ("*", "/v1/models/{id}", 120),
    ("*", "/v1/models/{id}/status", 120),
    ("*", "/v1/models/{id}/stop", 30),
    ("*", "/v1/models/{id}/resume", 30),
    ("*", "/v1/models/compare", 60),
    ("*", "/v1/models/{id}/history", 60),
    // A sweep starts up to 100 jobs: as strict as train.
    ("GET", "/v1/sweeps", 120),
    ("POST", "/v1/sweeps", 10),
    ("*", "/v1/sweeps/{id}", 120),
    ("*", "/v1/sweeps/{id}/stop", 30),
    // A prediction is a forward pass over at most 1000 rows on a warm, cached model.
    ("*", "/v1/models/{id}/predict", 120),
    ("*", "/v1/models/{id}/metrics.svg", 120),
    // An ONNX export is built on each request: as a dataset download.
    ("*", "/v1/models/{id}/download", 60),
    ("GET", "/v1/datasets", 120),
    ("POST", "/v1/datasets", 10),
    ("*", "/v1/datasets/{id}", 120),
    ("*", "/v1/datasets/{id}/download", 60),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub enabled: bool,
    overrides: HashMap<String, u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            enabled: true,
            overrides: HashMap::new(),
        }
    }
}

impl Limits {
    /// Parses `MLAAS_RATE_LIMITS`; returns problems for entries it cannot use.
    pub fn parse(spec: Option<&str>) -> (Limits, Vec<String>) {
        let mut limits = Limits::default();
        let mut problems = Vec::new();
        let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
            return (limits, problems);
        };
        if spec.eq_ignore_ascii_case("off") {
            limits.enabled = false;
            return (limits, problems);
        }
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match entry
                .split_once('=')
                .map(|(p, n)| (p.trim(), n.trim().parse::<u32>()))
            {
                Some((path, Ok(n))) if path.starts_with('/') && n > 0 => {
                    limits.overrides.insert(path.to_string(), n);
                }
                _ => problems.push(format!(
                    "MLAAS_RATE_LIMITS entry {entry:?} is not /path=requests_per_minute"
                )),
            }
        }
        (limits, problems)
    }

    /// The limit of a route, if it has one.
    pub fn limit_for(&self, method: &str, route: &str) -> Option<u32> {
        if !self.enabled {
            return None;
        }
        if let Some(n) = self.overrides.get(route) {
            return Some(*n);
        }
        DEFAULT_LIMITS
            .iter()
            .find(|(m, r, _)| *r == route && (*m == "*" || *m == method))
            .map(|(_, _, n)| *n)
    }
}

/// The window containing `now` (unix seconds): its start and when it ends.
pub fn window(now: i64) -> (i64, i64) {
    let start = now - now.rem_euclid(WINDOW_SECONDS);
    (start, start + WINDOW_SECONDS)
}

/// Routes whose limiter fails closed when the store cannot count: the AI endpoints, which
/// spend provider money. `/health` and the rest fail open.
pub fn fails_closed(route: &str) -> bool {
    route.starts_with("/v1/ai/") && route != "/v1/ai/status" && route != "/v1/ai/usage"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_table_and_overrides() {
        let (l, p) = Limits::parse(None);
        assert!(p.is_empty());
        assert_eq!(l.limit_for("GET", "/health"), Some(100));
        assert_eq!(l.limit_for("POST", "/v1/ai/enhance"), Some(5));
        assert_eq!(l.limit_for("POST", "/v1/datasets"), Some(10));
        assert_eq!(l.limit_for("GET", "/v1/datasets"), Some(120));
        assert_eq!(l.limit_for("GET", "/nowhere"), None);
        let (l, p) = Limits::parse(Some("/v1/ai/enhance=50, bad, /x=0"));
        assert_eq!(p.len(), 2);
        assert_eq!(l.limit_for("POST", "/v1/ai/enhance"), Some(50));
        let (l, _) = Limits::parse(Some("off"));
        assert_eq!(l.limit_for("GET", "/health"), None);
    }

    #[test]
    fn windows_are_aligned_minutes() {
        assert_eq!(window(120), (120, 180));
        assert_eq!(window(179), (120, 180));
        assert!(fails_closed("/v1/ai/enhance"));
        assert!(!fails_closed("/health"));
    }
}
