//! The synthetic-data engine (pure): schemas, marginals, Gaussian copula, fitting, generation, quality metrics.
//!
//! The model is SDV's GaussianCopulaSynthesizer: every column has a marginal distribution that maps
//! u ∈ (0,1) to a value, and the dependence between columns lives in a latent multivariate normal
//! (the copula). Categorical columns, booleans and the target use SDV's frequency encoding: each
//! category owns an interval of u whose width is its weight.
//!
//! Everything here is pure (no I/O besides the `std::io::Write` the sinks are handed), deterministic
//! for a given seed, and streams rows so a million-row request never holds the rows in memory.
//!
//! Modules: [`schema`] (what a client or an LLM sends), [`marginal`] (one column's distribution),
//! [`copula`] (the latent normal), [`generate`] (the row iterator and class balance), [`table`]
//! (cells, sinks, parsed sample tables), [`fit`] (schema from sample rows), [`metrics`] (quality
//! report), [`designer`] (a schema from a model description, when no LLM is configured),
//! [`constraints`] and [`suggest`] (constraints on every row, and the ones a table satisfies),
//! [`conditions`] (conditional sampling), [`sequence`] (entities of ordered rows), [`privacy`]
//! (distance to closest record), and `stats` (shared statistical helpers).

pub mod conditions;
pub mod constraints;
pub mod copula;
pub mod designer;
pub mod fit;
pub mod generate;
pub mod marginal;
pub mod metrics;
pub mod parquet_file;
pub mod privacy;
pub mod schema;
pub mod sequence;
mod stats;
pub mod suggest;
pub mod table;
pub mod utility;

pub use conditions::{Condition, ConditionReport, ConditionsReport};
pub use constraints::{Constrained, Constraint, ConstraintsReport};
pub use designer::design;
pub use fit::{fit, fit_features, ColumnFit, FitReport};
pub use generate::{Balance, Generator};
pub use metrics::{ColumnScore, Quality, QualityAccumulator, Reference};
pub use parquet_file::{ParquetSink, ParquetType};
pub use schema::{ColumnKind, ColumnSpec, Correlation, DataSchema, Distribution, TargetSpec};
pub use suggest::{suggest, Suggestion};
pub use table::{Cell, CsvSink, JsonlSink, Row, Table};

/// A stored dataset's column as it was read: its name, its kind and, for uploads, why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct DatasetColumn {
    pub name: String,
    /// numeric, integer, categorical, boolean, datetime, target, or empty (every cell empty:
    /// kept in the data, not used for training).
    pub kind: String,
    /// Why an uploaded column was read as `kind` (uploads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Words per value, for an uploaded text column (values of at least
    /// `TEXT_MEAN_WORDS` words on average): what a text classifier reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<WordCounts>,
}

/// Words per value of a text column (words: runs of letters and digits).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct WordCounts {
    /// Non-empty values counted.
    pub values: u64,
    pub mean: f64,
    /// The 95th percentile (nearest rank), at least 1: a text classifier's default
    /// `max_length`.
    pub p95: u64,
    pub max: u64,
}

/// A dataset column left out of a model's features, and why (the training engine's screen
/// or the request's choice).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct DroppedColumn {
    pub column: String,
    /// `constant`, `identifier` or `target_leak` (the training screen), `not_selected` or
    /// `excluded` (the request's `features` or `exclude`).
    pub reason: String,
    /// What was found, in words.
    pub detail: String,
}

/// How much a model's validation metric (accuracy, or R² for regression) drops when a
/// column's values are shuffled.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ColumnImportance {
    pub column: String,
    /// Mean metric drop over the repeats (negative: shuffling it helped, i.e. noise).
    pub mean: f64,
    /// Population standard deviation of the drops.
    pub std: f64,
}

/// A gradient-boosted model's total split gain on a feature, as a share of all its gain.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct GainImportance {
    pub column: String,
    pub share: f64,
}

/// Everything that can go wrong in the engine. `Invalid` names the offending field with a path
/// (`schema.columns[2].distribution.std`, `sample_rows[3].amount`, `balance`) so the HTTP layer can
/// return it as a validation error as is.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A client-supplied value is out of range or inconsistent.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A valid request no row can meet, or too rare to meet within the draw bound (a
    /// condition outside the column's support, or an acceptance below the floor).
    #[error("{field}: {message}")]
    Unsatisfiable { field: String, message: String },
    /// Writing CSV failed (the underlying writer failed or the record was malformed).
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// Writing to the sink's writer failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Serializing a JSON line failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl SynthError {
    /// Shorthand for [`SynthError::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        SynthError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
