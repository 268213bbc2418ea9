//! Peak memory of training and of serving one model, measured, for the estimate that
//! `POST /v1/models/train` holds against the worker's and the models function's memory.
//!
//! Usage (one measurement per process, so each peak is its own):
//!   memory train  HIDDEN ROWS FEATURES BATCH OPTIMIZER ARTIFACT   e.g. `4096,4096 2000 10 32 adam /tmp/m.st`
//!   memory predict ARTIFACT ROWS
//! Prints one JSON line: the configuration, the parameter count and the peak resident set
//! (`VmHWM` of /proc/self/status), in bytes.
//!
//! `train` does what the worker does with the data in memory: encode the table, train one
//! epoch, serialize the artifact and write it. `predict` does what the models function does:
//! read the artifact, load it, predict ROWS rows.

use analysis::footprint::{self, NetworkSize};
use serde_json::{json, Value};
use shared::records::DatasetColumn;
use synth::Table;
use training::{self, Architecture, Artifact, Encoder, OptimizerKind, TrainParams};

fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

/// `rows` rows of `features` uniform numbers in (−1, 1) and a label (the sign of their sum),
/// as CSV text: what the worker reads from the blob store.
fn csv_text(rows: usize, features: usize) -> String {
    use std::fmt::Write as _;
    let mut state: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let mut out: String = (0..features).map(|i| format!("x{i},")).collect();
    out.push_str("label\n");
    for _ in 0..rows {
        let mut sum = 0.0;
        for _ in 0..features {
            let x = next();
            sum += x;
            let _ = write!(out, "{x:.6},");
        }
        out.push_str(if sum > 0.0 { "pos\n" } else { "neg\n" });
    }
    out
}

fn main() {
    training::fix_thread_count();
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("train") => {
            let hidden: Vec<usize> = args[2]
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().expect("hidden size"))
                .collect();
            let (rows, features, batch): (usize, usize, u32) = (
                args[3].parse().unwrap(),
                args[4].parse().unwrap(),
                args[5].parse().unwrap(),
            );
            let optimizer = OptimizerKind::parse(&args[6]).expect("optimizer");
            // As the worker reads a dataset: CSV text, parsed, split.
            let csv = csv_text(rows, features);
            let t = Table::from_csv(&csv).unwrap();
            drop(csv);
            let (train_t, val_t) =
                training::split_owned(t, "label", training::Task::Classification, 0.2, 7).unwrap();
            let columns: Vec<DatasetColumn> = train_t
                .columns
                .iter()
                .map(|c| DatasetColumn {
                    name: c.clone(),
                    kind: if c == "label" { "target" } else { "numeric" }.into(),
                    reason: None,
                    words: None,
                })
                .collect();
            let encoder = Encoder::fit(&train_t, &columns, "label").unwrap();
            let (train, val) = (
                encoder.encode(&train_t).unwrap(),
                encoder.encode(&val_t).unwrap(),
            );
            drop((train_t, val_t));
            let architecture = if hidden.is_empty() {
                Architecture::LogisticRegression
            } else {
                Architecture::mlp(&hidden)
            };
            let params = TrainParams {
                architecture,
                optimizer,
                epochs: 1,
                batch_size: batch,
                learning_rate: 0.001,
                weight_decay: 0.0,
                target_accuracy: None,
                seed: 7,
            };
            let net = NetworkSize::of(
                &params.architecture,
                encoder.width(),
                encoder.classes().len(),
            );
            let estimate = footprint::training(
                net,
                optimizer,
                (rows * (features + 1)) as u64,
                u64::from(batch),
                val.rows as u64,
            );
            let trained = training::train(&train, &val, &encoder, &params, &mut ()).unwrap();
            let bytes = trained.model.to_bytes().unwrap();
            std::fs::write(&args[7], &bytes).unwrap();
            println!(
                "{}",
                json!({
                    "what": "train", "hidden": hidden, "rows": rows, "features": features,
                    "batch_size": batch, "optimizer": args[6],
                    "parameters": trained.model.parameter_count(),
                    "artifact_bytes": bytes.len(), "peak_rss_bytes": peak_rss_bytes(),
                    "estimated_bytes": estimate.total_bytes,
                })
            );
        }
        Some("predict") => {
            let rows: usize = args[3].parse().unwrap();
            let bytes = std::fs::read(&args[2]).unwrap();
            let artifact = Artifact::from_bytes(&bytes).unwrap();
            drop(bytes);
            let features = artifact.encoder.feature_names();
            let row: serde_json::Map<String, Value> =
                features.iter().map(|f| (f.clone(), json!(0.25))).collect();
            let out = artifact.predict(&vec![Value::Object(row); rows]).unwrap();
            let net = NetworkSize::of(
                &artifact.architecture,
                artifact.encoder.width(),
                artifact.classes.len(),
            );
            let estimate = footprint::serving(net, rows as u64);
            println!(
                "{}",
                json!({
                    "what": "predict", "rows": out.len(),
                    "parameters": artifact.parameter_count(),
                    "peak_rss_bytes": peak_rss_bytes(),
                    "estimated_bytes": estimate.total_bytes,
                })
            );
        }
        _ => {
            eprintln!("usage: memory train HIDDEN ROWS FEATURES BATCH OPTIMIZER ARTIFACT | memory predict ARTIFACT ROWS");
            std::process::exit(2);
        }
    }
}
