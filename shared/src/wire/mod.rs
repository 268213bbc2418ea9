//! The API's wire types: every request and response body as a Rust type. Handlers return
//! these (serialized with serde), and the OpenAPI document (`crate::openapi`) is generated
//! from the same types (schemars), so what is sent and what is documented are one thing.
//! `tests/tests/openapi_*.rs` still validate real answers against the document, with
//! undocumented properties rejected.
//!
//! Request types are read with the deserialize contract (optional fields may be absent or
//! `null`: the parsers treat `null` as absent); response types with the serialize contract
//! (every field present unless marked `skip_serializing_if`).

use serde_json::{Map, Value};

pub mod analyze;
pub mod common;
pub mod datasets;
pub mod enhance;
pub mod error;
pub mod models;
pub mod sweeps;
pub mod system;

pub use analyze::*;
pub use common::*;
pub use datasets::*;
pub use enhance::*;
pub use error::*;
pub use models::*;
pub use sweeps::*;
pub use system::*;

pub use synth::DataSchema;

// The records' own types, so what the store keeps and what the document says cannot part.
pub use crate::records::{
    ArtifactInfo, DatasetColumn, DatasetOrigin, EpochRecord, ImageSetInfo, JobStatus, ModelStatus,
    Progress, StatusTransition, TrainingShape,
};
pub use crate::store::UsageRow;

/// Any JSON object (its keys are described in the README).
pub type Object = Map<String, Value>;
