//! The models: logistic regression (one linear layer) and an MLP, both ending in class logits
//! trained with softmax cross-entropy (two logits for a binary target too, so one code path).
//!
//! Weights are initialized as PyTorch's `nn.Linear` does — weight and bias uniform in
//! `±1/sqrt(fan_in)` — but drawn from ChaCha8(seed), because candle's CPU RNG cannot be seeded.

use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::TrainingError;
pub use analysis::spec::{
    Activation, Architecture, OptimizerKind, DEFAULT_HIDDEN, MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS,
};

/// The activation as candle computes it.
fn activate(activation: Activation, x: &Tensor) -> candle_core::Result<Tensor> {
    match activation {
        Activation::Relu => x.relu(),
        Activation::Tanh => x.tanh(),
        Activation::Gelu => x.gelu_erf(),
    }
}

/// A layer as plain numbers: `(inputs, outputs, weight row-major (outputs × inputs), bias)`.
pub(crate) type RawLayer = (usize, usize, Vec<f32>, Vec<f32>);

/// One linear layer `y = x Wᵀ + b`, W of shape (outputs, inputs).
pub(crate) struct Layer {
    pub weight: Var,
    pub bias: Var,
}

/// The network as candle variables: linear layers with the activation (and dropout, when
/// training) between them; the last layer's output is the logits.
pub(crate) struct Network {
    pub layers: Vec<Layer>,
    activation: Activation,
    dropout: f32,
}

impl Network {
    /// Fresh weights, uniform in ±1/sqrt(fan_in), drawn from `rng`.
    pub fn init(
        architecture: &Architecture,
        width: usize,
        classes: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Network, TrainingError> {
        let sizes = architecture.layer_sizes(width, classes);
        let mut weights = Vec::new();
        for w in sizes.windows(2) {
            let (inputs, outputs) = (w[0], w[1]);
            let bound = 1.0 / (inputs.max(1) as f32).sqrt();
            let mut draw = |n: usize| -> Vec<f32> {
                (0..n).map(|_| rng.random_range(-bound..=bound)).collect()
            };
            let weight = draw(inputs * outputs);
            let bias = draw(outputs);
            weights.push((inputs, outputs, weight, bias));
        }
        Network::from_weights(architecture, weights)
    }

    /// A network from `(inputs, outputs, weight row-major (outputs × inputs), bias)` per layer.
    pub fn from_weights(
        architecture: &Architecture,
        weights: Vec<RawLayer>,
    ) -> Result<Network, TrainingError> {
        let layers = weights
            .into_iter()
            .map(|(inputs, outputs, w, b)| {
                Ok(Layer {
                    weight: Var::from_tensor(&Tensor::from_vec(
                        w,
                        (outputs, inputs),
                        &Device::Cpu,
                    )?)?,
                    bias: Var::from_tensor(&Tensor::from_vec(b, outputs, &Device::Cpu)?)?,
                })
            })
            .collect::<Result<Vec<_>, TrainingError>>()?;
        let (activation, dropout) = match architecture {
            Architecture::LogisticRegression => (Activation::Relu, 0.0),
            Architecture::Mlp {
                activation,
                dropout,
                ..
            } => (*activation, *dropout),
        };
        Ok(Network {
            layers,
            activation,
            dropout,
        })
    }

    /// All trainable variables, for the optimizer.
    pub fn vars(&self) -> Vec<Var> {
        self.layers
            .iter()
            .flat_map(|l| [l.weight.clone(), l.bias.clone()])
            .collect()
    }

    /// Sum of squared weights and biases, for an L2 penalty.
    pub fn squared_norm(&self) -> candle_core::Result<Tensor> {
        let mut total = Tensor::zeros((), DType::F32, &Device::Cpu)?;
        for v in self.vars() {
            total = (total + v.as_tensor().sqr()?.sum_all()?)?;
        }
        Ok(total)
    }

    /// Logits for `x` (rows × width). With `dropout_rng` (training), each hidden unit is zeroed
    /// with probability p and the survivors scaled by 1/(1 − p), so evaluation needs no rescaling.
    pub fn forward(
        &self,
        x: &Tensor,
        mut dropout_rng: Option<&mut ChaCha8Rng>,
    ) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            h = h
                .matmul(&layer.weight.as_tensor().t()?)?
                .broadcast_add(layer.bias.as_tensor())?;
            if i < last {
                h = activate(self.activation, &h)?;
                if let Some(rng) = dropout_rng.as_deref_mut() {
                    if self.dropout > 0.0 {
                        let p = self.dropout;
                        let keep = 1.0 / (1.0 - p);
                        let mask: Vec<f32> = (0..h.elem_count())
                            .map(|_| if rng.random::<f32>() < p { 0.0 } else { keep })
                            .collect();
                        h = h.mul(&Tensor::from_vec(mask, h.shape(), &Device::Cpu)?)?;
                    }
                }
            }
        }
        Ok(h)
    }

    /// The weights as plain vectors, per layer `(inputs, outputs, weight, bias)`.
    pub fn export(&self) -> Result<Vec<RawLayer>, TrainingError> {
        self.layers
            .iter()
            .map(|l| {
                let (outputs, inputs) = l.weight.as_tensor().dims2()?;
                Ok((
                    inputs,
                    outputs,
                    l.weight.as_tensor().flatten_all()?.to_vec1::<f32>()?,
                    l.bias.as_tensor().to_vec1::<f32>()?,
                ))
            })
            .collect()
    }
}

/// Row-wise log-softmax of `logits` (rows × classes) as plain numbers, in f64 for stable sums:
/// `log p_k = z_k − max z − ln Σ_j exp(z_j − max z)`.
pub(crate) fn log_softmax_rows(logits: &Tensor) -> Result<Vec<Vec<f64>>, TrainingError> {
    let rows = logits.to_vec2::<f32>()?;
    Ok(rows
        .into_iter()
        .map(|z| {
            let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
            let lse = z.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln();
            z.iter().map(|&v| v as f64 - max - lse).collect()
        })
        .collect())
}

pub(crate) use tabular::outputs::argmax;

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parameter_count_matches_the_initialized_network() {
        let arch = Architecture::parse("mlp", Some(vec![5, 3])).unwrap();
        // (4·5 + 5) + (5·3 + 3) + (3·2 + 2) = 25 + 18 + 8
        assert_eq!(arch.parameter_count(4, 2), 51);
        let net = Network::init(&arch, 4, 2, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        let n: usize = net.vars().iter().map(|v| v.as_tensor().elem_count()).sum();
        assert_eq!(n, 51);
        assert_eq!(Architecture::LogisticRegression.parameter_count(30, 2), 62);
    }

    #[test]
    fn log_softmax_rows_normalizes() {
        let z = Tensor::new(&[[1.0f32, 2.0, 3.0], [1000.0, 0.0, 0.0]], &Device::Cpu).unwrap();
        let lp = log_softmax_rows(&z).unwrap();
        for row in &lp {
            let s: f64 = row.iter().map(|v| v.exp()).sum();
            assert!((s - 1.0).abs() < 1e-9);
        }
        assert_eq!(argmax(&lp[0]), 2);
        assert_eq!(argmax(&lp[1]), 0);
        assert!(lp[1][0].abs() < 1e-9);
    }
}
