//! The HTTP exchange every provider shares: post JSON within a time limit, read the status,
//! the body and the server's wait hints (`retry-after-ms`, `retry-after` in seconds or as an
//! HTTP date). Keys are redacted from anything a provider echoes back.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::error::CallError;

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// One POST, bounded by `timeout`. Connection failures and dropped connections are
/// `Transport`; running out of time is `Timeout`.
pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    body: &Value,
    timeout: Duration,
) -> Result<Reply, CallError> {
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let exchange = async {
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(transport)?.to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    };
    match crate::http::timing::timed(
        crate::http::timing::Part::Provider,
        tokio::time::timeout(timeout, exchange),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(CallError::Timeout),
    }
}

fn transport(e: reqwest::Error) -> CallError {
    if e.is_timeout() {
        return CallError::Timeout;
    }
    // reqwest's Display names the URL; the source chain says what failed.
    let mut reason = String::from(if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "response body interrupted"
    } else {
        "request failed"
    });
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        reason = format!("{reason}: {s}");
        source = s.source();
    }
    CallError::Transport(reason)
}

/// The server's requested wait: `retry-after-ms` first (OpenAI and Anthropic send it), then
/// `retry-after` as seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// Removes the key (and any 8+ character prefix of it a provider echoes) from `text`, and
/// bounds its length: provider messages end up in logs and error details.
pub fn redact(text: &str, key: &str) -> String {
    let mut out = text.to_string();
    if key.len() >= 8 {
        out = out.replace(key, "[redacted]");
        // Providers echo a masked key such as "sk-abc12***wxyz": drop any long key prefix too.
        let prefix = &key[..8.min(key.len())];
        out = out.replace(prefix, "[redacted]");
    } else if !key.is_empty() {
        out = out.replace(key, "[redacted]");
    }
    if out.chars().count() > 300 {
        out = out.chars().take(300).collect::<String>() + "…";
    }
    out
}

/// The JSON body, or a `Malformed` error naming what was wrong.
pub fn json_body(reply: &Reply) -> Result<Value, CallError> {
    serde_json::from_slice(&reply.body)
        .map_err(|e| CallError::Malformed(format!("response is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = HeaderMap::new();
        let date = (chrono::Utc::now() + chrono::Duration::seconds(5)).to_rfc2822();
        h.insert("retry-after", HeaderValue::from_str(&date).unwrap());
        let wait = retry_after(&h).unwrap();
        assert!(
            wait <= Duration::from_secs(5) && wait >= Duration::from_secs(3),
            "{wait:?}"
        );
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn redacts_keys_and_masked_prefixes() {
        let key = "sk-SENTINEL-abcdefgh12345";
        let msg = format!("Incorrect API key provided: {key}. Also sk-SENTI***2345.");
        let out = redact(&msg, key);
        assert!(!out.contains(key) && !out.contains("sk-SENTI"), "{out}");
        assert!(redact(&"x".repeat(1000), key).chars().count() <= 301);
    }
}
