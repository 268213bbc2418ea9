//! The implementation roadmap, derived from the enhancements chosen. A phase's timeline is
//! `ceil(d)`-`ceil(1.5 d)` days, where d sums per-task estimates: 1 day for a data task,
//! 1.5 for an architecture change (code, retrain, compare), 1 for a training technique.

use serde_json::{json, Value};

pub const DATA_TASK_DAYS: f64 = 1.0;
pub const ARCHITECTURE_TASK_DAYS: f64 = 1.5;
pub const TRAINING_TASK_DAYS: f64 = 1.0;
/// At most this many tasks per phase, most important first.
pub const TASKS_PER_PHASE: usize = 3;

fn timeline(tasks: usize, per_task: f64) -> String {
    let d = tasks as f64 * per_task;
    format!("{}-{} days", d.ceil() as u64, (d * 1.5).ceil() as u64)
}

fn strings(v: &Value, key: &str, field: Option<&str>) -> Vec<String> {
    v[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| match field {
            Some(f) => x[f].as_str().map(str::to_string),
            None => x.as_str().map(str::to_string),
        })
        .take(TASKS_PER_PHASE)
        .collect()
}

pub fn derive(enhancements: &Value) -> Vec<Value> {
    let mut phases = Vec::new();
    let data = &enhancements["synthetic_data"];
    if data.is_object() {
        let mut tasks = Vec::new();
        match data["dataset_id"].as_str() {
            Some(id) => tasks.push(format!(
                "Integrate the {} generated samples (dataset {id})",
                data["generated_samples"]
            )),
            None => tasks.push(format!(
                "Implement the augmentation pipeline: {}",
                strings(data, "augmentation_strategies", None).join(", ")
            )),
        }
        tasks.push("Validate augmented data against a held-out real split".to_string());
        phases.push(json!({"phase": "data_enhancement", "timeline": timeline(tasks.len(), DATA_TASK_DAYS), "tasks": tasks}));
    }
    let arch = &enhancements["architecture_optimization"];
    if arch.is_object() {
        let tasks = strings(arch, "recommendations", Some("modification"));
        if !tasks.is_empty() {
            phases.push(json!({"phase": "architecture_updates", "timeline": timeline(tasks.len(), ARCHITECTURE_TASK_DAYS), "tasks": tasks}));
        }
    }
    let research = &enhancements["research_insights"];
    if research.is_object() {
        let tasks = strings(research, "latest_techniques", None);
        if !tasks.is_empty() {
            phases.push(json!({"phase": "training_optimization", "timeline": timeline(tasks.len(), TRAINING_TASK_DAYS), "tasks": tasks}));
        }
    }
    phases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_the_enhancements() {
        let e = json!({
            "synthetic_data": {"augmentation_strategies": ["paraphrasing", "back_translation"], "generated_samples": 15000},
            "architecture_optimization": {"recommendations": [{"modification": "a"}, {"modification": "b"}]},
        });
        let r = derive(&e);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["phase"], "data_enhancement");
        assert_eq!(r[0]["timeline"], "2-3 days");
        assert_eq!(r[1]["tasks"], json!(["a", "b"]));
        // 2 × 1.5 = 3 days → 3-5 days
        assert_eq!(r[1]["timeline"], "3-5 days");
        assert!(derive(&json!({})).is_empty());
    }
}
