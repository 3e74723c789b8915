//! Who is calling, and what they may do to a repo.

use crate::domain::{
    CallerAccess, Country, Decision, GateInput, Name, RepoRef, RepoRole, RequestStatus, TokenRole,
    TokenSecret, User, decide, repo_role,
};
use crate::error::{Error, Result};
use crate::store::{Store, TokenRecord};

/// An authenticated caller: the user and the token they presented.
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

/// Reads `Authorization: Bearer <token>`. No header means an anonymous caller; a header
/// that names no live token is refused rather than treated as anonymous.
pub async fn authenticate(
    store: &dyn Store,
    authorization: Option<&str>,
) -> Result<Option<Caller>> {
    let Some(header) = authorization else {
        return Ok(None);
    };
    let secret = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .and_then(|(_, secret)| TokenSecret::parse(secret.trim()).ok())
        .ok_or(Error::InvalidToken)?;
    let token = store
        .token(&secret.digest())
        .await?
        .ok_or(Error::InvalidToken)?;
    let user = store.user(&token.user).await?.ok_or(Error::InvalidToken)?;
    Ok(Some(Caller { user, token }))
}

/// A repo as one caller sees it: the repo and the caller's role on it.
#[derive(Debug, Clone)]
pub struct RepoView {
    pub repo: crate::domain::Repo,
    pub role: Option<RepoRole>,
}

impl RepoView {
    pub fn repo_ref(&self) -> &RepoRef {
        &self.repo.repo
    }

    /// Whether the caller may manage requests and settings: a write token AND write or
    /// admin on the repo.
    pub fn can_manage(&self, caller: Option<&Caller>) -> bool {
        caller.is_some_and(|c| c.token.role == TokenRole::Write)
            && self.role.is_some_and(RepoRole::can_write)
    }

    /// The caller, if they may manage the repo; otherwise why not (401 or 403).
    pub fn require_manager<'c>(&self, caller: Option<&'c Caller>) -> Result<&'c Caller> {
        let caller = caller.ok_or(Error::NotAuthenticated)?;
        if !self.role.is_some_and(RepoRole::can_write) {
            return Err(Error::Forbidden(format!(
                "You need write access to {} to manage it",
                self.repo_ref()
            )));
        }
        if caller.token.role != TokenRole::Write {
            return Err(Error::Forbidden(format!(
                "The token '{}' is read-only; managing {} needs a write token",
                caller.token.display_name,
                self.repo_ref()
            )));
        }
        Ok(caller)
    }

    /// Passes if the caller, viewing from `country`, may read the repo's content; otherwise
    /// the gate's refusal.
    pub async fn require_content_access(
        &self,
        store: &dyn Store,
        caller: Option<&Caller>,
        country: Option<Country>,
    ) -> Result<()> {
        let needs_request = self.repo.gate.is_gated() && self.role.is_none();
        let request = match caller {
            Some(caller) if needs_request => store
                .access_request(self.repo_ref(), caller.name())
                .await?
                .map(|r| r.status()),
            _ => None,
        };
        let input = self.gate_input(caller, request, country);
        match decide(input, || self.card_disallows_eu()) {
            Decision::Allow => Ok(()),
            Decision::Deny(denial) => Err(Error::Gated {
                repo: self.repo_ref().clone(),
                denial,
            }),
        }
    }

    /// What the gate decides on: the repo, the caller's role and request on it, and where
    /// they are.
    pub fn gate_input(
        &self,
        caller: Option<&Caller>,
        request: Option<RequestStatus>,
        country: Option<Country>,
    ) -> GateInput {
        GateInput {
            visibility: self.repo.visibility,
            gate: self.repo.gate,
            caller: caller.map(|_| CallerAccess {
                role: self.role,
                request,
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

/// The repo if it exists and the caller may know it does: private repos are visible only
/// within their namespace. Everyone else gets the same "not found" as for a missing repo.
pub async fn visible_repo(
    store: &dyn Store,
    caller: Option<&Caller>,
    repo: &RepoRef,
) -> Result<RepoView> {
    let not_found = || Error::RepoNotFound {
        anonymous: caller.is_none(),
    };
    let found = store.repo(repo).await?.ok_or_else(not_found)?;
    let role = match caller {
        Some(caller) if caller.name() == &found.owner => {
            repo_role(caller.name(), &found.owner, None)
        }
        Some(caller) => {
            let membership = store.member_role(&found.owner, caller.name()).await?;
            repo_role(caller.name(), &found.owner, membership)
        }
        None => None,
    };
    if found.visibility.is_private() && role.is_none() {
        return Err(not_found());
    }
    Ok(RepoView { repo: found, role })
}
