//! The schema, as an ordered list of migrations numbered by `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::store::{StoreError, StoreResult};

/// Migration `i` takes the schema from version `i` to `i + 1`. Append, never edit: a
/// database records how far it got, and later versions replay only what is new.
const MIGRATIONS: &[&str] = &[
    // 1: the keys mirror the DynamoDB table, so both stores answer the same access patterns
    // with a key lookup or an index range, never a scan.
    "
    CREATE TABLE users (
        name       TEXT PRIMARY KEY,
        id         TEXT NOT NULL UNIQUE,
        fullname   TEXT NOT NULL,
        email      TEXT,
        created_at INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE organizations (
        name       TEXT PRIMARY KEY,
        id         TEXT NOT NULL UNIQUE,
        fullname   TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;

    -- joined_seq orders members exactly, even when several join within one millisecond.
    CREATE TABLE memberships (
        org        TEXT NOT NULL REFERENCES organizations (name),
        user       TEXT NOT NULL REFERENCES users (name),
        role       TEXT NOT NULL,
        joined_at  INTEGER NOT NULL,
        joined_seq INTEGER NOT NULL UNIQUE,
        PRIMARY KEY (org, user)
    ) STRICT;
    CREATE INDEX memberships_by_org ON memberships (org, joined_seq);
    CREATE INDEX memberships_by_user ON memberships (user, joined_seq);

    CREATE TABLE tokens (
        digest       TEXT PRIMARY KEY,
        user         TEXT NOT NULL REFERENCES users (name),
        role         TEXT NOT NULL,
        display_name TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        UNIQUE (user, display_name)
    ) STRICT;

    CREATE TABLE repos (
        repo_type           TEXT NOT NULL,
        repo_id             TEXT NOT NULL,
        owner               TEXT NOT NULL,
        visibility          TEXT NOT NULL,
        gate                TEXT NOT NULL,
        notifications_mode  TEXT NOT NULL,
        notifications_email TEXT,
        sha                 TEXT NOT NULL,
        front_matter        TEXT,
        created_at          INTEGER NOT NULL,
        last_modified       INTEGER NOT NULL,
        PRIMARY KEY (repo_type, repo_id)
    ) STRICT;

    CREATE TABLE files (
        repo_type TEXT NOT NULL,
        repo_id   TEXT NOT NULL,
        path      TEXT NOT NULL,
        size      INTEGER NOT NULL,
        oid       TEXT NOT NULL,
        sha256    TEXT NOT NULL,
        PRIMARY KEY (repo_type, repo_id, path),
        FOREIGN KEY (repo_type, repo_id) REFERENCES repos (repo_type, repo_id)
    ) STRICT;

    CREATE TABLE access_requests (
        id               TEXT PRIMARY KEY,
        repo_type        TEXT NOT NULL,
        repo_id          TEXT NOT NULL,
        user             TEXT NOT NULL REFERENCES users (name),
        fullname         TEXT NOT NULL,
        email            TEXT,
        answers          TEXT NOT NULL,
        status           TEXT NOT NULL,
        reviewer         TEXT,
        reviewed_at      INTEGER,
        rejection_reason TEXT,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        version          INTEGER NOT NULL,
        UNIQUE (repo_type, repo_id, user),
        FOREIGN KEY (repo_type, repo_id) REFERENCES repos (repo_type, repo_id)
    ) STRICT;
    CREATE INDEX access_requests_by_status
        ON access_requests (repo_type, repo_id, status, created_at, id);
    CREATE INDEX access_requests_by_time
        ON access_requests (repo_type, repo_id, created_at, id);

    -- No foreign key to access_requests: the trail outlives a withdrawn request.
    CREATE TABLE audit (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id  TEXT NOT NULL,
        repo_type   TEXT NOT NULL,
        repo_id     TEXT NOT NULL,
        user        TEXT NOT NULL,
        action      TEXT NOT NULL,
        actor       TEXT,
        from_status TEXT,
        to_status   TEXT,
        reason      TEXT,
        at          INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX audit_by_request ON audit (repo_type, repo_id, request_id, seq);
    ",
    // 2: notifications. A request's pending_since is when it became pending, kept while it
    // stays pending and cleared when it leaves (the daily digest's index, like DynamoDB's
    // pending-by-day index); markers make a notification one-time; a change feed's position
    // survives a restart.
    "
    ALTER TABLE access_requests ADD COLUMN pending_since INTEGER;
    UPDATE access_requests SET pending_since = updated_at WHERE status = 'pending';
    CREATE INDEX access_requests_pending
        ON access_requests (pending_since, repo_type, repo_id, id)
        WHERE pending_since IS NOT NULL;

    CREATE TABLE markers (
        key        TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX markers_by_expiry ON markers (expires_at);

    CREATE TABLE feed_positions (
        feed TEXT PRIMARY KEY,
        seq  INTEGER NOT NULL
    ) STRICT;
    ",
    // 3: whether a repo's requesters are mailed about decisions on their requests.
    "
    ALTER TABLE repos ADD COLUMN requester_emails INTEGER NOT NULL DEFAULT 1;
    ",
    // 4: a README's HTML, rendered when a commit brings it, read only by the repo page (so
    // the repo row every download reads stays small). A body too large to keep has no HTML.
    "
    CREATE TABLE readmes (
        repo_type      TEXT NOT NULL,
        repo_id        TEXT NOT NULL,
        body_html      TEXT,
        body_too_large INTEGER NOT NULL CHECK (body_too_large IN (0, 1)),
        prompt_html    TEXT,
        PRIMARY KEY (repo_type, repo_id),
        FOREIGN KEY (repo_type, repo_id) REFERENCES repos (repo_type, repo_id),
        CHECK (NOT (body_too_large AND body_html IS NOT NULL))
    ) STRICT;
    ",
];

/// The schema version this build writes.
pub(super) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`VERSION`]. The write lock is taken first, so two processes
/// opening a new database at once cannot both create the schema.
pub(super) fn migrate(db: &mut Connection) -> StoreResult<()> {
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let pending = usize::try_from(current)
        .ok()
        .and_then(|applied| MIGRATIONS.get(applied..))
        .ok_or_else(|| {
            StoreError::Backend(format!(
                "the database has schema version {current}, newer than this program's {VERSION}; \
                 upgrade gatehouse"
            ))
        })?;
    if pending.is_empty() {
        return Ok(());
    }
    for migration in pending {
        tx.execute_batch(migration)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}
