//! A layer-list network on images, a series or texts, planned at submission: the analyzer's plan for
//! the dataset's shape and classes, every layer checked buildable, the worker's memory and
//! the job's time held against the estimates. A refusal is a 400 naming the field, with the
//! numbers it was computed from.
//!
//! ```text
//! epoch seconds = train_samples × (SAMPLE_SECONDS + 3 × MACs / MACS_PER_SECOND)
//!               + ceil(train_samples / batch) × (layers × LAYER_STEP_SECONDS
//!                   + Σ recurrent layers: time steps × directions × RNN_STEP_SECONDS)
//! job seconds   = STARTUP_SECONDS + epochs × epoch seconds
//! ```
//!
//! 3 × MACs: a backward pass costs about twice the forward one. The constants were fitted to
//! measured epochs (BENCHMARKS.md, "Networks").

use analysis::footprint::{self, NetworkSize};
use analysis::network::Op;
use analysis::network::Plan;
use analysis::presets::Preset;
use analysis::presets::PresetInput;
use serde_json::{json, Value};
use shared::records::{
    DatasetRecord, ForecastSpec, ImageSetInfo, NetworkInfo, TextSpec, TrainingConfig,
};
use shared::wire::{TrainArchitecture, TrainModelConfig, TrainingResources};
use shared::ApiError;

use crate::capacity::USABLE_SHARE;
use crate::estimate::STARTUP_SECONDS;
use crate::request::analysis_error;

/// Sustained multiply-accumulates per second of the worker's forward and backward passes
/// (candle on the CPU, two vCPUs, with the fused unfolding): `small_cnn` on 32×32×3 images
/// measured 2.95·10⁹, `resnet8` 2.57·10⁹ and `textcnn` 1.92·10⁹; 2.5·10⁹ keeps the
/// convolutions' estimates within about 1.25× long and the text network's 0.9×.
pub const MACS_PER_SECOND: f64 = 2.5e9;
/// Per sample: batching, normalization, the validation pass.
pub const SAMPLE_SECONDS: f64 = 2.0e-6;
/// Per optimizer step and layer: candle's per-operation cost forward and backward, which
/// dominates small networks (the digits CNN: 8 ms a step over 6 layers).
pub const LAYER_STEP_SECONDS: f64 = 1.3e-3;
/// Per optimizer step, recurrent layer, direction and time step: a cell is about 15 candle
/// operations forward and backward, a cost the MACs do not show (the LSTM over 30 steps:
/// 0.62 s an epoch measured, 0.40 s without this term).
pub const RNN_STEP_SECONDS: f64 = 1.5e-4;
/// Images a predict request may send.
pub const MAX_IMAGES: usize = 256;

/// A planned network job.
pub struct Planned {
    pub info: NetworkInfo,
    pub resources: TrainingResources,
    pub seconds: f64,
    /// A text classifier's input.
    pub text: Option<TextSpec>,
}

/// The estimated seconds of one epoch of `plan` over `samples` training samples.
pub fn epoch_seconds(plan: &Plan, samples: f64, batch: u32) -> f64 {
    let steps = (samples / f64::from(batch.max(1))).ceil();
    let recurrent: usize = plan
        .layers
        .iter()
        .map(|l| match l.op {
            // A flat window is read as a univariate sequence: its length is the steps.
            Op::Rnn { bidirectional, .. } => {
                l.input.first().copied().unwrap_or(1) * (1 + usize::from(bidirectional))
            }
            _ => 0,
        })
        .sum();
    samples * (SAMPLE_SECONDS + 3.0 * plan.macs as f64 / MACS_PER_SECOND)
        + steps
            * (plan.layers.len() as f64 * LAYER_STEP_SECONDS + recurrent as f64 * RNN_STEP_SECONDS)
}

fn mb(bytes: u64) -> f64 {
    (bytes as f64 / 1e6 * 10.0).round() / 10.0
}

/// What a network job reads.
#[derive(Clone, Copy)]
pub enum Data<'a> {
    Images(&'a ImageSetInfo),
    /// One column of a table, cut into windows.
    Series(&'a ForecastSpec),
    /// A table's text column, the first `max_length` words of each text, with its class.
    Text {
        column: &'a str,
        max_length: usize,
    },
}

/// Plans `m` on the dataset, or refuses it.
pub fn plan_job(
    m: &TrainModelConfig,
    dataset: &DatasetRecord,
    data: Data<'_>,
    training: &TrainingConfig,
    worker_memory_bytes: u64,
    function_memory_bytes: u64,
    max_runtime_seconds: u64,
) -> Result<Planned, ApiError> {
    for (key, given) in [
        ("hidden_layers", m.hidden_layers.is_some()),
        ("gbm", m.gbm.is_some()),
        ("features", m.features.is_some()),
        ("exclude", m.exclude.is_some()),
    ] {
        if given {
            return Err(ApiError::validation(
                format!("model_config.{key}"),
                Value::Null,
                "absent for a layer-list network",
                format!(
                    "model_config.{key} applies to tabular models; a network's layers are in model_config.architecture"
                ),
            ));
        }
    }
    let architecture = m.architecture.layer_list().ok_or_else(|| {
        ApiError::internal(std::io::Error::other(
            "a network request without a layer list",
        ))
    })?;
    // The input, the output width, and how many samples the dataset makes.
    let (input_shape, classes, total, source) = match data {
        Data::Images(images) => (
            vec![
                images.height as usize,
                images.width as usize,
                images.channels as usize,
            ],
            images.classes.len(),
            dataset.rows,
            "images",
        ),
        Data::Series(f) => (
            vec![f.window],
            f.horizon,
            (dataset.rows + 1).saturating_sub((f.window + f.horizon) as u64),
            "series windows",
        ),
        Data::Text { max_length, .. } => (
            vec![max_length],
            class_count(dataset),
            dataset.rows,
            "texts",
        ),
    };
    if let Data::Series(f) = data {
        let least = (2.0 / (1.0 - training.validation_split)).ceil() as u64 + 1;
        if total < least {
            return Err(ApiError::validation(
                "model_config.forecast.window",
                json!(f.window),
                format!("a window and horizon that leave at least {least} windows"),
                format!(
                    "dataset {} has {} rows: windows of {} values answering {} make {total} \
                     samples, too few to train and validate on",
                    dataset.id, dataset.rows, f.window, f.horizon
                ),
            ));
        }
    }
    let plan = analysis::network::plan(&architecture, &input_shape, classes).map_err(|e| {
        let at = layer_of(e.field());
        analysis_error(
            e,
            at.and_then(|i| layer_value(&architecture, i))
                .unwrap_or_default(),
        )
    })?;
    training::deep::check(&plan).map_err(|e| match e {
        training::TrainingError::Invalid { field, message } => {
            let value = layer_of(&field).and_then(|i| layer_value(&architecture, i));
            analysis_error(
                analysis::AnalysisError::Invalid { field, message },
                value.unwrap_or_default(),
            )
        }
        other => ApiError::internal(other),
    })?;
    let text = match data {
        Data::Text { column, max_length } => Some(TextSpec {
            column: column.to_string(),
            max_length,
            vocab_size: text_vocabulary(&plan, &architecture)?,
        }),
        _ => None,
    };
    let net = NetworkSize::of_plan(&plan);
    let (train, serve) = memory(&plan, total, training);
    let samples = (total as f64 * (1.0 - training.validation_split)).max(1.0);
    let epoch = epoch_seconds(&plan, samples, training.batch_size);
    let seconds = STARTUP_SECONDS + f64::from(training.epochs) * epoch;
    if seconds > max_runtime_seconds as f64 {
        let fits = fitting_preset(
            match data {
                Data::Images(_) => PresetInput::Images,
                Data::Series(_) => PresetInput::Window,
                Data::Text { .. } => PresetInput::Tokens,
            },
            &input_shape,
            classes,
            total,
            training,
            max_runtime_seconds,
            (worker_memory_bytes, function_memory_bytes),
        );
        return Err(ApiError::validation(
            "model_config.architecture",
            json!({
                "parameters": plan.params,
                "macs_per_sample": plan.macs,
                "worker_macs_per_second": MACS_PER_SECOND,
                "training_samples": samples.round(),
                "estimated_epoch_seconds": (epoch * 10.0).round() / 10.0,
                "epochs": training.epochs,
                "estimated_seconds": seconds.round(),
                "budget_seconds": max_runtime_seconds,
                "preset_that_fits": fits,
            }),
            format!("a network that trains within {max_runtime_seconds} s"),
            format!(
                "this network has {} parameters and {} multiply-accumulates per {} of {}; \
                 at the worker's measured {:.1e} MAC/s (forward and backward: 3× the MACs) an \
                 epoch of {} {source} takes about {:.0} s, so {} epochs take about {:.0} s, more \
                 than the {max_runtime_seconds} s this job may run \
                 (training_config.max_runtime_seconds, at most 86400); {}",
                plan.params,
                plan.macs,
                &source[..source.len() - 1],
                input_shape
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("x"),
                MACS_PER_SECOND,
                samples.round(),
                epoch,
                training.epochs,
                seconds,
                match fits {
                    Some(p) => format!("the preset {p} fits, or use fewer epochs"),
                    None => "use fewer epochs or a smaller network".into(),
                }
            ),
        ));
    }
    let worker_usable = usable(worker_memory_bytes);
    if train.total_bytes > worker_usable {
        let field = if train.activations_bytes > train.parameters_bytes.max(train.dataset_bytes) {
            "training_config.batch_size"
        } else {
            "model_config.architecture"
        };
        return Err(ApiError::validation(
            field,
            json!({"estimated_peak_bytes": train, "parameters": plan.params}),
            format!(
                "a training peak within {:.0} MB ({:.0} % of the worker's {:.0} MB)",
                mb(worker_usable),
                USABLE_SHARE * 100.0,
                mb(worker_memory_bytes)
            ),
            format!(
                "training this network would need about {} MB in the worker, which has {} MB: \
                 {} MB for {} parameters with their gradients and optimizer state, {} MB of \
                 activations for a batch, {} MB for the {source}; use a smaller batch or network",
                mb(train.total_bytes),
                mb(worker_memory_bytes),
                mb(train.parameters_bytes + train.largest_layer_bytes),
                plan.params,
                mb(train.activations_bytes),
                mb(train.dataset_bytes),
            ),
        ));
    }
    if serve.total_bytes > usable(function_memory_bytes) {
        return Err(ApiError::validation(
            "model_config.architecture",
            json!({"estimated_serving_bytes": serve, "parameters": plan.params}),
            format!(
                "a network that predicts within {:.0} MB",
                mb(usable(function_memory_bytes))
            ),
            format!(
                "the trained network would need about {} MB to predict in the models function, \
                 which has {} MB ({} MB for {} parameters); use a smaller network",
                mb(serve.total_bytes),
                mb(function_memory_bytes),
                mb(serve.parameters_bytes),
                plan.params
            ),
        ));
    }
    let preset = match &m.architecture {
        TrainArchitecture::Preset(p) => Some(p.name().to_string()),
        _ => None,
    };
    Ok(Planned {
        info: NetworkInfo {
            preset,
            architecture,
            input_shape,
            outputs: classes,
            parameters: plan.params,
            macs: plan.macs,
        },
        resources: TrainingResources {
            parameters: net.parameters,
            training: train,
            worker_memory_bytes,
            serving: serve,
            models_function_memory_bytes: function_memory_bytes,
            feature_width_source: source.into(),
        },
        seconds,
        text,
    })
}

/// The classes of a dataset's target, as counted when it was stored.
fn class_count(dataset: &DatasetRecord) -> usize {
    dataset.training_shape.as_ref().map_or(0, |s| {
        s.target
            .as_ref()
            .map_or(s.class_counts.len(), |t| t.distinct as usize)
    })
}

/// A text classifier reads word ids: its first layer is an embedding, whose `vocab_size`
/// bounds the vocabulary.
fn text_vocabulary(plan: &Plan, architecture: &Value) -> Result<usize, ApiError> {
    match plan.layers.first().map(|l| (&l.op, l.index)) {
        Some((Op::Embedding { vocab, .. }, _)) if *vocab > text::RESERVED => Ok(*vocab),
        Some((Op::Embedding { vocab, .. }, i)) => Err(ApiError::validation(
            format!("model_config.architecture.layers[{i}].vocab_size"),
            json!(vocab),
            format!("more than {}", text::RESERVED),
            format!(
                "the vocabulary reserves id 0 for padding and 1 for unknown words: a vocab_size \
                 of {vocab} leaves no room for a word"
            ),
        )),
        other => {
            let i = other.map_or(0, |(_, i)| i);
            Err(ApiError::validation(
                format!("model_config.architecture.layers[{i}]"),
                layer_value(architecture, i).unwrap_or_default(),
                "an embedding layer (vocab_size, output_dim) first",
                "a text classifier reads word ids: its first layer must be an embedding that \
                 turns them into vectors, e.g. {\"type\": \"embedding\", \"vocab_size\": \
                 20000, \"output_dim\": 64}; or use the preset textcnn or fasttext",
            ))
        }
    }
}

/// The largest preset (by MACs) that plans on this input and trains within the budget.
fn fitting_preset(
    reads: PresetInput,
    input_shape: &[usize],
    classes: usize,
    total: u64,
    training: &TrainingConfig,
    budget: u64,
    (worker_memory_bytes, function_memory_bytes): (u64, u64),
) -> Option<&'static str> {
    let samples = (total as f64 * (1.0 - training.validation_split)).max(1.0);
    Preset::ALL
        .iter()
        .filter(|p| p.reads() == reads)
        .filter_map(|p| {
            let plan = analysis::network::plan(&p.architecture(), input_shape, classes).ok()?;
            training::deep::check(&plan).ok()?;
            let seconds = STARTUP_SECONDS
                + f64::from(training.epochs) * epoch_seconds(&plan, samples, training.batch_size);
            let (train, serve) = memory(&plan, total, training);
            let fits = seconds <= budget as f64
                && train.total_bytes <= usable(worker_memory_bytes)
                && serve.total_bytes <= usable(function_memory_bytes);
            fits.then_some((plan.macs, p.name()))
        })
        .max()
        .map(|(_, name)| name)
}

fn usable(bytes: u64) -> u64 {
    (bytes as f64 * USABLE_SHARE) as u64
}

/// The worker's training peak and the models function's serving peak for `plan` over
/// `total` samples.
fn memory(
    plan: &Plan,
    total: u64,
    training: &TrainingConfig,
) -> (footprint::TrainingMemory, footprint::ServingMemory) {
    let net = NetworkSize::of_plan(plan);
    let values = total.saturating_mul(net.inputs_per_sample);
    (
        footprint::training_on_images(
            net,
            training.optimizer,
            values,
            u64::from(training.batch_size),
        ),
        footprint::serving_network(net, MAX_IMAGES as u64),
    )
}

/// `3` from `architecture.layers[3]…`.
fn layer_of(field: &str) -> Option<usize> {
    let rest = field.split("layers[").nth(1)?;
    rest.split(']').next()?.parse().ok()
}

fn layer_value(architecture: &Value, i: usize) -> Option<Value> {
    architecture.get("layers")?.get(i).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recurrent_layer_costs_its_time_steps_in_each_direction() {
        let plan = |bidirectional: bool| {
            analysis::network::plan(
                &json!({"layers": [
                    {"type": "lstm", "units": 8, "bidirectional": bidirectional},
                    {"type": "output"}
                ]}),
                &[30, 4],
                2,
            )
            .unwrap()
        };
        let (one, two) = (plan(false), plan(true));
        // 64 samples in batches of 32: 2 steps; no recurrence: layers and MACs only.
        let base = |p: &Plan| {
            64.0 * (SAMPLE_SECONDS + 3.0 * p.macs as f64 / MACS_PER_SECOND)
                + 2.0 * 2.0 * LAYER_STEP_SECONDS
        };
        let extra = |p: &Plan| epoch_seconds(p, 64.0, 32) - base(p);
        assert!((extra(&one) - 2.0 * 30.0 * RNN_STEP_SECONDS).abs() < 1e-12);
        assert!((extra(&two) - 2.0 * 60.0 * RNN_STEP_SECONDS).abs() < 1e-12);
    }
}
