//! The embedded store: one SQLite file under the data directory, durable across restarts,
//! and held by one process at a time: the local server while it runs (the admin commands then
//! reach it through the server), or an admin command.

mod context;
mod rows;
mod schema;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Params, Transaction, TransactionBehavior,
    config::DbConfig, ffi, limits::Limit, params,
};
use tokio::sync::Semaphore;

use self::rows::{
    AUDIT_COLUMNS, FILE_COLUMNS, ORGANIZATION_COLUMNS, README_COLUMNS, REPO_COLUMNS,
    REQUEST_COLUMNS, TOKEN_COLUMNS, USER_COLUMNS,
};
use super::{
    Account, ContextRead, Cursor, FileEntry, MAX_PAGE_SIZE, MAX_RECORD_BYTES, NewCommit, Page,
    RepoContext, SettingsUpdate, Store, StoreError, StoreResult, TokenRecord,
};
use crate::domain::{
    AccessRequest, AuditRecord, Day, Email, Member, Name, NotificationsMode, ObjectId, OrgRole,
    Organization, Repo, RepoRef, RequestStatus, Timestamp, TokenDigest, User,
};

const FILE_NAME: &str = "gatehouse.sqlite3";
/// SQLite's unix VFS that locks the database file for the whole process and keeps the WAL's
/// index in the process's memory. A read then takes no file lock: with the default VFS, the
/// two `fcntl` calls of each read's shared-memory lock, under a mutex both server threads
/// contend for, were the largest cost a gated download's HEAD had beyond the trivial route's
/// (BENCHMARKS.md, section 8).
const PROCESS_EXCLUSIVE_VFS: &std::ffi::CStr = c"unix-excl";
/// How long a statement waits for another connection's write lock, and an open for another
/// process to let go of the database, before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Reader connections open at once; further reads wait for one to be free.
const MAX_READERS: usize = 4;
/// Enough for every statement of the store, so none is prepared twice.
const STATEMENT_CACHE: usize = 64;

/// The [`Store`] on SQLite. Cheap to clone: clones share the connections.
///
/// Writes go through one connection in `BEGIN IMMEDIATE` transactions; reads use a small pool
/// of read-only connections, which in WAL mode never wait for a writer. Every call runs on
/// tokio's blocking pool, so it must be made from within a tokio runtime.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    idle_readers: Mutex<Vec<Connection>>,
    reader_slots: Arc<Semaphore>,
}

impl SqliteStore {
    /// Opens (creating it if needed) the database in `data_dir`, and brings its schema up to
    /// date. Every committed write is synced to disk before the call returns, so it survives
    /// a crash or a power loss.
    ///
    /// This process holds the database until every clone of the store is dropped; another
    /// process that opens it meanwhile waits for it as long as for a write lock, then is refused.
    pub fn open(data_dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Backend(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let path = data_dir.join(FILE_NAME);
        let mut writer =
            Connection::open_with_flags_and_vfs(&path, OpenFlags::default(), PROCESS_EXCLUSIVE_VFS)
                .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
        writer.busy_timeout(BUSY_TIMEOUT)?;
        // The first statement takes the process's lock.
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|error| match error.sqlite_error_code() {
                Some(ErrorCode::DatabaseBusy) => StoreError::Backend(format!(
                    "{} is held by another process (a gatehouse server on the same data dir?)",
                    path.display()
                )),
                _ => error.into(),
            })?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "{} cannot use write-ahead logging (journal mode {mode})",
                path.display()
            )));
        }
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "foreign_keys", true)?;
        // Rows as large as DynamoDB's items at most, so what one store refuses the other does
        // too: SQLite refuses a longer value or row (SQLITE_TOOBIG), and the write rolls back.
        let max_row = i32::try_from(MAX_RECORD_BYTES).expect("the record limit fits an i32");
        writer.set_limit(Limit::SQLITE_LIMIT_LENGTH, max_row)?;
        writer.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        schema::migrate(&mut writer)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                idle_readers: Mutex::new(Vec::with_capacity(MAX_READERS)),
                reader_slots: Arc::new(Semaphore::new(MAX_READERS)),
            }),
        })
    }

    /// Runs `op` in one `BEGIN IMMEDIATE` transaction on the writer connection, committed only
    /// if `op` succeeds. Taking the write lock up front means a transaction that reads before
    /// it writes can never fail half-way because another store of this process wrote in
    /// between.
    async fn write<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            let mut db = inner
                .writer
                .lock()
                .map_err(|_| StoreError::Backend("the writer connection is poisoned".into()))?;
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = op(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
    }

    /// Runs `op` on a reader connection, on tokio's blocking pool: for reads whose size has
    /// no small bound (a repo's files, a page of requests, an org's members). Each read is a
    /// single statement or transaction, so it sees one consistent snapshot.
    async fn read<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let slot = self.reader_slot().await?;
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            let _slot = slot;
            inner.with_reader(op)
        })
        .await
    }

    /// Runs `op`, a read of a few rows by key, on a reader connection right here. In WAL mode
    /// a reader never waits for the writer, and such a read takes microseconds: less than
    /// handing it to the blocking pool and back, which was two thirds of a gated download
    /// HEAD's CPU (BENCHMARKS.md, section 8).
    async fn point_read<T, F>(&self, op: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T>,
    {
        let _slot = self.reader_slot().await?;
        self.inner.with_reader(op)
    }

    /// The change feed: the requests inserted after `position` (an audit record's sequence
    /// number), looking at most `limit` audit records on, each with its audit record's number,
    /// and the position to read on from. A request withdrawn since is left out; one changed
    /// since is as it is now.
    pub async fn inserted_requests_after(
        &self,
        position: u64,
        limit: usize,
    ) -> StoreResult<(Vec<(u64, AccessRequest)>, u64)> {
        let after = rows::int(position, "feed position")?;
        let limit = rows::int(limit as u64, "feed page")?;
        self.read(move |db| {
            one_snapshot(db, |tx| {
                let last: Option<i64> = tx
                    .prepare_cached(
                        "SELECT max(seq) FROM (SELECT seq FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
                    )?
                    .query_row([after, limit], |row| row.get(0))?;
                let Some(last) = last else {
                    return Ok((Vec::new(), position));
                };
                let sql = format!(
                    "WITH inserted AS (
                         SELECT seq, request_id FROM audit
                         WHERE seq > ?1 AND seq <= ?2 AND action = 'requested' AND from_status IS NULL
                     )
                     SELECT {REQUEST_COLUMNS}, inserted.seq FROM inserted
                     JOIN access_requests ON access_requests.id = inserted.request_id
                     ORDER BY inserted.seq"
                );
                let mut statement = tx.prepare_cached(&sql)?;
                let found = statement.query_map([after, last], |row| {
                    let seq: i64 = row.get(14)?;
                    Ok((seq as u64, rows::request(row, 0)?))
                })?;
                let found = found.collect::<Result<_, _>>()?;
                Ok((found, last as u64))
            })
        })
        .await
    }

    /// The change feed of every change: the audit records after `position`, at most `limit`,
    /// each with its sequence number, and the position to read on from.
    pub async fn audit_records_after(
        &self,
        position: u64,
        limit: usize,
    ) -> StoreResult<(Vec<(u64, AuditRecord)>, u64)> {
        let after = rows::int(position, "feed position")?;
        let limit = rows::int(limit as u64, "feed page")?;
        self.read(move |db| {
            let sql = format!(
                "SELECT {AUDIT_COLUMNS}, seq FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            );
            let mut statement = db.prepare_cached(&sql)?;
            let found = statement.query_map([after, limit], |row| {
                let seq: i64 = row.get(10)?;
                Ok((seq as u64, rows::audit(row)?))
            })?;
            let found: Vec<(u64, AuditRecord)> = found.collect::<Result<_, _>>()?;
            let reached = found.last().map_or(position, |(seq, _)| *seq);
            Ok((found, reached))
        })
        .await
    }

    /// Where the change feed named `feed` has got to: 0 before its first record.
    pub async fn feed_position(&self, feed: &str) -> StoreResult<u64> {
        let feed = feed.to_owned();
        self.read(move |db| {
            let seq: Option<i64> = db
                .prepare_cached("SELECT seq FROM feed_positions WHERE feed = ?1")?
                .query_row([feed], |row| row.get(0))
                .optional()?;
            Ok(seq.map_or(0, |seq| seq as u64))
        })
        .await
    }

    pub async fn save_feed_position(&self, feed: &str, position: u64) -> StoreResult<()> {
        let (feed, seq) = (feed.to_owned(), rows::int(position, "feed position")?);
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO feed_positions (feed, seq) VALUES (?1, ?2)
                 ON CONFLICT (feed) DO UPDATE SET seq = excluded.seq",
            )?
            .execute(params![feed, seq])?;
            Ok(())
        })
        .await
    }

    async fn reader_slot(&self) -> StoreResult<tokio::sync::OwnedSemaphorePermit> {
        Arc::clone(&self.inner.reader_slots)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Backend("the reader pool is closed".into()))
    }
}

impl Inner {
    fn with_reader<T>(&self, op: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let db = self.take_reader()?;
        let result = op(&db);
        self.put_reader(db);
        result
    }

    /// An idle reader, or a new one: readers are opened lazily, at most one per slot.
    fn take_reader(&self) -> StoreResult<Connection> {
        let idle = self
            .idle_readers
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop());
        match idle {
            Some(db) => Ok(db),
            None => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let db =
                    Connection::open_with_flags_and_vfs(&self.path, flags, PROCESS_EXCLUSIVE_VFS)?;
                db.busy_timeout(BUSY_TIMEOUT)?;
                db.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                // The bundled SQLite re-plans a statement whenever its bound values change
                // (STAT4); the keyset listing's plan never depends on them, so keep it stable.
                db.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
                Ok(db)
            }
        }
    }

    fn put_reader(&self, db: Connection) {
        // A connection still inside a transaction would serve its old snapshot to every later
        // read: it is dropped instead. So is one whose pool is poisoned; the next read opens a
        // new one.
        if !db.is_autocommit() {
            return;
        }
        if let Ok(mut idle) = self.idle_readers.lock() {
            idle.push(db);
        }
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

/// Runs `op`'s statements in one read transaction, so that they all see the same snapshot.
/// `BEGIN` and `COMMIT` are prepared once per connection: a read of a few rows by key takes
/// microseconds, and parsing them anew each time showed in a gated HEAD's profile
/// (BENCHMARKS.md, section 8).
fn one_snapshot<T>(
    db: &Connection,
    op: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    db.prepare_cached("BEGIN")?.execute([])?;
    let result = op(db);
    // Ending a read transaction either way only releases its snapshot.
    db.prepare_cached("COMMIT")?.execute([])?;
    result
}

async fn blocking<T, F>(op: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(op)
        .await
        .map_err(|e| StoreError::Backend(format!("a store task failed: {e}")))?
}

/// A row longer than the writer connection's length limit is `TooLarge`; every other failure
/// is `Backend`.
impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(ErrorCode::TooBig) => too_large("a record"),
            _ => StoreError::Backend(error.to_string()),
        }
    }
}

fn too_large(what: &str) -> StoreError {
    StoreError::TooLarge(format!(
        "{what} is larger than the limit of {MAX_RECORD_BYTES} bytes a record may take"
    ))
}

/// Maps the failed write of `what`: a row too large to store names it, anything else as `From`
/// maps it.
fn writing(what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |error| match error.sqlite_error_code() {
        Some(ErrorCode::TooBig) => too_large(what),
        _ => error.into(),
    }
}

/// Like [`writing`], and a UNIQUE or PRIMARY KEY violation becomes `on_duplicate`.
fn duplicate_as(
    what: &'static str,
    on_duplicate: StoreError,
) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |error| match error.sqlite_extended_error_code() {
        Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => on_duplicate,
        _ => writing(what)(error),
    }
}

fn exists(db: &Connection, sql: &str, params: impl Params) -> StoreResult<bool> {
    Ok(db
        .prepare_cached(sql)?
        .query_row(params, |row| row.get(0))?)
}

fn user_exists(db: &Connection, name: &Name) -> StoreResult<bool> {
    exists(
        db,
        "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?1)",
        [name.as_str()],
    )
}

fn organization_exists(db: &Connection, name: &Name) -> StoreResult<bool> {
    exists(
        db,
        "SELECT EXISTS (SELECT 1 FROM organizations WHERE name = ?1)",
        [name.as_str()],
    )
}

fn repo_exists(db: &Connection, repo: &RepoRef) -> StoreResult<bool> {
    exists(
        db,
        "SELECT EXISTS (SELECT 1 FROM repos WHERE repo_type = ?1 AND repo_id = ?2)",
        params![repo.repo_type.as_str(), repo.id.to_string()],
    )
}

/// Users and organizations share one namespace: a name is free only if neither holds it.
fn ensure_name_free(db: &Connection, name: &Name) -> StoreResult<()> {
    if user_exists(db, name)? || organization_exists(db, name)? {
        return Err(name_taken(name));
    }
    Ok(())
}

fn name_taken(name: &Name) -> StoreError {
    StoreError::AlreadyExists(format!("a user or organization named '{name}'"))
}

fn repo_not_found(repo: &RepoRef) -> StoreError {
    StoreError::NotFound(repo.to_string())
}

fn select_repo(db: &Connection, repo: &RepoRef) -> StoreResult<Option<Repo>> {
    let sql = format!("SELECT {REPO_COLUMNS} FROM repos WHERE repo_type = ?1 AND repo_id = ?2");
    Ok(db
        .prepare_cached(&sql)?
        .query_row(
            params![repo.repo_type.as_str(), repo.id.to_string()],
            |row| rows::repo(row, 0),
        )
        .optional()?)
}

fn select_token(db: &Connection, digest: &TokenDigest) -> StoreResult<Option<TokenRecord>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE digest = ?1");
    Ok(db
        .prepare_cached(&sql)?
        .query_row([digest.to_hex()], |row| rows::token(row, 0))
        .optional()?)
}

fn select_user(db: &Connection, name: &Name) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1");
    Ok(db
        .prepare_cached(&sql)?
        .query_row([name.as_str()], |row| rows::user(row, 0))
        .optional()?)
}

fn select_memberships(db: &Connection, user: &Name) -> StoreResult<Vec<(Organization, OrgRole)>> {
    let sql = format!(
        "SELECT {ORGANIZATION_COLUMNS}, memberships.role
         FROM memberships JOIN organizations ON organizations.name = memberships.org
         WHERE memberships.user = ?1 ORDER BY memberships.joined_seq"
    );
    let mut statement = db.prepare_cached(&sql)?;
    let memberships = statement.query_map([user.as_str()], |row| {
        Ok((rows::organization(row)?, rows::org_role(row, 4)?))
    })?;
    Ok(memberships.collect::<Result<_, _>>()?)
}

fn select_request(
    db: &Connection,
    repo: &RepoRef,
    user: &Name,
) -> StoreResult<Option<AccessRequest>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM access_requests
         WHERE repo_type = ?1 AND repo_id = ?2 AND user = ?3"
    );
    Ok(db
        .prepare_cached(&sql)?
        .query_row(
            params![repo.repo_type.as_str(), repo.id.to_string(), user.as_str()],
            |row| rows::request(row, 0),
        )
        .optional()?)
}

fn insert_audit(db: &Connection, audit: &AuditRecord) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO audit ({AUDIT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    );
    db.prepare_cached(&sql)?.execute(params![
        audit.request_id.to_string(),
        audit.repo.repo_type.as_str(),
        audit.repo.id.to_string(),
        audit.user.as_str(),
        audit.action.as_str(),
        audit.actor.as_ref().map(Name::as_str),
        audit.from.map(RequestStatus::as_str),
        audit.to.map(RequestStatus::as_str),
        audit.reason,
        audit.at.millis(),
    ])?;
    Ok(())
}

/// A page of a repo's requests: an index range strictly after the cursor position, in
/// (created_at, id) order, so a page costs what it holds however many requests the repo has.
fn list_sql(by_status: bool) -> String {
    let status = if by_status { "AND status = ?6" } else { "" };
    format!(
        "SELECT {REQUEST_COLUMNS} FROM access_requests
         WHERE repo_type = ?1 AND repo_id = ?2 {status} AND (created_at, id) > (?3, ?4)
         ORDER BY created_at, id LIMIT ?5"
    )
}

#[async_trait]
impl Store for SqliteStore {
    async fn is_empty(&self) -> StoreResult<bool> {
        self.read(|db| {
            exists(
                db,
                "SELECT NOT EXISTS (SELECT 1 FROM users)
                    AND NOT EXISTS (SELECT 1 FROM organizations)
                    AND NOT EXISTS (SELECT 1 FROM repos)",
                [],
            )
        })
        .await
    }

    async fn create_user(&self, user: &User) -> StoreResult<()> {
        let user = user.clone();
        self.write(move |tx| {
            ensure_name_free(tx, &user.name)?;
            let sql = format!("INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)");
            tx.prepare_cached(&sql)?
                .execute(params![
                    user.name.as_str(),
                    user.id.to_string(),
                    user.fullname,
                    user.email.as_ref().map(Email::as_str),
                    user.created_at.millis(),
                ])
                .map_err(duplicate_as("the user", name_taken(&user.name)))?;
            Ok(())
        })
        .await
    }

    async fn user(&self, name: &Name) -> StoreResult<Option<User>> {
        let name = name.clone();
        self.point_read(move |db| select_user(db, &name)).await
    }

    async fn create_organization(&self, org: &Organization) -> StoreResult<()> {
        let org = org.clone();
        self.write(move |tx| {
            ensure_name_free(tx, &org.name)?;
            let sql = format!(
                "INSERT INTO organizations ({ORGANIZATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4)"
            );
            tx.prepare_cached(&sql)?
                .execute(params![
                    org.name.as_str(),
                    org.id.to_string(),
                    org.fullname,
                    org.created_at.millis(),
                ])
                .map_err(duplicate_as("the organization", name_taken(&org.name)))?;
            Ok(())
        })
        .await
    }

    async fn organization(&self, name: &Name) -> StoreResult<Option<Organization>> {
        let name = name.clone();
        self.point_read(move |db| {
            let sql = format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE name = ?1");
            Ok(db
                .prepare_cached(&sql)?
                .query_row([name.as_str()], rows::organization)
                .optional()?)
        })
        .await
    }

    async fn add_member(
        &self,
        org: &Name,
        user: &Name,
        role: OrgRole,
        at: Timestamp,
    ) -> StoreResult<()> {
        let (org, user) = (org.clone(), user.clone());
        self.write(move |tx| {
            if !organization_exists(tx, &org)? {
                return Err(StoreError::NotFound(format!("organization '{org}'")));
            }
            if !user_exists(tx, &user)? {
                return Err(StoreError::NotFound(format!("user '{user}'")));
            }
            // The next number of one sequence over all memberships: join order is exact
            // within an organization and across a user's organizations.
            tx.prepare_cached(
                "INSERT INTO memberships (org, user, role, joined_at, joined_seq)
                 SELECT ?1, ?2, ?3, ?4, COALESCE(MAX(joined_seq), 0) + 1 FROM memberships",
            )?
            .execute(params![
                org.as_str(),
                user.as_str(),
                role.as_str(),
                at.millis()
            ])
            .map_err(duplicate_as(
                "the membership",
                StoreError::AlreadyExists(format!("the membership of '{user}' in '{org}'")),
            ))?;
            Ok(())
        })
        .await
    }

    async fn remove_member(&self, org: &Name, user: &Name) -> StoreResult<()> {
        let (org, user) = (org.clone(), user.clone());
        self.write(move |tx| {
            let removed = tx
                .prepare_cached("DELETE FROM memberships WHERE org = ?1 AND user = ?2")?
                .execute([org.as_str(), user.as_str()])?;
            if removed == 0 {
                return Err(StoreError::NotFound(format!(
                    "the membership of '{user}' in '{org}'"
                )));
            }
            Ok(())
        })
        .await
    }

    async fn members(&self, org: &Name) -> StoreResult<Vec<Member>> {
        let org = org.clone();
        self.read(move |db| {
            let sql = format!(
                "SELECT {USER_COLUMNS}, memberships.role, memberships.joined_at
                 FROM memberships JOIN users ON users.name = memberships.user
                 WHERE memberships.org = ?1 ORDER BY memberships.joined_seq"
            );
            let mut statement = db.prepare_cached(&sql)?;
            let members = statement.query_map([org.as_str()], |row| {
                Ok(Member {
                    user: rows::user(row, 0)?,
                    role: rows::org_role(row, 5)?,
                    joined_at: rows::timestamp(row, 6)?,
                })
            })?;
            Ok(members.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn account(&self, name: &Name) -> StoreResult<Option<Account>> {
        let name = name.clone();
        self.point_read(move |db| {
            one_snapshot(db, |tx| {
                let Some(user) = select_user(tx, &name)? else {
                    return Ok(None);
                };
                let orgs = select_memberships(tx, &name)?;
                Ok(Some(Account { user, orgs }))
            })
        })
        .await
    }

    async fn create_token(&self, token: &TokenRecord) -> StoreResult<()> {
        let token = token.clone();
        self.write(move |tx| {
            if !user_exists(tx, &token.user)? {
                return Err(StoreError::NotFound(format!("user '{}'", token.user)));
            }
            let sql = format!("INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)");
            tx.prepare_cached(&sql)?
                .execute(params![
                    token.digest.to_hex(),
                    token.user.as_str(),
                    token.role.as_str(),
                    token.display_name,
                    token.created_at.millis(),
                ])
                .map_err(duplicate_as(
                    "the token",
                    StoreError::AlreadyExists(format!(
                        "a token named '{}' of '{}'",
                        token.display_name, token.user
                    )),
                ))?;
            Ok(())
        })
        .await
    }

    async fn token(&self, digest: &TokenDigest) -> StoreResult<Option<TokenRecord>> {
        let digest = *digest;
        self.point_read(move |db| select_token(db, &digest)).await
    }

    async fn revoke_token(&self, user: &Name, display_name: &str) -> StoreResult<()> {
        let (user, display_name) = (user.clone(), display_name.to_owned());
        self.write(move |tx| {
            let revoked = tx
                .prepare_cached("DELETE FROM tokens WHERE user = ?1 AND display_name = ?2")?
                .execute([user.as_str(), display_name.as_str()])?;
            if revoked == 0 {
                return Err(StoreError::NotFound(format!(
                    "a token named '{display_name}' of '{user}'"
                )));
            }
            Ok(())
        })
        .await
    }

    async fn create_repo(&self, repo: &Repo) -> StoreResult<()> {
        let repo = repo.clone();
        self.write(move |tx| {
            let sql = format!(
                "INSERT INTO repos ({REPO_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
            );
            tx.prepare_cached(&sql)?
                .execute(params![
                    repo.repo.repo_type.as_str(),
                    repo.repo.id.to_string(),
                    repo.owner.as_str(),
                    repo.visibility.as_str(),
                    repo.gate.as_str(),
                    repo.notifications_mode.as_str(),
                    repo.notifications_email.as_ref().map(Email::as_str),
                    repo.sha,
                    repo.front_matter,
                    repo.created_at.millis(),
                    repo.last_modified.millis(),
                    repo.requester_emails,
                ])
                .map_err(duplicate_as(
                    "the repo",
                    StoreError::AlreadyExists(repo.repo.to_string()),
                ))?;
            Ok(())
        })
        .await
    }

    async fn repo(&self, repo: &RepoRef) -> StoreResult<Option<Repo>> {
        let repo = repo.clone();
        self.point_read(move |db| select_repo(db, &repo)).await
    }

    async fn repo_context(
        &self,
        repo: &RepoRef,
        read: ContextRead<'_>,
    ) -> StoreResult<RepoContext> {
        self.point_read(|db| context::select_context(db, repo, read))
            .await
    }

    async fn gate_context(
        &self,
        repo: &RepoRef,
        read: ContextRead<'_>,
    ) -> StoreResult<RepoContext<RequestStatus>> {
        self.point_read(|db| context::select_context(db, repo, read))
            .await
    }

    async fn update_repo_settings(
        &self,
        repo: &RepoRef,
        update: &SettingsUpdate,
    ) -> StoreResult<Repo> {
        let (repo, update) = (repo.clone(), update.clone());
        self.write(move |tx| {
            let mut stored = select_repo(tx, &repo)?.ok_or_else(|| repo_not_found(&repo))?;
            update.apply(&mut stored);
            tx.prepare_cached(
                "UPDATE repos SET visibility = ?3, gate = ?4, notifications_mode = ?5,
                                  notifications_email = ?6, requester_emails = ?7
                 WHERE repo_type = ?1 AND repo_id = ?2",
            )?
            .execute(params![
                repo.repo_type.as_str(),
                repo.id.to_string(),
                stored.visibility.as_str(),
                stored.gate.as_str(),
                stored.notifications_mode.as_str(),
                stored.notifications_email.as_ref().map(Email::as_str),
                stored.requester_emails,
            ])?;
            Ok(stored)
        })
        .await
    }

    async fn commit(&self, repo: &RepoRef, commit: &NewCommit) -> StoreResult<Repo> {
        let (repo, commit) = (repo.clone(), commit.clone());
        self.write(move |tx| {
            let (repo_type, repo_id) = (repo.repo_type.as_str(), repo.id.to_string());
            let sql = format!(
                "UPDATE repos SET sha = ?3, last_modified = ?4,
                    front_matter = CASE WHEN ?5 THEN ?6 ELSE front_matter END
                 WHERE repo_type = ?1 AND repo_id = ?2
                 RETURNING {REPO_COLUMNS}"
            );
            let updated = tx
                .prepare_cached(&sql)?
                .query_row(
                    params![
                        repo_type,
                        repo_id,
                        commit.sha,
                        commit.at.millis(),
                        commit.readme.is_some(),
                        commit.readme.as_ref().and_then(|r| r.front_matter.as_deref()),
                    ],
                    |row| rows::repo(row, 0),
                )
                .optional()?
                .ok_or_else(|| repo_not_found(&repo))?;
            let mut upsert = tx.prepare_cached(&format!(
                "INSERT INTO files (repo_type, repo_id, {FILE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (repo_type, repo_id, path) DO UPDATE
                 SET size = excluded.size, oid = excluded.oid, sha256 = excluded.sha256"
            ))?;
            for file in &commit.files {
                upsert.execute(params![
                    repo_type,
                    repo_id,
                    file.path,
                    rows::int(file.size, "file size")?,
                    file.oid,
                    file.sha256,
                ])?;
            }
            if let Some(readme) = &commit.readme {
                let (body_html, body_too_large) = readme.html.body.stored();
                tx.prepare_cached(&format!(
                    "INSERT INTO readmes (repo_type, repo_id, {README_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (repo_type, repo_id) DO UPDATE
                     SET body_html = excluded.body_html, body_too_large = excluded.body_too_large,
                         prompt_html = excluded.prompt_html"
                ))?
                .execute(params![
                    repo_type,
                    repo_id,
                    body_html,
                    body_too_large,
                    readme.html.prompt,
                ])?;
            }
            Ok(updated)
        })
        .await
    }

    async fn files(&self, repo: &RepoRef) -> StoreResult<Vec<FileEntry>> {
        let repo = repo.clone();
        self.read(move |db| {
            let sql = format!(
                "SELECT {FILE_COLUMNS} FROM files WHERE repo_type = ?1 AND repo_id = ?2 ORDER BY path"
            );
            let mut statement = db.prepare_cached(&sql)?;
            let files = statement.query_map(
                params![repo.repo_type.as_str(), repo.id.to_string()],
                |row| rows::file(row, 0),
            )?;
            Ok(files.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn access_request(
        &self,
        repo: &RepoRef,
        user: &Name,
    ) -> StoreResult<Option<AccessRequest>> {
        let (repo, user) = (repo.clone(), user.clone());
        self.point_read(move |db| select_request(db, &repo, &user))
            .await
    }

    async fn insert_request(
        &self,
        request: &AccessRequest,
        audit: &AuditRecord,
        // Requests here do not keep their repo's mode: nothing reads it from them.
        _notifications: NotificationsMode,
    ) -> StoreResult<()> {
        let (request, audit) = (request.clone(), audit.clone());
        self.write(move |tx| {
            // Checked first, so a missing one is `NotFound` rather than a failed foreign key.
            if !repo_exists(tx, &request.repo)? {
                return Err(repo_not_found(&request.repo));
            }
            if !user_exists(tx, &request.user)? {
                return Err(StoreError::NotFound(format!("user '{}'", request.user)));
            }
            let (status, reviewer, reviewed_at, reason) = rows::state_columns(&request.state);
            let sql = format!(
                "INSERT INTO access_requests ({REQUEST_COLUMNS}, pending_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                         CASE WHEN ?8 = 'pending' THEN ?13 END)"
            );
            tx.prepare_cached(&sql)?
                .execute(params![
                    request.id.to_string(),
                    request.repo.repo_type.as_str(),
                    request.repo.id.to_string(),
                    request.user.as_str(),
                    request.contact.fullname,
                    request.contact.email.as_ref().map(Email::as_str),
                    rows::answers_json(&request.answers)?,
                    status,
                    reviewer,
                    reviewed_at,
                    reason,
                    request.created_at.millis(),
                    request.updated_at.millis(),
                    rows::int(request.version, "request version")?,
                ])
                .map_err(duplicate_as("the access request", StoreError::Conflict))?;
            insert_audit(tx, &audit)
        })
        .await
    }

    async fn update_request(
        &self,
        request: &AccessRequest,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        // Version 0 follows nothing, so no stored request can match it.
        let Some(previous) = request.version.checked_sub(1) else {
            return Err(StoreError::Conflict);
        };
        let (request, audit) = (request.clone(), audit.clone());
        self.write(move |tx| {
            let (status, reviewer, reviewed_at, reason) = rows::state_columns(&request.state);
            let updated = tx
                .prepare_cached(
                    "UPDATE access_requests
                     SET fullname = ?5, email = ?6, answers = ?7, status = ?8, reviewer = ?9,
                         reviewed_at = ?10, rejection_reason = ?11, created_at = ?12,
                         updated_at = ?13, version = ?14,
                         pending_since = CASE WHEN ?8 = 'pending'
                             THEN coalesce(pending_since, ?13) END
                     WHERE repo_type = ?1 AND repo_id = ?2 AND user = ?3 AND id = ?4
                       AND version = ?15",
                )?
                .execute(params![
                    request.repo.repo_type.as_str(),
                    request.repo.id.to_string(),
                    request.user.as_str(),
                    request.id.to_string(),
                    request.contact.fullname,
                    request.contact.email.as_ref().map(Email::as_str),
                    rows::answers_json(&request.answers)?,
                    status,
                    reviewer,
                    reviewed_at,
                    reason,
                    request.created_at.millis(),
                    request.updated_at.millis(),
                    rows::int(request.version, "request version")?,
                    rows::int(previous, "request version")?,
                ])
                .map_err(writing("the access request"))?;
            // Returning the error drops the transaction, rolling it back: no audit record.
            if updated == 0 {
                return Err(StoreError::Conflict);
            }
            insert_audit(tx, &audit)
        })
        .await
    }

    async fn delete_request(
        &self,
        request: &AccessRequest,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let (request, audit) = (request.clone(), audit.clone());
        self.write(move |tx| {
            let deleted = tx
                .prepare_cached(
                    "DELETE FROM access_requests
                     WHERE repo_type = ?1 AND repo_id = ?2 AND user = ?3 AND id = ?4
                       AND version = ?5",
                )?
                .execute(params![
                    request.repo.repo_type.as_str(),
                    request.repo.id.to_string(),
                    request.user.as_str(),
                    request.id.to_string(),
                    rows::int(request.version, "request version")?,
                ])?;
            if deleted == 0 {
                return Err(StoreError::Conflict);
            }
            insert_audit(tx, &audit)
        })
        .await
    }

    async fn list_requests(
        &self,
        repo: &RepoRef,
        status: Option<RequestStatus>,
        after: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<Page<AccessRequest>> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        // No cursor: start before every possible (created_at, id); ids are never empty.
        let (after_at, after_id) = match after {
            Some(cursor) => {
                let (at, id) = cursor.position()?;
                (at.millis(), id.to_string())
            }
            None => (i64::MIN, String::new()),
        };
        let repo = repo.clone();
        self.read(move |db| {
            // One row more than the page tells whether another page follows.
            let fetch = limit as i64 + 1;
            let (repo_type, repo_id) = (repo.repo_type.as_str(), repo.id.to_string());
            let mut statement = db.prepare_cached(&list_sql(status.is_some()))?;
            let request: fn(&rusqlite::Row<'_>) -> rusqlite::Result<AccessRequest> =
                |row| rows::request(row, 0);
            let rows = match status {
                Some(status) => statement.query_map(
                    params![
                        repo_type,
                        repo_id,
                        after_at,
                        after_id,
                        fetch,
                        status.as_str()
                    ],
                    request,
                )?,
                None => statement.query_map(
                    params![repo_type, repo_id, after_at, after_id, fetch],
                    request,
                )?,
            };
            let mut items = rows.collect::<Result<Vec<_>, _>>()?;
            let next = if items.len() > limit {
                items.truncate(limit);
                items.last().map(Cursor::after)
            } else {
                None
            };
            Ok(Page { items, next })
        })
        .await
    }

    async fn audit_trail(
        &self,
        repo: &RepoRef,
        request_id: ObjectId,
    ) -> StoreResult<Vec<AuditRecord>> {
        let repo = repo.clone();
        self.read(move |db| {
            let sql = format!(
                "SELECT {AUDIT_COLUMNS} FROM audit
                 WHERE repo_type = ?1 AND repo_id = ?2 AND request_id = ?3 ORDER BY seq"
            );
            let mut statement = db.prepare_cached(&sql)?;
            let records = statement.query_map(
                params![
                    repo.repo_type.as_str(),
                    repo.id.to_string(),
                    request_id.to_string()
                ],
                rows::audit,
            )?;
            Ok(records.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn pending_on(&self, day: Day) -> StoreResult<Vec<AccessRequest>> {
        self.read(move |db| {
            let sql = format!(
                "SELECT {REQUEST_COLUMNS} FROM access_requests
                 WHERE pending_since >= ?1 AND pending_since < ?2
                 ORDER BY pending_since, repo_type, repo_id, id"
            );
            let mut statement = db.prepare_cached(&sql)?;
            let requests = statement
                .query_map(params![day.start().millis(), day.end().millis()], |row| {
                    rows::request(row, 0)
                })?;
            Ok(requests.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn claim_marker(&self, key: &str, expires_at: Timestamp) -> StoreResult<bool> {
        let key = key.to_owned();
        let now = Timestamp::now().millis();
        self.write(move |tx| {
            tx.prepare_cached("DELETE FROM markers WHERE expires_at <= ?1")?
                .execute([now])?;
            let claimed = tx
                .prepare_cached(
                    "INSERT INTO markers (key, expires_at) VALUES (?1, ?2)
                     ON CONFLICT (key) DO NOTHING",
                )?
                .execute(params![key, expires_at.millis()])?;
            Ok(claimed == 1)
        })
        .await
    }

    async fn release_marker(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.write(move |tx| {
            tx.prepare_cached("DELETE FROM markers WHERE key = ?1")?
                .execute([key])?;
            Ok(())
        })
        .await
    }
}
