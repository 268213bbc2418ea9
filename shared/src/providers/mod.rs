//! The five AI providers. This module holds the catalog (names, capabilities, environment
//! variables, defaults); the wire clients and the orchestrator build on it.

pub mod catalog;

pub use catalog::{Provider, ALL};
