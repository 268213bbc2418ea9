//! The DynamoDB stream event the worker consumes, and the same shape built locally so the
//! emulator's Invoke API can hand a job to the worker exactly as the stream would.

use aws_lambda_events::event::dynamodb::{EventRecord, StreamRecord, StreamViewType};
use serde::Deserialize;
use serde_json::Value;

use shared::records::JobRecord;

/// The batch as delivered: records are kept as JSON and read one by one, so one malformed
/// record is reported alone instead of failing the whole batch's deserialization.
#[derive(Debug, Default, Deserialize)]
pub struct StreamBatch {
    #[serde(rename = "Records", default)]
    pub records: Vec<Value>,
}

/// One record, as far as the worker needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    /// The stream's sequence number: what `batchItemFailures` reports.
    pub sequence_number: Option<String>,
    pub event_name: String,
    pub job_id: String,
    /// The job's status in the record's new image, when it has one.
    pub status: Option<String>,
}

impl JobEvent {
    /// A new job, or one handed on (a modify whose new image is queued again): both are
    /// work for the worker; any other change is not.
    pub fn is_work(&self) -> bool {
        self.event_name == "INSERT"
            || (self.event_name == "MODIFY" && self.status.as_deref() == Some("queued"))
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EventError {
    #[error("not a DynamoDB stream record: {0}")]
    Shape(String),
    #[error("record has no job id in Keys or NewImage")]
    NoJobId,
}

/// Reads the job id of one stream record (its key, else its new image).
pub fn read_record(raw: &Value) -> Result<JobEvent, EventError> {
    let record: EventRecord =
        serde_json::from_value(raw.clone()).map_err(|e| EventError::Shape(e.to_string()))?;
    let id_of = |item: &serde_dynamo::Item| match item.get("id") {
        Some(serde_dynamo::AttributeValue::S(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let job_id = id_of(&record.change.keys)
        .or_else(|| id_of(&record.change.new_image))
        .ok_or(EventError::NoJobId)?;
    let status = match record.change.new_image.get("status") {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    };
    Ok(JobEvent {
        sequence_number: record.change.sequence_number.clone(),
        event_name: record.event_name,
        job_id,
        status,
    })
}

/// A one-record batch announcing `job` as newly inserted, shaped like the jobs table's
/// stream delivers it (NEW_IMAGE view).
pub fn insert_event(job: &JobRecord, region: &str) -> Result<Value, String> {
    let image: serde_dynamo::Item = serde_dynamo::to_item(job).map_err(|e| e.to_string())?;
    let mut keys = serde_dynamo::Item::from(std::collections::HashMap::<
        String,
        serde_dynamo::AttributeValue,
    >::new());
    keys.insert(
        "id".to_string(),
        serde_dynamo::AttributeValue::S(job.id.clone()),
    );
    let mut change = StreamRecord::default();
    change.approximate_creation_date_time = job.created_at;
    change.keys = keys;
    change.new_image = image;
    // The job id is a ULID: increasing, like real sequence numbers.
    change.sequence_number = Some(job.id.clone());
    change.stream_view_type = Some(StreamViewType::NewImage);
    let mut record = EventRecord::default();
    record.aws_region = region.to_string();
    record.change = change;
    record.event_id = format!("local-{}", job.id);
    record.event_name = "INSERT".to_string();
    record.event_source = Some("aws:dynamodb".to_string());
    record.event_version = Some("1.1".to_string());
    record.event_source_arn =
        Some("arn:aws:dynamodb:local:000000000000:table/jobs/stream/local".into());
    let record = serde_json::to_value(record).map_err(|e| e.to_string())?;
    Ok(serde_json::json!({ "Records": [record] }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../events/training-worker-insert.json");

    #[test]
    fn reads_the_sample_event() {
        let batch: StreamBatch = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(batch.records.len(), 1);
        let e = read_record(&batch.records[0]).unwrap();
        assert_eq!(e.event_name, "INSERT");
        assert!(e.is_work());
        assert!(e.job_id.starts_with("job_"));
        assert!(e.sequence_number.is_some());
    }

    #[test]
    fn a_hand_on_is_work_and_other_changes_are_not() {
        let record = |name: &str, status: &str| {
            serde_json::json!({
                "eventID": "1", "eventName": name, "awsRegion": "us-east-1",
                "dynamodb": {"Keys": {"id": {"S": "job_1"}},
                             "NewImage": {"id": {"S": "job_1"}, "status": {"S": status}},
                             "SequenceNumber": "1", "SizeBytes": 1,
                             "StreamViewType": "NEW_IMAGE"}
            })
        };
        let work = |name, status| read_record(&record(name, status)).unwrap().is_work();
        assert!(work("INSERT", "queued"));
        assert!(work("MODIFY", "queued"));
        assert!(!work("MODIFY", "in_progress"));
        assert!(!work("MODIFY", "stopped"));
        assert!(!work("REMOVE", "queued"));
    }

    #[test]
    fn malformed_records_are_named() {
        assert!(matches!(
            read_record(&serde_json::json!({"eventName": 3})),
            Err(EventError::Shape(_))
        ));
        let no_id = serde_json::json!({
            "eventID": "1", "eventName": "INSERT", "awsRegion": "us-east-1",
            "dynamodb": {"Keys": {}, "NewImage": {"status": {"S": "queued"}}, "SequenceNumber": "1",
                         "SizeBytes": 1, "StreamViewType": "NEW_IMAGE"}
        });
        assert_eq!(read_record(&no_id), Err(EventError::NoJobId));
    }
}
