//! `POST /v1/ai/enhance` parsed at the edge, with what can be read from its free text.

use serde_json::{json, Value};
use shared::providers::Provider;
use shared::validate::Fields;
use shared::ApiError;

pub const SCOPES: [&str; 3] = ["architecture", "training", "data"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    Text,
    Image,
    TimeSeries,
    Audio,
    Tabular,
}

impl DataKind {
    pub fn name(self) -> &'static str {
        match self {
            DataKind::Text => "text",
            DataKind::Image => "image",
            DataKind::TimeSeries => "time_series",
            DataKind::Audio => "audio",
            DataKind::Tabular => "tabular",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EnhanceRequest {
    pub model_description: String,
    pub training_data: Option<String>,
    pub performance_metrics: Option<Value>,
    pub architecture: Option<Value>,
    pub optimization_focus: String,
    pub max_latency_ms: Option<f64>,
    pub max_size_mb: Option<f64>,
    pub scope: Vec<String>,
    pub providers: Option<Vec<Provider>>,
    pub data_kind: DataKind,
    pub samples: Option<u64>,
    pub classes: Option<u64>,
}

/// `"100ms"`, `"0.1s"`, `100` (ms) → milliseconds.
pub fn parse_latency_ms(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let s = s.trim().to_ascii_lowercase();
            let (num, factor) = if let Some(n) = s.strip_suffix("ms") {
                (n, 1.0)
            } else if let Some(n) = s.strip_suffix("us") {
                (n, 0.001)
            } else if let Some(n) = s.strip_suffix('s') {
                (n, 1000.0)
            } else {
                (s.as_str(), 1.0)
            };
            num.trim().parse::<f64>().ok().map(|x| x * factor)
        }
        _ => None,
    }
    .filter(|x| x.is_finite() && *x > 0.0)
}

/// `"500MB"`, `"1.5GB"`, `"800KB"`, `500` (MB) → megabytes (10^6 bytes).
pub fn parse_size_mb(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let s = s.trim().to_ascii_lowercase();
            let s = s.strip_suffix('b').unwrap_or(&s).trim_end();
            let (num, factor) = match s.chars().last() {
                Some('g') => (&s[..s.len() - 1], 1000.0),
                Some('m') => (&s[..s.len() - 1], 1.0),
                Some('k') => (&s[..s.len() - 1], 0.001),
                _ => (s, 1.0),
            };
            num.trim().parse::<f64>().ok().map(|x| x * factor)
        }
        _ => None,
    }
    .filter(|x| x.is_finite() && *x > 0.0)
}

/// The first number before one of `units` ("50K samples" → 50,000).
pub fn count_before(text: &str, units: &[&str]) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(2) {
        if units.iter().any(|u| pair[1].starts_with(u)) {
            let w = pair[0].replace('_', "");
            let (num, factor) = match w.chars().last() {
                Some('k') => (&w[..w.len() - 1], 1_000.0),
                Some('m') => (&w[..w.len() - 1], 1_000_000.0),
                _ => (w.as_str(), 1.0),
            };
            if let Ok(x) = num.parse::<f64>() {
                return Some((x * factor).round() as u64);
            }
        }
    }
    None
}

pub fn data_kind(text: &str) -> DataKind {
    let t = text.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if has(&[
        "image", "vision", "pixel", "photo", "cnn", "cifar", "mnist", "imagenet",
    ]) {
        DataKind::Image
    } else if has(&["audio", "speech", "sound"]) {
        DataKind::Audio
    } else if has(&["time series", "time-series", "forecast", "sensor", "stock"]) {
        DataKind::TimeSeries
    } else if has(&[
        "text",
        "nlp",
        "language",
        "sentiment",
        "transformer",
        "token",
        "email",
        "review",
    ]) {
        DataKind::Text
    } else {
        DataKind::Tabular
    }
}

impl EnhanceRequest {
    pub fn parse(body: &Value) -> Result<EnhanceRequest, ApiError> {
        let root = Fields::new("", body)?;
        root.only(&[
            "model_description",
            "training_data",
            "performance_metrics",
            "architecture",
            "config",
            "providers",
        ])?;
        let model_description = root.required_string("model_description", 5000)?;
        let training_data = root.string("training_data", 5000)?;
        root.object("performance_metrics")?;
        root.object("architecture")?;
        let (mut focus, mut latency, mut size, mut scope) = (
            "accuracy".to_string(),
            None,
            None,
            SCOPES.map(String::from).to_vec(),
        );
        if let Some(config) = root.object("config")? {
            config.only(&[
                "optimization_focus",
                "performance_constraints",
                "enhancement_scope",
            ])?;
            if let Some(f) = config.string("optimization_focus", 100)? {
                focus = f;
            }
            if let Some(c) = config.object("performance_constraints")? {
                c.only(&["max_inference_latency", "max_model_size"])?;
                if let Some(v) = c.get("max_inference_latency") {
                    latency = Some(parse_latency_ms(v).ok_or_else(|| {
                        ApiError::validation(
                            "config.performance_constraints.max_inference_latency",
                            v.clone(),
                            "a latency such as \"100ms\" or \"0.1s\"",
                            "max_inference_latency is not a latency",
                        )
                    })?);
                }
                if let Some(v) = c.get("max_model_size") {
                    size = Some(parse_size_mb(v).ok_or_else(|| {
                        ApiError::validation(
                            "config.performance_constraints.max_model_size",
                            v.clone(),
                            "a size such as \"500MB\" or \"1.5GB\"",
                            "max_model_size is not a size",
                        )
                    })?);
                }
            }
            if let Some(s) = config.enum_list("enhancement_scope", &SCOPES)? {
                if s.is_empty() {
                    return Err(ApiError::validation(
                        "config.enhancement_scope",
                        json!([]),
                        "a non-empty subset of architecture, training, data",
                        "enhancement_scope is empty",
                    ));
                }
                scope = s;
            }
        }
        let providers = root
            .enum_list("providers", &Provider::names())?
            .map(|names| names.iter().filter_map(|n| Provider::parse(n)).collect());
        let text = format!(
            "{} {}",
            model_description,
            training_data.as_deref().unwrap_or("")
        );
        Ok(EnhanceRequest {
            data_kind: data_kind(&text),
            samples: training_data.as_deref().and_then(|t| {
                count_before(
                    t,
                    &["sample", "row", "example", "image", "record", "document"],
                )
            }),
            classes: training_data
                .as_deref()
                .and_then(|t| count_before(t, &["categor", "class", "label"])),
            model_description,
            training_data,
            performance_metrics: root.get("performance_metrics").cloned(),
            architecture: root.get("architecture").cloned(),
            optimization_focus: focus,
            max_latency_ms: latency,
            max_size_mb: size,
            scope,
            providers,
        })
    }

    pub fn wants(&self, scope: &str) -> bool {
        self.scope.iter().any(|s| s == scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_spec_example() {
        let r = EnhanceRequest::parse(&json!({
            "model_description": "Transformer model for natural language processing",
            "training_data": "Text classification dataset, 50K samples, 5 categories",
            "config": {"optimization_focus": "accuracy",
                       "performance_constraints": {"max_inference_latency": "100ms", "max_model_size": "500MB"},
                       "enhancement_scope": ["architecture", "training", "data"]}
        }))
        .unwrap();
        assert_eq!(r.data_kind, DataKind::Text);
        assert_eq!(r.samples, Some(50_000));
        assert_eq!(r.classes, Some(5));
        assert_eq!(r.max_latency_ms, Some(100.0));
        assert_eq!(r.max_size_mb, Some(500.0));
    }

    #[test]
    fn units_and_errors() {
        assert_eq!(parse_latency_ms(&json!("0.25s")), Some(250.0));
        assert_eq!(parse_size_mb(&json!("1.5GB")), Some(1500.0));
        assert_eq!(parse_size_mb(&json!("800 KB")), Some(0.8));
        assert_eq!(parse_size_mb(&json!("big")), None);
        assert_eq!(
            count_before("2.5M rows of clicks", &["row"]),
            Some(2_500_000)
        );
        let err = EnhanceRequest::parse(
            &json!({"model_description": "m", "config": {"enhancement_scope": ["vibes"]}}),
        )
        .unwrap_err();
        assert_eq!(
            err.envelope()["error"]["details"]["field"],
            "config.enhancement_scope[0]"
        );
        let err = EnhanceRequest::parse(&json!({"training_data": "x"})).unwrap_err();
        assert_eq!(
            err.envelope()["error"]["details"]["field"],
            "model_description"
        );
    }
}
