//! The second DynamoDB stream consumer: every change of an access request (the audit record
//! written with it; the template's filter passes only those) becomes its domain events on
//! EventBridge, and a decision is mailed to the requester.

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::events::EventPublisher;
use shared::service::notifications::{Notifier, announce_changes};

/// Handles one batch: the records that failed are reported by sequence number, so Lambda
/// retries from the first of them.
pub async fn handle(
    notifier: &Notifier,
    events: &dyn EventPublisher,
    event: &Event,
) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for id in announce_changes(notifier, events, &event.records).await {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(id);
        response.batch_item_failures.push(failure);
    }
    response
}
