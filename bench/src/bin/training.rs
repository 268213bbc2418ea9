//! Training benchmark: logistic regression and an MLP on a real table (UCI breast cancer)
//! and a generated 100,000 × 10 table, batch 32 and 256. Prints one JSON line per run
//! (validation accuracy, mean seconds per epoch including the validation pass) and writes the
//! encoded train/validation matrices to `OUT_DIR`, so `bench/train_compare.py` trains
//! scikit-learn and PyTorch on exactly the same numbers.
//!
//! Usage: training OUT_DIR

use std::io::Write;
use std::time::Instant;

use bench::generated::{columns_of, generated};
use serde_json::json;
use synth::Table;
use training::{self, Architecture, Encoder, Matrix, OptimizerKind, TrainParams};

const BREAST_CANCER: &str = include_str!("../../../tests/fixtures/breast_cancer.csv");

fn write_matrix(path: &std::path::Path, m: &Matrix) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    for i in 0..m.rows {
        let row = m.row(i);
        for v in row {
            write!(out, "{v},").unwrap();
        }
        writeln!(out, "{}", m.y[i]).unwrap();
    }
}

fn main() {
    training::fix_thread_count();
    let out_dir =
        std::path::PathBuf::from(std::env::args().nth(1).expect("usage: training OUT_DIR"));
    std::fs::create_dir_all(&out_dir).unwrap();
    let real = Table::from_csv(BREAST_CANCER).expect("fixture");
    let datasets = [
        ("breast_cancer", real, "diagnosis", 50u32),
        ("generated_100k", generated(100_000), "label", 5u32),
    ];
    for (name, table, target, epochs) in datasets {
        let (train_t, val_t) = training::split(&table, target, 0.2, 7).unwrap();
        let encoder = Encoder::fit(&train_t, &columns_of(&table, target), target).unwrap();
        let (train, val) = (
            encoder.encode(&train_t).unwrap(),
            encoder.encode(&val_t).unwrap(),
        );
        write_matrix(&out_dir.join(format!("{name}_train.csv")), &train);
        write_matrix(&out_dir.join(format!("{name}_val.csv")), &val);
        for (model, architecture) in [
            ("logistic_regression", Architecture::LogisticRegression),
            ("mlp_64_32", Architecture::mlp(&[64, 32])),
        ] {
            for batch in [32u32, 256] {
                let params = TrainParams {
                    architecture: architecture.clone(),
                    optimizer: OptimizerKind::Adam,
                    epochs,
                    batch_size: batch,
                    learning_rate: 0.01,
                    weight_decay: 0.0,
                    target_accuracy: None,
                    seed: 7,
                };
                let t0 = Instant::now();
                let trained = training::train(&train, &val, &encoder, &params, &mut ()).unwrap();
                let total = t0.elapsed().as_secs_f64();
                let per_epoch = trained.history.iter().map(|e| e.seconds).sum::<f64>()
                    / trained.history.len() as f64;
                println!(
                    "{}",
                    json!({
                        "engine": "candle (this project)", "dataset": name, "model": model,
                        "batch_size": batch, "epochs": epochs,
                        "train_rows": train.rows, "features": train.width,
                        "val_accuracy": trained.validation.accuracy(),
                        "seconds_per_epoch": per_epoch, "total_seconds": total,
                    })
                );
            }
        }
    }
}
