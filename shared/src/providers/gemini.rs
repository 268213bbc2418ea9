//! Gemini's `generateContent`: `POST {base}/v1beta/models/{model}:generateContent` with
//! `x-goog-api-key`; structured output through `generationConfig.responseMimeType` and
//! `responseJsonSchema`; the answer is the concatenated `text` of the first candidate's parts.
//! Waits come in the error body (`google.rpc.RetryInfo.retryDelay`), and a daily
//! `QuotaFailure` means the quota is gone for the day.

use std::time::Duration;

use serde_json::{json, Value};

use super::client::{Failed, RawAnswer, Structured, Tokens};
use super::error::{kind_for_status, CallError, ErrorKind};
use super::http;
use crate::config::Secret;

pub struct Gemini {
    pub http: reqwest::Client,
    pub base_url: String,
    pub model: String,
    pub key: Secret,
}

/// `"38s"` / `"1.5s"` → a duration.
pub fn parse_retry_delay(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

impl Gemini {
    pub fn request_body(&self, req: Structured<'_>) -> Value {
        json!({
            "systemInstruction": {"parts": [{"text": req.prompt.system}]},
            "contents": [{"role": "user", "parts": [{"text": req.prompt.user}]}],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": req.schema,
                "maxOutputTokens": req.prompt.max_tokens,
            },
        })
    }

    fn error(&self, status: u16, headers: &reqwest::header::HeaderMap, raw: &[u8]) -> CallError {
        let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
        let err = &body["error"];
        let message = err["message"].as_str().unwrap_or("no message").to_string();
        let details = err["details"].as_array().cloned().unwrap_or_default();
        let of_type = |t: &'static str| {
            details
                .iter()
                .filter(move |d| d["@type"].as_str().is_some_and(|x| x.ends_with(t)))
        };
        let retry_after = of_type("google.rpc.RetryInfo")
            .find_map(|d| d["retryDelay"].as_str().and_then(parse_retry_delay))
            .or_else(|| http::retry_after(headers));
        let daily = of_type("google.rpc.QuotaFailure").any(|d| {
            d["violations"].as_array().into_iter().flatten().any(|v| {
                v["quotaId"].as_str().is_some_and(|q| q.contains("PerDay"))
                    || v["quotaMetric"]
                        .as_str()
                        .is_some_and(|q| q.contains("per_day"))
            })
        });
        let mut kind = kind_for_status(status);
        if status == 429 && daily {
            kind = ErrorKind::QuotaExhausted;
        }
        CallError::Http {
            status,
            kind,
            message: http::redact(&message, self.key.expose()),
            retry_after,
        }
    }

    pub async fn send(&self, req: Structured<'_>, timeout: Duration) -> Result<RawAnswer, Failed> {
        let url = format!(
            "{}/v1beta/models/{}:generateContent",
            self.base_url, self.model
        );
        let reply = http::post_json(
            &self.http,
            &url,
            &[("x-goog-api-key", self.key.expose())],
            &self.request_body(req),
            timeout,
        )
        .await?;
        if reply.status != 200 {
            return Err(self.error(reply.status, &reply.headers, &reply.body).into());
        }
        let body = http::json_body(&reply)?;
        let meta = &body["usageMetadata"];
        let input = meta["promptTokenCount"].as_u64().unwrap_or(0);
        let output = meta["candidatesTokenCount"].as_u64().unwrap_or(0);
        let tokens = Tokens {
            input_tokens: input,
            output_tokens: output,
            total_tokens: meta["totalTokenCount"].as_u64().unwrap_or(input + output),
            reported_cost_usd: None,
        };
        let fail = |error: CallError| Failed {
            error,
            tokens: Some(tokens.clone()),
        };
        if let Some(reason) = body["promptFeedback"]["blockReason"].as_str() {
            return Err(fail(CallError::Refusal(format!(
                "prompt blocked: {reason}"
            ))));
        }
        let candidate = &body["candidates"][0];
        match candidate["finishReason"].as_str() {
            Some("STOP") | None => {}
            Some("MAX_TOKENS") => {
                return Err(fail(CallError::Truncated("finishReason MAX_TOKENS".into())))
            }
            Some(other) => return Err(fail(CallError::Refusal(format!("finishReason {other}")))),
        }
        let text: String = candidate["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["text"].as_str())
            .collect();
        if text.is_empty() {
            return Err(fail(CallError::Malformed("candidate has no text".into())));
        }
        Ok(RawAnswer {
            text: super::client::unwrap_json_text(&text).to_string(),
            model: body["modelVersion"]
                .as_str()
                .unwrap_or(&self.model)
                .to_string(),
            tokens,
            citations: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_retry_delay;
    use std::time::Duration;

    #[test]
    fn retry_delays() {
        assert_eq!(parse_retry_delay("38s"), Some(Duration::from_secs(38)));
        assert_eq!(parse_retry_delay("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_delay("soon"), None);
    }
}
