//! Gradient-boosted trees with the `forust-ml` crate (an XGBoost-style booster: classification
//! and regression, missing values natively, JSON save and load).
//!
//! * Features in [`Style::Trees`]: numbers raw, NaN for missing (forust learns a direction for
//!   missing values at each split); categories as their sorted train index, NaN when null or
//!   unseen, split as ordered codes (two threshold splits isolate a code).
//! * Objectives: squared error for regression (values in the target's units); log loss for a
//!   binary target (p = σ(score)); more classes: one booster per class on "this class or not",
//!   probabilities the softmax of their scores.
//! * Settings ([`GbmParams`]): `trees` boosting rounds (default 100), `learning_rate` (the
//!   shrinkage each leaf weight is multiplied by, default 0.1), `max_depth` (default 6) and
//!   `colsample` (the share of columns each tree may split on, default 1), XGBoost's defaults
//!   otherwise (L2 penalty λ = 1 on leaf weights, minimum hessian sum 1 per
//!   leaf, 256 histogram bins per feature, depth-wise growth).
//! * Stages: [`Staged`] scores a matrix after growing shares of the trees, each tree
//!   evaluated once (the training history's points).
//! * Gain importance: the total split gain per feature, summed over boosters and divided by the
//!   total (shares sum to 1).
//! * Fit time grows as rows × features × trees × depth (histogram building dominates):
//!   [`estimated_fit_seconds`] is that product times a constant measured on this machine class
//!   (BENCHMARKS.md "Tabular models"), so a request that cannot finish is refused up front:
//!   forust cannot stop a fit half-way.

use std::sync::Arc;

use forust_ml::gradientbooster::ImportanceMethod;
use forust_ml::objective::ObjectiveType;
use forust_ml::GradientBooster;
use serde::{Deserialize, Serialize};

use super::data::{Encoder, Matrix, Style, Task};
use super::outputs::{cross_entropy, Outputs};
use super::TabularError;
pub use synth::GainImportance;

pub const DEFAULT_TREES: u32 = 100;
pub const DEFAULT_LEARNING_RATE: f32 = 0.1;
pub const DEFAULT_MAX_DEPTH: u32 = 6;
pub const MAX_TREES: u32 = 10_000;
pub const MAX_DEPTH: u32 = 20;
/// Seconds per (row × feature × tree × depth level) on one core of the benchmark machine,
/// rounded up from BENCHMARKS.md "Tabular models" (100,000 × 20 × 100 trees × depth 6 in
/// 1.4 s on 2 cores: 1.2e-9 per unit on two, 2.4e-9 on one).
pub const SECONDS_PER_UNIT: f64 = 3e-9;
/// Rows at or above which predictions use the thread pool.
const PARALLEL_ROWS: usize = 2_048;

/// How to fit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct GbmParams {
    pub trees: u32,
    pub learning_rate: f32,
    pub max_depth: u32,
    /// The share of columns each tree may split on (XGBoost's `colsample_bytree`), 1 = all.
    #[serde(default = "all_columns")]
    pub colsample: f64,
    pub seed: u64,
}

fn all_columns() -> f64 {
    1.0
}

impl Default for GbmParams {
    fn default() -> Self {
        GbmParams {
            trees: DEFAULT_TREES,
            learning_rate: DEFAULT_LEARNING_RATE,
            max_depth: DEFAULT_MAX_DEPTH,
            colsample: 1.0,
            seed: 0,
        }
    }
}

impl GbmParams {
    pub fn validate(&self) -> Result<(), TabularError> {
        if !(1..=MAX_TREES).contains(&self.trees) {
            return Err(TabularError::invalid(
                "trees",
                format!("{}; must be 1-{MAX_TREES}", self.trees),
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return Err(TabularError::invalid(
                "learning_rate",
                format!("{}; must be in (0, 1]", self.learning_rate),
            ));
        }
        if !(1..=MAX_DEPTH).contains(&self.max_depth) {
            return Err(TabularError::invalid(
                "max_depth",
                format!("{}; must be 1-{MAX_DEPTH}", self.max_depth),
            ));
        }
        if !(self.colsample > 0.0 && self.colsample <= 1.0) {
            return Err(TabularError::invalid(
                "colsample",
                format!("{}; must be in (0, 1]", self.colsample),
            ));
        }
        Ok(())
    }
}

/// Boosters a task fits: one for regression and two classes, else one per class.
pub fn boosters_for(task: Task, classes: usize) -> usize {
    match task {
        Task::Classification if classes > 2 => classes,
        _ => 1,
    }
}

/// One core's seconds for a fit (module docs): the submit-time bound on what a job may ask.
pub fn estimated_fit_seconds(rows: usize, features: usize, boosters: usize, p: &GbmParams) -> f64 {
    rows as f64
        * features.max(1) as f64
        * boosters.max(1) as f64
        * f64::from(p.trees)
        * f64::from(p.max_depth)
        * SECONDS_PER_UNIT
}

/// A fitted tree ensemble with its encoder.
#[derive(Serialize, Deserialize, Clone)]
pub struct GbmModel {
    pub encoder: Encoder,
    pub params: GbmParams,
    /// One booster (regression, binary) or one per class, each kept as forust's own JSON
    /// document (its `json_dump`), so a file reads back with forust's own loader.
    /// Shared: forust's booster is not `Clone`, and a fitted one never changes.
    #[serde(with = "booster_json")]
    boosters: Arc<Vec<GradientBooster>>,
}

mod booster_json {
    use std::sync::Arc;

    use forust_ml::GradientBooster;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        b: &Arc<Vec<GradientBooster>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let docs = b
            .iter()
            .map(GradientBooster::json_dump)
            .collect::<Result<Vec<_>, _>>()
            .map_err(serde::ser::Error::custom)?;
        docs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<Vec<GradientBooster>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|doc| GradientBooster::from_json(doc).map_err(serde::de::Error::custom))
            .collect::<Result<Vec<_>, _>>()
            .map(Arc::new)
    }
}

impl std::fmt::Debug for GbmModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GbmModel")
            .field("boosters", &self.boosters.len())
            .field("trees", &self.trees())
            .field("nodes", &self.nodes())
            .finish()
    }
}

/// Equal when their JSON is: forust's types compare no other way.
impl PartialEq for GbmModel {
    fn eq(&self, other: &Self) -> bool {
        let json = |b: &[GradientBooster]| b.iter().map(|b| b.json_dump().ok()).collect::<Vec<_>>();
        self.encoder == other.encoder
            && self.params == other.params
            && json(&self.boosters) == json(&other.boosters)
    }
}

/// Column-major f64 copy of a row-major f32 matrix, as forust reads it.
fn columns(m: &Matrix) -> Vec<f64> {
    let mut out = vec![0.0; m.rows * m.width];
    for r in 0..m.rows {
        for c in 0..m.width {
            out[c * m.rows + r] = f64::from(m.x[r * m.width + c]);
        }
    }
    out
}

impl GbmModel {
    pub fn trees(&self) -> usize {
        self.boosters.iter().map(|b| b.trees.len()).sum()
    }

    pub fn nodes(&self) -> usize {
        self.boosters
            .iter()
            .flat_map(|b| &b.trees)
            .map(|t| t.nodes.len())
            .sum()
    }

    pub fn check(&self) -> Result<(), TabularError> {
        let expected = boosters_for(self.encoder.task, self.encoder.classes.len());
        if self.boosters.len() != expected || self.encoder.style() != Style::Trees {
            return Err(TabularError::Artifact(format!(
                "{} boosters for {} classes",
                self.boosters.len(),
                self.encoder.classes.len()
            )));
        }
        Ok(())
    }

    /// Scores (log-odds or values) per booster, each over all rows.
    pub fn scores(&self, m: &Matrix) -> Vec<Vec<f64>> {
        let data = columns(m);
        let matrix = forust_ml::Matrix::new(&data, m.rows, m.width);
        // A thread pool costs more than it saves on a few rows (one-row latency).
        let parallel = m.rows >= PARALLEL_ROWS;
        self.boosters
            .iter()
            .map(|b| b.predict(&matrix, parallel))
            .collect()
    }

    /// Outputs from scores per booster (as [`Staged::at`] answers them).
    pub fn to_outputs(&self, scores: Vec<Vec<f64>>, m: &Matrix) -> Outputs {
        match self.encoder.task {
            Task::Regression => Outputs::Values(scores.into_iter().next().unwrap_or_default()),
            Task::Classification => {
                let k = self.encoder.classes.len();
                let mut probabilities = Vec::with_capacity(m.rows * k);
                for r in 0..m.rows {
                    if k == 2 {
                        let p = 1.0 / (1.0 + (-scores[0][r]).exp());
                        probabilities.extend([1.0 - p, p]);
                    } else {
                        let max = scores
                            .iter()
                            .map(|s| s[r])
                            .fold(f64::NEG_INFINITY, f64::max);
                        let e: Vec<f64> = scores.iter().map(|s| (s[r] - max).exp()).collect();
                        let total: f64 = e.iter().sum();
                        probabilities.extend(e.iter().map(|v| v / total));
                    }
                }
                let loss = cross_entropy(&probabilities, &m.y, k);
                Outputs::Classes {
                    probabilities,
                    loss,
                }
            }
        }
    }

    /// Answers on a matrix in the encoder's tree encoding.
    pub fn outputs(&self, m: &Matrix) -> Result<Outputs, TabularError> {
        if m.width != self.encoder.width() {
            return Err(TabularError::Data(format!(
                "the matrix has width {}, the model {}",
                m.width,
                self.encoder.width()
            )));
        }
        Ok(self.to_outputs(self.scores(m), m))
    }

    /// Total split gain per column as a share of all gain, largest first.
    pub fn gain_importance(&self) -> Vec<GainImportance> {
        let mut gain = vec![0.0f64; self.encoder.width()];
        for b in self.boosters.iter() {
            let per = b.calculate_feature_importance(ImportanceMethod::TotalGain, false);
            for (f, g) in per {
                if let Some(slot) = gain.get_mut(f) {
                    *slot += f64::from(g);
                }
            }
        }
        let total: f64 = gain.iter().sum();
        let names = self.encoder.feature_names();
        let mut out: Vec<GainImportance> = names
            .into_iter()
            .zip(gain)
            .map(|(column, g)| GainImportance {
                column,
                share: if total > 0.0 { g / total } else { 0.0 },
            })
            .collect();
        out.sort_by(|a, b| {
            b.share
                .total_cmp(&a.share)
                .then_with(|| a.column.cmp(&b.column))
        });
        out
    }
}

/// One node of a fitted tree, as an exporter reads it: a leaf's `weight` (already shrunk by
/// the learning rate), or a split sending `x < threshold` to `left`, else to `right`, and a
/// missing value to `left` when `missing_left`. Node ids index the tree's node list.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeNode {
    pub leaf: bool,
    pub weight: f32,
    pub feature: usize,
    pub threshold: f64,
    pub left: usize,
    pub right: usize,
    pub missing_left: bool,
}

/// One booster: its starting score plus the sum of one leaf per tree is its score (log-odds,
/// or the value).
#[derive(Clone, Debug, PartialEq)]
pub struct BoosterTrees {
    pub base_score: f64,
    pub trees: Vec<Vec<TreeNode>>,
}

impl GbmModel {
    /// The boosters as plain trees, in [`GbmModel::outputs`]' order (one, or one per class).
    /// An error when a split keeps missing values apart from both children (forust's
    /// `create_missing_branch`, which this project never sets).
    pub fn booster_trees(&self) -> Result<Vec<BoosterTrees>, TabularError> {
        self.boosters
            .iter()
            .map(|b| {
                // The trees `predict` uses (all of them unless early stopping cut the list).
                let used = b.prediction_iteration.unwrap_or(b.trees.len());
                let trees = b.trees[..used.min(b.trees.len())]
                    .iter()
                    .map(|t| {
                        t.nodes
                            .iter()
                            .map(|n| {
                                if !n.is_leaf && n.has_missing_branch() {
                                    return Err(TabularError::Artifact(format!(
                                        "node {} sends missing values to a branch of its own",
                                        n.num
                                    )));
                                }
                                Ok(TreeNode {
                                    leaf: n.is_leaf,
                                    weight: n.weight_value,
                                    feature: n.split_feature,
                                    threshold: n.split_value,
                                    left: n.left_child,
                                    right: n.right_child,
                                    missing_left: n.missing_node == n.left_child,
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(BoosterTrees {
                    base_score: b.base_score,
                    trees,
                })
            })
            .collect()
    }
}

/// Scores of one matrix as trees are added in order: each tree is evaluated once, however
/// many stages are read.
pub struct Staged<'a> {
    model: &'a GbmModel,
    data: Vec<f64>,
    rows: usize,
    width: usize,
    scores: Vec<Vec<f64>>,
    applied: Vec<usize>,
}

impl<'a> Staged<'a> {
    pub fn new(model: &'a GbmModel, m: &Matrix) -> Self {
        Staged {
            model,
            data: columns(m),
            rows: m.rows,
            width: m.width,
            scores: model
                .boosters
                .iter()
                .map(|b| vec![b.base_score; m.rows])
                .collect(),
            applied: vec![0; model.boosters.len()],
        }
    }

    /// Scores from the first `fraction` of each booster's trees.
    pub fn at(&mut self, fraction: f64) -> Vec<Vec<f64>> {
        let matrix = forust_ml::Matrix::new(&self.data, self.rows, self.width);
        for (i, b) in self.model.boosters.iter().enumerate() {
            let n = (b.trees.len() as f64 * fraction).round() as usize;
            for t in &b.trees[self.applied[i]..n] {
                for (o, v) in self.scores[i]
                    .iter_mut()
                    .zip(t.predict(&matrix, false, &b.missing))
                {
                    *o += v;
                }
            }
            self.applied[i] = n.max(self.applied[i]);
        }
        self.scores.clone()
    }
}

impl GbmModel {
    /// Fits one booster per [`boosters_for`] on `train` (in the encoder's tree encoding).
    pub fn fit(
        train: &Matrix,
        encoder: &Encoder,
        params: &GbmParams,
    ) -> Result<GbmModel, TabularError> {
        params.validate()?;
        if encoder.style() != Style::Trees {
            return Err(TabularError::Data(
                "gradient-boosted trees need the tree encoding".into(),
            ));
        }
        if train.rows == 0 || train.width != encoder.width() {
            return Err(TabularError::Data(format!(
                "{} train rows of width {}, the encoder {}",
                train.rows,
                train.width,
                encoder.width()
            )));
        }
        let targets: Vec<Vec<f64>> = match encoder.task {
            Task::Regression => vec![train.values.clone()],
            Task::Classification => {
                let k = encoder.classes.len();
                let of = |c: u32| {
                    train
                        .y
                        .iter()
                        .map(|&y| f64::from(u8::from(y == c)))
                        .collect()
                };
                if k == 2 {
                    vec![of(1)]
                } else {
                    (0..k as u32).map(of).collect()
                }
            }
        };
        let objective = || match encoder.task {
            Task::Regression => ObjectiveType::SquaredLoss,
            Task::Classification => ObjectiveType::LogLoss,
        };
        let data = columns(train);
        let matrix = forust_ml::Matrix::new(&data, train.rows, train.width);
        let mut boosters = Vec::with_capacity(targets.len());
        for y in &targets {
            let mut b = GradientBooster::default()
                .set_objective_type(objective())
                .set_iterations(params.trees as usize)
                .set_learning_rate(params.learning_rate)
                .set_max_depth(params.max_depth as usize)
                .set_colsample_bytree(params.colsample)
                .set_seed(params.seed);
            b.fit_unweighted(&matrix, y, None)
                .map_err(|e| TabularError::Data(format!("gradient boosting: {e}")))?;
            boosters.push(b);
        }
        Ok(GbmModel {
            encoder: encoder.clone(),
            params: params.clone(),
            boosters: Arc::new(boosters),
        })
    }

    /// Each booster's tree count, in [`GbmModel::outputs`]' order.
    pub fn tree_counts(&self) -> Vec<usize> {
        self.boosters.iter().map(|b| b.trees.len()).collect()
    }
}
