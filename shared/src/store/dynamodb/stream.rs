//! The table's stream as the notifications read it: a new access request is an `INSERT`
//! record whose new image is the request's item, attributes as the store writes them. The
//! embedded store's change feed makes records of the same shape ([`insert_record`]), so one
//! consumer reads both.

use aws_lambda_events::dynamodb::EventRecord;

use super::items::{self, Item, KIND, KIND_REQUEST};
use crate::domain::AccessRequest;
use crate::store::{StoreError, StoreResult};

/// The request a record inserted, if it inserted one; an error when it names itself a
/// request but cannot be read as one.
pub fn inserted_request(record: &EventRecord) -> StoreResult<Option<AccessRequest>> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let image: Item = record.change.new_image.clone().into();
    let is_request = image
        .get(KIND)
        .and_then(|kind| kind.as_s().ok())
        .is_some_and(|kind| kind == KIND_REQUEST);
    if !is_request {
        return Ok(None);
    }
    items::request_from(&image).map(Some)
}

/// The record DynamoDB's stream (`NEW_IMAGE`) delivers when `request` is inserted, numbered
/// `sequence`.
pub fn insert_record(sequence: u64, request: &AccessRequest) -> StoreResult<EventRecord> {
    let item = items::request_item(request)?;
    let keys: Item = [super::keys::PK, super::keys::SK]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), item.get(name)?.clone())))
        .collect();
    let size = items::item_size(&item);
    let record = serde_json::json!({
        "eventID": sequence.to_string(),
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "local",
        "dynamodb": {
            "ApproximateCreationDateTime": request.updated_at.millis() / 1000,
            "Keys": serde_dynamo::Item::from(keys),
            "NewImage": serde_dynamo::Item::from(item),
            "SequenceNumber": sequence.to_string(),
            "SizeBytes": size,
            "StreamViewType": "NEW_IMAGE",
        },
    });
    serde_json::from_value(record)
        .map_err(|e| StoreError::Backend(format!("a stream record could not be made: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        Answers, Contact, Email, Name, ObjectId, RepoId, RepoRef, RepoType, RequestState, Timestamp,
    };

    fn request() -> AccessRequest {
        AccessRequest {
            id: ObjectId::random(),
            repo: RepoRef::new(RepoType::Dataset, RepoId::parse("acme/d").unwrap()),
            user: Name::parse("rafael").unwrap(),
            contact: Contact {
                fullname: "Rafael\r\nBcc: x@example.net".into(),
                email: Some(Email::parse("rafael@example.com").unwrap()),
            },
            answers: Answers(vec![
                ("Company".into(), "ACME".into()),
                ("Agree".into(), true.into()),
            ]),
            state: RequestState::Pending,
            created_at: Timestamp::from_millis(1_767_225_600_000),
            updated_at: Timestamp::from_millis(1_767_225_600_000),
            version: 1,
        }
    }

    #[test]
    fn an_inserted_request_reads_back_from_its_record_as_it_was_written() {
        let request = request();
        let record = insert_record(7, &request).unwrap();
        assert_eq!(record.change.sequence_number.as_deref(), Some("7"));
        assert_eq!(inserted_request(&record).unwrap(), Some(request));
        // The shape Lambda hands over: the record survives JSON both ways.
        let json = serde_json::to_value(&record).unwrap();
        let again: EventRecord = serde_json::from_value(json).unwrap();
        assert_eq!(
            inserted_request(&again).unwrap().unwrap().user.as_str(),
            "rafael"
        );
    }

    #[test]
    fn changes_and_other_items_are_no_new_request() {
        let mut record = insert_record(1, &request()).unwrap();
        record.event_name = "MODIFY".into();
        assert_eq!(inserted_request(&record).unwrap(), None);
        record.event_name = "INSERT".into();
        record.change.new_image.insert(
            "kind".into(),
            serde_dynamo::AttributeValue::S("audit".into()),
        );
        assert_eq!(inserted_request(&record).unwrap(), None);
    }

    #[test]
    fn a_request_record_missing_an_attribute_is_an_error_not_a_panic() {
        let mut record = insert_record(1, &request()).unwrap();
        record.change.new_image.remove("user");
        assert!(inserted_request(&record).is_err());
    }
}
