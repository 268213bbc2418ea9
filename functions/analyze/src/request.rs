//! `POST /v1/ai/analyze` parsed at the edge.

use analysis::AnalysisInput;
use serde_json::Value;
use shared::providers::Provider;
use shared::validate::Fields;
use shared::ApiError;

#[derive(Debug, Clone)]
pub struct AnalyzeRequest {
    pub input: AnalysisInput,
    pub providers: Option<Vec<Provider>>,
}

impl AnalyzeRequest {
    pub fn parse(body: &Value) -> Result<AnalyzeRequest, ApiError> {
        let root = Fields::new("", body)?;
        root.only(&[
            "model_description",
            "architecture",
            "data_sample",
            "performance_metrics",
            "providers",
        ])?;
        let model_description = Some(root.required_string("model_description", 5000)?);
        // Type-checked as objects here; their contents are the analyzer's to parse.
        root.object("architecture")?;
        root.object("performance_metrics")?;
        let architecture = root.get("architecture").cloned();
        let performance_metrics = root.get("performance_metrics").cloned();
        let providers = root
            .enum_list("providers", &Provider::names())?
            .map(|names| names.iter().filter_map(|n| Provider::parse(n)).collect());
        Ok(AnalyzeRequest {
            input: AnalysisInput {
                model_description,
                architecture,
                data_sample: root.string("data_sample", 5000)?,
                performance_metrics,
            },
            providers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(body: Value) -> String {
        AnalyzeRequest::parse(&body).unwrap_err().envelope()["error"]["details"]["field"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn description_is_required_and_types_checked() {
        assert_eq!(field(json!({"data_sample": "x"})), "model_description");
        assert_eq!(
            field(json!({"model_description": "m", "architecture": []})),
            "architecture"
        );
        assert_eq!(
            field(json!({"model_description": "m", "performance_metrics": 3})),
            "performance_metrics"
        );
        assert_eq!(
            field(json!({"model_description": "m", "extra": 1})),
            "extra"
        );
        assert!(AnalyzeRequest::parse(
            &json!({"model_description": "LSTM", "performance_metrics": {"mse": 0.02}})
        )
        .is_ok());
    }
}
