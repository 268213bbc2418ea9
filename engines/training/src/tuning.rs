//! Successive halving (Jamieson & Talwalkar 2016) over learning rate × batch size, within a
//! wall-clock budget.
//!
//! Candidates: learning rates {η/10, η/3, η, 3η, 10η} clamped to (0, 1], times batch sizes
//! {max(1, ⌊b/2⌋), b, 2b}, duplicates removed (η, b from the base params). Rung k trains every
//! surviving candidate from scratch (same seed, so candidates differ only in what is tuned) for
//! `min(2^k, base.epochs)` epochs, then keeps the best ⌈n/3⌉ by val_loss (ties: higher
//! val_accuracy, then candidate order), until one is left.
//!
//! Budget: before rung k ≥ 1 its cost is estimated as Σ over survivors of
//! epochs_k × (seconds per epoch that candidate took in rung k − 1); if that exceeds what is left,
//! the search stops there with `budget_exhausted`. Rung 0 has no estimate, so the deadline is also
//! checked between batches; a trial cut short is not reported. The best is the best candidate of
//! the last complete rung (the base params when none completed).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::data::{Encoder, Matrix};
use super::trainer::{train, Control, EpochStats, Observer, StopReason, TrainParams};
use super::TrainingError;

/// Survivors per rung: ⌈n / KEEP_DIVISOR⌉.
const KEEP_DIVISOR: usize = 3;

/// One candidate trained in one rung.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Trial {
    pub learning_rate: f64,
    pub batch_size: u32,
    pub rung: u32,
    pub epochs: u32,
    pub val_loss: f64,
    /// The validation accuracy (R² for a regression target).
    pub val_accuracy: f64,
    pub seconds: f64,
}

/// What the search did and what won.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TuningReport {
    pub trials: Vec<Trial>,
    pub best_learning_rate: f64,
    pub best_batch_size: u32,
    /// Rungs completed.
    pub rungs: u32,
    pub seconds: f64,
    /// The budget ran out (or a rung would not have fit) before one candidate was left.
    pub budget_exhausted: bool,
    /// The outer observer stopped the search.
    pub stopped: Option<StopReason>,
}

/// Forwards between-batch checks to the caller's observer and enforces the budget's deadline;
/// the inner runs' epochs are not the caller's epochs, so `on_epoch` is not forwarded.
struct Budgeted<'a> {
    outer: &'a mut dyn Observer,
    deadline: Instant,
    stop: Option<StopReason>,
}

impl Observer for Budgeted<'_> {
    fn between_batches(&mut self) -> Control {
        let control = match self.outer.between_batches() {
            Control::Continue if Instant::now() >= self.deadline => {
                Control::Stop(StopReason::Deadline)
            }
            other => other,
        };
        if let Control::Stop(reason) = control {
            self.stop = Some(reason);
        }
        control
    }

    fn on_epoch(&mut self, _stats: &EpochStats, _epochs: u32) -> Control {
        Control::Continue
    }
}

/// The candidate grid (see the module docs).
pub fn candidates(base: &TrainParams) -> Vec<(f64, u32)> {
    let mut rates: Vec<f64> = Vec::new();
    for f in [0.1, 1.0 / 3.0, 1.0, 3.0, 10.0] {
        let lr = (base.learning_rate * f).min(1.0);
        if lr > 0.0 && !rates.contains(&lr) {
            rates.push(lr);
        }
    }
    let mut sizes: Vec<u32> = Vec::new();
    for b in [
        (base.batch_size / 2).max(1),
        base.batch_size.max(1),
        base.batch_size.saturating_mul(2),
    ] {
        if !sizes.contains(&b) {
            sizes.push(b);
        }
    }
    rates
        .iter()
        .flat_map(|&lr| sizes.iter().map(move |&b| (lr, b)))
        .collect()
}

/// Successive halving within `budget` (see the module docs).
pub fn successive_halving(
    train_m: &Matrix,
    val: &Matrix,
    encoder: &Encoder,
    base: &TrainParams,
    budget: Duration,
    observer: &mut dyn Observer,
) -> Result<TuningReport, TrainingError> {
    base.validate()?;
    let started = Instant::now();
    let mut guard = Budgeted {
        outer: observer,
        deadline: started + budget,
        stop: None,
    };
    let mut alive: Vec<(f64, u32)> = candidates(base);
    let mut trials: Vec<Trial> = Vec::new();
    let mut best = (base.learning_rate, base.batch_size);
    let mut rungs = 0u32;
    let mut budget_exhausted = false;
    let mut stopped = None;
    let mut last_rung: Vec<Trial> = Vec::new();
    loop {
        let epochs = 2u32.saturating_pow(rungs).min(base.epochs.max(1));
        if rungs > 0 {
            let estimate: f64 = last_rung
                .iter()
                .filter(|t| alive.contains(&(t.learning_rate, t.batch_size)))
                .map(|t| epochs as f64 * t.seconds / t.epochs as f64)
                .sum();
            let left = budget.saturating_sub(started.elapsed()).as_secs_f64();
            if estimate > left {
                budget_exhausted = true;
                break;
            }
        }
        let mut rung = Vec::with_capacity(alive.len());
        for &(learning_rate, batch_size) in &alive {
            let params = TrainParams {
                learning_rate,
                batch_size,
                epochs,
                target_accuracy: None,
                ..base.clone()
            };
            let t0 = Instant::now();
            let run = train(train_m, val, encoder, &params, &mut guard)?;
            if run.stopped.is_some() {
                break;
            }
            let last = run.history.last().expect("a completed run has epochs");
            rung.push(Trial {
                learning_rate,
                batch_size,
                rung: rungs,
                epochs,
                val_loss: last.val_loss,
                val_accuracy: last.val_metric(),
                seconds: t0.elapsed().as_secs_f64(),
            });
        }
        if let Some(reason) = guard.stop {
            trials.extend(rung);
            match reason {
                StopReason::Deadline => budget_exhausted = true,
                StopReason::Requested => stopped = Some(reason),
            }
            break;
        }
        rungs += 1;
        rung.sort_by(|a, b| {
            a.val_loss
                .total_cmp(&b.val_loss)
                .then(b.val_accuracy.total_cmp(&a.val_accuracy))
        });
        best = (rung[0].learning_rate, rung[0].batch_size);
        let keep = rung.len().div_ceil(KEEP_DIVISOR);
        alive = rung[..keep]
            .iter()
            .map(|t| (t.learning_rate, t.batch_size))
            .collect();
        trials.extend(rung.iter().cloned());
        last_rung = rung;
        if alive.len() <= 1 {
            break;
        }
    }
    Ok(TuningReport {
        trials,
        best_learning_rate: best.0,
        best_batch_size: best.1,
        rungs,
        seconds: started.elapsed().as_secs_f64(),
        budget_exhausted,
        stopped,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::model::{Architecture, OptimizerKind};
    use super::*;

    fn base(learning_rate: f64, batch_size: u32) -> TrainParams {
        TrainParams {
            architecture: Architecture::LogisticRegression,
            optimizer: OptimizerKind::Sgd,
            epochs: 8,
            batch_size,
            learning_rate,
            weight_decay: 0.0,
            target_accuracy: Some(0.5),
            seed: 1,
        }
    }

    #[test]
    fn the_grid_is_clamped_and_deduplicated() {
        let c = candidates(&base(0.3, 1));
        let rates: Vec<f64> = c.iter().map(|x| x.0).collect();
        // 0.03, 0.1, 0.3, 0.9, min(3, 1) = 1; batch sizes {1, 2} (⌊1/2⌋ → 1 duplicates 1).
        assert_eq!(c.len(), 10);
        assert!(rates.iter().all(|&r| r > 0.0 && r <= 1.0));
        assert!(rates.contains(&1.0));
        assert_eq!(candidates(&base(0.001, 32)).len(), 15);
    }

    #[test]
    fn halving_picks_the_learning_rate_that_clearly_wins() {
        // Plain SGD on separable blobs for 1–4 epochs: the loss falls faster the larger the step,
        // so 10·η (1.0) must win when η = 0.1 and the tiny η/10 must be dropped in rung 0.
        let (train_m, val_m, enc) = encoded(&blobs(240, 21), "label");
        let report = successive_halving(
            &train_m,
            &val_m,
            &enc,
            &base(0.1, 16),
            Duration::from_secs(600),
            &mut (),
        )
        .unwrap();
        assert!(!report.budget_exhausted);
        assert_eq!(report.stopped, None);
        // 15 → 5 → 2 → 1: three rungs, 15 + 5 + 2 trials.
        assert_eq!(report.rungs, 3);
        assert_eq!(report.trials.len(), 22);
        assert_eq!(report.best_learning_rate, 1.0);
        let rung2: Vec<&Trial> = report.trials.iter().filter(|t| t.rung == 2).collect();
        assert!(rung2.iter().all(|t| t.epochs == 4));
        assert!(report
            .trials
            .iter()
            .filter(|t| t.rung > 0)
            .all(|t| t.learning_rate > 0.01));
        // The winner has the lowest val_loss of the last rung.
        let winner = rung2
            .iter()
            .min_by(|a, b| a.val_loss.total_cmp(&b.val_loss))
            .unwrap();
        assert_eq!(
            (winner.learning_rate, winner.batch_size),
            (report.best_learning_rate, report.best_batch_size)
        );
    }

    #[test]
    fn a_tiny_budget_stops_the_search() {
        let (train_m, val_m, enc) = encoded(&blobs(2000, 22), "label");
        let started = Instant::now();
        let report = successive_halving(
            &train_m,
            &val_m,
            &enc,
            &base(0.1, 1),
            Duration::from_millis(5),
            &mut (),
        )
        .unwrap();
        assert!(report.budget_exhausted);
        assert!(report.trials.len() < 10);
        assert!(started.elapsed() < Duration::from_secs(2));
        if report.trials.is_empty() {
            assert_eq!(
                (report.best_learning_rate, report.best_batch_size),
                (0.1, 1)
            );
            assert_eq!(report.rungs, 0);
        }
    }
}
