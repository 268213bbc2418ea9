//! `POST /v1/models/train` parsed at the edge into its wire type, every field checked and the
//! first bad one named; [`resolve`] fills in the defaults the job is stored with.

use serde_json::{json, Value};
use shared::providers::Provider;
use shared::records::{
    ArchitectureName, GbmOptions, ModelType, OptimizerKind, TrainingConfig,
    DEFAULT_MAX_RUNTIME_SECONDS, DEFAULT_OPTIMIZER, DEFAULT_VALIDATION_SPLIT, MAX_RUNTIME_SECONDS,
};
use shared::validate::Fields;
use shared::wire::{
    LayerList, TrainArchitecture, TrainForecast, TrainModelConfig, TrainRequest,
    TrainTrainingConfig,
};
use shared::ApiError;
use training::Architecture;

pub const DEFAULT_ARCHITECTURE: ArchitectureName = ArchitectureName::Mlp;
pub const DEFAULT_EPOCHS: u32 = 10;
pub const DEFAULT_BATCH_SIZE: u32 = 32;
pub const DEFAULT_LEARNING_RATE: f64 = 0.001;

fn unsupported(field: &str, got: &str, supported: &[&str], what: &str) -> ApiError {
    ApiError::validation(
        field,
        json!(got),
        format!("one of: {}", supported.join(", ")),
        format!(
            "{what} {got:?} cannot be trained here; supported: {} (tabular classification or regression on a stored dataset)",
            supported.join(", ")
        ),
    )
}

/// Parses and checks a training request.
pub fn parse(body: &Value) -> Result<TrainRequest, ApiError> {
    let root = Fields::new("", body)?;
    root.only(&["model_config", "training_config"])?;
    let model_config = model_config(&root.required_object("model_config")?)?;
    let training_config = match root.object("training_config")? {
        None => None,
        Some(t) => Some(training_config(&t)?),
    };
    Ok(TrainRequest {
        model_config,
        training_config,
    })
}

fn model_config(m: &Fields<'_>) -> Result<TrainModelConfig, ApiError> {
    m.only(&[
        "name",
        "type",
        "architecture",
        "hidden_layers",
        "dataset",
        "target_accuracy",
        "features",
        "exclude",
        "gbm",
        "forecast",
        "text_column",
        "max_length",
    ])?;
    let name = m.required_string("name", 200)?;
    let written_type = m.required_string("type", 100)?;
    let supported_types: Vec<&str> = ModelType::ALL.iter().map(|t| t.as_str()).collect();
    let model_type = ModelType::parse(&written_type).ok_or_else(|| {
        unsupported(
            "model_config.type",
            &written_type,
            &supported_types,
            "model type",
        )
    })?;
    let hidden_layers = m
        .integer_list("hidden_layers", 1, 4096, 8)?
        .map(|v| v.into_iter().map(|n| n as usize).collect::<Vec<_>>());
    // A forecaster's default is the LSTM preset and a text classifier's the TextCNN, not
    // the tabular mlp.
    let chosen = match (m.get("architecture"), model_type) {
        (None | Some(Value::Null), ModelType::TimeSeriesForecasting) => {
            TrainArchitecture::Preset(analysis::presets::Preset::LstmForecaster)
        }
        (None | Some(Value::Null), t) if t.reads_text() => {
            TrainArchitecture::Preset(analysis::presets::Preset::TextCnn)
        }
        _ => architecture(m)?,
    };
    let architecture = chosen.family();
    let gbm = match m.object("gbm")? {
        None => None,
        Some(_) if architecture != ArchitectureName::Gbm => {
            return Err(ApiError::validation(
                "model_config.gbm",
                m.get("gbm").cloned().unwrap_or_default(),
                "absent unless architecture is gbm",
                format!(
                    "model_config.gbm sets gradient-boosted trees; this request trains {}",
                    architecture.as_str()
                ),
            ))
        }
        Some(g) => {
            g.only(&["trees", "learning_rate", "max_depth", "colsample"])?;
            Some(GbmOptions {
                trees: g
                    .integer("trees", 1, i64::from(training::gbm::MAX_TREES))?
                    .map(|t| t as u32),
                learning_rate: g.number_above("learning_rate", 0.0, 1.0)?.map(|r| r as f32),
                max_depth: g
                    .integer("max_depth", 1, i64::from(training::gbm::MAX_DEPTH))?
                    .map(|d| d as u32),
                colsample: g.number_above("colsample", 0.0, 1.0)?,
            })
        }
    };
    match architecture {
        _ if architecture != ArchitectureName::Mlp && hidden_layers.is_some() => {
            return Err(ApiError::validation(
                "model_config.hidden_layers",
                json!(hidden_layers),
                format!("absent for {}", architecture.as_str()),
                format!(
                    "hidden_layers apply to an mlp, not to {}",
                    architecture.as_str()
                ),
            ))
        }
        ArchitectureName::Mlp => {
            if let Err(e) = Architecture::from_record(architecture, hidden_layers.clone()) {
                return Err(ApiError::validation(
                    "model_config.hidden_layers",
                    json!(hidden_layers),
                    "1 to 8 layer sizes, each from 1 to 4096",
                    e.to_string(),
                ));
            }
        }
        _ => {}
    }
    let dataset = m.string("dataset", 200)?.ok_or_else(|| {
        ApiError::validation(
            "model_config.dataset",
            Value::Null,
            "a dataset id (ds_...)",
            "model_config.dataset is required: the id of a stored dataset; create one with \
             POST /v1/ai/synthetic-data or upload a CSV with POST /v1/datasets",
        )
    })?;
    let features = m.string_list("features", 1000)?;
    let exclude = m.string_list("exclude", 1000)?;
    if features.is_some() && exclude.is_some() {
        return Err(ApiError::validation(
            "model_config.exclude",
            json!(exclude),
            "absent when features is given",
            "give model_config.features (the columns to train on) or model_config.exclude \
             (columns to leave out), not both",
        ));
    }
    Ok(TrainModelConfig {
        name,
        model_type,
        architecture: chosen,
        hidden_layers,
        dataset,
        target_accuracy: m.number_above("target_accuracy", 0.0, 1.0)?,
        features,
        exclude,
        gbm,
        forecast: forecast(m, model_type)?,
        text_column: text_setting(m, model_type, "text_column", |m| {
            m.string("text_column", 200)
        })?,
        max_length: text_setting(m, model_type, "max_length", |m| {
            Ok(m.integer("max_length", 1, text::MAX_LENGTH as i64)?
                .map(|n| n as usize))
        })?,
    })
}

/// A text classifier's setting: read for the text types, refused for any other.
fn text_setting<T>(
    m: &Fields<'_>,
    model_type: ModelType,
    key: &str,
    read: impl Fn(&Fields<'_>) -> Result<Option<T>, ApiError>,
) -> Result<Option<T>, ApiError> {
    let value = read(m)?;
    if value.is_some() && !model_type.reads_text() {
        return Err(ApiError::validation(
            format!("model_config.{key}"),
            m.get(key).cloned().unwrap_or_default(),
            "absent unless type is text_classification (or nlp_classification)",
            format!(
                "model_config.{key} sets a text classifier; this request's type is {}",
                model_type.as_str()
            ),
        ));
    }
    Ok(value)
}

/// `model_config.forecast`: required for `time_series_forecasting`, refused otherwise.
fn forecast(m: &Fields<'_>, model_type: ModelType) -> Result<Option<TrainForecast>, ApiError> {
    let forecasting = model_type == ModelType::TimeSeriesForecasting;
    let Some(f) = m.object("forecast")? else {
        if forecasting {
            return Err(ApiError::validation(
                "model_config.forecast",
                Value::Null,
                "{\"target\", \"time_column\", \"window\", \"horizon\"?, \"season\"?}",
                "time_series_forecasting needs model_config.forecast: the column to forecast, the \
                 column that orders the rows, and the window of values the model reads",
            ));
        }
        return Ok(None);
    };
    if !forecasting {
        return Err(ApiError::validation(
            "model_config.forecast",
            m.get("forecast").cloned().unwrap_or_default(),
            "absent unless type is time_series_forecasting",
            format!(
                "model_config.forecast sets a forecaster; this request's type is {}",
                model_type.as_str()
            ),
        ));
    }
    f.only(&["target", "time_column", "window", "horizon", "season"])?;
    let required = |name: &str| {
        ApiError::validation(
            format!("model_config.forecast.{name}"),
            Value::Null,
            "required",
            format!("model_config.forecast.{name} is required"),
        )
    };
    Ok(Some(TrainForecast {
        target: f.string("target", 200)?.ok_or_else(|| required("target"))?,
        time_column: f
            .string("time_column", 200)?
            .ok_or_else(|| required("time_column"))?,
        window: f
            .integer("window", 1, 1000)?
            .ok_or_else(|| required("window"))? as usize,
        horizon: f.integer("horizon", 1, 100)?.map(|h| h as usize),
        season: f.integer("season", 2, 1000)?.map(|s| s as usize),
    }))
}

/// `model_config.architecture`: a family or preset name, or a layer list (an object with
/// `layers`, or the bare list). The list's layers are checked against the dataset later,
/// when its shape is known.
fn architecture(m: &Fields<'_>) -> Result<TrainArchitecture, ApiError> {
    let field = "model_config.architecture";
    let Some(value) = m.get("architecture").filter(|v| !v.is_null()) else {
        return Ok(TrainArchitecture::Family(DEFAULT_ARCHITECTURE));
    };
    let mut names: Vec<&str> = ArchitectureName::ALL.iter().map(|a| a.as_str()).collect();
    names.extend(analysis::presets::names());
    let list = |layers: &[Value], input_shape: Option<&Value>| {
        let shape = match input_shape.filter(|v| !v.is_null()) {
            None => None,
            Some(v) => Some(
                analysis::network::shape(v, &format!("{field}.input_shape"))
                    .map_err(|e| analysis_error(e, v.clone()))?,
            ),
        };
        if layers.is_empty() || layers.len() > 10_000 {
            return Err(ApiError::validation(
                format!("{field}.layers"),
                json!(layers.len()),
                "1 to 10000 layer objects",
                "a network needs 1 to 10000 layers",
            ));
        }
        let layers = layers
            .iter()
            .enumerate()
            .map(|(i, l)| match l {
                Value::Object(o) if o.get("type").is_some_and(Value::is_string) => Ok(o.clone()),
                other => Err(ApiError::validation(
                    format!("{field}.layers[{i}]"),
                    other.clone(),
                    "a layer object with a string type",
                    format!(
                        "each layer is an object such as {{\"type\": \"conv2d\", \"filters\": 32, \"kernel_size\": 3}}; layer {i} is {}",
                        analysis::json_type(other)
                    ),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrainArchitecture::Layers(LayerList {
            input_shape: shape,
            layers,
        }))
    };
    match value {
        Value::String(written) => {
            if let Some(a) = ArchitectureName::parse(written) {
                Ok(TrainArchitecture::Family(a))
            } else if let Some(p) = analysis::presets::Preset::parse(written) {
                Ok(TrainArchitecture::Preset(p))
            } else {
                Err(unsupported(field, written, &names, "architecture"))
            }
        }
        Value::Array(layers) => list(layers, None),
        Value::Object(o) => match o.get("layers") {
            Some(Value::Array(layers)) => list(layers, o.get("input_shape")),
            _ => Err(ApiError::validation(
                format!("{field}.layers"),
                o.get("layers").cloned().unwrap_or_default(),
                "an array of layer objects",
                "a layer-list architecture is {\"layers\": [...]}, as POST /v1/ai/analyze reads it",
            )),
        },
        other => Err(ApiError::validation(
            field,
            other.clone(),
            format!("one of: {}, or a layer list", names.join(", ")),
            format!(
                "model_config.architecture must be a name or a layer list, got {}",
                analysis::json_type(other)
            ),
        )),
    }
}

/// An analyzer error on `architecture.…` as the request's field, `model_config.architecture.…`.
pub fn analysis_error(e: analysis::AnalysisError, value: Value) -> ApiError {
    let field = e.field().to_string();
    let field = match field.strip_prefix("architecture") {
        Some(rest) if !field.starts_with("model_config") => {
            format!("model_config.architecture{rest}")
        }
        _ => field,
    };
    let analysis::AnalysisError::Invalid { message, .. } = e;
    ApiError::validation(
        field,
        value,
        "a network that can be built for this dataset",
        message,
    )
}

fn training_config(t: &Fields<'_>) -> Result<TrainTrainingConfig, ApiError> {
    t.only(&[
        "epochs",
        "batch_size",
        "learning_rate",
        "ai_enhancement",
        "providers",
        "optimizer",
        "validation_split",
        "seed",
        "weight_decay",
        "time_budget_seconds",
        "max_runtime_seconds",
    ])?;
    let optimizer = match t.string("optimizer", 20)? {
        None => None,
        Some(written) => Some(OptimizerKind::parse(&written).map_err(|_| {
            unsupported(
                "training_config.optimizer",
                &written,
                &OptimizerKind::SUPPORTED,
                "optimizer",
            )
        })?),
    };
    let validation_split = t.number_above("validation_split", 0.0, 0.5)?;
    if validation_split.is_some_and(|v| v < 0.05) {
        return Err(ApiError::validation(
            "training_config.validation_split",
            json!(validation_split),
            "number from 0.05 to 0.5",
            "training_config.validation_split must be from 0.05 to 0.5",
        ));
    }
    let weight_decay = match t.get("weight_decay") {
        None => None,
        Some(v) => match v.as_f64() {
            Some(w) if w.is_finite() && (0.0..1.0).contains(&w) => Some(w),
            _ => {
                return Err(ApiError::validation(
                    "training_config.weight_decay",
                    v.clone(),
                    "number from 0 (inclusive) to 1 (exclusive)",
                    "training_config.weight_decay must be from 0 up to 1",
                ))
            }
        },
    };
    let providers = t
        .enum_list("providers", &Provider::names())?
        .map(|names| names.iter().filter_map(|n| Provider::parse(n)).collect());
    Ok(TrainTrainingConfig {
        epochs: t.integer("epochs", 1, 1000)?.map(|v| v as u32),
        batch_size: t.integer("batch_size", 1, 65536)?.map(|v| v as u32),
        learning_rate: t.number_above("learning_rate", 0.0, 1.0)?,
        ai_enhancement: t.boolean("ai_enhancement")?,
        providers,
        optimizer,
        validation_split,
        seed: t.integer("seed", 0, (1 << 53) - 1)?.map(|s| s as u64),
        weight_decay,
        time_budget_seconds: t
            .integer("time_budget_seconds", 1, 86_400)?
            .map(|s| s as u64),
        max_runtime_seconds: t
            .integer("max_runtime_seconds", 1, MAX_RUNTIME_SECONDS as i64)?
            .map(|s| s as u64),
    })
}

/// The configuration a job is stored with: the request's, each absent field at its default;
/// `draw_seed` supplies the seed when none is given, so every job records the seed that
/// reproduces it.
pub fn resolve(request: &TrainRequest, draw_seed: impl FnOnce() -> u64) -> TrainingConfig {
    let t = request.training_config.clone().unwrap_or_default();
    TrainingConfig {
        epochs: t.epochs.unwrap_or(DEFAULT_EPOCHS),
        batch_size: t.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
        learning_rate: t.learning_rate.unwrap_or(DEFAULT_LEARNING_RATE),
        ai_enhancement: t.ai_enhancement.unwrap_or(false),
        providers: t
            .providers
            .unwrap_or_default()
            .iter()
            .map(|p| p.name().to_string())
            .collect(),
        optimizer: t.optimizer.unwrap_or(DEFAULT_OPTIMIZER),
        validation_split: t.validation_split.unwrap_or(DEFAULT_VALIDATION_SPLIT),
        seed: t.seed.unwrap_or_else(draw_seed),
        weight_decay: t.weight_decay.unwrap_or(0.0),
        time_budget_seconds: match request.model_config.architecture.family() {
            ArchitectureName::Auto => Some(
                t.time_budget_seconds
                    .unwrap_or(training::automl::DEFAULT_TIME_BUDGET_SECONDS),
            ),
            _ => None,
        },
        max_runtime_seconds: Some(t.max_runtime_seconds.unwrap_or(DEFAULT_MAX_RUNTIME_SECONDS)),
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

    /// The spec's request, made trainable: a tabular classifier on a stored dataset.
    fn tabular_example() -> Value {
        let mut body = spec_example();
        body["model_config"] = json!({
            "name": "Fraud classifier",
            "type": "classification",
            "architecture": "mlp",
            "hidden_layers": [32, 16],
            "dataset": "ds_01KB0000000000000000000000",
            "target_accuracy": 0.92
        });
        body
    }

    fn parse(body: &Value) -> Result<TrainRequest, ApiError> {
        super::parse(body)
    }

    fn bad_field(body: Value) -> String {
        let err = parse(&body).unwrap_err();
        err.envelope()["error"]["details"]["field"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn parses_a_tabular_request() {
        let r = parse(&tabular_example()).unwrap();
        assert_eq!(r.model_config.name, "Fraud classifier");
        assert_eq!(r.model_config.architecture.family(), ArchitectureName::Mlp);
        assert_eq!(r.model_config.hidden_layers, Some(vec![32, 16]));
        let t = resolve(&r, || 7);
        assert_eq!(t.epochs, 50);
        assert_eq!(t.providers.len(), 3);
        assert!(t.ai_enhancement);
        assert_eq!(t.seed, 7, "a drawn seed is recorded");
        assert_eq!(t.optimizer, OptimizerKind::Adam);
    }

    #[test]
    fn the_spec_example_parses_as_a_network_request() {
        // `computer_vision` with the resnet50 preset: whether it can train depends on the
        // dataset (a 404 for the spec's `custom_images`, or the cost on an image dataset).
        let r = parse(&spec_example()).unwrap();
        assert_eq!(r.model_config.model_type, ModelType::ComputerVision);
        assert_eq!(
            r.model_config.architecture,
            TrainArchitecture::Preset(analysis::presets::Preset::Resnet50)
        );
        let mut body = spec_example();
        body["model_config"]["architecture"] = json!("resnet9000");
        let env = parse(&body).unwrap_err().envelope();
        assert_eq!(
            env["error"]["details"]["field"],
            "model_config.architecture"
        );
        let message = env["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("logistic_regression") && message.contains("resnet20"),
            "{message}"
        );
        body["model_config"]["type"] = json!("no_such_type");
        let env = parse(&body).unwrap_err().envelope();
        assert_eq!(env["error"]["details"]["field"], "model_config.type");
        let expected = env["error"]["details"]["expected"].as_str().unwrap();
        assert!(expected.contains("computer_vision"), "{expected}");
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
            (
                "/model_config/hidden_layers",
                json!([]),
                "model_config.hidden_layers",
            ),
            (
                "/model_config/hidden_layers",
                json!([8, 0]),
                "model_config.hidden_layers[1]",
            ),
            (
                "/model_config/architecture",
                json!("vgg16"),
                "model_config.architecture",
            ),
            (
                "/model_config/type",
                json!("speech_recognition"),
                "model_config.type",
            ),
        ];
        for (pointer, value, field) in cases {
            let mut body = tabular_example();
            *body.pointer_mut(pointer).unwrap() = value;
            assert_eq!(bad_field(body), field, "{pointer}");
        }
        let extra = [
            ("optimizer", json!("rmsprop"), "training_config.optimizer"),
            (
                "validation_split",
                json!(0.9),
                "training_config.validation_split",
            ),
            (
                "validation_split",
                json!(0.01),
                "training_config.validation_split",
            ),
            ("seed", json!(-1), "training_config.seed"),
            ("weight_decay", json!(1), "training_config.weight_decay"),
        ];
        for (key, value, field) in extra {
            let mut body = tabular_example();
            body["training_config"][key] = value;
            assert_eq!(bad_field(body), field, "{key}");
        }
        let mut body = tabular_example();
        body["model_config"]["architecture"] = json!("logistic_regression");
        assert_eq!(bad_field(body), "model_config.hidden_layers");
    }

    #[test]
    fn missing_and_unknown_fields() {
        assert_eq!(bad_field(json!({})), "model_config");
        assert_eq!(
            bad_field(json!({"model_config": {"type": "x"}})),
            "model_config.name"
        );
        assert_eq!(
            bad_field(json!({"model_config": {"name": "n", "type": "classification"}})),
            "model_config.dataset"
        );
        let mut body = tabular_example();
        body["training_config"]["epoch"] = json!(3);
        assert_eq!(bad_field(body), "training_config.epoch");
    }

    #[test]
    fn defaults() {
        let r = parse(
            &json!({"model_config": {"name": "n", "type": "classification", "dataset": "ds_x"}}),
        )
        .unwrap();
        assert_eq!(r.model_config.architecture.family(), DEFAULT_ARCHITECTURE);
        let t = resolve(&r, || 7);
        assert_eq!(t.epochs, DEFAULT_EPOCHS);
        assert_eq!(t.batch_size, DEFAULT_BATCH_SIZE);
        assert_eq!(t.validation_split, DEFAULT_VALIDATION_SPLIT);
        assert!(!t.ai_enhancement);
    }
}
