//! The tabular families on scikit-learn's tables, for `bench/run tabular`: reads the tables
//! and splits `bench/tabular_compare.py prepare` wrote, fits `gbm` (forust, default
//! settings) and `auto` (the search under `BUDGET` seconds) on each split's train rows with
//! the engine, as the worker does, and prints one JSON line per model with its test score,
//! fit seconds, predict latency and trees. On `large` (100,000 train rows) `gbm` only, with
//! one-row latency beside the whole-set one; and one MLP epoch on breast_cancer.
//!
//!     tabular OUT_DIR BUDGET_SECONDS

use std::time::{Duration, Instant};

use bench::tables::{encode, load};
use serde_json::json;
use training::automl::{self, AutoParams, Encoded};
use training::{Architecture, GbmParams, Matrix, OptimizerKind, Style, Task, TrainParams};

const TABLES: [&str; 4] = ["breast_cancer", "wine", "digits", "diabetes"];

/// Whole-set predict µs per row, best of 3.
fn predict_us(model: &training::Model, m: &Matrix) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            model.outputs(m).unwrap();
            t.elapsed().as_secs_f64() * 1e6 / m.rows as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    training::fix_thread_count();
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).expect("usage: tabular OUT_DIR BUDGET_SECONDS");
    let budget: u64 = args.get(2).map_or(60, |b| b.parse().expect("seconds"));
    let metric = |task| match task {
        Task::Classification => "accuracy",
        Task::Regression => "r2",
    };
    for name in TABLES {
        let s = load(dir, name);
        let trees = encode(&s, Style::Trees);
        let t0 = Instant::now();
        let fit = training::gbm::fit(&trees.0, &trees.1, &trees.2, &GbmParams::default(), &mut ())
            .unwrap();
        let fit_seconds = t0.elapsed().as_secs_f64();
        println!(
            "{}",
            json!({"table": name, "model": "gbm", "metric": metric(s.task),
                "score": fit.validation.headline().1, "fit_seconds": fit_seconds,
                "predict_us_per_row": predict_us(&fit.model, &trees.1),
                "trees": fit.model.trees(), "notes": "forust 100 trees, learning rate 0.1, depth 6"})
        );
        let network = encode(&s, Style::Network);
        let data = Encoded {
            network: (&network.0, &network.1, &network.2),
            trees: (&trees.0, &trees.1, &trees.2),
        };
        let params = AutoParams {
            time_budget: Duration::from_secs(budget),
            seed: 0,
        };
        let t0 = Instant::now();
        let (best, report) = automl::search(&data, &params, &mut ()).unwrap();
        let fit_seconds = t0.elapsed().as_secs_f64();
        let on = if best.model.encoder().style() == Style::Trees {
            &trees.1
        } else {
            &network.1
        };
        let skipped = report
            .leaderboard
            .iter()
            .filter(|e| e.status == "skipped")
            .count();
        println!(
            "{}",
            json!({"table": name, "model": "auto", "metric": metric(s.task),
                "score": best.validation.headline().1, "fit_seconds": fit_seconds,
                "predict_us_per_row": predict_us(&best.model, on),
                "trees": best.model.trees(),
                "leaderboard": report.leaderboard.iter().map(|e| json!({
                    "candidate": e.candidate, "status": e.status, "cv_mean": e.cv_mean,
                    "fit_seconds": e.fit_seconds})).collect::<Vec<_>>(),
                "notes": format!("best: {} ({}-fold CV {:.4}); {} skipped",
                    report.best.as_deref().unwrap_or("-"), report.folds,
                    report.leaderboard[0].cv_mean.unwrap_or(f64::NAN), skipped)})
        );
    }

    // 100,000 rows: fit time and latency.
    let s = load(dir, "large");
    let trees = encode(&s, Style::Trees);
    let params = GbmParams::default();
    let t0 = Instant::now();
    let fit = training::gbm::fit(&trees.0, &trees.1, &trees.2, &params, &mut ()).unwrap();
    let fit_seconds = t0.elapsed().as_secs_f64();
    let one = trees.1.head(1);
    let mut single: Vec<f64> = (0..200)
        .map(|_| {
            let t = Instant::now();
            fit.model.outputs(&one).unwrap();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    single.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({"table": "large", "model": "gbm", "metric": "accuracy",
            "score": fit.validation.headline().1, "fit_seconds": fit_seconds,
            "predict_us_per_row": predict_us(&fit.model, &trees.1),
            "predict_us_single_row": single[100], "trees": fit.model.trees(),
            "notes": "forust 100 trees, learning rate 0.1, depth 6"})
    );

    // One MLP epoch on breast_cancer, as MLPClassifier((64, 32)) with batch 32.
    let s = load(dir, "breast_cancer");
    let (train, test, enc) = encode(&s, Style::Network);
    let p = TrainParams {
        architecture: Architecture::mlp(&[64, 32]),
        optimizer: OptimizerKind::Adam,
        epochs: 1,
        batch_size: 32,
        learning_rate: 0.001,
        weight_decay: 0.0,
        target_accuracy: None,
        seed: 0,
    };
    let mut epochs: Vec<f64> = (0..5)
        .map(|seed| {
            let t = Instant::now();
            training::train(
                &train,
                &test,
                &enc,
                &TrainParams { seed, ..p.clone() },
                &mut (),
            )
            .unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    epochs.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({"table": "breast_cancer", "model": "mlp_epoch", "metric": "accuracy",
            "score": null, "fit_seconds": epochs[2],
            "notes": "one epoch incl. initialisation and the validation pass, median of 5"})
    );
}
