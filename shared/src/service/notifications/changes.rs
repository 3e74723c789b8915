//! The consumer of every change of a request: each audit record, as the table's stream (or
//! the embedded store's change feed, in the same shape) delivers its insertion, becomes its
//! domain events and, for a decision on the request, a mail to the requester.

use aws_lambda_events::dynamodb::EventRecord;

use super::mails::{self, Decision};
use super::stream::failed_records;
use super::{Notifier, NotifyError};
use crate::domain::{AuditAction, AuditRecord, RequestStatus};
use crate::events::{EventPublisher, events_of};
use crate::store::stream::inserted_audit;

/// Publishes the events of the changes among `records` and tells requesters of decisions, in
/// order; returns the identifiers of the records that failed, to be retried. Events are
/// published at least once (a retry publishes a record's events again, with the same ids);
/// a requester's mail goes out once.
pub async fn announce_changes(
    notifier: &Notifier,
    events: &dyn EventPublisher,
    records: &[EventRecord],
) -> Vec<String> {
    failed_records(records, |record| async move {
        match inserted_audit(record)? {
            Some((key, audit)) => announce(notifier, events, &key, &audit).await,
            None => Ok(()),
        }
    })
    .await
}

async fn announce(
    notifier: &Notifier,
    events: &dyn EventPublisher,
    key: &str,
    audit: &AuditRecord,
) -> Result<(), NotifyError> {
    let published = events_of(key, audit);
    if !published.is_empty() {
        events.publish(&published).await?;
    }
    let told = tell_requester(notifier, key, audit).await?;
    tracing::info!(change = %key, repo = %audit.repo, user = %audit.user, action = audit.action.as_str(), events = published.len(), requester_told = told, "change announced");
    Ok(())
}

/// Mails the requester about a decision on their request (accepted, rejected with the
/// reason, or access given); true when a mail went out now.
async fn tell_requester(
    notifier: &Notifier,
    key: &str,
    audit: &AuditRecord,
) -> Result<bool, NotifyError> {
    let decision = match (audit.action, audit.to) {
        (AuditAction::Reviewed, Some(RequestStatus::Accepted)) => Decision::Accepted,
        (AuditAction::Reviewed, Some(RequestStatus::Rejected)) => Decision::Rejected {
            reason: audit.reason.as_deref(),
        },
        (AuditAction::Granted, _) => Decision::Granted,
        _ => return Ok(false),
    };
    let store = notifier.store.as_ref();
    let mails_requesters = store
        .repo(&audit.repo)
        .await?
        .is_some_and(|repo| repo.requester_emails);
    if !mails_requesters {
        return Ok(false);
    }
    // The address they shared with the request, else their account's.
    let shared = store
        .access_request(&audit.repo, &audit.user)
        .await?
        .filter(|request| request.id == audit.request_id)
        .and_then(|request| request.contact.email);
    let to = match shared {
        Some(email) => email,
        None => match store.user(&audit.user).await?.and_then(|user| user.email) {
            Some(email) => email,
            None => return Ok(false),
        },
    };
    let mail = mails::decision(to, &notifier.site, &audit.repo, decision)?;
    notifier.send_once(&format!("decision#{key}"), &mail).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::{Name, RepoId, RepoRef, RepoType, Timestamp};
    use crate::events::RecordingPublisher;
    use crate::mail::RecordingMailer;
    use crate::seed::seeded_sqlite;
    use crate::store::stream::audit_insert_record;
    use crate::store::{SqliteStore, Store};

    const SEED: &str = "
users:
  - {name: owner, email: owner@example.com}
  - {name: ann, email: ann@example.com}
  - {name: bob}
repos:
  - {id: owner/m, type: dataset, gated: manual}
requests:
  - {repo: owner/m, type: dataset, user: ann, status: pending}
  - {repo: owner/m, type: dataset, user: bob, status: pending}
";

    struct World {
        store: SqliteStore,
        _dir: tempfile::TempDir,
        mailer: Arc<RecordingMailer>,
        events: RecordingPublisher,
        notifier: Notifier,
    }

    async fn world() -> World {
        let (store, dir) = seeded_sqlite(SEED).await;
        let (notifier, mailer) = super::super::recording(Arc::new(store.clone()));
        World {
            store,
            _dir: dir,
            mailer,
            events: RecordingPublisher::default(),
            notifier,
        }
    }

    /// `user`'s request moved to `to` by the owner, stored, and the record of its audit.
    async fn review(
        world: &World,
        user: &str,
        to: RequestStatus,
        reason: Option<&str>,
        seq: u64,
    ) -> EventRecord {
        let repo = RepoRef::new(RepoType::Dataset, RepoId::parse("owner/m").unwrap());
        let request = world
            .store
            .access_request(&repo, &Name::parse(user).unwrap())
            .await
            .unwrap()
            .unwrap();
        let owner = Name::parse("owner").unwrap();
        let after = request
            .reviewed(to, &owner, reason.map(str::to_owned), Timestamp::now())
            .unwrap();
        let audit = AuditRecord::changed(
            AuditAction::Reviewed,
            Some(&owner),
            &request,
            &after,
            after.updated_at,
        );
        world.store.update_request(&after, &audit).await.unwrap();
        audit_insert_record(seq, &audit).unwrap()
    }

    #[tokio::test]
    async fn a_decision_tells_the_requester_once_and_publishes_its_event() {
        let world = world().await;
        let rejected = review(
            &world,
            "ann",
            RequestStatus::Rejected,
            Some("Not <b>eligible</b>"),
            1,
        )
        .await;
        let accepted = review(&world, "ann", RequestStatus::Accepted, None, 2).await;
        let batch = [rejected.clone(), accepted, rejected];

        let failed = announce_changes(&world.notifier, &world.events, &batch).await;
        assert!(failed.is_empty(), "{failed:?}");
        let sent = world.mailer.sent();
        let subjects: Vec<_> = sent.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "Your request to access owner/m was rejected",
                "Your request to access owner/m was accepted"
            ]
        );
        assert_eq!(sent[0].to[0].as_str(), "ann@example.com");
        assert!(
            sent[0]
                .text
                .contains("The reason given: Not <b>eligible</b>"),
            "{}",
            sent[0].text
        );
        assert!(!sent[0].html.contains("<b>eligible"), "{}", sent[0].html);
        assert!(
            sent[1]
                .text
                .contains("hf download owner/m --repo-type dataset"),
            "{}",
            sent[1].text
        );
        assert!(
            sent[1]
                .text
                .contains("https://hub.example.com/datasets/owner/m"),
            "{}",
            sent[1].text
        );

        // Events: one a change, again for the redelivered record, with the same id.
        let published = world.events.published.lock().unwrap().clone();
        let kinds: Vec<_> = published.iter().map(|e| e.kind.detail_type()).collect();
        assert_eq!(
            kinds,
            [
                "access-request.rejected",
                "access-request.accepted",
                "access-request.rejected"
            ]
        );
        assert_eq!(published[0].id, published[2].id);
    }

    #[tokio::test]
    async fn a_requester_without_an_address_gets_no_mail_and_moving_back_to_pending_tells_no_one() {
        let world = world().await;
        let bob = review(&world, "bob", RequestStatus::Accepted, None, 1).await;
        let reopened = review(&world, "bob", RequestStatus::Pending, None, 2).await;
        let failed = announce_changes(&world.notifier, &world.events, &[bob, reopened]).await;
        assert!(failed.is_empty());
        assert!(world.mailer.sent().is_empty());
        assert_eq!(world.events.published.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn managers_who_turned_requester_emails_off_keep_the_events_only() {
        let world = world().await;
        let repo = RepoRef::new(RepoType::Dataset, RepoId::parse("owner/m").unwrap());
        let off = crate::store::SettingsUpdate {
            requester_emails: Some(false),
            ..Default::default()
        };
        world.store.update_repo_settings(&repo, &off).await.unwrap();
        let record = review(&world, "ann", RequestStatus::Accepted, None, 1).await;
        let failed = announce_changes(&world.notifier, &world.events, &[record]).await;
        assert!(failed.is_empty());
        assert!(world.mailer.sent().is_empty());
        assert_eq!(world.events.published.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_mail_fails_its_record_and_its_retry_sends_it() {
        let world = world().await;
        let record = review(&world, "ann", RequestStatus::Accepted, None, 7).await;
        world.mailer.refuse("ann@example.com");
        let failed = announce_changes(
            &world.notifier,
            &world.events,
            std::slice::from_ref(&record),
        )
        .await;
        assert_eq!(failed, ["7"]);
        world.mailer.accept_all();
        let failed = announce_changes(&world.notifier, &world.events, &[record]).await;
        assert!(failed.is_empty());
        assert_eq!(world.mailer.sent().len(), 1);
    }
}
