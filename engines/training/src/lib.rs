//! The training engine (pure): tabular classifiers and regressors — linear models and MLPs
//! trained with candle on the CPU, gradient-boosted trees with forust, and an AutoML
//! search over them ([`automl`]).
//!
//! A stored dataset becomes a [`Table`](synth::Table); [`split`] cuts it into stratified
//! train/validation halves; an [`Encoder`] fitted on the train half alone turns rows into a
//! standardized, one-hot [`Matrix`]; [`train`] fits a logistic regression or an MLP with softmax
//! cross-entropy, reporting each epoch to an [`Observer`] (deadlines, cancellation, progress);
//! the result is an [`Artifact`] (one safetensors file: weights plus a JSON manifest with the
//! encoder) that predicts from JSON rows. [`Metrics`] scores predictions, [`history_svg`] draws the
//! learning curves, [`permutation_importance`] measures what each column contributes, and
//! [`successive_halving`] tunes learning rate and batch size under a budget.
//!
//! Nothing here does I/O or knows about stores or Lambda; every run is deterministic for a seed
//! (weights are initialized from a seeded ChaCha8 stream, not candle's unseedable CPU RNG).

pub use tabular::{data, metrics, TabularError};

pub mod artifact;
pub mod automl;
pub mod chart;
pub mod checkpoint;
pub mod deep;
pub mod fitted;
pub mod gbm;
pub mod history;
pub mod importance;
pub mod linear;
pub mod model;
pub mod onnx;
pub mod sweep;
pub mod trainer;
pub mod tuning;

pub use artifact::{Artifact, LayerWeights};
pub use chart::history_svg;
pub use checkpoint::{Checkpoint, Resume, Run};
pub use data::{
    screen, split, split_owned, split_rows, split_rows_for, DroppedColumn, Encoder,
    FeatureEncoding, FitOptions, Matrix, Selection, Style, TargetScale, Task,
};
pub use fitted::{Baseline, Model, Outputs, Prediction};
pub use gbm::{BoosterTrees, GainImportance, GbmModel, GbmParams, TreeNode};
pub use importance::{permutation_importance, ColumnImportance, ImportanceReport};
pub use metrics::{ClassMetrics, Metrics, RegressionMetrics, Scored};
pub use model::{Activation, Architecture, OptimizerKind};
pub use trainer::{
    train, train_from, Control, EpochStats, Observer, StopReason, TrainParams, Trained,
};
pub use tuning::{successive_halving, Trial, TuningReport};

/// Fixes the CPU thread count for the process; call once at the top of `main`, before any
/// other thread exists (it sets an environment variable).
///
/// Why: candle 0.11 asks for the physical core count on every matrix product, and on Linux
/// that reads `/proc/cpuinfo` each time (30,000 reads in 33 epochs of a small MLP, a quarter
/// of its time, BENCHMARKS.md "Tabular models"), unless `RAYON_NUM_THREADS` is set. Setting it
/// to the count candle would find keeps candle's choice and ends the reads; rayon's own pool
/// (the trees') then uses the same count. A value already set is kept.
pub fn fix_thread_count() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let n = candle_core::utils::get_num_threads();
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
}

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    /// A bad parameter or a bad prediction row, naming the field (e.g. "rows[3].amount").
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Data that cannot be trained on (no rows, one class, target missing, ...).
    #[error("dataset: {0}")]
    Data(String),
    #[error("tensor: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error("artifact: {0}")]
    Artifact(String),
}

/// The tabular engine's errors keep their kind.
impl From<tabular::TabularError> for TrainingError {
    fn from(e: tabular::TabularError) -> Self {
        match e {
            tabular::TabularError::Invalid { field, message } => {
                TrainingError::Invalid { field, message }
            }
            tabular::TabularError::Data(m) => TrainingError::Data(m),
            tabular::TabularError::Artifact(m) => TrainingError::Artifact(m),
        }
    }
}

/// A bad architecture or optimizer, as the specification names it.
impl From<analysis::AnalysisError> for TrainingError {
    fn from(e: analysis::AnalysisError) -> Self {
        match e {
            analysis::AnalysisError::Invalid { field, message } => {
                TrainingError::Invalid { field, message }
            }
        }
    }
}

impl TrainingError {
    /// Shorthand for [`TrainingError::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        TrainingError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[doc(hidden)]
pub mod fixtures;
