//! The one error type of gatehouse's use cases. What each variant means to an HTTP client
//! is decided in exactly one place: `api::error`.

use crate::card::{AnswerErrors, CardError};
use crate::domain::{Denial, RepoRef};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("You must be authenticated to do this. Pass a token in the Authorization header.")]
    NotAuthenticated,
    #[error("Invalid credentials in Authorization header")]
    InvalidToken,
    /// A session cookie that is not ours, was changed, has expired or names a revoked token.
    #[error("Your session has expired or is no longer valid. Sign in again.")]
    InvalidSession,
    /// A form post without the CSRF token of the browser's cookies: forged, or stale.
    #[error("This form has expired or was sent from another site. Reload the page and try again.")]
    FormRefused,
    /// Missing, or private and the caller may not know it exists.
    #[error("Repository not found")]
    RepoNotFound { anonymous: bool },
    /// The gate refused the caller; the message depends on why (hf-wire §6).
    #[error("access to {repo} is gated")]
    Gated { repo: RepoRef, denial: Denial },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} is not gated")]
    NotGated(RepoRef),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidAnswers(AnswerErrors),
    /// The repo's README asks for a form gatehouse cannot build; the owner must fix it.
    #[error(
        "The access form of {repo} is misconfigured, so requests cannot be taken until its owners fix the README: {error}"
    )]
    InvalidCard { repo: RepoRef, error: CardError },
    #[error("{0}")]
    NotFound(String),
    /// No commit of the repo goes by this revision.
    #[error("Invalid rev id: {revision}")]
    RevisionNotFound { revision: String },
    /// The commit has no such file. The commit goes back in `X-Repo-Commit`, so the client
    /// can remember the miss.
    #[error("Entry not found")]
    EntryNotFound { commit: String },
    #[error("The requested range is not within the file's {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// A function without blob storage was asked for file content: a deployment error.
    #[error("File content is not served here")]
    ContentNotServedHere,
    #[error("{0}")]
    Conflict(String),
    #[error("The request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("No route matches this path")]
    NoSuchRoute,
    #[error("This method is not allowed on this path")]
    MethodNotAllowed(Vec<http::Method>),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A page template failed to render: a bug, answered as an internal error.
    #[error("rendering a page: {0}")]
    Render(#[from] askama::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
