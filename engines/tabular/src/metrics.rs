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
//! * loss = mean cross-entropy −(1/n) Σ_r log p_r(true class), given by the caller (computed
//!   in log space from the logits, the training objective).
//!
//! From the predicted probabilities (p_r,c for row r and class c), as scikit-learn's
//! `log_loss`, `roc_auc_score` and `brier_score_loss` compute them (checked against its output
//! on a fixture, `tests/fixtures/sklearn_metrics/`):
//! * log_loss = −(1/n) Σ_r log clip(p_r,true, ε, 1 − ε), ε = f64::EPSILON: `loss` but for
//!   the clipping, from the probabilities a client sees;
//! * roc_auc, binary: the probability that a random row of the positive class (the second in
//!   sorted order, scikit-learn's default `pos_label`) scores higher than a random negative
//!   one, ties counted one half: (R₊ − n₊(n₊+1)/2) / (n₊·n₋) with R₊ the sum of the
//!   positives' ranks by p_r,positive (ties given their mean rank; Mann-Whitney U);
//! * roc_auc, more classes: one-vs-rest macro, the mean over classes c of the binary AUC of
//!   "class c" against the rest scored by p_r,c, over the classes that have both positive and
//!   negative rows (scikit-learn refuses the others); `None` when no class has both;
//! * brier (binary only) = (1/n) Σ_r (p_r,positive − 1[y_r = positive])².
//!
//! Regression, from values ŷ_r against y_r (scikit-learn's `mean_squared_error`,
//! `mean_absolute_error`, `r2_score`):
//! * rmse = sqrt((1/n) Σ (y_r − ŷ_r)²); mae = (1/n) Σ |y_r − ŷ_r|;
//! * r2 = 1 − Σ (y_r − ŷ_r)² / Σ (y_r − ȳ)², ȳ the mean of these rows' truth (1 when both
//!   sums are 0, 0 when only the denominator is, as scikit-learn answers);
//! * baseline: the same three for a model that always predicts the train split's mean.

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
    /// Filled by [`Metrics::with_probabilities`]; absent from metrics stored before they were.
    #[serde(default)]
    pub log_loss: Option<f64>,
    /// Binary AUC, or one-vs-rest macro AUC for more classes (module docs).
    #[serde(default)]
    pub roc_auc: Option<f64>,
    /// Binary targets only.
    #[serde(default)]
    pub brier: Option<f64>,
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
            log_loss: None,
            roc_auc: None,
            brier: None,
        }
    }

    /// Adds the probability metrics; `probabilities` is row-major, `classes` values a row.
    pub fn with_probabilities(mut self, truth: &[u32], probabilities: &[f64]) -> Metrics {
        let k = self.per_class.len();
        if k == 0 || truth.is_empty() || probabilities.len() != truth.len() * k {
            return self;
        }
        let column =
            |c: usize| -> Vec<f64> { probabilities.chunks_exact(k).map(|row| row[c]).collect() };
        self.log_loss = Some(log_loss(truth, probabilities, k));
        if k == 2 {
            let positive: Vec<bool> = truth.iter().map(|&t| t == 1).collect();
            let p1 = column(1);
            self.roc_auc = roc_auc(&p1, &positive);
            self.brier = Some(brier(&p1, &positive));
        } else {
            let aucs: Vec<f64> = (0..k)
                .filter_map(|c| {
                    let positive: Vec<bool> = truth.iter().map(|&t| t as usize == c).collect();
                    roc_auc(&column(c), &positive)
                })
                .collect();
            self.roc_auc = (!aucs.is_empty()).then(|| aucs.iter().sum::<f64>() / aucs.len() as f64);
        }
        self
    }
}

/// Regression scores (formulas in the module docs).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RegressionMetrics {
    pub rmse: f64,
    pub mae: f64,
    pub r2: f64,
    pub rows: u64,
    /// The same scores for always predicting the train split's mean.
    pub baseline: Option<Box<RegressionMetrics>>,
}

impl RegressionMetrics {
    /// Scores `predicted` against `truth`; with `train_mean`, also the mean baseline's.
    pub fn of(truth: &[f64], predicted: &[f64], train_mean: Option<f64>) -> RegressionMetrics {
        let n = truth.len().max(1) as f64;
        let mean = truth.iter().sum::<f64>() / n;
        let (mut sse, mut sae, mut sst) = (0.0, 0.0, 0.0);
        for (y, p) in truth.iter().zip(predicted) {
            sse += (y - p).powi(2);
            sae += (y - p).abs();
            sst += (y - mean).powi(2);
        }
        let r2 = if sst > 0.0 {
            1.0 - sse / sst
        } else if sse == 0.0 {
            1.0
        } else {
            0.0
        };
        RegressionMetrics {
            rmse: (sse / n).sqrt(),
            mae: sae / n,
            r2,
            rows: truth.len() as u64,
            baseline: train_mean
                .map(|m| Box::new(RegressionMetrics::of(truth, &vec![m; truth.len()], None))),
        }
    }
}

/// A model's scores on some rows, for its task.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Scored {
    Classification(Metrics),
    Regression(RegressionMetrics),
}

impl Scored {
    pub fn accuracy(&self) -> Option<f64> {
        match self {
            Scored::Classification(m) => Some(m.accuracy),
            Scored::Regression(_) => None,
        }
    }

    /// The task's headline metric, higher is better: accuracy, or R².
    pub fn headline(&self) -> (&'static str, f64) {
        match self {
            Scored::Classification(m) => ("accuracy", m.accuracy),
            Scored::Regression(m) => ("r2", m.r2),
        }
    }

    pub fn classification(&self) -> Option<&Metrics> {
        match self {
            Scored::Classification(m) => Some(m),
            Scored::Regression(_) => None,
        }
    }

    pub fn rows(&self) -> u64 {
        match self {
            Scored::Classification(m) => m.rows,
            Scored::Regression(m) => m.rows,
        }
    }
}

/// −(1/n) Σ log clip(p_true, ε, 1 − ε), scikit-learn's `log_loss` (ε = f64::EPSILON).
pub fn log_loss(truth: &[u32], probabilities: &[f64], k: usize) -> f64 {
    let eps = f64::EPSILON;
    let total: f64 = truth
        .iter()
        .zip(probabilities.chunks_exact(k))
        .map(|(&t, row)| -row[t as usize].clamp(eps, 1.0 - eps).ln())
        .sum();
    total / truth.len().max(1) as f64
}

/// The Mann-Whitney AUC of `scores` for the rows marked `positive`, ties at their mean rank;
/// `None` unless there are rows of both kinds.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1..=j+1 share their mean.
        let mean_rank = (i + j + 2) as f64 / 2.0;
        let tied_pos = order[i..=j].iter().filter(|&&r| positive[r]).count();
        rank_sum_pos += mean_rank * tied_pos as f64;
        i = j + 1;
    }
    let (p, n) = (n_pos as f64, n_neg as f64);
    Some((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * n))
}

/// Mean squared difference of the positive-class probability and the 0/1 outcome.
pub fn brier(scores: &[f64], positive: &[bool]) -> f64 {
    let total: f64 = scores
        .iter()
        .zip(positive)
        .map(|(&s, &y)| (s - if y { 1.0 } else { 0.0 }).powi(2))
        .sum();
    total / scores.len().max(1) as f64
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
    fn auc_and_brier_by_hand() {
        // Scores 0.1 (neg), 0.4 (pos), 0.4 (neg), 0.8 (pos): of the 4 positive/negative pairs,
        // (0.4, 0.1), (0.8, 0.1), (0.8, 0.4) are ordered and (0.4, 0.4) ties: AUC = 3.5 / 4.
        let scores = [0.1, 0.4, 0.4, 0.8];
        let positive = [false, true, false, true];
        assert_eq!(roc_auc(&scores, &positive), Some(0.875));
        // Brier: (0.01 + 0.36 + 0.16 + 0.04) / 4.
        assert!((brier(&scores, &positive) - 0.57 / 4.0).abs() < 1e-12);
        assert_eq!(roc_auc(&scores, &[true; 4]), None, "one class only");
    }

    #[test]
    fn probability_metrics_match_scikit_learn() {
        let fixture: serde_json::Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/sklearn_metrics/cases.json"
        ))
        .unwrap();
        for case in fixture["cases"].as_array().unwrap() {
            let k = case["classes"].as_u64().unwrap() as usize;
            let truth: Vec<u32> = case["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect();
            let hundredths: Vec<Vec<u32>> =
                serde_json::from_value(case["hundredths"].clone()).unwrap();
            let rows: Vec<Vec<f64>> = hundredths
                .iter()
                .map(|r| r.iter().map(|&h| f64::from(h) / 100.0).collect())
                .collect();
            let probabilities: Vec<f64> = rows.iter().flatten().copied().collect();
            let predicted: Vec<u32> = rows
                .iter()
                .map(|r| (0..k).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap() as u32)
                .collect();
            let classes: Vec<String> = (0..k).map(|c| c.to_string()).collect();
            let m = Metrics::from_predictions(&classes, &truth, &predicted, 0.0)
                .with_probabilities(&truth, &probabilities);
            let close =
                |ours: Option<f64>, theirs: &serde_json::Value, what: &str| match theirs.as_f64() {
                    Some(t) => assert!(
                        (ours.unwrap() - t).abs() < 1e-12,
                        "{what} k={k}: {ours:?} vs {t}"
                    ),
                    None => assert_eq!(ours, None, "{what} k={k}"),
                };
            close(m.roc_auc, &case["roc_auc"], "roc_auc");
            close(m.brier, &case["brier"], "brier");
            close(m.log_loss, &case["log_loss"], "log_loss");
        }
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
