//! The utility report's shape: whether a model trained on synthetic rows works on real ones.
//! The tabular engine trains the models and fills it (`tabular::utility`, with the formulas);
//! it is declared here so the wire types, which link this crate, link no trainer.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The model both sides train: gradient-boosted trees with these settings.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct UtilityModel {
    /// `gbm`.
    pub family: String,
    pub trees: u32,
    pub learning_rate: f64,
    pub max_depth: u32,
    pub seed: u64,
}

/// Scores of one model on the holdout.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
pub struct UtilityScores {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_f1: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balanced_accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
}

/// The utility report (`tabular::utility` says how each figure is computed).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
pub struct UtilityReport {
    pub target: String,
    /// `classification` or `regression`.
    pub task: String,
    /// `accuracy` or `r2`: what `ratio` divides.
    pub metric: String,
    pub model: UtilityModel,
    pub real_rows: usize,
    pub synthetic_rows: usize,
    pub holdout_rows: usize,
    /// TRTR.
    pub real: UtilityScores,
    /// TSTR.
    pub synthetic: UtilityScores,
    pub baseline: UtilityScores,
    pub ratio: Option<f64>,
    pub score: Option<f64>,
}
