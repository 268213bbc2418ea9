//! A mock of all five providers on an ephemeral loopback port, speaking each one's real wire
//! format: it checks the auth and version headers and the structured-output request shape
//! the way the real APIs do (and rejects what they would reject), answers in each provider's
//! response shape with usage, and can be told, per provider and per request, to misbehave.
//!
//! Without a set answer it answers with a JSON value generated from the request's own
//! schema, so any typed request gets a well-formed answer.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use shared::providers::Provider;

/// What the mock does with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Answer normally.
    Ok,
    /// Wait, then answer normally.
    Delay(Duration),
    /// 429 with `retry-after-ms` (Gemini: `RetryInfo` in the body).
    RateLimitMs(u64),
    /// 429 with `retry-after` in seconds (Gemini: `RetryInfo` in the body).
    RateLimitSecs(u64),
    /// 429 with `retry-after` as an HTTP date this many seconds ahead.
    RateLimitDate(u64),
    /// This status with the provider's error body (500, 503, Anthropic's 529, 400, ...).
    Status(u16),
    /// A 429 that means the quota or spend limit is exhausted.
    Quota,
    /// The model declines to answer.
    Refusal,
    /// The answer is cut off at the token limit.
    Truncated,
    /// The answer is not JSON.
    Malformed,
    /// The answer is JSON that does not fit the schema.
    SchemaViolation,
    /// The connection is dropped without a response.
    Drop,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub provider: Provider,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct MockState {
    scripts: HashMap<Provider, VecDeque<Step>>,
    answers: HashMap<Provider, Value>,
    keys: HashMap<Provider, String>,
    requests: Vec<Recorded>,
}

#[derive(Clone)]
pub struct MockProviders {
    pub addr: SocketAddr,
    state: Arc<Mutex<MockState>>,
}

pub fn default_key(p: Provider) -> String {
    format!("mock-{}-key-0123456789abcdef", p.name())
}

impl MockProviders {
    pub async fn start() -> MockProviders {
        let state = Arc::new(Mutex::new(MockState::default()));
        let app = Router::new()
            .route("/openai/v1/chat/completions", post(openai))
            .route("/xai/v1/chat/completions", post(xai))
            .route("/perplexity/chat/completions", post(perplexity))
            .route("/anthropic/v1/messages", post(anthropic))
            .route("/gemini/v1beta/models/{model_action}", post(gemini))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockProviders { addr, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MockState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn base_url(&self, p: Provider) -> String {
        let path = match p {
            Provider::Openai => "openai/v1",
            Provider::Grok => "xai/v1",
            Provider::Perplexity => "perplexity",
            Provider::Anthropic => "anthropic",
            Provider::Gemini => "gemini",
        };
        format!("http://{}/{path}", self.addr)
    }

    /// Environment-style variables that point `providers` at this mock with their keys.
    pub fn vars(&self, providers: &[Provider]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for p in providers {
            out.push((p.base_url_var().to_string(), self.base_url(*p)));
            out.push((p.key_vars()[0].to_string(), self.key(*p)));
        }
        out
    }

    pub fn key(&self, p: Provider) -> String {
        self.lock()
            .keys
            .get(&p)
            .cloned()
            .unwrap_or_else(|| default_key(p))
    }

    /// The key this provider accepts from now on.
    pub fn expect_key(&self, p: Provider, key: &str) {
        self.lock().keys.insert(p, key.to_string());
    }

    /// The answer a provider gives when it answers normally.
    pub fn answer(&self, p: Provider, answer: Value) {
        self.lock().answers.insert(p, answer);
    }

    /// The next requests to `p` follow these steps; after them, normal answers.
    pub fn script(&self, p: Provider, steps: Vec<Step>) {
        self.lock().scripts.insert(p, steps.into());
    }

    pub fn requests(&self, p: Provider) -> Vec<Recorded> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.provider == p)
            .cloned()
            .collect()
    }

    pub fn count(&self, p: Provider) -> usize {
        self.requests(p).len()
    }
}

type Shared = Arc<Mutex<MockState>>;

struct Call {
    step: Step,
    answer: Option<Value>,
    key: String,
}

fn begin(state: &Shared, provider: Provider, headers: &HeaderMap, body: &Value) -> Call {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    s.requests.push(Recorded {
        provider,
        headers: headers.clone(),
        body: body.clone(),
    });
    let step = s
        .scripts
        .get_mut(&provider)
        .and_then(VecDeque::pop_front)
        .unwrap_or(Step::Ok);
    Call {
        step,
        answer: s.answers.get(&provider).cloned(),
        key: s
            .keys
            .get(&provider)
            .cloned()
            .unwrap_or_else(|| default_key(provider)),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A value that fits `schema`: the mock's answer when the test set none.
pub fn example_for(schema: &Value) -> Value {
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(values) = schema["enum"].as_array() {
        return values.first().cloned().unwrap_or(Value::Null);
    }
    if let Some(options) = schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
        let pick = options
            .iter()
            .find(|o| o["type"] != "null")
            .or(options.first());
        return pick.map(example_for).unwrap_or(Value::Null);
    }
    let ty = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_string(),
        _ if schema.get("properties").is_some() => "object".into(),
        _ => "null".into(),
    };
    match ty.as_str() {
        "object" => {
            let mut out = serde_json::Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (k, v) in props {
                    out.insert(k.clone(), example_for(v));
                }
            }
            Value::Object(out)
        }
        "array" => json!([example_for(&schema["items"])]),
        "string" => json!("mock answer"),
        "integer" => json!(1),
        "number" => json!(0.5),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}

fn answer_text(call: &Call, schema: &Value) -> String {
    let answer = call.answer.clone().unwrap_or_else(|| example_for(schema));
    match call.step {
        Step::Malformed => "Sure! Here is the JSON you asked for: {\"oops\"".to_string(),
        Step::SchemaViolation => json!({"unexpected": ["not", "the", "schema"]}).to_string(),
        Step::Truncated => {
            let full = answer.to_string();
            full[..full.len() / 2].to_string()
        }
        _ => answer.to_string(),
    }
}

fn tokens_of(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// Failures that come before any answer, shaped per provider by `err`.
async fn pre_answer(call: &Call, err: impl Fn(u16, &str, &str) -> Value) -> Option<Response> {
    let rate_body = err(
        429,
        "rate_limit_exceeded",
        "Rate limit reached for requests",
    );
    let with_header = |name: &'static str, value: String| {
        let mut r = (StatusCode::TOO_MANY_REQUESTS, Json(rate_body.clone())).into_response();
        r.headers_mut()
            .insert(name, HeaderValue::from_str(&value).expect("header"));
        r
    };
    match &call.step {
        Step::Delay(d) => {
            tokio::time::sleep(*d).await;
            None
        }
        Step::Drop => panic!("mock provider drops the connection on purpose"),
        Step::RateLimitMs(ms) => Some(with_header("retry-after-ms", ms.to_string())),
        Step::RateLimitSecs(s) => Some(with_header("retry-after", s.to_string())),
        Step::RateLimitDate(s) => {
            let at = chrono::Utc::now() + chrono::Duration::seconds(*s as i64);
            Some(with_header(
                "retry-after",
                at.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            ))
        }
        Step::Status(code) => {
            let status = StatusCode::from_u16(*code).expect("status");
            Some(
                (
                    status,
                    Json(err(*code, "server_error", "The server had an error")),
                )
                    .into_response(),
            )
        }
        Step::Quota => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                Json(err(
                    429,
                    "insufficient_quota",
                    "You exceeded your current quota, please check your plan and billing details.",
                )),
            )
                .into_response(),
        ),
        _ => None,
    }
}

// ---- chat completions: OpenAI, xAI, Perplexity ------------------------------------------

fn chat_error(status: u16, code: &str, message: &str) -> Value {
    let kind = if status == 429 && code == "insufficient_quota" {
        "insufficient_quota"
    } else if status >= 500 {
        "server_error"
    } else {
        "invalid_request_error"
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

fn reject(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn strict_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

async fn chat(state: Shared, provider: Provider, headers: HeaderMap, body: Value) -> Response {
    let call = begin(&state, provider, &headers, &body);
    if header(&headers, "authorization") != Some(&format!("Bearer {}", call.key)) {
        let shown = header(&headers, "authorization")
            .unwrap_or("")
            .trim_start_matches("Bearer ");
        return reject(
            StatusCode::UNAUTHORIZED,
            chat_error(
                401,
                "invalid_api_key",
                &format!("Incorrect API key provided: {shown}."),
            ),
        );
    }
    let spec = &body["response_format"];
    let schema = &spec["json_schema"]["schema"];
    let shape_ok = body["model"].as_str().is_some_and(|m| !m.is_empty())
        && body["messages"].as_array().is_some_and(|m| {
            !m.is_empty()
                && m.iter()
                    .all(|x| x["role"].is_string() && x["content"].is_string())
        })
        && spec["type"] == "json_schema"
        && schema.is_object();
    if !shape_ok {
        return reject(
            StatusCode::BAD_REQUEST,
            chat_error(
                400,
                "invalid_request",
                "messages, model and a json_schema response_format are required",
            ),
        );
    }
    if provider != Provider::Perplexity {
        let name_ok = spec["json_schema"]["name"]
            .as_str()
            .is_some_and(strict_name);
        if !name_ok
            || spec["json_schema"]["strict"] != true
            || !shared::providers::schema::is_strict(schema)
        {
            return reject(
                StatusCode::BAD_REQUEST,
                chat_error(400, "invalid_json_schema", "Invalid schema for response_format: strict mode needs a name, every property required and additionalProperties false"),
            );
        }
    }
    if let Some(r) = pre_answer(&call, chat_error).await {
        return r;
    }
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let prompt_text: String = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_str())
        .collect();
    let mut text = answer_text(&call, schema);
    let (input, output) = (tokens_of(&prompt_text), tokens_of(&text));
    if provider == Provider::Perplexity && model.contains("reasoning") {
        text = format!("<think>The user wants JSON; reasoning about sources.</think>\n{text}");
    }
    let (content, refusal, finish) = match call.step {
        Step::Refusal if provider == Provider::Openai => (
            Value::Null,
            json!("I'm sorry, I can't help with that."),
            "stop",
        ),
        Step::Refusal => (Value::Null, Value::Null, "content_filter"),
        Step::Truncated => (json!(text), Value::Null, "length"),
        _ => (json!(text), Value::Null, "stop"),
    };
    let mut usage = json!({"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output});
    let list_cost = (input as f64 * 3.0 + output as f64 * 15.0) / 1e6;
    let mut out = json!({
        "id": format!("chatcmpl-{}", ulid::Ulid::new()),
        "object": "chat.completion",
        "created": chrono::Utc::now().timestamp(),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": refusal},
            "finish_reason": finish,
        }],
    });
    match provider {
        Provider::Perplexity => {
            usage["cost"] = json!({"input_tokens_cost": input as f64 * 3e-6, "output_tokens_cost": output as f64 * 15e-6, "request_cost": 0.006, "total_cost": list_cost + 0.006});
            out["citations"] = json!([
                "https://arxiv.org/abs/1512.03385",
                "https://paperswithcode.com/sota"
            ]);
            out["search_results"] = json!([{
                "title": "Deep Residual Learning for Image Recognition",
                "url": "https://arxiv.org/abs/1512.03385",
                "date": "2015-12-10",
                "snippet": "Residual networks ease the training of deep networks."
            }]);
        }
        Provider::Grok => {
            usage["cost_in_usd_ticks"] = json!((list_cost * 1e10).round() as u64);
        }
        _ => {}
    }
    out["usage"] = usage;
    Json(out).into_response()
}

async fn openai(State(s): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    chat(s, Provider::Openai, headers, body).await
}

async fn xai(State(s): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    chat(s, Provider::Grok, headers, body).await
}

async fn perplexity(
    State(s): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    chat(s, Provider::Perplexity, headers, body).await
}

// ---- Anthropic ------------------------------------------------------------------------

fn anthropic_error(status: u16, code: &str, message: &str) -> Value {
    let kind = match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    let message = if code == "insufficient_quota" {
        "enforced_spend_limit_reached: your organization has reached its monthly spend limit"
    } else {
        message
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

async fn anthropic(
    State(state): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let call = begin(&state, Provider::Anthropic, &headers, &body);
    if header(&headers, "x-api-key") != Some(call.key.as_str()) {
        return reject(
            StatusCode::UNAUTHORIZED,
            anthropic_error(401, "", "invalid x-api-key"),
        );
    }
    if header(&headers, "anthropic-version") != Some("2023-06-01") {
        return reject(
            StatusCode::BAD_REQUEST,
            anthropic_error(400, "", "anthropic-version: header is required"),
        );
    }
    let schema = &body["output_config"]["format"]["schema"];
    let shape_ok = body["model"].is_string()
        && body["max_tokens"].as_u64().is_some_and(|n| n > 0)
        && body["messages"].as_array().is_some_and(|m| !m.is_empty())
        && body["output_config"]["format"]["type"] == "json_schema"
        && schema.is_object();
    if !shape_ok {
        return reject(
            StatusCode::BAD_REQUEST,
            anthropic_error(
                400,
                "",
                "model, max_tokens, messages and output_config.format are required",
            ),
        );
    }
    if let Some(r) = pre_answer(&call, anthropic_error).await {
        return r;
    }
    let text = answer_text(&call, schema);
    let input =
        tokens_of(&body["messages"].to_string()) + tokens_of(body["system"].as_str().unwrap_or(""));
    let (content, stop) = match call.step {
        Step::Refusal => (json!([]), "refusal"),
        Step::Truncated => (json!([{"type": "text", "text": text}]), "max_tokens"),
        _ => (json!([{"type": "text", "text": text}]), "end_turn"),
    };
    Json(json!({
        "id": format!("msg_{}", ulid::Ulid::new()),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop,
        "stop_sequence": null,
        "usage": {"input_tokens": input, "output_tokens": tokens_of(&text)},
    }))
    .into_response()
}

// ---- Gemini ---------------------------------------------------------------------------

fn gemini_error(status: u16, code: &str, message: &str) -> Value {
    let status_text = match status {
        400 => "INVALID_ARGUMENT",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    let details = if code == "insufficient_quota" {
        json!([{
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]
        }])
    } else {
        json!([])
    };
    json!({"error": {"code": status, "message": message, "status": status_text, "details": details}})
}

async fn gemini(
    State(state): State<Shared>,
    Path(model_action): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let call = begin(&state, Provider::Gemini, &headers, &body);
    if header(&headers, "x-goog-api-key") != Some(call.key.as_str()) {
        return reject(
            StatusCode::BAD_REQUEST,
            gemini_error(400, "", "API key not valid. Please pass a valid API key."),
        );
    }
    let Some(model) = model_action.strip_suffix(":generateContent") else {
        return reject(
            StatusCode::NOT_FOUND,
            gemini_error(404, "", "unknown method"),
        );
    };
    let config = &body["generationConfig"];
    let schema = &config["responseJsonSchema"];
    let shape_ok = body["contents"][0]["parts"][0]["text"].is_string()
        && config["responseMimeType"] == "application/json"
        && schema.is_object();
    if !shape_ok {
        return reject(
            StatusCode::BAD_REQUEST,
            gemini_error(
                400,
                "",
                "contents and generationConfig.responseJsonSchema are required",
            ),
        );
    }
    // Gemini states its waits in the body, not in headers.
    let retry_info = |delay: String| {
        let body = json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]}});
        (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
    };
    match call.step {
        Step::RateLimitSecs(s) => return retry_info(format!("{s}s")),
        Step::RateLimitMs(ms) => return retry_info(format!("{}s", ms as f64 / 1000.0)),
        _ => {}
    }
    if let Some(r) = pre_answer(&call, gemini_error).await {
        return r;
    }
    let text = answer_text(&call, schema);
    let input = tokens_of(&body["contents"].to_string());
    let output = tokens_of(&text);
    let candidate = match call.step {
        Step::Refusal => {
            json!({"finishReason": "SAFETY", "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]})
        }
        Step::Truncated => {
            json!({"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "MAX_TOKENS"})
        }
        _ => {
            json!({"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"})
        }
    };
    Json(json!({
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": input, "candidatesTokenCount": output, "totalTokenCount": input + output},
        "modelVersion": model,
    }))
    .into_response()
}
