//! `POST /v1/models/train` parsed at the edge: every field checked, the first bad one named.

use serde_json::Value;
use shared::providers::Provider;
use shared::records::TrainingConfig;
use shared::validate::Fields;
use shared::ApiError;

#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub name: String,
    pub model_type: String,
    pub architecture: Option<String>,
    pub dataset: Option<String>,
    pub target_accuracy: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainRequest {
    pub model: ModelConfig,
    pub training: TrainingConfig,
}

pub const DEFAULT_EPOCHS: u32 = 10;
pub const DEFAULT_BATCH_SIZE: u32 = 32;
pub const DEFAULT_LEARNING_RATE: f64 = 0.001;

impl TrainRequest {
    pub fn parse(body: &Value) -> Result<TrainRequest, ApiError> {
        let root = Fields::new("", body)?;
        root.only(&["model_config", "training_config"])?;

        let m = root.required_object("model_config")?;
        m.only(&["name", "type", "architecture", "dataset", "target_accuracy"])?;
        let model = ModelConfig {
            name: m.required_string("name", 200)?,
            model_type: m.required_string("type", 100)?,
            architecture: m.string("architecture", 100)?,
            dataset: m.string("dataset", 200)?,
            target_accuracy: m.number_above("target_accuracy", 0.0, 1.0)?,
        };

        let training = match root.object("training_config")? {
            None => TrainingConfig {
                epochs: DEFAULT_EPOCHS,
                batch_size: DEFAULT_BATCH_SIZE,
                learning_rate: DEFAULT_LEARNING_RATE,
                ai_enhancement: false,
                providers: Vec::new(),
            },
            Some(t) => {
                t.only(&[
                    "epochs",
                    "batch_size",
                    "learning_rate",
                    "ai_enhancement",
                    "providers",
                ])?;
                TrainingConfig {
                    epochs: t
                        .integer("epochs", 1, 1000)?
                        .map_or(DEFAULT_EPOCHS, |v| v as u32),
                    batch_size: t
                        .integer("batch_size", 1, 65536)?
                        .map_or(DEFAULT_BATCH_SIZE, |v| v as u32),
                    learning_rate: t
                        .number_above("learning_rate", 0.0, 1.0)?
                        .unwrap_or(DEFAULT_LEARNING_RATE),
                    ai_enhancement: t.boolean("ai_enhancement")?.unwrap_or(false),
                    providers: t
                        .enum_list("providers", &Provider::names())?
                        .unwrap_or_default(),
                }
            }
        };
        Ok(TrainRequest { model, training })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec_example() -> Value {
        json!({
            "model_config": {
                "name": "Enhanced Image Classifier",
                "type": "computer_vision",
                "architecture": "resnet50",
                "dataset": "custom_images",
                "target_accuracy": 0.92
            },
            "training_config": {
                "epochs": 50,
                "batch_size": 32,
                "learning_rate": 0.001,
                "ai_enhancement": true,
                "providers": ["openai", "anthropic", "perplexity"]
            }
        })
    }

    fn bad_field(body: Value) -> String {
        let err = TrainRequest::parse(&body).unwrap_err();
        err.envelope()["error"]["details"]["field"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn parses_the_spec_example() {
        let r = TrainRequest::parse(&spec_example()).unwrap();
        assert_eq!(r.model.name, "Enhanced Image Classifier");
        assert_eq!(r.training.epochs, 50);
        assert_eq!(r.training.providers.len(), 3);
        assert!(r.training.ai_enhancement);
    }

    #[test]
    fn names_the_first_bad_field() {
        let cases = [
            (
                "/training_config/epochs",
                json!(0),
                "training_config.epochs",
            ),
            (
                "/training_config/epochs",
                json!(1001),
                "training_config.epochs",
            ),
            (
                "/training_config/epochs",
                json!("50"),
                "training_config.epochs",
            ),
            (
                "/training_config/batch_size",
                json!(65537),
                "training_config.batch_size",
            ),
            (
                "/training_config/learning_rate",
                json!(0),
                "training_config.learning_rate",
            ),
            (
                "/training_config/learning_rate",
                json!(1.5),
                "training_config.learning_rate",
            ),
            (
                "/model_config/target_accuracy",
                json!(0),
                "model_config.target_accuracy",
            ),
            (
                "/model_config/target_accuracy",
                json!(1.01),
                "model_config.target_accuracy",
            ),
            (
                "/training_config/providers",
                json!(["openai", "bard"]),
                "training_config.providers[1]",
            ),
            (
                "/training_config/ai_enhancement",
                json!("yes"),
                "training_config.ai_enhancement",
            ),
            ("/model_config/name", json!(""), "model_config.name"),
            ("/model_config/name", json!(7), "model_config.name"),
        ];
        for (pointer, value, field) in cases {
            let mut body = spec_example();
            *body.pointer_mut(pointer).unwrap() = value;
            assert_eq!(bad_field(body), field, "{pointer}");
        }
    }

    #[test]
    fn missing_and_unknown_fields() {
        assert_eq!(bad_field(json!({})), "model_config");
        assert_eq!(
            bad_field(json!({"model_config": {"type": "x"}})),
            "model_config.name"
        );
        let mut body = spec_example();
        body["training_config"]["epoch"] = json!(3);
        assert_eq!(bad_field(body), "training_config.epoch");
    }

    #[test]
    fn training_config_defaults() {
        let r = TrainRequest::parse(&json!({"model_config": {"name": "n", "type": "t"}})).unwrap();
        assert_eq!(r.training.epochs, DEFAULT_EPOCHS);
        assert_eq!(r.training.batch_size, DEFAULT_BATCH_SIZE);
        assert!(!r.training.ai_enhancement);
    }
}
