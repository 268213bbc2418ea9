//! CloudWatch Embedded Metric Format: a JSON log line whose `_aws` member tells CloudWatch
//! Logs to extract metrics from the line's other members, with no API call and no agent
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
//!
//! A [`Line`] is built per request (by `http::timing`) or per training job (the worker) and
//! written to stdout as one line; CloudWatch keeps it beside the tracing lines. Locally the
//! line is only printed. Set `MLAAS_EMF=off` to write none.
//!
//! What the format requires, and [`Line::to_json`] keeps: a root `_aws` object with
//! `Timestamp` (epoch milliseconds) and `CloudWatchMetrics`, one directive with a
//! `Namespace`, `Dimensions` (sets of at most 30 names, each a root member holding a string)
//! and `Metrics` (at most 100, each a root member holding a number or at most 100 numbers).

use serde_json::{json, Map, Value};

/// The namespace every metric of the service is in.
pub const NAMESPACE: &str = "MLTrainingAPI";
/// Metrics per directive, values per metric and names per dimension set at most (the spec).
pub const MAX_METRICS: usize = 100;
pub const MAX_VALUES: usize = 100;
pub const MAX_DIMENSIONS: usize = 30;

/// CloudWatch's units, as the format spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Milliseconds,
    Seconds,
    Count,
    CountPerSecond,
    None,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
            Unit::Count => "Count",
            Unit::CountPerSecond => "Count/Second",
            Unit::None => "None",
        }
    }
}

/// One EMF log line under construction.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    timestamp_ms: i64,
    dimensions: Vec<(String, String)>,
    sets: Vec<Vec<String>>,
    metrics: Vec<(String, Unit, Vec<f64>)>,
    properties: Map<String, Value>,
}

impl Line {
    pub fn new(timestamp_ms: i64) -> Line {
        Line {
            timestamp_ms,
            dimensions: Vec::new(),
            sets: Vec::new(),
            metrics: Vec::new(),
            properties: Map::new(),
        }
    }

    /// A dimension's value (a root member); name it in a set with [`Line::dimension_set`].
    pub fn dimension(mut self, name: &str, value: &str) -> Line {
        self.dimensions.retain(|(n, _)| n != name);
        self.dimensions.push((name.into(), value.into()));
        self
    }

    /// A set of dimension names the metrics are aggregated by (each must be a dimension);
    /// names past [`MAX_DIMENSIONS`] are dropped. The empty set is the metric with no
    /// dimension (every line's values together).
    pub fn dimension_set(mut self, names: &[&str]) -> Line {
        let set: Vec<String> = names
            .iter()
            .take(MAX_DIMENSIONS)
            .map(|n| n.to_string())
            .collect();
        if !self.sets.contains(&set) {
            self.sets.push(set);
        }
        self
    }

    /// One value of a metric; a second value of the same name is appended to it.
    pub fn metric(self, name: &str, unit: Unit, value: f64) -> Line {
        self.values(name, unit, &[value])
    }

    /// Values of a metric (CloudWatch counts each); non-finite values are dropped, as the
    /// format takes numbers only, and values past [`MAX_VALUES`] too.
    pub fn values(mut self, name: &str, unit: Unit, values: &[f64]) -> Line {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let full = self.metrics.len() >= MAX_METRICS;
        match self.metrics.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, _, v)) => v.extend(finite),
            None if !full => self.metrics.push((name.into(), unit, finite.collect())),
            None => {}
        }
        self
    }

    /// A member logged with the line and not a metric (searchable in Logs Insights).
    pub fn property(mut self, name: &str, value: Value) -> Line {
        self.properties.insert(name.into(), value);
        self
    }

    /// The line as the format lays it out. Dimension sets that name a missing dimension and
    /// metrics left without values are left out, so the line is always valid.
    pub fn to_json(&self) -> Value {
        let mut root = self.properties.clone();
        for (name, value) in &self.dimensions {
            root.insert(name.clone(), json!(value));
        }
        let sets: Vec<&Vec<String>> = self
            .sets
            .iter()
            .filter(|set| {
                set.iter()
                    .all(|n| self.dimensions.iter().any(|(d, _)| d == n))
            })
            .collect();
        let mut metrics = Vec::new();
        for (name, unit, values) in &self.metrics {
            let value = match values.as_slice() {
                [] => continue,
                [one] => json!(one),
                many => json!(&many[..many.len().min(MAX_VALUES)]),
            };
            root.insert(name.clone(), value);
            metrics.push(json!({"Name": name, "Unit": unit.as_str()}));
        }
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": self.timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": sets,
                    "Metrics": metrics,
                }],
            }),
        );
        Value::Object(root)
    }

    /// Writes the line to stdout unless `MLAAS_EMF=off`.
    pub fn emit(&self) {
        if std::env::var("MLAAS_EMF").is_ok_and(|v| v.eq_ignore_ascii_case("off")) {
            return;
        }
        println!("{}", self.to_json());
    }
}

/// The Lambda function's name (the `Function` dimension): Lambda and the emulator set
/// `AWS_LAMBDA_FUNCTION_NAME`; `local` otherwise.
pub fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into())
}

/// Checks `line` against the format's rules; the first broken one as an error. Public so the
/// tests of every emitter hold their lines to the same rules.
pub fn validate(line: &Value) -> Result<(), String> {
    let root = line.as_object().ok_or("the line is not a JSON object")?;
    let aws = root
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no _aws object")?;
    aws.get("Timestamp")
        .and_then(Value::as_i64)
        .filter(|t| *t > 0)
        .ok_or("_aws.Timestamp is not epoch milliseconds")?;
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("_aws.CloudWatchMetrics is not an array")?;
    for d in directives {
        let name_ok = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty() && s.len() <= 255)
        };
        if !name_ok(d.get("Namespace")) {
            return Err("a directive's Namespace is not a 1-255 character string".into());
        }
        let sets = d
            .get("Dimensions")
            .and_then(Value::as_array)
            .ok_or("a directive has no Dimensions array")?;
        for set in sets {
            let names = set.as_array().ok_or("a dimension set is not an array")?;
            if names.len() > MAX_DIMENSIONS {
                return Err(format!("a dimension set has {} names", names.len()));
            }
            for n in names {
                let n = n.as_str().ok_or("a dimension name is not a string")?;
                if !root.get(n).is_some_and(Value::is_string) {
                    return Err(format!("dimension {n} is not a string member of the line"));
                }
            }
        }
        let metrics = d
            .get("Metrics")
            .and_then(Value::as_array)
            .ok_or("a directive has no Metrics array")?;
        if metrics.len() > MAX_METRICS {
            return Err(format!("{} metrics in one directive", metrics.len()));
        }
        for m in metrics {
            if !name_ok(m.get("Name")) {
                return Err("a metric's Name is not a 1-255 character string".into());
            }
            let name = m["Name"].as_str().unwrap_or_default();
            let ok = match root.get(name) {
                Some(Value::Number(_)) => true,
                Some(Value::Array(v)) => {
                    !v.is_empty() && v.len() <= MAX_VALUES && v.iter().all(Value::is_number)
                }
                _ => false,
            };
            if !ok {
                return Err(format!("metric {name} has no number or list of numbers"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_laid_out_as_the_format_says() {
        let line = Line::new(1_764_000_000_000)
            .dimension("Function", "models")
            .dimension("Route", "POST /v1/models/train")
            .dimension_set(&[])
            .dimension_set(&["Function"])
            .dimension_set(&["Function", "Route"])
            .dimension_set(&["Function"])
            .metric("Latency", Unit::Milliseconds, 12.5)
            .metric("EpochSeconds", Unit::Seconds, 0.5)
            .metric("EpochSeconds", Unit::Seconds, 0.25)
            .metric("Nothing", Unit::Count, f64::NAN)
            .property("request_id", json!("req_1"))
            .to_json();
        validate(&line).unwrap();
        assert_eq!(line["Latency"], 12.5);
        assert_eq!(line["EpochSeconds"], json!([0.5, 0.25]));
        assert!(
            line.get("Nothing").is_none(),
            "a metric without a value is left out"
        );
        let d = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(d["Namespace"], NAMESPACE);
        assert_eq!(
            d["Dimensions"],
            json!([[], ["Function"], ["Function", "Route"]])
        );
        assert_eq!(
            d["Metrics"],
            json!([{"Name": "Latency", "Unit": "Milliseconds"},
                {"Name": "EpochSeconds", "Unit": "Seconds"}])
        );
        assert_eq!(line["request_id"], "req_1");
    }

    #[test]
    fn broken_lines_are_named() {
        let good = Line::new(1)
            .dimension("Function", "f")
            .dimension_set(&["Function"])
            .metric("M", Unit::Count, 1.0)
            .to_json();
        validate(&good).unwrap();
        let broken = |edit: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            edit(&mut v);
            validate(&v).unwrap_err()
        };
        assert!(broken(&|v| v["Function"] = json!(3)).contains("dimension Function"));
        assert!(broken(&|v| v["M"] = json!("1")).contains("metric M"));
        assert!(broken(&|v| v["_aws"]["Timestamp"] = json!("now")).contains("Timestamp"));
        assert!(broken(&|v| {
            v.as_object_mut().unwrap().remove("_aws");
        })
        .contains("_aws"));
        assert!(broken(&|v| v["M"] = json!(vec![1.0; 101])).contains("metric M"));
        // A set naming a dimension the line lacks is dropped rather than written.
        let line = Line::new(1)
            .dimension_set(&["Missing"])
            .metric("M", Unit::Count, 1.0)
            .to_json();
        validate(&line).unwrap();
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([])
        );
    }

    #[test]
    fn caps_hold() {
        let mut line = Line::new(1);
        for i in 0..150 {
            line = line.metric(&format!("m{i}"), Unit::Count, 1.0);
        }
        line = line.values("m0", Unit::Count, &[2.0; 200]);
        let v = line.to_json();
        validate(&v).unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .len(),
            MAX_METRICS
        );
        assert_eq!(v["m0"].as_array().unwrap().len(), MAX_VALUES);
    }
}
