//! Helpers the benchmark binaries share.

/// scikit-learn's tables as `bench/tabular_compare.py prepare` writes them: `NAME.csv` and
/// `NAME.split.json` (the task and the train and test row indices).
pub mod tables {
    use serde_json::Value;
    use synth::{DatasetColumn, Table};
    use training::{Encoder, FitOptions, Matrix, Style, Task};

    /// One table's split.
    pub struct Split {
        pub task: Task,
        pub train: Table,
        pub test: Table,
        pub columns: Vec<DatasetColumn>,
    }

    /// Reads `NAME`'s table and split from `dir`.
    pub fn load(dir: &str, name: &str) -> Split {
        let csv = std::fs::read_to_string(format!("{dir}/{name}.csv")).expect("table");
        let table = Table::from_csv(&csv).expect("csv");
        let split: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{dir}/{name}.split.json")).expect("split"),
        )
        .expect("split json");
        let task = if split["task"] == "regression" {
            Task::Regression
        } else {
            Task::Classification
        };
        let rows = |key: &str| Table {
            columns: table.columns.clone(),
            rows: split[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| table.rows[i.as_u64().unwrap() as usize].clone())
                .collect(),
        };
        // Kinds as an upload types them: numbers, or categories (the class targets are text).
        let columns = training::fixtures::columns(&table);
        Split {
            task,
            train: rows("train"),
            test: rows("test"),
            columns,
        }
    }

    /// The encoder fitted on the train rows in `style`, and both splits encoded.
    pub fn encode(s: &Split, style: Style) -> (Matrix, Matrix, Encoder) {
        let options = FitOptions {
            task: s.task,
            style,
            ..FitOptions::default()
        };
        let enc = Encoder::fit_with(&s.train, &s.columns, "target", &options).expect("encoder");
        (
            enc.encode(&s.train).expect("train"),
            enc.encode(&s.test).expect("test"),
            enc,
        )
    }
}
