//! `POST /v1/ai/synthetic-data` parsed at the edge. Fields beyond the spec: `seed`, `schema`,
//! `sample_rows`, `target`, `include_data`, `name`, `providers`, `privacy`, `utility`,
//! `constraints`, `conditions`, `sequence_key`, `sequence_index`.

use serde_json::{json, Value};
use shared::datasets::synth_error;
use shared::providers::Provider;
use shared::validate::Fields;
use shared::ApiError;
use synth::{Balance, DataSchema, Table};

pub const MAX_ROWS: i64 = 1_000_000;
pub const DEFAULT_ROWS: u64 = 1_000;
/// Rows returned inline with `include_data` at most; larger sets are downloaded.
pub const MAX_INLINE_ROWS: u64 = 1_000;
pub const MAX_SAMPLE_ROWS: usize = 10_000;
/// The largest share of `sample_rows` that `privacy.holdout` may keep out of the fit.
pub const MAX_HOLDOUT: f64 = 0.5;
/// Sample rows the fit keeps at least when some are held out.
pub const MIN_FIT_ROWS: usize = 10;
/// The share of `sample_rows` held out for the utility report when no holdout is given.
pub const DEFAULT_UTILITY_HOLDOUT: f64 = 0.2;

#[derive(Debug, Clone)]
pub enum SchemaInput {
    Explicit(DataSchema),
    Sample {
        table: Table,
        target: Option<String>,
    },
    /// Designed from the description by a provider, or the builtin designer.
    Describe,
}

#[derive(Debug, Clone)]
pub struct SyntheticRequest {
    pub model_description: Option<String>,
    pub existing_data: Option<String>,
    pub target_count: u64,
    pub balance: Balance,
    pub balance_label: String,
    pub diversity: Option<String>,
    pub realism: Option<String>,
    pub seed: u64,
    pub seed_given: bool,
    pub schema: SchemaInput,
    pub include_data: bool,
    pub name: Option<String>,
    pub providers: Option<Vec<Provider>>,
    /// `privacy.holdout`: the share of `sample_rows` kept out of the fit, so the privacy
    /// report can say whether the rows resemble the fitted rows more than unseen ones.
    pub holdout: Option<f64>,
    /// `utility`: train on synthetic, test on the held-out real rows (README, "Utility report").
    pub utility: Option<UtilityOptions>,
    /// `constraints`: hold on every generated row.
    pub constraints: Vec<synth::Constraint>,
    /// `conditions`: every generated row meets them (conditional sampling).
    pub conditions: Vec<synth::Condition>,
    /// With `data_format: sequential`.
    pub sequence: Option<SequenceOptions>,
}

/// `utility`'s options.
#[derive(Debug, Clone, Default)]
pub struct UtilityOptions {
    /// The column both models predict; the sample's target when absent.
    pub target: Option<String>,
}

/// A holdout share must hold out a row and leave [`MIN_FIT_ROWS`] to fit.
fn check_holdout(table: &Table, h: f64, field: &str) -> Result<(), ApiError> {
    let kept = table.rows.len() - (table.rows.len() as f64 * h).round() as usize;
    if kept < MIN_FIT_ROWS || kept == table.rows.len() {
        return Err(ApiError::validation(
            field,
            json!(h),
            format!("a share that holds out at least one row and keeps {MIN_FIT_ROWS} to fit"),
            format!(
                "holding out {h} of {} sample rows leaves {kept} to fit",
                table.rows.len()
            ),
        ));
    }
    Ok(())
}

/// `sequence_key` and `sequence_index` of a sequential request.
#[derive(Debug, Clone)]
pub struct SequenceOptions {
    pub key: String,
    pub index: Option<String>,
}

/// Rows a sequential request may ask for: the generated rows are kept in memory to measure
/// the sequences' quality.
pub const MAX_SEQUENCE_ROWS: u64 = 200_000;

/// `sequence_key` / `sequence_index`, with what sequential generation does not take.
fn parse_sequence(
    root: &Fields<'_>,
    sequential: bool,
    schema: &SchemaInput,
    target_count: u64,
) -> Result<Option<SequenceOptions>, ApiError> {
    let key = root.string("sequence_key", 200)?;
    let index = root.string("sequence_index", 200)?;
    if !sequential {
        if let Some(field) = [("sequence_key", &key), ("sequence_index", &index)]
            .iter()
            .find_map(|(f, v)| v.as_ref().map(|_| *f))
        {
            return Err(ApiError::validation(
                field,
                root.get(field).cloned().unwrap_or(Value::Null),
                "only with data_format \"sequential\"",
                format!("{field} is for sequential data: set data_format to \"sequential\""),
            ));
        }
        return Ok(None);
    }
    if !matches!(schema, SchemaInput::Sample { .. }) {
        return Err(ApiError::validation(
            "sample_rows",
            Value::Null,
            "rows of many entities (an array of objects or CSV text)",
            "sequential data is fitted from sample_rows: give rows of several entities",
        ));
    }
    let Some(key) = key else {
        return Err(ApiError::validation(
            "sequence_key",
            Value::Null,
            "the column naming each row's entity",
            "sequential data needs sequence_key",
        ));
    };
    for field in [
        "target",
        "constraints",
        "conditions",
        "privacy",
        "utility",
        "providers",
    ] {
        if let Some(v) = root.get(field) {
            return Err(ApiError::validation(
                field,
                v.clone(),
                "absent with data_format \"sequential\"",
                format!("{field} is not supported for sequential data yet"),
            ));
        }
    }
    if root
        .get("quality_requirements")
        .and_then(|q| q.get("balance"))
        .is_some_and(|b| b != "natural")
    {
        return Err(ApiError::validation(
            "quality_requirements.balance",
            root.get("quality_requirements")
                .cloned()
                .unwrap_or(Value::Null),
            "natural, or absent",
            "sequential data has no target to balance",
        ));
    }
    if target_count > MAX_SEQUENCE_ROWS {
        return Err(ApiError::validation(
            "target_count",
            json!(target_count),
            format!("at most {MAX_SEQUENCE_ROWS} rows for sequential data"),
            format!("target_count {target_count} is more than the {MAX_SEQUENCE_ROWS} rows sequential generation takes"),
        ));
    }
    Ok(Some(SequenceOptions { key, index }))
}

/// Constraints one request may give.
pub const MAX_CONSTRAINTS: usize = 20;

const FIELDS: [&str; 18] = [
    "model_description",
    "existing_data",
    "target_count",
    "data_format",
    "quality_requirements",
    "seed",
    "schema",
    "sample_rows",
    "target",
    "include_data",
    "name",
    "providers",
    "privacy",
    "utility",
    "constraints",
    "conditions",
    "sequence_key",
    "sequence_index",
];

/// `natural`, `stratified`, a ratio in (0, 1] (minority / majority), or `"a:b"`.
pub fn parse_balance(field: &str, v: Option<&Value>) -> Result<(Balance, String), ApiError> {
    let expected = "\"natural\", \"stratified\", a number in (0, 1], or a ratio like \"1:4\"";
    let bad = |v: &Value| {
        ApiError::validation(
            field,
            v.clone(),
            expected,
            format!("{field} is not a balance"),
        )
    };
    match v {
        None => Ok((Balance::Natural, "natural".into())),
        Some(Value::String(s)) if s == "natural" => Ok((Balance::Natural, "natural".into())),
        Some(Value::String(s)) if s == "stratified" => {
            Ok((Balance::Stratified, "stratified".into()))
        }
        Some(v @ Value::String(s)) => {
            let (a, b) = s.split_once(':').ok_or_else(|| bad(v))?;
            let (a, b): (f64, f64) = (
                a.trim().parse().map_err(|_| bad(v))?,
                b.trim().parse().map_err(|_| bad(v))?,
            );
            let r = a.min(b) / a.max(b);
            if a > 0.0 && b > 0.0 && r.is_finite() {
                Ok((Balance::Ratio(r), format!("ratio {r:.4}")))
            } else {
                Err(bad(v))
            }
        }
        Some(v @ Value::Number(n)) => match n.as_f64() {
            Some(r) if r > 0.0 && r <= 1.0 => Ok((Balance::Ratio(r), format!("ratio {r:.4}"))),
            _ => Err(bad(v)),
        },
        Some(other) => Err(bad(other)),
    }
}

impl SyntheticRequest {
    pub fn parse(body: &Value) -> Result<SyntheticRequest, ApiError> {
        let root = Fields::new("", body)?;
        root.only(&FIELDS)?;
        let sequential = match root.get("data_format") {
            None => false,
            Some(f) if f == "tabular" => false,
            Some(f) if f == "sequential" || f == "time_series" => true,
            Some(format) => {
                return Err(ApiError::validation(
                    "data_format",
                    format.clone(),
                    "\"tabular\", \"sequential\" or \"time_series\"",
                    "data_format must be \"tabular\" or \"sequential\" (\"time_series\"): text and image generation are not implemented",
                ))
            }
        };
        let target_count = root
            .integer("target_count", 1, MAX_ROWS)?
            .map_or(DEFAULT_ROWS, |n| n as u64);
        let (mut balance, mut balance_label) = (Balance::Natural, "natural".to_string());
        let (mut diversity, mut realism) = (None, None);
        if let Some(q) = root.object("quality_requirements")? {
            q.only(&["diversity", "realism", "balance"])?;
            (balance, balance_label) =
                parse_balance("quality_requirements.balance", q.get("balance"))?;
            diversity = q.string("diversity", 100)?;
            realism = q.string("realism", 100)?;
        }
        let seed_value = root.integer("seed", 0, 9_007_199_254_740_991)?;
        let include_data = root.boolean("include_data")?.unwrap_or(false);
        if include_data && target_count > MAX_INLINE_ROWS {
            return Err(ApiError::validation(
                "include_data",
                json!(true),
                format!("false when target_count is over {MAX_INLINE_ROWS}"),
                format!("include_data returns at most {MAX_INLINE_ROWS} rows inline; download larger sets from download_url"),
            ));
        }
        let providers = root
            .enum_list("providers", &Provider::names())?
            .map(|names| names.iter().filter_map(|n| Provider::parse(n)).collect());

        let schema = if let Some(raw) = root.get("schema") {
            let schema: DataSchema = serde_json::from_value(raw.clone()).map_err(|e| {
                ApiError::validation(
                    "schema",
                    Value::Null,
                    "a schema: {columns: [...], target?: {...}, correlations?: [...]}",
                    format!("schema is not valid: {e}"),
                )
            })?;
            schema.validate().map_err(synth_error)?;
            SchemaInput::Explicit(schema)
        } else if let Some(rows) = root.get("sample_rows") {
            let table = match rows {
                Value::String(csv) => Table::from_csv(csv),
                Value::Array(items) => Table::from_json_rows(items),
                other => {
                    return Err(ApiError::validation(
                        "sample_rows",
                        json!(shared::validate::type_name(other)),
                        "an array of row objects, or CSV text with a header row",
                        "sample_rows must be rows or CSV text",
                    ))
                }
            }
            .map_err(synth_error)?;
            if table.rows.len() > MAX_SAMPLE_ROWS {
                return Err(ApiError::validation(
                    "sample_rows",
                    json!(table.rows.len()),
                    format!("at most {MAX_SAMPLE_ROWS} rows"),
                    "too many sample rows; upload the table with POST /v1/datasets instead",
                ));
            }
            SchemaInput::Sample {
                table,
                target: root.string("target", 200)?,
            }
        } else {
            SchemaInput::Describe
        };
        let sample_only = |field: &str, why: &str| {
            ApiError::validation(
                field,
                root.get(field).cloned().unwrap_or(Value::Null),
                "only with sample_rows",
                format!("{why}: give sample_rows"),
            )
        };
        let mut holdout = None;
        if let Some(p) = root.object("privacy")? {
            p.only(&["holdout"])?;
            let SchemaInput::Sample { table, .. } = &schema else {
                return Err(sample_only(
                    "privacy",
                    "privacy compares generated rows with real ones",
                ));
            };
            holdout = p.number_above("holdout", 0.0, MAX_HOLDOUT)?;
            if let Some(h) = holdout {
                check_holdout(table, h, "privacy.holdout")?;
            }
        }
        let mut utility = None;
        if let Some(u) = root.object("utility")? {
            u.only(&["holdout", "target"])?;
            let SchemaInput::Sample { table, .. } = &schema else {
                return Err(sample_only(
                    "utility",
                    "utility tests models on held-out real rows",
                ));
            };
            // One set of held-out rows serves both reports.
            match (holdout, u.number_above("holdout", 0.0, MAX_HOLDOUT)?) {
                (Some(p), Some(h)) if p != h => {
                    return Err(ApiError::validation(
                        "utility.holdout",
                        json!(h),
                        format!("absent, or privacy.holdout ({p})"),
                        "privacy and utility share one holdout: give it once",
                    ));
                }
                (None, h) => {
                    let h = h.unwrap_or(DEFAULT_UTILITY_HOLDOUT);
                    check_holdout(table, h, "utility.holdout")?;
                    holdout = Some(h);
                }
                _ => {}
            }
            utility = Some(UtilityOptions {
                target: u.string("target", 200)?,
            });
        }
        let sequence = parse_sequence(&root, sequential, &schema, target_count)?;
        let model_description = root.string("model_description", 5000)?;
        if matches!(schema, SchemaInput::Describe) && model_description.is_none() {
            return Err(ApiError::validation(
                "model_description",
                Value::Null,
                "string",
                "model_description is required (or give a schema or sample_rows)",
            ));
        }
        Ok(SyntheticRequest {
            model_description,
            existing_data: root.string("existing_data", 5000)?,
            target_count,
            balance,
            balance_label,
            diversity,
            realism,
            // A drawn seed is returned in the response, so the run can be repeated exactly.
            seed: seed_value.map_or_else(|| u64::from(rand::random::<u32>()), |s| s as u64),
            seed_given: seed_value.is_some(),
            schema,
            include_data,
            name: root.string("name", 200)?,
            holdout,
            utility,
            providers,
            constraints: parse_constraints(root.get("constraints"))?,
            conditions: parse_conditions(root.get("conditions"))?,
            sequence,
        })
    }
}

/// `constraints`: a list of at most [`MAX_CONSTRAINTS`] objects, each read by its `type`
/// (`synth::Constraint`); the first bad one is named `constraints[i]`.
fn parse_constraints(v: Option<&Value>) -> Result<Vec<synth::Constraint>, ApiError> {
    parse_list(
        v,
        "constraints",
        MAX_CONSTRAINTS,
        "a list of constraints: {\"type\": \"range\" | \"inequality\" | \"positive\" | \"negative\" | \"fixed_combinations\" | \"one_hot\" | \"sum\", ...}",
    )
}

/// `conditions`: a list of at most [`synth::conditions::MAX_CONDITIONS`] objects
/// (`synth::Condition`); the first bad one is named `conditions[i]`. Whether a condition fits
/// the schema is the engine's to say, once the schema is known.
fn parse_conditions(v: Option<&Value>) -> Result<Vec<synth::Condition>, ApiError> {
    parse_list(
        v,
        "conditions",
        synth::conditions::MAX_CONDITIONS,
        "a list of conditions: {\"column\", \"value\"} | {\"column\", \"min\", \"max\"} | {\"column\", \"values\": {category: share}}",
    )
}

/// `field`: absent (empty), or a list of at most `max` items, each read as a `T`; the first
/// bad one is named `field[i]`.
fn parse_list<T: serde::de::DeserializeOwned>(
    v: Option<&Value>,
    field: &str,
    max: usize,
    expected: &str,
) -> Result<Vec<T>, ApiError> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = v else {
        return Err(ApiError::validation(
            field,
            v.clone(),
            expected,
            format!("{field} must be a list"),
        ));
    };
    if items.len() > max {
        return Err(ApiError::validation(
            field,
            json!(items.len()),
            format!("at most {max} {field}"),
            format!("{} {field} is more than {max}", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value::<T>(item.clone()).map_err(|e| {
                ApiError::validation(
                    format!("{field}[{i}]"),
                    item.clone(),
                    expected,
                    format!("{field}[{i}]: {e}"),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(body: Value) -> String {
        SyntheticRequest::parse(&body).unwrap_err().envelope()["error"]["details"]["field"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn limits_and_types() {
        let base = |n: Value| json!({"model_description": "fraud", "target_count": n});
        assert_eq!(field(base(json!(0))), "target_count");
        assert_eq!(field(base(json!(1_000_001))), "target_count");
        assert_eq!(field(base(json!(-5))), "target_count");
        assert_eq!(field(base(json!("100"))), "target_count");
        assert!(SyntheticRequest::parse(&base(json!(1_000_000))).is_ok());
        assert_eq!(
            field(json!({"model_description": "x", "data_format": "image"})),
            "data_format"
        );
        assert_eq!(field(json!({"target_count": 5})), "model_description");
        assert_eq!(
            field(
                json!({"model_description": "x", "quality_requirements": {"balance": "lopsided"}})
            ),
            "quality_requirements.balance"
        );
        assert_eq!(
            field(json!({"model_description": "x", "include_data": true, "target_count": 5000})),
            "include_data"
        );
    }

    #[test]
    fn balances() {
        let b = |v: Value| parse_balance("b", Some(&v)).map(|(b, _)| b);
        assert!(matches!(b(json!("stratified")), Ok(Balance::Stratified)));
        assert!(matches!(b(json!("natural")), Ok(Balance::Natural)));
        assert!(matches!(b(json!(0.25)), Ok(Balance::Ratio(r)) if (r - 0.25).abs() < 1e-12));
        assert!(matches!(b(json!("1:4")), Ok(Balance::Ratio(r)) if (r - 0.25).abs() < 1e-12));
        assert!(matches!(b(json!("4:1")), Ok(Balance::Ratio(r)) if (r - 0.25).abs() < 1e-12));
        assert!(b(json!(0)).is_err());
        assert!(b(json!(1.5)).is_err());
        assert!(b(json!("0:1")).is_err());
    }

    #[test]
    fn seeds_are_kept_or_drawn() {
        let r = SyntheticRequest::parse(&json!({"model_description": "x", "seed": 42})).unwrap();
        assert_eq!(r.seed, 42);
        assert!(r.seed_given);
        let r = SyntheticRequest::parse(&json!({"model_description": "x"})).unwrap();
        assert!(!r.seed_given);
    }
}
