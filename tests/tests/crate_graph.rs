//! The crate graph holds the design (ARCHITECTURE.md): the engines' dependency closure has
//! no I/O crate, and the functions that neither train nor predict link no candle. Read from
//! `cargo metadata`'s resolved graph (normal dependencies only; features unified across the
//! workspace, so this is the widest the closure can be).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

struct Graph {
    /// package id → (name, normal dependencies' ids)
    nodes: BTreeMap<String, (String, Vec<String>)>,
}

impl Graph {
    fn load() -> Self {
        // The host's platform only: other platforms' crates (android, windows) are never
        // downloaded here.
        let rustc = Command::new("rustc")
            .arg("-vV")
            .output()
            .expect("rustc -vV runs");
        let host = String::from_utf8_lossy(&rustc.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
            .expect("rustc names its host");
        let out = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--offline"])
            .args(["--filter-platform", &host, "--manifest-path"])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
            .output()
            .expect("cargo metadata runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
        let names: BTreeMap<&str, &str> = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        let nodes = meta["resolve"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let id = n["id"].as_str().unwrap();
                let deps = n["deps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|d| {
                        d["dep_kinds"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|k| k["kind"].is_null())
                    })
                    .map(|d| d["pkg"].as_str().unwrap().to_string())
                    .collect();
                (id.to_string(), (names[id].to_string(), deps))
            })
            .collect();
        Graph { nodes }
    }

    /// Names of every crate `name` links, itself excluded.
    fn closure(&self, name: &str) -> BTreeSet<String> {
        let root = self
            .nodes
            .iter()
            .find(|(_, (n, _))| n == name)
            .unwrap_or_else(|| panic!("{name} is not in the workspace graph"))
            .0
            .clone();
        let mut seen = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            for dep in &self.nodes[&id].1 {
                if seen.insert(dep.clone()) {
                    stack.push(dep.clone());
                }
            }
        }
        seen.into_iter()
            .map(|id| self.nodes[&id].0.clone())
            .collect()
    }
}

fn offending(closure: &BTreeSet<String>, forbidden: &[&str]) -> Vec<String> {
    closure
        .iter()
        .filter(|c| {
            forbidden
                .iter()
                .any(|f| c == f || (f.ends_with('-') && c.starts_with(f)))
        })
        .cloned()
        .collect()
}

/// I/O and runtime crates; a name ending in `-` is a prefix.
const IO: &[&str] = &[
    "tokio",
    "aws-",
    "reqwest",
    "hyper",
    "axum",
    "lambda_http",
    "lambda_runtime",
    "rusqlite",
];

#[test]
fn the_engines_are_pure() {
    let graph = Graph::load();
    for engine in ["synth", "analysis", "images", "text", "tabular", "training"] {
        let bad = offending(&graph.closure(engine), IO);
        assert!(bad.is_empty(), "{engine} links {bad:?}");
    }
}

#[test]
fn only_the_functions_that_train_or_predict_link_candle() {
    let graph = Graph::load();
    for crate_name in [
        "tabular",
        "shared",
        "system",
        "synthetic-data",
        "analyze",
        "enhance",
    ] {
        let bad = offending(&graph.closure(crate_name), &["candle-"]);
        assert!(bad.is_empty(), "{crate_name} links {bad:?}");
    }
    for crate_name in ["models", "training-worker"] {
        assert!(
            graph.closure(crate_name).contains("candle-core"),
            "{crate_name}"
        );
    }
}
