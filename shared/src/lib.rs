//! The orchestration crate every Lambda function shares.
//!
//! Arrows point one way: functions → shared; inside, `http` and handlers' helpers → `store`,
//! `providers`, `records`; `records` and `validate` import nothing of the others.

pub mod analysis;
pub mod auth;
pub mod aws;
pub mod blobs;
pub mod clock;
pub mod config;
pub mod datasets;
pub mod error;
pub mod http;
pub mod ids;
pub mod logging;
pub mod openapi;
pub mod orchestrator;
pub mod paging;
pub mod providers;
pub mod ratelimit;
pub mod records;
pub mod state;
pub mod store;
pub mod synth;
pub mod training;
pub mod usage;
pub mod validate;
pub mod worker;

pub use config::Config;
pub use error::{ApiError, ApiResult};
pub use state::AppState;

/// The API's version, reported by `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
