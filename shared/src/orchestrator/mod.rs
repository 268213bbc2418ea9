//! Capability → provider routing with retries, fallbacks, cooldowns and a deadline.
//!
//! For a capability, the provider that owns it (the spec's table) is tried first, then the
//! other configured providers in `FALLBACK_ORDER`, then, where the caller has one, the
//! project's own builtin engine. Each provider gets up to `max_retries` retries on
//! retryable failures (waiting what the server asks, else exponential backoff with jitter),
//! never past the deadline; an unusable answer gets one repair attempt. A provider that keeps
//! failing is skipped by this instance for a cooldown.

mod fanout;
mod health;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::time::Instant;

pub use fanout::{fan_out, PartOutcome};
use health::Health;

use crate::config::{Config, ProviderConfig};
use crate::error::ApiError;
use crate::providers::{
    self, pricing, schema, CallError, Citation, Prompt, Provider, ProviderClient, Structured,
    Tokens, ALL,
};

/// After the capability's owner, the others are tried in this order: general structured-
/// output reliability first, Perplexity (search-grounded, slowest) last.
pub const FALLBACK_ORDER: [Provider; 5] = [
    Provider::Anthropic,
    Provider::Openai,
    Provider::Gemini,
    Provider::Grok,
    Provider::Perplexity,
];

/// A typed answer a provider is asked for. The JSON Schema sent to the provider is generated
/// from the type; `check` adds what a schema cannot say portably (ranges, lengths).
pub trait Answer: JsonSchema + DeserializeOwned + Serialize + Send + Sync + 'static {
    /// The schema's name on the wire (`[a-zA-Z0-9_-]`).
    const NAME: &'static str;
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub max_retries: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Consecutive failed calls before a provider cools down.
    pub failures_before_cooldown: u32,
    pub cooldown: Duration,
    /// Cooldown after an exhausted quota or a rejected key.
    pub disabled_for: Duration,
    /// Time kept back for the builtin engine when there is one.
    pub builtin_reserve: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_retries: 2,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(8),
            failures_before_cooldown: 3,
            cooldown: Duration::from_secs(30),
            disabled_for: Duration::from_secs(300),
            builtin_reserve: Duration::from_millis(500),
        }
    }
}

/// One request for a typed answer.
#[derive(Debug, Clone)]
pub struct Ask {
    pub capability: &'static str,
    pub prompt: Prompt,
    pub deadline: Instant,
    /// Only these providers, in this order (a caller that named providers).
    pub only: Option<Vec<Provider>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    Provider { provider: Provider, model: String },
    Builtin,
}

impl Source {
    pub fn name(&self) -> &'static str {
        match self {
            Source::Provider { provider, .. } => provider.name(),
            Source::Builtin => "builtin",
        }
    }
}

/// What happened at one provider during a request.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Attempt {
    pub provider: Provider,
    pub model: String,
    /// `answered`, or why not (`quota_exhausted`, `timeout`, `schema_violation`, ...).
    pub outcome: String,
    pub status: Option<u16>,
    pub message: Option<String>,
    pub retries: u32,
    pub latency_ms: u64,
}

/// Tokens and cost one provider consumed for one request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Usage {
    pub provider: String,
    pub model: String,
    pub calls: u32,
    pub failed_calls: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    pub cost_usd: Option<f64>,
    /// `provider` when the provider reported the cost, `price_table` when computed.
    pub cost_source: Option<&'static str>,
}

impl Usage {
    fn add(&mut self, tokens: &Tokens) {
        self.input_tokens += tokens.input_tokens;
        self.output_tokens += tokens.output_tokens;
        self.total_tokens += tokens.total_tokens;
        let (cost, source) = match tokens.reported_cost_usd {
            Some(c) => (Some(c), "provider"),
            None => (
                pricing::cost_usd(&self.model, tokens.input_tokens, tokens.output_tokens),
                "price_table",
            ),
        };
        if let Some(c) = cost {
            self.cost_usd = Some(self.cost_usd.unwrap_or(0.0) + c);
            self.cost_source = Some(source);
        }
    }
}

#[derive(Debug)]
pub struct Answered<T> {
    pub value: T,
    pub source: Source,
    pub latency: Duration,
    pub attempts: Vec<Attempt>,
    pub usage: Vec<Usage>,
    pub citations: Vec<Citation>,
}

/// No provider answered: what each one did.
#[derive(Debug)]
pub struct Unanswered {
    pub capability: &'static str,
    pub attempts: Vec<Attempt>,
    pub usage: Vec<Usage>,
    pub timed_out: bool,
    pub deadline: Duration,
}

impl Unanswered {
    pub fn details(&self) -> Value {
        json!({
            "capability": self.capability,
            "attempts": self.attempts,
            "deadline_ms": self.deadline.as_millis() as u64,
        })
    }

    pub fn into_error(self) -> ApiError {
        if self.timed_out {
            ApiError::ProcessingTimeout {
                message: format!(
                    "no AI provider answered {} within the {:.1} s deadline",
                    self.capability,
                    self.deadline.as_secs_f64()
                ),
                details: self.details(),
            }
        } else if self.attempts.is_empty() {
            ApiError::ServiceUnavailable {
                message: format!("no AI provider is configured for {}", self.capability),
                details: self.details(),
            }
        } else {
            ApiError::ServiceUnavailable {
                message: format!("no AI provider could answer {}", self.capability),
                details: self.details(),
            }
        }
    }
}

pub struct Orchestrator {
    configs: Vec<ProviderConfig>,
    clients: OnceLock<Vec<Arc<dyn ProviderClient>>>,
    policy: Policy,
    health: Mutex<HashMap<Provider, Health>>,
    /// Where every instance keeps provider health, so a provider one instance saw refuse a
    /// key is skipped by all, and `/v1/ai/status` tells the truth. This instance's own
    /// `health` stands in when the store cannot be read.
    shared_health: Option<std::sync::Arc<dyn crate::store::MetaStore>>,
    default_deadline: Duration,
}

/// How long a provider-health read may take before the request goes on without it.
const SHARED_HEALTH_TIMEOUT: Duration = Duration::from_secs(1);

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The provider that owns `capability` in the spec's table.
pub fn owner(capability: &str) -> Option<Provider> {
    ALL.into_iter()
        .find(|p| p.capabilities().contains(&capability))
}

fn decode<T: Answer>(text: &str) -> Result<T, CallError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| CallError::Malformed(format!("answer is not JSON: {e}")))?;
    let typed: T = serde_json::from_value(value).map_err(|e| CallError::Invalid(e.to_string()))?;
    typed.check().map_err(CallError::Invalid)?;
    Ok(typed)
}

fn repair_prompt(base: &Prompt, error: &CallError) -> Prompt {
    let mut p = base.clone();
    let advice = match error {
        CallError::Truncated(_) => {
            p.max_tokens = (p.max_tokens.saturating_mul(2)).min(16_384);
            "Your previous answer was cut off. Answer again, more briefly.".to_string()
        }
        other => format!(
            "Your previous answer could not be used ({other}). Answer again with only a JSON object that fits the schema exactly."
        ),
    };
    p.user = format!("{}\n\n{advice}", base.user);
    p
}

impl Orchestrator {
    /// Clients are built on first use, so a function's cold start pays nothing for TLS setup.
    pub fn from_config(config: &Config) -> Self {
        Orchestrator {
            configs: config.providers.clone(),
            clients: OnceLock::new(),
            policy: Policy::default(),
            health: Mutex::new(HashMap::new()),
            shared_health: None,
            default_deadline: config.request_deadline,
        }
    }

    /// Keeps provider health in `store`, shared by every instance on it.
    pub fn with_shared_health(
        mut self,
        store: std::sync::Arc<dyn crate::store::MetaStore>,
    ) -> Self {
        self.shared_health = Some(store);
        self
    }

    /// The shared health rows, or none when there is no store or it does not answer in time.
    async fn read_shared_health(&self) -> Vec<crate::store::ProviderHealth> {
        let Some(store) = &self.shared_health else {
            return Vec::new();
        };
        match tokio::time::timeout(SHARED_HEALTH_TIMEOUT, store.provider_health()).await {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "provider health unreadable; using this instance's");
                Vec::new()
            }
            Err(_) => {
                tracing::warn!("provider health read timed out; using this instance's");
                Vec::new()
            }
        }
    }

    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// For tests and benchmarks: explicit clients and policy.
    pub fn with_clients(
        clients: Vec<Arc<dyn ProviderClient>>,
        policy: Policy,
        default_deadline: Duration,
    ) -> Self {
        let configs = Vec::new();
        let cell = OnceLock::new();
        let _ = cell.set(clients);
        Orchestrator {
            configs,
            clients: cell,
            policy,
            health: Mutex::new(HashMap::new()),
            shared_health: None,
            default_deadline,
        }
    }

    pub fn default_deadline(&self) -> Duration {
        self.default_deadline
    }

    /// A deadline `default_deadline` from now.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.default_deadline
    }

    fn clients(&self) -> &[Arc<dyn ProviderClient>] {
        self.clients.get_or_init(|| {
            let http = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default();
            self.configs
                .iter()
                .filter_map(|c| providers::client_for(c, &http))
                .collect()
        })
    }

    fn client(&self, p: Provider) -> Option<&Arc<dyn ProviderClient>> {
        self.clients().iter().find(|c| c.provider() == p)
    }

    pub fn configured(&self) -> Vec<Provider> {
        self.clients().iter().map(|c| c.provider()).collect()
    }

    /// `MISSING_API_KEY` for the first named provider without a key.
    pub fn require_configured(&self, named: &[Provider]) -> Result<(), ApiError> {
        for p in named {
            if self.client(*p).is_none() {
                return Err(ApiError::MissingApiKey {
                    provider: p.name().to_string(),
                    variable: p.key_vars()[0].to_string(),
                });
            }
        }
        Ok(())
    }

    /// Providers being skipped for a cooldown, by any instance on the shared store or by
    /// this one, with the time left.
    pub async fn cooling_down(&self) -> Vec<(Provider, Duration)> {
        // With no provider configured nothing can cool: no store read.
        let any = self.clients.get().map_or_else(
            || self.configs.iter().any(|c| c.configured()),
            |clients| !clients.is_empty(),
        );
        let shared = if any {
            self.read_shared_health().await
        } else {
            Vec::new()
        };
        let mut out: Vec<(Provider, Duration)> = ALL
            .into_iter()
            .filter_map(|p| self.cooling_left(p, &shared).map(|d| (p, d)))
            .collect();
        out.sort_by_key(|(p, _)| *p);
        out
    }

    /// How long `p` is still skipped: the later of this instance's cooldown and the shared one.
    fn cooling_left(
        &self,
        p: Provider,
        shared: &[crate::store::ProviderHealth],
    ) -> Option<Duration> {
        let local = self.health_of(p, |h| h.cooling_left(Instant::now()));
        let now_ms = unix_ms();
        let remote = shared
            .iter()
            .find(|h| h.provider == p.name())
            .and_then(|h| h.cooling_until_ms)
            .filter(|until| *until > now_ms)
            .map(|until| Duration::from_millis((until - now_ms) as u64));
        local.max(remote)
    }

    /// The candidates for `ask`, in order.
    pub fn route(&self, capability: &str, only: Option<&[Provider]>) -> Vec<Provider> {
        let order: Vec<Provider> = match only {
            Some(named) => named.to_vec(),
            None => {
                let first = owner(capability);
                first
                    .into_iter()
                    .chain(FALLBACK_ORDER.into_iter().filter(|p| Some(*p) != first))
                    .collect()
            }
        };
        order
            .into_iter()
            .filter(|p| self.client(*p).is_some())
            .collect()
    }

    fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .policy
            .backoff_base
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.policy.backoff_cap);
        // Jitter: 75-100 % of the step, so instances that failed together retry apart.
        exp.mul_f64(1.0 - 0.25 * rand::random::<f64>())
    }

    /// Asks the providers in route order for a `T`; no builtin.
    pub async fn ask<T: Answer>(&self, ask: Ask) -> Result<Answered<T>, Unanswered> {
        self.ask_until::<T>(&ask, ask.deadline).await
    }

    /// Asks the providers, and if none answers, takes the builtin engine's answer, keeping a
    /// moment of the deadline back for it.
    pub async fn ask_or_builtin<T: Answer>(
        &self,
        ask: Ask,
        builtin: impl FnOnce() -> T,
    ) -> Answered<T> {
        let started = Instant::now();
        let provider_deadline = ask
            .deadline
            .checked_sub(self.policy.builtin_reserve)
            .unwrap_or(ask.deadline);
        match self.ask_until::<T>(&ask, provider_deadline).await {
            Ok(answered) => answered,
            Err(failed) => Answered {
                value: builtin(),
                source: Source::Builtin,
                latency: started.elapsed(),
                attempts: failed.attempts,
                usage: failed.usage,
                citations: Vec::new(),
            },
        }
    }

    async fn ask_until<T: Answer>(
        &self,
        ask: &Ask,
        deadline: Instant,
    ) -> Result<Answered<T>, Unanswered> {
        let started = Instant::now();
        let schema = schema::for_type::<T>();
        let route = self.route(ask.capability, ask.only.as_deref());
        let mut attempts = Vec::new();
        let mut usage: Vec<Usage> = Vec::new();
        let mut timed_out = false;
        let total = route.len();
        let shared = if route.is_empty() {
            Vec::new()
        } else {
            self.read_shared_health().await
        };
        for (i, provider) in route.into_iter().enumerate() {
            let client = self
                .client(provider)
                .expect("routed providers have clients")
                .clone();
            let now = Instant::now();
            if let Some(left) = self.cooling_left(provider, &shared) {
                attempts.push(Attempt {
                    provider,
                    model: client.model().to_string(),
                    outcome: "cooling_down".into(),
                    status: None,
                    message: Some(format!("skipped for another {} s", left.as_secs())),
                    retries: 0,
                    latency_ms: 0,
                });
                continue;
            }
            if now >= deadline {
                timed_out = true;
                break;
            }
            // Leave the later candidates a third of what is left.
            let remaining = deadline - now;
            let budget = if i + 1 < total {
                remaining.mul_f64(2.0 / 3.0)
            } else {
                remaining
            };
            let mut entry = Usage {
                provider: provider.name().to_string(),
                model: client.model().to_string(),
                ..Usage::default()
            };
            let result = self
                .call::<T>(client.as_ref(), ask, &schema, now + budget, &mut entry)
                .await;
            usage.push(entry);
            let latency_ms = now.elapsed().as_millis() as u64;
            match result {
                Ok((value, model, citations, retries)) => {
                    self.update_health(provider, None);
                    if shared.iter().any(|h| h.provider == provider.name()) {
                        self.share_success(provider).await;
                    }
                    tracing::info!(provider = provider.name(), model = %model, retries, latency_ms, capability = ask.capability, "provider answered");
                    attempts.push(Attempt {
                        provider,
                        model: model.clone(),
                        outcome: "answered".into(),
                        status: None,
                        message: None,
                        retries,
                        latency_ms,
                    });
                    return Ok(Answered {
                        value,
                        source: Source::Provider { provider, model },
                        latency: started.elapsed(),
                        attempts,
                        usage,
                        citations,
                    });
                }
                Err((error, retries)) => {
                    tracing::warn!(provider = provider.name(), reason = error.reason(), error = %error, retries, latency_ms, capability = ask.capability, "provider failed");
                    self.update_health(provider, Some(&error));
                    self.share_failure(provider, &error).await;
                    if matches!(error, CallError::Timeout) && Instant::now() >= deadline {
                        timed_out = true;
                    }
                    attempts.push(Attempt {
                        provider,
                        model: client.model().to_string(),
                        outcome: error.reason().into(),
                        status: match &error {
                            CallError::Http { status, .. } => Some(*status),
                            _ => None,
                        },
                        message: Some(error.to_string()),
                        retries,
                        latency_ms,
                    });
                }
            }
        }
        Err(Unanswered {
            capability: ask.capability,
            attempts,
            usage,
            timed_out,
            deadline: ask.deadline.saturating_duration_since(started),
        })
    }

    /// One provider: retries on retryable failures, one repair on an unusable answer.
    async fn call<T: Answer>(
        &self,
        client: &dyn ProviderClient,
        ask: &Ask,
        schema: &Value,
        deadline: Instant,
        usage: &mut Usage,
    ) -> Result<(T, String, Vec<Citation>, u32), (CallError, u32)> {
        let mut prompt = ask.prompt.clone();
        let mut retries = 0;
        let mut repaired = false;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err((CallError::Timeout, retries));
            }
            let request = Structured {
                prompt: &prompt,
                schema_name: T::NAME,
                schema,
            };
            usage.calls += 1;
            let error = match client.send(request, deadline - now).await {
                Ok(raw) => {
                    usage.add(&raw.tokens);
                    match decode::<T>(&raw.text) {
                        Ok(value) => return Ok((value, raw.model, raw.citations, retries)),
                        Err(e) => e,
                    }
                }
                Err(failed) => {
                    if let Some(tokens) = &failed.tokens {
                        usage.add(tokens);
                    }
                    failed.error
                }
            };
            usage.failed_calls += 1;
            if error.repairable() && !repaired {
                repaired = true;
                prompt = repair_prompt(&ask.prompt, &error);
                continue;
            }
            if error.retryable() && retries < self.policy.max_retries {
                let wait = error.retry_after().unwrap_or_else(|| self.backoff(retries));
                if Instant::now() + wait >= deadline {
                    return Err((error, retries));
                }
                tokio::time::sleep(wait).await;
                retries += 1;
                continue;
            }
            return Err((error, retries));
        }
    }

    /// Records a failed call in the shared health (best effort: this instance's own health
    /// already has it).
    async fn share_failure(&self, p: Provider, error: &CallError) {
        let Some(store) = &self.shared_health else {
            return;
        };
        let now = unix_ms();
        let failure = crate::store::ProviderFailure {
            provider: p.name().to_string(),
            cool_at_once: error
                .disables_provider()
                .then(|| now + self.policy.disabled_for.as_millis() as i64),
            threshold: self.policy.failures_before_cooldown,
            cool_until_ms: now + self.policy.cooldown.as_millis() as i64,
            reason: error.reason().to_string(),
        };
        if let Err(e) = store.provider_failed(&failure).await {
            tracing::warn!(provider = p.name(), error = %e, "provider failure not shared");
        }
    }

    async fn share_success(&self, p: Provider) {
        if let Some(store) = &self.shared_health {
            if let Err(e) = store.provider_succeeded(p.name()).await {
                tracing::warn!(provider = p.name(), error = %e, "provider recovery not shared");
            }
        }
    }

    fn health_of<R>(&self, p: Provider, f: impl FnOnce(&Health) -> Option<R>) -> Option<R> {
        let health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        health.get(&p).and_then(f)
    }

    fn update_health(&self, p: Provider, error: Option<&CallError>) {
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        let h = health.entry(p).or_default();
        match error {
            None => h.succeeded(),
            Some(e) => h.failed(e, Instant::now(), &self.policy),
        }
    }
}
