//! The change feed's consumer: DynamoDB stream records, or the embedded store's records of the
//! same shape, in; a real-time alert for each new pending request among them.

use aws_lambda_events::dynamodb::EventRecord;

use super::{AlertOutcome, Notifier, NotifyError, alert_new_request};
use crate::store::stream::inserted_request;

/// Alerts on the new pending requests among `records`, in order, and returns the identifiers
/// (sequence numbers) of the records that failed, to be retried; one failing does not stop
/// the others. A retry of a record alerted on before sends nothing again.
pub async fn alert_on_records(notifier: &Notifier, records: &[EventRecord]) -> Vec<String> {
    failed_records(records, |record| alert_on(notifier, record)).await
}

async fn alert_on(notifier: &Notifier, record: &EventRecord) -> Result<(), NotifyError> {
    let Some(request) = inserted_request(record)? else {
        return Ok(());
    };
    let outcome = match alert_new_request(notifier, &request).await? {
        AlertOutcome::Sent => "sent",
        AlertOutcome::AlreadySent => "already sent",
        AlertOutcome::NotCalledFor(why) => why,
    };
    tracing::info!(repo = %request.repo, user = %request.user, request = %request.id, outcome, "real-time alert");
    Ok(())
}

/// Runs `handle` on each of `records` in order, one failing not stopping the others, and
/// returns the identifiers of those that failed: their sequence numbers, as Lambda's partial
/// batch responses for streams want them.
pub(super) async fn failed_records<'a, F, Fut>(records: &'a [EventRecord], handle: F) -> Vec<String>
where
    F: Fn(&'a EventRecord) -> Fut,
    Fut: Future<Output = Result<(), NotifyError>>,
{
    let mut failed = Vec::new();
    for record in records {
        if let Err(error) = handle(record).await {
            let id = record
                .change
                .sequence_number
                .clone()
                .unwrap_or_else(|| record.event_id.clone());
            tracing::error!(record = %id, %error, "a stream record failed");
            failed.push(id);
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::domain::{Name, RepoId, RepoRef, RepoType};
    use crate::seed::seeded_sqlite;
    use crate::store::Store;
    use crate::store::stream::insert_record;

    const SEED: &str = "
users:
  - {name: owner, email: owner@example.com}
  - {name: other, email: other@example.com}
  - {name: r1}
  - {name: r2}
repos:
  - {id: owner/live, gated: manual, notifications: {mode: realtime}}
  - {id: other/live, gated: manual, notifications: {mode: realtime}}
  - {id: owner/daily, gated: manual}
requests:
  - {repo: owner/live, user: r1, status: pending}
  - {repo: other/live, user: r1, status: pending}
  - {repo: owner/daily, user: r2, status: pending}
";

    #[tokio::test]
    async fn a_batch_alerts_once_per_new_request_and_reports_only_the_records_that_failed() {
        let (store, _dir) = seeded_sqlite(SEED).await;
        let (notifier, mailer) = super::super::recording(Arc::new(store.clone()));
        let request = |repo: &str, user: &str| {
            let (store, user) = (&store, Name::parse(user).unwrap());
            let repo = RepoRef::new(RepoType::Model, RepoId::parse(repo).unwrap());
            async move { store.access_request(&repo, &user).await.unwrap().unwrap() }
        };
        let first = insert_record(1, &request("owner/live", "r1").await).unwrap();
        let failing = insert_record(2, &request("other/live", "r1").await).unwrap();
        let bulk = insert_record(3, &request("owner/daily", "r2").await).unwrap();
        let mut broken = insert_record(4, &request("owner/live", "r1").await).unwrap();
        broken.change.new_image.remove("requestId");
        // The first record again, as a redelivery puts it in a later batch.
        let batch = [first.clone(), failing, bulk, broken, first];

        mailer.refuse("other@example.com");
        let failed = alert_on_records(&notifier, &batch).await;
        assert_eq!(failed, ["2", "4"]);
        assert_eq!(mailer.sent().len(), 1);

        // Lambda retries from the first failed record on: only the failed alert is sent.
        mailer.accept_all();
        let failed = alert_on_records(&notifier, &batch[1..]).await;
        assert_eq!(failed, ["4"]);
        let sent = mailer.sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].to[0].as_str(), "other@example.com");
    }
}
