//! The chat-completions wire format that OpenAI, xAI and Perplexity share
//! (`POST {base}/chat/completions`, `Authorization: Bearer`), with each one's dialect:
//! OpenAI's `max_completion_tokens` and `message.refusal`, xAI's `usage.cost_in_usd_ticks`,
//! Perplexity's `citations` / `search_results` / `usage.cost.total_cost` and `<think>` blocks.

use std::time::Duration;

use serde_json::{json, Value};

use super::client::{Citation, Failed, RawAnswer, Structured, Tokens};
use super::error::{kind_for_status, CallError, ErrorKind, QUOTA_MARKERS};
use super::http::{self, Reply};
use crate::config::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAi,
    Xai,
    Perplexity,
}

/// xAI reports cost in ticks: 1 USD = 10^10 ticks.
pub const XAI_TICKS_PER_USD: f64 = 1e10;

pub struct ChatCompletions {
    pub dialect: Dialect,
    pub http: reqwest::Client,
    pub base_url: String,
    pub model: String,
    pub key: Secret,
}

impl ChatCompletions {
    pub fn request_body(&self, req: Structured<'_>) -> Value {
        let mut schema_spec = json!({"name": req.schema_name, "schema": req.schema});
        if self.dialect != Dialect::Perplexity {
            schema_spec["strict"] = json!(true);
        }
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": req.prompt.system},
                {"role": "user", "content": req.prompt.user},
            ],
            "response_format": {"type": "json_schema", "json_schema": schema_spec},
        });
        let max_key = match self.dialect {
            Dialect::OpenAi => "max_completion_tokens",
            Dialect::Xai | Dialect::Perplexity => "max_tokens",
        };
        body[max_key] = json!(req.prompt.max_tokens);
        body
    }

    pub async fn send(&self, req: Structured<'_>, timeout: Duration) -> Result<RawAnswer, Failed> {
        let url = format!("{}/chat/completions", self.base_url);
        let auth = format!("Bearer {}", self.key.expose());
        let reply = http::post_json(
            &self.http,
            &url,
            &[("authorization", &auth)],
            &self.request_body(req),
            timeout,
        )
        .await?;
        if reply.status != 200 {
            return Err(self.error(&reply).into());
        }
        self.parse(&http::json_body(&reply)?)
    }

    fn error(&self, reply: &Reply) -> CallError {
        let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        let err = &body["error"];
        let message = err["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&reply.body)
                    .chars()
                    .take(200)
                    .collect()
            });
        let marker_text = format!(
            "{} {} {}",
            err["type"].as_str().unwrap_or(""),
            err["code"].as_str().unwrap_or(""),
            message.to_lowercase()
        );
        let mut kind = kind_for_status(reply.status);
        if reply.status == 429 && QUOTA_MARKERS.iter().any(|m| marker_text.contains(m)) {
            kind = ErrorKind::QuotaExhausted;
        }
        CallError::Http {
            status: reply.status,
            kind,
            message: http::redact(&message, self.key.expose()),
            retry_after: http::retry_after(&reply.headers),
        }
    }

    fn parse(&self, body: &Value) -> Result<RawAnswer, Failed> {
        let usage = &body["usage"];
        let input = usage["prompt_tokens"].as_u64().unwrap_or(0);
        let output = usage["completion_tokens"].as_u64().unwrap_or(0);
        let reported_cost_usd = match self.dialect {
            Dialect::Perplexity => usage["cost"]["total_cost"].as_f64(),
            Dialect::Xai => usage["cost_in_usd_ticks"]
                .as_f64()
                .map(|ticks| ticks / XAI_TICKS_PER_USD),
            Dialect::OpenAi => None,
        };
        let tokens = Tokens {
            input_tokens: input,
            output_tokens: output,
            total_tokens: usage["total_tokens"].as_u64().unwrap_or(input + output),
            reported_cost_usd,
        };
        let fail = |error: CallError| Failed {
            error,
            tokens: Some(tokens.clone()),
        };
        let choice = &body["choices"][0];
        if choice.is_null() {
            return Err(fail(CallError::Malformed("no choices in response".into())));
        }
        let message = &choice["message"];
        if let Some(refusal) = message["refusal"].as_str().filter(|r| !r.is_empty()) {
            return Err(fail(CallError::Refusal(
                refusal.chars().take(200).collect(),
            )));
        }
        match choice["finish_reason"].as_str() {
            Some("length") => {
                return Err(fail(CallError::Truncated("finish_reason length".into())))
            }
            Some("content_filter") => {
                return Err(fail(CallError::Refusal("content filter".into())))
            }
            _ => {}
        }
        let Some(text) = message["content"].as_str() else {
            return Err(fail(CallError::Malformed("message has no content".into())));
        };
        let citations = if self.dialect == Dialect::Perplexity {
            perplexity_citations(body)
        } else {
            Vec::new()
        };
        Ok(RawAnswer {
            text: super::client::unwrap_json_text(text).to_string(),
            model: body["model"].as_str().unwrap_or(&self.model).to_string(),
            tokens,
            citations,
        })
    }
}

/// `search_results` carry titles and dates; plain `citations` only URLs. Prefer the former,
/// add any URL only the latter has.
fn perplexity_citations(body: &Value) -> Vec<Citation> {
    let mut out: Vec<Citation> = body["search_results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some(Citation {
                url: r["url"].as_str()?.to_string(),
                title: r["title"].as_str().map(str::to_string),
                date: r["date"].as_str().map(str::to_string),
                snippet: r["snippet"].as_str().map(str::to_string),
            })
        })
        .collect();
    for url in body["citations"].as_array().into_iter().flatten() {
        if let Some(url) = url.as_str() {
            if !out.iter().any(|c| c.url == url) {
                out.push(Citation {
                    url: url.to_string(),
                    title: None,
                    date: None,
                    snippet: None,
                });
            }
        }
    }
    out
}
