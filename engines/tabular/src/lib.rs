//! The tabular engine (pure, no candle): from a [`Table`](synth::Table) to numbers and back.
//! [`data`] splits a table and fits the [`Encoder`] on the train part; [`metrics`] scores
//! predictions as scikit-learn defines them; [`outputs`] holds a model's answers on a matrix;
//! [`boost`] fits and applies gradient-boosted trees; [`utility`] measures whether a model
//! trained on synthetic rows works on real ones.
//!
//! The training engine (candle networks, AutoML, artifacts) builds on this crate; the
//! synthetic-data function uses it alone, so it links no tensor library.

pub mod boost;
pub mod data;
pub mod metrics;
pub mod outputs;
pub mod utility;

pub use boost::{GbmModel, GbmParams};
pub use data::{Encoder, Matrix, Style, Task};
pub use metrics::{Metrics, RegressionMetrics, Scored};
pub use outputs::{Outputs, Prediction};

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum TabularError {
    /// A bad parameter or a bad row, naming the field (e.g. "rows[3].amount").
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Data that cannot be trained on (no rows, one class, target missing, ...).
    #[error("dataset: {0}")]
    Data(String),
    /// A model file that does not hold together.
    #[error("artifact: {0}")]
    Artifact(String),
}

impl TabularError {
    /// Shorthand for [`TabularError::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        TabularError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A typed column, for the tests.
#[cfg(test)]
pub(crate) fn col(name: &str, kind: &str) -> synth::DatasetColumn {
    synth::DatasetColumn {
        name: name.into(),
        kind: kind.into(),
        reason: None,
        words: None,
    }
}
