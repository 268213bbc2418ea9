//! The job record while a worker holds it: every write is compare-and-set on `in_progress`,
//! so a stop request (`stopping`) or a reaper that declared the worker lost is noticed at
//! the next write instead of being overwritten.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shared::clock;
use shared::records::sweep::TrialRef;
use shared::records::{EpochRecord, JobRecord, JobStatus, Progress};
use shared::store::{ModelStore, StoreError};
use training::{Control, EpochStats, Observer, StopReason};

/// Progress is written at most this often (and always after the last epoch).
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// Why the worker must stop writing.
#[derive(Debug, Clone)]
pub enum Interrupt {
    /// Someone asked to stop: the job is `stopping`.
    StopRequested,
    /// The job left `in_progress` otherwise (declared lost, or finished elsewhere): this
    /// worker no longer owns it.
    Lost(String),
    /// The store failed.
    Store(String),
}

pub struct Tracker {
    /// When this invocation claimed the job: its billable time runs from here.
    claimed: Instant,
    store: Arc<dyn ModelStore>,
    job: Mutex<JobRecord>,
    last_write: Mutex<Instant>,
    /// Saves run one at a time, each writing the record as it is when it starts, so a
    /// heartbeat never writes an older snapshot over a newer one.
    saving: tokio::sync::Mutex<()>,
    /// What a background heartbeat found (a stop request, a lost job): the training thread
    /// acts on it at its next check.
    interrupt: Mutex<Option<Interrupt>>,
    heartbeat_interval: Duration,
    runtime: tokio::runtime::Handle,
}

impl Tracker {
    pub fn new(
        store: Arc<dyn ModelStore>,
        job: JobRecord,
        heartbeat_interval: Duration,
    ) -> Tracker {
        Tracker {
            claimed: Instant::now(),
            store,
            job: Mutex::new(job),
            last_write: Mutex::new(Instant::now()),
            saving: tokio::sync::Mutex::new(()),
            interrupt: Mutex::new(None),
            heartbeat_interval,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Seconds since this invocation claimed the job.
    pub fn elapsed_seconds(&self) -> f64 {
        self.claimed.elapsed().as_secs_f64()
    }

    /// Runs `f` to completion from the training thread.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    pub fn store(&self) -> &dyn ModelStore {
        self.store.as_ref()
    }

    pub fn snapshot(&self) -> JobRecord {
        self.job.lock().expect("job lock").clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut JobRecord)) {
        f(&mut self.job.lock().expect("job lock"));
    }

    /// Writes the record if the job is still `in_progress`.
    pub async fn save(&self) -> Result<(), Interrupt> {
        let _one_at_a_time = self.saving.lock().await;
        let job = {
            let mut job = self.job.lock().expect("job lock");
            job.heartbeat_at = Some(clock::now());
            job.clone()
        };
        *self.last_write.lock().expect("write lock") = Instant::now();
        match self.store.put_job_if(&job, JobStatus::InProgress).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed(_)) => match self.store.get_job(&job.id).await {
                Ok(Some(now)) if now.status == JobStatus::Stopping => Err(Interrupt::StopRequested),
                Ok(Some(now)) => Err(Interrupt::Lost(format!(
                    "job is {} now",
                    now.status.as_str()
                ))),
                Ok(None) => Err(Interrupt::Lost("job record vanished".into())),
                Err(e) => Err(Interrupt::Store(e.to_string())),
            },
            Err(e) => Err(Interrupt::Store(e.to_string())),
        }
    }

    /// Beats on a timer of its own while the training thread computes, however long one
    /// batch takes: a live job is never declared lost between two batches. It stops at the
    /// first interrupt, leaving it for the training thread; drop the handle's task with
    /// `abort` when training ends.
    pub fn spawn_heartbeat(self: &std::sync::Arc<Self>) -> tokio::task::JoinHandle<()> {
        let tracker = self.clone();
        tokio::spawn(async move {
            loop {
                let due = tracker
                    .heartbeat_interval
                    .saturating_sub(tracker.since_write());
                tokio::time::sleep(due).await;
                if tracker.since_write() < tracker.heartbeat_interval {
                    continue;
                }
                if let Err(i) = tracker.save().await {
                    *tracker.interrupt.lock().expect("interrupt lock") = Some(i);
                    return;
                }
            }
        })
    }

    /// What the heartbeat found, taken once.
    fn take_interrupt(&self) -> Option<Interrupt> {
        self.interrupt.lock().expect("interrupt lock").take()
    }

    /// A new secondary status, written at once.
    pub async fn step(&self, status: &str, message: Option<String>) -> Result<(), Interrupt> {
        self.update(|j| j.step(status, clock::now(), message));
        self.save().await
    }

    /// For the training thread (inside `spawn_blocking`).
    fn save_blocking(&self) -> Result<(), Interrupt> {
        self.runtime.block_on(self.save())
    }

    /// `step` from the training thread.
    pub fn runtime_step(&self, status: &str, message: &str) -> Result<(), Interrupt> {
        if let Some(i) = self.take_interrupt() {
            return Err(i);
        }
        self.runtime
            .block_on(self.step(status, Some(message.to_string())))
    }

    fn since_write(&self) -> Duration {
        self.last_write.lock().expect("write lock").elapsed()
    }
}

/// The two ends of an invocation's training time.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// This invocation's end (its budget, before the Lambda deadline).
    pub invocation_end: Instant,
    /// The job's end: its `max_runtime_seconds` less the worker seconds already spent.
    pub job_end: Instant,
}

impl Budget {
    /// For a job that cannot be handed on: whichever end comes first.
    pub fn single(&self) -> Instant {
        self.invocation_end.min(self.job_end)
    }

    /// For a resumable job: when to pause and hand on, unless the job's own end comes first.
    pub fn pause_at(&self) -> Option<Instant> {
        (self.invocation_end < self.job_end).then_some(self.invocation_end)
    }
}

/// A resumable run's checkpoints: where they go, how often, and how the pause went.
pub struct Checkpointing {
    pub state: shared::state::AppState,
    pub interval: Duration,
    pub pause_at: Option<Instant>,
    last: Instant,
}

impl Checkpointing {
    pub fn new(state: &shared::state::AppState, budget: Budget) -> Checkpointing {
        Checkpointing {
            state: state.clone(),
            interval: state.config.worker.checkpoint_interval,
            pause_at: budget.pause_at(),
            last: Instant::now(),
        }
    }
}

/// Bridges the engine's callbacks to the tracker: deadline, heartbeat and stop checks between
/// batches, history and progress after each epoch, and a resumable run's checkpoints.
pub struct JobObserver<'a> {
    tracker: &'a Tracker,
    deadline: Instant,
    pub checkpointing: Option<Checkpointing>,
    /// Record epochs in the job's history (the tuning search's short runs do not).
    record_history: bool,
    /// The test hook `WorkerLimits::test_batch_pause`.
    pause: Option<Duration>,
    pub interrupted: Option<Interrupt>,
    /// A sweep trial's rungs, where it reports for successive halving.
    trial: Option<TrialRef>,
}

impl<'a> JobObserver<'a> {
    pub fn new(tracker: &'a Tracker, deadline: Instant, record_history: bool) -> Self {
        let trial = record_history
            .then(|| tracker.snapshot().sweep)
            .flatten()
            .filter(|t| !t.rungs.is_empty());
        JobObserver {
            tracker,
            deadline,
            record_history,
            pause: None,
            interrupted: None,
            checkpointing: None,
            trial,
        }
    }

    /// Pauses at the invocation's end and writes checkpoints (see `Checkpointing`).
    pub fn resumable(mut self, checkpointing: Checkpointing) -> Self {
        self.checkpointing = Some(checkpointing);
        self
    }

    pub fn with_pause(mut self, pause: Option<Duration>) -> Self {
        self.pause = pause;
        self
    }

    fn write(&mut self) -> Control {
        match self.tracker.save_blocking() {
            Ok(()) => Control::Continue,
            Err(i) => {
                self.interrupted = Some(i);
                Control::Stop(StopReason::Requested)
            }
        }
    }
}

impl JobObserver<'_> {
    /// A sweep trial at one of its rungs reports its objective; successive halving may stop
    /// it there (`sweeps::report_rung`).
    fn at_rung(&mut self, record: &EpochRecord, epochs: u32) -> Control {
        let Some(t) = &self.trial else {
            return Control::Continue;
        };
        if record.epoch >= epochs || !t.rungs.contains(&record.epoch) {
            return Control::Continue;
        }
        let Some(value) = record.metric(&t.metric) else {
            return Control::Continue;
        };
        let goes_on = self.tracker.block_on(super::sweeps::report_rung(
            self.tracker.store(),
            &t.sweep_id,
            t.trial,
            record.epoch,
            value,
        ));
        if goes_on {
            return Control::Continue;
        }
        let message = format!(
            "pruned by successive halving at epoch {}: {} = {value} is not among the best 1/{} \
             of the trials at this rung (sweep {})",
            record.epoch, t.metric, t.reduction_factor, t.sweep_id
        );
        self.tracker
            .update(|j| j.step(PRUNED, clock::now(), Some(message)));
        Control::Stop(StopReason::Requested)
    }
}

/// The secondary status of a trial that successive halving stopped.
pub const PRUNED: &str = "pruned";

impl Observer for JobObserver<'_> {
    fn pause_now(&mut self) -> bool {
        let due = self
            .checkpointing
            .as_ref()
            .and_then(|c| c.pause_at)
            .is_some_and(|at| Instant::now() >= at);
        // The job's own end stops it rather than pausing it.
        due && Instant::now() < self.deadline
    }

    fn checkpoint_due(&mut self) -> bool {
        let stopping = matches!(self.interrupted, Some(Interrupt::StopRequested))
            || matches!(
                *self.tracker.interrupt.lock().expect("interrupt lock"),
                Some(Interrupt::StopRequested)
            );
        self.checkpointing
            .as_ref()
            .is_some_and(|c| stopping || c.last.elapsed() >= c.interval)
    }

    /// A failed write is logged and leaves the job's pointer where it was: a pause then
    /// hands on from the previous checkpoint (`run::hand_on`), or fails without one.
    fn checkpoint(&mut self, checkpoint: training::Checkpoint, _pausing: bool) {
        let Some(c) = self.checkpointing.as_mut() else {
            return;
        };
        let saved = self.tracker.block_on(super::checkpoints::save(
            &c.state,
            self.tracker,
            &checkpoint,
        ));
        match saved {
            Ok(()) => c.last = Instant::now(),
            Err(e) => {
                tracing::warn!(error = %e, "checkpoint not written; the previous one stays")
            }
        }
    }

    fn between_batches(&mut self) -> Control {
        if let Some(pause) = self.pause {
            std::thread::sleep(pause);
        }
        if Instant::now() >= self.deadline {
            return Control::Stop(StopReason::Deadline);
        }
        // The heartbeat itself is written by `Tracker::spawn_heartbeat`; here only what it
        // found is acted on.
        if let Some(i) = self.tracker.take_interrupt() {
            self.interrupted = Some(i);
            return Control::Stop(StopReason::Requested);
        }
        Control::Continue
    }

    fn on_epoch(&mut self, stats: &EpochStats, epochs: u32) -> Control {
        if self.record_history {
            let record = EpochRecord {
                epoch: stats.epoch,
                loss: stats.loss,
                val_loss: stats.val_loss,
                accuracy: stats.accuracy,
                val_accuracy: stats.val_accuracy,
                val_rmse: stats.val_rmse,
                val_mae: stats.val_mae,
                val_r2: stats.val_r2,
                trees: stats.trees,
                seconds: stats.seconds,
            };
            if let Control::Stop(r) = self.at_rung(&record, epochs) {
                self.tracker.update(|j| j.history.push(record));
                let _ = self.write();
                return Control::Stop(r);
            }
            self.tracker.update(|j| {
                j.history.push(record);
                j.progress = Some(Progress {
                    epoch: stats.epoch,
                    epochs,
                    percent: (f64::from(stats.epoch) / f64::from(epochs.max(1)) * 1000.0).round()
                        / 10.0,
                });
            });
            if stats.epoch >= epochs || self.tracker.since_write() >= PROGRESS_INTERVAL {
                if let Control::Stop(r) = self.write() {
                    return Control::Stop(r);
                }
            }
        }
        if Instant::now() >= self.deadline {
            return Control::Stop(StopReason::Deadline);
        }
        self.between_batches()
    }

    fn on_candidate(
        &mut self,
        entry: &training::automl::LeaderboardEntry,
        done: usize,
        total: usize,
    ) {
        let result = match entry.cv_mean {
            Some(m) => format!("cv mean {m:.4}"),
            None => entry.status.clone(),
        };
        let message = format!(
            "auto: candidate {done} of {total} ({}): {result}",
            entry.candidate
        );
        self.tracker.update(|j| {
            j.progress = Some(Progress {
                epoch: done as u32,
                epochs: total as u32,
                percent: (done as f64 / total.max(1) as f64 * 1000.0).round() / 10.0,
            });
            if let Some(last) = j.secondary_transitions.last_mut() {
                last.message = Some(message);
            }
        });
        let _ = self.write();
    }
}
