//! A model's answers on an encoded matrix ([`Outputs`]), scored against its labels, and one
//! row's [`Prediction`] as `predict` answers it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::data::{Encoder, Matrix};
use super::metrics::{Metrics, RegressionMetrics, Scored};

/// One row's prediction: a class with every class's probability, or a number.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Prediction {
    Class {
        /// The most probable class (the first of equals in class order).
        label: String,
        /// Class → probability (classes sort as the encoder orders them).
        probabilities: BTreeMap<String, f64>,
    },
    Value {
        value: f64,
    },
}

impl Prediction {
    pub fn label(&self) -> Option<&str> {
        match self {
            Prediction::Class { label, .. } => Some(label),
            Prediction::Value { .. } => None,
        }
    }
}

/// A model's answers on an encoded matrix.
#[derive(Clone, Debug, PartialEq)]
pub enum Outputs {
    /// Row-major class probabilities, and the mean cross-entropy of the true classes when the
    /// matrix is labeled (computed by the family in its own space: log-softmax for networks).
    Classes { probabilities: Vec<f64>, loss: f64 },
    /// One value per row, in the target's units.
    Values(Vec<f64>),
}

impl Outputs {
    /// Every metric of these outputs against `m`'s labels.
    pub fn score(&self, encoder: &Encoder, m: &Matrix) -> Scored {
        match self {
            Outputs::Classes {
                probabilities,
                loss,
            } => {
                let k = encoder.classes.len().max(1);
                let predicted: Vec<u32> = probabilities.chunks_exact(k).map(argmax).collect();
                Scored::Classification(
                    Metrics::from_predictions(&encoder.classes, &m.y, &predicted, *loss)
                        .with_probabilities(&m.y, probabilities),
                )
            }
            Outputs::Values(values) => Scored::Regression(RegressionMetrics::of(
                &m.values,
                values,
                encoder.target_scale.map(|s| s.mean),
            )),
        }
    }

    /// The task's headline metric (accuracy, or R²) against `m`'s labels, cheaply.
    pub fn headline(&self, encoder: &Encoder, m: &Matrix) -> f64 {
        match self {
            Outputs::Classes { probabilities, .. } => {
                let k = encoder.classes.len().max(1);
                let correct = probabilities
                    .chunks_exact(k)
                    .zip(&m.y)
                    .filter(|(row, &y)| argmax(row) == y)
                    .count();
                correct as f64 / m.rows.max(1) as f64
            }
            Outputs::Values(values) => RegressionMetrics::of(&m.values, values, None).r2,
        }
    }

    /// As [`Prediction`]s.
    pub fn predictions(&self, encoder: &Encoder) -> Vec<Prediction> {
        match self {
            Outputs::Classes { probabilities, .. } => {
                let k = encoder.classes.len().max(1);
                probabilities
                    .chunks_exact(k)
                    .map(|row| Prediction::Class {
                        label: encoder.classes[argmax(row) as usize].clone(),
                        probabilities: encoder.classes.iter().cloned().zip(row.to_vec()).collect(),
                    })
                    .collect()
            }
            Outputs::Values(values) => values
                .iter()
                .map(|&value| Prediction::Value { value })
                .collect(),
        }
    }
}

/// Mean cross-entropy of probabilities, each clipped to [f64::MIN_POSITIVE, 1] before the log.
pub fn cross_entropy(probabilities: &[f64], truth: &[u32], k: usize) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let total: f64 = probabilities
        .chunks_exact(k)
        .zip(truth)
        .map(|(row, &y)| -row[y as usize].clamp(f64::MIN_POSITIVE, 1.0).ln())
        .sum();
    total / truth.len() as f64
}

/// The index of the largest value (the first of equals).
pub fn argmax(values: &[f64]) -> u32 {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best as u32
}
