//! What the request says about the data: the input shape, the number of classes, the number
//! of training samples, a recognized dataset, and what kind of task this is.
//!
//! Explicit statements win over the dataset table: `architecture.input_shape` (or the first
//! layer's) > dimensions written in `data_sample` > the recognized dataset's standard shape.

use serde_json::Value;

use super::layers::Architecture;
use super::text::{find_dims, has_word, number_after, number_before, tokenize, Token};
use super::{AnalysisError, AnalysisInput};

/// A well-known dataset: its standard input shape, class count and training-split size.
#[derive(Debug)]
pub(crate) struct DatasetInfo {
    pub name: &'static str,
    /// HWC; `None` for text (the sequence length depends on preprocessing).
    pub shape: Option<[usize; 3]>,
    pub classes: usize,
    pub train_samples: u64,
    pub source: &'static str,
    pub image: bool,
}

/// The datasets recognized by name, with their published training-split sizes.
pub(crate) const DATASETS: &[DatasetInfo] = &[
    DatasetInfo {
        name: "CIFAR-10",
        shape: Some([32, 32, 3]),
        classes: 10,
        train_samples: 50_000,
        source: "Krizhevsky 2009, Learning Multiple Layers of Features from Tiny Images (50,000 train / 10,000 test)",
        image: true,
    },
    DatasetInfo {
        name: "CIFAR-100",
        shape: Some([32, 32, 3]),
        classes: 100,
        train_samples: 50_000,
        source: "Krizhevsky 2009, Learning Multiple Layers of Features from Tiny Images (50,000 train / 10,000 test)",
        image: true,
    },
    DatasetInfo {
        name: "MNIST",
        shape: Some([28, 28, 1]),
        classes: 10,
        train_samples: 60_000,
        source: "LeCun et al. 1998 (60,000 train / 10,000 test)",
        image: true,
    },
    DatasetInfo {
        name: "Fashion-MNIST",
        shape: Some([28, 28, 1]),
        classes: 10,
        train_samples: 60_000,
        source: "Xiao et al. 2017, arXiv:1708.07747 (60,000 train / 10,000 test)",
        image: true,
    },
    DatasetInfo {
        name: "ImageNet",
        shape: Some([224, 224, 3]),
        classes: 1000,
        train_samples: 1_281_167,
        source: "ILSVRC-2012, Russakovsky et al. 2015 (1,281,167 train images; 224x224 is the standard crop)",
        image: true,
    },
    DatasetInfo {
        name: "IMDB",
        shape: None,
        classes: 2,
        train_samples: 25_000,
        source: "Maas et al. 2011, Learning Word Vectors for Sentiment Analysis (25,000 train / 25,000 test reviews)",
        image: false,
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    Classification,
    Regression,
    Unknown,
}

impl Task {
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
            Task::Unknown => "unknown",
        }
    }
}

/// The resolved facts about the data.
#[derive(Debug)]
pub(crate) struct Context {
    pub dataset: Option<&'static DatasetInfo>,
    pub input_shape: Option<Vec<usize>>,
    pub input_shape_source: String,
    pub num_classes: Option<usize>,
    pub num_classes_source: String,
    pub samples: Option<u64>,
    pub samples_source: String,
    pub task: Task,
    pub multi_label: bool,
    pub augmentation_mentioned: bool,
    /// The input is an image (rank-3 shape or an image dataset).
    pub image_input: bool,
    /// An explicit input shape that disagrees with the recognized dataset: (stated, dataset).
    pub dataset_shape_conflict: Option<(Vec<usize>, Vec<usize>)>,
    /// `performance_metrics` states a weight penalty (path).
    pub weight_decay_in_metrics: Option<String>,
}

/// Finds a dataset name as whole words: "cifar-10" matches CIFAR-10 but "cifar-100" does
/// not, "mnist" does not match inside "fashion-mnist", "emnist" or "kmnist".
pub(crate) fn recognize_dataset(text: &str) -> Option<&'static DatasetInfo> {
    // Words separated by single spaces, so "cifar_10", "cifar-10" and "cifar 10" agree.
    let mut words = String::with_capacity(text.len() + 2);
    words.push(' ');
    let mut prev_space = true;
    for c in text.to_lowercase().chars() {
        if c.is_alphanumeric() {
            words.push(c);
            prev_space = false;
        } else if !prev_space {
            words.push(' ');
            prev_space = true;
        }
    }
    if !prev_space {
        words.push(' ');
    }
    let has = |pattern: &str| words.contains(&format!(" {pattern} "));
    let by_name = |name: &str| DATASETS.iter().find(|d| d.name == name);
    if has("fashion mnist") || has("fashionmnist") {
        by_name("Fashion-MNIST")
    } else if has("cifar 100") || has("cifar100") {
        by_name("CIFAR-100")
    } else if has("cifar 10") || has("cifar10") {
        by_name("CIFAR-10")
    } else if has("mnist") {
        by_name("MNIST")
    } else if (has("imagenet") || has("ilsvrc") || has("imagenet 1k") || has("ilsvrc 2012"))
        && !has("tiny imagenet")
    {
        by_name("ImageNet")
    } else if has("imdb") {
        by_name("IMDB")
    } else {
        None
    }
}

const CLASS_WORDS: &[&str] = &["class", "classes", "categories", "category", "labels"];
const SAMPLE_WORDS: &[&str] = &[
    "samples",
    "images",
    "examples",
    "records",
    "rows",
    "reviews",
    "sentences",
    "documents",
    "instances",
    "observations",
    "sequences",
    "texts",
];
const SAMPLE_SKIP: &[&str] = &[
    "training",
    "train",
    "labeled",
    "labelled",
    "total",
    "grayscale",
    "rgb",
    "color",
    "colour",
];

/// Channel count stated in words, if any.
fn channels_in(tokens: &[Token]) -> Option<usize> {
    if has_word(
        tokens,
        &[
            "grayscale",
            "greyscale",
            "gray",
            "grey",
            "mono",
            "monochrome",
            "monochromatic",
        ],
    ) || number_before(tokens, &["channel"], &[]) == Some(1.0)
    {
        Some(1)
    } else if has_word(tokens, &["rgba"]) {
        Some(4)
    } else if has_word(tokens, &["rgb", "color", "colour", "colored", "coloured"])
        || number_before(tokens, &["channels"], &[]) == Some(3.0)
    {
        Some(3)
    } else {
        None
    }
}

/// An input shape written in `data_sample`: "32x32 RGB images", "28x28 grayscale",
/// "224x224x3", "20 features", "sequences of 200 tokens", "max length 200".
fn shape_in(
    tokens: &[Token],
    dataset: Option<&DatasetInfo>,
    notes: &mut Vec<String>,
) -> Option<Vec<usize>> {
    if let Some(dims) = find_dims(tokens) {
        if dims.len() == 3 {
            // "3x32x32" is channels-first; the analyzer works in HWC.
            if dims[0] <= 4 && dims[1] > 4 && dims[2] > 4 {
                notes.push(format!(
                    "data_sample gives {}x{}x{}, read as channels-first and converted to HWC",
                    dims[0], dims[1], dims[2]
                ));
                return Some(vec![dims[1], dims[2], dims[0]]);
            }
            return Some(dims);
        }
        let c = match channels_in(tokens) {
            Some(c) => c,
            None => match dataset.and_then(|d| d.shape) {
                Some(s) => s[2],
                None => {
                    notes.push(format!(
                        "data_sample gives {}x{} without channels; 3 (RGB) assumed",
                        dims[0], dims[1]
                    ));
                    3
                }
            },
        };
        return Some(vec![dims[0], dims[1], c]);
    }
    let as_dim = |v: f64| (v >= 1.0 && v <= super::layers::MAX_INT as f64).then_some(v as usize);
    if let Some(n) = number_before(
        tokens,
        &[
            "features",
            "feature",
            "columns",
            "attributes",
            "variables",
            "inputs",
        ],
        &["numeric", "numerical", "input"],
    )
    .and_then(as_dim)
    {
        return Some(vec![n]);
    }
    if let Some(n) = number_before(tokens, &["tokens", "timesteps", "steps"], &["time"])
        .or_else(|| number_after(tokens, &["length", "len", "maxlen", "seq"]))
        .and_then(as_dim)
    {
        return Some(vec![n]);
    }
    None
}

fn count_of(tokens: &[Token]) -> Option<u64> {
    number_before(tokens, SAMPLE_WORDS, SAMPLE_SKIP)
        .filter(|&v| (1.0..=1e13).contains(&v))
        .map(|v| v as u64)
}

fn classes_of(tokens: &[Token]) -> Option<usize> {
    let n =
        number_before(tokens, CLASS_WORDS, &["output", "target", "distinct"]).or_else(|| {
            // "num_classes 10", "number of classes: 10"
            tokens.windows(3).find_map(|w| match w {
                [Token::Word(a), Token::Word(b), Token::Num(v)]
                    if (a == "num" || a == "of" || a == "n") && b == "classes" =>
                {
                    Some(*v)
                }
                _ => None,
            })
        })?;
    (n >= 1.0 && n <= super::layers::MAX_INT as f64).then_some(n as usize)
}

/// Resolves the data facts from the request and the parsed architecture.
pub(crate) fn resolve(
    input: &AnalysisInput,
    arch: &Architecture,
    assumptions: &mut Vec<String>,
) -> Result<Context, AnalysisError> {
    let sample = input.data_sample.as_deref().unwrap_or("");
    let description = input.model_description.as_deref().unwrap_or("");
    let sample_tokens = tokenize(sample);
    let desc_tokens = tokenize(description);

    let (dataset, dataset_from) = match recognize_dataset(sample) {
        Some(d) => (Some(d), "data_sample"),
        None => match recognize_dataset(description) {
            Some(d) => (Some(d), "model_description"),
            None => (None, ""),
        },
    };
    if let Some(d) = dataset {
        assumptions.push(format!(
            "{dataset_from} names {}: its standard facts are used where not stated ({})",
            d.name, d.source
        ));
    }

    // Input shape.
    let mut notes = Vec::new();
    let stated_in_sample = shape_in(&sample_tokens, dataset, &mut notes);
    let dataset_shape = dataset.and_then(|d| d.shape).map(|s| s.to_vec());
    let (input_shape, input_shape_source) = if let Some((shape, path)) = &arch.input_shape {
        (Some(shape.clone()), path.clone())
    } else if let Some(shape) = stated_in_sample {
        assumptions.append(&mut notes);
        (Some(shape), "data_sample".to_string())
    } else if let Some(shape) = dataset_shape.clone() {
        assumptions.push(format!(
            "input shape {shape:?} (HWC) taken from the {} standard",
            dataset.map(|d| d.name).unwrap_or_default()
        ));
        (Some(shape), dataset_from.to_string())
    } else {
        if arch.has_layer_list {
            assumptions.push(
                "input shape unknown (no architecture.input_shape and none in data_sample): \
                 shapes, and parameters that depend on them, are left unknown"
                    .into(),
            );
        }
        (None, "unknown".to_string())
    };
    if let Some(shape) = &input_shape {
        if shape.len() == 3 && shape[0] <= 4 && shape[1] > 4 && shape[2] > 4 {
            assumptions.push(format!(
                "input shape {shape:?} looks channels-first; it is read as HWC (height {}, width {}, {} channels)",
                shape[0], shape[1], shape[2]
            ));
        }
    }
    let dataset_shape_conflict = match (&arch.input_shape, &dataset_shape) {
        // [784] for MNIST is the same image flattened, not a conflict.
        (Some((stated, _)), Some(ds))
            if stated.len() == 1 && stated[0] == ds.iter().product::<usize>() =>
        {
            assumptions.push(format!(
                "input shape {stated:?} read as the {ds:?} images flattened"
            ));
            None
        }
        (Some((stated, _)), Some(ds)) if stated != ds => Some((stated.clone(), ds.clone())),
        _ => None,
    };

    // Classes: stated in data_sample > dataset table > stated in the description.
    let (num_classes, num_classes_source) = match classes_of(&sample_tokens) {
        Some(k) => {
            if let Some(d) = dataset.filter(|d| d.classes != k) {
                assumptions.push(format!(
                    "data_sample states {k} classes; {} has {}: the stated count is used",
                    d.name, d.classes
                ));
            }
            (Some(k), "data_sample".to_string())
        }
        None => match dataset {
            Some(d) => (Some(d.classes), format!("dataset:{}", d.name)),
            None => match classes_of(&desc_tokens) {
                Some(k) => (Some(k), "model_description".to_string()),
                None => (None, "unknown".to_string()),
            },
        },
    };

    // Training samples: stated count > dataset training split.
    let (samples, samples_source) = match count_of(&sample_tokens) {
        Some(n) => (Some(n), "data_sample".to_string()),
        None => match dataset {
            Some(d) => (Some(d.train_samples), format!("dataset:{}", d.name)),
            None => (None, "unknown".to_string()),
        },
    };

    let lower = format!("{} {}", sample.to_lowercase(), description.to_lowercase());
    let multi_label = lower.contains("multi-label")
        || lower.contains("multilabel")
        || lower.contains("multi label");
    let augmentation_mentioned = [
        "augment",
        "random crop",
        "flip",
        "mixup",
        "cutout",
        "cutmix",
        "random erasing",
    ]
    .iter()
    .any(|n| lower.contains(n));

    // Task: a class count decides; otherwise words, metrics, and the output activation.
    let metric_keys: Vec<String> = match &input.performance_metrics {
        Some(Value::Object(m)) => m.keys().map(|k| super::text::normalize_key(k)).collect(),
        _ => Vec::new(),
    };
    let has_metric = |names: &[&str]| metric_keys.iter().any(|k| names.contains(&k.as_str()));
    let says_regression = lower.contains("regression") || lower.contains("forecast");
    let says_classification =
        lower.contains("classif") || lower.contains("sentiment") || lower.contains("recognition");
    let output_act = arch.output.as_ref().and_then(|o| o.activation.as_deref());
    let task = if num_classes.is_some() {
        Task::Classification
    } else if says_regression
        || (has_metric(&["mse", "mae", "rmse", "r2", "r_squared"])
            && !has_metric(&["accuracy", "acc", "val_accuracy", "test_accuracy"]))
    {
        Task::Regression
    } else if says_classification
        || matches!(output_act, Some("softmax" | "sigmoid"))
        || has_metric(&[
            "accuracy",
            "acc",
            "val_accuracy",
            "test_accuracy",
            "f1",
            "f1_score",
        ])
    {
        Task::Classification
    } else {
        Task::Unknown
    };

    let image_input =
        input_shape.as_ref().is_some_and(|s| s.len() == 3) || dataset.is_some_and(|d| d.image);

    let weight_decay_in_metrics = match &input.performance_metrics {
        Some(Value::Object(m)) => super::layers::weight_decay_in(m, "performance_metrics"),
        _ => None,
    };

    Ok(Context {
        dataset,
        input_shape,
        input_shape_source,
        num_classes,
        num_classes_source,
        samples,
        samples_source,
        task,
        multi_label,
        augmentation_mentioned,
        image_input,
        dataset_shape_conflict,
        weight_decay_in_metrics,
    })
}
