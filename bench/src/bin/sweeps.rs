//! A sweep's wall time against its trials run one after another: the same six-trial grid
//! (learning rate × hidden layers, an MLP on scikit-learn's digits) through the models router
//! with `max_parallel` 1, 2 and 3, every trial in its own worker task (in-process dispatch,
//! as the emulator's worker instances or Lambda's would take them). One JSON line each.
//!
//! Usage: sweeps TABLE.csv EPOCHS

use std::time::{Duration, Instant};

use serde_json::{json, Value};

async fn sweep(csv: &str, epochs: u32, max_parallel: u32) -> Value {
    let config = api_tests::config(&[]);
    let state = shared::state::AppState::new(config, api_tests::sqlite_store());
    let dataset = api_tests::upload_csv(&state, csv, "target").await;
    let app = models::router(state);
    let body = json!({
        "name": "bench", "dataset": dataset, "objective": "val_accuracy",
        "max_parallel": max_parallel,
        "base": {"model_config": {"type": "classification", "architecture": "mlp"},
                 "training_config": {"epochs": epochs, "batch_size": 32, "seed": 7,
                                     "validation_split": 0.25}},
        "search": {"method": "grid",
                   "space": {"training_config.learning_rate": [0.001, 0.003, 0.01],
                             "model_config.hidden_layers": [[64], [128, 64]]}}
    });
    let started = Instant::now();
    let r = api_tests::post_json(&app, "/v1/sweeps", &body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["sweep_id"].as_str().unwrap().to_string();
    let s = loop {
        let s = api_tests::get(&app, &format!("/v1/sweeps/{id}")).await.body;
        if s["status"] == "completed" {
            break s;
        }
        assert!(s["status"] == "running", "{s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wall = started.elapsed().as_secs_f64();
    // Each trial's own time: from its claim to its end.
    let mut trial_seconds = Vec::new();
    for t in s["trials"].as_array().unwrap() {
        let id = t["model_id"].as_str().unwrap();
        let st = api_tests::get(&app, &format!("/v1/models/{id}/status"))
            .await
            .body;
        let moves = st["status_transitions"].as_array().unwrap();
        let at = |m: &Value| {
            chrono::DateTime::parse_from_rfc3339(m["at"].as_str().unwrap())
                .unwrap()
                .timestamp_millis()
        };
        let claimed = moves.iter().find(|m| m["status"] == "in_progress").unwrap();
        trial_seconds.push((at(moves.last().unwrap()) - at(claimed)) as f64 / 1000.0);
    }
    json!({
        "workload": format!("sweep_digits_mlp_6_trials_parallel_{max_parallel}"),
        "max_parallel": max_parallel,
        "wall_seconds": wall,
        "trial_seconds": trial_seconds,
        "trial_seconds_sum": trial_seconds.iter().sum::<f64>(),
        "best": s["best"]["settings"],
        "best_val_accuracy": s["best"]["metric"],
        "metrics": s["trials"].as_array().unwrap().iter().map(|t| t["metric"].clone()).collect::<Vec<_>>(),
    })
}

fn main() {
    training::fix_thread_count();
    let mut args = std::env::args().skip(1);
    let csv =
        std::fs::read_to_string(args.next().expect("usage: sweeps TABLE.csv EPOCHS")).unwrap();
    let epochs: u32 = args.next().map_or(30, |e| e.parse().expect("epochs"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for max_parallel in [1, 2, 3] {
        println!("{}", runtime.block_on(sweep(&csv, epochs, max_parallel)));
    }
}
