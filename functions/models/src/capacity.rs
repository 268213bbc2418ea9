//! What a training request needs, held against what the worker and this function have,
//! before the job is accepted: data that cannot be split, a network whose training does not
//! fit the worker's memory, a model too large to serve here. Each refusal is a 400 naming
//! the field to change, with the numbers (`analysis::footprint` has the formulas).

use analysis::footprint::{self, NetworkSize};
use serde_json::json;
use shared::records::{DatasetRecord, Task, TrainingConfig};
use shared::wire::TrainingResources;
use shared::ApiError;
use training::{Architecture, OptimizerKind};

use crate::estimate::FEATURES_PER_COLUMN;
use crate::predict::MAX_ROWS;

/// Share of a function's memory an estimate may use: the rest is headroom for what the
/// estimate does not model (allocator growth, the runtime's buffers).
pub const USABLE_SHARE: f64 = 0.9;

fn mb(bytes: u64) -> f64 {
    (bytes as f64 / 1e6 * 10.0).round() / 10.0
}

/// The split's rule (see `training::split_rows`): two classes, and a class with two
/// rows so validation is not empty.
fn check_split(dataset: &DatasetRecord) -> Result<(), ApiError> {
    let Some(shape) = &dataset.training_shape else {
        return Ok(());
    };
    let classes: Vec<_> = shape.class_counts.iter().filter(|c| c.rows > 0).collect();
    let counts = json!(shape.class_counts);
    if classes.len() < 2 {
        return Err(ApiError::validation(
            "model_config.dataset",
            counts,
            "a target with at least 2 classes",
            format!(
                "dataset {} has {} class(es) in its target {:?}; a classifier needs at least 2",
                dataset.id,
                classes.len(),
                dataset.target.as_deref().unwrap_or("")
            ),
        ));
    }
    if classes.iter().all(|c| c.rows < 2) {
        return Err(ApiError::validation(
            "model_config.dataset",
            counts,
            "a class with at least 2 rows",
            format!(
                "every class of dataset {} has a single row: none can be held out for validation",
                dataset.id
            ),
        ));
    }
    Ok(())
}

/// Checks `training` of `architecture` on `dataset`; the estimates when it fits.
pub fn check(
    dataset: &DatasetRecord,
    task: Task,
    architecture: &Architecture,
    training: &TrainingConfig,
    optimizer: OptimizerKind,
    worker_memory_bytes: u64,
    models_function_memory_bytes: u64,
) -> Result<TrainingResources, ApiError> {
    // A regression target's distinct values are not classes.
    if task == Task::Classification {
        check_split(dataset)?;
    }
    let (width, classes, source) = match &dataset.training_shape {
        Some(s) => (
            s.feature_width.max(1) as usize,
            match task {
                Task::Classification => s.class_counts.len().max(2),
                Task::Regression => 1,
            },
            "dataset",
        ),
        None => (
            ((dataset.columns.len().saturating_sub(1)) as f64 * FEATURES_PER_COLUMN).max(1.0)
                as usize,
            2,
            "estimated",
        ),
    };
    let net = NetworkSize::of(architecture, width, classes);
    let validation_rows = (dataset.rows as f64 * training.validation_split).round() as u64;
    let cells = dataset.rows.saturating_mul(dataset.columns.len() as u64);
    let train = footprint::training(
        net,
        optimizer,
        cells,
        u64::from(training.batch_size),
        validation_rows,
    );
    let serve = footprint::serving(net, MAX_ROWS as u64);
    let usable = |bytes: u64| (bytes as f64 * USABLE_SHARE) as u64;

    if train.total_bytes > usable(worker_memory_bytes) {
        // Name what to change: the term that costs most.
        let network = train.parameters_bytes + train.largest_layer_bytes;
        let (field, advice) = if network >= train.activations_bytes.max(train.dataset_bytes) {
            (
                "model_config.hidden_layers",
                "use fewer or narrower hidden layers (or optimizer sgd, which keeps no state)",
            )
        } else if train.activations_bytes >= train.dataset_bytes {
            ("training_config.batch_size", "use a smaller batch")
        } else {
            ("model_config.dataset", "train on fewer rows or columns")
        };
        return Err(ApiError::validation(
            field,
            json!({"estimated_peak_bytes": train, "parameters": net.parameters}),
            format!(
                "a training peak within {:.0} MB ({:.0} % of the worker's {:.0} MB)",
                mb(usable(worker_memory_bytes)),
                USABLE_SHARE * 100.0,
                mb(worker_memory_bytes)
            ),
            format!(
                "training this network would need about {} MB in the worker, which has {} MB: \
                 {} MB for {} parameters and their gradients and optimizer state, {} MB for the \
                 largest layer's temporaries, {} MB of activations, {} MB for the data; {advice}",
                mb(train.total_bytes),
                mb(worker_memory_bytes),
                mb(train.parameters_bytes),
                net.parameters,
                mb(train.largest_layer_bytes),
                mb(train.activations_bytes),
                mb(train.dataset_bytes),
            ),
        ));
    }
    if serve.total_bytes > usable(models_function_memory_bytes) {
        return Err(ApiError::validation(
            "model_config.hidden_layers",
            json!({"estimated_serving_bytes": serve, "parameters": net.parameters}),
            format!(
                "a model that predicts {MAX_ROWS} rows within {:.0} MB",
                mb(usable(models_function_memory_bytes))
            ),
            format!(
                "the trained model would need about {} MB to predict {MAX_ROWS} rows, and the \
                 models function has {} MB; use fewer or narrower hidden layers",
                mb(serve.total_bytes),
                mb(models_function_memory_bytes)
            ),
        ));
    }
    Ok(TrainingResources {
        parameters: net.parameters,
        training: train,
        worker_memory_bytes,
        serving: serve,
        models_function_memory_bytes,
        feature_width_source: source.to_string(),
    })
}
