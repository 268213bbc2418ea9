//! Layer-list networks, for `bench/run networks`: epoch time of a CNN, an LSTM, an
//! embedding network and the textcnn preset (the workloads `bench/networks_compare.py` runs in PyTorch with the same
//! layers and sizes), the MAC rate they imply, and this process's peak memory. One JSON line
//! per workload.
//!
//!     networks DIGITS_ZIP [EPOCHS [DOCSTRINGS_CSV IDS_OUT_JSON]]

use std::time::Instant;

use bench::images::{digits, digits_cnn, median, random_images, Workload};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use training::deep::{fit, Inputs, Samples, Targets};
use training::EpochStats;

fn classes(k: usize) -> Vec<String> {
    (0..k).map(|i| i.to_string()).collect()
}

/// This process's peak resident set (VmHWM), in bytes.
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn run(name: &str, arch: Value, shape: &[usize], all: Samples, k: usize, epochs: u32) {
    let Workload {
        plan,
        manifest,
        train,
        val,
        params,
    } = Workload::of(arch, shape, &all, k, epochs);
    let started = Instant::now();
    let trained = fit(&plan, manifest, &train, &val, &params, &mut ()).unwrap();
    let total = started.elapsed().as_secs_f64();
    let epoch = median(
        trained
            .history
            .iter()
            .map(|e: &EpochStats| e.seconds)
            .collect(),
    );
    let samples = train.len() as f64;
    println!(
        "{}",
        json!({
            "workload": name,
            "train_samples": train.len(),
            "epochs": epochs,
            "epoch_seconds_median": epoch,
            "total_seconds": total,
            "parameters": plan.params,
            "macs_per_sample": plan.macs,
            "implied_macs_per_second": 3.0 * plan.macs as f64 * samples / epoch,
            "val_accuracy": trained.validation.accuracy(),
            "peak_rss_bytes": peak_rss(),
        })
    );
}

fn main() {
    training::fix_thread_count();
    let mut args = std::env::args().skip(1);
    let zip = std::fs::read(
        args.next()
            .expect("usage: networks DIGITS_ZIP [EPOCHS [DOCSTRINGS_CSV IDS_OUT_JSON]]"),
    )
    .unwrap();
    let epochs: u32 = args.next().map_or(5, |e| e.parse().unwrap());
    let docstrings = args.next();
    let ids_out = args.next();

    // The CNN on scikit-learn's digits (the fixture zip, as an upload reads it).
    run(
        "cnn_digits",
        digits_cnn(),
        &[8, 8, 1],
        digits(&zip),
        10,
        epochs,
    );

    // small_cnn on 2,000 random 32×32×3 images (CIFAR's shape): convolution throughput.
    let images = random_images(2000);
    let small_cnn = analysis::presets::Preset::SmallCnn.architecture();
    run(
        "small_cnn_32x32x3",
        small_cnn,
        &[32, 32, 3],
        images.clone(),
        10,
        epochs,
    );
    // He et al.'s resnet8 on the same images: images per second in `bench/networks_compare.py`.
    let resnet8 = analysis::presets::Preset::Resnet8.architecture();
    run("resnet8_32x32x3", resnet8, &[32, 32, 3], images, 10, epochs);

    // An LSTM over 30 steps of 4 features; the class is the sign of feature 0's mean.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 2000;
    let (seq, features) = (30, 4);
    let mut values = Vec::with_capacity(n * seq * features);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let mut sum = 0.0;
        for t in 0..seq * features {
            let v: f32 = rng.random_range(-1.0..1.0);
            if t % features == 0 {
                sum += v;
            }
            values.push(v);
        }
        labels.push(u32::from(sum > 0.0));
    }
    let sequences = Samples {
        inputs: Inputs::Floats {
            values,
            shape: vec![seq, features],
        },
        targets: Targets::Classes {
            labels,
            classes: classes(2),
        },
    };
    let lstm = json!({"layers": [{"type": "lstm", "units": 32}, {"type": "output"}]});
    run("lstm_30x4", lstm, &[seq, features], sequences, 2, epochs);

    // An embedding network over 40 tokens of a 500-word vocabulary; the class is whether
    // most tokens are in the lower half.
    let len = 40;
    let mut ids = Vec::with_capacity(n * len);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let low = (0..len)
            .map(|_| {
                let t = rng.random_range(0..500u32);
                ids.push(t);
                u32::from(t < 250)
            })
            .sum::<u32>();
        labels.push(u32::from(low * 2 > len as u32));
    }
    let tokens = Samples {
        inputs: Inputs::Tokens { ids, len },
        targets: Targets::Classes {
            labels,
            classes: classes(2),
        },
    };
    let embedding = json!({"layers": [
        {"type": "embedding", "input_dim": 500, "output_dim": 32},
        {"type": "global_avg_pool"},
        {"type": "output"}
    ]});
    run("embedding_40", embedding, &[len], tokens, 2, epochs);

    // The textcnn preset on the docstrings fixture, read as the worker reads texts (for the
    // bench the vocabulary comes from every row); the ids and labels go to a file so PyTorch
    // trains on the very same sequences.
    let Some(path) = docstrings else { return };
    let table = synth::Table::from_csv(&std::fs::read_to_string(path).unwrap()).unwrap();
    let texts: Vec<String> = table
        .rows
        .iter()
        .map(|r| r[0].as_str().unwrap_or_default().to_string())
        .collect();
    let topics: Vec<String> = table
        .rows
        .iter()
        .map(|r| r[1].as_str().unwrap_or_default().to_string())
        .collect();
    let mut names: Vec<String> = topics.clone();
    names.sort();
    names.dedup();
    let labels: Vec<u32> = topics
        .iter()
        .map(|t| names.binary_search(t).unwrap() as u32)
        .collect();
    let len = text::LengthStats::of(texts.iter().map(String::as_str))
        .unwrap()
        .p95;
    let vocabulary = text::Vocabulary::build(texts.iter().map(String::as_str), 20_000).unwrap();
    let mut ids = Vec::with_capacity(texts.len() * len);
    for t in &texts {
        vocabulary.encode(t, len, &mut ids);
    }
    if let Some(out) = ids_out {
        std::fs::write(
            out,
            json!({"len": len, "ids": ids, "labels": labels, "classes": names.len()}).to_string(),
        )
        .unwrap();
    }
    let k = names.len();
    let tokens = Samples {
        inputs: Inputs::Tokens { ids, len },
        targets: Targets::Classes {
            labels,
            classes: names,
        },
    };
    let textcnn = analysis::presets::Preset::TextCnn.architecture();
    run("textcnn_docstrings", textcnn, &[len], tokens, k, epochs);
}
