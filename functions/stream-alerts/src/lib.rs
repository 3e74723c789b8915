//! Which DynamoDB stream records call for a real-time alert: a new pending access request to
//! a repo whose owners chose real-time notifications. The event source's filter criteria
//! (`infra/template.yaml`) already pass only those; the check is made again here so that a
//! widened filter never sends mail it shouldn't.

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use serde_dynamo::{AttributeValue, Item};

/// The attributes of an access request item that the alert reads, as the DynamoDB store
/// writes them (docs/dynamodb.md). The template's filter criteria name the same ones.
pub mod attributes {
    /// What the item is: `request` for an access request.
    pub const KIND: &str = "kind";
    pub const STATUS: &str = "status";
    /// The repo's notifications mode (`bulk` or `real-time`) when the request was made.
    pub const NOTIFICATIONS_MODE: &str = "notificationsMode";
    pub const REPO_TYPE: &str = "repoType";
    pub const REPO_ID: &str = "repoId";
    pub const USER: &str = "user";
    pub const REQUEST_ID: &str = "requestId";
}

/// A new pending request that its repo's managers hear about at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub repo_type: String,
    pub repo_id: String,
    pub user: String,
    pub request_id: String,
}

/// The alert a record calls for, if any. Only insertions count: a request that a reviewer
/// moves back to pending was announced when it was made.
pub fn alert_for(record: &EventRecord) -> Option<Alert> {
    use attributes::*;
    let image = &record.change.new_image;
    let is_new_pending_request = record.event_name == "INSERT"
        && text(image, KIND) == Some("request")
        && text(image, STATUS) == Some("pending")
        && text(image, NOTIFICATIONS_MODE) == Some("real-time");
    if !is_new_pending_request {
        return None;
    }
    let field = |name| text(image, name).map(str::to_owned);
    let alert = Alert {
        repo_type: field(REPO_TYPE)?,
        repo_id: field(REPO_ID)?,
        user: field(USER)?,
        request_id: field(REQUEST_ID)?,
    };
    Some(alert)
}

fn text<'a>(image: &'a Item, name: &str) -> Option<&'a str> {
    match image.get(name)? {
        AttributeValue::S(value) => Some(value),
        _ => None,
    }
}

/// Handles one batch. Each alert is only logged for now: the mail comes with the
/// notifications, and with it the batch item failures of records whose mail failed.
pub fn handle(event: &Event) -> DynamoDbEventResponse {
    for record in &event.records {
        match alert_for(record) {
            Some(alert) => tracing::info!(
                event_id = %record.event_id,
                repo_type = %alert.repo_type,
                repo = %alert.repo_id,
                user = %alert.user,
                request_id = %alert.request_id,
                "a new pending request to alert on"
            ),
            None => tracing::debug!(event_id = %record.event_id, "no alert for this record"),
        }
    }
    DynamoDbEventResponse::default()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// A stream record as Lambda delivers it, with a new image of these attributes.
    fn record(event_name: &str, new_image: Value) -> EventRecord {
        serde_json::from_value(json!({
            "eventID": "1",
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1767225600.0,
                "Keys": {"PK": {"S": "REPO#model#acme/m"}, "SK": {"S": "REQUEST#rafael"}},
                "NewImage": new_image,
                "SequenceNumber": "111",
                "SizeBytes": 26,
                "StreamViewType": "NEW_IMAGE"
            },
            "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/gatehouse/stream/2026-01-01T00:00:00.000"
        }))
        .unwrap()
    }

    fn pending_request(mode: &str) -> Value {
        json!({
            "PK": {"S": "REPO#model#acme/m"},
            "SK": {"S": "REQUEST#rafael"},
            "kind": {"S": "request"},
            "status": {"S": "pending"},
            "notificationsMode": {"S": mode},
            "repoType": {"S": "model"},
            "repoId": {"S": "acme/m"},
            "user": {"S": "rafael"},
            "requestId": {"S": "65f1c0ffee0000000000beef"},
            "version": {"N": "1"}
        })
    }

    #[test]
    fn a_new_pending_request_to_a_real_time_repo_is_alerted() {
        let alert = alert_for(&record("INSERT", pending_request("real-time"))).unwrap();
        assert_eq!(
            alert,
            Alert {
                repo_type: "model".into(),
                repo_id: "acme/m".into(),
                user: "rafael".into(),
                request_id: "65f1c0ffee0000000000beef".into(),
            }
        );
    }

    #[test]
    fn requests_to_bulk_repos_wait_for_the_digest() {
        assert_eq!(alert_for(&record("INSERT", pending_request("bulk"))), None);
    }

    #[test]
    fn changed_requests_and_other_items_are_not_alerted() {
        assert_eq!(
            alert_for(&record("MODIFY", pending_request("real-time"))),
            None
        );
        let mut accepted = pending_request("real-time");
        accepted["status"] = json!({"S": "accepted"});
        assert_eq!(alert_for(&record("INSERT", accepted)), None);
        let mut audit = pending_request("real-time");
        audit["kind"] = json!({"S": "audit"});
        assert_eq!(alert_for(&record("INSERT", audit)), None);
    }

    #[test]
    fn a_request_missing_what_an_alert_names_is_not_alerted() {
        let mut partial = pending_request("real-time");
        partial.as_object_mut().unwrap().remove("user");
        assert_eq!(alert_for(&record("INSERT", partial)), None);
    }

    #[test]
    fn a_batch_reports_no_failures() {
        let event: Event = serde_json::from_value(json!({"Records": []})).unwrap();
        assert!(handle(&event).batch_item_failures.is_empty());
    }
}
