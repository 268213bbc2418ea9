//! Layer-list networks, for `bench/run networks`: epoch time of a CNN, an LSTM, an
//! embedding network and the textcnn preset (the workloads `bench/networks_compare.py` runs in PyTorch with the same
//! layers and sizes), the MAC rate they imply, and this process's peak memory. One JSON line
//! per workload.
//!
//!     networks DIGITS_ZIP [EPOCHS [DOCSTRINGS_CSV IDS_OUT_JSON]]

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use training::deep::{
    channel_stats, fit, image_floats, stratified_split, DeepManifest, DeepParams, InputSpec,
    Inputs, Samples, Targets,
};
use training::{EpochStats, OptimizerKind, Task};

/// The digits CNN of the route tests.
fn digits_cnn() -> Value {
    json!({"layers": [
        {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"type": "batchnorm"},
        {"type": "maxpool", "pool_size": 2},
        {"type": "flatten"},
        {"type": "dropout", "rate": 0.2},
        {"type": "output"}
    ]})
}

fn classes(k: usize) -> Vec<String> {
    (0..k).map(|i| i.to_string()).collect()
}

fn split(samples: &Samples, rows: &[usize]) -> Samples {
    let inputs = match &samples.inputs {
        Inputs::Floats { values, shape } => {
            let per: usize = shape.iter().product();
            Inputs::Floats {
                values: rows
                    .iter()
                    .flat_map(|&i| values[i * per..(i + 1) * per].iter().copied())
                    .collect(),
                shape: shape.clone(),
            }
        }
        Inputs::Tokens { ids, len } => Inputs::Tokens {
            ids: rows
                .iter()
                .flat_map(|&i| ids[i * len..(i + 1) * len].iter().copied())
                .collect(),
            len: *len,
        },
    };
    let Targets::Classes { labels, classes } = &samples.targets else {
        unreachable!("classification workloads")
    };
    Samples {
        inputs,
        targets: Targets::Classes {
            labels: rows.iter().map(|&i| labels[i]).collect(),
            classes: classes.clone(),
        },
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
    let Targets::Classes { labels, .. } = &all.targets else {
        unreachable!()
    };
    let (tr, va) = stratified_split(labels, k, 0.2, 0).unwrap();
    let (train, val) = (split(&all, &tr), split(&all, &va));
    let plan = analysis::network::plan(&arch, shape, k).unwrap();
    let manifest = DeepManifest::new(
        arch,
        &plan,
        Task::Classification,
        classes(k),
        InputSpec::Images {
            height: 1,
            width: 1,
            channels: 1,
            mean: vec![0.0],
            std: vec![1.0],
        },
    );
    let params = DeepParams {
        optimizer: OptimizerKind::Adam,
        epochs,
        batch_size: 32,
        learning_rate: 0.005,
        weight_decay: 0.0,
        target_accuracy: None,
        seed: 1,
    };
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
    let set = images::read_image_folder(&zip, None).unwrap();
    let rows: Vec<usize> = (0..set.len()).collect();
    let (mean, std) = channel_stats(&set.pixels, set.pixels_per_image(), 1, &rows);
    let mut values = Vec::new();
    for i in 0..set.len() {
        image_floats(set.image(i), 8, 8, &mean, &std, &mut values);
    }
    let digits = Samples {
        inputs: Inputs::Floats {
            values,
            shape: vec![1, 8, 8],
        },
        targets: Targets::Classes {
            labels: set.labels.clone(),
            classes: set.classes.clone(),
        },
    };
    run("cnn_digits", digits_cnn(), &[8, 8, 1], digits, 10, epochs);

    // small_cnn on 2,000 random 32×32×3 images (CIFAR's shape): convolution throughput.
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let n = 2000;
    let images = Samples {
        inputs: Inputs::Floats {
            values: (0..n * 3 * 32 * 32).map(|_| rng.random::<f32>()).collect(),
            shape: vec![3, 32, 32],
        },
        targets: Targets::Classes {
            labels: (0..n).map(|i| (i % 10) as u32).collect(),
            classes: classes(10),
        },
    };
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
