//! Where a request's time went: `Server-Timing` on every response and one CloudWatch EMF line
//! per request (`crate::emf`).
//!
//! * `store`: the summed time of store and blob-store calls made while serving it
//!   (DynamoDB or SQLite, S3 or the local folder), through [`timed`].
//! * `provider`: the summed time of AI-provider HTTP exchanges. Calls made side by side
//!   overlap, so this can exceed `total`.
//! * `total`: from the request reaching the function's layers to its response.
//! * `compute`: `total − store − provider`, at least 0: parsing, the engines, rendering.
//!
//! Durations are milliseconds (Server-Timing's unit), one decimal. The EMF line carries
//! `Latency`, `StoreTime`, `ProviderTime` and `Requests` / `Errors5xx` (0 or 1, so their
//! Sum over a period divided gives the 5xx rate), by `Function` and by
//! `Function, Route, StatusClass`; a route adds its own metrics with [`metric`] (the
//! synthetic-data route's rows per second) and provider usage with [`provider_usage`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

use crate::emf::{self, Line, Unit};

pub const HEADER: &str = "server-timing";

tokio::task_local! {
    static SPENT: Arc<Spent>;
}

/// What one request has spent so far.
#[derive(Default)]
struct Spent {
    store_ns: AtomicU64,
    provider_ns: AtomicU64,
    route: Mutex<Option<String>>,
    extra: Mutex<Vec<(String, Unit, f64)>>,
}

/// Which part of the time a call counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Store,
    Provider,
}

/// Runs `call`, adding its duration to the request's `part` (nothing outside a request).
pub async fn timed<F: Future>(part: Part, call: F) -> F::Output {
    let started = Instant::now();
    let out = call.await;
    let ns = started.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
    let _ = SPENT.try_with(|s| {
        let slot = match part {
            Part::Store => &s.store_ns,
            Part::Provider => &s.provider_ns,
        };
        slot.fetch_add(ns, Ordering::Relaxed);
    });
    out
}

/// Adds a metric to this request's EMF line (nothing outside a request).
pub fn metric(name: &str, unit: Unit, value: f64) {
    let _ = SPENT.try_with(|s| {
        if let Ok(mut extra) = s.extra.lock() {
            extra.push((name.into(), unit, value));
        }
    });
}

/// Adds a provider's calls, tokens and cost (USD) to this request's EMF line, as
/// `<provider>.Calls`, `<provider>.Tokens` and `<provider>.CostUSD`.
pub fn provider_usage(provider: &str, calls: u64, tokens: u64, cost_usd: f64) {
    metric(&format!("{provider}.Calls"), Unit::Count, calls as f64);
    metric(&format!("{provider}.Tokens"), Unit::Count, tokens as f64);
    metric(&format!("{provider}.CostUSD"), Unit::None, cost_usd);
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// The parts of one request, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breakdown {
    pub store: f64,
    pub provider: f64,
    pub compute: f64,
    pub total: f64,
}

impl Breakdown {
    fn of(total: Duration, store_ns: u64, provider_ns: u64) -> Breakdown {
        let (store, provider) = (
            Duration::from_nanos(store_ns),
            Duration::from_nanos(provider_ns),
        );
        Breakdown {
            store: ms(store),
            provider: ms(provider),
            compute: ms(total.saturating_sub(store).saturating_sub(provider)),
            total: ms(total),
        }
    }

    /// The header value, e.g. `store;dur=1.2, provider;dur=0.0, compute;dur=3.1, total;dur=4.3`.
    pub fn header(&self) -> String {
        format!(
            "store;dur={:.1}, provider;dur={:.1}, compute;dur={:.1}, total;dur={:.1}",
            self.store, self.provider, self.compute, self.total
        )
    }
}

/// Route layer: records the matched route's template (`/v1/models/{id}`) for the EMF line.
pub async fn route(matched: MatchedPath, req: Request, next: Next) -> Response {
    let name = format!("{} {}", req.method(), matched.as_str());
    let _ = SPENT.try_with(|s| {
        if let Ok(mut r) = s.route.lock() {
            *r = Some(name);
        }
    });
    next.run(req).await
}

/// Outer layer: measures the request, answers `Server-Timing`, writes the EMF line.
pub async fn middleware(req: Request, next: Next) -> Response {
    let spent = Arc::new(Spent::default());
    let started = Instant::now();
    let mut response = SPENT.scope(spent.clone(), next.run(req)).await;
    let b = Breakdown::of(
        started.elapsed(),
        spent.store_ns.load(Ordering::Relaxed),
        spent.provider_ns.load(Ordering::Relaxed),
    );
    if let Ok(v) = HeaderValue::from_str(&b.header()) {
        response.headers_mut().insert(HEADER, v);
    }
    let status = response.status().as_u16();
    let route = spent
        .route
        .lock()
        .ok()
        .and_then(|r| r.clone())
        .unwrap_or_else(|| "unmatched".into());
    let extra = spent.extra.lock().map(|e| e.clone()).unwrap_or_default();
    line(&emf::function_name(), &route, status, &b, &extra).emit();
    response
}

/// The request's EMF line (see the module docs).
pub fn line(
    function: &str,
    route: &str,
    status: u16,
    b: &Breakdown,
    extra: &[(String, Unit, f64)],
) -> Line {
    let class = format!("{}xx", status / 100);
    let mut line = Line::new(chrono::Utc::now().timestamp_millis())
        .dimension("Function", function)
        .dimension("Route", route)
        .dimension("StatusClass", &class)
        .dimension_set(&["Function"])
        .dimension_set(&["Function", "Route", "StatusClass"])
        .metric("Latency", Unit::Milliseconds, b.total)
        .metric("StoreTime", Unit::Milliseconds, b.store)
        .metric("ProviderTime", Unit::Milliseconds, b.provider)
        .metric("Requests", Unit::Count, 1.0)
        .metric("Errors5xx", Unit::Count, f64::from(u8::from(status >= 500)))
        .property("status", json!(status))
        .property("request_id", json!(super::request_id::current()));
    // Same-named values of one request add up (a route that records twice).
    let mut summed: BTreeMap<&str, (Unit, f64)> = BTreeMap::new();
    for (name, unit, v) in extra {
        summed.entry(name).or_insert((*unit, 0.0)).1 += v;
    }
    for (name, (unit, v)) in summed {
        line = line.metric(name, unit, v);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_add_up_and_compute_is_never_negative() {
        let b = Breakdown::of(Duration::from_millis(10), 2_000_000, 3_000_000);
        assert_eq!(
            (b.store, b.provider, b.compute, b.total),
            (2.0, 3.0, 5.0, 10.0)
        );
        assert_eq!(
            b.header(),
            "store;dur=2.0, provider;dur=3.0, compute;dur=5.0, total;dur=10.0"
        );
        // Side-by-side provider calls can sum past the total.
        let b = Breakdown::of(Duration::from_millis(10), 0, 25_000_000);
        assert_eq!((b.provider, b.compute), (25.0, 0.0));
    }

    #[test]
    fn the_request_line_is_valid_emf() {
        let b = Breakdown::of(Duration::from_millis(10), 1_000_000, 0);
        let extra = vec![
            ("openai.Calls".to_string(), Unit::Count, 1.0),
            ("openai.Calls".to_string(), Unit::Count, 2.0),
        ];
        let v = line("models", "POST /v1/models/train", 503, &b, &extra).to_json();
        emf::validate(&v).unwrap();
        assert_eq!(v["StatusClass"], "5xx");
        assert_eq!(v["Errors5xx"], 1.0);
        assert_eq!(v["openai.Calls"], 3.0);
        assert_eq!(v["Latency"], 10.0);
    }

    #[tokio::test]
    async fn timed_calls_count_only_inside_a_request() {
        // Outside: runs, counts nowhere.
        assert_eq!(timed(Part::Store, async { 7 }).await, 7);
        let spent = Arc::new(Spent::default());
        SPENT
            .scope(spent.clone(), async {
                timed(Part::Store, tokio::time::sleep(Duration::from_millis(5))).await;
                timed(Part::Provider, async {}).await;
                metric("Rows", Unit::Count, 3.0);
            })
            .await;
        assert!(spent.store_ns.load(Ordering::Relaxed) >= 5_000_000);
        assert_eq!(spent.extra.lock().unwrap().len(), 1);
    }
}
