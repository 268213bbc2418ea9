//! Apache Parquet files of rows, with the `parquet` crate's own writer and reader (no Arrow;
//! snappy, the pure-Rust codec, for every column).
//!
//! * [`ParquetSink`] writes rows as they come, like the CSV and JSON Lines sinks: cells are
//!   buffered per column and written as a row group every [`ROW_GROUP_ROWS`] rows, so memory
//!   stays bounded however many rows stream through.
//! * Column types ([`ParquetType`]), every column OPTIONAL (a null is a null): reals DOUBLE,
//!   integers INT64, booleans BOOLEAN, instants INT64 `TIMESTAMP(MILLIS, UTC)`, anything else
//!   BYTE_ARRAY `STRING`. A generated column's type is its schema kind's; an uploaded column's
//!   the one its typed cells all share ([`ParquetType::of_values`]).
//! * [`read_rows`] reads a file back as JSON cells (instants as RFC 3339 text), for uploads.

use std::io::Write;
use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::types::Type;
use serde_json::Value;

use super::schema::{format_instant, parse_instant, ColumnKind, DataSchema};
use super::table::Cell;
use super::SynthError;

/// Rows per row group (and the most rows a sink buffers).
pub const ROW_GROUP_ROWS: usize = 65_536;
/// Cells (rows × columns) [`read_rows`] reads at most: what a 6 MiB CSV can hold (each cell
/// at least one byte and a separator). Parquet compresses far better than that, so a small
/// file could otherwise expand past a function's memory.
pub const MAX_READ_CELLS: usize = 3_000_000;

/// How one column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetType {
    Double,
    Int64,
    Boolean,
    Timestamp,
    Text,
}

impl ParquetType {
    /// A generated column's type, from its kind.
    pub fn of_kind(kind: &ColumnKind) -> ParquetType {
        match kind {
            ColumnKind::Numeric { .. } => ParquetType::Double,
            ColumnKind::Integer { .. } => ParquetType::Int64,
            ColumnKind::Boolean { .. } => ParquetType::Boolean,
            ColumnKind::Datetime { .. } => ParquetType::Timestamp,
            _ => ParquetType::Text,
        }
    }

    /// The types of a generated schema's columns, in header order (the target, last, holds
    /// its class names: text, as in JSON Lines).
    pub fn of_schema(schema: &DataSchema) -> Vec<ParquetType> {
        schema
            .columns
            .iter()
            .map(|c| ParquetType::of_kind(&c.kind))
            .chain(schema.target.iter().map(|_| ParquetType::Text))
            .collect()
    }

    /// An uploaded column's type: the one every non-null cell has (integers within INT64,
    /// any numbers, booleans, text that all reads as RFC 3339 or `YYYY-MM-DD` instants), else
    /// text; an all-null column is text.
    pub fn of_values<'a>(cells: impl Iterator<Item = &'a Value>) -> ParquetType {
        let (mut ints, mut numbers, mut bools, mut times, mut any) =
            (true, true, true, true, false);
        for v in cells.filter(|v| !v.is_null()) {
            any = true;
            ints &= v.as_i64().is_some();
            numbers &= v.is_number();
            bools &= v.is_boolean();
            times &= v.as_str().is_some_and(|s| parse_instant(s).is_some());
        }
        match () {
            _ if !any => ParquetType::Text,
            _ if ints => ParquetType::Int64,
            _ if numbers => ParquetType::Double,
            _ if bools => ParquetType::Boolean,
            _ if times => ParquetType::Timestamp,
            _ => ParquetType::Text,
        }
    }

    fn field(self, name: &str) -> Result<Type, SynthError> {
        let (physical, logical) = match self {
            ParquetType::Double => (Physical::DOUBLE, None),
            ParquetType::Int64 => (Physical::INT64, None),
            ParquetType::Boolean => (Physical::BOOLEAN, None),
            ParquetType::Timestamp => (
                Physical::INT64,
                Some(LogicalType::timestamp(true, TimeUnit::MILLIS)),
            ),
            ParquetType::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        };
        Type::primitive_type_builder(name, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .build()
            .map_err(parquet_error)
    }
}

fn parquet_error(e: parquet::errors::ParquetError) -> SynthError {
    SynthError::Io(std::io::Error::other(e.to_string()))
}

/// One column's buffered values and definition levels (1 present, 0 null).
enum Buffer {
    Double(Vec<f64>),
    Int64(Vec<i64>),
    Boolean(Vec<bool>),
    Text(Vec<ByteArray>),
}

/// Streams rows into a Parquet file (module docs).
pub struct ParquetSink<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    types: Vec<ParquetType>,
    values: Vec<Buffer>,
    levels: Vec<Vec<i16>>,
    rows: usize,
}

impl<W: Write + Send> ParquetSink<W> {
    pub fn new(out: W, header: &[String], types: Vec<ParquetType>) -> Result<Self, SynthError> {
        if header.len() != types.len() {
            return Err(SynthError::invalid(
                "columns",
                format!("{} names for {} types", header.len(), types.len()),
            ));
        }
        let fields = header
            .iter()
            .zip(&types)
            .map(|(name, t)| t.field(name).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(parquet_error)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("mlaas synth {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(out, Arc::new(schema), Arc::new(props))
            .map_err(parquet_error)?;
        let values = types
            .iter()
            .map(|t| match t {
                ParquetType::Double => Buffer::Double(Vec::new()),
                ParquetType::Int64 | ParquetType::Timestamp => Buffer::Int64(Vec::new()),
                ParquetType::Boolean => Buffer::Boolean(Vec::new()),
                ParquetType::Text => Buffer::Text(Vec::new()),
            })
            .collect();
        Ok(ParquetSink {
            writer,
            levels: vec![Vec::new(); types.len()],
            types,
            values,
            rows: 0,
        })
    }

    /// Adds one row; a cell that does not fit its column's type is written as its text in a
    /// text column and as null in any other (cannot happen for generated rows).
    pub fn write_row(&mut self, row: &[Cell]) -> Result<(), SynthError> {
        for (j, cell) in row.iter().enumerate().take(self.types.len()) {
            let present = match (&mut self.values[j], self.types[j], cell) {
                (_, _, Cell::Null) => false,
                (Buffer::Double(v), _, Cell::Num(x)) if x.is_finite() => {
                    v.push(*x);
                    true
                }
                (Buffer::Double(v), _, Cell::Int(i)) => {
                    v.push(*i as f64);
                    true
                }
                (Buffer::Int64(v), ParquetType::Int64, Cell::Int(i)) => {
                    v.push(*i);
                    true
                }
                (Buffer::Int64(v), ParquetType::Timestamp, Cell::Time(s)) => {
                    v.push(s.saturating_mul(1000));
                    true
                }
                (Buffer::Int64(v), ParquetType::Timestamp, Cell::Text(t)) => {
                    match parse_instant(t) {
                        Some(s) => {
                            v.push(s.saturating_mul(1000));
                            true
                        }
                        None => false,
                    }
                }
                (Buffer::Boolean(v), _, Cell::Bool(b)) => {
                    v.push(*b);
                    true
                }
                (Buffer::Text(v), _, c) => {
                    let text = match c {
                        Cell::Text(t) => t.to_string(),
                        Cell::Time(s) => format_instant(*s),
                        other => match other.to_json() {
                            Value::String(s) => s,
                            Value::Null => String::new(),
                            v => v.to_string(),
                        },
                    };
                    v.push(ByteArray::from(text.into_bytes()));
                    true
                }
                _ => false,
            };
            self.levels[j].push(i16::from(present));
        }
        // A short row: the missing cells are nulls.
        for j in row.len()..self.types.len() {
            self.levels[j].push(0);
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SynthError> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group().map_err(parquet_error)?;
        let mut j = 0;
        while let Some(mut column) = group.next_column().map_err(parquet_error)? {
            let levels = std::mem::take(&mut self.levels[j]);
            match &mut self.values[j] {
                Buffer::Double(v) => column.typed::<DoubleType>().write_batch(
                    &std::mem::take(v),
                    Some(&levels),
                    None,
                ),
                Buffer::Int64(v) => {
                    column
                        .typed::<Int64Type>()
                        .write_batch(&std::mem::take(v), Some(&levels), None)
                }
                Buffer::Boolean(v) => {
                    column
                        .typed::<BoolType>()
                        .write_batch(&std::mem::take(v), Some(&levels), None)
                }
                Buffer::Text(v) => column.typed::<ByteArrayType>().write_batch(
                    &std::mem::take(v),
                    Some(&levels),
                    None,
                ),
            }
            .map_err(parquet_error)?;
            column.close().map_err(parquet_error)?;
            j += 1;
        }
        group.close().map_err(parquet_error)?;
        self.rows = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; the writer back.
    pub fn finish(mut self) -> Result<W, SynthError> {
        self.flush()?;
        self.writer.into_inner().map_err(parquet_error)
    }
}

/// A Parquet file's column names and rows as JSON cells: numbers, booleans, text, instants
/// as RFC 3339 UTC text, null; nested or binary values are refused, naming the column.
pub fn read_rows(bytes: Vec<u8>) -> Result<(Vec<String>, Vec<Vec<Value>>), SynthError> {
    read_rows_within(bytes, MAX_READ_CELLS)
}

/// [`read_rows`] with its own bound on cells, checked against the footer before any row is
/// read.
pub fn read_rows_within(
    bytes: Vec<u8>,
    max_cells: usize,
) -> Result<(Vec<String>, Vec<Vec<Value>>), SynthError> {
    let unreadable = |e: parquet::errors::ParquetError| {
        SynthError::invalid("body", format!("not a readable Parquet file: {e}"))
    };
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).map_err(unreadable)?;
    let names: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let rows_in_file = reader.metadata().file_metadata().num_rows().max(0) as usize;
    let cells = rows_in_file.saturating_mul(names.len().max(1));
    if cells > max_cells {
        return Err(SynthError::invalid(
            "body",
            format!(
                "the Parquet file holds {rows_in_file} rows × {} columns = {cells} cells; at most {max_cells}",
                names.len()
            ),
        ));
    }
    let mut rows = Vec::with_capacity(rows_in_file);
    for row in reader.get_row_iter(None).map_err(unreadable)? {
        let row = row.map_err(unreadable)?;
        let mut cells = Vec::with_capacity(names.len());
        for (name, field) in row.get_column_iter() {
            cells.push(cell_of(name, field)?);
        }
        rows.push(cells);
    }
    Ok((names, rows))
}

fn cell_of(name: &str, field: &Field) -> Result<Value, SynthError> {
    let millis = |ms: i64| {
        let s = ms.div_euclid(1000);
        Value::String(format_instant(s))
    };
    Ok(match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(v) => Value::from(*v),
        Field::Short(v) => Value::from(*v),
        Field::Int(v) => Value::from(*v),
        Field::Long(v) => Value::from(*v),
        Field::UByte(v) => Value::from(*v),
        Field::UShort(v) => Value::from(*v),
        Field::UInt(v) => Value::from(*v),
        Field::ULong(v) => Value::from(*v),
        Field::Float16(v) => number(f64::from(*v)),
        Field::Float(v) => number(f64::from(*v)),
        Field::Double(v) => number(*v),
        Field::Str(s) => Value::String(s.clone()),
        Field::Date(days) => Value::String(format_instant(i64::from(*days) * 86_400)[..10].into()),
        Field::TimestampMillis(ms) => millis(*ms),
        Field::TimestampMicros(us) => millis(us.div_euclid(1000)),
        other => {
            return Err(SynthError::invalid(
                name,
                format!(
                    "a {} value; columns must hold numbers, booleans, text or timestamps",
                    field_kind(other)
                ),
            ))
        }
    })
}

fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn field_kind(f: &Field) -> &'static str {
    match f {
        Field::Decimal(_) => "decimal",
        Field::Bytes(_) => "binary",
        Field::Group(_) => "nested",
        Field::ListInternal(_) => "list",
        Field::MapInternal(_) => "map",
        _ => "time-of-day",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(s: &str) -> Cell {
        Cell::Text(Arc::from(s))
    }

    #[test]
    fn every_type_and_null_round_trips() {
        let header: Vec<String> = ["x", "n", "b", "t", "s"].map(String::from).to_vec();
        let types = vec![
            ParquetType::Double,
            ParquetType::Int64,
            ParquetType::Boolean,
            ParquetType::Timestamp,
            ParquetType::Text,
        ];
        let mut sink = ParquetSink::new(Vec::new(), &header, types).unwrap();
        sink.write_row(&[
            Cell::Num(1.5),
            Cell::Int(-7),
            Cell::Bool(true),
            Cell::Time(1_700_000_000),
            text("café"),
        ])
        .unwrap();
        sink.write_row(&[Cell::Null, Cell::Null, Cell::Null, Cell::Null, Cell::Null])
            .unwrap();
        sink.write_row(&[
            Cell::Int(2),
            Cell::Int(i64::MAX),
            Cell::Bool(false),
            text("2024-02-29"),
            Cell::Int(42),
        ])
        .unwrap();
        let bytes = sink.finish().unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        let (names, rows) = read_rows(bytes).unwrap();
        assert_eq!(names, header);
        assert_eq!(
            rows,
            vec![
                vec![
                    json!(1.5),
                    json!(-7),
                    json!(true),
                    json!("2023-11-14T22:13:20Z"),
                    json!("café")
                ],
                vec![Value::Null; 5],
                vec![
                    json!(2.0),
                    json!(i64::MAX),
                    json!(false),
                    json!("2024-02-29T00:00:00Z"),
                    json!("42")
                ],
            ]
        );
    }

    #[test]
    fn many_rows_make_several_row_groups() {
        let header = vec!["i".to_string()];
        let mut sink = ParquetSink::new(Vec::new(), &header, vec![ParquetType::Int64]).unwrap();
        let n = ROW_GROUP_ROWS * 2 + 5;
        for i in 0..n {
            sink.write_row(&[Cell::Int(i as i64)]).unwrap();
        }
        let bytes = sink.finish().unwrap();
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes.clone())).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 3);
        let (_, rows) = read_rows(bytes).unwrap();
        assert_eq!(rows.len(), n);
        assert_eq!(rows[n - 1][0], json!(n as i64 - 1));
        // A file that would expand past the bound is refused before a row is read.
        let reader_bytes = {
            let mut sink = ParquetSink::new(Vec::new(), &header, vec![ParquetType::Int64]).unwrap();
            for i in 0..11 {
                sink.write_row(&[Cell::Int(i)]).unwrap();
            }
            sink.finish().unwrap()
        };
        assert!(read_rows_within(reader_bytes.clone(), 11).is_ok());
        let err = read_rows_within(reader_bytes, 10).unwrap_err().to_string();
        assert!(
            err.contains("11 rows × 1 columns = 11 cells; at most 10"),
            "{err}"
        );
    }

    #[test]
    fn an_uploads_types_come_from_its_cells() {
        let t = |cells: &[Value]| ParquetType::of_values(cells.iter());
        assert_eq!(t(&[json!(1), Value::Null, json!(3)]), ParquetType::Int64);
        assert_eq!(t(&[json!(1), json!(2.5)]), ParquetType::Double);
        assert_eq!(t(&[json!(true), json!(false)]), ParquetType::Boolean);
        assert_eq!(
            t(&[json!("2024-01-01"), json!("2024-01-02T03:04:05Z")]),
            ParquetType::Timestamp
        );
        assert_eq!(t(&[json!("007"), json!(7)]), ParquetType::Text);
        assert_eq!(t(&[Value::Null]), ParquetType::Text);
        assert!(read_rows(b"not parquet".to_vec()).is_err());
    }
}
