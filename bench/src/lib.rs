//! Helpers the benchmark binaries share.

/// scikit-learn's tables as `bench/tabular_compare.py prepare` writes them: `NAME.csv` and
/// `NAME.split.json` (the task and the train and test row indices).
pub mod tables {
    use serde_json::Value;
    use synth::{DatasetColumn, Table};
    use training::{Encoder, FitOptions, Matrix, Style, Task};

    /// One table's split.
    pub struct Split {
        pub task: Task,
        pub train: Table,
        pub test: Table,
        pub columns: Vec<DatasetColumn>,
    }

    /// Reads `NAME`'s table and split from `dir`.
    pub fn load(dir: &str, name: &str) -> Split {
        let csv = std::fs::read_to_string(format!("{dir}/{name}.csv")).expect("table");
        let table = Table::from_csv(&csv).expect("csv");
        let split: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}/{name}.split.json")).expect("split"),
        )
        .expect("split json");
        let task = if split["task"] == "regression" {
            Task::Regression
        } else {
            Task::Classification
        };
        let rows = |key: &str| Table {
            columns: table.columns.clone(),
            rows: split[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| table.rows[i.as_u64().unwrap() as usize].clone())
                .collect(),
        };
        // Kinds as an upload types them: numbers, or categories (the class targets are text).
        let columns = training::fixtures::columns(&table);
        Split {
            task,
            train: rows("train"),
            test: rows("test"),
            columns,
        }
    }

    /// The encoder fitted on the train rows in `style`, and both splits encoded.
    pub fn encode(s: &Split, style: Style) -> (Matrix, Matrix, Encoder) {
        let options = FitOptions {
            task: s.task,
            style,
            ..FitOptions::default()
        };
        let enc = Encoder::fit_with(&s.train, &s.columns, "target", &options).expect("encoder");
        (
            enc.encode(&s.train).expect("train"),
            enc.encode(&s.test).expect("test"),
            enc,
        )
    }
}

/// The generated classification table of the training benchmarks.
pub mod generated {
    use serde_json::json;
    use shared::records::DatasetColumn;
    use synth::Table;

    pub fn columns_of(table: &Table, target: &str) -> Vec<DatasetColumn> {
        table
            .columns
            .iter()
            .map(|c| DatasetColumn {
                name: c.clone(),
                kind: if c == target {
                    "categorical"
                } else {
                    "numeric"
                }
                .into(),
                reason: None,
                words: None,
            })
            .collect()
    }

    /// 10 uniform features in (−1, 1); the label is the sign of a fixed weighted sum plus
    /// noise, so no model is perfect. A small LCG keeps it reproducible.
    pub fn generated(rows: usize) -> Table {
        let mut state: u64 = 0x9e3779b97f4a7c15;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let weights = [1.0, -0.8, 0.6, 0.5, -0.4, 0.3, 0.3, -0.2, 0.2, 0.1];
        let mut columns: Vec<String> = (0..10).map(|i| format!("x{i}")).collect();
        columns.push("label".into());
        let rows = (0..rows)
            .map(|_| {
                let x: Vec<f64> = (0..10).map(|_| next()).collect();
                let score: f64 =
                    x.iter().zip(weights).map(|(a, w)| a * w).sum::<f64>() + 0.3 * next();
                let mut row: Vec<serde_json::Value> = x.into_iter().map(|v| json!(v)).collect();
                row.push(json!(if score > 0.0 { "pos" } else { "neg" }));
                row
            })
            .collect();
        Table { columns, rows }
    }
}

/// The image workloads of the network benchmarks.
pub mod images {
    use analysis::network::Plan;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use serde_json::{json, Value};
    use training::deep::{
        channel_stats, image_floats, stratified_split, DeepManifest, DeepParams, InputSpec, Inputs,
        Samples, Targets,
    };
    use training::{OptimizerKind, Task};

    pub fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    /// A classification workload of the network benchmarks: a stratified 80/20 split (seed
    /// 0), the plan, a manifest, and Adam at 0.005 in batches of 32 (seed 1).
    pub struct Workload {
        pub plan: Plan,
        pub manifest: DeepManifest,
        pub train: Samples,
        pub val: Samples,
        pub params: DeepParams,
    }

    impl Workload {
        pub fn of(arch: Value, shape: &[usize], all: &Samples, k: usize, epochs: u32) -> Workload {
            let Targets::Classes { labels, .. } = &all.targets else {
                unreachable!("classification workloads")
            };
            let (tr, va) = stratified_split(labels, k, 0.2, 0).unwrap();
            let plan = analysis::network::plan(&arch, shape, k).unwrap();
            let manifest = DeepManifest::new(
                arch,
                &plan,
                Task::Classification,
                (0..k).map(|i| i.to_string()).collect(),
                InputSpec::Images {
                    height: 1,
                    width: 1,
                    channels: 1,
                    mean: vec![0.0],
                    std: vec![1.0],
                },
            );
            Workload {
                plan,
                manifest,
                train: split(all, &tr),
                val: split(all, &va),
                params: DeepParams {
                    optimizer: OptimizerKind::Adam,
                    epochs,
                    batch_size: 32,
                    learning_rate: 0.005,
                    weight_decay: 0.0,
                    target_accuracy: None,
                    seed: 1,
                },
            }
        }
    }

    /// The samples at `rows`.
    pub fn split(samples: &Samples, rows: &[usize]) -> Samples {
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

    /// The digits CNN of the route tests.
    pub fn digits_cnn() -> Value {
        json!({"layers": [
            {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
            {"type": "batchnorm"},
            {"type": "maxpool", "pool_size": 2},
            {"type": "flatten"},
            {"type": "dropout", "rate": 0.2},
            {"type": "output"}
        ]})
    }

    /// scikit-learn's digits from the fixture zip, as an upload reads them, standardized.
    pub fn digits(zip: &[u8]) -> Samples {
        let set = ::images::read_image_folder(zip, None).unwrap();
        let rows: Vec<usize> = (0..set.len()).collect();
        let (mean, std) = channel_stats(&set.pixels, set.pixels_per_image(), 1, &rows);
        let mut values = Vec::new();
        for i in 0..set.len() {
            image_floats(set.image(i), 8, 8, &mean, &std, &mut values);
        }
        Samples {
            inputs: Inputs::Floats {
                values,
                shape: vec![1, 8, 8],
            },
            targets: Targets::Classes {
                labels: set.labels.clone(),
                classes: set.classes.clone(),
            },
        }
    }

    /// `n` random 32×32×3 images (CIFAR's shape) in 10 classes: convolution throughput.
    pub fn random_images(n: usize) -> Samples {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        Samples {
            inputs: Inputs::Floats {
                values: (0..n * 3 * 32 * 32).map(|_| rng.random::<f32>()).collect(),
                shape: vec![3, 32, 32],
            },
            targets: Targets::Classes {
                labels: (0..n).map(|i| (i % 10) as u32).collect(),
                classes: (0..10).map(|i| i.to_string()).collect(),
            },
        }
    }
}
