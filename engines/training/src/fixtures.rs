//! Test data: seeded generated tables and the breast-cancer fixture.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde_json::{json, Value};

use super::data::{split, Encoder, Matrix};
use synth::DatasetColumn;
use synth::Table;

/// Two Gaussian blobs (σ = 1) centered at (−2, −2) and (2, 2), plus a categorical column that
/// carries no signal. The Bayes error is Φ(−2√2) ≈ 0.2%.
pub fn blobs(rows: usize, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let colors = ["red", "green", "blue"];
    let rows = (0..rows)
        .map(|i| {
            let class = i % 2;
            let c = if class == 0 { -2.0 } else { 2.0 };
            vec![
                json!(c + noise.sample(&mut rng)),
                json!(c + noise.sample(&mut rng)),
                json!(colors[rng.random_range(0..3)]),
                json!(if class == 0 { "no" } else { "yes" }),
            ]
        })
        .collect();
    Table {
        columns: ["x1", "x2", "color", "label"].map(String::from).to_vec(),
        rows,
    }
}

/// XOR: x1, x2 uniform in [−1, 1], label "same" when they have the same sign. No linear
/// boundary does better than chance.
pub fn xor(rows: usize, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows = (0..rows)
        .map(|_| {
            let (a, b): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
            vec![
                json!(a),
                json!(b),
                json!(if a * b > 0.0 { "same" } else { "different" }),
            ]
        })
        .collect();
    Table {
        columns: ["x1", "x2", "label"].map(String::from).to_vec(),
        rows,
    }
}

/// scikit-learn's copy of UCI Breast Cancer Wisconsin (Diagnostic); see tests/fixtures/README.md.
pub fn breast_cancer() -> Table {
    Table::from_csv(include_str!("../../../tests/fixtures/breast_cancer.csv")).unwrap()
}

/// Column kinds as stored: numeric when every non-null cell is a number, else categorical.
pub fn columns(table: &Table) -> Vec<DatasetColumn> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, name)| DatasetColumn {
            name: name.clone(),
            kind: if table
                .rows
                .iter()
                .all(|r| r[i].is_number() || r[i].is_null())
            {
                "numeric".into()
            } else {
                "categorical".into()
            },
            reason: None,
            words: None,
        })
        .collect()
}

/// Split 80/20 with seed 7, fit the encoder on train, encode both.
pub fn encoded(table: &Table, target: &str) -> (Matrix, Matrix, Encoder) {
    let (train, val) = split(table, target, 0.2, 7).unwrap();
    let enc = Encoder::fit(&train, &columns(table), target).unwrap();
    (enc.encode(&train).unwrap(), enc.encode(&val).unwrap(), enc)
}

/// A table's rows as JSON objects, as a prediction request sends them.
pub fn json_rows(table: &Table) -> Vec<Value> {
    table
        .rows
        .iter()
        .map(|r| {
            Value::Object(
                table
                    .columns
                    .iter()
                    .cloned()
                    .zip(r.iter().cloned())
                    .collect(),
            )
        })
        .collect()
}

/// A regression table: y = 3·x1 − 2·x2 + 4·[color = red] + N(0, 0.5²), with every 10th x1
/// missing and a numeric column of pure noise.
pub fn linear_target(rows: usize, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 0.5).unwrap();
    let colors = ["red", "green", "blue"];
    let rows = (0..rows)
        .map(|i| {
            let (x1, x2): (f64, f64) = (rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0));
            let color = colors[rng.random_range(0..3)];
            let y = 3.0 * x1 - 2.0 * x2
                + if color == "red" { 4.0 } else { 0.0 }
                + noise.sample(&mut rng);
            vec![
                if i % 10 == 0 { Value::Null } else { json!(x1) },
                json!(x2),
                json!(color),
                json!(rng.random_range(0.0..1.0)),
                json!(y),
            ]
        })
        .collect();
    Table {
        columns: ["x1", "x2", "color", "noise", "y"]
            .map(String::from)
            .to_vec(),
        rows,
    }
}

/// Split 80/20 with seed 7 for `task`, fit the encoder in `style`, encode both.
pub fn encoded_for(
    table: &Table,
    target: &str,
    task: crate::Task,
    style: crate::Style,
) -> (Matrix, Matrix, Encoder) {
    let (train_idx, val_idx) = crate::split_rows_for(table, target, task, 0.2, 7).unwrap();
    let pick = |idx: &[usize]| Table {
        columns: table.columns.clone(),
        rows: idx.iter().map(|&i| table.rows[i].clone()).collect(),
    };
    let (train, val) = (pick(&train_idx), pick(&val_idx));
    let options = crate::FitOptions {
        task,
        style,
        ..crate::FitOptions::default()
    };
    let enc = Encoder::fit_with(&train, &columns(table), target, &options).unwrap();
    (enc.encode(&train).unwrap(), enc.encode(&val).unwrap(), enc)
}
