//! Between domain types and DynamoDB items. Every stored value is validated on the way back
//! in: a bad one is a `Backend` error naming the attribute, never a panic.
//!
//! Attribute names are camelCase; times are epoch milliseconds (`N`); answers are a JSON
//! array of `[label, value]` pairs (`S`), so their order survives, as in the embedded store.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::keys::{self, GSI1, GSI2, GSI3, GSI4, PK, SK};
use crate::domain::{
    AccessRequest, Answers, AuditAction, AuditRecord, Contact, Email, GateMode, Name,
    NotificationsMode, ObjectId, OrgRole, Organization, ReadmeBody, ReadmeHtml, Repo, RepoId,
    RepoRef, RequestState, RequestStatus, Review, Timestamp, TokenDigest, User, Visibility,
};
use crate::store::{FileEntry, StoreError, StoreResult, TokenRecord};

pub(super) type Item = HashMap<String, AttributeValue>;

/// Which kind of record an item is. Every item carries it, so a stream consumer (the
/// real-time alert's filter criteria) or a person reading the table can tell them apart
/// without parsing keys.
pub(super) const KIND: &str = "kind";
pub(super) const KIND_USER: &str = "user";
pub(super) const KIND_ORG: &str = "org";
pub(super) const KIND_REQUEST: &str = "request";
pub(super) const KIND_MARKER: &str = "marker";
pub(super) const KIND_AUDIT: &str = "audit";

/// Counters on a namespace item: the next join position in an organization, and in a user's
/// list of organizations.
pub(super) const MEMBER_SEQ: &str = "memberSeq";
pub(super) const ORG_SEQ: &str = "orgSeq";
/// A request's id, on request and audit items.
pub(super) const REQUEST_ID: &str = "requestId";
/// On a request item: its repo's notifications mode when the request was made, so the
/// stream's filter criteria can pick new pending requests of real-time repos.
pub(super) const NOTIFICATIONS_MODE: &str = "notificationsMode";
pub(super) const REQUESTER_EMAILS: &str = "requesterEmails";
/// Grows with every write of a repo item, so a commit can be conditional on what it read.
pub(super) const REPO_REV: &str = "rev";

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

fn put(item: &mut Item, name: &str, value: AttributeValue) {
    item.insert(name.to_owned(), value);
}

fn put_opt(item: &mut Item, name: &str, value: Option<AttributeValue>) {
    if let Some(value) = value {
        put(item, name, value);
    }
}

// ---- reading ------------------------------------------------------------------------------

/// Reads typed attributes out of one stored item.
pub(super) struct Reader<'a> {
    item: &'a Item,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(item: &'a Item, what: &'static str) -> Self {
        Self { item, what }
    }

    fn invalid(&self, name: &str, value: &AttributeValue) -> StoreError {
        StoreError::Backend(format!(
            "a stored {} has an invalid {name}: {value:?}",
            self.what
        ))
    }

    fn missing(&self, name: &str) -> StoreError {
        StoreError::Backend(format!("a stored {} has no {name}", self.what))
    }

    pub fn opt_str(&self, name: &str) -> StoreResult<Option<&'a str>> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(text)) => Ok(Some(text)),
            Some(other) => Err(self.invalid(name, other)),
        }
    }

    pub fn str(&self, name: &str) -> StoreResult<&'a str> {
        self.opt_str(name)?.ok_or_else(|| self.missing(name))
    }

    pub fn opt_bool(&self, name: &str) -> StoreResult<Option<bool>> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::Bool(value)) => Ok(Some(*value)),
            Some(other) => Err(self.invalid(name, other)),
        }
    }

    pub fn opt_parse<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> StoreResult<Option<T>> {
        match self.opt_str(name)? {
            None => Ok(None),
            Some(text) => parse(text)
                .map(Some)
                .ok_or_else(|| self.invalid(name, &s(text))),
        }
    }

    pub fn parse<T>(&self, name: &str, parse: impl FnOnce(&str) -> Option<T>) -> StoreResult<T> {
        self.opt_parse(name, parse)?
            .ok_or_else(|| self.missing(name))
    }

    pub fn opt_int<T: std::str::FromStr>(&self, name: &str) -> StoreResult<Option<T>> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(value @ AttributeValue::N(number)) => number
                .parse()
                .map(Some)
                .map_err(|_| self.invalid(name, value)),
            Some(other) => Err(self.invalid(name, other)),
        }
    }

    pub fn int<T: std::str::FromStr>(&self, name: &str) -> StoreResult<T> {
        self.opt_int(name)?.ok_or_else(|| self.missing(name))
    }

    pub fn time(&self, name: &str) -> StoreResult<Timestamp> {
        self.int(name).map(Timestamp::from_millis)
    }

    pub fn opt_time(&self, name: &str) -> StoreResult<Option<Timestamp>> {
        Ok(self.opt_int(name)?.map(Timestamp::from_millis))
    }

    pub fn name(&self, attr: &str) -> StoreResult<Name> {
        self.parse(attr, |t| Name::parse(t).ok())
    }

    pub fn opt_name(&self, attr: &str) -> StoreResult<Option<Name>> {
        self.opt_parse(attr, |t| Name::parse(t).ok())
    }

    pub fn opt_email(&self, attr: &str) -> StoreResult<Option<Email>> {
        self.opt_parse(attr, |t| Email::parse(t).ok())
    }

    pub fn object_id(&self, attr: &str) -> StoreResult<ObjectId> {
        self.parse(attr, ObjectId::parse)
    }

    pub fn repo_ref(&self) -> StoreResult<RepoRef> {
        Ok(RepoRef::new(
            self.parse("repoType", |t| t.parse().ok())?,
            self.parse("repoId", |t| RepoId::parse(t).ok())?,
        ))
    }

    pub fn kind(&self) -> Option<&'a str> {
        self.opt_str(KIND).ok().flatten()
    }
}

// ---- users and organizations --------------------------------------------------------------

pub(super) fn user_item(user: &User) -> Item {
    let mut item = key(keys::namespace_pk(&user.name), keys::NAMESPACE_SK);
    put(&mut item, KIND, s(KIND_USER));
    put(&mut item, "name", s(user.name.as_str()));
    put(&mut item, "id", s(user.id.to_string()));
    put(&mut item, "fullname", s(&user.fullname));
    put_opt(
        &mut item,
        "email",
        user.email.as_ref().map(|e| s(e.as_str())),
    );
    put(&mut item, "createdAt", n(user.created_at.millis()));
    item
}

/// The user a namespace item holds; `None` when the name is an organization's.
pub(super) fn user_from(item: &Item) -> StoreResult<Option<User>> {
    let r = Reader::new(item, "user");
    if r.kind() != Some(KIND_USER) {
        return Ok(None);
    }
    Ok(Some(User {
        name: r.name("name")?,
        id: r.object_id("id")?,
        fullname: r.str("fullname")?.to_owned(),
        email: r.opt_email("email")?,
        created_at: r.time("createdAt")?,
    }))
}

pub(super) fn organization_item(org: &Organization) -> Item {
    let mut item = key(keys::namespace_pk(&org.name), keys::NAMESPACE_SK);
    put(&mut item, KIND, s(KIND_ORG));
    put(&mut item, "name", s(org.name.as_str()));
    put(&mut item, "id", s(org.id.to_string()));
    put(&mut item, "fullname", s(&org.fullname));
    put(&mut item, "createdAt", n(org.created_at.millis()));
    item
}

/// The organization a namespace item holds; `None` when the name is a user's.
pub(super) fn organization_from(item: &Item) -> StoreResult<Option<Organization>> {
    let r = Reader::new(item, "organization");
    if r.kind() != Some(KIND_ORG) {
        return Ok(None);
    }
    Ok(Some(Organization {
        name: r.name("name")?,
        id: r.object_id("id")?,
        fullname: r.str("fullname")?.to_owned(),
        created_at: r.time("createdAt")?,
    }))
}

/// A membership: keyed under the organization, placed in both join orders by the index keys.
pub(super) struct MembershipItem<'a> {
    pub org: &'a Name,
    pub user: &'a Name,
    pub role: OrgRole,
    pub joined_at: Timestamp,
    pub org_position: u64,
    pub user_position: u64,
}

pub(super) fn membership_item(m: &MembershipItem<'_>) -> Item {
    let mut item = key(keys::namespace_pk(m.org), keys::member_sk(m.user));
    put(&mut item, KIND, s("member"));
    put(&mut item, "org", s(m.org.as_str()));
    put(&mut item, "user", s(m.user.as_str()));
    put(&mut item, "role", s(m.role.as_str()));
    put(&mut item, "joinedAt", n(m.joined_at.millis()));
    put(&mut item, GSI1.pk, s(keys::members_gsi_pk(m.org)));
    put(&mut item, GSI1.sk, s(keys::sequence(m.org_position)));
    put(&mut item, GSI2.pk, s(keys::memberships_gsi_pk(m.user)));
    put(&mut item, GSI2.sk, s(keys::sequence(m.user_position)));
    item
}

/// A membership as stored: the org, the user, the role and when they joined.
pub(super) fn membership_from(item: &Item) -> StoreResult<(Name, Name, OrgRole, Timestamp)> {
    let r = Reader::new(item, "membership");
    Ok((
        r.name("org")?,
        r.name("user")?,
        r.parse("role", |t| t.parse().ok())?,
        r.time("joinedAt")?,
    ))
}

// ---- tokens -------------------------------------------------------------------------------

pub(super) fn token_item(token: &TokenRecord) -> Item {
    let digest = token.digest.to_hex();
    let mut item = key(keys::token_pk(&digest), keys::TOKEN_SK);
    put(&mut item, KIND, s("token"));
    put(&mut item, "digest", s(digest));
    put(&mut item, "user", s(token.user.as_str()));
    put(&mut item, "role", s(token.role.as_str()));
    put(&mut item, "displayName", s(&token.display_name));
    put(&mut item, "createdAt", n(token.created_at.millis()));
    item
}

pub(super) fn token_from(item: &Item) -> StoreResult<TokenRecord> {
    let r = Reader::new(item, "token");
    Ok(TokenRecord {
        digest: r.parse("digest", TokenDigest::from_hex)?,
        user: r.name("user")?,
        role: r.parse("role", |t| t.parse().ok())?,
        display_name: r.str("displayName")?.to_owned(),
        created_at: r.time("createdAt")?,
    })
}

/// The item that reserves a display name for one user and points at the token's digest.
pub(super) fn token_name_item(token: &TokenRecord) -> Item {
    let mut item = key(
        keys::namespace_pk(&token.user),
        keys::token_name_sk(&token.display_name),
    );
    put(&mut item, KIND, s("tokenName"));
    put(&mut item, "digest", s(token.digest.to_hex()));
    item
}

// ---- repos and files ----------------------------------------------------------------------

pub(super) fn repo_item(repo: &Repo) -> Item {
    let mut item = key(keys::repo_pk(&repo.repo), keys::REPO_SK);
    put(&mut item, KIND, s("repo"));
    put(&mut item, "repoType", s(repo.repo.repo_type.as_str()));
    put(&mut item, "repoId", s(repo.repo.id.to_string()));
    put(&mut item, "owner", s(repo.owner.as_str()));
    put(&mut item, "visibility", s(repo.visibility.as_str()));
    put(&mut item, "gate", s(repo.gate.as_str()));
    put(
        &mut item,
        NOTIFICATIONS_MODE,
        s(repo.notifications_mode.as_str()),
    );
    put_opt(
        &mut item,
        "notificationsEmail",
        repo.notifications_email.as_ref().map(|e| s(e.as_str())),
    );
    put(
        &mut item,
        REQUESTER_EMAILS,
        AttributeValue::Bool(repo.requester_emails),
    );
    put(&mut item, "sha", s(&repo.sha));
    put_opt(&mut item, "frontMatter", repo.front_matter.as_ref().map(s));
    put(&mut item, "createdAt", n(repo.created_at.millis()));
    put(&mut item, "lastModified", n(repo.last_modified.millis()));
    put(&mut item, REPO_REV, n(0));
    item
}

/// A repo and the revision of its item.
pub(super) fn repo_from(item: &Item) -> StoreResult<(Repo, u64)> {
    let r = Reader::new(item, "repo");
    let repo = Repo {
        repo: r.repo_ref()?,
        owner: r.name("owner")?,
        visibility: r.parse("visibility", Visibility::parse)?,
        gate: r.parse("gate", GateMode::from_stored)?,
        notifications_mode: r.parse(NOTIFICATIONS_MODE, NotificationsMode::parse)?,
        notifications_email: r.opt_email("notificationsEmail")?,
        // Repos stored before the setting existed mail their requesters.
        requester_emails: r.opt_bool(REQUESTER_EMAILS)?.unwrap_or(true),
        sha: r.str("sha")?.to_owned(),
        front_matter: r.opt_str("frontMatter")?.map(str::to_owned),
        created_at: r.time("createdAt")?,
        last_modified: r.time("lastModified")?,
    };
    Ok((repo, r.opt_int(REPO_REV)?.unwrap_or(0)))
}

pub(super) fn file_item(repo: &RepoRef, file: &FileEntry) -> Item {
    let mut item = key(keys::repo_pk(repo), keys::file_sk(&file.path));
    put(&mut item, KIND, s("file"));
    put(&mut item, "path", s(&file.path));
    put(&mut item, "size", n(file.size));
    put(&mut item, "oid", s(&file.oid));
    put(&mut item, "sha256", s(&file.sha256));
    item
}

pub(super) fn file_from(item: &Item) -> StoreResult<FileEntry> {
    let r = Reader::new(item, "file");
    Ok(FileEntry {
        path: r.str("path")?.to_owned(),
        size: r.int("size")?,
        oid: r.str("oid")?.to_owned(),
        sha256: r.str("sha256")?.to_owned(),
    })
}

/// A README's HTML. A body too large to keep has no `body`, and `bodyTooLarge` says so.
pub(super) fn readme_item(repo: &RepoRef, html: &ReadmeHtml) -> Item {
    let mut item = key(keys::repo_pk(repo), keys::README_SK);
    put(&mut item, KIND, s("readme"));
    let (body, too_large) = html.body.stored();
    put_opt(&mut item, "body", body.map(s));
    if too_large {
        put(&mut item, "bodyTooLarge", AttributeValue::Bool(true));
    }
    put_opt(&mut item, "prompt", html.prompt.as_ref().map(s));
    item
}

pub(super) fn readme_html_from(item: &Item) -> StoreResult<ReadmeHtml> {
    let r = Reader::new(item, "README");
    let body = ReadmeBody::from_stored(
        r.opt_str("body")?.map(str::to_owned),
        r.opt_bool("bodyTooLarge")?.unwrap_or(false),
    )
    .ok_or_else(|| {
        StoreError::Backend("a stored README has HTML for a body too large to keep".into())
    })?;
    Ok(ReadmeHtml {
        body,
        prompt: r.opt_str("prompt")?.map(str::to_owned),
    })
}

// ---- access requests and their audit trail --------------------------------------------------

/// The attributes of a request item that some states leave out: an update removes them.
pub(super) const REQUEST_OPTIONAL: [&str; 4] =
    ["email", "reviewer", "reviewedAt", "rejectionReason"];

fn answers_json(answers: &Answers) -> StoreResult<String> {
    serde_json::to_string(&answers.0)
        .map_err(|e| StoreError::Backend(format!("cannot encode answers: {e}")))
}

/// A request's item, with its keys and index keys. The pending-by-day index keys (`GSI4`)
/// are set when the request is pending, from `updated_at` (when it became pending); an
/// update keeps the ones already stored, so a request pending since Monday stays Monday's.
pub(super) fn request_item(request: &AccessRequest) -> StoreResult<Item> {
    let repo = &request.repo;
    let mut item = key(keys::repo_pk(repo), keys::request_sk(&request.user));
    put(&mut item, KIND, s(KIND_REQUEST));
    put(&mut item, REQUEST_ID, s(request.id.to_string()));
    put(&mut item, "repoType", s(repo.repo_type.as_str()));
    put(&mut item, "repoId", s(repo.id.to_string()));
    put(&mut item, "user", s(request.user.as_str()));
    put(&mut item, "fullname", s(&request.contact.fullname));
    put_opt(
        &mut item,
        "email",
        request.contact.email.as_ref().map(|e| s(e.as_str())),
    );
    put(&mut item, "answers", s(answers_json(&request.answers)?));
    let status = request.status();
    put(&mut item, "status", s(status.as_str()));
    let review = request.state.review();
    put_opt(&mut item, "reviewer", review.map(|r| s(r.by.as_str())));
    put_opt(&mut item, "reviewedAt", review.map(|r| n(r.at.millis())));
    put_opt(
        &mut item,
        "rejectionReason",
        request.state.rejection_reason().map(s),
    );
    put(&mut item, "createdAt", n(request.created_at.millis()));
    put(&mut item, "updatedAt", n(request.updated_at.millis()));
    put(&mut item, "version", n(request.version));

    let order = keys::request_order(request.created_at, request.id);
    put(&mut item, GSI1.pk, s(keys::requests_gsi_pk(repo)));
    put(&mut item, GSI1.sk, s(&order));
    put(
        &mut item,
        GSI2.pk,
        s(keys::requests_by_status_gsi_pk(repo, status)),
    );
    put(&mut item, GSI2.sk, s(order));
    put(&mut item, GSI3.pk, s(keys::request_id_gsi_pk(request.id)));
    put(&mut item, GSI3.sk, s(keys::repo_pk(repo)));
    if status == RequestStatus::Pending {
        let since = request.updated_at;
        put(&mut item, GSI4.pk, s(keys::pending_day_gsi_pk(since.day())));
        put(
            &mut item,
            GSI4.sk,
            s(keys::pending_day_gsi_sk(since, repo, request.id)),
        );
    }
    Ok(item)
}

fn answers(text: &str) -> Option<Answers> {
    serde_json::from_str(text).ok().map(Answers)
}

pub(super) fn request_from(item: &Item) -> StoreResult<AccessRequest> {
    let r = Reader::new(item, "access request");
    let status: RequestStatus = r.parse("status", |t| t.parse().ok())?;
    let review = match (r.opt_name("reviewer")?, r.opt_time("reviewedAt")?) {
        (Some(by), Some(at)) => Some(Review { by, at }),
        (None, None) => None,
        _ => {
            return Err(StoreError::Backend(
                "a stored access request has a reviewer without a review time or the reverse"
                    .into(),
            ));
        }
    };
    let reason = r.opt_str("rejectionReason")?.map(str::to_owned);
    let state = match (status, review, reason) {
        (RequestStatus::Pending, None, None) => RequestState::Pending,
        (RequestStatus::Accepted, review, None) => RequestState::Accepted { review },
        (RequestStatus::Rejected, Some(review), reason) => {
            RequestState::Rejected { review, reason }
        }
        (status, ..) => {
            return Err(StoreError::Backend(format!(
                "a stored access request has review attributes that a {status} request cannot have"
            )));
        }
    };
    Ok(AccessRequest {
        id: r.object_id(REQUEST_ID)?,
        repo: r.repo_ref()?,
        user: r.name("user")?,
        contact: Contact {
            fullname: r.str("fullname")?.to_owned(),
            email: r.opt_email("email")?,
        },
        answers: r.parse("answers", answers)?,
        state,
        created_at: r.time("createdAt")?,
        updated_at: r.time("updatedAt")?,
        version: r.int("version")?,
    })
}

pub(super) fn audit_item(audit: &AuditRecord, sk: String) -> Item {
    let mut item = key(keys::repo_pk(&audit.repo), sk);
    put(&mut item, KIND, s(KIND_AUDIT));
    put(&mut item, REQUEST_ID, s(audit.request_id.to_string()));
    put(&mut item, "repoType", s(audit.repo.repo_type.as_str()));
    put(&mut item, "repoId", s(audit.repo.id.to_string()));
    put(&mut item, "user", s(audit.user.as_str()));
    put(&mut item, "action", s(audit.action.as_str()));
    put_opt(
        &mut item,
        "actor",
        audit.actor.as_ref().map(|a| s(a.as_str())),
    );
    put_opt(&mut item, "from", audit.from.map(|st| s(st.as_str())));
    put_opt(&mut item, "to", audit.to.map(|st| s(st.as_str())));
    put_opt(&mut item, "reason", audit.reason.as_ref().map(s));
    put(&mut item, "at", n(audit.at.millis()));
    item
}

pub(super) fn audit_from(item: &Item) -> StoreResult<AuditRecord> {
    let r = Reader::new(item, "audit record");
    let status = |t: &str| t.parse::<RequestStatus>().ok();
    Ok(AuditRecord {
        request_id: r.object_id(REQUEST_ID)?,
        repo: r.repo_ref()?,
        user: r.name("user")?,
        action: r.parse("action", AuditAction::parse)?,
        actor: r.opt_name("actor")?,
        from: r.opt_parse("from", status)?,
        to: r.opt_parse("to", status)?,
        reason: r.opt_str("reason")?.map(str::to_owned),
        at: r.time("at")?,
    })
}

// ---- limits -------------------------------------------------------------------------------

/// DynamoDB's largest item: 400 KB, names and values together.
pub(super) const MAX_ITEM_BYTES: usize = 400 * 1024;
/// The most actions one `TransactWriteItems` may hold.
pub(super) const MAX_TRANSACTION_ITEMS: usize = 100;
/// The most one transaction may write, all items together.
pub(super) const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
/// The longest partition key and sort key values, in bytes (for a table's and an index's).
pub(super) const MAX_PARTITION_KEY_BYTES: usize = 2048;
pub(super) const MAX_SORT_KEY_BYTES: usize = 1024;

/// An upper estimate of an item's size as DynamoDB counts it: attribute names plus values
/// (strings by UTF-8 length, numbers at most 21 bytes, 3 bytes of overhead per collection).
pub(super) fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number.len().div_ceil(2) + 1,
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|v| v.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        // A variant newer than this code: count it as large as an item may be, so it is refused
        // rather than sent.
        _ => MAX_ITEM_BYTES,
    }
}

/// Refuses, before any call, an item DynamoDB would refuse: too large, or with a key value
/// longer than a key may be. `what` names the record for the message.
pub(super) fn check_item(item: &Item, what: &str) -> StoreResult<usize> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::TooLarge(format!(
            "{what} is about {size} bytes, over the limit of {MAX_ITEM_BYTES} bytes a record may take"
        )));
    }
    let partition_keys = [PK, GSI1.pk, GSI2.pk, GSI3.pk, GSI4.pk];
    let sort_keys = [SK, GSI1.sk, GSI2.sk, GSI3.sk, GSI4.sk];
    for (names, limit) in [
        (&partition_keys, MAX_PARTITION_KEY_BYTES),
        (&sort_keys, MAX_SORT_KEY_BYTES),
    ] {
        for name in names {
            if let Some(AttributeValue::S(value)) = item.get(*name)
                && value.len() > limit
            {
                return Err(StoreError::TooLarge(format!(
                    "{what} is too long to store: its key would be {} bytes, over the limit of {limit} bytes",
                    value.len()
                )));
            }
        }
    }
    Ok(size)
}

/// True when a key could exist at all: a longer one cannot be stored, so reading it would
/// only earn a validation error.
pub(super) fn key_fits(pk: &str, sk: &str) -> bool {
    pk.len() <= MAX_PARTITION_KEY_BYTES && sk.len() <= MAX_SORT_KEY_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RepoType, TokenRole, TokenSecret};

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn repo_ref() -> RepoRef {
        RepoRef::new(RepoType::Dataset, RepoId::parse("acme/d").unwrap())
    }

    fn request(state: RequestState) -> AccessRequest {
        AccessRequest {
            id: ObjectId::random(),
            repo: repo_ref(),
            user: name("alice"),
            contact: Contact {
                fullname: "Alice".into(),
                email: Some(Email::parse("alice@example.com").unwrap()),
            },
            answers: Answers(vec![
                ("Zeta".into(), "last first".into()),
                ("Alpha".into(), true.into()),
            ]),
            state,
            created_at: Timestamp::from_millis(1_700_000_000_000),
            updated_at: Timestamp::from_millis(1_700_000_100_000),
            version: 3,
        }
    }

    #[test]
    fn every_record_survives_the_trip_through_an_item() {
        let user = User {
            id: ObjectId::random(),
            name: name("alice"),
            fullname: "Alice A.".into(),
            email: None,
            created_at: Timestamp::from_millis(-5),
        };
        assert_eq!(user_from(&user_item(&user)).unwrap(), Some(user.clone()));
        assert_eq!(organization_from(&user_item(&user)).unwrap(), None);

        let org = Organization {
            id: ObjectId::random(),
            name: name("acme"),
            fullname: "ACME".into(),
            created_at: Timestamp::from_millis(7),
        };
        assert_eq!(
            organization_from(&organization_item(&org)).unwrap(),
            Some(org.clone())
        );
        assert_eq!(user_from(&organization_item(&org)).unwrap(), None);

        let token = TokenRecord {
            user: name("alice"),
            role: TokenRole::Write,
            display_name: "ci # laptop".into(),
            digest: TokenSecret::generate().digest(),
            created_at: Timestamp::from_millis(9),
        };
        assert_eq!(token_from(&token_item(&token)).unwrap(), token);

        let repo = Repo {
            repo: repo_ref(),
            owner: name("acme"),
            visibility: Visibility::Private,
            gate: GateMode::Auto,
            notifications_mode: NotificationsMode::RealTime,
            notifications_email: Some(Email::parse("o@acme.example").unwrap()),
            requester_emails: true,
            sha: "a".repeat(40),
            front_matter: Some("gated: auto\n".into()),
            created_at: Timestamp::from_millis(1),
            last_modified: Timestamp::from_millis(2),
        };
        assert_eq!(repo_from(&repo_item(&repo)).unwrap(), (repo, 0));

        let review = Review {
            by: name("owner"),
            at: Timestamp::from_millis(1_700_000_200_000),
        };
        for state in [
            RequestState::Pending,
            RequestState::Accepted { review: None },
            RequestState::Accepted {
                review: Some(review.clone()),
            },
            RequestState::Rejected {
                review: review.clone(),
                reason: Some("no".into()),
            },
            RequestState::Rejected {
                review,
                reason: None,
            },
        ] {
            let request = request(state);
            let item = request_item(&request).unwrap();
            assert_eq!(request_from(&item).unwrap(), request);
            assert_eq!(
                item.contains_key(GSI4.pk),
                request.status() == RequestStatus::Pending
            );
        }
    }

    #[test]
    fn a_damaged_item_is_a_backend_error_naming_the_attribute() {
        let mut item = request_item(&request(RequestState::Pending)).unwrap();
        item.insert("status".into(), s("maybe"));
        let error = request_from(&item).unwrap_err();
        assert!(
            matches!(error, StoreError::Backend(ref m) if m.contains("status")),
            "{error:?}"
        );

        let mut item = request_item(&request(RequestState::Pending)).unwrap();
        item.insert("version".into(), s("three"));
        assert!(matches!(request_from(&item), Err(StoreError::Backend(_))));

        // A rejection without a review is not a state the domain can hold.
        let mut item = request_item(&request(RequestState::Pending)).unwrap();
        item.insert("status".into(), s("rejected"));
        assert!(matches!(request_from(&item), Err(StoreError::Backend(_))));
    }

    #[test]
    fn oversized_items_and_keys_are_refused_before_any_call() {
        let mut request = request(RequestState::Pending);
        request.answers = Answers(vec![("Essay".into(), "x".repeat(MAX_ITEM_BYTES).into())]);
        let item = request_item(&request).unwrap();
        let error = check_item(&item, "the request").unwrap_err();
        assert!(
            matches!(error, StoreError::TooLarge(ref m) if m.starts_with("the request is about")),
            "{error:?}"
        );

        let file = FileEntry {
            path: "p/".repeat(600),
            size: 1,
            oid: "0".repeat(40),
            sha256: "0".repeat(64),
        };
        let error = check_item(&file_item(&repo_ref(), &file), "the file").unwrap_err();
        assert!(
            matches!(error, StoreError::TooLarge(ref m) if m.contains("key")),
            "{error:?}"
        );

        let small = request_item(&self::request(RequestState::Pending)).unwrap();
        let size = check_item(&small, "the request").unwrap();
        assert!(size > 300 && size < 2000, "{size}");
    }
}
