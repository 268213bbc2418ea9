//! Hyperparameter sweeps, the pure part: a search space over dotted request fields, its grid
//! or seeded random points, and asynchronous successive halving (ASHA) across trials.
//!
//! Each point is a list of `(field, value)` in the space's key order; the API applies it to a
//! base training request and trains each point as its own job.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// Where one field's values come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// These values, in order (grid) or drawn uniformly (random).
    Choice(Vec<Value>),
    /// A number in `[min, max]`: uniform, or log-uniform with `log`; whole numbers with
    /// `integer` (random only).
    Range {
        min: f64,
        max: f64,
        log: bool,
        integer: bool,
    },
}

/// One point of a space: each field with its value, in the space's key order.
pub type Point = Vec<(String, Value)>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error("the grid has {points} points, more than the {limit} a sweep may run")]
    TooManyPoints { points: u128, limit: usize },
    #[error("{field}: a range cannot be searched by grid; list its values instead")]
    RangeInGrid { field: String },
}

/// Every combination of the choices, the last key varying fastest, at most `limit` points.
pub fn grid(space: &BTreeMap<String, Domain>, limit: usize) -> Result<Vec<Point>, SpaceError> {
    let mut axes: Vec<(&String, &Vec<Value>)> = Vec::with_capacity(space.len());
    for (field, domain) in space {
        match domain {
            Domain::Choice(values) => axes.push((field, values)),
            Domain::Range { .. } => {
                return Err(SpaceError::RangeInGrid {
                    field: field.clone(),
                })
            }
        }
    }
    let points: u128 = axes.iter().map(|(_, v)| v.len() as u128).product();
    if points > limit as u128 {
        return Err(SpaceError::TooManyPoints { points, limit });
    }
    let mut out: Vec<Point> = vec![Vec::new()];
    for (field, values) in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push((field.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    Ok(out)
}

/// `n` points drawn from a ChaCha8 stream seeded with `seed`: for each point, each key in
/// order draws once. A choice takes index `⌊u·len⌋`; a range takes `min + u·(max − min)`, or
/// `exp(ln min + u·(ln max − ln min))` when `log`, rounded to the nearest whole number when
/// `integer` (u uniform in [0, 1)).
pub fn random(space: &BTreeMap<String, Domain>, n: usize, seed: u64) -> Vec<Point> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            space
                .iter()
                .map(|(field, domain)| (field.clone(), draw(domain, &mut rng)))
                .collect()
        })
        .collect()
}

fn draw(domain: &Domain, rng: &mut ChaCha8Rng) -> Value {
    let u: f64 = rng.random();
    match domain {
        Domain::Choice(values) => {
            let i = ((u * values.len() as f64) as usize).min(values.len().saturating_sub(1));
            values.get(i).cloned().unwrap_or(Value::Null)
        }
        Domain::Range {
            min,
            max,
            log,
            integer,
        } => {
            let x = if *log {
                (min.ln() + u * (max.ln() - min.ln())).exp()
            } else {
                min + u * (max - min)
            };
            let x = x.clamp(*min, *max);
            if *integer {
                Value::from(x.round() as i64)
            } else {
                serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
            }
        }
    }
}

/// Asynchronous successive halving (Li et al., "A System for Massively Parallel
/// Hyperparameter Tuning", 2020), as a pruner: rungs at `min_epochs · η^k` epochs; a trial
/// reaching a rung continues only if its value is among the best `max(1, ⌊n/η⌋)` of the `n`
/// values recorded at that rung so far, its own included (Optuna's SuccessiveHalvingPruner).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Asha {
    pub min_epochs: u32,
    pub reduction_factor: u32,
}

impl Asha {
    /// The rung epochs below `max_epochs` (a trial's last epoch is its result, not a rung).
    pub fn rungs(&self, max_epochs: u32) -> Vec<u32> {
        let mut rungs = Vec::new();
        let mut epoch = u64::from(self.min_epochs.max(1));
        let eta = u64::from(self.reduction_factor.max(2));
        while epoch < u64::from(max_epochs) {
            rungs.push(epoch as u32);
            epoch *= eta;
        }
        rungs
    }

    /// Whether the trial whose value is `values[own]` continues, given the rung's values in
    /// the order they were recorded; only values recorded up to its own count, so a repeated
    /// report decides the same way. Higher is better when `maximize`. Ties continue.
    pub fn continues(&self, values: &[f64], own: usize, maximize: bool) -> bool {
        let Some(&value) = values.get(own) else {
            return true;
        };
        let seen = &values[..=own];
        let keep = (seen.len() / self.reduction_factor.max(2) as usize).max(1);
        let better = seen
            .iter()
            .filter(|v| if maximize { **v > value } else { **v < value })
            .count();
        better < keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn space(entries: &[(&str, Domain)]) -> BTreeMap<String, Domain> {
        entries
            .iter()
            .map(|(k, d)| (k.to_string(), d.clone()))
            .collect()
    }

    #[test]
    fn the_grid_is_every_combination_in_key_order() {
        let s = space(&[
            (
                "training_config.learning_rate",
                Domain::Choice(vec![json!(0.001), json!(0.01), json!(0.1)]),
            ),
            (
                "model_config.hidden_layers",
                Domain::Choice(vec![json!([16]), json!([64, 32])]),
            ),
        ]);
        let points = grid(&s, 100).unwrap();
        assert_eq!(points.len(), 6);
        // BTreeMap order: model_config.* before training_config.*; the last key varies fastest.
        assert_eq!(
            points[0],
            vec![
                ("model_config.hidden_layers".to_string(), json!([16])),
                ("training_config.learning_rate".to_string(), json!(0.001)),
            ]
        );
        assert_eq!(points[1][1].1, json!(0.01));
        assert_eq!(points[3][0].1, json!([64, 32]));
        assert_eq!(
            grid(&s, 5),
            Err(SpaceError::TooManyPoints {
                points: 6,
                limit: 5
            })
        );
        let ranged = space(&[(
            "training_config.learning_rate",
            Domain::Range {
                min: 0.001,
                max: 0.1,
                log: true,
                integer: false,
            },
        )]);
        assert!(matches!(
            grid(&ranged, 100),
            Err(SpaceError::RangeInGrid { .. })
        ));
    }

    #[test]
    fn random_points_are_seeded_and_in_range() {
        let s = space(&[
            (
                "training_config.batch_size",
                Domain::Range {
                    min: 16.0,
                    max: 256.0,
                    log: true,
                    integer: true,
                },
            ),
            (
                "training_config.learning_rate",
                Domain::Range {
                    min: 1e-4,
                    max: 1e-1,
                    log: true,
                    integer: false,
                },
            ),
            (
                "training_config.optimizer",
                Domain::Choice(vec![json!("adam"), json!("sgd")]),
            ),
        ]);
        let a = random(&s, 50, 7);
        assert_eq!(a, random(&s, 50, 7));
        assert_ne!(a, random(&s, 50, 8));
        let mut small_rates = 0;
        for p in &a {
            let batch = p[0].1.as_i64().unwrap();
            assert!((16..=256).contains(&batch), "{batch}");
            let lr = p[1].1.as_f64().unwrap();
            assert!((1e-4..=1e-1).contains(&lr), "{lr}");
            small_rates += usize::from(lr < 1e-2);
            assert!(p[2].1 == json!("adam") || p[2].1 == json!("sgd"));
        }
        // Log-uniform: two of the three decades lie below 0.01.
        assert!((20..=45).contains(&small_rates), "{small_rates}");
    }

    #[test]
    fn asha_rungs_and_decisions() {
        let asha = Asha {
            min_epochs: 1,
            reduction_factor: 3,
        };
        assert_eq!(asha.rungs(20), vec![1, 3, 9]);
        assert_eq!(asha.rungs(9), vec![1, 3]);
        assert_eq!(asha.rungs(1), Vec::<u32>::new());
        // The first arrivals continue: fewer than η values keep the best one.
        assert!(asha.continues(&[0.5], 0, true));
        assert!(!asha.continues(&[0.5, 0.4], 1, true));
        assert!(asha.continues(&[0.5, 0.6], 1, true));
        // A decision only looks at the values recorded before it: five keep the best one,
        // six the best two.
        let values = [0.5, 0.6, 0.7, 0.55, 0.65, 0.68];
        assert!(!asha.continues(&values, 3, true));
        assert!(!asha.continues(&values, 4, true));
        assert!(asha.continues(&values, 5, true));
        assert!(asha.continues(&values, 2, true));
        // Lower is better for a loss.
        assert!(asha.continues(&[0.3, 0.2], 1, false));
        assert!(!asha.continues(&[0.3, 0.4], 1, false));
        // Ties continue.
        assert!(asha.continues(&[0.5, 0.5], 1, true));
    }
}
