//! The table's key layout: every key and index value the store writes is built here, so the
//! layout in `docs/dynamodb.md` can be checked against one file.
//!
//! Keys are strings with a type prefix and `#` separators. No part that precedes another can
//! hold a `#`: names and repo ids never do, and the free-form parts (token display names,
//! file paths) always come last.

use crate::domain::{Day, Name, ObjectId, RepoRef, RequestStatus, Timestamp};

pub(super) const PK: &str = "PK";
pub(super) const SK: &str = "SK";

/// A global secondary index with generic key attribute names, shared by several entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Gsi {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
    /// Projects only the keys (the table's and its own); otherwise every attribute.
    pub keys_only: bool,
}

/// Members of an organization in join order; a repo's requests, oldest first.
pub(super) const GSI1: Gsi = Gsi {
    name: "GSI1",
    pk: "GSI1PK",
    sk: "GSI1SK",
    keys_only: false,
};
/// A user's organizations in join order; a repo's requests of one status, oldest first.
pub(super) const GSI2: Gsi = Gsi {
    name: "GSI2",
    pk: "GSI2PK",
    sk: "GSI2SK",
    keys_only: false,
};
/// A request by its id (keys only: the item itself is then read consistently).
pub(super) const GSI3: Gsi = Gsi {
    name: "GSI3",
    pk: "GSI3PK",
    sk: "GSI3SK",
    keys_only: true,
};
/// Requests that became pending, by UTC day: the daily digest's input (sparse: only
/// requests that are pending carry its attributes).
pub(super) const GSI4: Gsi = Gsi {
    name: "GSI4",
    pk: "GSI4PK",
    sk: "GSI4SK",
    keys_only: false,
};

pub(super) const INDEXES: [Gsi; 4] = [GSI1, GSI2, GSI3, GSI4];

/// The attribute DynamoDB's time-to-live deletes items by (epoch seconds). Nothing sets it
/// yet; it is enabled with the table so expiring items need no table change.
pub(super) const TTL_ATTRIBUTE: &str = "expiresAt";

// ---- main-table keys --------------------------------------------------------------------

/// The one item that says something was ever stored (`is_empty` reads it).
pub(super) const META_PK: &str = "META";
pub(super) const META_SK: &str = "NONEMPTY";

/// Users and organizations share one namespace: one item per name, whichever it is.
pub(super) fn namespace_pk(name: &Name) -> String {
    format!("NS#{name}")
}
pub(super) const NAMESPACE_SK: &str = "NS";

pub(super) fn member_sk(user: &Name) -> String {
    format!("MEMBER#{user}")
}

/// Under the user's namespace item: makes a token display name unique per user.
pub(super) fn token_name_sk(display_name: &str) -> String {
    format!("TOKENNAME#{display_name}")
}

pub(super) fn token_pk(digest_hex: &str) -> String {
    format!("TOKEN#{digest_hex}")
}
pub(super) const TOKEN_SK: &str = "TOKEN";

/// A repo's partition: the repo item, its files, its requests and their audit trails.
pub(super) fn repo_pk(repo: &RepoRef) -> String {
    format!("REPO#{}#{}", repo.repo_type.as_str(), repo.id)
}
pub(super) const REPO_SK: &str = "REPO";

/// The README's HTML, read only by the repo page, so the repo item stays small.
pub(super) const README_SK: &str = "README";

pub(super) const FILE_PREFIX: &str = "FILE#";
pub(super) fn file_sk(path: &str) -> String {
    format!("{FILE_PREFIX}{path}")
}

pub(super) const REQUEST_PREFIX: &str = "REQUEST#";
pub(super) fn request_sk(user: &Name) -> String {
    format!("{REQUEST_PREFIX}{user}")
}

pub(super) fn audit_prefix(request_id: ObjectId) -> String {
    format!("AUDIT#{request_id}#")
}

/// Where a request's change is recorded: after every earlier change of the same request.
/// Versions grow by one with each write, and a withdrawal (which keeps the version it
/// deletes) sorts after the write that made that version.
pub(super) fn audit_sk(request_id: ObjectId, version: u64, phase: AuditPhase) -> String {
    let phase = match phase {
        AuditPhase::Write => 0,
        AuditPhase::Delete => 1,
    };
    format!("{}{version:020}#{phase}", audit_prefix(request_id))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AuditPhase {
    Write,
    Delete,
}

// ---- index keys -------------------------------------------------------------------------

/// A position in a join order: zero-padded, so string order is number order.
pub(super) fn sequence(seq: u64) -> String {
    format!("{seq:020}")
}

pub(super) fn members_gsi_pk(org: &Name) -> String {
    format!("MEMBERS#{org}")
}

pub(super) fn memberships_gsi_pk(user: &Name) -> String {
    format!("ORGS#{user}")
}

pub(super) fn requests_gsi_pk(repo: &RepoRef) -> String {
    format!("REQUESTS#{}#{}", repo.repo_type.as_str(), repo.id)
}

pub(super) fn requests_by_status_gsi_pk(repo: &RepoRef, status: RequestStatus) -> String {
    format!("{}#{}", requests_gsi_pk(repo), status.as_str())
}

/// Oldest first by first-request time, then by id: the listing order of both stores.
pub(super) fn request_order(created_at: Timestamp, id: ObjectId) -> String {
    format!("{}#{id}", sortable_time(created_at))
}

pub(super) fn request_id_gsi_pk(id: ObjectId) -> String {
    format!("REQUEST#{id}")
}

pub(super) fn pending_day_gsi_pk(day: Day) -> String {
    format!("PENDING#{day}")
}

/// A one-time marker's partition key (its sort key is [`MARKER_SK`]).
pub(super) fn marker_pk(key: &str) -> String {
    format!("MARKER#{key}")
}

pub(super) const MARKER_SK: &str = "MARKER";

pub(super) fn pending_day_gsi_sk(since: Timestamp, repo: &RepoRef, id: ObjectId) -> String {
    format!(
        "{}#{}#{}#{id}",
        sortable_time(since),
        repo.repo_type.as_str(),
        repo.id
    )
}

/// Milliseconds as 16 hex digits with the sign bit flipped: string order is time order,
/// before 1970 too.
pub(super) fn sortable_time(at: Timestamp) -> String {
    format!("{:016x}", (at.millis() as u64) ^ (1 << 63))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_times_sort_as_the_times_do() {
        let times = [i64::MIN, -1_000, -1, 0, 1, 999, 1_700_000_000_000, i64::MAX];
        let encoded: Vec<_> = times
            .iter()
            .map(|&t| sortable_time(Timestamp::from_millis(t)))
            .collect();
        let mut sorted = encoded.clone();
        sorted.sort();
        assert_eq!(encoded, sorted);
        assert!(encoded.iter().all(|e| e.len() == 16));
    }

    #[test]
    fn sequences_and_audit_keys_sort_as_numbers() {
        assert!(sequence(9) < sequence(10));
        let id = ObjectId::random();
        let keys = [
            audit_sk(id, 1, AuditPhase::Write),
            audit_sk(id, 2, AuditPhase::Write),
            audit_sk(id, 2, AuditPhase::Delete),
            audit_sk(id, 10, AuditPhase::Write),
        ];
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(keys.iter().all(|k| k.starts_with(&audit_prefix(id))));
    }
}
