//! The domain: plain types with their invariants, and no I/O.

mod access;
mod content;
mod country;
mod gate;
mod ids;
mod repo;
mod request;
mod time;
mod token;
mod user;

pub use access::{RepoRole, repo_role};
pub use content::{MAX_PATH_BYTES, RepoPath, RepoPathError, Revision};
pub use country::Country;
pub use gate::{CallerAccess, Decision, Denial, GateInput, decide};
pub use ids::ObjectId;
pub use repo::{
    GateMode, NotificationsMode, ReadmeBody, ReadmeHtml, Repo, RepoId, RepoIdError, RepoRef,
    RepoType, Visibility,
};
pub use request::{
    AccessRequest, AlreadyInStatus, Answers, AuditAction, AuditRecord, Contact, RequestState,
    RequestStatus, RequestTarget, Review,
};
pub use time::{Day, Timestamp};
pub use token::{TokenDigest, TokenRole, TokenSecret, TokenSecretError, check_token_name};
pub use user::{
    Email, MAX_FULLNAME_CHARS, Member, Name, NameError, Namespace, OrgRole, Organization, User,
    check_fullname,
};
