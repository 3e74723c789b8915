//! The real-time alert: one mail per request that became pending in a repo reviewed by hand
//! whose managers chose real-time notifications.

use super::{Notifier, NotifyError, mails, recipients};
use crate::domain::{AccessRequest, GateMode, NotificationsMode, RequestStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertOutcome {
    Sent,
    /// This version of the request was alerted on before (a redelivered change).
    AlreadySent,
    /// Nobody is to be told, and why.
    NotCalledFor(&'static str),
}

/// Tells `request`'s repo's managers about it, if the repo, as it is now, asks for that. The
/// request is the one the change carried; the repo is read again, since its settings may have
/// changed since.
pub async fn alert_new_request(
    notifier: &Notifier,
    request: &AccessRequest,
) -> Result<AlertOutcome, NotifyError> {
    use AlertOutcome::NotCalledFor;
    if request.status() != RequestStatus::Pending {
        return Ok(NotCalledFor("the request is not pending"));
    }
    let Some(repo) = notifier.store.repo(&request.repo).await? else {
        return Ok(NotCalledFor("the repo no longer exists"));
    };
    if repo.gate != GateMode::Manual {
        return Ok(NotCalledFor("the repo's requests are not reviewed by hand"));
    }
    if repo.notifications_mode != NotificationsMode::RealTime {
        return Ok(NotCalledFor("the repo's managers chose the daily digest"));
    }
    let to = recipients(notifier.store.as_ref(), &repo).await?;
    if to.is_empty() {
        return Ok(NotCalledFor("nobody to tell has an email address"));
    }
    let mail = mails::new_request(to, &notifier.site, request)?;
    let marker = format!("alert#{}#{}", request.id, request.version);
    Ok(match notifier.send_once(&marker, &mail).await? {
        true => AlertOutcome::Sent,
        false => AlertOutcome::AlreadySent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Name, RepoId, RepoRef, RepoType};
    use crate::mail::RecordingMailer;
    use crate::seed::seeded_sqlite;
    use std::sync::Arc;

    use crate::store::{SqliteStore, Store};

    const SEED: &str = r#"
users:
  - {name: owner, email: owner@example.com}
  - {name: rafael, fullname: "Rafael <b>N</b>", email: rafael@example.com}
repos:
  - id: owner/live
    gated: manual
    notifications: {mode: realtime}
    readme: "---\nextra_gated_fields:\n  Company: text\n  I agree: checkbox\n---\n"
  - {id: owner/daily, gated: manual}
  - {id: owner/auto, gated: auto, notifications: {mode: realtime}}
requests:
  - {repo: owner/live, user: rafael, status: pending, time: '2026-03-02T10:00:00.000Z', fields: {Company: "ACME <script>", I agree: true}}
  - {repo: owner/daily, user: rafael, status: pending, time: '2026-03-02T10:00:00.000Z'}
  - {repo: owner/auto, user: rafael, status: accepted, time: '2026-03-02T10:00:00.000Z'}
"#;

    async fn request_on(store: &SqliteStore, repo: &str) -> AccessRequest {
        let repo = RepoRef::new(RepoType::Model, RepoId::parse(repo).unwrap());
        let user = Name::parse("rafael").unwrap();
        store.access_request(&repo, &user).await.unwrap().unwrap()
    }

    fn notifier(store: &SqliteStore) -> (Notifier, Arc<RecordingMailer>) {
        super::super::recording(Arc::new(store.clone()))
    }

    #[tokio::test]
    async fn a_new_pending_request_to_a_real_time_repo_is_mailed_to_its_managers_once() {
        let (store, _dir) = seeded_sqlite(SEED).await;
        let (notifier, mailer) = notifier(&store);
        let request = request_on(&store, "owner/live").await;

        let outcome = alert_new_request(&notifier, &request).await;
        assert_eq!(outcome.unwrap(), AlertOutcome::Sent);
        let again = alert_new_request(&notifier, &request).await;
        assert_eq!(again.unwrap(), AlertOutcome::AlreadySent);

        let sent = mailer.sent();
        assert_eq!(sent.len(), 1);
        let mail = &sent[0];
        assert_eq!(mail.to.len(), 1);
        assert_eq!(mail.to[0].as_str(), "owner@example.com");
        assert_eq!(mail.subject, "New access request to owner/live from rafael");
        for part in [&mail.text, &mail.html] {
            assert!(part.contains("rafael@example.com"), "{part}");
            assert!(part.contains("2026-03-02T10:00:00.000Z"), "{part}");
            assert!(
                part.contains("https://hub.example.com/owner/live/settings/requests/pending"),
                "{part}"
            );
        }
        assert!(
            mail.text.contains("Company: ACME <script>"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("I agree: yes"), "{}", mail.text);
        assert!(
            mail.text.contains("Full name: Rafael <b>N</b>"),
            "{}",
            mail.text
        );
        // In HTML, what the requester typed is text, never markup.
        assert!(
            mail.html.contains("ACME &#60;script&#62;")
                || mail.html.contains("ACME &lt;script&gt;"),
            "{}",
            mail.html
        );
        assert!(
            !mail.html.contains("<script>") && !mail.html.contains("<b>N</b>"),
            "{}",
            mail.html
        );
    }

    #[tokio::test]
    async fn a_new_version_of_the_request_is_a_new_alert() {
        let (store, _dir) = seeded_sqlite(SEED).await;
        let (notifier, mailer) = notifier(&store);
        let mut request = request_on(&store, "owner/live").await;
        alert_new_request(&notifier, &request).await.unwrap();
        request.version += 1;
        let outcome = alert_new_request(&notifier, &request).await;
        assert_eq!(outcome.unwrap(), AlertOutcome::Sent);
        assert_eq!(mailer.sent().len(), 2);
    }

    #[tokio::test]
    async fn digest_repos_automatic_repos_and_settled_requests_get_no_alert() {
        let (store, _dir) = seeded_sqlite(SEED).await;
        let (notifier, mailer) = notifier(&store);
        for repo in ["owner/daily", "owner/auto"] {
            let request = request_on(&store, repo).await;
            let outcome = alert_new_request(&notifier, &request).await;
            assert!(
                matches!(outcome.unwrap(), AlertOutcome::NotCalledFor(_)),
                "{repo}"
            );
        }
        let mut settled = request_on(&store, "owner/live").await;
        settled = settled
            .reviewed(
                RequestStatus::Accepted,
                &Name::parse("owner").unwrap(),
                None,
                settled.updated_at,
            )
            .unwrap();
        let outcome = alert_new_request(&notifier, &settled).await;
        assert!(matches!(outcome.unwrap(), AlertOutcome::NotCalledFor(_)));
        assert!(mailer.sent().is_empty());
    }

    #[tokio::test]
    async fn a_mail_that_fails_is_sent_on_the_retry() {
        let (store, _dir) = seeded_sqlite(SEED).await;
        let (notifier, mailer) = notifier(&store);
        let request = request_on(&store, "owner/live").await;
        mailer.refuse("owner@example.com");
        let failed = alert_new_request(&notifier, &request).await;
        assert!(matches!(failed, Err(NotifyError::Mail(_))));
        mailer.accept_all();
        let retried = alert_new_request(&notifier, &request).await;
        assert_eq!(retried.unwrap(), AlertOutcome::Sent);
        assert_eq!(mailer.sent().len(), 1);
    }
}
