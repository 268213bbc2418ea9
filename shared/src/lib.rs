//! The orchestration crate every Lambda function shares: configuration, the error envelope,
//! HTTP plumbing, stores and blobs, records, the providers and their orchestrator, datasets.
//!
//! Arrows point one way: functions → shared → engines (`synth`, `analysis`; never
//! `training`, so a function that neither trains nor predicts builds no candle). See
//! ARCHITECTURE.md.

pub mod auth;
pub mod aws;
pub mod billing;
pub mod blobs;
pub mod clock;
pub mod config;
pub mod datasets;
pub mod emf;
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
pub mod usage;
pub mod validate;
pub mod wire;

pub use config::Config;
pub use error::{ApiError, ApiResult};
pub use state::AppState;

/// The API's version, reported by `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
