//! Who the providers are, what each is routed for (the spec's capability table), and which
//! environment variables configure them. Defaults follow each provider's own SDK convention.

use serde::Serialize;

/// A provider, by the name requests use (`providers: [...]`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Openai,
    Anthropic,
    Perplexity,
    Gemini,
    Grok,
}

/// In the spec's order, which is also the order `/v1/ai/status` lists them.
pub const ALL: [Provider; 5] = [
    Provider::Openai,
    Provider::Anthropic,
    Provider::Perplexity,
    Provider::Gemini,
    Provider::Grok,
];

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Openai => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Perplexity => "perplexity",
            Provider::Gemini => "gemini",
            Provider::Grok => "grok",
        }
    }

    pub fn parse(name: &str) -> Option<Provider> {
        ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn names() -> [&'static str; 5] {
        ALL.map(Provider::name)
    }

    /// The spec's capability table: the provider that owns a capability is tried first.
    pub fn capabilities(self) -> [&'static str; 3] {
        match self {
            Provider::Openai => ["synthetic_data", "optimization", "code_generation"],
            Provider::Anthropic => ["reasoning", "analysis", "architecture_review"],
            Provider::Perplexity => ["research", "benchmarking", "industry_insights"],
            Provider::Gemini => ["multimodal", "code_optimization", "performance_analysis"],
            Provider::Grok => ["creativity", "innovation", "architecture_design"],
        }
    }

    /// Key variables, in the order they are read (Gemini accepts Google's generic name too).
    pub fn key_vars(self) -> &'static [&'static str] {
        match self {
            Provider::Openai => &["OPENAI_API_KEY"],
            Provider::Anthropic => &["ANTHROPIC_API_KEY"],
            Provider::Perplexity => &["PERPLEXITY_API_KEY"],
            Provider::Gemini => &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
            Provider::Grok => &["XAI_API_KEY"],
        }
    }

    pub fn base_url_var(self) -> &'static str {
        match self {
            Provider::Openai => "OPENAI_BASE_URL",
            Provider::Anthropic => "ANTHROPIC_BASE_URL",
            Provider::Perplexity => "PERPLEXITY_BASE_URL",
            Provider::Gemini => "GEMINI_BASE_URL",
            Provider::Grok => "XAI_BASE_URL",
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::Openai => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::Perplexity => "https://api.perplexity.ai",
            Provider::Gemini => "https://generativelanguage.googleapis.com",
            Provider::Grok => "https://api.x.ai/v1",
        }
    }

    pub fn model_var(self) -> &'static str {
        match self {
            Provider::Openai => "OPENAI_MODEL",
            Provider::Anthropic => "ANTHROPIC_MODEL",
            Provider::Perplexity => "PERPLEXITY_MODEL",
            Provider::Gemini => "GEMINI_MODEL",
            Provider::Grok => "XAI_MODEL",
        }
    }

    /// Current general-purpose models with structured-output support; override per provider.
    pub fn default_model(self) -> &'static str {
        match self {
            Provider::Openai => "gpt-4.1-mini",
            Provider::Anthropic => "claude-sonnet-4-5",
            Provider::Perplexity => "sonar-pro",
            Provider::Gemini => "gemini-2.5-flash",
            Provider::Grok => "grok-4",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capability_has_one_owner() {
        let mut seen = std::collections::HashSet::new();
        for p in ALL {
            for c in p.capabilities() {
                assert!(seen.insert(c), "{c} owned twice");
            }
            assert_eq!(Provider::parse(p.name()), Some(p));
        }
        assert_eq!(seen.len(), 15);
    }
}
