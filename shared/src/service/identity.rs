//! Who is calling, and what they may do to a repo.

use crate::domain::{
    AccessRequest, CallerAccess, Country, Decision, GateInput, Name, OrgRole, Organization,
    ReadmeHtml, RepoPath, RepoRef, RepoRole, RequestStatus, RequestTarget, TokenDigest, TokenRole,
    TokenSecret, User, decide, repo_role,
};
use crate::error::{Error, Result};
use crate::store::{
    Account, CallerKey, CallerRequest, ContextRead, FileEntry, RepoContext, Store, TargetRecords,
    TokenRecord,
};

/// A live token, read from the store: who the caller is. Their user is read with what the
/// call reads next (the repo's context, or their account), and a token whose user is gone is
/// refused then, as an invalid token.
#[derive(Debug, Clone)]
pub struct Credentials {
    token: TokenRecord,
}

impl From<TokenRecord> for Credentials {
    fn from(token: TokenRecord) -> Self {
        Credentials { token }
    }
}

impl Credentials {
    pub fn name(&self) -> &Name {
        &self.token.user
    }

    /// The digest of the token: what a browser session names.
    pub fn digest(&self) -> TokenDigest {
        self.token.digest
    }

    /// The caller, with the token's user as read.
    fn caller(self, user: User) -> Caller {
        Caller {
            user,
            token: self.token,
        }
    }
}

/// A token the caller presents, not read yet: its digest, and how it came. A call on a repo
/// checks it in the repo's own read, so a gated download reads the store once, not twice.
#[derive(Debug, Clone)]
pub struct Claim {
    digest: TokenDigest,
    source: ClaimSource,
}

#[derive(Debug, Clone, Copy)]
enum ClaimSource {
    Bearer,
    Session,
}

impl Claim {
    /// An `Authorization` header's value; one that is not a bearer token of ours is refused
    /// now, without a read.
    pub fn bearer(header: &str) -> Result<Claim> {
        let secret = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .and_then(|(_, secret)| TokenSecret::parse(secret.trim()).ok())
            .ok_or(Error::InvalidToken)?;
        Ok(Claim {
            digest: secret.digest(),
            source: ClaimSource::Bearer,
        })
    }

    /// The token a browser's (verified) session cookie names.
    pub fn session(digest: TokenDigest) -> Claim {
        Claim {
            digest,
            source: ClaimSource::Session,
        }
    }

    /// The refusal when no live token has the digest: a session says so, so that a person
    /// is told to sign in again.
    fn refusal(&self) -> Error {
        match self.source {
            ClaimSource::Bearer => Error::InvalidToken,
            ClaimSource::Session => Error::InvalidSession,
        }
    }

    /// Reads the token: one store read.
    pub async fn check(self, store: &dyn Store) -> Result<Credentials> {
        match store.token(&self.digest).await? {
            Some(token) => Ok(Credentials::from(token)),
            None => Err(self.refusal()),
        }
    }
}

/// Who the caller says they are: credentials already read (a page, which names its user), or
/// a claim that the call's own read checks.
#[derive(Debug, Clone)]
pub enum Presented {
    Checked(Credentials),
    Claimed(Claim),
}

impl From<Credentials> for Presented {
    fn from(credentials: Credentials) -> Self {
        Presented::Checked(credentials)
    }
}

impl From<Claim> for Presented {
    fn from(claim: Claim) -> Self {
        Presented::Claimed(claim)
    }
}

impl Presented {
    /// The credentials, reading the token if it has not been read.
    pub async fn check(self, store: &dyn Store) -> Result<Credentials> {
        match self {
            Presented::Checked(credentials) => Ok(credentials),
            Presented::Claimed(claim) => claim.check(store).await,
        }
    }

    fn key(&self) -> CallerKey<'_> {
        match self {
            Presented::Checked(credentials) => CallerKey::Name(credentials.name()),
            Presented::Claimed(claim) => CallerKey::Token(&claim.digest),
        }
    }

    /// The caller, with their membership and request, from a context read by [`Self::key`];
    /// the refusal when its token or its user is gone, whatever the repo.
    fn caller_in<R>(self, context: &mut RepoContext<R>) -> Result<CallerWithRecords<R>> {
        let (token, refusal) = match self {
            Presented::Checked(credentials) => (Some(credentials.token), Error::InvalidToken),
            Presented::Claimed(claim) => (context.token.take(), claim.refusal()),
        };
        match (token, context.caller.take()) {
            (Some(token), Some(records)) => Ok((
                Credentials::from(token).caller(records.user),
                records.membership,
                records.request,
            )),
            _ => Err(refusal),
        }
    }
}

type CallerWithRecords<R> = (Caller, Option<OrgRole>, Option<R>);

/// An authenticated caller: a live token and its user.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub token: TokenRecord,
}

impl Caller {
    pub fn name(&self) -> &Name {
        &self.user.name
    }
}

/// Reads `Authorization: Bearer <token>`: one store read, of the token. No header means an
/// anonymous caller; a header that names no live token is refused rather than treated as
/// anonymous.
pub async fn authenticate(
    store: &dyn Store,
    authorization: Option<&str>,
) -> Result<Option<Credentials>> {
    match authorization {
        Some(header) => Claim::bearer(header)?.check(store).await.map(Some),
        None => Ok(None),
    }
}

/// The caller with the organizations they belong to, in the order they joined (whoami).
pub async fn caller_with_orgs(
    store: &dyn Store,
    presented: Presented,
) -> Result<(Caller, Vec<(Organization, OrgRole)>)> {
    let credentials = presented.check(store).await?;
    match store.account(credentials.name()).await? {
        Some(Account { user, orgs }) => Ok((credentials.caller(user), orgs)),
        None => Err(Error::InvalidToken),
    }
}

/// An authenticated caller as one repo sees them: their role through its namespace, and
/// their access request on it (`R`: the whole request, or only its status).
#[derive(Debug, Clone)]
pub struct Viewer<R = AccessRequest> {
    pub caller: Caller,
    pub role: Option<RepoRole>,
    pub request: Option<R>,
}

/// A repo as one caller sees it: the repo, and the caller if they are not anonymous.
#[derive(Debug, Clone)]
pub struct RepoView<R = AccessRequest> {
    pub repo: crate::domain::Repo,
    pub viewer: Option<Viewer<R>>,
}

impl<R: CallerRequest> RepoView<R> {
    pub fn repo_ref(&self) -> &RepoRef {
        &self.repo.repo
    }

    /// The caller's role on the repo; `None` for strangers and anonymous callers.
    pub fn role(&self) -> Option<RepoRole> {
        self.viewer.as_ref().and_then(|viewer| viewer.role)
    }

    /// The caller, unless they are anonymous (401).
    pub fn require_viewer(&self) -> Result<&Viewer<R>> {
        self.viewer.as_ref().ok_or(Error::NotAuthenticated)
    }

    /// Whether the caller may manage requests and settings: a write token AND write or
    /// admin on the repo.
    pub fn can_manage(&self) -> bool {
        self.viewer.as_ref().is_some_and(|viewer| {
            viewer.caller.token.role == TokenRole::Write
                && viewer.role.is_some_and(RepoRole::can_write)
        })
    }

    /// The caller, if they may manage the repo; otherwise why not (401 or 403).
    pub fn require_manager(&self) -> Result<&Caller> {
        let viewer = self.require_viewer()?;
        if !viewer.role.is_some_and(RepoRole::can_write) {
            return Err(Error::Forbidden(format!(
                "You need write access to {} to manage it",
                self.repo_ref()
            )));
        }
        if viewer.caller.token.role != TokenRole::Write {
            return Err(Error::Forbidden(format!(
                "The token '{}' is read-only; managing {} needs a write token",
                viewer.caller.token.display_name,
                self.repo_ref()
            )));
        }
        Ok(&viewer.caller)
    }

    /// Passes if the caller, viewing from `country`, may read the repo's content; otherwise
    /// the gate's refusal.
    pub fn require_content_access(&self, country: Option<Country>) -> Result<()> {
        match decide(self.gate_input(country), || self.card_disallows_eu()) {
            Decision::Allow => Ok(()),
            Decision::Deny(denial) => Err(Error::Gated {
                repo: self.repo_ref().clone(),
                denial,
            }),
        }
    }

    /// What the gate decides on: the repo, the caller's role and request on it, and where
    /// they are.
    pub fn gate_input(&self, country: Option<Country>) -> GateInput {
        GateInput {
            visibility: self.repo.visibility,
            gate: self.repo.gate,
            caller: self.viewer.as_ref().map(|viewer| CallerAccess {
                role: viewer.role,
                request: viewer.request.as_ref().map(R::status),
            }),
            country,
        }
    }

    /// Whether the card sets `extra_gated_eu_disallowed`. A card that cannot be read keeps the
    /// EU out: its owners may have asked for that, they see the card's error in the repo info,
    /// and content served against their will cannot be taken back.
    fn card_disallows_eu(&self) -> bool {
        let Some(front_matter) = self.repo.front_matter.as_deref() else {
            return false;
        };
        crate::card::eu_disallowed_in(front_matter).unwrap_or_else(|error| {
            tracing::warn!(repo = %self.repo_ref(), %error, "unreadable card: the EU is kept out");
            true
        })
    }
}

/// The repo if it exists and the caller may know it does, with what the caller has on it, in
/// one store read. Private repos are visible only within their namespace; everyone else gets
/// the same "not found" as for a missing repo.
pub async fn visible_repo(
    store: &dyn Store,
    presented: Option<Presented>,
    repo: &RepoRef,
) -> Result<RepoView> {
    read_view(store, presented, repo, ContextRead::default())
        .await
        .map(|(view, _)| view)
}

/// [`visible_repo`], and in the same read the request a reviewer names (by its user, with the
/// user's record; or by its id).
pub async fn visible_repo_and_target(
    store: &dyn Store,
    presented: Option<Presented>,
    repo: &RepoRef,
    target: &RequestTarget,
) -> Result<(RepoView, TargetRecords)> {
    let wanted = ContextRead {
        target: Some(target),
        ..ContextRead::default()
    };
    read_view(store, presented, repo, wanted)
        .await
        .map(|(view, context)| (view, context.target))
}

/// [`visible_repo`], and in the same read the file of `main` at `path`, if there is one. The
/// caller's request comes as its status: a download needs no more of it.
pub async fn visible_repo_and_file(
    store: &dyn Store,
    presented: Option<Presented>,
    repo: &RepoRef,
    path: &RepoPath,
) -> Result<(RepoView<RequestStatus>, Option<FileEntry>)> {
    let wanted = ContextRead {
        file: Some(path.as_str()),
        ..ContextRead::default()
    };
    read_view(store, presented, repo, wanted)
        .await
        .map(|(view, context)| (view, context.file))
}

/// [`visible_repo`], and in the same read the README's HTML, if a commit brought one.
pub async fn visible_repo_and_readme(
    store: &dyn Store,
    presented: Option<Presented>,
    repo: &RepoRef,
) -> Result<(RepoView, Option<ReadmeHtml>)> {
    let wanted = ContextRead {
        readme_html: true,
        ..ContextRead::default()
    };
    read_view(store, presented, repo, wanted)
        .await
        .map(|(view, context)| (view, context.readme_html))
}

/// The repo as the caller may see it, and the rest of what `wanted` names, read with it (the
/// caller, by what they presented).
async fn read_view<R: CallerRequest>(
    store: &dyn Store,
    presented: Option<Presented>,
    repo: &RepoRef,
    wanted: ContextRead<'_>,
) -> Result<(RepoView<R>, RepoContext<R>)> {
    let read = ContextRead {
        caller: presented.as_ref().map(Presented::key),
        ..wanted
    };
    let mut context = R::read_context(store, repo, read).await?;
    let caller = match presented {
        Some(presented) => Some(presented.caller_in(&mut context)?),
        None => None,
    };
    let anonymous = caller.is_none();
    let not_found = || Error::RepoNotFound { anonymous };
    let Some(found) = context.repo.take() else {
        return Err(not_found());
    };
    let viewer = caller.map(|(caller, membership, request)| Viewer {
        role: repo_role(caller.name(), &found.owner, membership),
        caller,
        request,
    });
    let view = RepoView {
        repo: found,
        viewer,
    };
    if view.repo.visibility.is_private() && view.role().is_none() {
        return Err(not_found());
    }
    Ok((view, context))
}
