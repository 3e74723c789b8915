//! Telling people about access requests, as the Hub does. A repo reviewed by hand tells its
//! managers about new pending requests: at once ([`alert_new_request`], fed by the store's
//! change feed) or in a daily digest ([`send_digest`]). Who is told: the repo's custom address
//! if it has one; else its owner, for a user's repo; else the first five admins of the
//! organization, in the order they joined ([`recipients`]).
//!
//! Each mail is sent once: a one-time marker in the store is claimed before sending, and given
//! back if the mail fails, so a redelivered change or a rerun sends nothing twice and a
//! failed mail is sent on the retry.

mod alert;
mod changes;
mod digest;
mod mails;
mod stream;

pub use alert::{AlertOutcome, alert_new_request};
pub use changes::announce_changes;
pub use digest::{DigestReport, send_digest};
pub use stream::alert_on_records;

use std::sync::Arc;

use crate::domain::{Email, OrgRole, Repo, Timestamp};
use crate::mail::{MailError, Mailer};
use crate::store::{Store, StoreError, StoreResult};

/// How many of an organization's admins are told, at most.
pub const MAX_ADMIN_RECIPIENTS: usize = 5;

/// How long a sent mail's marker is kept: longer than a stream keeps a record (24 hours) and
/// than anyone would rerun a day's digest.
const MARKER_LIFETIME_MILLIS: i64 = 14 * 24 * 60 * 60 * 1000;

/// What telling people needs: the store, a mailer, and the site's public address for links.
#[derive(Clone)]
pub struct Notifier {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    /// The public base URL of the site, such as `https://hub.example.com`.
    pub site: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Events(#[from] crate::events::EventError),
}

impl Notifier {
    /// Sends `mail` unless the marker `key` was claimed already; false when it was. A mail that
    /// fails gives the marker back, so a retry sends it.
    async fn send_once(&self, key: &str, mail: &crate::mail::Mail) -> Result<bool, NotifyError> {
        let expires = Timestamp::from_millis(Timestamp::now().millis() + MARKER_LIFETIME_MILLIS);
        if !self.store.claim_marker(key, expires).await? {
            return Ok(false);
        }
        if let Err(error) = self.mailer.send(mail).await {
            if let Err(release) = self.store.release_marker(key).await {
                tracing::error!(%key, error = %release, "a failed mail's marker could not be given back; it will not be retried");
            }
            return Err(error.into());
        }
        Ok(true)
    }
}

/// A notifier over `store`, linking to `https://hub.example.com`, whose mail a test reads
/// back from the mailer.
#[cfg(test)]
pub(crate) fn recording(store: Arc<dyn Store>) -> (Notifier, Arc<crate::mail::RecordingMailer>) {
    let mailer = Arc::new(crate::mail::RecordingMailer::default());
    let notifier = Notifier {
        store,
        mailer: mailer.clone(),
        site: "https://hub.example.com".into(),
    };
    (notifier, mailer)
}

/// The addresses to tell about `repo`'s new requests: none when nobody it would go to has an
/// address. Admins without an address are passed over, so they do not take the place of one
/// who can be told.
pub async fn recipients(store: &dyn Store, repo: &Repo) -> StoreResult<Vec<Email>> {
    if let Some(email) = &repo.notifications_email {
        return Ok(vec![email.clone()]);
    }
    if let Some(owner) = store.user(&repo.owner).await? {
        return Ok(owner.email.into_iter().collect());
    }
    let members = store.members(&repo.owner).await?;
    Ok(members
        .into_iter()
        .filter(|member| member.role == OrgRole::Admin)
        .filter_map(|member| member.user.email)
        .take(MAX_ADMIN_RECIPIENTS)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Name, RepoId, RepoRef, RepoType};
    use crate::seed::seeded_sqlite;
    use crate::store::SqliteStore;

    const SEED: &str = "
users:
  - {name: solo, email: solo@example.com}
  - {name: quiet}
  - {name: a1, email: a1@example.com}
  - {name: a2}
  - {name: a3, email: a3@example.com}
  - {name: w1, email: w1@example.com}
  - {name: a4, email: a4@example.com}
  - {name: a5}
  - {name: a6, email: a6@example.com}
  - {name: a7, email: a7@example.com}
  - {name: a8, email: a8@example.com}
orgs:
  - name: org
    members:
      - {user: a1, role: admin}
      - {user: a2, role: admin}
      - {user: a3, role: admin}
      - {user: w1, role: write}
      - {user: a4, role: admin}
      - {user: a5, role: admin}
      - {user: a6, role: admin}
      - {user: a7, role: admin}
      - {user: a8, role: admin}
repos:
  - {id: solo/m, gated: manual}
  - {id: quiet/m, gated: manual}
  - {id: org/m, gated: manual}
  - {id: org/custom, gated: manual, notifications: {email: team@example.com}}
";

    async fn store() -> (SqliteStore, tempfile::TempDir) {
        seeded_sqlite(SEED).await
    }

    async fn told(store: &SqliteStore, id: &str) -> Vec<String> {
        let repo = RepoRef::new(RepoType::Model, RepoId::parse(id).unwrap());
        let repo = store.repo(&repo).await.unwrap().unwrap();
        let emails = recipients(store, &repo).await.unwrap();
        emails.iter().map(|e| e.as_str().to_owned()).collect()
    }

    #[tokio::test]
    async fn a_custom_address_wins_over_the_owners() {
        let (store, _dir) = store().await;
        assert_eq!(told(&store, "org/custom").await, ["team@example.com"]);
    }

    #[tokio::test]
    async fn a_users_repo_tells_its_owner_if_they_have_an_address() {
        let (store, _dir) = store().await;
        assert_eq!(told(&store, "solo/m").await, ["solo@example.com"]);
        assert!(told(&store, "quiet/m").await.is_empty());
    }

    #[tokio::test]
    async fn an_org_repo_tells_the_first_five_admins_with_an_address_in_join_order() {
        let (store, _dir) = store().await;
        // Eight admins, two without an address (a2, a5), and a writer (w1) among them.
        assert_eq!(
            told(&store, "org/m").await,
            [
                "a1@example.com",
                "a3@example.com",
                "a4@example.com",
                "a6@example.com",
                "a7@example.com"
            ]
        );
        // A removed admin is no longer told: the next one in join order takes their place.
        let org = Name::parse("org").unwrap();
        store
            .remove_member(&org, &Name::parse("a3").unwrap())
            .await
            .unwrap();
        assert_eq!(
            told(&store, "org/m").await,
            [
                "a1@example.com",
                "a4@example.com",
                "a6@example.com",
                "a7@example.com",
                "a8@example.com"
            ]
        );
    }
}
