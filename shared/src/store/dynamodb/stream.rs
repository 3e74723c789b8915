//! The table's stream as the notifications read it: a new access request is an `INSERT`
//! record whose new image is the request's item, attributes as the store writes them. The
//! embedded store's change feed makes records of the same shape ([`insert_record`]), so one
//! consumer reads both.

use aws_lambda_events::dynamodb::EventRecord;

use super::items::{self, Item, KIND, KIND_AUDIT, KIND_REQUEST};
use super::keys::{self, PK, SK};
use crate::domain::{AccessRequest, AuditRecord, Timestamp};
use crate::store::{StoreError, StoreResult};

/// The request a record inserted, if it inserted one; an error when it names itself a
/// request but cannot be read as one.
pub fn inserted_request(record: &EventRecord) -> StoreResult<Option<AccessRequest>> {
    match inserted(record, KIND_REQUEST) {
        Some(image) => items::request_from(&image).map(Some),
        None => Ok(None),
    }
}

/// The audit record a record inserted (every change of a request writes one), with its key:
/// unique to the change, and the same when the record is delivered again.
pub fn inserted_audit(record: &EventRecord) -> StoreResult<Option<(String, AuditRecord)>> {
    let Some(image) = inserted(record, KIND_AUDIT) else {
        return Ok(None);
    };
    let key = image
        .get(SK)
        .and_then(|sk| sk.as_s().ok())
        .ok_or_else(|| StoreError::Backend("an audit record without its key".into()))?
        .clone();
    Ok(Some((key, items::audit_from(&image)?)))
}

/// The new image of an `INSERT` of an item of `kind`.
fn inserted(record: &EventRecord, kind: &str) -> Option<Item> {
    if record.event_name != "INSERT" {
        return None;
    }
    let image: Item = record.change.new_image.clone().into();
    let is_kind = image
        .get(KIND)
        .and_then(|value| value.as_s().ok())
        .is_some_and(|value| value == kind);
    is_kind.then_some(image)
}

/// The record DynamoDB's stream (`NEW_IMAGE`) delivers when `request` is inserted, numbered
/// `sequence`.
pub fn insert_record(sequence: u64, request: &AccessRequest) -> StoreResult<EventRecord> {
    record_of(sequence, items::request_item(request)?, request.updated_at)
}

/// The record of an audit record's insertion, numbered `sequence`: the embedded store's
/// change feed, whose records keep no request version, keys it by its sequence instead.
pub fn audit_insert_record(sequence: u64, audit: &AuditRecord) -> StoreResult<EventRecord> {
    let key = keys::audit_sk(audit.request_id, sequence, keys::AuditPhase::Write);
    record_of(sequence, items::audit_item(audit, key), audit.at)
}

fn record_of(sequence: u64, item: Item, at: Timestamp) -> StoreResult<EventRecord> {
    let keys: Item = [PK, SK]
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
            "ApproximateCreationDateTime": at.millis() / 1000,
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
        Answers, AuditAction, Contact, Email, Name, ObjectId, RepoId, RepoRef, RepoType,
        RequestState,
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
    fn an_audit_record_reads_back_with_a_key_of_its_own() {
        let request = request();
        let audit = AuditRecord::created(
            AuditAction::Requested,
            Some(&request.user),
            &request,
            request.created_at,
        );
        let record = audit_insert_record(42, &audit).unwrap();
        let (key, read) = inserted_audit(&record).unwrap().unwrap();
        assert_eq!(read, audit);
        assert_ne!(
            key,
            inserted_audit(&audit_insert_record(43, &audit).unwrap())
                .unwrap()
                .unwrap()
                .0
        );
        assert_eq!(inserted_request(&record).unwrap(), None);
        assert_eq!(
            inserted_audit(&insert_record(1, &request).unwrap()).unwrap(),
            None
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

    /// The whole path on the emulators: a request written to DynamoDB Local, its record read
    /// back from the table's stream (`GetRecords`, as Lambda's event source reads it), fed to
    /// the consumer twice, and the one mail it sends read back from moto's SES.
    #[tokio::test]
    async fn a_stream_record_from_dynamodb_local_is_mailed_once_through_ses() {
        use std::sync::Arc;

        use crate::domain::{AuditAction, AuditRecord, Repo};
        use crate::domain::{GateMode, NotificationsMode, User, Visibility};
        use crate::mail::SesMailer;
        use crate::service::notifications::{Notifier, alert_on_records};
        use crate::store::dynamodb::tests::store_on_new_table;
        use crate::store::{Store, emulator_endpoint, loopback_emulator, sdk_config};

        let (Some(_), Some(moto)) = (emulator_endpoint(), loopback_emulator("AWS_ENDPOINT_URL"))
        else {
            return;
        };
        let sdk = sdk_config(4).await;
        let (store, _guard) =
            store_on_new_table(aws_sdk_dynamodb::Client::new(&sdk), "gatehouse-stream").await;
        let unique = ObjectId::random();
        let owner_email = format!("owner-{unique}@example.com");
        let person = |name: &str, email: Option<&str>| User {
            id: ObjectId::random(),
            name: Name::parse(name).unwrap(),
            fullname: name.into(),
            email: email.map(|e| Email::parse(e).unwrap()),
            created_at: Timestamp::now(),
        };
        store
            .create_user(&person("owner", Some(&owner_email)))
            .await
            .unwrap();
        store.create_user(&person("rafael", None)).await.unwrap();
        for (id, mode) in [
            ("owner/live", NotificationsMode::RealTime),
            ("owner/daily", NotificationsMode::Bulk),
        ] {
            let repo = RepoRef::new(RepoType::Model, RepoId::parse(id).unwrap());
            store
                .create_repo(&Repo {
                    repo: repo.clone(),
                    owner: Name::parse("owner").unwrap(),
                    visibility: Visibility::Public,
                    gate: GateMode::Manual,
                    notifications_mode: mode,
                    notifications_email: None,
                    requester_emails: true,
                    sha: "0".repeat(40),
                    front_matter: None,
                    created_at: Timestamp::now(),
                    last_modified: Timestamp::now(),
                })
                .await
                .unwrap();
            let request = AccessRequest { repo, ..request() };
            let audit = AuditRecord::created(
                AuditAction::Requested,
                Some(&request.user),
                &request,
                request.created_at,
            );
            store.insert_request(&request, &audit, mode).await.unwrap();
        }

        let records = stream_records(&sdk, store.table_name()).await;
        let inserted: Vec<_> = records
            .iter()
            .filter_map(|r| inserted_request(r).unwrap())
            .map(|r| r.repo.id.to_string())
            .collect();
        assert_eq!(inserted, ["owner/live", "owner/daily"]);

        let ses = aws_sdk_ses::Client::new(&sdk);
        ses.verify_email_identity()
            .email_address("noreply@example.com")
            .send()
            .await
            .unwrap();
        let notifier = Notifier {
            store: Arc::new(store.clone()),
            mailer: Arc::new(SesMailer::new(
                ses,
                "gatehouse <noreply@example.com>".parse().unwrap(),
            )),
            site: "https://hub.example.com".into(),
        };
        // Every record twice: a redelivered batch.
        let batch: Vec<_> = records.iter().chain(&records).cloned().collect();
        assert_eq!(
            alert_on_records(&notifier, &batch).await,
            Vec::<String>::new()
        );

        let sent = sent_through_moto(&moto, &owner_email);
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert!(
            sent[0].contains("Subject: New access request to owner/live from rafael"),
            "{}",
            sent[0]
        );

        // The same records to the change consumer: each request's audit item is one event.
        let events = crate::events::RecordingPublisher::default();
        let failed =
            crate::service::notifications::announce_changes(&notifier, &events, &batch).await;
        assert_eq!(failed, Vec::<String>::new());
        let published = events.published.lock().unwrap().clone();
        let repos: Vec<_> = published
            .iter()
            .map(|e| (e.kind.detail_type(), e.repo_id.as_str()))
            .collect();
        let created = "access-request.created";
        assert_eq!(
            repos,
            [
                (created, "owner/live"),
                (created, "owner/daily"),
                (created, "owner/live"),
                (created, "owner/daily")
            ]
        );
        assert_eq!(
            published[0].id, published[2].id,
            "a redelivery keeps the event's id"
        );
    }

    /// Every record of the table's stream so far, as Lambda's event source hands them over.
    async fn stream_records(sdk: &aws_config::SdkConfig, table: &str) -> Vec<EventRecord> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let described = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .unwrap();
        let arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .unwrap()
            .to_owned();
        let streams = aws_sdk_dynamodbstreams::Client::new(sdk);
        let stream = streams
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap();
        let shards = stream.stream_description().unwrap().shards().to_vec();
        let mut records = Vec::new();
        for shard in shards {
            let mut iterator = streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(shard.shard_id().unwrap())
                .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator
                .unwrap();
            // An open shard always hands back a next iterator: read until a page is empty.
            loop {
                let page = streams
                    .get_records()
                    .shard_iterator(&iterator)
                    .send()
                    .await
                    .unwrap();
                if page.records().is_empty() {
                    break;
                }
                records.extend(page.records().iter().map(lambda_record));
                match page.next_shard_iterator {
                    Some(next) => iterator = next,
                    None => break,
                }
            }
        }
        records
    }

    fn lambda_record(record: &aws_sdk_dynamodbstreams::types::Record) -> EventRecord {
        let change = record.dynamodb().unwrap();
        let image = |map: Option<
            &std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>,
        >| { serde_dynamo::Item::from(map.cloned().unwrap_or_default()) };
        let json = serde_json::json!({
            "eventID": record.event_id(),
            "eventName": record.event_name().unwrap().as_str(),
            "eventVersion": record.event_version(),
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": change.approximate_creation_date_time().map_or(0, |t| t.secs()),
                "Keys": image(change.keys.as_ref()),
                "NewImage": image(change.new_image.as_ref()),
                "SequenceNumber": change.sequence_number(),
                "SizeBytes": change.size_bytes(),
                "StreamViewType": "NEW_IMAGE",
            },
        });
        serde_json::from_value(json).unwrap()
    }

    /// The raw messages moto's SES took for `recipient` (its state, at `/moto-api/data.json`).
    fn sent_through_moto(endpoint: &str, recipient: &str) -> Vec<String> {
        use std::io::{Read, Write};
        let address = endpoint.trim_start_matches("http://").trim_end_matches('/');
        let mut connection = std::net::TcpStream::connect(address).unwrap();
        write!(
            connection,
            "GET /moto-api/data.json HTTP/1.0\r\nHost: {address}\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        connection.read_to_string(&mut response).unwrap();
        let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
        let state: serde_json::Value = serde_json::from_str(body).unwrap();
        let messages = state["ses"]["RawMessage"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        messages
            .iter()
            .filter(|m| {
                m["destinations"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|d| d == recipient))
            })
            .filter_map(|m| m["raw_data"].as_str().map(str::to_owned))
            .collect()
    }
}
