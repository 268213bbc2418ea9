//! A layer-list network job: the image dataset read from its safetensors file (a stratified
//! split, per-channel normalization from the training part), a table's text column (a
//! stratified split, a vocabulary from the training part) or a series (windows in time
//! order), and the network trained as the record's plan says.

use std::sync::Arc;

use serde_json::Value;
use shared::clock;
use shared::records::{
    secondary, DatasetRecord, ForecastSpec, ModelRecord, NetworkInfo, TextSpec, TrainingConfig,
};
use shared::state::AppState;
use synth::Table;
use training::deep::series::{self, Cut};
use training::deep::{
    self, DeepManifest, DeepParams, DeepTrained, InputSpec, Inputs, Samples, Targets, Vocabulary,
};

use super::progress::{Budget, Checkpointing, Interrupt, JobObserver, Tracker};
use super::run::{joined, Ending, Failure};

/// Reads the dataset and trains the network of `model`.
pub(crate) async fn train(
    state: &AppState,
    tracker: Arc<Tracker>,
    model: ModelRecord,
    info: NetworkInfo,
    budget: Budget,
    from: Option<training::Checkpoint>,
) -> Ending {
    skip_enhancements(&tracker);
    let run = RunTime {
        state: state.clone(),
        budget,
        from,
        pause: state.config.worker.test_batch_pause,
    };
    if let Some(spec) = model.forecast.clone() {
        return train_series(state, tracker, model, info, spec, run).await;
    }
    if let Some(spec) = model.text.clone() {
        return train_text(state, tracker, model, info, spec, run).await;
    }
    let bytes = match super::run::load_body(state, &model, DatasetRecord::images_key).await {
        Ok((_, bytes)) => bytes,
        Err(f) => return Ending::Failed(f),
    };
    let t = tracker.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Ending, Failure> {
        let set = images::ImageSet::from_safetensors(&bytes)
            .map_err(|e| Failure::new("invalid_data", e))?;
        drop(bytes);
        let cfg = &model.training_config;
        let (train_rows, val_rows) = deep::stratified_split(
            &set.labels,
            set.classes.len(),
            cfg.validation_split,
            cfg.seed,
        )
        .map_err(|e| Failure::new("invalid_data", e))?;
        let per = set.pixels_per_image();
        let (mean, std) = deep::channel_stats(&set.pixels, per, set.channels, &train_rows);
        let samples = |rows: &[usize]| {
            let mut values = Vec::with_capacity(rows.len() * per);
            for &i in rows {
                deep::image_floats(
                    set.image(i),
                    set.height,
                    set.width,
                    &mean,
                    &std,
                    &mut values,
                );
            }
            Samples {
                inputs: Inputs::Floats {
                    values,
                    shape: vec![set.channels, set.height, set.width],
                },
                targets: Targets::Classes {
                    labels: rows.iter().map(|&i| set.labels[i]).collect(),
                    classes: set.classes.clone(),
                },
            }
        };
        let (train, val) = (samples(&train_rows), samples(&val_rows));
        let plan = plan_of(&info)?;
        loaded(
            &t,
            format!(
                "{} training and {} validation images of {}x{}x{}, {} classes; a network of \
                 {} layers and {} parameters",
                train_rows.len(),
                val_rows.len(),
                set.height,
                set.width,
                set.channels,
                set.classes.len(),
                plan.layers.len(),
                plan.params
            ),
        );
        let manifest = DeepManifest::new(
            info.architecture.clone(),
            &plan,
            training::Task::Classification,
            set.classes.clone(),
            InputSpec::Images {
                height: set.height,
                width: set.width,
                channels: set.channels,
                mean: mean.clone(),
                std: std.clone(),
            },
        );
        drop(set);
        let params = deep_params(cfg, model.target_accuracy);
        classifier_ending(fit_network(
            &t,
            &plan,
            manifest,
            (&train, &val),
            &params,
            &run,
        ))
    });
    joined(work.await)
}

/// The record's plan, made again from its layer list (as it was made at submission).
fn plan_of(info: &NetworkInfo) -> Result<analysis::network::Plan, Failure> {
    analysis::network::plan(&info.architecture, &info.input_shape, info.outputs)
        .map_err(|e| Failure::new("invalid_architecture", e))
}

/// The loading step, with what was read.
fn loaded(t: &Tracker, message: String) {
    t.update(|j| j.step(secondary::LOADING_DATA, clock::now(), Some(message)));
}

/// A classifier's end: the trained network, or why it stopped.
fn classifier_ending(
    fitted: Result<Result<DeepTrained, Ending>, Failure>,
) -> Result<Ending, Failure> {
    Ok(match fitted? {
        Ok(trained) => Ending::Network(Box::new(trained), None),
        Err(ending) => ending,
    })
}

/// What a network run needs besides its data: where checkpoints go, the invocation's and
/// the job's ends, the checkpoint to continue from, the test hook's pause.
pub(crate) struct RunTime {
    state: AppState,
    budget: Budget,
    from: Option<training::Checkpoint>,
    pause: Option<std::time::Duration>,
}

/// Fits (or continues) the planned network; a paused or interrupted run is the `Err`
/// ending.
fn fit_network(
    t: &Tracker,
    plan: &analysis::network::Plan,
    manifest: DeepManifest,
    (train, val): (&Samples, &Samples),
    params: &DeepParams,
    run: &RunTime,
) -> Result<Result<DeepTrained, Ending>, Failure> {
    if let Err(i) = t.runtime_step(secondary::TRAINING, "training") {
        return Ok(Err(Ending::Interrupted(i)));
    }
    let label = super::checkpoints::label(&serde_json::json!({
        "params": params, "manifest": manifest, "train": train.len(), "val": val.len(),
    }));
    if let Some(cp) = &run.from {
        super::checkpoints::check_label(cp, &label)?;
    }
    let mut observer = JobObserver::new(t, run.budget.job_end, true)
        .with_pause(run.pause)
        .resumable(Checkpointing::new(&run.state, run.budget));
    let resume = training::Resume {
        label: &label,
        from: run.from.as_ref(),
    };
    let fitted = deep::fit_from(plan, manifest, train, val, params, &mut observer, &resume)
        .map_err(|e| Failure::new("training_error", e))?;
    let training::Run::Done(trained) = fitted else {
        return Ok(Err(super::run::hand_on_ending(&mut observer)));
    };
    Ok(match observer.interrupted.take() {
        Some(i @ (Interrupt::Lost(_) | Interrupt::Store(_))) => Err(Ending::Interrupted(i)),
        _ => Ok(*trained),
    })
}

/// The enhancement steps tune a tabular network classifier; a layer-list job says so.
fn skip_enhancements(tracker: &Tracker) {
    let steps = tracker.snapshot().ai_enhancements_scheduled;
    if steps.is_empty() {
        return;
    }
    let why = "the enhancement steps tune a tabular network classifier; this job trains a \
               layer-list network";
    tracker.update(|j| {
        j.enhancements = Some(serde_json::Value::Array(
            steps
                .iter()
                .map(|s| serde_json::json!({"step": s, "status": "skipped", "reason": why}))
                .collect(),
        ))
    });
}

/// A text classifier: the table's text column as word ids, with the target's classes.
async fn train_text(
    state: &AppState,
    tracker: Arc<Tracker>,
    model: ModelRecord,
    info: NetworkInfo,
    spec: TextSpec,
    run: RunTime,
) -> Ending {
    let (dataset, csv) = match super::run::load_dataset(state, &model).await {
        Ok(found) => found,
        Err(f) => return Ending::Failed(f),
    };
    let t = tracker.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Ending, Failure> {
        let invalid = |e: String| Failure::new("invalid_data", e);
        let table = Table::from_csv(&csv).map_err(|e| invalid(e.to_string()))?;
        drop(csv);
        let target = dataset
            .target
            .as_deref()
            .ok_or_else(|| invalid("the dataset has no target column".into()))?;
        let labeled = labeled_texts(&table, &spec.column, target).map_err(invalid)?;
        let cfg = &model.training_config;
        let (train_rows, val_rows) = deep::stratified_split(
            &labeled.labels,
            labeled.classes.len(),
            cfg.validation_split,
            cfg.seed,
        )
        .map_err(|e| invalid(e.to_string()))?;
        // The vocabulary sees the training texts only, so validation words it lacks are
        // unknown to it as a new text's would be.
        let vocabulary = Vocabulary::build(
            train_rows.iter().map(|&i| labeled.texts[i].as_str()),
            spec.vocab_size,
        )
        .map_err(|e| invalid(e.to_string()))?;
        let coverage = vocabulary.coverage(val_rows.iter().map(|&i| labeled.texts[i].as_str()));
        let cut = train_rows
            .iter()
            .filter(|&&i| text::word_count(&labeled.texts[i]) > spec.max_length)
            .count();
        let samples = |rows: &[usize]| {
            let mut ids = Vec::with_capacity(rows.len() * spec.max_length);
            for &i in rows {
                vocabulary.encode(&labeled.texts[i], spec.max_length, &mut ids);
            }
            Samples {
                inputs: Inputs::Tokens {
                    ids,
                    len: spec.max_length,
                },
                targets: Targets::Classes {
                    labels: rows.iter().map(|&i| labeled.labels[i]).collect(),
                    classes: labeled.classes.clone(),
                },
            }
        };
        let (train, val) = (samples(&train_rows), samples(&val_rows));
        let plan = plan_of(&info)?;
        loaded(
            &t,
            format!(
                "{} training and {} validation texts of {:?}, {} classes{}; a vocabulary of \
                 {} words from the training texts (it knows {:.1} % of the validation texts' \
                 words); the first {} words of each text ({} training texts cut); a network \
                 of {} parameters",
                train_rows.len(),
                val_rows.len(),
                spec.column,
                labeled.classes.len(),
                if labeled.skipped > 0 {
                    format!(" ({} rows without a label left out)", labeled.skipped)
                } else {
                    String::new()
                },
                vocabulary.words.len(),
                coverage * 100.0,
                spec.max_length,
                cut,
                plan.params
            ),
        );
        let manifest = DeepManifest::new(
            info.architecture.clone(),
            &plan,
            training::Task::Classification,
            labeled.classes.clone(),
            InputSpec::Text {
                column: spec.column.clone(),
                max_length: spec.max_length,
                vocabulary,
            },
        );
        drop(labeled);
        let params = deep_params(cfg, model.target_accuracy);
        classifier_ending(fit_network(
            &t,
            &plan,
            manifest,
            (&train, &val),
            &params,
            &run,
        ))
    });
    joined(work.await)
}

/// A table's texts with their class ids (classes sorted by name); rows without a label
/// are left out and counted, an empty text reads as no words.
struct LabeledTexts {
    texts: Vec<String>,
    labels: Vec<u32>,
    classes: Vec<String>,
    skipped: usize,
}

fn labeled_texts(table: &Table, column: &str, target: &str) -> Result<LabeledTexts, String> {
    let at = |name: &str| {
        table
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| format!("the dataset has no column {name:?}"))
    };
    let (xi, yi) = (at(column)?, at(target)?);
    let mut pairs = Vec::with_capacity(table.rows.len());
    let mut skipped = 0;
    for row in &table.rows {
        let Some(label) = row.get(yi).and_then(synth::table::value_key) else {
            skipped += 1;
            continue;
        };
        let text = match row.get(xi) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        pairs.push((text, label));
    }
    let classes: Vec<String> = pairs
        .iter()
        .map(|(_, l)| l.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if classes.len() < 2 {
        return Err(format!(
            "the target {target:?} has {} class among its labeled rows; a classifier needs two",
            classes.len()
        ));
    }
    let (texts, labels) = pairs
        .into_iter()
        .map(|(text, label)| {
            let id = classes.binary_search(&label).unwrap_or_default() as u32;
            (text, id)
        })
        .unzip();
    Ok(LabeledTexts {
        texts,
        labels,
        classes,
        skipped,
    })
}

/// A forecaster: the table's target column in time order, cut into windows.
async fn train_series(
    state: &AppState,
    tracker: Arc<Tracker>,
    model: ModelRecord,
    info: NetworkInfo,
    spec: ForecastSpec,
    run: RunTime,
) -> Ending {
    let (_, csv) = match super::run::load_dataset(state, &model).await {
        Ok(found) => found,
        Err(f) => return Ending::Failed(f),
    };
    let t = tracker.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Ending, Failure> {
        let invalid = |e: String| Failure::new("invalid_data", e);
        let table = Table::from_csv(&csv).map_err(|e| invalid(e.to_string()))?;
        drop(csv);
        let (values, filled) = series_values(&table, &spec).map_err(invalid)?;
        let cfg = &model.training_config;
        let cut = Cut {
            window: spec.window,
            horizon: spec.horizon,
        };
        let w = series::windows(&values, cut, cfg.validation_split)
            .map_err(|e| invalid(e.to_string()))?;
        let plan = plan_of(&info)?;
        loaded(
            &t,
            format!(
                "{} values of {:?} ordered by {:?}{}: {} training and {} validation windows \
                 of {} answering {}; a network of {} parameters",
                values.len(),
                spec.target,
                spec.time_column,
                if filled > 0 {
                    format!(" ({filled} gaps filled linearly)")
                } else {
                    String::new()
                },
                w.train.len(),
                w.val.len(),
                spec.window,
                spec.horizon,
                plan.params
            ),
        );
        let manifest = DeepManifest::new(
            info.architecture.clone(),
            &plan,
            training::Task::Regression,
            Vec::new(),
            InputSpec::Series {
                window: spec.window,
                horizon: spec.horizon,
                mean: w.mean,
                std: w.std,
            },
        );
        let params = deep_params(cfg, None);
        let trained = match fit_network(&t, &plan, manifest, (&w.train, &w.val), &params, &run)? {
            Ok(trained) => trained,
            Err(ending) => return Ok(ending),
        };
        let first = w.val_start - spec.window;
        let mut predicted = Vec::with_capacity(w.val.len() * spec.horizon);
        for k in 0..w.val.len() {
            let recent = &values[first + k..first + k + spec.window];
            predicted.extend(
                trained
                    .model
                    .forecast(recent)
                    .map_err(|e| Failure::new("training_error", e))?,
            );
        }
        let report = series::report(&values, cut, &w, &predicted, spec.season);
        Ok(Ending::Network(Box::new(trained), Some(Box::new(report))))
    });
    joined(work.await)
}

/// The target column in time order (numbers first, then ISO 8601 text, as text orders it),
/// its empty cells filled by linear interpolation (the nearest value at either end), and how
/// many were filled.
fn series_values(table: &Table, spec: &ForecastSpec) -> Result<(Vec<f64>, usize), String> {
    let at = |name: &str| {
        table
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| format!("the dataset has no column {name:?}"))
    };
    let (ti, yi) = (at(&spec.time_column)?, at(&spec.target)?);
    let number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let mut rows = Vec::with_capacity(table.rows.len());
    for (r, row) in table.rows.iter().enumerate() {
        let key = match &row[ti] {
            Value::Null => {
                return Err(format!(
                    "row {}: the time column {:?} is empty",
                    r + 1,
                    spec.time_column
                ))
            }
            v => match number(v) {
                Some(x) => (0u8, x, String::new()),
                None => (1, 0.0, v.as_str().unwrap_or_default().to_string()),
            },
        };
        let y = match &row[yi] {
            Value::Null => f64::NAN,
            v => number(v)
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("row {}: {:?} is not a number: {v}", r + 1, spec.target))?,
        };
        rows.push((key, y));
    }
    rows.sort_by(|a, b| {
        (a.0 .0, a.0 .1, &a.0 .2)
            .partial_cmp(&(b.0 .0, b.0 .1, &b.0 .2))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut values: Vec<f64> = rows.into_iter().map(|(_, y)| y).collect();
    let known: Vec<usize> = (0..values.len()).filter(|&i| !values[i].is_nan()).collect();
    if known.is_empty() {
        return Err(format!("the column {:?} has no values", spec.target));
    }
    let filled = values.len() - known.len();
    for i in 0..values.len() {
        if values[i].is_nan() {
            let after = known.partition_point(|&k| k < i);
            values[i] = match (after.checked_sub(1).map(|a| known[a]), known.get(after)) {
                (Some(a), Some(&b)) => {
                    values[a] + (values[b] - values[a]) * (i - a) as f64 / (b - a) as f64
                }
                (Some(a), None) => values[a],
                (None, Some(&b)) => values[b],
                (None, None) => unreachable!("known is not empty"),
            };
        }
    }
    Ok((values, filled))
}

/// The record's training configuration as the network trainer takes it.
fn deep_params(cfg: &TrainingConfig, target_accuracy: Option<f64>) -> DeepParams {
    DeepParams {
        optimizer: cfg.optimizer,
        epochs: cfg.epochs,
        batch_size: cfg.batch_size,
        learning_rate: cfg.learning_rate,
        weight_decay: cfg.weight_decay,
        target_accuracy,
        seed: cfg.seed,
    }
}
