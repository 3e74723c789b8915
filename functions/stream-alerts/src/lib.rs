//! The DynamoDB stream consumer: a real-time alert for each new pending request of a repo
//! whose managers chose real-time notifications. The event source's filter criteria
//! (`infra/template.yaml`) pass only such insertions; the shared consumer checks the repo
//! again, so a widened filter never sends mail it shouldn't.

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::service::notifications::{Notifier, alert_on_records};

/// Handles one batch: the records whose alert failed are reported by sequence number, so
/// Lambda retries from the first of them (records alerted on before send nothing again).
pub async fn handle(notifier: &Notifier, event: &Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for id in alert_on_records(notifier, &event.records).await {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(id);
        response.batch_item_failures.push(failure);
    }
    response
}
