//! Networks from a layer list: the analyzer's plan ([`analysis::network::plan`]) built in
//! candle and trained on image tensors (and, by the same loop, on token ids or windows).
//!
//! The plan fixes every layer's shapes and parameter count; [`net`] builds exactly those
//! layers, so a trained network has the parameter count the analyzer reports for the same
//! list (a test holds them equal for every layer kind). The run is deterministic for a seed:
//! ChaCha8(seed) draws the initial weights, then each epoch's shuffle, then dropout masks.

mod fit;
mod model;
pub(crate) mod net;
pub mod series;
mod unfold;

#[cfg(test)]
mod tests;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use fit::{fit, fit_from, DeepParams, DeepTrained};
pub use model::{DeepManifest, DeepModel, InputSpec, DEEP_FORMAT};
pub use net::check;
pub use text::{LengthStats, Vocabulary};

use crate::TrainingError;

/// The samples a network reads, batch dimension first.
#[derive(Debug, Clone)]
pub enum Inputs {
    /// Floats, each sample of `shape` in the network's tensor layout (`[C, H, W]` for an
    /// image).
    Floats { values: Vec<f32>, shape: Vec<usize> },
    /// Token ids, `len` per sample.
    Tokens { ids: Vec<u32>, len: usize },
}

/// What each sample should give.
#[derive(Debug, Clone)]
pub enum Targets {
    Classes {
        labels: Vec<u32>,
        classes: Vec<String>,
    },
    /// `width` values per sample, standardized: the network learns `(y − mean) / std`, and
    /// its answers and metrics are in the target's units.
    Values {
        values: Vec<f32>,
        width: usize,
        mean: f64,
        std: f64,
    },
}

/// Inputs with their targets.
#[derive(Debug, Clone)]
pub struct Samples {
    pub inputs: Inputs,
    pub targets: Targets,
}

impl Samples {
    pub fn len(&self) -> usize {
        match &self.targets {
            Targets::Classes { labels, .. } => labels.len(),
            Targets::Values { values, width, .. } => values.len() / (*width).max(1),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The inputs of `rows`, as one batch tensor.
    pub(crate) fn batch(&self, rows: &[usize]) -> candle_core::Result<candle_core::Tensor> {
        use candle_core::{Device, Tensor};
        match &self.inputs {
            Inputs::Floats { values, shape } => {
                let per: usize = shape.iter().product();
                let mut out = Vec::with_capacity(rows.len() * per);
                for &i in rows {
                    out.extend_from_slice(&values[i * per..(i + 1) * per]);
                }
                let mut dims = vec![rows.len()];
                dims.extend(shape);
                Tensor::from_vec(out, dims, &Device::Cpu)
            }
            Inputs::Tokens { ids, len } => {
                let mut out = Vec::with_capacity(rows.len() * len);
                for &i in rows {
                    out.extend_from_slice(&ids[i * len..(i + 1) * len]);
                }
                Tensor::from_vec(out, (rows.len(), *len), &Device::Cpu)
            }
        }
    }
}

/// Per-channel mean and standard deviation of pixel values scaled to [0, 1] (as
/// torchvision's `ToTensor` then `Normalize(mean, std)`), over the images `rows` of
/// `pixels` (`[N, H, W, C]` bytes).
pub fn channel_stats(
    pixels: &[u8],
    per_image: usize,
    channels: usize,
    rows: &[usize],
) -> (Vec<f32>, Vec<f32>) {
    let mut sum = vec![0f64; channels];
    let mut sq = vec![0f64; channels];
    let mut n = 0u64;
    for &i in rows {
        let image = &pixels[i * per_image..(i + 1) * per_image];
        for px in image.chunks_exact(channels) {
            for (c, &v) in px.iter().enumerate() {
                let v = f64::from(v) / 255.0;
                sum[c] += v;
                sq[c] += v * v;
            }
            n += 1;
        }
    }
    let n = n.max(1) as f64;
    let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
    let std: Vec<f32> = sum
        .iter()
        .zip(&sq)
        .map(|(s, q)| {
            let m = s / n;
            // A constant channel would divide by zero: leave it unscaled.
            let sd = (q / n - m * m).max(0.0).sqrt();
            if sd > 1e-6 {
                sd as f32
            } else {
                1.0
            }
        })
        .collect();
    (mean, std)
}

/// Images `[H, W, C]` bytes → normalized floats in the network's `[C, H, W]` layout.
pub fn image_floats(
    image: &[u8],
    height: usize,
    width: usize,
    mean: &[f32],
    std: &[f32],
    out: &mut Vec<f32>,
) {
    let channels = mean.len();
    for c in 0..channels {
        for y in 0..height {
            for x in 0..width {
                let v = f32::from(image[(y * width + x) * channels + c]) / 255.0;
                out.push((v - mean[c]) / std[c]);
            }
        }
    }
}

/// A stratified split of labeled samples: each class's samples shuffled by ChaCha8(seed) and
/// `fraction` of them (rounded, at least one when the class has two) held out.
pub fn stratified_split(
    labels: &[u32],
    classes: usize,
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), TrainingError> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(TrainingError::invalid(
            "validation_split",
            format!("must be between 0 and 1 (exclusive), got {fraction}"),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut by_class = vec![Vec::new(); classes];
    for (i, &y) in labels.iter().enumerate() {
        by_class[y as usize].push(i);
    }
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for mut rows in by_class {
        rows.shuffle(&mut rng);
        let mut k = (rows.len() as f64 * fraction).round() as usize;
        if k == 0 && rows.len() >= 2 {
            k = 1;
        }
        k = k.min(rows.len().saturating_sub(1));
        val.extend_from_slice(&rows[..k]);
        train.extend_from_slice(&rows[k..]);
    }
    train.sort_unstable();
    val.sort_unstable();
    if train.is_empty() || val.is_empty() {
        return Err(TrainingError::Data(format!(
            "{} samples cannot be split into training and validation parts",
            labels.len()
        )));
    }
    Ok((train, val))
}
