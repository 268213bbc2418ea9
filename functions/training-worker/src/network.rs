//! A layer-list network job: the image dataset read from its safetensors file, a stratified
//! split, per-channel normalization from the training part, and the network trained as the
//! record's plan says.

use std::sync::Arc;
use std::time::Instant;

use shared::clock;
use shared::records::{secondary, ModelRecord, NetworkInfo};
use shared::state::AppState;
use training::deep::{self, DeepManifest, DeepParams, InputSpec, Inputs, Samples, Targets};

use super::progress::{JobObserver, Tracker};
use super::run::{Ending, Failure};

/// Reads the dataset and trains the network of `model`.
pub(crate) async fn train(
    state: &AppState,
    tracker: Arc<Tracker>,
    model: ModelRecord,
    info: NetworkInfo,
    deadline: Instant,
) -> Ending {
    let id = model.dataset.clone().unwrap_or_default();
    let dataset = match state.store.get_dataset(&id).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            return Ending::Failed(Failure::new(
                "dataset_missing",
                format!("dataset {id} does not exist"),
            ))
        }
        Err(e) => return Ending::Failed(Failure::new("store_error", e)),
    };
    let bytes = match state.blobs.get(&dataset.images_key()).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Ending::Failed(Failure::new(
                "dataset_missing",
                format!("the images of {id} are missing"),
            ))
        }
        Err(e) => return Ending::Failed(Failure::new("blob_error", e)),
    };
    // The enhancement steps tune a tabular network classifier; a layer-list job says so.
    let steps = tracker.snapshot().ai_enhancements_scheduled;
    if !steps.is_empty() {
        let why = "the enhancement steps tune a tabular network classifier; this job trains a \
                   layer-list network on images";
        tracker.update(|j| {
            j.enhancements = Some(serde_json::Value::Array(
                steps
                    .iter()
                    .map(|s| serde_json::json!({"step": s, "status": "skipped", "reason": why}))
                    .collect(),
            ))
        });
    }
    let pause = state.config.worker.test_batch_pause;
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
        let plan = analysis::network::plan(&info.architecture, &info.input_shape, info.outputs)
            .map_err(|e| Failure::new("invalid_architecture", e))?;
        t.update(|j| {
            j.step(
                secondary::LOADING_DATA,
                clock::now(),
                Some(format!(
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
                )),
            )
        });
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
        if let Err(i) = t.runtime_step(secondary::TRAINING, "training") {
            return Ok(Ending::Interrupted(i));
        }
        let params = DeepParams {
            optimizer: cfg.optimizer,
            epochs: cfg.epochs,
            batch_size: cfg.batch_size,
            learning_rate: cfg.learning_rate,
            weight_decay: cfg.weight_decay,
            target_accuracy: model.target_accuracy,
            seed: cfg.seed,
        };
        let mut observer = JobObserver::new(&t, deadline, true).with_pause(pause);
        let trained = deep::fit(&plan, manifest, &train, &val, &params, &mut observer)
            .map_err(|e| Failure::new("training_error", e))?;
        match observer.interrupted.take() {
            Some(
                i @ (super::progress::Interrupt::Lost(_) | super::progress::Interrupt::Store(_)),
            ) => Ok(Ending::Interrupted(i)),
            _ => Ok(Ending::Network(Box::new(trained))),
        }
    });
    match work.await {
        Ok(Ok(ending)) => ending,
        Ok(Err(failure)) => Ending::Failed(failure),
        Err(join) => {
            tracing::error!(error = %join, "training task panicked");
            Ending::Failed(Failure::new("internal_error", "the training task panicked"))
        }
    }
}
