//! template.yaml holds what the code relies on.

const TEMPLATE: &str = include_str!("../../template.yaml");

/// The lines of one top-level resource, up to the next resource at the same indentation.
fn resource(name: &str) -> Vec<&'static str> {
    let mut lines = TEMPLATE
        .lines()
        .skip_while(|l| l.trim_end() != format!("  {name}:"));
    let mut out = vec![lines.next().expect("resource present")];
    out.extend(
        lines.take_while(|l| {
            l.is_empty() || l.starts_with("   ") || l.trim_start().starts_with('#')
        }),
    );
    out
}

fn value_of<'a>(lines: &[&'a str], key: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("{key} missing"))
        .trim()
        .trim_matches('"')
}

/// The models function refuses jobs that do not fit the worker's memory: it must be told
/// the memory the worker really has.
#[test]
fn the_models_function_knows_the_workers_memory() {
    let worker = value_of(&resource("TrainingWorkerFunction"), "MemorySize");
    let told = value_of(&resource("ModelsFunction"), "MLAAS_WORKER_MEMORY_MB");
    assert_eq!(worker, told);
    assert_eq!(worker, "2048", "the config's default follows the template");
}

/// The alarms watch the metrics the code writes: the jobs' dimensionless counts (the worker
/// and the models function both end jobs), and the API's own 5xx metric.
#[test]
fn the_alarms_watch_what_the_code_emits() {
    let training = resource("TrainingFailureRateAlarm").join("\n");
    assert!(
        !training.contains("Dimensions"),
        "every function's jobs: {training}"
    );
    for name in ["JobsFailed", "JobsFinished"] {
        assert!(training.contains(name), "{name} missing: {training}");
    }
    assert!(training.contains(&format!("Namespace: {}", shared::emf::NAMESPACE)));
    let api = resource("Api5xxRateAlarm").join("\n");
    assert!(api.contains("MetricName: 5xx") && api.contains("Value: !Ref Api"));
    assert!(TEMPLATE.contains("ExposeHeaders: [x-request-id, server-timing]"));
}
