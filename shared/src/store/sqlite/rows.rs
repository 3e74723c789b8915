//! Between domain types and rows. Every stored value is validated on the way back in: a bad
//! one becomes a conversion error (and so a `Backend` error), never a panic.

use rusqlite::Row;
use rusqlite::types::{Type, ValueRef};

use crate::domain::{
    AccessRequest, Answers, AuditAction, AuditRecord, Contact, Email, GateMode, Name,
    NotificationsMode, ObjectId, OrgRole, Organization, ReadmeBody, ReadmeHtml, Repo, RepoId,
    RepoRef, RequestState, RequestStatus, Review, Timestamp, TokenDigest, User, Visibility,
};
use crate::store::{FileEntry, StoreError, StoreResult, TokenRecord};

// Unqualified, so they serve inserts too; no other table joined with these has a column of
// the same name. Each reader below takes the index of its first column (`at`), so one row can
// hold several records side by side (a join).
pub(super) const USER_COLUMNS: &str = "name, id, fullname, email, created_at";
pub(super) const ORGANIZATION_COLUMNS: &str = "name, id, fullname, created_at";
pub(super) const TOKEN_COLUMNS: &str = "digest, user, role, display_name, created_at";
pub(super) const REPO_COLUMNS: &str = "repo_type, repo_id, owner, visibility, gate, \
     notifications_mode, notifications_email, sha, front_matter, created_at, last_modified, \
     requester_emails";
pub(super) const FILE_COLUMNS: &str = "path, size, oid, sha256";
pub(super) const README_COLUMNS: &str = "body_html, body_too_large, prompt_html";
pub(super) const REQUEST_COLUMNS: &str = "id, repo_type, repo_id, user, fullname, email, \
     answers, status, reviewer, reviewed_at, rejection_reason, created_at, updated_at, version";
pub(super) const AUDIT_COLUMNS: &str = "request_id, repo_type, repo_id, user, action, actor, \
     from_status, to_status, reason, at";

/// Reads column `idx` as text and parses it; `None` from `parse` means the value is invalid.
/// The text is borrowed from the row: only the parsed value is allocated.
fn parsed<T>(
    row: &Row<'_>,
    idx: usize,
    parse: impl FnOnce(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text = text(row, idx)?;
    parse(text).ok_or_else(|| invalid(row, idx, text))
}

/// Like [`parsed`], for a nullable column.
fn parsed_opt<T>(
    row: &Row<'_>,
    idx: usize,
    parse: impl FnOnce(&str) -> Option<T>,
) -> rusqlite::Result<Option<T>> {
    match row.get_ref(idx)? {
        ValueRef::Null => Ok(None),
        _ => parsed(row, idx, parse).map(Some),
    }
}

fn text<'row>(row: &'row Row<'_>, idx: usize) -> rusqlite::Result<&'row str> {
    let value = row.get_ref(idx)?;
    value
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, value.data_type(), e.into()))
}

fn invalid(row: &Row<'_>, idx: usize, text: &str) -> rusqlite::Error {
    let column = row.as_ref().column_name(idx).unwrap_or("?").to_owned();
    let message = format!("column {column} holds an invalid value {text:?}");
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, message.into())
}

pub(super) fn timestamp(row: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    row.get(idx).map(Timestamp::from_millis)
}

fn name(text: &str) -> Option<Name> {
    Name::parse(text).ok()
}

fn email(text: &str) -> Option<Email> {
    Email::parse(text).ok()
}

/// Reads a repo reference from two adjacent columns: type, then id.
fn repo_ref(row: &Row<'_>, idx: usize) -> rusqlite::Result<RepoRef> {
    Ok(RepoRef::new(
        parsed(row, idx, |t| t.parse().ok())?,
        parsed(row, idx + 1, |t| RepoId::parse(t).ok())?,
    ))
}

/// SQLite integers are signed; sizes and versions are not.
fn unsigned(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(idx)?;
    u64::try_from(value).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, value))
}

/// The other way: an unsigned value as an SQLite integer.
pub(super) fn int(value: u64, what: &str) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| {
        StoreError::TooLarge(format!(
            "{what} {value} is larger than the largest number the store holds, {}",
            i64::MAX
        ))
    })
}

fn notifications_mode(text: &str) -> Option<NotificationsMode> {
    [NotificationsMode::Bulk, NotificationsMode::RealTime]
        .into_iter()
        .find(|mode| mode.as_str() == text)
}

pub(super) fn user(row: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        name: parsed(row, at, name)?,
        id: parsed(row, at + 1, ObjectId::parse)?,
        fullname: row.get(at + 2)?,
        email: parsed_opt(row, at + 3, email)?,
        created_at: timestamp(row, at + 4)?,
    })
}

pub(super) fn organization(row: &Row<'_>) -> rusqlite::Result<Organization> {
    Ok(Organization {
        name: parsed(row, 0, name)?,
        id: parsed(row, 1, ObjectId::parse)?,
        fullname: row.get(2)?,
        created_at: timestamp(row, 3)?,
    })
}

pub(super) fn org_role(row: &Row<'_>, idx: usize) -> rusqlite::Result<OrgRole> {
    parsed(row, idx, |t| t.parse().ok())
}

pub(super) fn token(row: &Row<'_>, at: usize) -> rusqlite::Result<TokenRecord> {
    let digest = parsed(row, at, TokenDigest::from_hex)?;
    let user = parsed(row, at + 1, name)?;
    token_of(row, at, digest, user)
}

/// A token found by its `digest` and joined with its `user`'s record: their columns hold
/// what the caller already has, so they are not read again.
pub(super) fn token_of(
    row: &Row<'_>,
    at: usize,
    digest: TokenDigest,
    user: Name,
) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        digest,
        user,
        role: parsed(row, at + 2, |t| t.parse().ok())?,
        display_name: row.get(at + 3)?,
        created_at: timestamp(row, at + 4)?,
    })
}

pub(super) fn repo(row: &Row<'_>, at: usize) -> rusqlite::Result<Repo> {
    Ok(Repo {
        repo: repo_ref(row, at)?,
        owner: parsed(row, at + 2, name)?,
        visibility: parsed(row, at + 3, Visibility::parse)?,
        gate: parsed(row, at + 4, GateMode::from_stored)?,
        notifications_mode: parsed(row, at + 5, notifications_mode)?,
        notifications_email: parsed_opt(row, at + 6, email)?,
        sha: row.get(at + 7)?,
        front_matter: row.get(at + 8)?,
        created_at: timestamp(row, at + 9)?,
        last_modified: timestamp(row, at + 10)?,
        requester_emails: row.get(at + 11)?,
    })
}

pub(super) fn file(row: &Row<'_>, at: usize) -> rusqlite::Result<FileEntry> {
    Ok(FileEntry {
        path: row.get(at)?,
        size: unsigned(row, at + 1)?,
        oid: row.get(at + 2)?,
        sha256: row.get(at + 3)?,
    })
}

pub(super) fn readme_html(row: &Row<'_>, at: usize) -> rusqlite::Result<ReadmeHtml> {
    let body = ReadmeBody::from_stored(row.get(at)?, row.get(at + 1)?)
        .ok_or_else(|| inconsistent(at, "HTML for a body too large to keep"))?;
    Ok(ReadmeHtml {
        body,
        prompt: row.get(at + 2)?,
    })
}

/// Answers are stored as a JSON array of `[label, value]` pairs, so their order survives.
pub(super) fn answers_json(answers: &Answers) -> StoreResult<String> {
    serde_json::to_string(&answers.0)
        .map_err(|e| StoreError::Backend(format!("cannot encode answers: {e}")))
}

fn answers(text: &str) -> Option<Answers> {
    serde_json::from_str(text).ok().map(Answers)
}

/// The state columns of a request: status, reviewer, reviewed_at, rejection_reason.
pub(super) fn state_columns(
    state: &RequestState,
) -> (&'static str, Option<&str>, Option<i64>, Option<&str>) {
    let review = state.review();
    (
        state.status().as_str(),
        review.map(|r| r.by.as_str()),
        review.map(|r| r.at.millis()),
        state.rejection_reason(),
    )
}

/// Rebuilds a state from its columns, refusing combinations the domain cannot hold.
fn state(row: &Row<'_>, idx: usize) -> rusqlite::Result<RequestState> {
    let status: RequestStatus = parsed(row, idx, |t| t.parse().ok())?;
    let reviewer = parsed_opt(row, idx + 1, name)?;
    let reviewed_at: Option<i64> = row.get(idx + 2)?;
    let reason: Option<String> = row.get(idx + 3)?;
    let review = match (reviewer, reviewed_at) {
        (Some(by), Some(at)) => Some(Review {
            by,
            at: Timestamp::from_millis(at),
        }),
        (None, None) => None,
        _ => {
            return Err(inconsistent(
                idx + 1,
                "a reviewer without a review time or the reverse",
            ));
        }
    };
    match (status, review, reason) {
        (RequestStatus::Pending, None, None) => Ok(RequestState::Pending),
        (RequestStatus::Accepted, review, None) => Ok(RequestState::Accepted { review }),
        (RequestStatus::Rejected, Some(review), reason) => {
            Ok(RequestState::Rejected { review, reason })
        }
        (status, ..) => Err(inconsistent(
            idx,
            &format!("review columns that a {status} request cannot have"),
        )),
    }
}

fn inconsistent(idx: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, format!("row holds {what}").into())
}

pub(super) fn request(row: &Row<'_>, at: usize) -> rusqlite::Result<AccessRequest> {
    let repo = repo_ref(row, at + 1)?;
    let user = parsed(row, at + 3, name)?;
    request_of(row, at, repo, user)
}

/// A request joined with its `repo`'s record and its `user`'s: their columns hold what the
/// caller already has, so they are not read again.
pub(super) fn request_of(
    row: &Row<'_>,
    at: usize,
    repo: RepoRef,
    user: Name,
) -> rusqlite::Result<AccessRequest> {
    Ok(AccessRequest {
        id: parsed(row, at, ObjectId::parse)?,
        repo,
        user,
        contact: Contact {
            fullname: row.get(at + 4)?,
            email: parsed_opt(row, at + 5, email)?,
        },
        answers: parsed(row, at + 6, answers)?,
        state: state(row, at + 7)?,
        created_at: timestamp(row, at + 11)?,
        updated_at: timestamp(row, at + 12)?,
        version: unsigned(row, at + 13)?,
    })
}

/// The status of the request whose columns start at `at`, and nothing else of it.
pub(super) fn request_status(row: &Row<'_>, at: usize) -> rusqlite::Result<RequestStatus> {
    parsed(row, at + 7, |t| t.parse().ok())
}

pub(super) fn audit(row: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    let status = |t: &str| t.parse::<RequestStatus>().ok();
    Ok(AuditRecord {
        request_id: parsed(row, 0, ObjectId::parse)?,
        repo: repo_ref(row, 1)?,
        user: parsed(row, 3, name)?,
        action: parsed(row, 4, AuditAction::parse)?,
        actor: parsed_opt(row, 5, name)?,
        from: parsed_opt(row, 6, status)?,
        to: parsed_opt(row, 7, status)?,
        reason: row.get(8)?,
        at: timestamp(row, 9)?,
    })
}
