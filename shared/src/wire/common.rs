//! Pieces several routes share: provider names, the usage block, the cache marker.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::*;

pub use crate::providers::Provider;

/// Provider usage of one request.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UsageBlock {
    /// One entry per provider called.
    pub providers: Vec<crate::orchestrator::Usage>,
    pub total_cost_usd: f64,
    pub price_table_as_of: String,
}

/// Present on a response-cache hit (`X-Cache: HIT`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CacheHit {
    pub hit: bool,
    pub stored_at: String,
    pub age_seconds: f64,
}

/// The objects of a list built as JSON objects (rows, roadmap phases, constraint checks).
pub fn objects(items: impl IntoIterator<Item = Value>) -> Vec<Object> {
    items
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(o) => Some(o),
            _ => None,
        })
        .collect()
}
