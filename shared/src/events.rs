//! Domain events: what happened to access requests, for integrations (webhooks, chat) to
//! subscribe to without code here. On an EventBridge bus in production
//! ([`EventBridgePublisher`]), appended to `DATA_DIR/events.jsonl` locally ([`JsonlPublisher`]).
//! An event names the repo, the user, the request and the time: never answers or addresses.
//! Delivery is at least once; an event's `id` is the same on a redelivery.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::Serialize;

use crate::domain::{AuditAction, AuditRecord, Name, RepoRef, RequestStatus, Timestamp};

/// The `source` of every event on the bus.
pub const SOURCE: &str = "gatehouse";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Accepted,
    Rejected,
    /// The requester withdrew their request.
    Cancelled,
    /// A manager gave access to a user who had not asked.
    Granted,
}

impl EventKind {
    /// The event's `detail-type`.
    pub fn detail_type(self) -> &'static str {
        match self {
            EventKind::Created => "access-request.created",
            EventKind::Accepted => "access-request.accepted",
            EventKind::Rejected => "access-request.rejected",
            EventKind::Cancelled => "access-request.cancelled",
            EventKind::Granted => "access-request.granted",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainEvent {
    #[serde(skip)]
    pub kind: EventKind,
    /// Unique to the change and the kind, the same on a redelivery: what a subscriber
    /// deduplicates on.
    pub id: String,
    pub repo_type: &'static str,
    pub repo_id: String,
    pub user: Name,
    pub request_id: String,
    /// The request's status after the change; none once withdrawn.
    pub status: Option<&'static str>,
    /// Who acted: the requester, a manager, or none for the gate itself (automatic approval).
    pub by: Option<Name>,
    pub time: Timestamp,
}

/// The events of one change, `change` naming it uniquely (the audit record's key). A request
/// that automatic approval accepts at once is created and accepted; a manager moving a
/// request back to pending is no event of this list.
pub fn events_of(change: &str, audit: &AuditRecord) -> Vec<DomainEvent> {
    use RequestStatus::{Accepted, Pending, Rejected};
    let kinds: &[EventKind] = match (audit.action, audit.to) {
        (AuditAction::Requested, Some(Accepted)) => &[EventKind::Created, EventKind::Accepted],
        (AuditAction::Requested, _) => &[EventKind::Created],
        (AuditAction::Reviewed, Some(Accepted)) => &[EventKind::Accepted],
        (AuditAction::Reviewed, Some(Rejected)) => &[EventKind::Rejected],
        (AuditAction::Reviewed, Some(Pending) | None) => &[],
        (AuditAction::Granted, _) => &[EventKind::Granted],
        (AuditAction::Withdrawn, _) => &[EventKind::Cancelled],
    };
    kinds
        .iter()
        .map(|&kind| event(kind, change, &audit.repo, audit))
        .collect()
}

fn event(kind: EventKind, change: &str, repo: &RepoRef, audit: &AuditRecord) -> DomainEvent {
    DomainEvent {
        kind,
        id: format!("{change}#{}", kind.detail_type()),
        repo_type: repo.repo_type.as_str(),
        repo_id: repo.id.to_string(),
        user: audit.user.clone(),
        request_id: audit.request_id.to_string(),
        status: audit.to.map(RequestStatus::as_str),
        by: audit.actor.clone(),
        time: audit.at,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("events could not be published: {0}")]
    Publish(String),
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes every event, or fails; a failure may have published some of them.
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), EventError>;
}

/// Events on an EventBridge bus: `source` [`SOURCE`], `detail-type` the kind, `detail` the
/// event. Entries the bus refuses (`FailedEntryCount`) are sent again, a few times.
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

/// Tries of the entries a `PutEvents` refused, and the first wait between them.
const PUT_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// EventBridge takes at most 10 entries a call.
const MAX_ENTRIES: usize = 10;

impl EventBridgePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }

    fn entry(&self, event: &DomainEvent) -> Result<PutEventsRequestEntry, EventError> {
        let detail =
            serde_json::to_string(event).map_err(|e| EventError::Publish(e.to_string()))?;
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SOURCE)
            .detail_type(event.kind.detail_type())
            .detail(detail)
            .resources(format!("{}/{}", event.repo_type, event.repo_id))
            .build())
    }

    async fn put(&self, entries: Vec<PutEventsRequestEntry>) -> Result<(), EventError> {
        let mut pending = entries;
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=PUT_ATTEMPTS {
            let output = self
                .client
                .put_events()
                .set_entries(Some(pending.clone()))
                .send()
                .await
                .map_err(|e| EventError::Publish(DisplayErrorContext(e).to_string()))?;
            if output.failed_entry_count() == 0 {
                return Ok(());
            }
            // Results line up with the entries sent; a failed one has an error code.
            let results = output.entries();
            let failed: Vec<_> = pending
                .iter()
                .zip(results)
                .filter(|(_, result)| result.error_code().is_some())
                .map(|(entry, _)| entry.clone())
                .collect();
            let reasons: Vec<_> = results.iter().filter_map(|r| r.error_code()).collect();
            tracing::warn!(
                attempt,
                failed = failed.len(),
                ?reasons,
                "EventBridge refused some events"
            );
            if attempt == PUT_ATTEMPTS || failed.is_empty() {
                return Err(EventError::Publish(format!(
                    "EventBridge refused {} of the events: {reasons:?}",
                    output.failed_entry_count()
                )));
            }
            pending = failed;
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        Ok(())
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), EventError> {
        for chunk in events.chunks(MAX_ENTRIES) {
            let entries = chunk
                .iter()
                .map(|e| self.entry(e))
                .collect::<Result<_, _>>()?;
            self.put(entries).await?;
        }
        Ok(())
    }
}

/// Events as JSON lines appended to a file (`DATA_DIR/events.jsonl`), each with its
/// `detailType`, synced to disk before `publish` returns.
pub struct JsonlPublisher {
    path: PathBuf,
}

impl JsonlPublisher {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    source: &'static str,
    detail_type: &'static str,
    detail: &'a DomainEvent,
}

#[async_trait]
impl EventPublisher for JsonlPublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), EventError> {
        let mut text = String::new();
        for event in events {
            let line = Line {
                source: SOURCE,
                detail_type: event.kind.detail_type(),
                detail: event,
            };
            text +=
                &serde_json::to_string(&line).map_err(|e| EventError::Publish(e.to_string()))?;
            text.push('\n');
        }
        let path = self.path.clone();
        let append = move || -> std::io::Result<()> {
            use std::io::Write;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            // One write of whole lines, so two writers never interleave inside a line.
            file.write_all(text.as_bytes())?;
            file.sync_all()
        };
        tokio::task::spawn_blocking(append)
            .await
            .map_err(|e| EventError::Publish(e.to_string()))?
            .map_err(|e| EventError::Publish(format!("appending to {}: {e}", self.path.display())))
    }
}

/// A publisher for tests: keeps what it is given.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct RecordingPublisher {
    pub(crate) published: std::sync::Mutex<Vec<DomainEvent>>,
}

#[cfg(test)]
#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), EventError> {
        self.published.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ObjectId, RepoId, RepoType};

    fn audit(
        action: AuditAction,
        from: Option<RequestStatus>,
        to: Option<RequestStatus>,
    ) -> AuditRecord {
        AuditRecord {
            request_id: ObjectId::random(),
            repo: RepoRef::new(RepoType::Dataset, RepoId::parse("acme/d").unwrap()),
            user: Name::parse("rafael").unwrap(),
            action,
            actor: Some(Name::parse("owner").unwrap()),
            from,
            to,
            reason: Some("secret reason".into()),
            at: Timestamp::parse("2026-03-02T10:00:00.000Z").unwrap(),
        }
    }

    fn kinds(audit: &AuditRecord) -> Vec<&'static str> {
        events_of("k", audit)
            .iter()
            .map(|e| e.kind.detail_type())
            .collect()
    }

    #[test]
    fn each_change_is_the_events_of_its_action_and_outcome() {
        use RequestStatus::*;
        let cases = [
            (
                audit(AuditAction::Requested, None, Some(Pending)),
                vec!["access-request.created"],
            ),
            (
                audit(AuditAction::Requested, None, Some(Accepted)),
                vec!["access-request.created", "access-request.accepted"],
            ),
            (
                audit(AuditAction::Reviewed, Some(Pending), Some(Accepted)),
                vec!["access-request.accepted"],
            ),
            (
                audit(AuditAction::Reviewed, Some(Pending), Some(Rejected)),
                vec!["access-request.rejected"],
            ),
            (
                audit(AuditAction::Reviewed, Some(Rejected), Some(Pending)),
                vec![],
            ),
            (
                audit(AuditAction::Granted, None, Some(Accepted)),
                vec!["access-request.granted"],
            ),
            (
                audit(AuditAction::Withdrawn, Some(Pending), None),
                vec!["access-request.cancelled"],
            ),
        ];
        for (audit, expected) in cases {
            assert_eq!(kinds(&audit), expected, "{:?} {:?}", audit.action, audit.to);
        }
    }

    #[test]
    fn an_event_names_repo_user_and_time_and_never_a_reason_answer_or_address() {
        let record = audit(
            AuditAction::Reviewed,
            Some(RequestStatus::Pending),
            Some(RequestStatus::Rejected),
        );
        let [event] = events_of("AUDIT#1", &record).try_into().unwrap();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": "AUDIT#1#access-request.rejected",
                "repoType": "dataset",
                "repoId": "acme/d",
                "user": "rafael",
                "requestId": record.request_id.to_string(),
                "status": "rejected",
                "by": "owner",
                "time": "2026-03-02T10:00:00.000Z",
            })
        );
    }

    #[tokio::test]
    async fn local_events_are_appended_as_whole_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let publisher = JsonlPublisher::new(dir.path().join("events.jsonl"));
        let created = audit(AuditAction::Requested, None, Some(RequestStatus::Accepted));
        publisher.publish(&events_of("1", &created)).await.unwrap();
        let withdrawn = audit(AuditAction::Withdrawn, Some(RequestStatus::Accepted), None);
        publisher
            .publish(&events_of("2", &withdrawn))
            .await
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let types: Vec<_> = lines
            .iter()
            .map(|l| l["detailType"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "access-request.created",
                "access-request.accepted",
                "access-request.cancelled"
            ]
        );
        assert_eq!(lines[0]["source"], "gatehouse");
        assert_eq!(lines[2]["detail"]["status"], serde_json::Value::Null);
    }

    #[tokio::test]
    async fn eventbridge_takes_every_event_on_the_bus() {
        let Some(_) = crate::store::loopback_emulator("AWS_ENDPOINT_URL") else {
            return;
        };
        let client = aws_sdk_eventbridge::Client::new(&crate::store::sdk_config(2).await);
        let bus = format!("gatehouse-test-{}", ObjectId::random());
        client.create_event_bus().name(&bus).send().await.unwrap();
        let publisher = EventBridgePublisher::new(client.clone(), &bus);
        // Twelve events: more than one PutEvents call holds.
        let events: Vec<_> = (0..12)
            .flat_map(|i| {
                events_of(
                    &i.to_string(),
                    &audit(AuditAction::Requested, None, Some(RequestStatus::Pending)),
                )
            })
            .collect();
        publisher.publish(&events).await.unwrap();
        client.delete_event_bus().name(&bus).send().await.unwrap();

        let gone = EventBridgePublisher::new(client, format!("{bus}-missing"));
        assert!(gone.publish(&events[..1]).await.is_err());
    }
}
