//! Cells and rows as generated, streaming CSV / JSON-lines sinks, and parsed sample tables.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::schema::{format_instant, parse_instant};
use super::SynthError;

/// One generated value. Categories are shared `Arc<str>`s, so a row costs one `Vec` allocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Num(f64),
    Int(i64),
    Text(Arc<str>),
    Bool(bool),
    /// Unix seconds, written as RFC 3339 UTC.
    Time(i64),
    Null,
}

/// One generated row, in [`crate::DataSchema::header`] order.
pub type Row = Vec<Cell>;

impl Cell {
    /// The JSON value: numbers as numbers (non-finite as null), times as RFC 3339 strings.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Num(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
            Cell::Int(v) => Value::from(*v),
            Cell::Text(s) => Value::String(s.to_string()),
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Time(t) => Value::String(format_instant(*t)),
            Cell::Null => Value::Null,
        }
    }

    /// A cell from a JSON scalar (as in a parsed sample): integers stay integers, other numbers
    /// are reals, strings text (instants are not re-typed), arrays/objects their JSON text.
    pub fn from_json(value: &Value) -> Cell {
        match value {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map(Cell::Int)
                .or_else(|| n.as_f64().map(Cell::Num))
                .unwrap_or(Cell::Null),
            Value::String(s) => Cell::Text(Arc::from(s.as_str())),
            other => Cell::Text(Arc::from(other.to_string().as_str())),
        }
    }

    /// Appends the unquoted CSV text of the cell (the CSV writer adds quoting): shortest
    /// round-trip decimal for numbers, `true`/`false`, RFC 3339 for times, empty for null.
    pub fn write_text(&self, out: &mut String) {
        match self {
            Cell::Num(x) if x.is_finite() => {
                let _ = write!(out, "{x}");
            }
            Cell::Num(_) | Cell::Null => {}
            Cell::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Cell::Text(s) => out.push_str(s),
            Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Cell::Time(t) => out.push_str(&format_instant(*t)),
        }
    }

    /// The unquoted CSV text of the cell.
    pub fn to_csv_string(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }

    /// Writes the cell as a JSON value without building a `serde_json::Value`.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), SynthError> {
        match self {
            Cell::Num(x) if x.is_finite() => serde_json::to_writer(&mut *out, x)?,
            Cell::Num(_) | Cell::Null => out.extend_from_slice(b"null"),
            Cell::Int(v) => serde_json::to_writer(&mut *out, v)?,
            Cell::Text(s) => serde_json::to_writer(&mut *out, &**s)?,
            Cell::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Cell::Time(t) => serde_json::to_writer(&mut *out, &format_instant(*t))?,
        }
        Ok(())
    }
}

fn check_width(row: &Row, width: usize) -> Result<(), SynthError> {
    if row.len() != width {
        return Err(SynthError::invalid(
            "row",
            format!("row has {} cells, header has {width}", row.len()),
        ));
    }
    Ok(())
}

/// Streams rows as RFC 4180 CSV (header first; fields quoted only when needed; `\n` line ends),
/// which `pandas.read_csv` reads as is.
pub struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
    width: usize,
    field: String,
}

impl<W: Write> CsvSink<W> {
    /// Writes the header row.
    pub fn new(writer: W, header: &[String]) -> Result<Self, SynthError> {
        let mut writer = csv::WriterBuilder::new().from_writer(writer);
        writer.write_record(header)?;
        Ok(CsvSink {
            writer,
            width: header.len(),
            field: String::new(),
        })
    }

    pub fn write_row(&mut self, row: &Row) -> Result<(), SynthError> {
        check_width(row, self.width)?;
        for cell in row {
            self.field.clear();
            cell.write_text(&mut self.field);
            self.writer.write_field(&self.field)?;
        }
        self.writer.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Flushes and hands the writer back.
    pub fn finish(self) -> Result<W, SynthError> {
        self.writer
            .into_inner()
            .map_err(|e| SynthError::Io(std::io::Error::other(e.error().to_string())))
    }
}

/// Streams rows as JSON lines: one object per row, keys in header order, which
/// `pandas.read_json(path, lines=True)` reads.
pub struct JsonlSink<W: Write> {
    writer: W,
    /// `"name":` for each column, JSON-escaped once.
    keys: Vec<Vec<u8>>,
    line: Vec<u8>,
}

impl<W: Write> JsonlSink<W> {
    /// Nothing is written until the first row (JSON lines have no header).
    pub fn new(writer: W, header: &[String]) -> Result<Self, SynthError> {
        let keys = header
            .iter()
            .map(|name| {
                let mut key = serde_json::to_vec(name)?;
                key.push(b':');
                Ok(key)
            })
            .collect::<Result<_, SynthError>>()?;
        Ok(JsonlSink {
            writer,
            keys,
            line: Vec::new(),
        })
    }

    pub fn write_row(&mut self, row: &Row) -> Result<(), SynthError> {
        check_width(row, self.keys.len())?;
        self.line.clear();
        self.line.push(b'{');
        for (i, (key, cell)) in self.keys.iter().zip(row).enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            self.line.extend_from_slice(key);
            cell.write_json(&mut self.line)?;
        }
        self.line.extend_from_slice(b"}\n");
        self.writer.write_all(&self.line)?;
        Ok(())
    }

    /// Flushes and hands the writer back.
    pub fn finish(mut self) -> Result<W, SynthError> {
        self.writer.flush()?;
        Ok(self.writer)
    }
}

/// A parsed sample: column names and rows of JSON scalars (null for missing).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// From an array of JSON objects: columns are the union of keys in first-seen order, missing
    /// keys are null. Nested arrays/objects are rejected with the row and key named.
    pub fn from_json_rows(rows: &[Value]) -> Result<Table, SynthError> {
        let mut columns: Vec<String> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for (i, row) in rows.iter().enumerate() {
            let object = row
                .as_object()
                .ok_or_else(|| SynthError::invalid(format!("sample_rows[{i}]"), "not an object"))?;
            for (key, value) in object {
                if value.is_array() || value.is_object() {
                    return Err(SynthError::invalid(
                        format!("sample_rows[{i}].{key}"),
                        "nested arrays and objects are not supported; use scalar values",
                    ));
                }
                if !index.contains_key(key) {
                    index.insert(key.clone(), columns.len());
                    columns.push(key.clone());
                }
            }
        }
        // An empty (or blank) string is null, as the same cell is in CSV.
        let rows = rows
            .iter()
            .map(|row| {
                let object: &Map<String, Value> = row.as_object().expect("checked above");
                columns
                    .iter()
                    .map(|c| match object.get(c) {
                        Some(Value::String(s)) if s.trim().is_empty() => Value::Null,
                        Some(v) => v.clone(),
                        None => Value::Null,
                    })
                    .collect()
            })
            .collect();
        Ok(Table { columns, rows })
    }

    /// From CSV text with a header row. Fields are typed: integers, floats, `true`/`false`
    /// (any case), empty → null, anything else a string.
    pub fn from_csv(text: &str) -> Result<Table, SynthError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let columns: Vec<String> = reader
            .headers()
            .map_err(|e| SynthError::invalid("sample_csv", format!("bad header: {e}")))?
            .iter()
            // As written: pandas keeps a header's spaces too, and a stored upload is read back
            // under the names it was sent with.
            .map(str::to_string)
            .collect();
        let mut seen = std::collections::HashSet::new();
        for (i, name) in columns.iter().enumerate() {
            if !seen.insert(name.as_str()) {
                return Err(SynthError::invalid(
                    format!("sample_csv.header[{i}]"),
                    format!("duplicate column {name:?}"),
                ));
            }
        }
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            // Line numbers count the header as line 1.
            let record = record.map_err(|e| {
                SynthError::invalid(format!("sample_csv.line[{}]", i + 2), e.to_string())
            })?;
            rows.push(record.iter().map(typed_field).collect());
        }
        Ok(Table { columns, rows })
    }

    /// Index of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Types one CSV field the way pandas would: integer, float, boolean, null or string. A
/// numeral padded with leading zeros (`007`, `00501`) is an identifier such as a zip code,
/// not a number: it stays text, so no digit is lost.
pub fn typed_field(field: &str) -> Value {
    let t = field.trim();
    if t.is_empty() {
        return Value::Null;
    }
    if is_zero_padded(t) {
        return Value::String(field.to_string());
    }
    if t.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if t.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    // Only plain numerals: Rust would also parse "inf" and "NaN", which are text here.
    if t.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        if let Ok(v) = t.parse::<i64>() {
            return Value::from(v);
        }
        if let Ok(x) = t.parse::<f64>() {
            if let Some(n) = serde_json::Number::from_f64(x) {
                return Value::Number(n);
            }
        }
    }
    Value::String(field.to_string())
}

/// `007`, `-00.5`, `00501`: a numeral whose integer part has a leading zero and more digits.
pub fn is_zero_padded(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text).as_bytes();
    digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit()
}

/// Whether `text` is a number exactly as JSON spells one (RFC 8259 §6), so it can be copied
/// into JSON as is, every digit kept: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A JSON scalar as a category key: strings as is, numbers and booleans in their JSON spelling.
pub fn value_key(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// A JSON scalar as a number: numbers, numeric strings, booleans as 0/1, instants as seconds.
pub fn value_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .or_else(|| parse_instant(s).map(|t| t as f64)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn header() -> Vec<String> {
        vec![
            "amount".into(),
            "note".into(),
            "n".into(),
            "ok".into(),
            "at".into(),
            "gone".into(),
        ]
    }

    fn rows() -> Vec<Row> {
        vec![
            vec![
                Cell::Num(12.5),
                Cell::Text("a, \"quoted\" note".into()),
                Cell::Int(-3),
                Cell::Bool(true),
                Cell::Time(86_400),
                Cell::Null,
            ],
            vec![
                Cell::Num(0.1),
                Cell::Text("line\nbreak".into()),
                Cell::Int(7),
                Cell::Bool(false),
                Cell::Time(0),
                Cell::Null,
            ],
        ]
    }

    #[test]
    fn csv_quotes_commas_and_quotes() {
        let mut sink = CsvSink::new(Vec::new(), &header()).unwrap();
        for row in rows() {
            sink.write_row(&row).unwrap();
        }
        let text = String::from_utf8(sink.finish().unwrap()).unwrap();
        let first_row = text.lines().nth(1).unwrap();
        assert_eq!(
            first_row,
            "12.5,\"a, \"\"quoted\"\" note\",-3,true,1970-01-02T00:00:00Z,"
        );
    }

    #[test]
    fn csv_round_trips_through_from_csv() {
        let mut sink = CsvSink::new(Vec::new(), &header()).unwrap();
        for row in rows() {
            sink.write_row(&row).unwrap();
        }
        let text = String::from_utf8(sink.finish().unwrap()).unwrap();
        let table = Table::from_csv(&text).unwrap();
        assert_eq!(table.columns, header());
        assert_eq!(
            table.rows[0],
            vec![
                json!(12.5),
                json!("a, \"quoted\" note"),
                json!(-3),
                json!(true),
                json!("1970-01-02T00:00:00Z"),
                Value::Null
            ]
        );
        assert_eq!(table.rows[1][1], json!("line\nbreak"));
        assert_eq!(table.rows[1][0], json!(0.1));
    }

    #[test]
    fn jsonl_lines_parse_back_to_the_cells() {
        let mut sink = JsonlSink::new(Vec::new(), &header()).unwrap();
        for row in rows() {
            sink.write_row(&row).unwrap();
        }
        let text = String::from_utf8(sink.finish().unwrap()).unwrap();
        let parsed: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(parsed.len(), 2);
        for (line, row) in parsed.iter().zip(rows()) {
            let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
            assert_eq!(keys, header().iter().collect::<Vec<_>>());
            let values: Vec<Value> = row.iter().map(Cell::to_json).collect();
            assert_eq!(
                line.as_object()
                    .unwrap()
                    .values()
                    .cloned()
                    .collect::<Vec<_>>(),
                values
            );
        }
        let table = Table::from_json_rows(&parsed).unwrap();
        assert_eq!(table.columns, header());
        let back: Vec<Cell> = table.rows[0].iter().map(Cell::from_json).collect();
        assert_eq!(back[..4], rows()[0][..4]);
        assert_eq!(table.rows[0][4], json!("1970-01-02T00:00:00Z"));
    }

    #[test]
    fn sinks_reject_rows_of_the_wrong_width() {
        let mut sink = CsvSink::new(Vec::new(), &header()).unwrap();
        assert!(sink.write_row(&vec![Cell::Int(1)]).is_err());
        let mut sink = JsonlSink::new(Vec::new(), &header()).unwrap();
        assert!(sink.write_row(&vec![Cell::Int(1)]).is_err());
    }

    #[test]
    fn json_rows_union_keys_and_fill_nulls() {
        let t = Table::from_json_rows(&[json!({"a": 1, "b": "x"}), json!({"c": true, "a": 2})])
            .unwrap();
        assert_eq!(t.columns, vec!["a", "b", "c"]);
        assert_eq!(t.rows[1], vec![json!(2), Value::Null, json!(true)]);
        let err = Table::from_json_rows(&[json!({"a": 1}), json!([1])]).unwrap_err();
        assert!(matches!(err, SynthError::Invalid { ref field, .. } if field == "sample_rows[1]"));
        let err = Table::from_json_rows(&[json!({"a": {"b": 1}})]).unwrap_err();
        assert!(
            matches!(err, SynthError::Invalid { ref field, .. } if field == "sample_rows[0].a")
        );
    }

    #[test]
    fn zero_padded_numerals_stay_text_and_headers_keep_their_spaces() {
        let t = Table::from_csv(" id,zip\n1,00501\n2,007\n3,0\n4,0.5\n").unwrap();
        assert_eq!(t.columns, vec![" id", "zip"]);
        let zips: Vec<&Value> = t.rows.iter().map(|r| &r[1]).collect();
        assert_eq!(
            zips,
            [&json!("00501"), &json!("007"), &json!(0), &json!(0.5)]
        );
        for (text, padded) in [
            ("007", true),
            ("-01", true),
            ("00.5", true),
            ("0", false),
            ("0.7", false),
            ("10", false),
            ("-0", false),
        ] {
            assert_eq!(is_zero_padded(text), padded, "{text}");
        }
    }

    #[test]
    fn json_number_grammar() {
        for ok in [
            "0",
            "-0",
            "1.50",
            "1e3",
            "123456789012345678901",
            "-2.5E-7",
            "0.0",
        ] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "", "+1", "01", ".5", "1.", "1e", "1e+", "--1", "0x10", "1_000", "inf", " 1",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn empty_strings_in_json_rows_are_null_as_in_csv() {
        let t = Table::from_json_rows(&[json!({"a": "", "b": " "}), json!({"a": "x", "b": 1})])
            .unwrap();
        assert_eq!(t.rows[0], vec![Value::Null, Value::Null]);
    }

    #[test]
    fn csv_fields_are_typed_and_bad_rows_named() {
        let t = Table::from_csv("a,b,c,d\n1,2.5,TRUE,hello\n,nan,-0,1e3\n").unwrap();
        assert_eq!(
            t.rows[0],
            vec![json!(1), json!(2.5), json!(true), json!("hello")]
        );
        assert_eq!(
            t.rows[1],
            vec![Value::Null, json!("nan"), json!(0), json!(1000.0)]
        );
        let err = Table::from_csv("a,b\n1,2\n3\n").unwrap_err();
        assert!(
            matches!(err, SynthError::Invalid { ref field, .. } if field == "sample_csv.line[3]")
        );
        assert!(Table::from_csv("a,a\n1,2\n").is_err());
    }
}
