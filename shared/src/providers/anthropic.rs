//! Anthropic's Messages API: `POST {base}/v1/messages` with `x-api-key` and
//! `anthropic-version: 2023-06-01`; structured output through
//! `output_config.format = {type: json_schema, schema}`; the JSON is the `text` of the
//! `content[]` block of type `text`. `max_tokens` is required. 529 means overloaded.

use std::time::Duration;

use serde_json::{json, Value};

use super::client::{Failed, RawAnswer, Structured, Tokens};
use super::error::{kind_for_status, CallError, ErrorKind, QUOTA_MARKERS};
use super::http;
use crate::config::Secret;

pub const API_VERSION: &str = "2023-06-01";

pub struct Anthropic {
    pub http: reqwest::Client,
    pub base_url: String,
    pub model: String,
    pub key: Secret,
}

impl Anthropic {
    pub fn request_body(&self, req: Structured<'_>) -> Value {
        json!({
            "model": self.model,
            "max_tokens": req.prompt.max_tokens,
            "system": req.prompt.system,
            "messages": [{"role": "user", "content": req.prompt.user}],
            "output_config": {"format": {"type": "json_schema", "schema": req.schema}},
        })
    }

    pub async fn send(&self, req: Structured<'_>, timeout: Duration) -> Result<RawAnswer, Failed> {
        let url = format!("{}/v1/messages", self.base_url);
        let reply = http::post_json(
            &self.http,
            &url,
            &[
                ("x-api-key", self.key.expose()),
                ("anthropic-version", API_VERSION),
            ],
            &self.request_body(req),
            timeout,
        )
        .await?;
        if reply.status != 200 {
            let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
            let err = &body["error"];
            let message = err["message"].as_str().unwrap_or("no message").to_string();
            let marker_text = format!(
                "{} {}",
                err["type"].as_str().unwrap_or(""),
                message.to_lowercase()
            );
            let mut kind = kind_for_status(reply.status);
            if reply.status == 429 && QUOTA_MARKERS.iter().any(|m| marker_text.contains(m)) {
                kind = ErrorKind::QuotaExhausted;
            }
            return Err(CallError::Http {
                status: reply.status,
                kind,
                message: http::redact(&message, self.key.expose()),
                retry_after: http::retry_after(&reply.headers),
            }
            .into());
        }
        let body = http::json_body(&reply)?;
        let input = body["usage"]["input_tokens"].as_u64().unwrap_or(0);
        let output = body["usage"]["output_tokens"].as_u64().unwrap_or(0);
        let tokens = Tokens {
            input_tokens: input,
            output_tokens: output,
            total_tokens: input + output,
            reported_cost_usd: None,
        };
        let fail = |error: CallError| Failed {
            error,
            tokens: Some(tokens.clone()),
        };
        match body["stop_reason"].as_str() {
            Some("refusal") => return Err(fail(CallError::Refusal("stop_reason refusal".into()))),
            Some("max_tokens") => {
                return Err(fail(CallError::Truncated("stop_reason max_tokens".into())))
            }
            _ => {}
        }
        let text: String = body["content"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect();
        if text.is_empty() {
            return Err(fail(CallError::Malformed(
                "no text block in content".into(),
            )));
        }
        Ok(RawAnswer {
            text: super::client::unwrap_json_text(&text).to_string(),
            model: body["model"].as_str().unwrap_or(&self.model).to_string(),
            tokens,
            citations: Vec::new(),
        })
    }
}
