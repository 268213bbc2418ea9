//! Classification metrics from predictions, as scikit-learn defines them.
//!
//! With C the confusion matrix (`C[i][j]` = rows of true class i predicted as j), n rows and K
//! classes:
//! * accuracy = Σ_i C[i][i] / n
//! * precision_j = C[j][j] / Σ_i C[i][j], 0 when j is never predicted (sklearn `zero_division=0`)
//! * recall_i = C[i][i] / Σ_j C[i][j] (support), 0 when the class has no rows
//! * f1 = 2·P·R / (P + R), 0 when P + R = 0
//! * macro_f1 = mean f1 over the classes that occur in the truth or the predictions (sklearn's
//!   label set)
//! * balanced_accuracy = mean recall over the classes with support > 0
//! * loss = mean cross-entropy −(1/n) Σ_r log p_r(true class), given by the caller.

use serde::{Deserialize, Serialize};

/// One class's scores.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// Scores of a model on a set of rows (formulas in the module docs).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Metrics {
    pub accuracy: f64,
    pub loss: f64,
    pub macro_f1: f64,
    pub balanced_accuracy: f64,
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]`, classes in [`Metrics::per_class`] order.
    pub confusion: Vec<Vec<u64>>,
    pub rows: u64,
}

impl Metrics {
    /// Scores `predicted` against `truth` (labels index `classes`); `loss` is the mean
    /// cross-entropy the caller computed from the probabilities.
    pub fn from_predictions(
        classes: &[String],
        truth: &[u32],
        predicted: &[u32],
        loss: f64,
    ) -> Metrics {
        let k = classes.len();
        let mut confusion = vec![vec![0u64; k]; k];
        for (&t, &p) in truth.iter().zip(predicted) {
            confusion[t as usize][p as usize] += 1;
        }
        let rows = truth.len() as u64;
        let ratio = |num: u64, den: u64| {
            if den == 0 {
                0.0
            } else {
                num as f64 / den as f64
            }
        };
        let mut per_class = Vec::with_capacity(k);
        let (mut f1_sum, mut f1_n, mut recall_sum, mut recall_n) = (0.0, 0usize, 0.0, 0usize);
        for (i, class) in classes.iter().enumerate() {
            let support: u64 = confusion[i].iter().sum();
            let predicted_as: u64 = confusion.iter().map(|r| r[i]).sum();
            let precision = ratio(confusion[i][i], predicted_as);
            let recall = ratio(confusion[i][i], support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            if support > 0 || predicted_as > 0 {
                f1_sum += f1;
                f1_n += 1;
            }
            if support > 0 {
                recall_sum += recall;
                recall_n += 1;
            }
            per_class.push(ClassMetrics {
                class: class.clone(),
                precision,
                recall,
                f1,
                support,
            });
        }
        let correct: u64 = (0..k).map(|i| confusion[i][i]).sum();
        let mean = |sum: f64, n: usize| if n == 0 { 0.0 } else { sum / n as f64 };
        Metrics {
            accuracy: ratio(correct, rows),
            loss,
            macro_f1: mean(f1_sum, f1_n),
            balanced_accuracy: mean(recall_sum, recall_n),
            per_class,
            confusion,
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_a_hand_computed_confusion_matrix() {
        let classes: Vec<String> = ["cat", "dog", "eel"].map(String::from).to_vec();
        // truth:     cat cat cat dog dog eel
        // predicted: cat cat dog dog cat cat   (eel never predicted)
        let truth = [0, 0, 0, 1, 1, 2];
        let predicted = [0, 0, 1, 1, 0, 0];
        let m = Metrics::from_predictions(&classes, &truth, &predicted, 0.5);
        assert_eq!(
            m.confusion,
            vec![vec![2, 1, 0], vec![1, 1, 0], vec![1, 0, 0]]
        );
        assert_eq!(m.rows, 6);
        assert!((m.accuracy - 3.0 / 6.0).abs() < 1e-12);
        // cat: P = 2/4, R = 2/3, F1 = 2·(1/2)(2/3)/(7/6) = 4/7
        let cat = &m.per_class[0];
        assert!((cat.precision - 0.5).abs() < 1e-12);
        assert!((cat.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((cat.f1 - 4.0 / 7.0).abs() < 1e-12);
        // dog: P = 1/2, R = 1/2, F1 = 1/2
        assert!((m.per_class[1].f1 - 0.5).abs() < 1e-12);
        // eel: never predicted → precision 0, recall 0, F1 0; support 1.
        let eel = &m.per_class[2];
        assert_eq!(
            (eel.precision, eel.recall, eel.f1, eel.support),
            (0.0, 0.0, 0.0, 1)
        );
        assert!((m.macro_f1 - (4.0 / 7.0 + 0.5) / 3.0).abs() < 1e-12);
        assert!((m.balanced_accuracy - (2.0 / 3.0 + 0.5) / 3.0).abs() < 1e-12);
        assert_eq!(m.loss, 0.5);
    }

    #[test]
    fn absent_classes_do_not_count_in_the_means() {
        let classes: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let m = Metrics::from_predictions(&classes, &[0, 1], &[0, 1], 0.0);
        assert_eq!(m.macro_f1, 1.0);
        assert_eq!(m.balanced_accuracy, 1.0);
        assert_eq!(m.per_class[2].support, 0);
    }
}
