//! The request id: API Gateway's own id when the request came through it (so a client's
//! `request_id` finds the matching API Gateway and CloudWatch lines), else a fresh one.
//! Kept in a task-local so errors raised anywhere in the handler can render it, and recorded
//! on a tracing span so every log line of the request carries it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use tracing::Instrument;

use crate::ids;

tokio::task_local! {
    static REQUEST_ID: String;
}

pub const HEADER: &str = "x-request-id";

/// The id of the request being served, or a fresh one outside any request.
pub fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| ids::new_id(ids::REQUEST_PREFIX))
}

fn from_gateway(req: &Request) -> Option<String> {
    let id = match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.request_id.clone(),
        RequestContext::ApiGatewayV1(ctx) => ctx.request_id.clone(),
        _ => None,
    }?;
    (!id.is_empty()).then_some(id)
}

/// Middleware: establish the id, log the request's outcome, echo the id in `x-request-id`.
pub async fn middleware(req: Request, next: Next) -> Response {
    let id = from_gateway(&req).unwrap_or_else(|| ids::new_id(ids::REQUEST_PREFIX));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let started = std::time::Instant::now();
    let header = HeaderValue::from_str(&id).ok();
    let mut response = REQUEST_ID
        .scope(id, next.run(req))
        .instrument(span.clone())
        .await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request served"
        )
    });
    if let Some(v) = header {
        response.headers_mut().insert(HEADER, v);
    }
    response
}
