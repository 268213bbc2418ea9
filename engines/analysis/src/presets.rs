//! Named networks: each expands to a layer list that the analyzer reads like any other (so
//! `POST /v1/ai/analyze` counts a preset exactly as the trainer builds it). The output layer
//! takes its width from the data (the number of classes).

use serde_json::{json, Value};

/// A named network.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Two convolution blocks (32 and 64 filters, 3×3, same padding, ReLU, 2×2 max pool),
    /// dense 128 with dropout 0.5: the Keras MNIST example's shape, for small images.
    SmallCnn,
    /// LeCun et al. (1998): 6 and 16 filters of 5×5 (the first padded to keep 28×28), 2×2
    /// average pooling, dense 120 and 84, tanh. 61,706 parameters on 28×28×1 with 10 classes.
    Lenet5,
    /// He et al. (2016), section 4.2: the CIFAR ResNet of 6n + 2 layers with n = 1: a 3×3
    /// convolution of 16 filters, three stages of n basic blocks (16, 32, 64 filters, the
    /// second and third starting at stride 2) with option-A shortcuts, global average
    /// pooling, the output.
    Resnet8,
    /// The same with n = 3: 269,722 parameters with 10 classes ("0.27M" in the paper).
    Resnet20,
    /// torchvision's `resnet50`: bottleneck blocks [3, 4, 6, 3] with projection shortcuts;
    /// 25,557,032 parameters on 224×224×3 with 1,000 classes.
    Resnet50,
    /// A series forecaster: an LSTM of 32 units over the window, then the horizon's values.
    LstmForecaster,
    /// Kim (2014), "Convolutional Neural Networks for Sentence Classification", with one
    /// filter width: token embeddings (20,000 × 64), 128 filters of width 3 (same padding,
    /// ReLU), max-over-time pooling, dropout 0.5, the output. Kim trains widths 3, 4 and 5
    /// side by side; a layer list is a chain, so this keeps the first.
    #[serde(rename = "textcnn")]
    TextCnn,
    /// Joulin et al. (2016), "Bag of Tricks for Efficient Text Classification" (fastText):
    /// token embeddings (20,000 × 64) averaged over the text, then a linear classifier. The
    /// paper's hashed n-gram features are left out: the input is word ids.
    #[serde(rename = "fasttext")]
    FastText,
}

/// What a preset reads, without the batch dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetInput {
    /// Images `[H, W, C]`.
    Images,
    /// The last values of a series, `[window]`.
    Window,
    /// Token ids of a text, `[max_length]`.
    Tokens,
}

impl Preset {
    pub const ALL: [Preset; 8] = [
        Preset::SmallCnn,
        Preset::Lenet5,
        Preset::Resnet8,
        Preset::Resnet20,
        Preset::Resnet50,
        Preset::LstmForecaster,
        Preset::TextCnn,
        Preset::FastText,
    ];

    /// What it reads: a preset plans only on its kind of input (a series window is not a
    /// text, though both are one-dimensional).
    pub fn reads(self) -> PresetInput {
        match self {
            Preset::SmallCnn
            | Preset::Lenet5
            | Preset::Resnet8
            | Preset::Resnet20
            | Preset::Resnet50 => PresetInput::Images,
            Preset::LstmForecaster => PresetInput::Window,
            Preset::TextCnn | Preset::FastText => PresetInput::Tokens,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::SmallCnn => "small_cnn",
            Preset::Lenet5 => "lenet5",
            Preset::Resnet8 => "resnet8",
            Preset::Resnet20 => "resnet20",
            Preset::Resnet50 => "resnet50",
            Preset::LstmForecaster => "lstm_forecaster",
            Preset::TextCnn => "textcnn",
            Preset::FastText => "fasttext",
        }
    }

    /// A name as a request may spell it (case, `-` and spaces aside).
    pub fn parse(name: &str) -> Option<Preset> {
        let key = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Some(match key.as_str() {
            "small_cnn" | "simple_cnn" | "cnn" => Preset::SmallCnn,
            "lenet5" | "lenet_5" | "lenet" => Preset::Lenet5,
            "resnet8" | "resnet_8" => Preset::Resnet8,
            "resnet20" | "resnet_20" => Preset::Resnet20,
            "resnet50" | "resnet_50" => Preset::Resnet50,
            "lstm_forecaster" | "lstm" => Preset::LstmForecaster,
            "textcnn" | "text_cnn" | "kim_cnn" => Preset::TextCnn,
            "fasttext" | "fast_text" => Preset::FastText,
            _ => return None,
        })
    }

    /// The layer list, as `{"layers": [...]}`.
    pub fn architecture(self) -> Value {
        let layers = match self {
            Preset::SmallCnn => json!([
                {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
                {"type": "maxpool", "pool_size": 2},
                {"type": "conv2d", "filters": 64, "kernel_size": 3, "padding": "same", "activation": "relu"},
                {"type": "maxpool", "pool_size": 2},
                {"type": "flatten"},
                {"type": "dense", "units": 128, "activation": "relu"},
                {"type": "dropout", "rate": 0.5},
                {"type": "output", "activation": "softmax"}
            ]),
            Preset::Lenet5 => json!([
                {"type": "conv2d", "filters": 6, "kernel_size": 5, "padding": 2, "activation": "tanh"},
                {"type": "avgpool", "pool_size": 2},
                {"type": "conv2d", "filters": 16, "kernel_size": 5, "activation": "tanh"},
                {"type": "avgpool", "pool_size": 2},
                {"type": "flatten"},
                {"type": "dense", "units": 120, "activation": "tanh"},
                {"type": "dense", "units": 84, "activation": "tanh"},
                {"type": "output", "activation": "softmax"}
            ]),
            Preset::Resnet8 => cifar_resnet(1),
            Preset::Resnet20 => cifar_resnet(3),
            Preset::Resnet50 => resnet50(),
            Preset::LstmForecaster => json!([
                {"type": "lstm", "units": 32},
                {"type": "output"}
            ]),
            Preset::TextCnn => json!([
                {"type": "embedding", "vocab_size": TEXT_VOCAB, "output_dim": TEXT_DIM},
                {"type": "conv1d", "filters": 128, "kernel_size": 3, "padding": "same", "activation": "relu"},
                {"type": "global_max_pool"},
                {"type": "dropout", "rate": 0.5},
                {"type": "output", "activation": "softmax"}
            ]),
            Preset::FastText => json!([
                {"type": "embedding", "vocab_size": TEXT_VOCAB, "output_dim": TEXT_DIM},
                {"type": "global_avg_pool"},
                {"type": "output", "activation": "softmax"}
            ]),
        };
        json!({ "layers": layers })
    }
}

/// The text presets' vocabulary (token ids 0..20,000) and embedding width.
const TEXT_VOCAB: usize = 20_000;
const TEXT_DIM: usize = 64;

fn conv(filters: usize, kernel: usize, stride: usize, padding: usize) -> Value {
    json!({"type": "conv2d", "filters": filters, "kernel_size": kernel, "stride": stride,
           "padding": padding, "use_bias": false})
}

fn bn() -> Value {
    json!({"type": "batchnorm"})
}

fn relu() -> Value {
    json!({"type": "activation", "activation": "relu"})
}

/// He et al.'s CIFAR ResNet with `n` basic blocks per stage.
fn cifar_resnet(n: usize) -> Value {
    let mut layers = vec![conv(16, 3, 1, 1), bn(), relu()];
    let mut width = 16;
    for (stage, filters) in [16, 32, 64].into_iter().enumerate() {
        for block in 0..n {
            let stride = if stage > 0 && block == 0 { 2 } else { 1 };
            let input = layers.len() - 1;
            layers.extend([
                conv(filters, 3, stride, 1),
                bn(),
                relu(),
                conv(filters, 3, 1, 1),
                bn(),
            ]);
            let shortcut = if stride > 1 || filters != width {
                "pad"
            } else {
                "identity"
            };
            layers.push(json!({"type": "residual", "from": input, "shortcut": shortcut}));
            layers.push(relu());
            width = filters;
        }
    }
    layers.push(json!({"type": "global_avg_pool"}));
    layers.push(json!({"type": "output", "activation": "softmax"}));
    Value::Array(layers)
}

/// torchvision's ResNet-50 (v1.5: the stride on the 3×3 convolution).
fn resnet50() -> Value {
    let mut layers = vec![
        conv(64, 7, 2, 3),
        bn(),
        relu(),
        json!({"type": "maxpool", "pool_size": 3, "stride": 2, "padding": 1}),
    ];
    for (width, blocks, stride) in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)] {
        for block in 0..blocks {
            let input = layers.len() - 1;
            let s = if block == 0 { stride } else { 1 };
            layers.extend([
                conv(width, 1, 1, 0),
                bn(),
                relu(),
                conv(width, 3, s, 1),
                bn(),
                relu(),
                conv(width * 4, 1, 1, 0),
                bn(),
            ]);
            let shortcut = if block == 0 { "projection" } else { "identity" };
            layers.push(json!({"type": "residual", "from": input, "shortcut": shortcut}));
            layers.push(relu());
        }
    }
    layers.push(json!({"type": "global_avg_pool"}));
    layers.push(json!({"type": "output", "activation": "softmax"}));
    Value::Array(layers)
}

/// Every preset's name, for messages.
pub fn names() -> Vec<&'static str> {
    Preset::ALL.iter().map(|p| p.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenet5_has_its_published_parameter_count() {
        let plan = crate::network::plan(&Preset::Lenet5.architecture(), &[28, 28, 1], 10).unwrap();
        assert_eq!(plan.params, 61_706);
        for p in Preset::ALL {
            assert_eq!(Preset::parse(p.name()), Some(p));
            // A request names a preset by the name it serializes to.
            assert_eq!(serde_json::to_value(p).unwrap(), json!(p.name()));
            let shape: &[usize] = match p.reads() {
                PresetInput::Images => &[32, 32, 3],
                PresetInput::Window => &[24],
                PresetInput::Tokens => &[100],
            };
            crate::network::plan(&p.architecture(), shape, 10).unwrap();
        }
        assert_eq!(Preset::parse("LeNet-5"), Some(Preset::Lenet5));
    }

    #[test]
    fn the_resnets_have_their_published_parameter_counts() {
        let count = |p: Preset, shape: &[usize], k| {
            crate::network::plan(&p.architecture(), shape, k)
                .unwrap()
                .params
        };
        // He et al. option A: no shortcut parameters.
        assert_eq!(count(Preset::Resnet20, &[32, 32, 3], 10), 269_722);
        assert_eq!(count(Preset::Resnet8, &[32, 32, 3], 10), 75_290);
        // torchvision.models.resnet50().
        assert_eq!(count(Preset::Resnet50, &[224, 224, 3], 1000), 25_557_032);
        let plan =
            crate::network::plan(&Preset::Resnet50.architecture(), &[224, 224, 3], 1000).unwrap();
        // torchvision's resnet50 is 4.09 GMACs (fvcore / ptflops count 4.1 G).
        assert!(
            (4.0e9..4.2e9).contains(&(plan.macs as f64)),
            "{}",
            plan.macs
        );
        // The running statistics of every batch norm (53 of them, 26,560 channels).
        assert_eq!(plan.buffers, 2 * 26_560);
    }

    #[test]
    fn the_text_presets_count_by_formula_on_token_ids() {
        let embedding = 20_000 * 64;
        for (preset, expected) in [
            // The table, 128 filters of 3·64 weights and a bias, the 128 → 4 output.
            (
                Preset::TextCnn,
                embedding + (3 * 64 * 128 + 128) + (128 * 4 + 4),
            ),
            // The table and the 64 → 4 output.
            (Preset::FastText, embedding + 64 * 4 + 4),
        ] {
            let arch = preset.architecture();
            let plan = crate::network::plan(&arch, &[100], 4).unwrap();
            assert_eq!(plan.params, expected, "{preset:?}");
            let analysis = crate::analyze(&crate::AnalysisInput {
                architecture: Some(json!({"input_shape": [100], "layers": arch["layers"]})),
                model_description: Some("a text classifier of 4 classes".into()),
                ..Default::default()
            })
            .unwrap();
            assert_eq!(analysis.totals.params, Some(expected), "{preset:?}");
            assert_eq!(plan.layers.last().unwrap().output, vec![4]);
        }
        let plan = crate::network::plan(&Preset::TextCnn.architecture(), &[100], 4).unwrap();
        // Same padding keeps the 100 positions; max-over-time leaves the 128 filters.
        assert_eq!(plan.layers[1].output, vec![100, 128]);
        assert_eq!(plan.layers[2].output, vec![128]);
        assert_eq!(plan.layers[1].kind, crate::LayerKind::Conv1d);
        for name in ["TextCNN", "text-cnn", "kim_cnn"] {
            assert_eq!(Preset::parse(name), Some(Preset::TextCnn), "{name}");
        }
        for name in ["fastText", "fast_text"] {
            assert_eq!(Preset::parse(name), Some(Preset::FastText), "{name}");
        }
        // A preset for token ids does not plan on images.
        assert!(crate::network::plan(&Preset::TextCnn.architecture(), &[8, 8, 1], 4).is_err());
    }
}
