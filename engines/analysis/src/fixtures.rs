//! Request builders shared by tests and benchmarks.

use serde_json::{json, Value};

use super::AnalysisInput;

/// The `POST /v1/ai/analyze` example from the spec (a small CIFAR-10 CNN).
pub fn spec_cnn_input() -> AnalysisInput {
    AnalysisInput {
        model_description: Some("Convolutional Neural Network for image classification".into()),
        architecture: Some(json!({"layers": [
            {"type": "conv2d", "filters": 32, "kernel_size": 3},
            {"type": "maxpool", "pool_size": 2},
            {"type": "conv2d", "filters": 64, "kernel_size": 3},
            {"type": "dense", "units": 128},
            {"type": "output", "units": 10, "activation": "softmax"}
        ]})),
        data_sample: Some("CIFAR-10 dataset, 32x32 RGB images, 10 classes".into()),
        performance_metrics: Some(json!({
            "accuracy": 0.847, "loss": 0.423,
            "training_time": "2.3 hours", "inference_latency": "12ms"
        })),
    }
}

/// `n` layers of a residual MLP (n ≥ 2): a 256-unit stem, then repeating
/// dense → batchnorm → residual → dropout blocks, and a 10-way softmax output last.
pub fn deep_mlp_layers(n: usize) -> Value {
    let n = n.max(2);
    let mut layers = Vec::with_capacity(n);
    layers.push(json!({"type": "dense", "units": 256, "activation": "relu"}));
    let mut block_input = 0;
    while layers.len() < n - 1 {
        let i = layers.len();
        let layer = match (i - 1) % 4 {
            0 => {
                block_input = i - 1;
                json!({"type": "dense", "units": 256, "activation": "relu"})
            }
            1 => json!({"type": "batchnorm"}),
            2 => json!({"type": "residual", "from": block_input}),
            _ => json!({"type": "dropout", "rate": 0.1}),
        };
        layers.push(layer);
    }
    layers.push(json!({"type": "output", "units": 10, "activation": "softmax"}));
    Value::Array(layers)
}

/// A full request around [`deep_mlp_layers`] on flattened MNIST.
pub fn deep_mlp_input(n: usize) -> AnalysisInput {
    AnalysisInput {
        model_description: Some(format!("{n}-layer residual MLP classifier")),
        architecture: Some(json!({"input_shape": [784], "layers": deep_mlp_layers(n)})),
        data_sample: Some(
            "MNIST, 28x28 grayscale digits flattened to 784 features, 10 classes".into(),
        ),
        performance_metrics: Some(json!({
            "train_accuracy": 0.995, "val_accuracy": 0.981,
            "train_loss": 0.02, "val_loss": 0.07, "inference_latency": "3ms"
        })),
    }
}
