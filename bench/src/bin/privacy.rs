//! The privacy report's speed, for `bench/run privacy`: generates "real" and "synthetic" rows
//! of the spec's fraud schema (two seeds of the generator), writes them as CSV for
//! `bench/privacy_compare.py`, reads them back (so both sides compare the same values) and
//! times `synth::privacy::report` at each size (synthetic × real rows), one JSON line each.
//!
//!     privacy OUT_DIR

use std::time::Instant;

use serde_json::json;
use synth::privacy::{report, Compared, Measure};
use synth::{Balance, CsvSink, Generator, Table};

const SIZES: [(usize, usize); 4] = [
    (1_000, 1_000),
    (1_000, 10_000),
    (10_000, 10_000),
    (10_000, 1_000),
];

fn main() {
    let dir = std::env::args().nth(1).expect("usage: privacy OUT_DIR");
    let schema = synth::design(
        "Binary classifier for fraud detection",
        Some("transactions with amount, merchant, hour"),
    );
    let header = schema.header();
    for (name, seed) in [("real", 1), ("synthetic", 2)] {
        let file = std::fs::File::create(format!("{dir}/privacy_{name}.csv")).unwrap();
        let mut sink = CsvSink::new(file, &header).unwrap();
        for row in Generator::new(&schema, seed, Balance::Natural, 10_000).unwrap() {
            sink.write_row(&row).unwrap();
        }
        sink.finish().unwrap();
    }
    let read = |name: &str| {
        Table::from_csv(&std::fs::read_to_string(format!("{dir}/privacy_{name}.csv")).unwrap())
            .unwrap()
    };
    let (real, synthetic) = (read("real"), read("synthetic"));
    let measures: Vec<Measure> = header
        .iter()
        .map(|c| {
            match schema
                .columns
                .iter()
                .find(|s| &s.name == c)
                .map(|s| &s.kind)
            {
                Some(synth::ColumnKind::Numeric { .. } | synth::ColumnKind::Integer { .. }) => {
                    Measure::Numeric
                }
                _ => Measure::Categorical,
            }
        })
        .collect();
    let integer: Vec<bool> = header
        .iter()
        .map(|c| {
            matches!(
                schema
                    .columns
                    .iter()
                    .find(|s| &s.name == c)
                    .map(|s| &s.kind),
                Some(synth::ColumnKind::Integer { .. })
            )
        })
        .collect();
    for (s, r) in SIZES {
        let started = Instant::now();
        let rep = report(&Compared {
            columns: &header,
            measures: &measures,
            integer: &integer,
            real: &real.rows[..r],
            synthetic: &synthetic.rows[..s],
            holdout: None,
            seed: 0,
        });
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{}",
            json!({"synthetic_rows": s, "real_rows": r, "seconds": seconds,
                "dcr_median": rep.dcr_median, "dcr_p5": rep.dcr_p5,
                "exact_match_rate": rep.exact_match_rate, "nndr_median": rep.nndr_median,
                "baseline_score": rep.dcr_baseline_protection.score,
                "columns": header, "measures": measures})
        );
    }
}
