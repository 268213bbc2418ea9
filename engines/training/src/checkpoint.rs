//! Resumable training: the epoch loop both network trainers share, and the state it can stop
//! in and continue from as if it had never stopped.
//!
//! A [`Checkpoint`] holds every variable of the network (parameters and buffers), the
//! optimizer's state (Adam's moments and step count), the ChaCha8 stream's position, the
//! epoch and batch reached with the epoch's running sums, the epoch's row order and the
//! history so far. It is one safetensors file: tensors `state.{i}`, `adam.m.{i}`,
//! `adam.v.{i}` (F32), `order` (U32) and a JSON header under the metadata key
//! `mlaas.checkpoint`. Resuming a run from it gives, for the same data and parameters,
//! the same weights and the same history (wall times aside) as the run that never stopped:
//! a test compares them value by value.
//!
//! The caller names what the run trains with a `label` (the worker's hash of the parameters,
//! the encoder and the data's shape); a checkpoint whose label differs is refused, never
//! trained on.

use std::collections::HashMap;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::trainer::{after_epoch, Step};
use crate::{EpochStats, Observer, StopReason, TrainingError};

const FORMAT: &str = "mlaas-checkpoint";
const VERSION: u32 = 1;
const HEADER_KEY: &str = "mlaas.checkpoint";

/// Where a run stands: inside `epoch` (1-based), `batch` batches of it done.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Position {
    pub epoch: u32,
    pub batch: usize,
    /// Whether this epoch's order has been drawn (a checkpoint at an epoch's end has not).
    pub shuffled: bool,
    /// The epoch's running loss sum, batch count and correct predictions.
    pub loss_sum: f64,
    pub batches: usize,
    pub correct: usize,
    /// Wall time of the epoch so far.
    pub seconds: f64,
    /// The ChaCha8 stream's position in 32-bit words, as decimal text (a u128).
    pub rng_word_pos: String,
    /// Optimizer steps taken (Adam's bias correction reads it).
    pub optimizer_steps: u64,
    pub history: Vec<EpochStats>,
}

impl Position {
    /// The start of `epoch`, its order not drawn yet.
    fn start(epoch: u32) -> Position {
        Position {
            epoch,
            batch: 0,
            shuffled: false,
            loss_sum: 0.0,
            batches: 0,
            correct: 0,
            seconds: 0.0,
            rng_word_pos: String::new(),
            optimizer_steps: 0,
            history: Vec::new(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    label: String,
    optimizer: String,
    position: Position,
}

/// A run's resumable state (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub label: String,
    pub position: Position,
    optimizer: String,
    order: Vec<u32>,
    /// (name, shape, values) of every state variable and optimizer moment.
    tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl Checkpoint {
    /// Epochs finished.
    pub fn epochs_done(&self) -> usize {
        self.position.history.len()
    }

    pub fn history(&self) -> &[EpochStats] {
        &self.position.history
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, TrainingError> {
        let bad = |e: String| TrainingError::Artifact(e);
        let header = serde_json::to_string(&Header {
            format: FORMAT.into(),
            version: VERSION,
            label: self.label.clone(),
            optimizer: self.optimizer.clone(),
            position: self.position.clone(),
        })
        .map_err(|e| bad(e.to_string()))?;
        let bytes: Vec<(&str, Vec<usize>, Vec<u8>, Dtype)> = self
            .tensors
            .iter()
            .map(|(n, s, v)| {
                let data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                (n.as_str(), s.clone(), data, Dtype::F32)
            })
            .chain(std::iter::once((
                "order",
                vec![self.order.len()],
                self.order.iter().flat_map(|x| x.to_le_bytes()).collect(),
                Dtype::U32,
            )))
            .collect();
        let views = bytes
            .iter()
            .map(|(n, s, d, t)| {
                TensorView::new(*t, s.clone(), d)
                    .map(|v| (n.to_string(), v))
                    .map_err(|e| bad(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        safetensors::serialize(
            views,
            Some(HashMap::from([(HEADER_KEY.to_string(), header)])),
        )
        .map_err(|e| bad(e.to_string()))
    }

    /// Reads [`Checkpoint::to_bytes`]' file; anything else is an error naming what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint, TrainingError> {
        let bad = |m: String| TrainingError::Artifact(format!("checkpoint: {m}"));
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let text = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get(HEADER_KEY))
            .ok_or_else(|| bad(format!("no {HEADER_KEY} header")))?;
        let header: Header = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if header.format != FORMAT || header.version != VERSION {
            return Err(bad(format!(
                "format {} v{} is not {FORMAT} v{VERSION}",
                header.format, header.version
            )));
        }
        header
            .position
            .rng_word_pos
            .parse::<u128>()
            .map_err(|e| bad(format!("rng_word_pos: {e}")))?;
        let file = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let mut order = Vec::new();
        let mut tensors = Vec::new();
        for (name, view) in file.tensors() {
            let words = view.data().chunks_exact(4);
            match (name.as_str(), view.dtype()) {
                ("order", Dtype::U32) => {
                    order = words
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect()
                }
                (_, Dtype::F32) => tensors.push((
                    name.clone(),
                    view.shape().to_vec(),
                    words
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                )),
                (_, other) => return Err(bad(format!("{name} is {other:?}"))),
            }
        }
        // The file orders tensors by name; the run reads them by index.
        tensors.sort_by_key(|(n, _, _)| tensor_order(n));
        Ok(Checkpoint {
            label: header.label,
            position: header.position,
            optimizer: header.optimizer,
            order,
            tensors,
        })
    }

    fn take(&self, prefix: &str) -> Vec<&(String, Vec<usize>, Vec<f32>)> {
        self.tensors
            .iter()
            .filter(|(n, _, _)| n.rsplit_once('.').is_some_and(|(p, _)| p == prefix))
            .collect()
    }
}

/// `state.3` before `state.10`.
fn tensor_order(name: &str) -> (String, usize) {
    match name.rsplit_once('.') {
        Some((p, i)) => (p.to_string(), i.parse().unwrap_or(usize::MAX)),
        None => (name.to_string(), 0),
    }
}

fn floats(t: &Tensor) -> Result<Vec<f32>, TrainingError> {
    Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
}

/// Sets `vars` to the checkpoint's `prefix.{i}` tensors, checking count and shapes.
fn restore(cp: &Checkpoint, prefix: &str, vars: &[Var]) -> Result<(), TrainingError> {
    let saved = cp.take(prefix);
    if saved.len() != vars.len() {
        return Err(TrainingError::Artifact(format!(
            "checkpoint: {} {prefix} tensors, the network has {}",
            saved.len(),
            vars.len()
        )));
    }
    for ((name, shape, values), var) in saved.into_iter().zip(vars) {
        if shape.as_slice() != var.dims() {
            return Err(TrainingError::Artifact(format!(
                "checkpoint: {name} is {shape:?}, the network's is {:?}",
                var.dims()
            )));
        }
        var.set(&Tensor::from_slice(values, shape.as_slice(), &Device::Cpu)?)?;
    }
    Ok(())
}

/// Where a resumable run starts: `label` names what it trains (checked against `from`'s).
#[derive(Default, Clone, Copy)]
pub struct Resume<'a> {
    pub label: &'a str,
    pub from: Option<&'a Checkpoint>,
}

/// A resumable run's result.
pub enum Run<T> {
    Done(T),
    /// Paused at the observer's request; it was handed the checkpoint.
    Paused,
}

impl<T> Run<Box<T>> {
    /// The result of a run whose observer never pauses.
    pub(crate) fn done(self) -> Result<T, TrainingError> {
        match self {
            Run::Done(t) => Ok(*t),
            Run::Paused => Err(TrainingError::Data(
                "the observer paused a run that cannot be resumed".into(),
            )),
        }
    }
}

/// What the shared loop needs to know about a run.
pub(crate) struct Schedule {
    pub rows: usize,
    pub epochs: u32,
    pub batch_size: usize,
    pub target_accuracy: Option<f64>,
    pub classify: bool,
    /// Names what is trained; a checkpoint with another label is refused.
    pub label: String,
}

/// How the loop ended.
pub(crate) enum Ran {
    Finished {
        history: Vec<EpochStats>,
        stopped: Option<StopReason>,
        reached_target: bool,
    },
    /// The observer asked to pause and was handed the checkpoint to continue from.
    Paused,
}

/// The mutable state of a run: every variable to save (parameters, then buffers), the
/// optimizer and the random stream.
pub(crate) struct RunState<'a> {
    pub vars: Vec<Var>,
    pub step: &'a mut Step,
    pub rng: &'a mut ChaCha8Rng,
}

impl RunState<'_> {
    /// Hands the observer a checkpoint at `at` (with the stream's and the optimizer's state
    /// now, and `history`).
    fn hand_over(
        &self,
        schedule: &Schedule,
        at: &Position,
        history: &[EpochStats],
        order: &[usize],
        observer: &mut dyn Observer,
        pausing: bool,
    ) -> Result<(), TrainingError> {
        let position = Position {
            rng_word_pos: self.rng.get_word_pos().to_string(),
            optimizer_steps: self.step.steps(),
            history: history.to_vec(),
            ..at.clone()
        };
        observer.checkpoint(self.capture(schedule, position, order)?, pausing);
        Ok(())
    }

    fn capture(
        &self,
        schedule: &Schedule,
        position: Position,
        order: &[usize],
    ) -> Result<Checkpoint, TrainingError> {
        let mut tensors = Vec::new();
        for (i, v) in self.vars.iter().enumerate() {
            tensors.push((
                format!("state.{i}"),
                v.dims().to_vec(),
                floats(v.as_tensor())?,
            ));
        }
        let (optimizer, moments) = self.step.moments();
        for (i, (m, v)) in moments.iter().enumerate() {
            tensors.push((format!("adam.m.{i}"), m.dims().to_vec(), floats(m)?));
            tensors.push((format!("adam.v.{i}"), v.dims().to_vec(), floats(v)?));
        }
        tensors.sort_by_key(|(n, _, _)| tensor_order(n));
        Ok(Checkpoint {
            label: schedule.label.clone(),
            position,
            optimizer: optimizer.to_string(),
            order: order.iter().map(|&i| i as u32).collect(),
            tensors,
        })
    }

    /// Puts the run where the checkpoint left it; returns the order and position.
    fn resume(
        &mut self,
        schedule: &Schedule,
        cp: &Checkpoint,
    ) -> Result<(Vec<usize>, Position), TrainingError> {
        let bad = |m: String| TrainingError::Artifact(format!("checkpoint: {m}"));
        if cp.label != schedule.label {
            return Err(bad(
                "it was written for other data or other parameters".into()
            ));
        }
        let (optimizer, moments) = self.step.moments();
        if cp.optimizer != optimizer {
            return Err(bad(format!(
                "optimizer {}, the run's is {optimizer}",
                cp.optimizer
            )));
        }
        let p = &cp.position;
        if cp.order.len() != schedule.rows
            || cp.order.iter().any(|&i| i as usize >= schedule.rows)
            || p.epoch == 0
            || p.epoch > schedule.epochs
            || p.history.len() != p.epoch as usize - 1
        {
            return Err(bad(format!(
                "epoch {} batch {} over {} rows does not fit a run of {} epochs over {} rows",
                p.epoch,
                p.batch,
                cp.order.len(),
                schedule.epochs,
                schedule.rows
            )));
        }
        restore(cp, "state", &self.vars)?;
        let m: Vec<Var> = moments.iter().map(|(m, _)| m.clone()).collect();
        let v: Vec<Var> = moments.iter().map(|(_, v)| v.clone()).collect();
        restore(cp, "adam.m", &m)?;
        restore(cp, "adam.v", &v)?;
        self.step.set_steps(p.optimizer_steps);
        self.rng
            .set_word_pos(p.rng_word_pos.parse().map_err(|e| bad(format!("{e}")))?);
        Ok((cp.order.iter().map(|&i| i as usize).collect(), p.clone()))
    }
}

/// One batch: its loss (the batch mean) and, for a classifier, its correct predictions.
pub(crate) type BatchResult = Result<(f64, usize), TrainingError>;

/// The epoch loop of both network trainers: shuffle, batches, validation, the observer's
/// stops, pauses and periodic checkpoints. `train_batch` steps the optimizer on one batch;
/// `validate` fills an epoch's validation figures.
pub(crate) fn run_epochs(
    schedule: &Schedule,
    state: &mut RunState,
    from: Option<&Checkpoint>,
    observer: &mut dyn Observer,
    train_batch: &mut dyn FnMut(&[usize], &mut ChaCha8Rng, &mut Step) -> BatchResult,
    validate: &mut dyn FnMut(EpochStats) -> Result<EpochStats, TrainingError>,
) -> Result<Ran, TrainingError> {
    let (mut order, mut at) = match from {
        Some(cp) => state.resume(schedule, cp)?,
        None => ((0..schedule.rows).collect(), Position::start(1)),
    };
    let mut history = std::mem::take(&mut at.history);
    let (mut stopped, mut reached_target) = (None, false);
    let batch_size = schedule.batch_size.max(1);
    'epochs: for epoch in at.epoch..=schedule.epochs {
        let started = Instant::now();
        if !at.shuffled {
            order.shuffle(state.rng);
        }
        for (b, chunk) in order.chunks(batch_size).enumerate().skip(at.batch) {
            // Before this batch, mid-epoch.
            let here = || Position {
                epoch,
                batch: b,
                shuffled: true,
                seconds: at.seconds + started.elapsed().as_secs_f64(),
                ..at.clone()
            };
            if observer.pause_now() {
                state.hand_over(schedule, &here(), &history, &order, observer, true)?;
                return Ok(Ran::Paused);
            }
            if let crate::Control::Stop(reason) = observer.between_batches() {
                // A stopped run can be resumed from where it stopped.
                if observer.checkpoint_due() {
                    state.hand_over(schedule, &here(), &history, &order, observer, false)?;
                }
                stopped = Some(reason);
                break 'epochs;
            }
            let (loss, correct) = train_batch(chunk, state.rng, state.step)?;
            at.loss_sum += loss;
            at.batches += 1;
            at.correct += correct;
        }
        let base = EpochStats {
            epoch,
            loss: at.loss_sum / at.batches.max(1) as f64,
            accuracy: schedule
                .classify
                .then(|| at.correct as f64 / schedule.rows as f64),
            ..EpochStats::default()
        };
        let mut stats = validate(base)?;
        stats.seconds = at.seconds + started.elapsed().as_secs_f64();
        (reached_target, stopped) = after_epoch(
            observer,
            stats,
            schedule.epochs,
            schedule.target_accuracy,
            &mut history,
        );
        if reached_target {
            break;
        }
        at = Position::start(epoch + 1);
        // Periodic, or a stop at the epoch's end (a stopped run can be resumed).
        if epoch < schedule.epochs && observer.checkpoint_due() {
            state.hand_over(schedule, &at, &history, &order, observer, false)?;
        }
        if stopped.is_some() {
            break;
        }
    }
    Ok(Ran::Finished {
        history,
        stopped,
        reached_target,
    })
}

/// Test observer: pauses before the given batch numbers (counted across resumes by the
/// caller) and keeps the last checkpoint it was handed, through its file bytes.
#[cfg(test)]
pub(crate) struct Pauser {
    pub pause_before: Vec<usize>,
    pub batches: usize,
    pub every_epoch: bool,
    pub kept: Option<Checkpoint>,
    pub periodic: Vec<Checkpoint>,
}

#[cfg(test)]
impl Pauser {
    pub(crate) fn new(pause_before: Vec<usize>) -> Pauser {
        Pauser {
            pause_before,
            batches: 0,
            every_epoch: false,
            kept: None,
            periodic: Vec::new(),
        }
    }

    /// Runs `run` to its end, resuming it from each pause's checkpoint; returns the result
    /// and how many runs it took.
    pub(crate) fn drive<T>(
        mut self,
        mut run: impl FnMut(Option<&Checkpoint>, &mut Pauser) -> Run<T>,
    ) -> (T, usize, Pauser) {
        let mut from: Option<Checkpoint> = None;
        for runs in 1.. {
            match run(from.as_ref(), &mut self) {
                Run::Done(t) => return (t, runs, self),
                Run::Paused => from = self.kept.take(),
            }
        }
        unreachable!()
    }
}

#[cfg(test)]
impl Observer for Pauser {
    fn on_epoch(&mut self, _stats: &EpochStats, _epochs: u32) -> crate::Control {
        crate::Control::Continue
    }
    fn pause_now(&mut self) -> bool {
        if self.pause_before.first() == Some(&self.batches) {
            self.pause_before.remove(0);
            return true;
        }
        self.batches += 1;
        false
    }
    fn checkpoint_due(&mut self) -> bool {
        self.every_epoch
    }
    fn checkpoint(&mut self, checkpoint: Checkpoint, pausing: bool) {
        // Through the file, as the worker keeps it.
        let read = Checkpoint::from_bytes(&checkpoint.to_bytes().unwrap()).unwrap();
        assert!(
            read == checkpoint,
            "the file reads back as another checkpoint"
        );
        if pausing {
            self.kept = Some(read);
        } else {
            self.periodic.push(read);
        }
    }
}

/// Histories without their wall times.
#[cfg(test)]
pub(crate) fn timeless(history: &[EpochStats]) -> Vec<EpochStats> {
    history
        .iter()
        .map(|e| EpochStats {
            seconds: 0.0,
            ..e.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_checkpoint_is_refused() {
        assert!(Checkpoint::from_bytes(b"not a file").is_err());
        let other = safetensors::serialize(
            [(
                "w",
                TensorView::new(Dtype::F32, vec![1], &[0, 0, 0, 0]).unwrap(),
            )],
            None,
        )
        .unwrap();
        let e = Checkpoint::from_bytes(&other).unwrap_err().to_string();
        assert!(e.contains("mlaas.checkpoint"), "{e}");
    }
}
