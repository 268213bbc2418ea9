//! The training loop: seeded init, per-epoch shuffled mini-batches, softmax cross-entropy (or,
//! for regression, the mean squared error of the standardized target), the optimizer step,
//! validation after each epoch, early stopping at a target accuracy, and an observer that can
//! stop the run between batches (deadline, cancellation) or after an epoch.

use candle_core::Var;
use candle_core::{Device, Tensor};
use candle_nn::{Optimizer, ParamsAdamW, SGD};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::artifact::Artifact;
use super::checkpoint::{run_epochs, Ran, Resume, Run, RunState, Schedule};
use super::data::{Encoder, Matrix, Task};
use super::fitted::Outputs;
use super::metrics::{RegressionMetrics, Scored};
use super::model::{log_softmax_rows, Architecture, Network, OptimizerKind};
use super::TrainingError;

/// Rows per forward pass when evaluating, to bound memory on large matrices.
const EVAL_CHUNK: usize = 8192;

/// How to train.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TrainParams {
    pub architecture: Architecture,
    pub optimizer: OptimizerKind,
    pub epochs: u32,
    pub batch_size: u32,
    pub learning_rate: f64,
    /// AdamW: decoupled decay; Adam and SGD: L2 coefficient λ, adding λ·θ to the gradient.
    pub weight_decay: f64,
    /// Stop after the first epoch whose validation accuracy reaches this.
    pub target_accuracy: Option<f64>,
    pub seed: u64,
}

impl TrainParams {
    /// Checks ranges, naming the offending field.
    pub fn validate(&self) -> Result<(), TrainingError> {
        self.architecture.validate()?;
        if self.epochs == 0 {
            return Err(TrainingError::invalid("epochs", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(TrainingError::invalid("batch_size", "must be at least 1"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(TrainingError::invalid(
                "learning_rate",
                format!("{}; must be positive", self.learning_rate),
            ));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(TrainingError::invalid(
                "weight_decay",
                format!("{}; must be ≥ 0", self.weight_decay),
            ));
        }
        if let Some(t) = self.target_accuracy {
            if !(t > 0.0 && t <= 1.0) {
                return Err(TrainingError::invalid(
                    "target_accuracy",
                    format!("{t}; must be in (0, 1]"),
                ));
            }
        }
        Ok(())
    }
}

/// One epoch's numbers (for gradient-boosted trees, one stage: the first `trees` trees).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct EpochStats {
    /// 1-based.
    pub epoch: u32,
    /// Mean over the epoch's batches of each batch's mean loss (before its step): the
    /// cross-entropy, or for regression the squared error of the standardized target.
    pub loss: f64,
    /// The same loss on the whole validation matrix after the epoch, without dropout.
    pub val_loss: f64,
    /// Classification: fraction of training rows classified correctly by the batch's forward
    /// pass (before its step, with dropout), as Keras reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_accuracy: Option<f64>,
    /// Regression: validation RMSE, MAE and R² in the target's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_mae: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_r2: Option<f64>,
    /// Gradient-boosted trees: the trees this stage holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trees: Option<u32>,
    /// Wall time of the epoch including validation.
    pub seconds: f64,
}

impl EpochStats {
    /// The validation headline: accuracy, or R².
    pub fn val_metric(&self) -> f64 {
        self.val_accuracy.or(self.val_r2).unwrap_or(f64::NAN)
    }

    /// Fills the validation metrics from scores.
    pub fn with_validation(mut self, scored: &Scored) -> EpochStats {
        match scored {
            Scored::Classification(m) => self.val_accuracy = Some(m.accuracy),
            Scored::Regression(m) => {
                self.val_rmse = Some(m.rmse);
                self.val_mae = Some(m.mae);
                self.val_r2 = Some(m.r2);
            }
        }
        self
    }
}

/// What an observer wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop(StopReason),
}

/// Why a run stopped before its epochs were done (reaching the target is not a stop reason; see
/// [`Trained::reached_target`]).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Requested,
    Deadline,
}

/// Watches a run. `between_batches` is called before every batch (cheap checks: deadline,
/// cancellation); `on_epoch` after every epoch with the stats and the planned epoch count.
pub trait Observer {
    fn between_batches(&mut self) -> Control {
        Control::Continue
    }
    fn on_epoch(&mut self, stats: &EpochStats, epochs: u32) -> Control;
    /// Resumable runs ask before each batch: `true` pauses the run, which hands its state to
    /// [`Observer::checkpoint`] and returns without a model.
    fn pause_now(&mut self) -> bool {
        false
    }
    /// Resumable runs ask after each epoch but the last whether to hand a checkpoint over.
    fn checkpoint_due(&mut self) -> bool {
        false
    }
    /// A resumable run's state: periodic, or `pausing` (the run returns right after).
    fn checkpoint(&mut self, _checkpoint: super::checkpoint::Checkpoint, _pausing: bool) {}
    /// AutoML: candidate `done` of `total` has been scored (or skipped).
    fn on_candidate(
        &mut self,
        _entry: &super::automl::LeaderboardEntry,
        _done: usize,
        _total: usize,
    ) {
    }
}

/// The unit observer never stops anything.
impl Observer for () {
    fn on_epoch(&mut self, _stats: &EpochStats, _epochs: u32) -> Control {
        Control::Continue
    }
}

/// A finished (or stopped) run.
#[derive(Debug, Clone)]
pub struct Trained {
    pub history: Vec<EpochStats>,
    /// Set when the observer stopped the run; a stop mid-epoch leaves that epoch out of the
    /// history but its batches' updates in the weights.
    pub stopped: Option<StopReason>,
    pub reached_target: bool,
    /// The final model on the validation matrix (eval mode).
    pub validation: Scored,
    /// The final model on the train matrix (eval mode).
    pub training: Scored,
    pub model: super::fitted::Model,
}

impl Trained {
    /// The network, when the model is one.
    pub fn artifact(&self) -> Option<&Artifact> {
        match &self.model {
            super::fitted::Model::Network(a) => Some(a),
            _ => None,
        }
    }
}

/// The optimizer, as a training run steps it.
pub(crate) enum Step {
    Adam(Adam),
    Sgd(SGD),
}

impl Step {
    fn new(params: &TrainParams, net: &Network) -> Result<Step, TrainingError> {
        Step::over(
            params.optimizer,
            params.learning_rate,
            params.weight_decay,
            net.vars(),
        )
    }

    /// An optimizer over `vars`: Adam and SGD leave the weight decay to the caller's L2
    /// term; AdamW decouples it.
    pub(crate) fn over(
        optimizer: OptimizerKind,
        learning_rate: f64,
        weight_decay: f64,
        vars: Vec<candle_core::Var>,
    ) -> Result<Step, TrainingError> {
        Ok(match optimizer {
            OptimizerKind::Adam => Step::Adam(Adam::new(vars, learning_rate, 0.0)?),
            OptimizerKind::AdamW => Step::Adam(Adam::new(vars, learning_rate, weight_decay)?),
            OptimizerKind::Sgd => Step::Sgd(SGD::new(vars, learning_rate)?),
        })
    }

    pub(crate) fn backward_step(&mut self, loss: &Tensor) -> candle_core::Result<()> {
        match self {
            Step::Adam(o) => o.step(&loss.backward()?),
            Step::Sgd(o) => o.backward_step(loss),
        }
    }

    /// The optimizer's name and its per-variable state (Adam's moments; SGD has none).
    pub(crate) fn moments(&self) -> (&'static str, Vec<(Var, Var)>) {
        match self {
            Step::Adam(a) => (
                "adam",
                a.vars
                    .iter()
                    .map(|(_, m, v)| (m.clone(), v.clone()))
                    .collect(),
            ),
            Step::Sgd(_) => ("sgd", Vec::new()),
        }
    }

    pub(crate) fn steps(&self) -> u64 {
        match self {
            Step::Adam(a) => a.step_t as u64,
            Step::Sgd(_) => 0,
        }
    }

    pub(crate) fn set_steps(&mut self, steps: u64) {
        if let Step::Adam(a) = self {
            a.step_t = steps as usize;
        }
    }
}

/// PyTorch's Adam/SGD `weight_decay` adds λ·θ to the gradient, i.e. ½·λ·‖θ‖² to the loss:
/// the coefficient of that term (AdamW decays the weights itself).
pub(crate) fn l2_term(optimizer: OptimizerKind, weight_decay: f64) -> Option<f64> {
    match optimizer {
        OptimizerKind::Adam | OptimizerKind::Sgd if weight_decay > 0.0 => Some(0.5 * weight_decay),
        _ => None,
    }
}

/// One optimizer step on `loss` plus the L2 term (`norm` gives Σθ²); the loss's value.
pub(crate) fn step_on(
    step: &mut Step,
    loss: Tensor,
    l2: Option<f64>,
    norm: impl FnOnce() -> candle_core::Result<Tensor>,
) -> Result<f64, TrainingError> {
    let value = f64::from(loss.to_scalar::<f32>()?);
    let objective = match l2 {
        Some(c) => (&loss + (norm()? * c)?)?,
        None => loss,
    };
    step.backward_step(&objective)?;
    Ok(value)
}

/// Adam with decoupled weight decay (AdamW), the arithmetic of candle-nn 0.11's `AdamW`
/// operation for operation (so results are unchanged), with its moments reachable: candle's
/// keeps them private, and a checkpoint needs them.
pub(crate) struct Adam {
    /// (θ, first moment, second moment).
    vars: Vec<(Var, Var, Var)>,
    step_t: usize,
    params: ParamsAdamW,
}

impl Adam {
    fn new(vars: Vec<Var>, lr: f64, weight_decay: f64) -> candle_core::Result<Adam> {
        let vars = vars
            .into_iter()
            .filter(|v| v.dtype().is_float())
            .map(|v| {
                let m = Var::zeros(v.shape(), v.dtype(), v.device())?;
                let s = Var::zeros(v.shape(), v.dtype(), v.device())?;
                Ok((v, m, s))
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Adam {
            vars,
            step_t: 0,
            params: ParamsAdamW {
                lr,
                weight_decay,
                ..ParamsAdamW::default()
            },
        })
    }

    fn step(&mut self, grads: &candle_core::backprop::GradStore) -> candle_core::Result<()> {
        self.step_t += 1;
        let p = &self.params;
        let (lr, beta1, beta2) = (p.lr, p.beta1, p.beta2);
        let lr_lambda = lr * p.weight_decay;
        let scale_m = 1f64 / (1f64 - beta1.powi(self.step_t as i32));
        let scale_v = 1f64 / (1f64 - beta2.powi(self.step_t as i32));
        for (theta, m, v) in &self.vars {
            if let Some(g) = grads.get(theta) {
                let next_m = ((m.as_tensor() * beta1)? + (g * (1.0 - beta1))?)?;
                let next_v = ((v.as_tensor() * beta2)? + (g.sqr()? * (1.0 - beta2))?)?;
                let m_hat = (&next_m * scale_m)?;
                let v_hat = (&next_v * scale_v)?;
                let next_theta = (theta.as_tensor() * (1f64 - lr_lambda))?;
                let adjusted = (m_hat / (v_hat.sqrt()? + p.eps)?)?;
                let next_theta = (next_theta - (adjusted * lr)?)?;
                m.set(&next_m)?;
                v.set(&next_v)?;
                theta.set(&next_theta)?;
            }
        }
        Ok(())
    }
}

fn check_matrix(name: &str, m: &Matrix, encoder: &Encoder) -> Result<(), TrainingError> {
    if m.rows == 0 {
        return Err(TrainingError::Data(format!("the {name} split has no rows")));
    }
    let labels = match encoder.task {
        Task::Classification => m.y.len(),
        Task::Regression => m.values.len(),
    };
    if m.width != encoder.width() || m.x.len() != m.rows * m.width || labels != m.rows {
        return Err(TrainingError::Data(format!(
            "the {name} matrix is {}×{} with {labels} labels; the encoder has width {}",
            m.rows,
            m.width,
            encoder.width()
        )));
    }
    if let Some(&y) = m.y.iter().find(|&&y| y as usize >= encoder.classes().len()) {
        return Err(TrainingError::Data(format!(
            "the {name} matrix has label {y} but only {} classes",
            encoder.classes().len()
        )));
    }
    Ok(())
}

/// Trains a model on `train`, validating on `val` after each epoch.
///
/// Deterministic for `params.seed`: ChaCha8(seed) draws the initial weights, then each epoch's
/// shuffle, then dropout masks, in that order.
pub fn train(
    train: &Matrix,
    val: &Matrix,
    encoder: &Encoder,
    params: &TrainParams,
    observer: &mut dyn Observer,
) -> Result<Trained, TrainingError> {
    train_from(train, val, encoder, params, observer, &Resume::default())?.done()
}

/// [`train`], resumable: from `resume.from` when given, and pausing when the observer asks
/// (see [`crate::checkpoint`]); the same run, stopped and resumed anywhere, ends with the same
/// weights and history.
pub fn train_from(
    train: &Matrix,
    val: &Matrix,
    encoder: &Encoder,
    params: &TrainParams,
    observer: &mut dyn Observer,
    resume: &Resume,
) -> Result<Run<Box<Trained>>, TrainingError> {
    let Some((history, stopped, reached_target, net)) =
        fit_network(train, val, encoder, params, observer, resume)?
    else {
        return Ok(Run::Paused);
    };
    let artifact = Artifact::new(params.architecture.clone(), encoder.clone(), &net)?;
    Ok(Run::Done(Box::new(Trained {
        history,
        stopped,
        reached_target,
        validation: evaluate(&net, val, encoder)?.outputs.score(encoder, val),
        training: evaluate(&net, train, encoder)?
            .outputs
            .score(encoder, train),
        model: super::fitted::Model::Network(artifact),
    })))
}

type Fit = (Vec<EpochStats>, Option<StopReason>, bool, Network);

pub(crate) fn check_matrices(
    train: &Matrix,
    val: &Matrix,
    encoder: &Encoder,
) -> Result<(), TrainingError> {
    check_matrix("train", train, encoder)?;
    check_matrix("validation", val, encoder)
}

/// The run, or `None` when it paused.
fn fit_network(
    train: &Matrix,
    val: &Matrix,
    encoder: &Encoder,
    params: &TrainParams,
    observer: &mut dyn Observer,
    resume: &Resume,
) -> Result<Option<Fit>, TrainingError> {
    params.validate()?;
    check_matrices(train, val, encoder)?;
    let regression = encoder.task == Task::Regression;
    let scale = encoder.target_scale.unwrap_or(super::data::TargetScale {
        mean: 0.0,
        std: 1.0,
    });
    let standardized: Vec<f32> = train
        .values
        .iter()
        .map(|v| ((v - scale.mean) / scale.std) as f32)
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let net = Network::init(
        &params.architecture,
        train.width,
        encoder.outputs(),
        &mut rng,
    )?;
    let mut step = Step::new(params, &net)?;
    let l2 = l2_term(params.optimizer, params.weight_decay);
    let width = train.width;
    let mut xb: Vec<f32> = Vec::with_capacity(params.batch_size as usize * width);
    let schedule = Schedule {
        rows: train.rows,
        epochs: params.epochs,
        batch_size: params.batch_size as usize,
        target_accuracy: params.target_accuracy,
        classify: !regression,
        label: resume.label.to_string(),
    };
    let mut state = RunState {
        vars: net.vars(),
        step: &mut step,
        rng: &mut rng,
    };
    let mut train_batch = |chunk: &[usize], rng: &mut ChaCha8Rng, step: &mut Step| {
        xb.clear();
        for &i in chunk {
            xb.extend_from_slice(train.row(i));
        }
        let x = Tensor::from_slice(&xb, (chunk.len(), width), &Device::Cpu)?;
        let out = net.forward(&x, Some(rng))?;
        let mut correct = 0;
        let loss = if regression {
            let yb: Vec<f32> = chunk.iter().map(|&i| standardized[i]).collect();
            let y = Tensor::from_slice(&yb, (chunk.len(), 1), &Device::Cpu)?;
            candle_nn::loss::mse(&out, &y)?
        } else {
            let yb: Vec<u32> = chunk.iter().map(|&i| train.y[i]).collect();
            let y = Tensor::from_slice(&yb, chunk.len(), &Device::Cpu)?;
            let loss = candle_nn::loss::cross_entropy(&out, &y)?;
            let predicted = out.argmax(1)?.to_vec1::<u32>()?;
            correct = predicted.iter().zip(&yb).filter(|(p, t)| p == t).count();
            loss
        };
        Ok((step_on(step, loss, l2, || net.squared_norm())?, correct))
    };
    let mut validate = |mut stats: EpochStats| {
        let evaluation = evaluate(&net, val, encoder)?;
        stats.val_loss = evaluation.loss;
        Ok(match &evaluation.outputs {
            Outputs::Values(v) => stats.with_validation(&Scored::Regression(
                RegressionMetrics::of(&val.values, v, None),
            )),
            outputs => {
                stats.val_accuracy = Some(outputs.headline(encoder, val));
                stats
            }
        })
    };
    let ran = run_epochs(
        &schedule,
        &mut state,
        resume.from,
        observer,
        &mut train_batch,
        &mut validate,
    )?;
    Ok(match ran {
        Ran::Finished {
            history,
            stopped,
            reached_target,
        } => Some((history, stopped, reached_target, net)),
        Ran::Paused => None,
    })
}

/// Reports an epoch to the observer and keeps it: whether it reached the target accuracy,
/// and the observer's stop, if any.
pub(crate) fn after_epoch(
    observer: &mut dyn Observer,
    stats: EpochStats,
    epochs: u32,
    target_accuracy: Option<f64>,
    history: &mut Vec<EpochStats>,
) -> (bool, Option<StopReason>) {
    let reached = target_accuracy
        .zip(stats.val_accuracy)
        .is_some_and(|(t, a)| a >= t);
    let control = observer.on_epoch(&stats, epochs);
    history.push(stats);
    let stop = match control {
        Control::Stop(reason) => Some(reason),
        Control::Continue => None,
    };
    (reached, stop)
}

/// A network's answers on a matrix, without dropout.
pub(crate) struct Evaluation {
    /// The training loss on these rows: mean cross-entropy `−(1/n) Σ log p(true)` in log
    /// space, or the mean squared error of the standardized target.
    pub loss: f64,
    pub outputs: Outputs,
}

pub(crate) fn evaluate(
    net: &Network,
    m: &Matrix,
    encoder: &Encoder,
) -> Result<Evaluation, TrainingError> {
    let regression = encoder.task == Task::Regression;
    let scale = encoder.target_scale.unwrap_or(super::data::TargetScale {
        mean: 0.0,
        std: 1.0,
    });
    let mut loss = 0.0;
    let mut probabilities = Vec::new();
    let mut values = Vec::new();
    for start in (0..m.rows).step_by(EVAL_CHUNK) {
        let end = (start + EVAL_CHUNK).min(m.rows);
        let x = Tensor::from_slice(
            &m.x[start * m.width..end * m.width],
            (end - start, m.width),
            &Device::Cpu,
        )?;
        let out = net.forward(&x, None)?;
        if regression {
            for (r, z) in out.flatten_all()?.to_vec1::<f32>()?.into_iter().enumerate() {
                if let Some(y) = m.values.get(start + r) {
                    loss += (f64::from(z) - (y - scale.mean) / scale.std).powi(2);
                }
                values.push(f64::from(z) * scale.std + scale.mean);
            }
        } else {
            let log_p = log_softmax_rows(&out)?;
            for (r, row) in log_p.iter().enumerate() {
                if let Some(&y) = m.y.get(start + r) {
                    loss -= row[y as usize];
                }
                probabilities.extend(row.iter().map(|lp| lp.exp()));
            }
        }
    }
    let loss = loss / m.rows.max(1) as f64;
    Ok(Evaluation {
        loss,
        outputs: if regression {
            Outputs::Values(values)
        } else {
            Outputs::Classes {
                probabilities,
                loss,
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::model::Activation;

    fn params(architecture: Architecture, epochs: u32) -> TrainParams {
        TrainParams {
            architecture,
            optimizer: OptimizerKind::Adam,
            epochs,
            batch_size: 32,
            learning_rate: 0.01,
            weight_decay: 0.0,
            target_accuracy: None,
            seed: 7,
        }
    }

    fn mlp(hidden: &[usize]) -> Architecture {
        Architecture::mlp(hidden)
    }

    #[test]
    fn separable_data_is_learned_by_both_models() {
        let (train_m, val_m, enc) = encoded(&blobs(400, 1), "label");
        for arch in [Architecture::LogisticRegression, mlp(&[16])] {
            let t = train(&train_m, &val_m, &enc, &params(arch.clone(), 15), &mut ()).unwrap();
            assert!(
                t.validation.accuracy().unwrap() >= 0.95,
                "{arch:?}: {}",
                t.validation.accuracy().unwrap()
            );
            assert_eq!(t.history.len(), 15);
            assert!(t.history[14].loss < t.history[0].loss);
        }
    }

    #[test]
    fn xor_needs_the_hidden_layer() {
        let (train_m, val_m, enc) = encoded(&xor(600, 2), "label");
        let mut p = params(mlp(&[16, 16]), 60);
        p.learning_rate = 0.02;
        let deep = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap();
        let flat = train(
            &train_m,
            &val_m,
            &enc,
            &params(Architecture::LogisticRegression, 60),
            &mut (),
        )
        .unwrap();
        assert!(
            deep.validation.accuracy().unwrap() >= 0.9,
            "{}",
            deep.validation.accuracy().unwrap()
        );
        assert!(
            (flat.validation.accuracy().unwrap() - 0.5).abs() <= 0.12,
            "a linear model should be near chance on XOR: {}",
            flat.validation.accuracy().unwrap()
        );
    }

    #[test]
    fn breast_cancer_reaches_published_accuracy() {
        let (train_m, val_m, enc) = encoded(&breast_cancer(), "diagnosis");
        assert_eq!(enc.width(), 30);
        assert_eq!(train_m.rows + val_m.rows, 569);
        // This seed-7 split is harder than average: scikit-learn's LogisticRegression on it scores
        // 0.956 with its default L2 (C = 1) and 0.929 without, and its MLPClassifier((64, 32))
        // 0.947. Unregularized, ours overfits the same way (0.938 after 100 epochs), so both
        // models get a small L2 term (Adam weight_decay 0.01).
        let mut p = params(Architecture::LogisticRegression, 100);
        p.weight_decay = 0.01;
        let lr = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap();
        assert!(
            lr.validation.accuracy().unwrap() >= 0.95,
            "{:?}",
            lr.validation
        );
        let mut p = params(mlp(&[64, 32]), 30);
        p.weight_decay = 0.01;
        let net = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap();
        assert!(
            net.validation.accuracy().unwrap() >= 0.95,
            "{:?}",
            net.validation
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let (train_m, val_m, enc) = encoded(&blobs(200, 3), "label");
        let mut p = params(
            Architecture::Mlp {
                hidden: vec![8],
                activation: Activation::Tanh,
                dropout: 0.2,
            },
            4,
        );
        let strip = |t: &Trained| -> Vec<(f64, f64, Option<f64>, Option<f64>)> {
            t.history
                .iter()
                .map(|s| (s.loss, s.val_loss, s.accuracy, s.val_accuracy))
                .collect()
        };
        let a = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap();
        let b = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap();
        assert_eq!(strip(&a), strip(&b));
        assert_eq!(a.artifact().unwrap().layers, b.artifact().unwrap().layers);
        p.seed = 8;
        let c = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap();
        assert_ne!(strip(&a), strip(&c));
    }

    #[test]
    fn a_paused_mlp_resumes_to_the_uninterrupted_run() {
        use crate::checkpoint::{timeless, Pauser};
        // 320 rows, batch 32: 10 batches an epoch; pauses mid-epoch, at an epoch's first
        // batch and twice in a row, with dropout and Adam's moments in the state.
        let (train_m, val_m, enc) = encoded(&blobs(400, 4), "label");
        let mut p = params(
            Architecture::Mlp {
                hidden: vec![16, 8],
                activation: crate::Activation::Relu,
                dropout: 0.2,
            },
            6,
        );
        for optimizer in [
            OptimizerKind::Adam,
            OptimizerKind::AdamW,
            OptimizerKind::Sgd,
        ] {
            p.optimizer = optimizer;
            p.weight_decay = 0.01;
            let whole = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap();
            let pauser = Pauser::new(vec![3, 10, 10, 27, 55]);
            let (resumed, runs, _) = pauser.drive(|from, obs| {
                let resume = Resume {
                    label: "blobs",
                    from,
                };
                train_from(&train_m, &val_m, &enc, &p, obs, &resume).unwrap()
            });
            assert_eq!(runs, 6, "{optimizer:?}");
            assert_eq!(timeless(&resumed.history), timeless(&whole.history));
            assert_eq!(
                resumed.artifact().unwrap().layers,
                whole.artifact().unwrap().layers,
                "{optimizer:?}"
            );
        }
        // Periodic checkpoints: resuming from the third epoch's end gives the same run.
        let mut periodic = Pauser::new(Vec::new());
        periodic.every_epoch = true;
        let resume = Resume {
            label: "blobs",
            from: None,
        };
        let Run::Done(whole) =
            train_from(&train_m, &val_m, &enc, &p, &mut periodic, &resume).unwrap()
        else {
            panic!("paused")
        };
        assert_eq!(periodic.periodic.len(), 5);
        let third = &periodic.periodic[2];
        assert_eq!(third.epochs_done(), 3);
        let from = Resume {
            label: "blobs",
            from: Some(third),
        };
        let Run::Done(again) = train_from(&train_m, &val_m, &enc, &p, &mut (), &from).unwrap()
        else {
            panic!("paused")
        };
        assert_eq!(timeless(&again.history), timeless(&whole.history));
        // Another label, or another run's shape, is refused.
        let other = Resume {
            label: "other",
            from: Some(third),
        };
        assert!(train_from(&train_m, &val_m, &enc, &p, &mut (), &other).is_err());
        p.epochs = 2;
        assert!(train_from(&train_m, &val_m, &enc, &p, &mut (), &from).is_err());
    }

    #[test]
    fn reaching_the_target_stops_early() {
        let (train_m, val_m, enc) = encoded(&blobs(400, 4), "label");
        let mut p = params(Architecture::LogisticRegression, 50);
        p.target_accuracy = Some(0.9);
        let t = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap();
        assert!(t.reached_target);
        assert!(t.history.len() < 50);
        assert!(t.history.last().unwrap().val_accuracy.unwrap() >= 0.9);
        assert!(t.history[..t.history.len() - 1]
            .iter()
            .all(|s| s.val_accuracy.unwrap() < 0.9));
        assert_eq!(t.stopped, None);
    }

    struct StopAfter {
        batches: usize,
        epochs_seen: usize,
    }

    impl Observer for StopAfter {
        fn between_batches(&mut self) -> Control {
            if self.batches == 0 {
                return Control::Stop(StopReason::Requested);
            }
            self.batches -= 1;
            Control::Continue
        }
        fn on_epoch(&mut self, stats: &EpochStats, epochs: u32) -> Control {
            self.epochs_seen += 1;
            assert_eq!(stats.epoch as usize, self.epochs_seen);
            assert_eq!(epochs, 10);
            Control::Continue
        }
    }

    #[test]
    fn an_observer_stops_mid_training() {
        // 320 train rows, batch 32 → 10 batches an epoch; stop in the 3rd epoch.
        let (train_m, val_m, enc) = encoded(&blobs(400, 5), "label");
        assert_eq!(train_m.rows, 320);
        let mut obs = StopAfter {
            batches: 25,
            epochs_seen: 0,
        };
        let t = train(
            &train_m,
            &val_m,
            &enc,
            &params(Architecture::LogisticRegression, 10),
            &mut obs,
        )
        .unwrap();
        assert_eq!(t.stopped, Some(StopReason::Requested));
        assert_eq!(t.history.len(), 2);
        assert_eq!(obs.epochs_seen, 2);
        assert_eq!(t.validation.rows(), 80);
    }

    #[test]
    fn bad_params_are_named() {
        let (train_m, val_m, enc) = encoded(&blobs(40, 6), "label");
        let mut p = params(Architecture::LogisticRegression, 1);
        p.learning_rate = 0.0;
        let err = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap_err();
        assert!(
            matches!(err, TrainingError::Invalid { ref field, .. } if field == "learning_rate")
        );
        p.learning_rate = 0.1;
        p.target_accuracy = Some(1.5);
        let err = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap_err();
        assert!(
            matches!(err, TrainingError::Invalid { ref field, .. } if field == "target_accuracy")
        );
        p.target_accuracy = None;
        let empty = Matrix {
            width: val_m.width,
            ..Matrix::default()
        };
        assert!(matches!(
            train(&train_m, &empty, &enc, &p, &mut ()),
            Err(TrainingError::Data(_))
        ));
    }

    #[test]
    fn weight_decay_shrinks_the_weights() {
        let (train_m, val_m, enc) = encoded(&blobs(200, 9), "label");
        let norm = |optimizer, weight_decay| {
            let mut p = params(Architecture::LogisticRegression, 20);
            p.optimizer = optimizer;
            p.weight_decay = weight_decay;
            let t = train(&train_m, &val_m, &enc, &p, &mut ()).unwrap();
            t.artifact().unwrap().layers[0]
                .weight
                .iter()
                .map(|w| w * w)
                .sum::<f32>()
        };
        for opt in [
            OptimizerKind::Adam,
            OptimizerKind::AdamW,
            OptimizerKind::Sgd,
        ] {
            assert!(norm(opt, 0.1) < norm(opt, 0.0), "{opt:?}");
        }
    }

    /// Seconds per epoch on the breast-cancer table and a 100,000 × 10 generated table, for the
    /// report: `cargo test -p shared --lib epoch_timings -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing, not a check"]
    fn epoch_timings() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (rows, width) = (100_000usize, 10usize);
        let x: Vec<f32> = (0..rows * width)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let y: Vec<u32> = (0..rows)
            .map(|r| u32::from(x[r * width..(r + 1) * width].iter().sum::<f32>() > 0.0))
            .collect();
        let big = Matrix {
            x,
            y,
            rows,
            width,
            ..Matrix::default()
        };
        let big_val = Matrix {
            x: big.x[..20_000 * width].to_vec(),
            y: big.y[..20_000].to_vec(),
            rows: 20_000,
            width,
            ..Matrix::default()
        };
        let big_enc = Encoder {
            target: "y".into(),
            features: (0..width)
                .map(|i| crate::FeatureEncoding::Standardized {
                    column: format!("x{i}"),
                    kind: "numeric".into(),
                    mean: 0.0,
                    std: 1.0,
                })
                .collect(),
            classes: vec!["0".into(), "1".into()],
            dropped: Vec::new(),
            task: crate::Task::Classification,
            target_scale: None,
        };
        let (bc_train, bc_val, bc_enc) = encoded(&breast_cancer(), "diagnosis");
        let cases = [
            ("breast_cancer 455x30", &bc_train, &bc_val, &bc_enc, 5u32),
            ("generated 100000x10", &big, &big_val, &big_enc, 1u32),
        ];
        for (name, train_m, val_m, enc) in cases.iter().map(|c| (c.0, c.1, c.2, c.3)) {
            let epochs = cases.iter().find(|c| c.0 == name).unwrap().4;
            for arch in [Architecture::LogisticRegression, mlp(&[64, 32])] {
                for batch in [32u32, 256] {
                    let mut p = params(arch.clone(), epochs);
                    p.batch_size = batch;
                    let t = train(train_m, val_m, enc, &p, &mut ()).unwrap();
                    let per_epoch =
                        t.history.iter().map(|s| s.seconds).sum::<f64>() / t.history.len() as f64;
                    println!(
                        "TIMING {name} {} batch {batch}: {per_epoch:.4} s/epoch ({} train rows, val acc {:.3})",
                        arch.name(),
                        train_m.rows,
                        t.validation.accuracy().unwrap()
                    );
                }
            }
        }
    }
}
