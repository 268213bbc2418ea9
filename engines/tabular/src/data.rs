//! From a table to numbers: the stratified train/validation split, the encoder fitted on the
//! train split, and the row-major matrix the trainer consumes.
//!
//! Encoding, per feature column (the encoder only ever sees the train split, so validation
//! statistics never leak into training):
//! * numeric, integer, datetime (RFC 3339 → unix seconds): z = (x − μ) / σ with μ the train mean
//!   and σ the population standard deviation `sqrt(Σ(x − μ)² / n)` of the non-null train values
//!   (σ = 0 or no values → σ = 1); a null (or, in stored data, unparseable) cell is imputed with μ,
//!   so it encodes as 0.
//! * categorical, boolean: one-hot over the categories seen in train, in sorted order; a category
//!   never seen in train (and a null) encodes as all zeros, the same as "none of the known ones".
//! * the target, classification: its classes are the sorted distinct non-null train values;
//!   label = index. Regression: the number itself ([`Matrix::values`]); a network learns it
//!   standardized by the train mean and standard deviation ([`TargetScale`]).
//!
//! Gradient-boosted trees take the columns nearly raw ([`Style::Trees`]): numbers as they are
//! (datetimes as unix seconds), a null or unparseable cell as NaN (the trees learn where
//! missing values go), categories and booleans as the index of the sorted train category,
//! NaN when null or never seen in train.
//!
//! Columns a user would not pick are left out before encoding, as AutoGluon's and FLAML's
//! feature screens do, each listed in [`Encoder::dropped`] with its reason (see [`screen`]).

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::TabularError;
use synth::schema::parse_instant;
use synth::table::value_key;
use synth::DatasetColumn;
pub use synth::DroppedColumn;
use synth::Table;

/// What a model predicts: a class (classification) or a number (regression).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    #[default]
    Classification,
    Regression,
}

impl Task {
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

/// How columns become features: standardized and one-hot for networks, nearly raw for trees
/// (module docs).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    #[default]
    Network,
    Trees,
}

/// The train split's target mean and population standard deviation (1 when it is 0): a
/// network regresses `(y − mean) / std`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct TargetScale {
    pub mean: f64,
    pub std: f64,
}

/// Labeled rows as numbers, row-major: row `i` is `x[i * width .. (i + 1) * width]`. A
/// classification matrix labels rows in `y` (class indices); a regression one in `values`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matrix {
    pub x: Vec<f32>,
    pub y: Vec<u32>,
    pub rows: usize,
    pub width: usize,
    pub values: Vec<f64>,
}

impl Matrix {
    /// Row `i`'s features.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.width..(i + 1) * self.width]
    }

    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Matrix {
        let mut x = Vec::with_capacity(idx.len() * self.width);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        Matrix {
            x,
            y: if self.y.is_empty() {
                Vec::new()
            } else {
                idx.iter().map(|&i| self.y[i]).collect()
            },
            values: if self.values.is_empty() {
                Vec::new()
            } else {
                idx.iter().map(|&i| self.values[i]).collect()
            },
            rows: idx.len(),
            width: self.width,
        }
    }

    /// The first `rows` rows.
    pub fn head(&self, rows: usize) -> Matrix {
        let idx: Vec<usize> = (0..rows.min(self.rows)).collect();
        self.select(&idx)
    }
}

/// The rows of (train, validation) of a classification target; see [`split_rows_for`].
pub fn split_rows(
    table: &Table,
    target: &str,
    validation_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), TabularError> {
    split_rows_for(
        table,
        target,
        Task::Classification,
        validation_fraction,
        seed,
    )
}

/// The rows of (train, validation), stratified by the target's class, in table order.
/// A regression target is one stratum: all its rows shuffled together.
///
/// Rows with a null target (or, for regression, a non-numeric one) are dropped. Within each class (classes in sorted order, so the
/// result depends only on the data and the seed) the rows are shuffled with ChaCha8(seed) and
/// `n_val = round(n · validation_fraction)` of them go to validation, clamped to `[1, n − 1]`
/// when the class has n ≥ 2 rows (so it is on both sides); a class of one row stays in train.
/// Each side keeps the table's row order.
pub fn split_rows_for(
    table: &Table,
    target: &str,
    task: Task,
    validation_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), TabularError> {
    if !(validation_fraction > 0.0 && validation_fraction < 1.0) {
        return Err(TabularError::invalid(
            "validation_fraction",
            format!("must be between 0 and 1 (exclusive), got {validation_fraction}"),
        ));
    }
    let t = target_index(table, target)?;
    let mut by_class: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, row) in table.rows.iter().enumerate() {
        let cell = row.get(t).unwrap_or(&Value::Null);
        let key = match task {
            Task::Classification => value_key(cell),
            Task::Regression => number("numeric", cell).map(|_| String::new()),
        };
        if let Some(key) = key {
            by_class.entry(key).or_default().push(i);
        }
    }
    if task == Task::Regression {
        let n = by_class.values().map(Vec::len).sum::<usize>();
        if n < 2 {
            return Err(TabularError::Data(format!(
                "target {target:?} needs at least 2 rows with a number, found {n}"
            )));
        }
    } else if by_class.len() < 2 {
        return Err(TabularError::Data(format!(
            "target {target:?} needs at least 2 classes, found {}",
            by_class.len()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut train_idx = Vec::new();
    let mut val_idx = Vec::new();
    for rows in by_class.values_mut() {
        rows.shuffle(&mut rng);
        let n = rows.len();
        let n_val = if n < 2 {
            0
        } else {
            ((n as f64 * validation_fraction).round() as usize).clamp(1, n - 1)
        };
        val_idx.extend_from_slice(&rows[..n_val]);
        train_idx.extend_from_slice(&rows[n_val..]);
    }
    if val_idx.is_empty() {
        return Err(TabularError::Data(
            "too few rows: every class has a single row, none is left for validation".into(),
        ));
    }
    train_idx.sort_unstable();
    val_idx.sort_unstable();
    Ok((train_idx, val_idx))
}

/// Splits `table` into (train, validation), stratified by the target's class; see
/// [`split_rows`] for the rule.
pub fn split(
    table: &Table,
    target: &str,
    validation_fraction: f64,
    seed: u64,
) -> Result<(Table, Table), TabularError> {
    let (train_idx, val_idx) = split_rows(table, target, validation_fraction, seed)?;
    let pick = |idx: &[usize]| Table {
        columns: table.columns.clone(),
        rows: idx.iter().map(|&i| table.rows[i].clone()).collect(),
    };
    Ok((pick(&train_idx), pick(&val_idx)))
}

/// As [`split`], moving the rows instead of copying them: the worker never holds the
/// table twice.
pub fn split_owned(
    table: Table,
    target: &str,
    task: Task,
    validation_fraction: f64,
    seed: u64,
) -> Result<(Table, Table), TabularError> {
    let (train_idx, val_idx) = split_rows_for(&table, target, task, validation_fraction, seed)?;
    let mut side = vec![None; table.rows.len()];
    for &i in &train_idx {
        side[i] = Some(false);
    }
    for &i in &val_idx {
        side[i] = Some(true);
    }
    let mut train = Table {
        columns: table.columns.clone(),
        rows: Vec::with_capacity(train_idx.len()),
    };
    let mut val = Table {
        columns: table.columns,
        rows: Vec::with_capacity(val_idx.len()),
    };
    for (row, side) in table.rows.into_iter().zip(side) {
        match side {
            Some(false) => train.rows.push(row),
            Some(true) => val.rows.push(row),
            None => {}
        }
    }
    Ok((train, val))
}

fn target_index(table: &Table, target: &str) -> Result<usize, TabularError> {
    table
        .column_index(target)
        .ok_or_else(|| TabularError::Data(format!("target column {target:?} is not in the data")))
}

/// How one column becomes features.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "encoding", rename_all = "snake_case")]
pub enum FeatureEncoding {
    /// One standardized feature `(x − mean) / std`. `kind` is numeric, integer or datetime.
    Standardized {
        column: String,
        kind: String,
        mean: f64,
        std: f64,
    },
    /// One feature per train category (sorted); `kind` is categorical or boolean.
    OneHot {
        column: String,
        kind: String,
        categories: Vec<String>,
    },
    /// Trees: the number itself, NaN when missing. `kind` is numeric, integer or datetime.
    Raw { column: String, kind: String },
    /// Trees: the index of the train category (sorted), NaN when null or unseen.
    Code {
        column: String,
        kind: String,
        categories: Vec<String>,
    },
}

impl FeatureEncoding {
    fn column(&self) -> &str {
        match self {
            FeatureEncoding::Standardized { column, .. }
            | FeatureEncoding::OneHot { column, .. }
            | FeatureEncoding::Raw { column, .. }
            | FeatureEncoding::Code { column, .. } => column,
        }
    }

    fn width(&self) -> usize {
        match self {
            FeatureEncoding::OneHot { categories, .. } => categories.len(),
            _ => 1,
        }
    }

    /// Whether the feature is a category code (trees split it by sets, not thresholds).
    pub fn is_code(&self) -> bool {
        matches!(self, FeatureEncoding::Code { .. })
    }

    /// Writes this column's features for `value` into `out` (already zeroed, `width()` long).
    /// `strict` (prediction requests) rejects values of the wrong type; stored data is lenient
    /// and imputes them, since a stored column was typed when it was written.
    fn encode(&self, value: &Value, strict: bool, out: &mut [f32]) -> Result<(), String> {
        match self {
            FeatureEncoding::Standardized {
                kind, mean, std, ..
            } => {
                let x = match number(kind, value) {
                    Some(x) => x,
                    None if value.is_null() || !strict => *mean,
                    None => return Err(format!("expected a {kind} value, got {value}")),
                };
                let z = ((x - mean) / std) as f32;
                // The network computes in f32: a value it cannot represent standardized
                // would turn every output into NaN.
                if strict && !z.is_finite() {
                    return Err(format!(
                        "{x} is beyond what the model computes with: standardized ((x - {mean}) / {std}) it exceeds f32's range"
                    ));
                }
                out[0] = z;
            }
            FeatureEncoding::Raw { kind, .. } => {
                out[0] = match number(kind, value) {
                    Some(x) if strict && !(x as f32).is_finite() => {
                        return Err(format!("{x} is beyond f32's range"))
                    }
                    Some(x) => x as f32,
                    None if value.is_null() || !strict => f32::NAN,
                    None => return Err(format!("expected a {kind} value, got {value}")),
                };
            }
            FeatureEncoding::OneHot {
                kind, categories, ..
            }
            | FeatureEncoding::Code {
                kind, categories, ..
            } => {
                let code = self.is_code();
                if code {
                    out[0] = f32::NAN;
                }
                let key = match value {
                    Value::Null => return Ok(()),
                    Value::Bool(_) | Value::Number(_) | Value::String(_) => {
                        value_key(value).expect("scalar")
                    }
                    _ if !strict => return Ok(()),
                    other => return Err(format!("expected a {kind} value, got {other}")),
                };
                let key = if kind == "boolean" {
                    key.to_ascii_lowercase()
                } else {
                    key
                };
                if strict && kind == "boolean" && key != "true" && key != "false" {
                    return Err(format!("expected true or false, got {value}"));
                }
                // Unseen category: all zeros (one-hot), missing (a code).
                if let Ok(i) = categories.binary_search(&key) {
                    if code {
                        out[0] = i as f32;
                    } else {
                        out[i] = 1.0;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A cell of a numeric/integer/datetime column as a number: datetimes are RFC 3339 strings (or
/// `YYYY-MM-DD`) as unix seconds, or numbers taken as unix seconds; numbers may be numeric strings.
fn number(kind: &str, value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if kind == "datetime" => parse_instant(s).map(|t| t as f64),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

/// Below this many train rows, a column distinct in every row or matching the target is
/// common by chance, so no identifier or leak is inferred.
pub const SCREEN_MIN_ROWS: usize = 20;

/// Whether a column should be left out, judged on the train split (`cells` are its
/// non-null values, `labels` the target's class of the same rows, `rows` the split's size):
/// * `constant`: at most one distinct value (nothing to learn from);
/// * `identifier`: with at least [`SCREEN_MIN_ROWS`] rows, an integer column with a distinct
///   value in every row, all within a range at most twice the rows (a row number: the train
///   split of `1..=n` holds most of it), or a categorical column with a distinct value in
///   every row, or one whose every value is UUID-shaped (8-4-4-4-12 hex digits);
/// * `target_leak`: with at least [`SCREEN_MIN_ROWS`] rows, the column's values and the target's
///   classes map one-to-one (each value is always one class, each class always one value): a
///   copy of the target under another name.
///
/// Numeric and datetime columns distinct in every row are normal features and kept.
pub fn screen(
    name: &str,
    kind: &str,
    cells: &[&Value],
    labels: &[Option<String>],
    rows: usize,
) -> Option<DroppedColumn> {
    let drop = |reason: &str, detail: String| {
        Some(DroppedColumn {
            column: name.to_string(),
            reason: reason.to_string(),
            detail,
        })
    };
    let keys: Vec<Option<String>> = cells.iter().map(|v| value_key(v)).collect();
    let distinct: BTreeSet<&String> = keys.iter().flatten().collect();
    if distinct.len() <= 1 {
        let found = if distinct.is_empty() {
            "no value"
        } else {
            "one distinct value"
        };
        return drop("constant", format!("{found} in the train split"));
    }
    if rows < SCREEN_MIN_ROWS {
        return None;
    }
    let present = keys.iter().flatten().count();
    if kind == "integer" && distinct.len() == present && present == rows {
        let ints: Vec<i64> = cells
            .iter()
            .filter_map(|v| number(kind, v))
            .filter(|x| x.fract() == 0.0)
            .map(|x| x as i64)
            .collect();
        if ints.len() == rows {
            let (min, max) = (ints.iter().min().unwrap(), ints.iter().max().unwrap());
            // The train split of a row-numbered table holds most of its numbers: distinct
            // integers drawn from a range this narrow would almost surely repeat (about
            // rows / 4 collisions expected) unless they count rows.
            if max - min < 2 * rows as i64 {
                return drop(
                    "identifier",
                    format!(
                        "a distinct integer in every row, all within {min}..={max}: a row number"
                    ),
                );
            }
        }
    }
    if kind == "categorical" {
        if distinct.len() == present && present == rows {
            return drop(
                "identifier",
                format!("a distinct value in each of the {rows} rows"),
            );
        }
        if distinct.iter().all(|k| is_uuid(k)) {
            return drop("identifier", "every value is UUID-shaped".into());
        }
    }
    // One-to-one with the target: value → class and class → value are both functions.
    let mut class_of: BTreeMap<&String, &String> = BTreeMap::new();
    let mut value_of: BTreeMap<&String, &String> = BTreeMap::new();
    let mut paired = 0usize;
    for (key, label) in keys.iter().zip(labels) {
        let (Some(key), Some(label)) = (key, label) else {
            continue;
        };
        paired += 1;
        if *class_of.entry(key).or_insert(label) != label
            || *value_of.entry(label).or_insert(key) != key
        {
            return None;
        }
    }
    if paired >= SCREEN_MIN_ROWS && class_of.len() >= 2 {
        return drop(
            "target_leak",
            format!(
                "its {} values map one-to-one onto the target's classes in the train split",
                class_of.len()
            ),
        );
    }
    None
}

/// Mean and population standard deviation (0, 0 for no values).
fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// A regression target's copy: a numeric column whose values are an exact linear function
/// of the target on the train split (Pearson |r| ≥ 1 − 1e-9 over at least
/// [`SCREEN_MIN_ROWS`] rows where both are numbers), e.g. the target in other units.
fn linear_copy(
    name: &str,
    kind: &str,
    cells: &[&Value],
    target: &[Option<f64>],
) -> Option<DroppedColumn> {
    if target.is_empty() || !matches!(kind, "numeric" | "integer") {
        return None;
    }
    let pairs: Vec<(f64, f64)> = cells
        .iter()
        .zip(target)
        .filter_map(|(v, y)| Some((number(kind, v)?, (*y)?)))
        .collect();
    if pairs.len() < SCREEN_MIN_ROWS {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let r = sxy / (sxx * syy).sqrt();
    (r.abs() >= 1.0 - 1e-9).then(|| DroppedColumn {
        column: name.to_string(),
        reason: "target_leak".into(),
        detail: format!("a linear function of the target in the train split (Pearson r = {r:.6})"),
    })
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Which columns a request chose: exactly `only` (the screen is not applied to them), or every
/// column but `exclude` (and what the screen leaves out).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub only: Option<Vec<String>>,
    pub exclude: Vec<String>,
}

/// How an encoder is fitted: which columns, for which task, in which style.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FitOptions {
    pub selection: Selection,
    pub task: Task,
    pub style: Style,
}

/// Turns rows into features; fitted on the train split only (see the module docs for formulas).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Encoder {
    pub target: String,
    pub features: Vec<FeatureEncoding>,
    /// Classification: the target's classes. Empty for regression.
    pub classes: Vec<String>,
    /// Columns left out (see [`screen`]); `predict` ignores them in a row. Absent from
    /// artifacts saved before the screen existed.
    #[serde(default)]
    pub dropped: Vec<DroppedColumn>,
    #[serde(default)]
    pub task: Task,
    /// Regression: the train target's mean and standard deviation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_scale: Option<TargetScale>,
}

impl Encoder {
    /// Fits on `train`. `columns` are the dataset's typed columns; the target among them is
    /// skipped, and every other one must be in the table.
    pub fn fit(
        train: &Table,
        columns: &[DatasetColumn],
        target: &str,
    ) -> Result<Encoder, TabularError> {
        Self::fit_with(train, columns, target, &FitOptions::default())
    }

    /// [`Encoder::fit`] on the columns `selection` chose; the others are listed in `dropped`
    /// (`not_selected`, `excluded`).
    pub fn fit_selected(
        train: &Table,
        columns: &[DatasetColumn],
        target: &str,
        selection: &Selection,
    ) -> Result<Encoder, TabularError> {
        let options = FitOptions {
            selection: selection.clone(),
            ..FitOptions::default()
        };
        Self::fit_with(train, columns, target, &options)
    }

    /// The encoder `options` ask for (see [`FitOptions`]).
    pub fn fit_with(
        train: &Table,
        columns: &[DatasetColumn],
        target: &str,
        options: &FitOptions,
    ) -> Result<Encoder, TabularError> {
        let selection = &options.selection;
        let t = target_index(train, target)?;
        let (classes, target_scale, numbers) = match options.task {
            Task::Classification => {
                let classes: Vec<String> = train
                    .rows
                    .iter()
                    .filter_map(|row| row.get(t).and_then(value_key))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if classes.len() < 2 {
                    return Err(TabularError::Data(format!(
                        "target {target:?} needs at least 2 classes in the train split, found {}",
                        classes.len()
                    )));
                }
                (classes, None, Vec::new())
            }
            Task::Regression => {
                let ys: Vec<Option<f64>> = train
                    .rows
                    .iter()
                    .map(|row| number("numeric", row.get(t).unwrap_or(&Value::Null)))
                    .collect();
                let present: Vec<f64> = ys.iter().flatten().copied().collect();
                if present.len() < 2 {
                    return Err(TabularError::Data(format!(
                        "target {target:?} needs at least 2 numbers in the train split, found {}",
                        present.len()
                    )));
                }
                let (mean, std) = mean_std(&present);
                (
                    Vec::new(),
                    Some(TargetScale {
                        mean,
                        std: if std > 0.0 && std.is_finite() {
                            std
                        } else {
                            1.0
                        },
                    }),
                    ys,
                )
            }
        };
        // The screen's one-to-one test is for classes; a numeric target is checked for a
        // linear copy instead (below).
        let labels: Vec<Option<String>> = match options.task {
            Task::Classification => train
                .rows
                .iter()
                .map(|row| row.get(t).and_then(value_key))
                .collect(),
            Task::Regression => vec![None; train.rows.len()],
        };
        let mut features = Vec::new();
        let mut dropped = Vec::new();
        for (c, column) in columns.iter().enumerate() {
            // An uploaded column with no value at all carries nothing to learn from.
            if column.name == target || column.kind == "empty" {
                continue;
            }
            let i = train.column_index(&column.name).ok_or_else(|| {
                TabularError::Data(format!("column {:?} is not in the data", column.name))
            })?;
            let kind = column.kind.as_str();
            let present: Vec<&Value> = train
                .rows
                .iter()
                .map(|row| row.get(i).unwrap_or(&Value::Null))
                .collect();
            let non_null: Vec<&Value> = present.iter().copied().filter(|v| !v.is_null()).collect();
            let labels_of_non_null: Vec<Option<String>> = present
                .iter()
                .zip(&labels)
                .filter(|(v, _)| !v.is_null())
                .map(|(_, l)| l.clone())
                .collect();
            let by_request = |reason: &str, detail: &str| DroppedColumn {
                column: column.name.clone(),
                reason: reason.into(),
                detail: detail.into(),
            };
            match &selection.only {
                Some(only) if !only.contains(&column.name) => {
                    dropped.push(by_request("not_selected", "not in model_config.features"));
                    continue;
                }
                Some(_) => {}
                None if selection.exclude.contains(&column.name) => {
                    dropped.push(by_request("excluded", "named in model_config.exclude"));
                    continue;
                }
                None => {
                    let rows = train.rows.len();
                    if let Some(d) =
                        screen(&column.name, kind, &non_null, &labels_of_non_null, rows)
                    {
                        dropped.push(d);
                        continue;
                    }
                    if let Some(d) = linear_copy(&column.name, kind, &present, &numbers) {
                        dropped.push(d);
                        continue;
                    }
                }
            }
            let cells = non_null.iter().copied();
            let name = column.name.clone();
            let encoding = match (kind, options.style) {
                ("numeric" | "integer" | "datetime", Style::Trees) => FeatureEncoding::Raw {
                    column: name,
                    kind: kind.to_string(),
                },
                ("numeric" | "integer" | "datetime", Style::Network) => {
                    let xs: Vec<f64> = cells.filter_map(|v| number(kind, v)).collect();
                    let (mean, std) = mean_std(&xs);
                    FeatureEncoding::Standardized {
                        column: name,
                        kind: kind.to_string(),
                        mean,
                        std: if std > 0.0 && std.is_finite() { std } else { 1.0 },
                    }
                }
                ("categorical" | "boolean", style) => {
                    let categories: BTreeSet<String> = cells
                        .filter_map(value_key)
                        .map(|k| {
                            if kind == "boolean" {
                                k.to_ascii_lowercase()
                            } else {
                                k
                            }
                        })
                        .collect();
                    let (column, kind, categories) =
                        (name, kind.to_string(), categories.into_iter().collect());
                    match style {
                        Style::Network => FeatureEncoding::OneHot {
                            column,
                            kind,
                            categories,
                        },
                        Style::Trees => FeatureEncoding::Code {
                            column,
                            kind,
                            categories,
                        },
                    }
                }
                (other, _) => {
                    return Err(TabularError::invalid(
                        format!("columns[{c}].kind"),
                        format!(
                        "unknown kind {other:?}; use numeric, integer, categorical, boolean or datetime"
                    ),
                    ))
                }
            };
            features.push(encoding);
        }
        if features.is_empty() {
            let why: Vec<String> = dropped
                .iter()
                .map(|d| format!("{} ({}: {})", d.column, d.reason, d.detail))
                .collect();
            return Err(TabularError::Data(format!(
                "no column is usable as a feature; left out: {}",
                if why.is_empty() {
                    "none".to_string()
                } else {
                    why.join(", ")
                }
            )));
        }
        Ok(Encoder {
            target: target.to_string(),
            features,
            classes,
            dropped,
            task: options.task,
            target_scale,
        })
    }

    /// Outputs of a network on these features: one logit per class, or one value.
    pub fn outputs(&self) -> usize {
        match self.task {
            Task::Classification => self.classes.len(),
            Task::Regression => 1,
        }
    }

    /// The encoding style the features are in.
    pub fn style(&self) -> Style {
        if self.features.iter().any(|f| {
            matches!(
                f,
                FeatureEncoding::Raw { .. } | FeatureEncoding::Code { .. }
            )
        }) {
            Style::Trees
        } else {
            Style::Network
        }
    }

    /// Each encoded column with its number of features, in feature order.
    pub fn column_widths(&self) -> Vec<(String, usize)> {
        self.features
            .iter()
            .map(|f| (f.column().to_string(), f.width()))
            .collect()
    }

    /// Number of features per row.
    pub fn width(&self) -> usize {
        self.features.iter().map(FeatureEncoding::width).sum()
    }

    /// The target's classes; a label is an index into this.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// One name per feature: the column for standardized ones, `column=category` for one-hot.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.width());
        for f in &self.features {
            match f {
                FeatureEncoding::OneHot {
                    column, categories, ..
                } => names.extend(categories.iter().map(|c| format!("{column}={c}"))),
                other => names.push(other.column().to_string()),
            }
        }
        names
    }

    /// Encodes a labeled table (a split). Rows with a null target are skipped; a class not seen in
    /// train is a `Data` error naming it.
    pub fn encode(&self, table: &Table) -> Result<Matrix, TabularError> {
        let t = target_index(table, &self.target)?;
        let mut idx = Vec::with_capacity(self.features.len());
        for f in &self.features {
            idx.push(table.column_index(f.column()).ok_or_else(|| {
                TabularError::Data(format!("column {:?} is not in the data", f.column()))
            })?);
        }
        let width = self.width();
        let mut m = Matrix {
            width,
            ..Matrix::default()
        };
        for row in &table.rows {
            let cell = row.get(t).unwrap_or(&Value::Null);
            match self.task {
                Task::Classification => {
                    let Some(class) = value_key(cell) else {
                        continue;
                    };
                    let label = self.classes.binary_search(&class).map_err(|_| {
                        TabularError::Data(format!(
                            "class {class:?} of {:?} was not in the train split",
                            self.target
                        ))
                    })?;
                    m.y.push(label as u32);
                }
                Task::Regression => {
                    let Some(value) = number("numeric", cell) else {
                        continue;
                    };
                    m.values.push(value);
                }
            }
            let start = m.x.len();
            m.x.resize(start + width, 0.0);
            let mut at = start;
            for (f, &i) in self.features.iter().zip(&idx) {
                let w = f.width();
                let value = row.get(i).unwrap_or(&Value::Null);
                f.encode(value, false, &mut m.x[at..at + w])
                    .expect("lenient encoding never fails");
                at += w;
            }
            m.rows += 1;
        }
        Ok(m)
    }

    /// The column feature `i` (an index into a row of `width()` features) comes from.
    pub fn column_of_feature(&self, mut i: usize) -> Option<&str> {
        for f in &self.features {
            if i < f.width() {
                return Some(f.column());
            }
            i -= f.width();
        }
        None
    }

    /// Encodes prediction rows (JSON objects keyed by column name) into `rows.len() × width()`
    /// row-major features. A missing feature is imputed; the target key and the dropped columns
    /// are ignored; a wrong type or an unknown key is `Invalid` naming `rows[i].key`.
    pub fn encode_rows(&self, rows: &[Value]) -> Result<Vec<f32>, TabularError> {
        let width = self.width();
        let mut x = vec![0.0f32; rows.len() * width];
        for (r, row) in rows.iter().enumerate() {
            let object = row
                .as_object()
                .ok_or_else(|| TabularError::invalid(format!("rows[{r}]"), "not an object"))?;
            for key in object.keys() {
                let known = key == &self.target
                    || self.features.iter().any(|f| f.column() == key)
                    || self.dropped.iter().any(|d| &d.column == key);
                if !known {
                    return Err(TabularError::invalid(
                        format!("rows[{r}].{key}"),
                        "unknown feature; the model was trained without it",
                    ));
                }
            }
            let mut at = r * width;
            for f in &self.features {
                let w = f.width();
                let value = object.get(f.column()).unwrap_or(&Value::Null);
                f.encode(value, true, &mut x[at..at + w])
                    .map_err(|message| {
                        TabularError::invalid(format!("rows[{r}].{}", f.column()), message)
                    })?;
                at += w;
            }
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::col;
    use serde_json::json;

    /// 40 rows: a row number, a constant, a relabelled copy of the target, a UUID per row, a
    /// shuffled code that repeats, and two real features.
    fn screened_table() -> Table {
        let rows = (0..40)
            .map(|i| {
                let class = if (i * 7) % 5 < 2 { "yes" } else { "no" };
                vec![
                    json!(100 + (i * 17) % 40), // a permutation of 100..=139
                    json!("v1"),
                    json!(if class == "yes" { "Y" } else { "N" }),
                    json!(format!("{:08x}-aaaa-4bbb-8ccc-{:012x}", i, i * 31)),
                    json!(["a", "b", "c"][i % 3]),
                    json!(i as f64 * 0.37 % 3.1),
                    json!(class),
                ]
            })
            .collect();
        Table {
            columns: ["row", "constant", "copy", "uuid", "code", "x", "label"]
                .map(String::from)
                .to_vec(),
            rows,
        }
    }

    #[test]
    fn the_screen_leaves_out_identifiers_constants_and_copies_of_the_target() {
        let columns = [
            col("row", "integer"),
            col("constant", "categorical"),
            col("copy", "categorical"),
            col("uuid", "categorical"),
            col("code", "categorical"),
            col("x", "numeric"),
            col("label", "categorical"),
        ];
        let enc = Encoder::fit(&screened_table(), &columns, "label").unwrap();
        let dropped: Vec<(&str, &str)> = enc
            .dropped
            .iter()
            .map(|d| (d.column.as_str(), d.reason.as_str()))
            .collect();
        assert_eq!(
            dropped,
            [
                ("row", "identifier"),
                ("constant", "constant"),
                ("copy", "target_leak"),
                ("uuid", "identifier"),
            ]
        );
        assert_eq!(enc.feature_names(), ["code=a", "code=b", "code=c", "x"]);
        // A prediction row may still carry the left-out columns.
        let row = json!({"row": 5, "uuid": "x", "constant": "v1", "code": "a", "x": 1.0});
        assert_eq!(enc.encode_rows(&[row]).unwrap().len(), 4);
    }

    #[test]
    fn small_tables_and_real_numbers_are_not_screened_as_identifiers() {
        let id = |n: usize| (0..n).map(|i| json!(i)).collect::<Vec<_>>();
        let labels = |n: usize| {
            (0..n)
                .map(|i| Some(["a", "b"][i % 2].to_string()))
                .collect::<Vec<_>>()
        };
        let ten = id(10);
        let cells: Vec<&Value> = ten.iter().collect();
        assert_eq!(
            screen("id", "integer", &cells, &labels(10), 10),
            None,
            "too few rows"
        );
        let floats: Vec<Value> = (0..30).map(|i| json!(i as f64 * 1.5)).collect();
        let cells: Vec<&Value> = floats.iter().collect();
        assert_eq!(screen("x", "numeric", &cells, &labels(30), 30), None);
        // Integers distinct in every row but not a run (incomes) are a feature.
        let incomes: Vec<Value> = (0..30).map(|i| json!(1000 + i * i)).collect();
        let cells: Vec<&Value> = incomes.iter().collect();
        assert_eq!(screen("income", "integer", &cells, &labels(30), 30), None);
    }

    #[test]
    fn nothing_left_to_learn_from_is_an_error_that_says_why() {
        let table = Table {
            columns: vec!["c".into(), "label".into()],
            rows: (0..30)
                .map(|i| vec![json!(1), json!(["a", "b"][i % 2])])
                .collect(),
        };
        let err = Encoder::fit(
            &table,
            &[col("c", "integer"), col("label", "categorical")],
            "label",
        )
        .unwrap_err();
        assert!(err.to_string().contains("c (constant"), "{err}");
    }

    fn table() -> Table {
        Table::from_csv(
            "amount,color,ok,at,label\n\
             1,red,true,2024-01-01T00:00:00Z,a\n\
             3,blue,false,2024-01-02T00:00:00Z,b\n\
             ,red,true,2024-01-03T00:00:00Z,a\n\
             5,green,,2024-01-04T00:00:00Z,b\n",
        )
        .unwrap()
    }

    fn columns() -> Vec<DatasetColumn> {
        vec![
            col("amount", "numeric"),
            col("color", "categorical"),
            col("ok", "boolean"),
            col("at", "datetime"),
            col("label", "categorical"),
        ]
    }

    #[test]
    fn encoder_standardizes_imputes_and_one_hots() {
        let e = Encoder::fit(&table(), &columns(), "label").unwrap();
        assert_eq!(e.classes(), ["a", "b"]);
        assert_eq!(
            e.feature_names(),
            [
                "amount",
                "color=blue",
                "color=green",
                "color=red",
                "ok=false",
                "ok=true",
                "at"
            ]
        );
        assert_eq!(e.width(), 7);
        let m = e.encode(&table()).unwrap();
        assert_eq!(m.rows, 4);
        assert_eq!(m.y, [0, 1, 0, 1]);
        // amount: mean 3, population std sqrt(8/3).
        let s = (8.0f64 / 3.0).sqrt();
        assert!((m.row(0)[0] as f64 - (-2.0 / s)).abs() < 1e-6);
        assert_eq!(m.row(2)[0], 0.0, "null imputed with the mean");
        assert_eq!(&m.row(1)[1..4], &[1.0, 0.0, 0.0]);
        assert_eq!(&m.row(3)[4..6], &[0.0, 0.0], "null boolean is all zeros");
        // at: days 0..3 after 2024-01-01 → mean 1.5 days; std sqrt(1.25) days.
        let z = (0.0 - 1.5) / 1.25f64.sqrt();
        assert!((m.row(0)[6] as f64 - z).abs() < 1e-5);
        // Prediction rows encode exactly like table rows.
        let x = e
            .encode_rows(&[json!({"amount": 1, "color": "red", "ok": true,
                "at": "2024-01-01T00:00:00Z", "label": "ignored"})])
            .unwrap();
        assert_eq!(x, m.row(0));
        // Missing → imputed; unseen category → zeros.
        let x = e.encode_rows(&[json!({"color": "purple"})]).unwrap();
        assert_eq!(x, vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn encoder_errors_name_the_field() {
        let e = Encoder::fit(&table(), &columns(), "label").unwrap();
        let err = e
            .encode_rows(&[json!({"amount": 1}), json!({"amount": "lots"})])
            .unwrap_err();
        assert!(
            matches!(err, TabularError::Invalid { ref field, .. } if field == "rows[1].amount"),
            "{err}"
        );
        let err = e.encode_rows(&[json!({"colour": "red"})]).unwrap_err();
        assert!(
            matches!(err, TabularError::Invalid { ref field, .. } if field == "rows[0].colour")
        );
        let err = e.encode_rows(&[json!({"ok": "maybe"})]).unwrap_err();
        assert!(matches!(err, TabularError::Invalid { ref field, .. } if field == "rows[0].ok"));
        let err = e.encode_rows(&[json!({"at": "yesterday"})]).unwrap_err();
        assert!(matches!(err, TabularError::Invalid { ref field, .. } if field == "rows[0].at"));
        let err = e.encode_rows(&[json!([1, 2])]).unwrap_err();
        assert!(matches!(err, TabularError::Invalid { ref field, .. } if field == "rows[0]"));
        let mut unseen = table();
        unseen.rows[0][4] = json!("c");
        let err = e.encode(&unseen).unwrap_err();
        assert!(
            matches!(err, TabularError::Data(ref m) if m.contains("\"c\"")),
            "{err}"
        );
        let err = Encoder::fit(&table(), &[col("amount", "money")], "label").unwrap_err();
        assert!(
            matches!(err, TabularError::Invalid { ref field, .. } if field == "columns[0].kind")
        );
        assert!(matches!(
            Encoder::fit(&table(), &columns(), "nope"),
            Err(TabularError::Data(_))
        ));
    }

    #[test]
    fn split_is_stratified_seeded_and_drops_null_targets() {
        let mut text = String::from("x,y\n");
        for i in 0..100 {
            let y = if i < 80 { "big" } else { "small" };
            text.push_str(&format!("{i},{y}\n"));
        }
        text.push_str("100,\n");
        let t = Table::from_csv(&text).unwrap();
        let (train, val) = split(&t, "y", 0.25, 3).unwrap();
        assert_eq!(
            split_owned(t.clone(), "y", Task::Classification, 0.25, 3).unwrap(),
            (train.clone(), val.clone()),
            "moving the rows splits them the same"
        );
        assert_eq!(train.rows.len() + val.rows.len(), 100);
        let small = |t: &Table| t.rows.iter().filter(|r| r[1] == json!("small")).count();
        assert_eq!((small(&train), small(&val)), (15, 5));
        assert_eq!(val.rows.len(), 25);
        let (train2, _) = split(&t, "y", 0.25, 3).unwrap();
        assert_eq!(train, train2);
        let (train3, _) = split(&t, "y", 0.25, 4).unwrap();
        assert_ne!(train, train3);
        // A two-row class is on both sides even with a tiny fraction.
        let t = Table::from_csv("x,y\n1,a\n2,a\n3,b\n4,b\n5,b\n").unwrap();
        let (train, val) = split(&t, "y", 0.01, 1).unwrap();
        assert_eq!((train.rows.len(), val.rows.len()), (3, 2));
    }

    #[test]
    fn split_rejects_one_class_and_too_few_rows() {
        let one = Table::from_csv("x,y\n1,a\n2,a\n3,\n").unwrap();
        assert!(matches!(
            split(&one, "y", 0.2, 0),
            Err(TabularError::Data(_))
        ));
        let singletons = Table::from_csv("x,y\n1,a\n2,b\n").unwrap();
        assert!(matches!(
            split(&singletons, "y", 0.5, 0),
            Err(TabularError::Data(_))
        ));
        assert!(matches!(
            split(&one, "y", 1.0, 0),
            Err(TabularError::Invalid { ref field, .. }) if field == "validation_fraction"
        ));
        assert!(matches!(
            split(&one, "z", 0.2, 0),
            Err(TabularError::Data(_))
        ));
    }
}
