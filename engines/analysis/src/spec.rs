//! What a network to train is: its architecture (a logistic regression or an MLP with its
//! hidden layers, activation and dropout) and its optimizer. Parsed once at the edge and kept
//! typed: the training request, the model record and the trainer hold these, and the
//! analyzer's memory estimate reads them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::AnalysisError;

/// Hidden layers of an MLP when none are given.
pub const DEFAULT_HIDDEN: [usize; 2] = [64, 32];
/// Bounds on hidden layers, to keep a Lambda's memory and time predictable.
pub const MAX_HIDDEN_LAYERS: usize = 8;
pub const MAX_HIDDEN_UNITS: usize = 4096;

/// An architecture by name, as a request names it and a model record keeps it (the MLP's
/// hidden layers are kept beside it).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ArchitectureName {
    LogisticRegression,
    /// Least squares / ridge for regression; logistic regression for classification.
    Linear,
    Mlp,
    /// Gradient-boosted trees.
    Gbm,
    /// AutoML over the baseline, linear, mlp and gbm families.
    Auto,
    /// A layer-list network (a preset or `{"layers": [...]}`), on image data.
    Network,
}

impl ArchitectureName {
    pub const ALL: [ArchitectureName; 5] = [
        ArchitectureName::LogisticRegression,
        ArchitectureName::Linear,
        ArchitectureName::Mlp,
        ArchitectureName::Gbm,
        ArchitectureName::Auto,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ArchitectureName::LogisticRegression => "logistic_regression",
            ArchitectureName::Linear => "linear",
            ArchitectureName::Mlp => "mlp",
            ArchitectureName::Gbm => "gbm",
            ArchitectureName::Auto => "auto",
            ArchitectureName::Network => "network",
        }
    }

    /// A name as a request may spell it (case, `-` and spaces aside), with its aliases:
    /// logistic, logreg; linear_regression, ridge; feedforward, neural_network, dense;
    /// gradient_boosting, gbdt, boosted_trees; automl.
    pub fn parse(name: &str) -> Option<ArchitectureName> {
        Some(match normalize(name).as_str() {
            "logistic_regression" | "logistic" | "logreg" => ArchitectureName::LogisticRegression,
            "linear" | "linear_regression" | "ridge" => ArchitectureName::Linear,
            "mlp" | "feedforward" | "feed_forward" | "neural_network" | "dense" => {
                ArchitectureName::Mlp
            }
            "gbm" | "gradient_boosting" | "gbdt" | "boosted_trees" => ArchitectureName::Gbm,
            "auto" | "automl" => ArchitectureName::Auto,
            _ => return None,
        })
    }

    /// Whether this is one network of [`Architecture`] (not trees, not a search, not a
    /// layer list).
    pub fn is_network(self) -> bool {
        !matches!(
            self,
            ArchitectureName::Gbm | ArchitectureName::Auto | ArchitectureName::Network
        )
    }
}

/// What is trained.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    LogisticRegression,
    Mlp {
        hidden: Vec<usize>,
        activation: Activation,
        /// Probability of zeroing a hidden unit while training (inverted dropout), in [0, 1).
        dropout: f32,
    },
}

/// The nonlinearity between an MLP's hidden layers.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Tanh,
    Gelu,
}

impl Activation {
    pub const SUPPORTED: [&'static str; 3] = ["relu", "tanh", "gelu"];

    pub fn parse(name: &str) -> Result<Activation, AnalysisError> {
        match normalize(name).as_str() {
            "relu" => Ok(Activation::Relu),
            "tanh" => Ok(Activation::Tanh),
            "gelu" => Ok(Activation::Gelu),
            _ => Err(AnalysisError::invalid(
                "activation",
                format!(
                    "unknown activation {name:?}; use one of {:?}",
                    Self::SUPPORTED
                ),
            )),
        }
    }
}

fn normalize(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['-', ' '], "_")
}

impl Architecture {
    pub const SUPPORTED: [&'static str; 2] = ["logistic_regression", "mlp"];

    /// An MLP as a request names it: these hidden widths, ReLU, no dropout.
    pub fn mlp(hidden: &[usize]) -> Architecture {
        Architecture::Mlp {
            hidden: hidden.to_vec(),
            activation: Activation::Relu,
            dropout: 0.0,
        }
    }

    /// An architecture from its name (or an alias: logistic, logreg, linear; feedforward,
    /// neural_network, dense). An MLP defaults to hidden [64, 32], relu, no dropout; hidden
    /// layers for a logistic regression are an error rather than silently ignored.
    pub fn parse(name: &str, hidden: Option<Vec<usize>>) -> Result<Architecture, AnalysisError> {
        let arch = match normalize(name).as_str() {
            "logistic_regression" | "logistic" | "logreg" | "linear" => {
                if hidden.as_ref().is_some_and(|h| !h.is_empty()) {
                    return Err(AnalysisError::invalid(
                        "hidden",
                        "logistic regression has no hidden layers",
                    ));
                }
                Architecture::LogisticRegression
            }
            "mlp" | "feedforward" | "feed_forward" | "neural_network" | "dense" => {
                Architecture::mlp(hidden.as_deref().unwrap_or(&DEFAULT_HIDDEN))
            }
            _ => {
                return Err(AnalysisError::invalid(
                    "architecture",
                    format!(
                        "unknown architecture {name:?}; use one of {:?}",
                        Self::SUPPORTED
                    ),
                ))
            }
        };
        arch.validate()?;
        Ok(arch)
    }

    /// The canonical name (one of [`Architecture::SUPPORTED`]).
    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    pub fn kind(&self) -> ArchitectureName {
        match self {
            Architecture::LogisticRegression => ArchitectureName::LogisticRegression,
            Architecture::Mlp { .. } => ArchitectureName::Mlp,
        }
    }

    /// The architecture a record describes: its name and, for an MLP, its hidden layers
    /// (the defaults when none were given).
    pub fn from_record(
        name: ArchitectureName,
        hidden: Option<Vec<usize>>,
    ) -> Result<Architecture, AnalysisError> {
        if !name.is_network() {
            return Err(AnalysisError::invalid(
                "architecture",
                format!("{} is not a single network", name.as_str()),
            ));
        }
        Architecture::parse(name.as_str(), hidden)
    }

    /// Checks hidden sizes and dropout.
    pub fn validate(&self) -> Result<(), AnalysisError> {
        if let Architecture::Mlp {
            hidden, dropout, ..
        } = self
        {
            if hidden.is_empty() || hidden.len() > MAX_HIDDEN_LAYERS {
                return Err(AnalysisError::invalid(
                    "hidden",
                    format!("an MLP needs 1 to {MAX_HIDDEN_LAYERS} hidden layers"),
                ));
            }
            if let Some((i, h)) = hidden
                .iter()
                .enumerate()
                .find(|(_, &h)| h == 0 || h > MAX_HIDDEN_UNITS)
            {
                return Err(AnalysisError::invalid(
                    format!("hidden[{i}]"),
                    format!("{h} units; use 1 to {MAX_HIDDEN_UNITS}"),
                ));
            }
            if !(0.0..1.0).contains(dropout) {
                return Err(AnalysisError::invalid(
                    "dropout",
                    format!("{dropout}; use a probability in [0, 1)"),
                ));
            }
        }
        Ok(())
    }

    /// The hidden layers' widths (none for a logistic regression).
    pub fn hidden(&self) -> &[usize] {
        match self {
            Architecture::LogisticRegression => &[],
            Architecture::Mlp { hidden, .. } => hidden,
        }
    }

    /// Layer sizes from input to logits: `[width, hidden..., classes]`.
    pub fn layer_sizes(&self, width: usize, classes: usize) -> Vec<usize> {
        let mut sizes = vec![width];
        if let Architecture::Mlp { hidden, .. } = self {
            sizes.extend(hidden);
        }
        sizes.push(classes);
        sizes
    }

    /// Trainable parameters: `Σ (inputs · outputs + outputs)` over consecutive layer sizes.
    pub fn parameter_count(&self, width: usize, classes: usize) -> usize {
        self.layer_sizes(width, classes)
            .windows(2)
            .map(|w| w[0] * w[1] + w[1])
            .sum()
    }
}

/// How weights are updated (spelled `adam`, `adamw`, `sgd`).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// candle's AdamW with decoupled decay 0; a weight decay is an L2 term in the gradient, as
    /// PyTorch's `Adam(weight_decay=…)`.
    Adam,
    /// candle's AdamW: weight decay decoupled from the gradient (Loshchilov & Hutter).
    #[serde(rename = "adamw", alias = "adam_w")]
    AdamW,
    /// candle's plain SGD (no momentum); a weight decay is an L2 term in the gradient.
    Sgd,
}

impl OptimizerKind {
    pub const SUPPORTED: [&'static str; 3] = ["adam", "adamw", "sgd"];

    pub fn parse(name: &str) -> Result<OptimizerKind, AnalysisError> {
        match normalize(name).replace('_', "").as_str() {
            "adam" => Ok(OptimizerKind::Adam),
            "adamw" => Ok(OptimizerKind::AdamW),
            "sgd" => Ok(OptimizerKind::Sgd),
            _ => Err(AnalysisError::invalid(
                "optimizer",
                format!(
                    "unknown optimizer {name:?}; use one of {:?}",
                    Self::SUPPORTED
                ),
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            OptimizerKind::Adam => "adam",
            OptimizerKind::AdamW => "adamw",
            OptimizerKind::Sgd => "sgd",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_aliases_and_rejects_nonsense() {
        assert_eq!(
            Architecture::parse("LogReg", None).unwrap(),
            Architecture::LogisticRegression
        );
        assert_eq!(
            Architecture::parse("feed-forward", None).unwrap(),
            Architecture::mlp(&[64, 32])
        );
        assert!(matches!(
            Architecture::parse("mlp", Some(vec![8, 0])),
            Err(AnalysisError::Invalid { ref field, .. }) if field == "hidden[1]"
        ));
        assert!(Architecture::parse("logistic", Some(vec![8])).is_err());
        assert!(Architecture::parse("transformer", None).is_err());
        assert_eq!(OptimizerKind::parse("AdamW").unwrap(), OptimizerKind::AdamW);
        assert_eq!(OptimizerKind::parse("sgd").unwrap(), OptimizerKind::Sgd);
        assert!(OptimizerKind::parse("lbfgs").is_err());
        for name in Architecture::SUPPORTED {
            assert_eq!(Architecture::parse(name, None).unwrap().name(), name);
        }
        for name in OptimizerKind::SUPPORTED {
            assert_eq!(OptimizerKind::parse(name).unwrap().name(), name);
        }
    }
}
