use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::*;
use crate::Table;

const M: Measure = Measure::Numeric;
const C: Measure = Measure::Categorical;

/// The distance by the definition, without the tree: the oracle.
fn scan(reference: &[Vec<Value>], measures: &[Measure], row: &[Value]) -> f64 {
    let index = Index::new(reference, measures);
    let q = index.encode(row);
    reference
        .iter()
        .map(|r| distance(&index.axes, &q, &index.encode(r)))
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn distances_follow_sdmetrics_rules() {
    // x ranges 0..10 in the reference; c is categorical; k is constant (range 0).
    let reference = vec![
        vec![json!(0.0), json!("a"), json!(5)],
        vec![json!(10.0), json!("b"), json!(5)],
        vec![Value::Null, Value::Null, json!(5)],
    ];
    let measures = [M, C, M];
    let index = Index::new(&reference, &measures);
    let d = |row: Value| index.nearest_two(row.as_array().unwrap()).0;
    // Exact copy.
    assert_eq!(d(json!([0.0, "a", 5])), 0.0);
    // 2.5 away of a range of 10, same category, same constant: (0.25 + 0 + 0) / 3.
    assert!((d(json!([2.5, "a", 5])) - 0.25 / 3.0).abs() < 1e-12);
    // Beyond the range the number's distance caps at 1; another category is 1.
    assert!((d(json!([100.0, "a", 5])) - 1.0 / 3.0).abs() < 1e-12);
    assert!((d(json!([0.0, "z", 5])) - 1.0 / 3.0).abs() < 1e-12);
    // A constant column: any other value is 1.
    assert!((d(json!([0.0, "a", 6])) - 1.0 / 3.0).abs() < 1e-12);
    // Both missing is 0, one missing is 1 (the third reference row matches nulls).
    assert_eq!(d(json!([null, null, 5])), 0.0);
    assert!((d(json!([null, "a", 5])) - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
    assert_eq!(percentile(&[0.0, 10.0], 5.0), Some(0.5));
}

#[test]
fn the_tree_finds_what_a_full_scan_finds() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let row = |rng: &mut ChaCha8Rng| -> Vec<Value> {
        let cells = [
            json!(rng.random_range(0..5)),
            json!(rng.random::<f64>() * 3.0 - 1.0),
            json!(["x", "y", "z"][rng.random_range(0..3)]),
            json!(rng.random::<bool>()),
            json!(7),
        ];
        cells
            .into_iter()
            .enumerate()
            .map(|(j, v)| {
                if j < 4 && rng.random::<f64>() < 0.1 {
                    Value::Null
                } else {
                    v
                }
            })
            .collect()
    };
    let measures = [M, M, C, C, M];
    let reference: Vec<Vec<Value>> = (0..400).map(|_| row(&mut rng)).collect();
    let index = Index::new(&reference, &measures);
    for _ in 0..300 {
        let mut q = row(&mut rng);
        if rng.random::<f64>() < 0.2 {
            q[1] = json!(rng.random::<f64>() * 40.0 - 20.0); // far outside the range
        }
        let tree = index.nearest_two(&q).0;
        assert!(
            (tree - scan(&reference, &measures, &q)).abs() < 1e-11,
            "{q:?}"
        );
    }
}

fn read(name: &str) -> Table {
    let path = format!(
        "{}/src/testdata/privacy/{name}.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    Table::from_csv(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn numbers_match_sdmetrics_on_penguins() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/src/testdata/privacy/expected.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let (real, holdout, synthetic, random) = (
        read("real"),
        read("holdout"),
        read("synthetic"),
        read("random"),
    );
    let numeric: Vec<&str> = expected["numeric"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let measures: Vec<Measure> = real
        .columns
        .iter()
        .map(|c| if numeric.contains(&c.as_str()) { M } else { C })
        .collect();
    let close = |got: &[f64], key: &str| {
        let want: Vec<f64> = expected[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(got.len(), want.len(), "{key}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-6, "{key}[{i}]: {g} vs {w}");
        }
    };
    let to_real = Index::new(&real.rows, &measures);
    let dcr = to_real.dcr(&synthetic.rows);
    close(&dcr, "dcr_synthetic_to_real");
    let dcr_random = to_real.dcr(&random.rows);
    close(&dcr_random, "dcr_random_to_real");
    let to_holdout = Index::new(&holdout.rows, &measures).dcr(&synthetic.rows);
    close(&to_holdout, "dcr_synthetic_to_holdout");

    let b = BaselineProtection::of(&dcr, &dcr_random);
    let want = &expected["baseline_protection"];
    assert!((b.score.unwrap() - want["score"].as_f64().unwrap()).abs() < 1e-6);
    let medians = &want["median_DCR_to_real_data"];
    assert!((b.median_dcr_synthetic - medians["synthetic_data"].as_f64().unwrap()).abs() < 1e-6);
    assert!((b.median_dcr_random - medians["random_data_baseline"].as_f64().unwrap()).abs() < 1e-6);
    let o = OverfittingProtection::of(&dcr, &to_holdout, holdout.rows.len());
    let want = &expected["overfitting_protection"];
    assert!((o.score - want["score"].as_f64().unwrap()).abs() < 1e-6);
    let shares = &want["synthetic_data_percentages"];
    assert!((o.closer_to_training - shares["closer_to_training"].as_f64().unwrap()).abs() < 1e-6);
}

#[test]
fn the_report_counts_copies_and_compares_with_random_rows() {
    let (real, holdout, synthetic) = (read("real"), read("holdout"), read("synthetic"));
    let measures: Vec<Measure> = real
        .columns
        .iter()
        .map(|c| {
            if ["species", "island", "sex"].contains(&c.as_str()) {
                C
            } else {
                M
            }
        })
        .collect();
    let integer: Vec<bool> = real.columns.iter().map(|c| c == "year").collect();
    let r = report(&Compared {
        columns: &real.columns,
        measures: &measures,
        integer: &integer,
        real: &real.rows,
        synthetic: &synthetic.rows,
        holdout: Some(&holdout.rows),
        seed: 4,
    });
    // Rows 0-4 are copies; a moved row can still land on a real one after rounding.
    assert!(r.exact_match_rate >= 5.0 / 150.0, "{r:?}");
    assert!(r.dcr_p5 <= r.dcr_median);
    // Near copies of real rows: far closer to them than random rows are.
    let b = &r.dcr_baseline_protection;
    assert!(b.score.unwrap() < 0.2 && b.median_dcr_random > 0.1, "{b:?}");
    let o = r.dcr_overfitting_protection.as_ref().unwrap();
    assert!(o.closer_to_training > 0.8 && o.score < 0.4, "{o:?}");
    assert!(r.nndr_median > 0.0 && r.nndr_median <= 1.0);
    assert_eq!((r.synthetic_rows, r.real_rows), (150, 200));
    // The random rows keep each column's range and categories.
    let rows = random_rows(&real.rows, &measures, &integer, 500, 1);
    let year = real.columns.iter().position(|c| c == "year").unwrap();
    assert!(rows
        .iter()
        .all(|r| r[year].is_null() || (2007..=2009).contains(&r[year].as_i64().unwrap())));
    let species: Vec<&Value> = rows
        .iter()
        .map(|r| &r[0])
        .filter(|v| !v.is_null())
        .collect();
    assert!(species
        .iter()
        .all(|v| ["Adelie", "Chinstrap", "Gentoo"].contains(&v.as_str().unwrap())));
}
