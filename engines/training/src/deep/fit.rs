//! The training loop of a layer-list network: seeded init, shuffled mini-batches,
//! cross-entropy on the logits (or the squared error of values), the optimizer step, and
//! validation after every epoch, with the same observer, stats and stop rules as the
//! tabular networks.

use analysis::network::Plan;
use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::model::{DeepManifest, DeepModel};
use super::net::{Mode, Net};
use super::{Samples, Targets};
use crate::checkpoint::{run_epochs, Ran, Resume, Run, RunState, Schedule};
use crate::fitted::cross_entropy;
use crate::metrics::{Metrics, RegressionMetrics, Scored};
use crate::model::argmax;
use crate::trainer::{l2_term, step_on, Step};
use crate::{EpochStats, Observer, OptimizerKind, StopReason, TrainingError};

/// How to train.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DeepParams {
    pub optimizer: OptimizerKind,
    pub epochs: u32,
    pub batch_size: u32,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub target_accuracy: Option<f64>,
    pub seed: u64,
}

/// A finished (or stopped) run.
pub struct DeepTrained {
    pub history: Vec<EpochStats>,
    pub stopped: Option<StopReason>,
    pub reached_target: bool,
    pub validation: Scored,
    pub training: Scored,
    pub model: DeepModel,
}

/// Trains `plan` on `train`, validating on `val` after each epoch. `manifest` describes the
/// inputs for prediction and is saved with the weights.
pub fn fit(
    plan: &Plan,
    manifest: DeepManifest,
    train: &Samples,
    val: &Samples,
    params: &DeepParams,
    observer: &mut dyn Observer,
) -> Result<DeepTrained, TrainingError> {
    fit_from(
        plan,
        manifest,
        train,
        val,
        params,
        observer,
        &Resume::default(),
    )?
    .done()
}

/// [`fit`], resumable (see [`crate::checkpoint`]).
pub fn fit_from(
    plan: &Plan,
    manifest: DeepManifest,
    train: &Samples,
    val: &Samples,
    params: &DeepParams,
    observer: &mut dyn Observer,
    resume: &Resume,
) -> Result<Run<Box<DeepTrained>>, TrainingError> {
    if train.is_empty() || val.is_empty() {
        return Err(TrainingError::Data(
            "the training and validation parts need a sample each".into(),
        ));
    }
    if params.epochs == 0 || params.batch_size == 0 {
        return Err(TrainingError::invalid(
            "epochs",
            "epochs and batch_size must be at least 1",
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let net = Net::init(plan, &mut rng)?;
    let mut step = Step::over(
        params.optimizer,
        params.learning_rate,
        params.weight_decay,
        net.vars(),
    )?;
    let l2 = l2_term(params.optimizer, params.weight_decay);
    let schedule = Schedule {
        rows: train.len(),
        epochs: params.epochs,
        batch_size: params.batch_size as usize,
        target_accuracy: params.target_accuracy,
        classify: matches!(train.targets, Targets::Classes { .. }),
        label: resume.label.to_string(),
    };
    let mut state = RunState {
        vars: net.named().map(|(_, v)| v.clone()).collect(),
        step: &mut step,
        rng: &mut rng,
    };
    let mut train_batch = |chunk: &[usize], rng: &mut ChaCha8Rng, step: &mut Step| {
        let x = train.batch(chunk)?;
        let out = net.forward(&x, Mode::Train(rng))?;
        let mut correct = 0;
        let loss = match &train.targets {
            Targets::Classes { labels, .. } => {
                let yb: Vec<u32> = chunk.iter().map(|&i| labels[i]).collect();
                let y = Tensor::from_slice(&yb, chunk.len(), &Device::Cpu)?;
                let predicted = out.argmax(1)?.to_vec1::<u32>()?;
                correct = predicted.iter().zip(&yb).filter(|(p, t)| p == t).count();
                candle_nn::loss::cross_entropy(&out, &y)?
            }
            Targets::Values { values, width, .. } => {
                let width = *width;
                let yb: Vec<f32> = chunk
                    .iter()
                    .flat_map(|&i| values[i * width..(i + 1) * width].iter().copied())
                    .collect();
                let y = Tensor::from_vec(yb, (chunk.len(), width), &Device::Cpu)?;
                candle_nn::loss::mse(&out, &y)?
            }
        };
        Ok((step_on(step, loss, l2, || net.squared_norm())?, correct))
    };
    let mut validate = |mut stats: EpochStats| {
        let (val_loss, scored) = evaluate(&net, val)?;
        stats.val_loss = val_loss;
        Ok(stats.with_validation(&scored))
    };
    let ran = run_epochs(
        &schedule,
        &mut state,
        resume.from,
        observer,
        &mut train_batch,
        &mut validate,
    )?;
    let Ran::Finished {
        history,
        stopped,
        reached_target,
    } = ran
    else {
        return Ok(Run::Paused);
    };
    let validation = evaluate(&net, val)?.1;
    let training = evaluate(&net, train)?.1;
    Ok(Run::Done(Box::new(DeepTrained {
        history,
        stopped,
        reached_target,
        validation,
        training,
        model: DeepModel::new(manifest, plan.clone(), net),
    })))
}

/// The network's raw outputs on every sample (eval mode), row-major.
pub(crate) fn outputs(net: &Net, samples: &Samples) -> Result<(Vec<f32>, usize), TrainingError> {
    let n = samples.len();
    let mut all = Vec::new();
    let mut width = 0;
    let rows: Vec<usize> = (0..n).collect();
    for chunk in rows.chunks(net.eval_rows) {
        let x = samples.batch(chunk)?;
        let out = net.forward(&x, Mode::Eval)?.to_dtype(DType::F32)?;
        width = out.dim(1)?;
        all.extend(out.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok((all, width))
}

/// Softmax of each row of logits, in f64.
pub(crate) fn softmax_rows(logits: &[f32], k: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks_exact(k) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f64> = row.iter().map(|&v| f64::from(v - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        out.extend(exp.iter().map(|e| e / sum));
    }
    out
}

/// The loss and every metric on `samples`.
fn evaluate(net: &Net, samples: &Samples) -> Result<(f64, Scored), TrainingError> {
    let (out, width) = outputs(net, samples)?;
    Ok(match &samples.targets {
        Targets::Classes { labels, classes } => {
            let probabilities = softmax_rows(&out, width);
            let loss = cross_entropy(&probabilities, labels, width);
            let predicted: Vec<u32> = probabilities.chunks_exact(width).map(argmax).collect();
            (
                loss,
                Scored::Classification(
                    Metrics::from_predictions(classes, labels, &predicted, loss)
                        .with_probabilities(labels, &probabilities),
                ),
            )
        }
        Targets::Values {
            values, mean, std, ..
        } => {
            // The loss in the network's standardized space; the metrics in the target's units.
            let mse = values
                .iter()
                .zip(&out)
                .map(|(t, p)| f64::from(t - p).powi(2))
                .sum::<f64>()
                / values.len().max(1) as f64;
            let units = |v: &f32| f64::from(*v) * std + mean;
            let truth: Vec<f64> = values.iter().map(units).collect();
            let predicted: Vec<f64> = out.iter().map(units).collect();
            (
                mse,
                Scored::Regression(RegressionMetrics::of(&truth, &predicted, None)),
            )
        }
    })
}
