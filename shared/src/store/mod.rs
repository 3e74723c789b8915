//! The store: one trait every backend implements (the embedded SQLite store here, DynamoDB
//! in production), and the contract suite that holds them to the same behaviour.
//!
//! Every method is one logical read or one atomic write. State changes of access requests
//! are conditional on the version the caller read, and commit together with their audit
//! record, so two reviewers acting at once cannot both win and nothing is lost.
//!
//! A write whose record is larger than a store holds ([`MAX_RECORD_BYTES`], DynamoDB's item
//! limit, which the embedded store keeps too, so what one refuses the other does) is refused
//! with [`StoreError::TooLarge`] and writes nothing.
//!
//! Reads by key see every write that came before them. Listings (members, a user's
//! organizations, requests) and the lookup of a request by its id may read an index that a
//! backend keeps eventually consistent (DynamoDB's GSIs), so they can trail a write by a moment.

mod cursor;
mod dynamodb;
mod sqlite;

/// The emulators' endpoints and the tests' SDK configuration, for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) use dynamodb::tests::{emulator_endpoint, loopback_emulator, sdk_config};

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;

use async_trait::async_trait;

use crate::domain::{
    AccessRequest, AuditRecord, Day, Email, GateMode, Member, Name, NotificationsMode, ObjectId,
    OrgRole, Organization, ReadmeHtml, Repo, RepoRef, RequestStatus, RequestTarget, Timestamp,
    TokenDigest, TokenRole, User, Visibility,
};

pub use cursor::Cursor;
pub use dynamodb::stream;
pub use dynamodb::{CursorKey, DynamoStore};
pub use sqlite::SqliteStore;

/// The most items a list page may hold.
pub const MAX_PAGE_SIZE: usize = 100;

/// The largest record a store holds, in bytes: DynamoDB's item limit (attribute names and
/// values together), which the embedded store keeps for its rows too.
pub const MAX_RECORD_BYTES: usize = 400 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} not found")]
    NotFound(String),
    /// A conditional write lost: the record changed since it was read.
    #[error("the record was changed by someone else at the same time; try again")]
    Conflict,
    #[error("invalid pagination cursor")]
    InvalidCursor,
    /// The record is larger than the store holds: the message names it and the limit.
    #[error("{0}")]
    TooLarge(String),
    /// The backend is throttling or unreachable, even after retries with backoff; trying
    /// again later may work. The detail is for the logs, never shown to clients.
    #[error("storage busy: {0}")]
    Unavailable(String),
    /// The backend itself failed (disk, network). Never shown to clients.
    #[error("storage failure: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One page of a listing, with the cursor of the next page if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

/// A token as stored: whose it is and what it may do, never its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub user: Name,
    pub role: TokenRole,
    pub display_name: String,
    pub digest: TokenDigest,
    pub created_at: Timestamp,
}

/// A file of a repo's `main` commit. Content lives in blob storage, addressed by `sha256`;
/// the metadata lives here so answering about a file never reads the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    /// The git blob sha1, hex: the file's `ETag` and `blobId`.
    pub oid: String,
    pub sha256: String,
}

/// A change of repo settings: `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsUpdate {
    pub visibility: Option<Visibility>,
    pub gate: Option<GateMode>,
    pub notifications_mode: Option<NotificationsMode>,
    /// `Some(None)` clears the custom address.
    pub notifications_email: Option<Option<Email>>,
    pub requester_emails: Option<bool>,
}

impl SettingsUpdate {
    pub fn is_empty(&self) -> bool {
        *self == SettingsUpdate::default()
    }

    pub fn apply(&self, repo: &mut Repo) {
        if let Some(visibility) = self.visibility {
            repo.visibility = visibility;
        }
        if let Some(gate) = self.gate {
            repo.gate = gate;
        }
        if let Some(mode) = self.notifications_mode {
            repo.notifications_mode = mode;
        }
        if let Some(email) = &self.notifications_email {
            repo.notifications_email = email.clone();
        }
        if let Some(on) = self.requester_emails {
            repo.requester_emails = on;
        }
    }
}

/// A user and the organizations they belong to, with their role, in the order they joined.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub user: User,
    pub orgs: Vec<(Organization, OrgRole)>,
}

/// What a call on one repo reads along with the repo, in the same read
/// ([`Store::repo_context`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ContextRead<'a> {
    /// The caller: their user record, their role in the organization that owns the repo, and
    /// their request on it.
    pub caller: Option<CallerKey<'a>>,
    /// The request a reviewer acts on: a user's (with the user's record), or the one with an id.
    pub target: Option<&'a RequestTarget>,
    /// A file of `main`, by its path (a download).
    pub file: Option<&'a str>,
    /// The README's HTML (a page).
    pub readme_html: bool,
}

/// How a [`ContextRead`] names its caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CallerKey<'a> {
    /// A user already known (their token was read before).
    Name(&'a Name),
    /// The digest of the token the caller presents: the read resolves it to its user with the
    /// rest, so a call on a repo checks its token in the same read.
    Token(&'a TokenDigest),
}

/// A repo and what one call on it needs, read together. `R` is what it holds of the caller's
/// request: the whole request, or its status (a download's gate needs no more).
#[derive(Debug, Clone, PartialEq)]
pub struct RepoContext<R = AccessRequest> {
    /// `None` when there is no such repo; then there is no membership or request either.
    pub repo: Option<Repo>,
    /// The caller's token, when the caller was named by its digest and such a token exists.
    pub token: Option<TokenRecord>,
    /// The caller's records; `None` when no caller was named, when no user has the name, or
    /// when no token has the digest.
    pub caller: Option<CallerRecords<R>>,
    /// The target's records; empty when no target was named.
    pub target: TargetRecords,
    /// The file named, if `main` has it.
    pub file: Option<FileEntry>,
    /// The README's HTML, when asked for and the repo has one.
    pub readme_html: Option<ReadmeHtml>,
}

impl<R> RepoContext<R> {
    /// The context of a repo that does not exist: the token and the users' records as read,
    /// nothing else.
    pub fn without_repo(
        token: Option<TokenRecord>,
        caller: Option<User>,
        target: Option<User>,
    ) -> Self {
        RepoContext {
            repo: None,
            token,
            caller: caller.map(|user| CallerRecords {
                user,
                membership: None,
                request: None,
            }),
            target: TargetRecords {
                user: target,
                request: None,
            },
            file: None,
            readme_html: None,
        }
    }
}

impl RepoContext {
    /// This context with the caller's request as its status.
    pub fn with_request_status(self) -> RepoContext<RequestStatus> {
        RepoContext {
            repo: self.repo,
            token: self.token,
            caller: self.caller.map(|caller| CallerRecords {
                user: caller.user,
                membership: caller.membership,
                request: caller.request.as_ref().map(AccessRequest::status),
            }),
            target: self.target,
            file: self.file,
            readme_html: self.readme_html,
        }
    }
}

/// What a [`RepoContext`] holds of the caller's request, and the read that gives it.
pub trait CallerRequest: Sized + Send {
    fn status(&self) -> RequestStatus;

    /// Reads a repo's context with the caller's request in this form.
    fn read_context<'a>(
        store: &'a dyn Store,
        repo: &'a RepoRef,
        read: ContextRead<'a>,
    ) -> impl Future<Output = StoreResult<RepoContext<Self>>> + Send + 'a;
}

impl CallerRequest for AccessRequest {
    fn status(&self) -> RequestStatus {
        AccessRequest::status(self)
    }

    fn read_context<'a>(
        store: &'a dyn Store,
        repo: &'a RepoRef,
        read: ContextRead<'a>,
    ) -> impl Future<Output = StoreResult<RepoContext<Self>>> + Send + 'a {
        store.repo_context(repo, read)
    }
}

impl CallerRequest for RequestStatus {
    fn status(&self) -> RequestStatus {
        *self
    }

    fn read_context<'a>(
        store: &'a dyn Store,
        repo: &'a RepoRef,
        read: ContextRead<'a>,
    ) -> impl Future<Output = StoreResult<RepoContext<Self>>> + Send + 'a {
        store.gate_context(repo, read)
    }
}

/// The caller's records in a [`RepoContext`].
#[derive(Debug, Clone, PartialEq)]
pub struct CallerRecords<R = AccessRequest> {
    pub user: User,
    /// Their role in the organization that owns the repo: `None` when they are not one of its
    /// members, when a user owns the repo, or when there is no repo.
    pub membership: Option<OrgRole>,
    /// Their request on the repo.
    pub request: Option<R>,
}

/// The target's records in a [`RepoContext`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetRecords {
    /// The record of the user a target names (a target named by its id has none).
    pub user: Option<User>,
    /// The request: that user's on the repo, or the repo's request with that id.
    pub request: Option<AccessRequest>,
}

/// A new commit on `main`: the files it adds or replaces, and the new commit id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCommit {
    pub sha: String,
    pub files: Vec<FileEntry>,
    /// `Some` when the commit changes README.md.
    pub readme: Option<ReadmeUpdate>,
    pub at: Timestamp,
}

/// What the repo keeps of a README.md a commit brings, besides the file: the front matter the
/// gate reads, and the HTML the repo page shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadmeUpdate {
    pub front_matter: Option<String>,
    pub html: ReadmeHtml,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// True when nothing at all is stored yet (a seed only loads into an empty store).
    async fn is_empty(&self) -> StoreResult<bool>;

    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn user(&self, name: &Name) -> StoreResult<Option<User>>;

    async fn create_organization(&self, org: &Organization) -> StoreResult<()>;
    async fn organization(&self, name: &Name) -> StoreResult<Option<Organization>>;
    /// Adds a member at the end of the join order. The user and organization must exist.
    async fn add_member(
        &self,
        org: &Name,
        user: &Name,
        role: OrgRole,
        at: Timestamp,
    ) -> StoreResult<()>;
    async fn remove_member(&self, org: &Name, user: &Name) -> StoreResult<()>;
    /// The members in join order.
    async fn members(&self, org: &Name) -> StoreResult<Vec<Member>>;
    /// A user with the organizations they belong to, with their role, in the order they
    /// joined (whoami); `None` when no user has the name. The organizations come from a
    /// listing, like [`Store::members`].
    async fn account(&self, name: &Name) -> StoreResult<Option<Account>>;

    /// Display names are unique per user; the user must exist (`NotFound` otherwise).
    async fn create_token(&self, token: &TokenRecord) -> StoreResult<()>;
    async fn token(&self, digest: &TokenDigest) -> StoreResult<Option<TokenRecord>>;
    async fn revoke_token(&self, user: &Name, display_name: &str) -> StoreResult<()>;

    async fn create_repo(&self, repo: &Repo) -> StoreResult<()>;
    async fn repo(&self, repo: &RepoRef) -> StoreResult<Option<Repo>>;
    async fn update_repo_settings(
        &self,
        repo: &RepoRef,
        update: &SettingsUpdate,
    ) -> StoreResult<Repo>;
    /// Everything a call on one repo needs, in one read: the repo and what `read` names (see
    /// [`RepoContext`]), each as the latest write left it. Only finding a request by its id
    /// may trail a brand-new request by a moment (an index).
    ///
    /// DynamoDB: one strongly consistent `BatchGetItem` of every key at once. A caller named
    /// by a token takes a `GetItem` of the token first (its user's keys); a request named by
    /// its id, a query of the id index first (its key); for a one-segment repo id, whose owner
    /// only the repo item names, the caller's membership is read after the batch. SQLite: one
    /// read transaction.
    async fn repo_context(&self, repo: &RepoRef, read: ContextRead<'_>)
    -> StoreResult<RepoContext>;
    /// [`repo_context`](Self::repo_context) with the caller's request as its status, all a
    /// download's gate needs; a store may decode less for it.
    async fn gate_context(
        &self,
        repo: &RepoRef,
        read: ContextRead<'_>,
    ) -> StoreResult<RepoContext<RequestStatus>> {
        Ok(self.repo_context(repo, read).await?.with_request_status())
    }
    /// Moves `main` to a new commit, adding or replacing the given files.
    async fn commit(&self, repo: &RepoRef, commit: &NewCommit) -> StoreResult<Repo>;
    /// The files of `main`, sorted by path; none for a missing repo.
    async fn files(&self, repo: &RepoRef) -> StoreResult<Vec<FileEntry>>;

    async fn access_request(
        &self,
        repo: &RepoRef,
        user: &Name,
    ) -> StoreResult<Option<AccessRequest>>;
    /// Stores a new request with its audit record; `Conflict` if the user already has one,
    /// `NotFound` if the repo or the user does not exist (and nothing is written then).
    ///
    /// `notifications` is the repo's notifications mode as the caller read it with the repo. A
    /// store that keeps the mode on the request (DynamoDB: its stream's filter reads it there)
    /// writes it only if the repo still has it; if the mode changed since, that store reads
    /// the repo's mode now and writes that. Either way the request carries the mode its repo
    /// had when it was written.
    async fn insert_request(
        &self,
        request: &AccessRequest,
        audit: &AuditRecord,
        notifications: NotificationsMode,
    ) -> StoreResult<()>;
    /// Replaces a request by its next version, with its audit record; `Conflict` unless the
    /// stored version is `request.version - 1`. Its id, repo and user are its key and
    /// never change.
    async fn update_request(&self, request: &AccessRequest, audit: &AuditRecord)
    -> StoreResult<()>;
    /// Deletes a request the requester withdrew, with its audit record; `Conflict` unless
    /// the stored version is still `request.version`.
    async fn delete_request(&self, request: &AccessRequest, audit: &AuditRecord)
    -> StoreResult<()>;
    /// A repo's requests, oldest first (by first-request time, then id), optionally of one
    /// status, at most `limit` (clamped to 1..=`MAX_PAGE_SIZE`) after the cursor.
    async fn list_requests(
        &self,
        repo: &RepoRef,
        status: Option<RequestStatus>,
        after: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<Page<AccessRequest>>;
    /// A request's audit records, oldest first.
    async fn audit_trail(
        &self,
        repo: &RepoRef,
        request_id: ObjectId,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// The requests that became pending on `day` (UTC) and are pending still, across all
    /// repos, in the order they became pending: what the daily digest reports. Its cost grows
    /// with them, not with the number of repos. DynamoDB reads an index, which may trail a
    /// write by a moment.
    async fn pending_on(&self, day: Day) -> StoreResult<Vec<AccessRequest>>;

    /// Claims a one-time marker: true the first time for `key`, false while that claim
    /// stands (until `expires_at`; then the key can be claimed again). A redelivered
    /// notification finds its marker claimed and sends nothing new.
    async fn claim_marker(&self, key: &str, expires_at: Timestamp) -> StoreResult<bool>;
    /// Gives a claimed marker back, so that a notification which failed is sent on a retry.
    async fn release_marker(&self, key: &str) -> StoreResult<()>;
}
