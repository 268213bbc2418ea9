//! How much memory a network needs to train and to serve, from its parameter count and its
//! layers' output sizes: the breakdown torchinfo's summary leaves out (it reports parameters
//! and a forward/backward pass size, not gradients or optimizer state; TylerYep/torchinfo
//! #149, #373). float32 throughout (4 bytes a value). For a batch of b samples, P parameters,
//! A activation values per sample (Σ of every layer's output size) and I input values:
//!
//! - parameters = 4·P; gradients = 4·P (one per parameter);
//! - optimizer state: Adam and AdamW keep two moments per parameter, 8·P; SGD without
//!   momentum keeps none;
//! - training activations = 2 · 4·A·b: each layer's output is kept for the backward pass,
//!   and its gradient has the same size (torchinfo's "forward/backward pass size" is the
//!   same 2 · 4·A·b); input = 4·I·b;
//! - inference activations = 4·A·b (a bound: no gradients, and a layer's output can be
//!   freed once the next one has it).
//!
//! The totals are the sums; the process, the data and framework buffers come on top (the
//! trainer's own estimate adds what it measured of those).

use serde::Serialize;

/// Bytes of a float32.
pub const BYTES_PER_VALUE: u64 = 4;
/// The training batch the breakdown is given for when the request names none.
pub const DEFAULT_TRAINING_BATCH: u64 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerState {
    /// Adam or AdamW: first and second moments.
    Adam,
    /// Plain SGD: no state.
    Sgd,
}

impl OptimizerState {
    /// Values kept per parameter.
    pub fn values_per_parameter(self) -> u64 {
        match self {
            OptimizerState::Adam => 2,
            OptimizerState::Sgd => 0,
        }
    }
}

/// One phase (training or inference) at one batch size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Phase {
    pub batch_size: u64,
    pub parameters_bytes: u64,
    pub gradients_bytes: u64,
    pub optimizer_state_bytes: u64,
    pub activations_bytes: u64,
    pub input_bytes: u64,
    pub total_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MemoryEstimate {
    pub bytes_per_value: u64,
    pub parameters: u64,
    pub activations_per_sample: u64,
    pub input_values_per_sample: u64,
    /// Adam (the default optimizer), batch 32.
    pub training: Phase,
    /// Plain SGD, batch 32: what dropping the optimizer state saves.
    pub training_sgd: Phase,
    /// Batch 1.
    pub inference: Phase,
    pub formula: &'static str,
}

pub const FORMULA: &str = "parameters 4·P, gradients 4·P, Adam state 8·P (SGD 0), training activations 2·4·A·b, inference activations 4·A·b, input 4·I·b; P parameters, A = Σ layer output sizes per sample, I input values per sample, b the batch";

/// One phase's breakdown; `None` on overflow.
pub fn phase(
    parameters: u64,
    activations_per_sample: u64,
    input_values_per_sample: u64,
    batch_size: u64,
    training: Option<OptimizerState>,
) -> Option<Phase> {
    let p = parameters.checked_mul(BYTES_PER_VALUE)?;
    let per_sample_activations = activations_per_sample.checked_mul(BYTES_PER_VALUE)?;
    let (gradients, state, activation_copies) = match training {
        Some(o) => (p, p.checked_mul(o.values_per_parameter())?, 2),
        None => (0, 0, 1),
    };
    let activations = per_sample_activations
        .checked_mul(batch_size)?
        .checked_mul(activation_copies)?;
    let input = input_values_per_sample
        .checked_mul(BYTES_PER_VALUE)?
        .checked_mul(batch_size)?;
    let total = p
        .checked_add(gradients)?
        .checked_add(state)?
        .checked_add(activations)?
        .checked_add(input)?;
    Some(Phase {
        batch_size,
        parameters_bytes: p,
        gradients_bytes: gradients,
        optimizer_state_bytes: state,
        activations_bytes: activations,
        input_bytes: input,
        total_bytes: total,
    })
}

/// The breakdown of a network with these counts; `None` on overflow.
pub fn estimate(
    parameters: u64,
    activations_per_sample: u64,
    input_values_per_sample: u64,
) -> Option<MemoryEstimate> {
    let at = |batch, training| {
        phase(
            parameters,
            activations_per_sample,
            input_values_per_sample,
            batch,
            training,
        )
    };
    Some(MemoryEstimate {
        bytes_per_value: BYTES_PER_VALUE,
        parameters,
        activations_per_sample,
        input_values_per_sample,
        training: at(DEFAULT_TRAINING_BATCH, Some(OptimizerState::Adam))?,
        training_sgd: at(DEFAULT_TRAINING_BATCH, Some(OptimizerState::Sgd))?,
        inference: at(1, None)?,
        formula: FORMULA,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_mlp_by_hand() {
        // 10 → 32 → 2: P = 11·32 + 33·2 = 418; A = 32 + 2 = 34; I = 10.
        let m = estimate(418, 34, 10).unwrap();
        assert_eq!(m.training.parameters_bytes, 1672);
        assert_eq!(m.training.gradients_bytes, 1672);
        assert_eq!(m.training.optimizer_state_bytes, 3344);
        assert_eq!(m.training.activations_bytes, 2 * 4 * 34 * 32);
        assert_eq!(m.training.input_bytes, 4 * 10 * 32);
        assert_eq!(m.training.total_bytes, 1672 * 4 + 8704 + 1280);
        assert_eq!(m.training_sgd.optimizer_state_bytes, 0);
        assert_eq!(m.inference.gradients_bytes, 0);
        assert_eq!(m.inference.activations_bytes, 4 * 34);
        assert_eq!(m.inference.total_bytes, 1672 + 136 + 40);
    }

    #[test]
    fn overflow_is_none() {
        assert!(estimate(u64::MAX / 2, 1, 1).is_none());
    }
}
