//! Downloads: the commit and the file a revision and a path name, for a caller the gate lets
//! in. The gate comes first, so nobody learns which files or revisions a repo has before it
//! would let them read one.

use super::identity::{Presented, RepoView, visible_repo, visible_repo_and_file};
use crate::domain::{Country, RepoPath, RepoRef, Revision};
use crate::error::{Error, Result};
use crate::store::{CallerRequest, FileEntry, Store};

/// A file of a commit, found for a download.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedFile {
    /// The commit's id, for `X-Repo-Commit`.
    pub commit: String,
    pub file: FileEntry,
}

/// What a download of `path` at `revision` serves, in one store read after the token's.
pub async fn resolve_file(
    store: &dyn Store,
    credentials: Option<Presented>,
    repo: &RepoRef,
    revision: &str,
    path: &RepoPath,
    country: Option<Country>,
) -> Result<ResolvedFile> {
    let (view, file) = visible_repo_and_file(store, credentials, repo, path).await?;
    let commit = commit_of(&view, revision, country)?;
    let file = file.ok_or_else(|| Error::EntryNotFound {
        commit: commit.clone(),
    })?;
    Ok(ResolvedFile { commit, file })
}

/// The repo a caller the gate lets in reads at `revision`, with the commit it names.
pub async fn readable_revision(
    store: &dyn Store,
    credentials: Option<Presented>,
    repo: &RepoRef,
    revision: &str,
    country: Option<Country>,
) -> Result<(RepoView, String)> {
    let view = visible_repo(store, credentials, repo).await?;
    let commit = commit_of(&view, revision, country)?;
    Ok((view, commit))
}

/// The commit `revision` names, once the gate has let the caller in. Only `main`'s commit is
/// kept, so it is the one revision there is: `main` or its full id.
fn commit_of<R: CallerRequest>(
    view: &RepoView<R>,
    revision: &str,
    country: Option<Country>,
) -> Result<String> {
    view.require_content_access(country)?;
    let head = &view.repo.sha;
    match Revision::parse(revision) {
        Some(revision) if revision.is_at(head) => Ok(head.clone()),
        _ => Err(Error::RevisionNotFound {
            revision: revision.to_owned(),
        }),
    }
}
