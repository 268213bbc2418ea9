//! Synthetic-data engine benchmark: generation plus every quality metric, rows written to a
//! CSV sink in memory-less mode (io::sink), so the figure is the engine's own cost.
//!
//! 1. The spec's fraud example (builtin designer schema), 10,000 rows, stratified: median of
//!    repeated runs.
//! 2. The same schema, 1,000,000 rows; and the same rows written to each download format (CSV,
//!    JSON Lines, Parquet) in memory, each timed alone, with its size.
//! 3. `fit <real.csv> <target> <out.csv> <runs>`: fit on a real table and sample as many
//!    rows to a CSV (bench/sdv_compare.py runs it beside SDV on scikit-learn's breast-cancer
//!    table); `score <real.csv> <synthetic.csv> <target>`: the project's quality score of any
//!    synthetic sample, so SDV's sample is scored by the same metric.
//!
//! 4. `conditions <real.csv> <target> <conditions.json> <count> <out.csv> <runs>`: fit once,
//!    then sample `count` rows meeting the conditions (bench/conditions_compare.py runs it
//!    beside SDV's conditional sampling); only this, not the benchmarks above.
//!
//! 5. `sequences <real.csv> <key> <index> <rows> <out.csv>`: fit a sequence model and write
//!    `rows` rows (bench/sequences_compare.py runs it beside SDV's PAR), with the process's
//!    peak memory; `sequences-score <real.csv> <synthetic.csv> <key> <index>`: the sequence
//!    quality of any sample, so PAR's is scored by the same formulas.
//!
//! 6. `constraints <real.csv> <target> <constraints.json> <out.csv>`: fit and sample as many
//!    rows as the table has under the constraints (bench/constraints_compare.py runs it beside
//!    SDV's constraint-augmented generation).
//!
//! Run: `bench/run synth [fit|score ...]`. Prints JSON.

use std::time::Instant;

use serde_json::json;
use synth::{
    self, Balance, CsvSink, Generator, JsonlSink, ParquetSink, ParquetType, QualityAccumulator,
    Reference, Table,
};

/// The 1,000,000 rows generated once, then written to each format in memory: ms and bytes.
fn formats(schema: &synth::DataSchema, rows: u64) -> serde_json::Value {
    let all: Vec<synth::Row> = Generator::new(schema, 7, Balance::Stratified, rows)
        .expect("valid schema")
        .collect();
    let header = schema.header();
    let t = Instant::now();
    let mut csv = CsvSink::new(Vec::new(), &header).expect("sink");
    all.iter().for_each(|r| csv.write_row(r).expect("write"));
    let csv = (
        t.elapsed().as_secs_f64() * 1000.0,
        csv.finish().expect("csv").len(),
    );
    let t = Instant::now();
    let mut jsonl = JsonlSink::new(Vec::new(), &header).expect("sink");
    all.iter().for_each(|r| jsonl.write_row(r).expect("write"));
    let jsonl = (
        t.elapsed().as_secs_f64() * 1000.0,
        jsonl.finish().expect("jsonl").len(),
    );
    let t = Instant::now();
    let mut parquet =
        ParquetSink::new(Vec::new(), &header, ParquetType::of_schema(schema)).expect("sink");
    all.iter()
        .for_each(|r| parquet.write_row(r).expect("write"));
    let bytes = parquet.finish().expect("parquet");
    let parquet_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    // The whole file: the upload bound (`MAX_READ_CELLS`) is for requests, not this read-back.
    let (_, back) = synth::parquet_file::read_rows_within(bytes.clone(), usize::MAX).expect("read");
    assert_eq!(back.len() as u64, rows);
    let read_ms = t.elapsed().as_secs_f64() * 1000.0;
    json!({"rows": rows, "columns": header.len(),
        "csv": {"write_ms": csv.0, "bytes": csv.1},
        "jsonl": {"write_ms": jsonl.0, "bytes": jsonl.1},
        "parquet": {"write_ms": parquet_ms, "bytes": bytes.len(), "read_back_ms": read_ms}})
}

fn run(
    schema: &synth::DataSchema,
    rows: u64,
    seed: u64,
    reference: Option<&Table>,
) -> (f64, synth::Quality) {
    let started = Instant::now();
    let gen = Generator::new(schema, seed, Balance::Stratified, rows).expect("valid schema");
    let mut sink = CsvSink::new(std::io::sink(), &schema.header()).expect("sink");
    let mut metrics = QualityAccumulator::with_balance(schema, seed, Balance::Stratified);
    for row in gen {
        metrics.push(&row);
        sink.write_row(&row).expect("write");
    }
    let quality = metrics.finish(match reference {
        Some(t) => Reference::Sample(t),
        None => Reference::Spec,
    });
    (started.elapsed().as_secs_f64() * 1000.0, quality)
}

fn read_table(path: &str) -> Table {
    Table::from_csv(&std::fs::read_to_string(path).expect("table CSV")).expect("parse CSV")
}

/// Fit on the real table and sample as many rows, written to CSV; median of `runs` timings.
fn fit_and_sample(real: &str, target: &str, out_path: &str, runs: usize) -> serde_json::Value {
    let table = read_table(real);
    let n = table.rows.len() as u64;
    let mut fit_ms = Vec::new();
    let mut sample_ms = Vec::new();
    for run in 0..runs {
        let t = Instant::now();
        let (fitted, _) = synth::fit(&table, Some(target)).expect("fit");
        fit_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let file = std::io::BufWriter::new(std::fs::File::create(out_path).expect("out"));
        let mut sink = CsvSink::new(file, &fitted.header()).expect("sink");
        for row in Generator::new(&fitted, run as u64, Balance::Natural, n).expect("gen") {
            sink.write_row(&row).expect("write");
        }
        sink.finish().expect("flush");
        sample_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (fit, sample) = (median(&mut fit_ms), median(&mut sample_ms));
    json!({"rows": n, "columns": table.columns.len(), "fit_ms": fit, "sample_ms": sample, "total_ms": fit + sample, "runs": runs, "sample_csv": out_path})
}

/// The project's realism score (SDMetrics-style QualityReport) of `synthetic` against `real`.
fn score(real: &str, synthetic: &str, target: &str) -> serde_json::Value {
    let real_table = read_table(real);
    let synthetic_table = read_table(synthetic);
    let (schema, _) = synth::fit(&real_table, Some(target)).expect("fit");
    let header = schema.header();
    let index: Vec<usize> = header
        .iter()
        .map(|h| synthetic_table.column_index(h).expect("same columns"))
        .collect();
    let mut metrics = QualityAccumulator::new(&schema, 1);
    for row in &synthetic_table.rows {
        let cells: Vec<synth::Cell> = index
            .iter()
            .map(|i| synth::Cell::from_json(&row[*i]))
            .collect();
        metrics.push(&cells);
    }
    let q = metrics.finish(Reference::Sample(&real_table));
    let shapes =
        q.column_shapes.iter().map(|c| c.score).sum::<f64>() / q.column_shapes.len().max(1) as f64;
    json!({"quality_score": q.realism_score, "column_shapes": shapes, "column_pair_trends": q.column_pair_trends})
}

/// Fit once, then `count` conditioned rows to CSV; median of `runs` sampling timings.
fn conditioned(args: &[String]) -> serde_json::Value {
    let (real, target, conditions, count, out_path, runs) = (
        &args[1],
        &args[2],
        &args[3],
        args[4].parse::<u64>().expect("count"),
        &args[5],
        args[6].parse::<usize>().expect("runs"),
    );
    let table = read_table(real);
    let conditions: Vec<synth::Condition> =
        serde_json::from_str(conditions).expect("conditions JSON");
    let t = Instant::now();
    let (fitted, _) = synth::fit(&table, Some(target)).expect("fit");
    let fit_ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut sample_ms = Vec::new();
    let mut report = None;
    for run in 0..runs {
        let t = Instant::now();
        let file = std::io::BufWriter::new(std::fs::File::create(out_path).expect("out"));
        let mut sink = CsvSink::new(file, &fitted.header()).expect("sink");
        let gen = Generator::new(&fitted, run as u64, Balance::Natural, count).expect("gen");
        let mut rows = synth::Constrained::new(gen, &fitted, &[], &conditions, Some(&table))
            .expect("conditions bind");
        for row in rows.by_ref() {
            sink.write_row(&row).expect("write");
        }
        if let Some(e) = rows.failure() {
            return json!({"error": e.to_string(), "fit_ms": fit_ms});
        }
        sink.finish().expect("flush");
        sample_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        report = rows.conditions_report();
    }
    sample_ms.sort_by(f64::total_cmp);
    json!({"fit_ms": fit_ms, "sample_ms": sample_ms[sample_ms.len() / 2], "runs": runs,
           "rows": count, "report": report})
}

/// The process's peak resident memory (VmHWM), in MiB.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn sequences(args: &[String]) -> serde_json::Value {
    let table = read_table(&args[1]);
    let (key, index) = (&args[2], Some(args[3].as_str()).filter(|s| !s.is_empty()));
    let rows: u64 = args[4].parse().expect("rows");
    let t = Instant::now();
    let model = synth::sequence::fit_sequences(&table, key, index).expect("fit");
    let fit_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let file = std::io::BufWriter::new(std::fs::File::create(&args[5]).expect("out"));
    let mut sink = CsvSink::new(file, &model.header).expect("sink");
    for row in synth::sequence::SequenceGenerator::new(&model, 1, rows).expect("gen") {
        sink.write_row(&row).expect("write");
    }
    sink.finish().expect("flush");
    let sample_ms = t.elapsed().as_secs_f64() * 1000.0;
    json!({"fit_ms": fit_ms, "sample_ms": sample_ms, "total_ms": fit_ms + sample_ms,
           "rows": rows, "peak_mib": peak_mib()})
}

fn sequences_score(args: &[String]) -> serde_json::Value {
    let real = read_table(&args[1]);
    let synthetic = read_table(&args[2]);
    let (key, index) = (&args[3], Some(args[4].as_str()).filter(|s| !s.is_empty()));
    let model = synth::sequence::fit_sequences(&real, key, index).expect("fit");
    let at: Vec<usize> = model
        .header
        .iter()
        .map(|h| synthetic.column_index(h).expect("same columns"))
        .collect();
    let rows: Vec<synth::Row> = synthetic
        .rows
        .iter()
        .map(|r| at.iter().map(|&j| synth::Cell::from_json(&r[j])).collect())
        .collect();
    let (quality, sequence) = model.quality(&real, &rows, 1);
    json!({"sequence": sequence, "column_shapes": quality.column_shapes.iter().map(|c| c.score).sum::<f64>() / quality.column_shapes.len().max(1) as f64})
}

fn constrained(args: &[String]) -> serde_json::Value {
    let table = read_table(&args[1]);
    let constraints: Vec<synth::Constraint> =
        serde_json::from_str(&args[3]).expect("constraints JSON");
    let t = Instant::now();
    let (fitted, _) = synth::fit(&table, Some(&args[2])).expect("fit");
    let fit_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let file = std::io::BufWriter::new(std::fs::File::create(&args[4]).expect("out"));
    let mut sink = CsvSink::new(file, &fitted.header()).expect("sink");
    let n = table.rows.len() as u64;
    let gen = Generator::new(&fitted, 1, Balance::Natural, n).expect("gen");
    let mut rows =
        synth::Constrained::new(gen, &fitted, &constraints, &[], Some(&table)).expect("bind");
    for row in rows.by_ref() {
        sink.write_row(&row).expect("write");
    }
    if let Some(e) = rows.failure() {
        return json!({"error": e.to_string()});
    }
    sink.finish().expect("flush");
    let sample_ms = t.elapsed().as_secs_f64() * 1000.0;
    json!({"fit_ms": fit_ms, "sample_ms": sample_ms, "total_ms": fit_ms + sample_ms,
           "report": rows.report()})
}

/// utility <train.csv> <holdout.csv> <target> <classification|regression> <rows> <out.csv>
/// [other synthetic.csv ...]: fits the generator on the train rows (a class target named, as
/// `sample_rows` with `target`; a numeric one predicted as `utility.target`),
/// writes `rows` generated rows to out.csv, and times the utility report of those rows and of
/// each other synthetic table against the same train and holdout rows.
fn utility(args: &[String]) -> serde_json::Value {
    let (train, holdout) = (read_table(&args[1]), read_table(&args[2]));
    let target = &args[3];
    let classification = args[4] == "classification";
    let rows: u64 = args[5].parse().expect("rows");
    let t = Instant::now();
    let (fitted, _) = synth::fit(&train, classification.then_some(target.as_str())).expect("fit");
    let file = std::io::BufWriter::new(std::fs::File::create(&args[6]).expect("out"));
    let mut sink = CsvSink::new(file, &fitted.header()).expect("sink");
    for row in Generator::new(&fitted, 1, Balance::Natural, rows).expect("gen") {
        sink.write_row(&row).expect("write");
    }
    sink.finish().expect("flush");
    let generate_ms = t.elapsed().as_secs_f64() * 1000.0;
    let (columns, task) =
        tabular::utility::task_for(&shared::datasets::column_kinds(&fitted), target).expect("task");
    let reports: Vec<serde_json::Value> = args[6..]
        .iter()
        .map(|path| {
            let synthetic = read_table(path);
            let t = Instant::now();
            let report = tabular::utility::utility_report(&tabular::utility::UtilityInput {
                real: &train,
                holdout: &holdout,
                synthetic: &synthetic,
                columns: &columns,
                target,
                task,
                seed: 1,
            })
            .expect("utility");
            json!({"synthetic": path, "utility_ms": t.elapsed().as_secs_f64() * 1000.0, "report": report})
        })
        .collect();
    json!({"generate_ms": generate_ms, "reports": reports})
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = match args.first().map(String::as_str) {
        Some("conditions") => Some(conditioned(&args)),
        Some("sequences") => Some(sequences(&args)),
        Some("sequences-score") => Some(sequences_score(&args)),
        Some("constraints") => Some(constrained(&args)),
        Some("utility") => Some(utility(&args)),
        _ => None,
    };
    if let Some(out) = only {
        println!("{}", serde_json::to_string(&out).expect("json"));
        return;
    }
    let schema = synth::design(
        "Binary classification model for fraud detection",
        Some("Transaction data with features: amount, merchant, time, location"),
    );
    let mut small: Vec<f64> = (0..30).map(|i| run(&schema, 10_000, i, None).0).collect();
    small.sort_by(f64::total_cmp);
    let (big_ms, big_quality) = run(&schema, 1_000_000, 7, None);
    let mut out = json!({
        "fraud_10k_rows_ms": {"median": small[small.len() / 2], "min": small[0], "max": small[small.len() - 1], "runs": small.len()},
        "fraud_1m_rows_ms": big_ms,
        "fraud_1m_quality": {"balance_ratio": big_quality.balance_ratio, "diversity": big_quality.diversity_score, "realism": big_quality.realism_score},
        "fraud_1m_formats": formats(&schema, 1_000_000),
    });

    match args.first().map(String::as_str) {
        // fit <real.csv> <target> <out.csv> <runs>: fit and sample as many rows as the table has.
        Some("fit") => {
            out["fit_and_sample"] =
                fit_and_sample(&args[1], &args[2], &args[3], args[4].parse().expect("runs"))
        }
        // score <real.csv> <synthetic.csv> <target>: the project's quality score of any sample.
        Some("score") => out["score"] = score(&args[1], &args[2], &args[3]),
        _ => {}
    }
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
}
