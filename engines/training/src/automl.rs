//! AutoML (`architecture: auto`): every candidate scored by cross-validation on the same
//! folds of the training split, under a time budget; the best refit on the whole training
//! split and scored once on the held-out validation split.
//!
//! * Folds: stratified k-fold (each class's rows shuffled with ChaCha8(seed) and dealt round
//!   robin; a regression target is one stratum). k = 5, or the smallest class's train rows
//!   when fewer (at least 2); for regression, at most rows / 2.
//! * Candidates: the baseline (majority class or mean), `linear`, then the `gbm` and `mlp`
//!   grids, trees first ([`candidates`]). The network candidates see the standardized one-hot
//!   encoding, the trees the raw one; the folds are the same rows in both.
//! * Score: the task's headline metric on each fold's held-out rows (accuracy, or R²); the
//!   leaderboard gives its mean and population standard deviation over the folds, the mean fit
//!   seconds per fold, the predict latency per row (the held-out rows' prediction time divided
//!   by their count, mean over folds) and the size of the fold-1 model's file in bytes.
//! * Ranking: by the CV mean, highest first; equal means keep the candidate order (the cheaper
//!   first). Only candidates scored on every fold are ranked.
//! * Budget: before each fold, the candidate's expected fold time (its previous fold, else the
//!   last fold of its family, else for trees [`gbm::estimated_fit_seconds`]) must fit in what is left after keeping back the refit of the
//!   best so far (its mean fold fit × k/(k − 1) × 1.5); otherwise the candidate is `skipped`,
//!   with the reason, and so are the ones after it that do not fit.
//! * The encoders are fitted once on the whole training split (their statistics use no
//!   labels; the screen's target-copy check does, on the training split only).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::data::{Encoder, Matrix, Task};
use super::fitted::{Baseline, Model};
use super::gbm::{self, GbmParams};
use super::linear;
use super::model::{Activation, Architecture, OptimizerKind};
use super::trainer::{self, Control, EpochStats, Observer, StopReason, TrainParams, Trained};
use super::TrainingError;

/// Folds at most.
pub const MAX_FOLDS: usize = 5;
/// `training_config.time_budget_seconds` when absent.
pub const DEFAULT_TIME_BUDGET_SECONDS: u64 = 60;

/// The matrices of one split, in the two encodings.
pub struct Encoded<'a> {
    pub network: (&'a Matrix, &'a Matrix, &'a Encoder),
    pub trees: (&'a Matrix, &'a Matrix, &'a Encoder),
}

/// How to search.
#[derive(Clone, Debug)]
pub struct AutoParams {
    pub time_budget: Duration,
    pub seed: u64,
}

/// What a candidate is.
#[derive(Clone, Debug, PartialEq)]
pub enum Spec {
    Baseline,
    /// Regression: ridge with this λ. Classification: logistic regression with these params.
    Linear {
        lambda: f64,
        params: TrainParams,
    },
    Mlp(TrainParams),
    Gbm(GbmParams),
}

impl Spec {
    pub fn family(&self) -> &'static str {
        match self {
            Spec::Baseline => "baseline",
            Spec::Linear { .. } => "linear",
            Spec::Mlp(_) => "mlp",
            Spec::Gbm(_) => "gbm",
        }
    }
}

/// A candidate of the search.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub name: String,
    pub spec: Spec,
    pub settings: serde_json::Value,
}

/// One row of the leaderboard.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LeaderboardEntry {
    /// 1 for the best; absent for skipped candidates.
    pub rank: Option<u32>,
    pub candidate: String,
    pub family: String,
    pub settings: serde_json::Value,
    /// `scored` or `skipped`.
    pub status: String,
    pub skipped_reason: Option<String>,
    /// The metric on each fold's held-out rows.
    pub cv_scores: Vec<f64>,
    pub cv_mean: Option<f64>,
    pub cv_std: Option<f64>,
    pub fit_seconds: Option<f64>,
    pub predict_us_per_row: Option<f64>,
    pub size_bytes: Option<u64>,
}

/// What the search did.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AutoReport {
    /// `accuracy` or `r2`, higher is better.
    pub metric: String,
    pub folds: usize,
    pub folds_rule: String,
    pub time_budget_seconds: f64,
    pub search_seconds: f64,
    pub refit_seconds: f64,
    /// The chosen candidate (refit on the whole training split).
    pub best: Option<String>,
    /// The best candidate's CV mean minus the baseline's, in metric units.
    pub lift_over_baseline: Option<f64>,
    pub leaderboard: Vec<LeaderboardEntry>,
}

/// Mini-batch size for a network candidate on `rows` rows: about 50 steps an epoch, between
/// 32 and 512 rows a step.
fn batch_for(rows: usize) -> u32 {
    (rows / 50).clamp(32, 512) as u32
}

/// The candidates, cheap first (module docs).
pub fn candidates(task: Task, train_rows: usize, seed: u64) -> Vec<Candidate> {
    let batch_size = batch_for(train_rows);
    let net = |architecture: Architecture, epochs: u32, learning_rate: f64, weight_decay: f64| {
        TrainParams {
            architecture,
            optimizer: OptimizerKind::Adam,
            epochs,
            batch_size,
            learning_rate,
            weight_decay,
            target_accuracy: None,
            seed,
        }
    };
    let mut out = vec![Candidate {
        name: "baseline".into(),
        spec: Spec::Baseline,
        settings: json!({"predicts": match task {
            Task::Classification => "the most frequent class",
            Task::Regression => "the mean",
        }}),
    }];
    let lr_params = net(Architecture::LogisticRegression, 40, 0.01, 1e-3);
    match task {
        Task::Classification => out.push(Candidate {
            name: "linear".into(),
            settings: json!({"model": "logistic_regression", "epochs": 40, "learning_rate": 0.01,
                "weight_decay": 1e-3, "batch_size": batch_size}),
            spec: Spec::Linear {
                lambda: 1e-3,
                params: lr_params,
            },
        }),
        Task::Regression => {
            for lambda in [1e-3, 1e-1] {
                out.push(Candidate {
                    name: format!("linear lambda={lambda}"),
                    settings: json!({"model": "ridge", "lambda": lambda}),
                    spec: Spec::Linear {
                        lambda,
                        params: lr_params.clone(),
                    },
                });
            }
        }
    }
    let gbm = |trees: u32, learning_rate: f32, max_depth: u32, colsample: f64| Candidate {
        name: format!(
            "gbm trees={trees} lr={learning_rate} depth={max_depth} colsample={colsample}"
        ),
        settings: json!({"trees": trees, "learning_rate": learning_rate, "max_depth": max_depth,
            "colsample": colsample}),
        spec: Spec::Gbm(GbmParams {
            trees,
            learning_rate,
            max_depth,
            colsample,
            seed,
        }),
    };
    let mlp = |hidden: &[usize], activation: Activation, lr: f64| {
        let params = net(
            Architecture::Mlp {
                hidden: hidden.to_vec(),
                activation,
                dropout: 0.0,
            },
            60,
            lr,
            1e-4,
        );
        Candidate {
            name: format!(
                "mlp {hidden:?} {} lr={lr}",
                format!("{activation:?}").to_lowercase()
            ),
            settings: json!({"hidden_layers": hidden, "activation": format!("{activation:?}").to_lowercase(),
                "epochs": 60, "learning_rate": lr, "weight_decay": 1e-4, "batch_size": batch_size}),
            spec: Spec::Mlp(params),
        }
    };
    // Trees first: on tables they win most often and fit fastest. The grid: the defaults, a
    // slower shallower ensemble on half the columns per tree for small or noisy tables
    // (diabetes: R² 0.12 → 0.24), and more trees on half the columns.
    out.push(gbm(100, 0.1, 6, 1.0));
    out.push(gbm(300, 0.05, 4, 0.5));
    out.push(mlp(&[64, 32], Activation::Relu, 3e-3));
    out.push(gbm(300, 0.1, 6, 0.5));
    out.push(mlp(&[128, 64], Activation::Relu, 1e-3));
    out.push(mlp(&[32], Activation::Tanh, 1e-2));
    out
}

/// k (module docs) and the rule that chose it.
fn fold_count(encoder: &Encoder, train: &Matrix) -> (usize, String) {
    match encoder.task {
        Task::Classification => {
            let mut counts = vec![0usize; encoder.classes.len()];
            for &y in &train.y {
                counts[y as usize] += 1;
            }
            let smallest = counts.iter().copied().filter(|&c| c > 0).min().unwrap_or(0);
            let k = smallest.clamp(2, MAX_FOLDS);
            let rule = if k < MAX_FOLDS {
                format!("stratified {k}-fold: the smallest class has {smallest} training rows")
            } else {
                format!("stratified {MAX_FOLDS}-fold")
            };
            (k, rule)
        }
        Task::Regression => {
            let k = (train.rows / 2).clamp(2, MAX_FOLDS);
            (k, format!("{k}-fold on shuffled rows"))
        }
    }
}

/// Each row's fold (module docs).
fn assign_folds(encoder: &Encoder, train: &Matrix, k: usize, seed: u64) -> Vec<usize> {
    let mut strata: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for r in 0..train.rows {
        let key = match encoder.task {
            Task::Classification => train.y[r],
            Task::Regression => 0,
        };
        strata.entry(key).or_default().push(r);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xf01d);
    let mut fold = vec![0usize; train.rows];
    let mut next = 0usize;
    for rows in strata.values_mut() {
        rows.shuffle(&mut rng);
        for &r in rows.iter() {
            fold[r] = next % k;
            next += 1;
        }
    }
    fold
}

/// Forwards deadline and stop checks, keeps epoch reports to itself.
struct Quiet<'a> {
    inner: &'a mut dyn Observer,
    stopped: Option<StopReason>,
}

impl Observer for Quiet<'_> {
    fn between_batches(&mut self) -> Control {
        let c = self.inner.between_batches();
        if let Control::Stop(r) = c {
            self.stopped.get_or_insert(r);
        }
        c
    }
    fn on_epoch(&mut self, _stats: &EpochStats, _epochs: u32) -> Control {
        Control::Continue
    }
}

/// Fits `spec` on one encoding's train matrix, validating on `val`.
fn fit_spec(
    spec: &Spec,
    train: &Matrix,
    val: &Matrix,
    encoder: &Encoder,
    observer: &mut dyn Observer,
) -> Result<Trained, TrainingError> {
    match spec {
        Spec::Baseline => {
            let b = Baseline::fit(encoder, train);
            let model = Model::Baseline(b);
            let validation = model.evaluate(val)?;
            let training = model.evaluate(train)?;
            let stats = EpochStats {
                epoch: 1,
                ..EpochStats::default()
            }
            .with_validation(&validation);
            let stopped = match observer.on_epoch(&stats, 1) {
                Control::Stop(r) => Some(r),
                Control::Continue => None,
            };
            Ok(Trained {
                history: vec![stats],
                stopped,
                reached_target: false,
                validation,
                training,
                model,
            })
        }
        Spec::Linear { lambda, params } => match encoder.task {
            Task::Regression => linear::fit(train, val, encoder, *lambda, observer),
            Task::Classification => trainer::train(train, val, encoder, params, observer),
        },
        Spec::Mlp(params) => trainer::train(train, val, encoder, params, observer),
        Spec::Gbm(params) => gbm::fit(train, val, encoder, params, observer),
    }
}

/// Runs the search and refits the best (module docs). `observer` sees deadline and stop
/// checks throughout, each candidate's result through [`Observer::on_candidate`], and the
/// refit's epochs.
pub fn search(
    data: &Encoded<'_>,
    params: &AutoParams,
    observer: &mut dyn Observer,
) -> Result<(Trained, AutoReport), TrainingError> {
    let started = Instant::now();
    let (n_train, n_val, n_enc) = data.network;
    let (t_train, t_val, t_enc) = data.trees;
    if n_train.rows != t_train.rows || n_val.rows != t_val.rows {
        return Err(TrainingError::Data(
            "the two encodings hold different rows".into(),
        ));
    }
    let task = n_enc.task;
    let metric = match task {
        Task::Classification => "accuracy",
        Task::Regression => "r2",
    };
    let (k, folds_rule) = fold_count(n_enc, n_train);
    let fold = assign_folds(n_enc, n_train, k, params.seed);
    let split_of = |f: usize| -> (Vec<usize>, Vec<usize>) {
        let (mut fit, mut held) = (Vec::new(), Vec::new());
        for (r, &g) in fold.iter().enumerate() {
            if g == f {
                held.push(r)
            } else {
                fit.push(r)
            }
        }
        (fit, held)
    };
    let splits: Vec<(Vec<usize>, Vec<usize>)> = (0..k).map(split_of).collect();
    let list = candidates(task, splits[0].0.len(), params.seed);
    let budget = params.time_budget.as_secs_f64();
    let mut board: Vec<LeaderboardEntry> = Vec::new();
    let mut last_fold_seconds: BTreeMap<&'static str, f64> = BTreeMap::new();
    // (candidate index, cv mean, mean fold seconds, its fold-1 model)
    let mut best: Option<(usize, f64, f64, Model)> = None;
    let mut stopped = None;
    for (ci, cand) in list.iter().enumerate() {
        let family = cand.spec.family();
        let uses_trees = matches!(cand.spec, Spec::Gbm(_));
        let (train, enc) = if uses_trees {
            (t_train, t_enc)
        } else {
            (n_train, n_enc)
        };
        let mut entry = LeaderboardEntry {
            rank: None,
            candidate: cand.name.clone(),
            family: family.into(),
            settings: cand.settings.clone(),
            status: "scored".into(),
            skipped_reason: None,
            cv_scores: Vec::new(),
            cv_mean: None,
            cv_std: None,
            fit_seconds: None,
            predict_us_per_row: None,
            size_bytes: None,
        };
        let (mut fit_total, mut predict_total) = (0.0, 0.0);
        let mut first_model = None;
        let mut skip = None;
        for (f, (fit_rows, held_rows)) in splits.iter().enumerate() {
            if stopped.is_some() {
                skip = Some("the job was stopped".to_string());
                break;
            }
            let elapsed = started.elapsed().as_secs_f64();
            let reserve = best
                .as_ref()
                .map_or(0.0, |b| b.2 * k as f64 / (k - 1) as f64 * 1.5);
            let left = budget - elapsed - reserve;
            let expected = match (f, &cand.spec) {
                (1.., _) => fit_total / f as f64,
                // A tree fit cannot stop half-way: bound the first one by its estimate.
                (0, Spec::Gbm(p)) => last_fold_seconds.get(family).copied().unwrap_or_else(|| {
                    gbm::estimated_fit_seconds(
                        fit_rows.len(),
                        enc.width(),
                        gbm::boosters_for(enc.task, enc.classes.len()),
                        p,
                    )
                }),
                (0, _) => last_fold_seconds.get(family).copied().unwrap_or(0.0),
            };
            if family != "baseline" && (left <= 0.0 || expected > left) {
                skip = Some(format!(
                    "time budget: {:.1} s left after keeping {:.1} s for the refit; a fold takes about {:.1} s",
                    (budget - elapsed - reserve).max(0.0),
                    reserve,
                    expected
                ));
                break;
            }
            let fit_m = train.select(fit_rows);
            let held_m = train.select(held_rows);
            let mut quiet = Quiet {
                inner: observer,
                stopped: None,
            };
            let t0 = Instant::now();
            let trained = fit_spec(&cand.spec, &fit_m, &held_m, enc, &mut quiet)?;
            let fit_seconds = t0.elapsed().as_secs_f64();
            if let Some(r) = quiet.stopped.or(trained.stopped) {
                stopped = Some(r);
                skip = Some("the job was stopped".to_string());
                break;
            }
            let t1 = Instant::now();
            let outputs = trained.model.outputs(&held_m)?;
            predict_total += t1.elapsed().as_secs_f64() * 1e6 / held_m.rows.max(1) as f64;
            entry.cv_scores.push(outputs.headline(enc, &held_m));
            fit_total += fit_seconds;
            last_fold_seconds.insert(family, fit_seconds);
            if f == 0 {
                entry.size_bytes = trained.model.to_bytes().ok().map(|b| b.len() as u64);
                first_model = Some(trained.model);
            }
        }
        if let Some(reason) = skip {
            entry.status = "skipped".into();
            entry.skipped_reason = Some(reason);
            entry.cv_scores.clear();
            entry.size_bytes = None;
        } else {
            let n = k as f64;
            let mean = entry.cv_scores.iter().sum::<f64>() / n;
            let std = (entry
                .cv_scores
                .iter()
                .map(|s| (s - mean).powi(2))
                .sum::<f64>()
                / n)
                .sqrt();
            entry.cv_mean = Some(mean);
            entry.cv_std = Some(std);
            entry.fit_seconds = Some(fit_total / n);
            entry.predict_us_per_row = Some(predict_total / n);
            if best.as_ref().is_none_or(|b| mean > b.1) {
                best = Some((ci, mean, fit_total / n, first_model.expect("a fold ran")));
            }
        }
        observer.on_candidate(&entry, ci + 1, list.len());
        board.push(entry);
    }
    let search_seconds = started.elapsed().as_secs_f64();
    // Rank the scored ones; skipped ones follow in candidate order.
    let mut order: Vec<usize> = (0..board.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| board[i].cv_mean.unwrap_or(f64::NEG_INFINITY);
        key(b).total_cmp(&key(a)).then(a.cmp(&b))
    });
    let mut ranked = Vec::with_capacity(board.len());
    for (r, i) in order.into_iter().enumerate() {
        let mut e = board[i].clone();
        if e.cv_mean.is_some() {
            e.rank = Some(r as u32 + 1);
        }
        ranked.push(e);
    }
    let baseline_mean = board.first().and_then(|b| b.cv_mean);
    let refit_started = Instant::now();
    let (trained, best_name) = match (best, stopped) {
        (Some((ci, _, _, fold_model)), Some(reason)) => {
            // Stopped: the best candidate's fold-1 model, without a refit.
            let cand = &list[ci];
            let (val, enc) = if matches!(cand.spec, Spec::Gbm(_)) {
                (t_val, t_enc)
            } else {
                (n_val, n_enc)
            };
            let validation = fold_model.evaluate(val)?;
            let training = fold_model.evaluate(if matches!(cand.spec, Spec::Gbm(_)) {
                t_train
            } else {
                n_train
            })?;
            let _ = enc;
            (
                Trained {
                    history: Vec::new(),
                    stopped: Some(reason),
                    reached_target: false,
                    validation,
                    training,
                    model: fold_model,
                },
                Some(cand.name.clone()),
            )
        }
        (Some((ci, _, _, _)), None) => {
            let cand = &list[ci];
            let (train, val, enc) = if matches!(cand.spec, Spec::Gbm(_)) {
                (t_train, t_val, t_enc)
            } else {
                (n_train, n_val, n_enc)
            };
            let t = fit_spec(&cand.spec, train, val, enc, observer)?;
            (t, Some(cand.name.clone()))
        }
        (None, _) => {
            let mut t = fit_spec(&Spec::Baseline, n_train, n_val, n_enc, observer)?;
            t.stopped = t.stopped.or(stopped);
            (t, None)
        }
    };
    let best_mean = ranked.first().and_then(|e| e.cv_mean);
    let report = AutoReport {
        metric: metric.into(),
        folds: k,
        folds_rule,
        time_budget_seconds: budget,
        search_seconds,
        refit_seconds: refit_started.elapsed().as_secs_f64(),
        best: best_name,
        lift_over_baseline: best_mean.zip(baseline_mean).map(|(b, base)| b - base),
        leaderboard: ranked,
    };
    Ok((trained, report))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::Style;

    fn run(table: &synth::Table, target: &str, task: Task, budget: u64) -> (Trained, AutoReport) {
        let (nt, nv, ne) = encoded_for(table, target, task, Style::Network);
        let (tt, tv, te) = encoded_for(table, target, task, Style::Trees);
        let data = Encoded {
            network: (&nt, &nv, &ne),
            trees: (&tt, &tv, &te),
        };
        let params = AutoParams {
            time_budget: Duration::from_secs(budget),
            seed: 3,
        };
        search(&data, &params, &mut ()).unwrap()
    }

    #[test]
    fn the_leaderboard_ranks_every_candidate_on_the_same_folds() {
        let (trained, report) = run(&xor(400, 9), "label", Task::Classification, 60);
        assert_eq!(report.metric, "accuracy");
        assert_eq!(report.folds, 5);
        let scored: Vec<&LeaderboardEntry> = report
            .leaderboard
            .iter()
            .filter(|e| e.status == "scored")
            .collect();
        assert!(scored.iter().any(|e| e.family == "baseline"));
        for e in &scored {
            assert_eq!(e.cv_scores.len(), 5, "{e:?}");
            assert!(e.fit_seconds.is_some() && e.size_bytes.unwrap() > 0);
            assert!(e.predict_us_per_row.unwrap() > 0.0);
        }
        // Ranked by CV mean, best first.
        let means: Vec<f64> = scored.iter().map(|e| e.cv_mean.unwrap()).collect();
        assert!(means.windows(2).all(|w| w[0] >= w[1]), "{means:?}");
        assert_eq!(scored[0].rank, Some(1));
        // XOR: a linear model and the majority class are near chance; the winner is not.
        assert_ne!(scored[0].family, "baseline");
        assert_ne!(scored[0].family, "linear");
        assert_eq!(report.best.as_deref(), Some(scored[0].candidate.as_str()));
        assert!(report.lift_over_baseline.unwrap() > 0.3, "{report:?}");
        assert!(trained.validation.accuracy().unwrap() > 0.85);
        assert_eq!(trained.model.family(), scored[0].family);
    }

    #[test]
    fn an_exhausted_budget_skips_candidates_and_says_so() {
        let (trained, report) = run(&linear_target(300, 4), "y", Task::Regression, 0);
        assert_eq!(report.metric, "r2");
        let skipped: Vec<&LeaderboardEntry> = report
            .leaderboard
            .iter()
            .filter(|e| e.status == "skipped")
            .collect();
        // With no time at all, only the baseline runs (it costs nothing).
        assert_eq!(skipped.len(), report.leaderboard.len() - 1);
        assert!(skipped.iter().all(|e| e
            .skipped_reason
            .as_deref()
            .unwrap()
            .starts_with("time budget")));
        assert_eq!(trained.model.family(), "baseline");
    }
}
