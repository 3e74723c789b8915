//! Access requests: asking, withdrawing, reviewing and granting.

use serde_json::{Map, Value};

use super::identity::{Caller, RepoView, Viewer};
use crate::card::GateCard;
use crate::domain::{
    AccessRequest, AuditAction, AuditRecord, Contact, Country, Decision, Denial, GateMode, Name,
    ObjectId, RequestState, RequestStatus, RequestTarget, Review, Timestamp, decide,
};
use crate::error::{Error, Result};
use crate::store::{Store, StoreError, TargetRecords};

/// A request as people read it, in mail and on the review page: every value already text.
pub struct RequestLines {
    pub user: String,
    pub fullname: String,
    /// Empty when the requester's account has no address.
    pub email: String,
    /// When they asked.
    pub at: String,
    pub answers: Vec<(String, String)>,
}

impl RequestLines {
    pub fn new(request: &AccessRequest) -> Self {
        Self {
            user: request.user.to_string(),
            fullname: request.contact.fullname.clone(),
            email: request
                .contact
                .email
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
            at: request.created_at.to_string(),
            answers: request.answers.as_text(),
        }
    }
}

/// The longest rejection reason, as the Hub documents it.
pub const MAX_REJECTION_REASON: usize = 200;

/// The gate form of a gated repo, or why there is none to fill.
pub fn gate_card(view: &RepoView) -> Result<GateCard> {
    if !view.repo.gate.is_gated() {
        return Err(Error::NotGated(view.repo_ref().clone()));
    }
    let front_matter = view.repo.front_matter.as_deref().unwrap_or("");
    crate::card::parse_front_matter(front_matter)
        .and_then(|card_data| GateCard::from_card_data(&card_data))
        .map_err(|error| Error::InvalidCard {
            repo: view.repo_ref().clone(),
            error,
        })
}

/// A caller, viewing from `country`, asks for access with their answers to the repo's form.
/// In automatic mode the request is accepted at once; in manual mode it waits for review.
pub async fn ask(
    store: &dyn Store,
    viewer: &Viewer,
    view: &RepoView,
    country: Option<Country>,
    submitted: &Map<String, Value>,
) -> Result<AccessRequest> {
    let card = gate_card(view)?;
    if viewer.role.is_some() {
        return Err(Error::Conflict(format!(
            "You already have access to {} through its namespace",
            view.repo_ref()
        )));
    }
    // The gate refuses a viewer in the EU whatever their request says, so none is stored.
    if let Decision::Deny(denial @ Denial::EuDisallowed { .. }) =
        decide(view.gate_input(country), || card.eu_disallowed)
    {
        return Err(Error::Gated {
            repo: view.repo_ref().clone(),
            denial,
        });
    }
    if let Some(existing) = &viewer.request {
        return Err(match existing.status() {
            RequestStatus::Rejected => Error::Gated {
                repo: view.repo_ref().clone(),
                denial: Denial::GatedRejected,
            },
            RequestStatus::Pending => Error::Conflict(format!(
                "You already asked for access to {}; your request is awaiting review",
                view.repo_ref()
            )),
            RequestStatus::Accepted => {
                Error::Conflict(format!("You already have access to {}", view.repo_ref()))
            }
        });
    }
    let answers = card.validate(submitted).map_err(Error::InvalidAnswers)?;
    let now = Timestamp::now();
    let state = match view.repo.gate {
        GateMode::Auto => RequestState::Accepted { review: None },
        GateMode::Manual | GateMode::Off => RequestState::Pending,
    };
    let caller = &viewer.caller;
    let request = AccessRequest {
        id: ObjectId::random(),
        repo: view.repo_ref().clone(),
        user: caller.name().clone(),
        contact: Contact {
            fullname: caller.user.fullname.clone(),
            email: caller.user.email.clone(),
        },
        answers,
        state,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let audit = AuditRecord::created(AuditAction::Requested, Some(caller.name()), &request, now);
    store
        .insert_request(&request, &audit, view.repo.notifications_mode)
        .await
        .map_err(|e| match e {
            StoreError::Conflict => Error::Conflict(format!(
                "You already asked for access to {}",
                view.repo_ref()
            )),
            other => other.into(),
        })?;
    Ok(request)
}

/// The caller's own request on the repo.
pub fn own_request<'v>(viewer: &'v Viewer, view: &RepoView) -> Result<&'v AccessRequest> {
    viewer.request.as_ref().ok_or_else(|| {
        Error::NotFound(format!(
            "You have no access request for {}",
            view.repo_ref()
        ))
    })
}

/// The caller withdraws their own pending or accepted request, and may ask again later. A
/// rejected request stays: withdrawing it would let the user ask again.
pub async fn withdraw(store: &dyn Store, viewer: &Viewer, view: &RepoView) -> Result<()> {
    let request = own_request(viewer, view)?;
    if request.status() == RequestStatus::Rejected {
        return Err(Error::Gated {
            repo: view.repo_ref().clone(),
            denial: Denial::GatedRejected,
        });
    }
    let audit = AuditRecord::removed(
        AuditAction::Withdrawn,
        Some(viewer.caller.name()),
        request,
        Timestamp::now(),
    );
    store
        .delete_request(request, &audit)
        .await
        .map_err(conflict_message)
}

/// A reviewer moves the request `target` names (`found`, as read with the repo) to
/// `status`: accept, reject (with an optional reason shown to the requester) or cancel back
/// to pending.
pub async fn review(
    store: &dyn Store,
    reviewer: &Caller,
    view: &RepoView,
    target: &RequestTarget,
    found: TargetRecords,
    status: RequestStatus,
    reason: Option<String>,
) -> Result<AccessRequest> {
    require_gated(view)?;
    check_reason(status, reason.as_deref())?;
    let current = match target {
        RequestTarget::User(user) => {
            if found.user.is_none() {
                return Err(Error::NotFound(format!("User '{user}' not found")));
            }
            found.request.ok_or_else(|| {
                Error::NotFound(format!(
                    "User '{user}' has no access request for {}",
                    view.repo_ref()
                ))
            })?
        }
        RequestTarget::Id(id) => found.request.ok_or_else(|| {
            Error::NotFound(format!(
                "Access request '{id}' not found for {}",
                view.repo_ref()
            ))
        })?,
    };
    move_request(
        store,
        reviewer,
        &current,
        status,
        reason,
        AuditAction::Reviewed,
    )
    .await
}

/// A reviewer gives a user access without a request of theirs; an earlier pending or
/// rejected request of the user is accepted and keeps its id. `found` is the user's records,
/// as read with the repo.
pub async fn grant(
    store: &dyn Store,
    reviewer: &Caller,
    view: &RepoView,
    user: &Name,
    found: TargetRecords,
) -> Result<AccessRequest> {
    require_gated(view)?;
    let grantee = found
        .user
        .ok_or_else(|| Error::NotFound(format!("User '{user}' not found")))?;
    let now = Timestamp::now();
    if let Some(current) = found.request {
        if current.status() == RequestStatus::Accepted {
            return Err(Error::BadRequest(format!(
                "User '{user}' already has access to {}",
                view.repo_ref()
            )));
        }
        return move_request(
            store,
            reviewer,
            &current,
            RequestStatus::Accepted,
            None,
            AuditAction::Granted,
        )
        .await;
    }
    let request = AccessRequest {
        id: ObjectId::random(),
        repo: view.repo_ref().clone(),
        user: grantee.name.clone(),
        // The Hub shows no email for users who were granted access without asking.
        contact: Contact {
            fullname: grantee.fullname,
            email: None,
        },
        answers: Default::default(),
        state: RequestState::Accepted {
            review: Some(Review {
                by: reviewer.name().clone(),
                at: now,
            }),
        },
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let audit = AuditRecord::created(AuditAction::Granted, Some(reviewer.name()), &request, now);
    store
        .insert_request(&request, &audit, view.repo.notifications_mode)
        .await
        .map_err(conflict_message)?;
    Ok(request)
}

/// Moves a request to `to` with its audit record, conditional on the version it was read at.
async fn move_request(
    store: &dyn Store,
    reviewer: &Caller,
    current: &AccessRequest,
    to: RequestStatus,
    reason: Option<String>,
    action: AuditAction,
) -> Result<AccessRequest> {
    let now = Timestamp::now();
    let next = current
        .reviewed(to, reviewer.name(), reason, now)
        .map_err(|already| {
            Error::NotFound(format!(
                "The access request of '{}' is {}",
                current.user, already.0
            ))
        })?;
    let audit = AuditRecord::changed(action, Some(reviewer.name()), current, &next, now);
    store
        .update_request(&next, &audit)
        .await
        .map_err(conflict_message)?;
    Ok(next)
}

fn require_gated(view: &RepoView) -> Result<()> {
    if view.repo.gate.is_gated() {
        Ok(())
    } else {
        Err(Error::NotGated(view.repo_ref().clone()))
    }
}

fn check_reason(status: RequestStatus, reason: Option<&str>) -> Result<()> {
    match reason {
        Some(_) if status != RequestStatus::Rejected => Err(Error::BadRequest(
            "rejectionReason is only allowed with status 'rejected'".into(),
        )),
        Some(reason) if reason.chars().count() > MAX_REJECTION_REASON => Err(Error::BadRequest(
            format!("rejectionReason is longer than {MAX_REJECTION_REASON} characters"),
        )),
        Some(reason) if reason.chars().any(|c| c.is_control() && c != '\n') => Err(
            Error::BadRequest("rejectionReason must not contain control characters".into()),
        ),
        _ => Ok(()),
    }
}

fn conflict_message(error: StoreError) -> Error {
    match error {
        StoreError::Conflict => Error::Conflict(
            "The access request was changed by someone else at the same time; reload and try again"
                .into(),
        ),
        other => other.into(),
    }
}
