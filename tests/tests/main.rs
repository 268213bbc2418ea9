//! The integration tests, one binary: a module per area. One binary links the workspace
//! once instead of once per file (see BENCHMARKS.md, "Build").

mod analyze_routes;
mod auth;
mod compare_history;
mod crate_graph;
mod dashboard;
mod dataset_uploads;
mod enhance_routes;
mod forecasting;
mod idempotency;
mod image_datasets;
mod long_jobs;
mod model_export;
mod models_routes;
mod networks;
mod observability;
mod openapi_conformance;
mod openapi_models;
mod providers;
mod rate_limit_processes;
mod rate_limits;
mod response_cache;
mod route_table;
mod store_contract;
mod sweeps;
mod synthetic_data_routes;
mod system_routes;
mod tabular_models;
mod template;
mod text_classifiers;
mod training;
