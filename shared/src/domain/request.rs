use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Email, Name, ObjectId, RepoRef, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    Pending,
    Accepted,
    Rejected,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 3] = [
        RequestStatus::Pending,
        RequestStatus::Accepted,
        RequestStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Accepted => "accepted",
            RequestStatus::Rejected => "rejected",
        }
    }
}

impl FromStr for RequestStatus {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                format!("unknown status '{text}': expected pending, accepted or rejected")
            })
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who decided on a request, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub by: Name,
    pub at: Timestamp,
}

/// A request's state. A pending request has no review; a rejected one always has one and may
/// carry the reason the requester is shown; an accepted one has none when the gate accepted
/// it automatically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestState {
    Pending,
    Accepted {
        review: Option<Review>,
    },
    Rejected {
        review: Review,
        reason: Option<String>,
    },
}

impl RequestState {
    pub fn status(&self) -> RequestStatus {
        match self {
            RequestState::Pending => RequestStatus::Pending,
            RequestState::Accepted { .. } => RequestStatus::Accepted,
            RequestState::Rejected { .. } => RequestStatus::Rejected,
        }
    }

    pub fn review(&self) -> Option<&Review> {
        match self {
            RequestState::Pending => None,
            RequestState::Accepted { review } => review.as_ref(),
            RequestState::Rejected { review, .. } => Some(review),
        }
    }

    pub fn rejection_reason(&self) -> Option<&str> {
        match self {
            RequestState::Rejected { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }
}

/// The requester's contact details as they were when they asked; `email` is `None` for
/// users who were granted access without asking (the Hub shows `null` there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub fullname: String,
    pub email: Option<Email>,
}

/// Form answers keyed by field label, in the card's order. Checkboxes are `true`; every
/// other answer is a string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answers(pub Vec<(String, serde_json::Value)>);

impl Answers {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(self.0.iter().cloned().collect())
    }

    pub fn get(&self, label: &str) -> Option<&serde_json::Value> {
        self.0.iter().find(|(l, _)| l == label).map(|(_, v)| v)
    }

    /// Each answer as a reviewer reads it: a ticked checkbox is "yes".
    pub fn as_text(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(label, value)| {
                let text = match value {
                    serde_json::Value::String(text) => text.clone(),
                    serde_json::Value::Bool(true) => "yes".to_owned(),
                    serde_json::Value::Bool(false) => "no".to_owned(),
                    other => other.to_string(),
                };
                (label.clone(), text)
            })
            .collect()
    }
}

impl Serialize for Answers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (label, answer) in &self.0 {
            map.serialize_entry(label, answer)?;
        }
        map.end()
    }
}

/// Which request of a repo a reviewer means: its user's, or the one with this id (client 2.x).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestTarget {
    User(Name),
    Id(ObjectId),
}

/// One user's request for access to one repo. It keeps its id through every status change;
/// `version` grows by one with each change, so writes can be conditional on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRequest {
    pub id: ObjectId,
    pub repo: RepoRef,
    pub user: Name,
    pub contact: Contact,
    pub answers: Answers,
    pub state: RequestState,
    /// When the user first asked (or was granted access).
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

impl AccessRequest {
    pub fn status(&self) -> RequestStatus {
        self.state.status()
    }

    /// The request after a reviewer moves it to `to`. Every move between two different
    /// statuses is allowed (hf-wire §3); moving to the status it already has is not.
    pub fn reviewed(
        &self,
        to: RequestStatus,
        by: &Name,
        reason: Option<String>,
        at: Timestamp,
    ) -> Result<AccessRequest, AlreadyInStatus> {
        if self.status() == to {
            return Err(AlreadyInStatus(to));
        }
        let review = Review { by: by.clone(), at };
        let state = match to {
            RequestStatus::Pending => RequestState::Pending,
            RequestStatus::Accepted => RequestState::Accepted {
                review: Some(review),
            },
            RequestStatus::Rejected => RequestState::Rejected { review, reason },
        };
        Ok(AccessRequest {
            state,
            updated_at: at,
            version: self.version + 1,
            ..self.clone()
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request is already {0}")]
pub struct AlreadyInStatus(pub RequestStatus);

/// What happened to a request: written in the same transaction as the change itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub request_id: ObjectId,
    pub repo: RepoRef,
    pub user: Name,
    pub action: AuditAction,
    /// Who acted: the requester, a reviewer, or `None` for the gate itself (automatic mode).
    pub actor: Option<Name>,
    pub from: Option<RequestStatus>,
    pub to: Option<RequestStatus>,
    pub reason: Option<String>,
    pub at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    Requested,
    Reviewed,
    Granted,
    Withdrawn,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Requested => "requested",
            AuditAction::Reviewed => "reviewed",
            AuditAction::Granted => "granted",
            AuditAction::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Requested,
            Self::Reviewed,
            Self::Granted,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|a| a.as_str() == text)
    }
}

impl AuditRecord {
    /// The record of a new request.
    pub fn created(
        action: AuditAction,
        actor: Option<&Name>,
        after: &AccessRequest,
        at: Timestamp,
    ) -> Self {
        Self::of(action, actor, after, None, Some(after), at)
    }

    /// The record of a request moving from `before` to `after`.
    pub fn changed(
        action: AuditAction,
        actor: Option<&Name>,
        before: &AccessRequest,
        after: &AccessRequest,
        at: Timestamp,
    ) -> Self {
        Self::of(action, actor, after, Some(before), Some(after), at)
    }

    /// The record of a request that was withdrawn.
    pub fn removed(
        action: AuditAction,
        actor: Option<&Name>,
        before: &AccessRequest,
        at: Timestamp,
    ) -> Self {
        Self::of(action, actor, before, Some(before), None, at)
    }

    fn of(
        action: AuditAction,
        actor: Option<&Name>,
        subject: &AccessRequest,
        before: Option<&AccessRequest>,
        after: Option<&AccessRequest>,
        at: Timestamp,
    ) -> Self {
        AuditRecord {
            request_id: subject.id,
            repo: subject.repo.clone(),
            user: subject.user.clone(),
            action,
            actor: actor.cloned(),
            from: before.map(AccessRequest::status),
            to: after.map(AccessRequest::status),
            reason: after
                .and_then(|r| r.state.rejection_reason())
                .map(str::to_owned),
            at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RepoId, RepoType};

    fn pending() -> AccessRequest {
        AccessRequest {
            id: ObjectId::random(),
            repo: RepoRef::new(RepoType::Model, RepoId::parse("org/m").unwrap()),
            user: Name::parse("alice").unwrap(),
            contact: Contact {
                fullname: "Alice".into(),
                email: None,
            },
            answers: Answers::default(),
            state: RequestState::Pending,
            created_at: Timestamp::from_millis(1),
            updated_at: Timestamp::from_millis(1),
            version: 1,
        }
    }

    #[test]
    fn every_move_between_different_statuses_is_allowed_and_keeps_the_id() {
        let owner = Name::parse("owner").unwrap();
        let at = Timestamp::from_millis(5);
        for from in RequestStatus::ALL {
            let start = if from == RequestStatus::Pending {
                pending()
            } else {
                pending().reviewed(from, &owner, None, at).unwrap()
            };
            for to in RequestStatus::ALL {
                let moved = start.reviewed(to, &owner, Some("why".into()), at);
                if from == to {
                    assert_eq!(moved, Err(AlreadyInStatus(to)));
                } else {
                    let moved = moved.unwrap();
                    assert_eq!(moved.status(), to);
                    assert_eq!(moved.id, start.id);
                    assert_eq!(moved.version, start.version + 1);
                }
            }
        }
    }

    #[test]
    fn only_a_rejection_keeps_its_reason_and_pending_has_no_review() {
        let owner = Name::parse("owner").unwrap();
        let at = Timestamp::from_millis(5);
        let rejected = pending()
            .reviewed(RequestStatus::Rejected, &owner, Some("no".into()), at)
            .unwrap();
        assert_eq!(rejected.state.rejection_reason(), Some("no"));
        assert_eq!(rejected.state.review().unwrap().by, owner);
        let back = rejected
            .reviewed(RequestStatus::Pending, &owner, None, at)
            .unwrap();
        assert_eq!(back.state, RequestState::Pending);
        assert_eq!(back.state.review(), None);
    }

    #[test]
    fn an_audit_record_names_both_ends_of_the_change() {
        let before = pending();
        let owner = Name::parse("owner").unwrap();
        let at = Timestamp::from_millis(9);
        let after = before
            .reviewed(RequestStatus::Rejected, &owner, Some("late".into()), at)
            .unwrap();
        let record = AuditRecord::changed(AuditAction::Reviewed, Some(&owner), &before, &after, at);
        assert_eq!(record.from, Some(RequestStatus::Pending));
        assert_eq!(record.to, Some(RequestStatus::Rejected));
        assert_eq!(record.reason.as_deref(), Some("late"));
        let withdrawn = AuditRecord::removed(AuditAction::Withdrawn, None, &after, at);
        assert_eq!(
            (withdrawn.from, withdrawn.to),
            (Some(RequestStatus::Rejected), None)
        );
    }
}
