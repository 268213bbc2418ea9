//! Linear regression by least squares, or ridge with an L2 penalty: solved exactly, not by
//! gradient steps.
//!
//! On the encoded train matrix X (standardized numbers, one-hot categories) and the
//! standardized target z, with X̄ and z̄ the column means, the weights minimize
//! (1/n)‖z − z̄ − (X − X̄)w‖² + λ‖w‖², λ = `training_config.weight_decay`: w solves
//! (XcᵀXc / n + λI) w = Xcᵀzc / n (Cholesky; when that matrix is singular, as with λ = 0 and a
//! one-hot group, the minimum-norm least-squares solution by SVD, as numpy's `lstsq`). The
//! intercept b = z̄ − X̄·w is not penalized, as in scikit-learn's `Ridge`. The result is the
//! one-layer network of [`Artifact`], so predict, importance and export treat it as one.

use std::time::Instant;

use nalgebra::{DMatrix, DVector};

use super::artifact::Artifact;
use super::data::{Encoder, Matrix, TargetScale};
use super::fitted::Model;
use super::metrics::Scored;
use super::model::{Architecture, Network};
use super::trainer::{check_matrices, evaluate, EpochStats, Observer, Trained};
use super::TrainingError;

/// Fits the weights; `lambda` ≥ 0 (module docs).
pub fn fit(
    train: &Matrix,
    val: &Matrix,
    encoder: &Encoder,
    lambda: f64,
    observer: &mut dyn Observer,
) -> Result<Trained, TrainingError> {
    check_matrices(train, val, encoder)?;
    if !(lambda >= 0.0 && lambda.is_finite()) {
        return Err(TrainingError::invalid(
            "weight_decay",
            format!("{lambda}; must be ≥ 0"),
        ));
    }
    let started = Instant::now();
    let scale = encoder.target_scale.unwrap_or(TargetScale {
        mean: 0.0,
        std: 1.0,
    });
    let (n, d) = (train.rows, train.width);
    let x = DMatrix::from_fn(n, d, |r, c| f64::from(train.x[r * d + c]));
    let z = DVector::from_iterator(n, train.values.iter().map(|v| (v - scale.mean) / scale.std));
    let x_mean = DVector::from_fn(d, |c, _| x.column(c).mean());
    let z_mean = z.mean();
    let mut xc = x.clone();
    for c in 0..d {
        xc.column_mut(c).add_scalar_mut(-x_mean[c]);
    }
    let zc = z.add_scalar(-z_mean);
    let nf = n.max(1) as f64;
    let mut gram = xc.transpose() * &xc / nf;
    for i in 0..d {
        gram[(i, i)] += lambda;
    }
    let rhs = xc.transpose() * &zc / nf;
    let w = match gram.clone().cholesky() {
        Some(ch) => ch.solve(&rhs),
        None => gram
            .svd(true, true)
            .solve(&rhs, 1e-10)
            .map_err(|e| TrainingError::Data(format!("least squares: {e}")))?,
    };
    let bias = z_mean - x_mean.dot(&w);
    let weights = w.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    let net = Network::from_weights(
        &Architecture::LogisticRegression,
        vec![(d, 1, weights, vec![bias as f32])],
    )?;
    let train_eval = evaluate(&net, train, encoder)?;
    let val_eval = evaluate(&net, val, encoder)?;
    let training = train_eval.outputs.score(encoder, train);
    let validation = val_eval.outputs.score(encoder, val);
    // One "epoch": the exact solve.
    let stats = EpochStats {
        epoch: 1,
        loss: train_eval.loss,
        val_loss: val_eval.loss,
        seconds: started.elapsed().as_secs_f64(),
        ..EpochStats::default()
    }
    .with_validation(&validation);
    let stopped = match observer.on_epoch(&stats, 1) {
        super::trainer::Control::Stop(reason) => Some(reason),
        super::trainer::Control::Continue => None,
    };
    debug_assert!(matches!(validation, Scored::Regression(_)));
    Ok(Trained {
        history: vec![stats],
        stopped,
        reached_target: false,
        validation,
        training,
        model: Model::Network(Artifact::new(
            Architecture::LogisticRegression,
            encoder.clone(),
            &net,
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::{Model, Prediction, Style, Task};

    #[test]
    fn least_squares_recovers_the_coefficients_and_predicts_values() {
        let table = linear_target(600, 1);
        let (train_m, val_m, enc) = encoded_for(&table, "y", Task::Regression, Style::Network);
        assert_eq!(enc.outputs(), 1);
        assert!(enc.classes.is_empty());
        let t = fit(&train_m, &val_m, &enc, 0.0, &mut ()).unwrap();
        let Scored::Regression(m) = &t.validation else {
            panic!("regression scores")
        };
        // Noise σ = 0.5, plus the imputed x1 rows: RMSE a little above 0.5; R² near 1.
        assert!(m.rmse < 1.2 && m.r2 > 0.9, "{m:?}");
        let base = m.baseline.as_ref().unwrap();
        assert!(base.r2 <= 0.0 && base.rmse > 2.0 * m.rmse, "{base:?}");
        assert_eq!(t.history.len(), 1);
        assert_eq!(t.history[0].val_r2, Some(m.r2));
        assert_eq!(t.history[0].val_accuracy, None);
        // The weight on standardized x1, back in original units: 3 · sd(y)/sd(x1) scaling.
        let model = &t.model;
        assert_eq!(model.family(), "linear");
        let rows = json_rows(&table);
        let p = model.predict(&rows[1..3]).unwrap();
        for (pred, row) in p.iter().zip(&table.rows[1..3]) {
            let Prediction::Value { value } = pred else {
                panic!("a value")
            };
            let y = row[4].as_f64().unwrap();
            assert!((value - y).abs() < 2.0, "{value} vs {y}");
        }
        // A missing x1 is imputed, not refused.
        let one = serde_json::json!({"x2": 1.0, "color": "red", "noise": 0.5});
        assert!(matches!(
            model.predict(&[one]).unwrap()[0],
            Prediction::Value { .. }
        ));
        // The file round-trips.
        let back = Model::from_bytes(&model.to_bytes().unwrap()).unwrap();
        assert_eq!(&back, model);
        assert_eq!(back.evaluate(&val_m).unwrap(), t.validation);
    }

    #[test]
    fn ridge_shrinks_the_weights() {
        let table = linear_target(300, 2);
        let (train_m, val_m, enc) = encoded_for(&table, "y", Task::Regression, Style::Network);
        let norm = |lambda| {
            let t = fit(&train_m, &val_m, &enc, lambda, &mut ()).unwrap();
            t.artifact().unwrap().layers[0]
                .weight
                .iter()
                .map(|w| w * w)
                .sum::<f32>()
        };
        assert!(norm(1.0) < norm(0.0));
        assert!(fit(&train_m, &val_m, &enc, -1.0, &mut ()).is_err());
    }
}
