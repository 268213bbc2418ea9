//! The five AI providers: the catalog (names, capabilities, variables), one wire client per
//! provider, the shared HTTP exchange and error classification, answer schemas and prices.
//! Retries, fallbacks and deadlines live in `crate::orchestrator`, the same for all five.

pub mod anthropic;
pub mod catalog;
pub mod chat_completions;
pub mod client;
pub mod error;
pub mod gemini;
pub mod http;
pub mod pricing;
pub mod schema;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use catalog::{Provider, ALL};
pub use client::{Citation, Failed, Prompt, ProviderClient, RawAnswer, Structured, Tokens};
pub use error::{CallError, ErrorKind};

use crate::config::ProviderConfig;
use chat_completions::{ChatCompletions, Dialect};

/// The client for a configured provider (one with a key), or `None`.
pub fn client_for(cfg: &ProviderConfig, http: &reqwest::Client) -> Option<Arc<dyn ProviderClient>> {
    let key = cfg.api_key.clone()?;
    let (http, base_url, model) = (http.clone(), cfg.base_url.clone(), cfg.model.clone());
    let chat = |dialect| ChatCompletions {
        dialect,
        http: http.clone(),
        base_url: base_url.clone(),
        model: model.clone(),
        key: key.clone(),
    };
    Some(match cfg.provider {
        Provider::Openai => Arc::new(ChatClient(Provider::Openai, chat(Dialect::OpenAi))),
        Provider::Perplexity => {
            Arc::new(ChatClient(Provider::Perplexity, chat(Dialect::Perplexity)))
        }
        Provider::Grok => Arc::new(ChatClient(Provider::Grok, chat(Dialect::Xai))),
        Provider::Anthropic => Arc::new(anthropic::Anthropic {
            http,
            base_url,
            model,
            key,
        }),
        Provider::Gemini => Arc::new(gemini::Gemini {
            http,
            base_url,
            model,
            key,
        }),
    })
}

/// OpenAI, Perplexity and xAI: one wire format, three dialects.
struct ChatClient(Provider, ChatCompletions);

#[async_trait]
impl ProviderClient for ChatClient {
    fn provider(&self) -> Provider {
        self.0
    }
    fn model(&self) -> &str {
        &self.1.model
    }
    async fn send(&self, request: Structured<'_>, timeout: Duration) -> Result<RawAnswer, Failed> {
        self.1.send(request, timeout).await
    }
}

#[async_trait]
impl ProviderClient for anthropic::Anthropic {
    fn provider(&self) -> Provider {
        Provider::Anthropic
    }
    fn model(&self) -> &str {
        &self.model
    }
    async fn send(&self, request: Structured<'_>, timeout: Duration) -> Result<RawAnswer, Failed> {
        anthropic::Anthropic::send(self, request, timeout).await
    }
}

#[async_trait]
impl ProviderClient for gemini::Gemini {
    fn provider(&self) -> Provider {
        Provider::Gemini
    }
    fn model(&self) -> &str {
        &self.model
    }
    async fn send(&self, request: Structured<'_>, timeout: Duration) -> Result<RawAnswer, Failed> {
        gemini::Gemini::send(self, request, timeout).await
    }
}
