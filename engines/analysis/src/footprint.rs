//! Peak memory of a training job in this project's worker (candle on the CPU) and of serving
//! its model in the models function, estimated before the job is accepted, so a request that cannot fit is refused
//! at submission with the numbers instead of failing (or being killed) later.
//!
//! The terms, in bytes (P parameters, L parameters of the largest layer, A = Σ layer output
//! widths per sample: the hidden layers and the classes, C cells of the dataset, b the batch):
//!
//! ```text
//! training = BASE + CELL·C + PARAM·P + LARGEST·L + ACTIVATION·A·max(b, min(validation rows, 8192))
//! serving  = BASE + SERVE_PARAM·P + SERVE_ACTIVATION·A·rows + SERVE_INPUT·features·rows
//! ```
//!
//! PARAM is what every parameter costs for as long as training runs (weights, gradients and,
//! for Adam/AdamW, two moments: 16 bytes in theory); LARGEST is what the biggest weight
//! matrix costs on top, transiently (candle's backward pass and optimizer step allocate
//! temporaries of a whole tensor at a time, and the artifact is serialized at the end);
//! CELL covers the dataset's CSV text and its parsed, split table; ACTIVATION each layer's
//! output, its gradient and candle's intermediate tensors; serving holds the artifact's
//! bytes and its weights (8 bytes a parameter) and the forward pass's tensors. The
//! constants were fitted to peak
//! resident sets measured with `bench/run memory` (release build, x86_64; BENCHMARKS.md,
//! "Memory", has every measurement beside its estimate).

use schemars::JsonSchema;
use serde::Serialize;

use crate::spec::{Architecture, OptimizerKind};

/// The process itself: runtime, allocator, candle's thread pool.
pub const BASE_BYTES: u64 = 6 * 1024 * 1024;
/// Per dataset cell: the CSV text, the parsed JSON cell and its row.
pub const CELL_BYTES: u64 = 82;
/// Per parameter and per parameter of the largest layer, by optimizer (Adam, AdamW / SGD).
pub const ADAM_PARAM_BYTES: u64 = 14;
pub const ADAM_LARGEST_BYTES: u64 = 59;
pub const SGD_PARAM_BYTES: u64 = 9;
pub const SGD_LARGEST_BYTES: u64 = 11;
/// Per activation value per sample of a batch while training.
pub const ACTIVATION_BYTES: u64 = 37;
/// Rows evaluated in one forward pass (the trainer's evaluation chunk).
pub const EVAL_CHUNK_ROWS: u64 = 8192;
/// Serving: per parameter (the artifact's bytes as read, and its weights), and per
/// activation value per predicted row (the forward pass's tensors).
pub const SERVE_PARAM_BYTES: u64 = 8;
pub const SERVE_ACTIVATION_BYTES: u64 = 12;
/// Serving: per input value of the request (its parsed JSON and the encoded features).
pub const SERVE_INPUT_BYTES: u64 = 150;

/// Per image value (one byte of N·H·W·C) while a network trains: the stored file (1), the
/// decoded set (1) and the float32 copy of the training and validation samples (4).
pub const PIXEL_BYTES: u64 = 6;
/// Samples a layer-list network evaluates in one forward pass, at most.
pub const NETWORK_EVAL_CHUNK: u64 = 256;
/// A layer-list network's unfolded convolution inputs, per value of a training batch: the
/// stacked taps and their contiguous copy (4 bytes each) and their gradient (4).
pub const UNFOLDED_BYTES: u64 = 12;
/// Per value held while evaluating (no gradients: the outputs and the intermediates).
pub const EVAL_BYTES: u64 = 8;
/// Activation and unfolded values one evaluation pass may hold (2^23: 32 MiB a copy).
pub const EVAL_VALUES: u64 = 1 << 23;

/// A network's sizes as the memory terms need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkSize {
    pub parameters: u64,
    pub largest_layer: u64,
    pub activations_per_sample: u64,
    /// Values of the convolutions' unfolded inputs per sample (layer-list networks;
    /// k_h·k_w·C_in per output position of a conv2d, k·C_in of a conv1d).
    pub unfolded_per_sample: u64,
    /// Features per sample (the network's input width).
    pub inputs_per_sample: u64,
}

impl NetworkSize {
    /// The MLP or logistic regression over `width` features and `classes` classes.
    pub fn of(architecture: &Architecture, width: usize, classes: usize) -> NetworkSize {
        let sizes = architecture.layer_sizes(width, classes);
        let layers: Vec<u64> = sizes
            .windows(2)
            .map(|w| {
                (w[0] as u64)
                    .saturating_mul(w[1] as u64)
                    .saturating_add(w[1] as u64)
            })
            .collect();
        NetworkSize {
            parameters: layers.iter().fold(0u64, |a, b| a.saturating_add(*b)),
            largest_layer: layers.iter().copied().max().unwrap_or(0),
            activations_per_sample: sizes[1..].iter().map(|&s| s as u64).sum(),
            unfolded_per_sample: 0,
            inputs_per_sample: width as u64,
        }
    }
}

impl NetworkSize {
    /// A planned layer list: activations are every layer's output; a convolution's unfolded
    /// input (what the trainer's im2col product reads) is counted apart.
    pub fn of_plan(plan: &crate::network::Plan) -> NetworkSize {
        let product = |d: &[usize]| d.iter().fold(1u64, |a, &x| a.saturating_mul(x as u64));
        let (mut activations, mut unfolded) = (0u64, 0u64);
        for l in &plan.layers {
            activations = activations.saturating_add(product(&l.output));
            // k_h·k_w·C_in (conv2d) or k·C_in (conv1d) values per output position.
            let taps = match l.op {
                crate::network::Op::Conv { kernel, .. } => {
                    Some((product(&l.output[..2]), kernel.0 * kernel.1, l.input[2]))
                }
                crate::network::Op::Conv1d { kernel, .. } => {
                    Some((product(&l.output[..1]), kernel, l.input[1]))
                }
                _ => None,
            };
            if let Some((positions, window, c_in)) = taps {
                unfolded = unfolded.saturating_add(
                    positions
                        .saturating_mul(window as u64)
                        .saturating_mul(c_in as u64),
                );
            }
        }
        NetworkSize {
            parameters: plan.params,
            largest_layer: plan.layers.iter().map(|l| l.params).max().unwrap_or(0),
            activations_per_sample: activations,
            unfolded_per_sample: unfolded,
            inputs_per_sample: product(&plan.input_shape),
        }
    }
}

/// Samples a layer-list network evaluates (and predicts) in one forward pass: as many as
/// keep its activations and unfolded inputs within [`EVAL_VALUES`], from 1 to 256.
pub fn network_eval_rows(net: NetworkSize) -> u64 {
    let per = net
        .activations_per_sample
        .saturating_add(net.unfolded_per_sample)
        .max(1);
    (EVAL_VALUES / per).clamp(1, NETWORK_EVAL_CHUNK)
}

/// The models function's peak while a layer-list network predicts `images` images: its
/// weights, one evaluation chunk, and the decoded inputs.
pub fn serving_network(net: NetworkSize, images: u64) -> ServingMemory {
    let rows = network_eval_rows(net).min(images.max(1));
    let parameters_bytes = SERVE_PARAM_BYTES.saturating_mul(net.parameters);
    let activations_bytes = EVAL_BYTES
        .saturating_mul(
            net.activations_per_sample
                .saturating_add(net.unfolded_per_sample),
        )
        .saturating_mul(rows);
    let input_bytes = 5u64
        .saturating_mul(net.inputs_per_sample)
        .saturating_mul(images);
    ServingMemory {
        base_bytes: BASE_BYTES,
        parameters_bytes,
        activations_bytes,
        input_bytes,
        total_bytes: [BASE_BYTES, parameters_bytes, activations_bytes, input_bytes]
            .iter()
            .fold(0u64, |a, b| a.saturating_add(*b)),
    }
}

/// The worker's estimated peak, by term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TrainingMemory {
    pub base_bytes: u64,
    pub dataset_bytes: u64,
    pub parameters_bytes: u64,
    pub largest_layer_bytes: u64,
    pub activations_bytes: u64,
    pub total_bytes: u64,
}

/// The models function's estimated peak while it predicts `rows` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ServingMemory {
    pub base_bytes: u64,
    pub parameters_bytes: u64,
    pub activations_bytes: u64,
    pub input_bytes: u64,
    pub total_bytes: u64,
}

/// What the training of `net` on `cells` dataset cells needs at its peak.
pub fn training(
    net: NetworkSize,
    optimizer: OptimizerKind,
    cells: u64,
    batch_size: u64,
    validation_rows: u64,
) -> TrainingMemory {
    let rows_at_once = batch_size.max(validation_rows.min(EVAL_CHUNK_ROWS));
    let dataset_bytes = CELL_BYTES.saturating_mul(cells);
    let activations_bytes = ACTIVATION_BYTES
        .saturating_mul(net.activations_per_sample)
        .saturating_mul(rows_at_once);
    with_data(net, optimizer, dataset_bytes, activations_bytes)
}

/// What the training of a layer-list network on `pixels` image bytes (N·H·W·C) needs at its
/// peak: the stored file, the decoded set and its float copy (PIXEL_BYTES a value), and the
/// larger of a training batch (ACTIVATION_BYTES an activation, UNFOLDED_BYTES an unfolded
/// value) and an evaluation chunk ([`network_eval_rows`] samples, EVAL_BYTES a value).
pub fn training_on_images(
    net: NetworkSize,
    optimizer: OptimizerKind,
    pixels: u64,
    batch_size: u64,
) -> TrainingMemory {
    let dataset_bytes = PIXEL_BYTES.saturating_mul(pixels);
    let training = ACTIVATION_BYTES
        .saturating_mul(net.activations_per_sample)
        .saturating_add(UNFOLDED_BYTES.saturating_mul(net.unfolded_per_sample))
        .saturating_mul(batch_size);
    let evaluating = EVAL_BYTES
        .saturating_mul(
            net.activations_per_sample
                .saturating_add(net.unfolded_per_sample),
        )
        .saturating_mul(network_eval_rows(net));
    with_data(net, optimizer, dataset_bytes, training.max(evaluating))
}

fn with_data(
    net: NetworkSize,
    optimizer: OptimizerKind,
    dataset_bytes: u64,
    activations_bytes: u64,
) -> TrainingMemory {
    let (per_param, per_largest) = match optimizer {
        OptimizerKind::Sgd => (SGD_PARAM_BYTES, SGD_LARGEST_BYTES),
        OptimizerKind::Adam | OptimizerKind::AdamW => (ADAM_PARAM_BYTES, ADAM_LARGEST_BYTES),
    };
    let parameters_bytes = per_param.saturating_mul(net.parameters);
    let largest_layer_bytes = per_largest.saturating_mul(net.largest_layer);
    TrainingMemory {
        base_bytes: BASE_BYTES,
        dataset_bytes,
        parameters_bytes,
        largest_layer_bytes,
        activations_bytes,
        total_bytes: [
            BASE_BYTES,
            dataset_bytes,
            parameters_bytes,
            largest_layer_bytes,
            activations_bytes,
        ]
        .iter()
        .fold(0u64, |a, b| a.saturating_add(*b)),
    }
}

/// What predicting `rows` rows with `net` needs at its peak.
pub fn serving(net: NetworkSize, rows: u64) -> ServingMemory {
    let parameters_bytes = SERVE_PARAM_BYTES.saturating_mul(net.parameters);
    let activations_bytes = SERVE_ACTIVATION_BYTES
        .saturating_mul(net.activations_per_sample)
        .saturating_mul(rows);
    let input_bytes = SERVE_INPUT_BYTES
        .saturating_mul(net.inputs_per_sample)
        .saturating_mul(rows);
    ServingMemory {
        base_bytes: BASE_BYTES,
        parameters_bytes,
        activations_bytes,
        input_bytes,
        total_bytes: [BASE_BYTES, parameters_bytes, activations_bytes, input_bytes]
            .iter()
            .fold(0u64, |a, b| a.saturating_add(*b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mlp(hidden: &[usize]) -> Architecture {
        Architecture::mlp(hidden)
    }

    #[test]
    fn sizes_of_an_mlp_by_hand() {
        // 10 → 32 → 16 → 2: layers 352, 528, 34.
        let n = NetworkSize::of(&mlp(&[32, 16]), 10, 2);
        assert_eq!(n.parameters, 352 + 528 + 34);
        assert_eq!(n.largest_layer, 528);
        assert_eq!(n.activations_per_sample, 32 + 16 + 2);
        let lr = NetworkSize::of(&Architecture::LogisticRegression, 10, 3);
        assert_eq!(
            (lr.parameters, lr.largest_layer, lr.activations_per_sample),
            (33, 33, 3)
        );
    }

    #[test]
    fn the_reported_8_by_4096_mlp_needs_more_than_a_2_gb_worker() {
        // 117 M parameters; it peaked at 2,732 MB in a 2,048 MB worker.
        let n = NetworkSize::of(&mlp(&[4096; 8]), 10, 2);
        assert!(n.parameters > 117_000_000);
        let m = training(n, OptimizerKind::Adam, 11 * 1000, 32, 200);
        let mb = m.total_bytes as f64 / 1e6;
        assert!((2400.0..3100.0).contains(&mb), "{mb} MB");
        assert_eq!(
            m.total_bytes,
            m.base_bytes
                + m.dataset_bytes
                + m.parameters_bytes
                + m.largest_layer_bytes
                + m.activations_bytes
        );
        let sgd = training(n, OptimizerKind::Sgd, 11 * 1000, 32, 200);
        assert!(sgd.total_bytes < m.total_bytes, "no optimizer state");
    }

    #[test]
    fn validation_chunks_and_batches_bound_the_activations() {
        let n = NetworkSize::of(&mlp(&[1024]), 10, 2);
        let small = training(n, OptimizerKind::Adam, 0, 32, 100);
        let chunk = training(n, OptimizerKind::Adam, 0, 32, 100_000);
        let batch = training(n, OptimizerKind::Adam, 0, 16_384, 100);
        assert_eq!(small.activations_bytes, 37 * 1026 * 100);
        assert_eq!(chunk.activations_bytes, 37 * 1026 * 8192);
        assert_eq!(batch.activations_bytes, 37 * 1026 * 16_384);
    }
}
