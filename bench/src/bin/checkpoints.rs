//! Checkpoints, for `bench/run checkpoints`: what one save costs beside an epoch (capture,
//! safetensors bytes, a synced file), what resuming costs in the engine (read, restore, up
//! to the first batch), for the MLP and CNN workloads of `bench/run training` and
//! `bench/run networks`; then the resume latency of a job handed on between invocations
//! through the models router (in-process worker, SQLite, local blobs): from the hand-on
//! write to the next invocation's first batch. One JSON line per workload.
//!
//!     checkpoints DIGITS_ZIP OUT_DIR

use std::time::{Duration, Instant};

use bench::generated::{columns_of, generated};
use bench::images::{digits, digits_cnn, median, random_images, Workload};
use serde_json::{json, Value};
use training::checkpoint::Checkpoint;
use training::deep::{fit_from, Samples};
use training::{
    Architecture, Control, Encoder, EpochStats, Observer, OptimizerKind, Resume, TrainParams,
};

/// Saves a checkpoint after every epoch to `dir`, timing each from the loop's capture to the
/// synced file.
struct Saver {
    dir: std::path::PathBuf,
    asked: Option<Instant>,
    saves: Vec<f64>,
    epochs: Vec<f64>,
    bytes: usize,
    last: Option<std::path::PathBuf>,
}

impl Observer for Saver {
    fn on_epoch(&mut self, stats: &EpochStats, _epochs: u32) -> Control {
        self.epochs.push(stats.seconds);
        Control::Continue
    }
    fn checkpoint_due(&mut self) -> bool {
        self.asked = Some(Instant::now());
        true
    }
    fn checkpoint(&mut self, cp: Checkpoint, _pausing: bool) {
        use std::io::Write;
        let bytes = cp.to_bytes().unwrap();
        let path = self.dir.join(format!("{}.safetensors", self.saves.len()));
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&bytes).unwrap();
        f.sync_all().unwrap();
        self.saves
            .push(self.asked.take().unwrap().elapsed().as_secs_f64());
        self.bytes = bytes.len();
        self.last = Some(path);
    }
}

/// Times a resume: from reading the file to the first batch, then stops the run.
struct FirstBatch {
    started: Instant,
    at: Option<f64>,
}

impl Observer for FirstBatch {
    fn on_epoch(&mut self, _stats: &EpochStats, _epochs: u32) -> Control {
        Control::Continue
    }
    fn between_batches(&mut self) -> Control {
        self.at = Some(self.started.elapsed().as_secs_f64());
        Control::Stop(training::StopReason::Requested)
    }
}

fn report(name: &str, saver: &Saver, resume_seconds: f64) {
    let epoch = median(saver.epochs.clone());
    let save = median(saver.saves.clone());
    println!(
        "{}",
        json!({
            "workload": name,
            "epoch_seconds_median": epoch,
            "save_seconds_median": save,
            "save_share_of_epoch": save / epoch,
            "checkpoint_bytes": saver.bytes,
            "engine_resume_seconds": resume_seconds,
        })
    );
}

/// Runs `train` once saving after every epoch, then once resumed from the last save up to
/// its first batch, and reports both.
fn measure(out: &std::path::Path, name: &str, mut train: impl FnMut(&mut dyn Observer, Resume)) {
    let dir = out.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut saver = Saver {
        dir,
        asked: None,
        saves: Vec::new(),
        epochs: Vec::new(),
        bytes: 0,
        last: None,
    };
    train(
        &mut saver,
        Resume {
            label: "bench",
            from: None,
        },
    );
    let started = Instant::now();
    let cp = Checkpoint::from_bytes(&std::fs::read(saver.last.as_ref().unwrap()).unwrap()).unwrap();
    let mut first = FirstBatch { started, at: None };
    train(
        &mut first,
        Resume {
            label: "bench",
            from: Some(&cp),
        },
    );
    report(name, &saver, first.at.unwrap());
}

fn tabular(out: &std::path::Path, name: &str, rows: usize, batch: u32) {
    let table = generated(rows);
    let (train_t, val_t) = training::split(&table, "label", 0.2, 7).unwrap();
    let encoder = Encoder::fit(&train_t, &columns_of(&table, "label"), "label").unwrap();
    let (train, val) = (
        encoder.encode(&train_t).unwrap(),
        encoder.encode(&val_t).unwrap(),
    );
    let params = TrainParams {
        architecture: Architecture::mlp(&[64, 32]),
        optimizer: OptimizerKind::Adam,
        epochs: 4,
        batch_size: batch,
        learning_rate: 0.01,
        weight_decay: 0.0,
        target_accuracy: None,
        seed: 7,
    };
    measure(out, name, |observer, resume| {
        let _ = training::train_from(&train, &val, &encoder, &params, observer, &resume).unwrap();
    });
}

fn deep(out: &std::path::Path, name: &str, arch: Value, shape: &[usize], all: Samples) {
    let w = Workload::of(arch, shape, &all, 10, 3);
    measure(out, name, |observer, resume| {
        let _ = fit_from(
            &w.plan,
            w.manifest.clone(),
            &w.train,
            &w.val,
            &w.params,
            observer,
            &resume,
        )
        .unwrap();
    });
}

/// A job handed on between 1 s invocations through the models router: the time from each
/// hand-on write to the next invocation's `training` step (its first batch follows at once).
async fn handed_on_job(rows: usize) {
    let mut config = api_tests::config(&[
        ("MLAAS_INVOCATION_BUDGET_SECONDS", "1"),
        ("MLAAS_CHECKPOINT_INTERVAL_SECONDS", "3600"),
    ]);
    config.worker.test_batch_pause = None;
    let state = shared::state::AppState::new(config, api_tests::sqlite_store());
    let table = generated(rows);
    let mut csv = table.columns.join(",") + "\n";
    for row in &table.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    let dataset = api_tests::upload_csv(&state, &csv, "label").await;
    let app = models::router(state);
    let body = json!({
        "model_config": {"name": "bench", "type": "classification", "architecture": "mlp",
                         "hidden_layers": [64, 32], "dataset": dataset},
        "training_config": {"epochs": 30, "batch_size": 32, "learning_rate": 0.01, "seed": 7}
    });
    let r = api_tests::post_json(&app, "/v1/models/train", &body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["model_id"].as_str().unwrap().to_string();
    let status = api_tests::finished(&app, &id, Duration::from_secs(600)).await;
    assert_eq!(status["status"], "completed", "{status}");
    let at = |t: &Value| {
        chrono::DateTime::parse_from_rfc3339(t["at"].as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    let steps = status["secondary_transitions"].as_array().unwrap();
    let mut latencies = Vec::new();
    for (i, t) in steps.iter().enumerate() {
        if t["status"] == "handed_on" {
            if let Some(next) = steps[i..].iter().find(|s| s["status"] == "training") {
                latencies.push((at(next) - at(t)) as f64 / 1000.0);
            }
        }
    }
    println!(
        "{}",
        json!({
            "workload": format!("router_hand_on_mlp_{rows}_rows"),
            "invocations": status["invocations"],
            "checkpoints": status["checkpoints"],
            "resume_seconds": latencies,
            "resume_seconds_median": median(latencies.clone()),
        })
    );
}

fn main() {
    training::fix_thread_count();
    let mut args = std::env::args().skip(1);
    let zip = std::fs::read(args.next().expect("usage: checkpoints DIGITS_ZIP OUT_DIR")).unwrap();
    let out = std::path::PathBuf::from(args.next().expect("usage: checkpoints DIGITS_ZIP OUT_DIR"));
    std::fs::create_dir_all(&out).unwrap();

    tabular(&out, "mlp_64_32_100k_batch_256", 100_000, 256);
    tabular(&out, "mlp_64_32_100k_batch_32", 100_000, 32);

    deep(&out, "cnn_digits", digits_cnn(), &[8, 8, 1], digits(&zip));
    deep(
        &out,
        "small_cnn_32x32x3",
        analysis::presets::Preset::SmallCnn.architecture(),
        &[32, 32, 3],
        random_images(2000),
    );

    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(handed_on_job(20_000));
}
