//! The daily digest: for each repo reviewed by hand whose managers chose a daily digest, one
//! mail listing the requests that became pending on a day and are pending still. It reads
//! those requests (one index of pending requests by day) and their repos, never every repo.

use std::collections::HashMap;

use super::{Notifier, NotifyError, mails, recipients};
use crate::domain::{AccessRequest, Day, GateMode, NotificationsMode, RepoRef};

/// What a digest run did, repo by repo.
#[derive(Debug, Default)]
pub struct DigestReport {
    /// Repos whose managers got their digest in this run.
    pub sent: Vec<RepoRef>,
    /// Repos whose digest for the day went out in an earlier run.
    pub already_sent: Vec<RepoRef>,
    /// Repos with new requests that get no digest (automatic, real-time, no address).
    pub not_called_for: Vec<RepoRef>,
    /// Repos whose digest failed; a rerun for the same day sends these and only these.
    pub failed: Vec<(RepoRef, NotifyError)>,
}

/// Sends the digest of `day`. A failure on one repo does not stop the others; the store
/// failing to list the day's requests stops the run.
pub async fn send_digest(notifier: &Notifier, day: Day) -> Result<DigestReport, NotifyError> {
    let pending = notifier.store.pending_on(day).await?;
    let mut report = DigestReport::default();
    for (repo, requests) in by_repo(&pending) {
        match digest_of_repo(notifier, day, &repo, &requests).await {
            Ok(Some(true)) => report.sent.push(repo),
            Ok(Some(false)) => report.already_sent.push(repo),
            Ok(None) => report.not_called_for.push(repo),
            Err(error) => report.failed.push((repo, error)),
        }
    }
    Ok(report)
}

/// The requests grouped by repo, repos in the order of their first request.
fn by_repo(requests: &[AccessRequest]) -> Vec<(RepoRef, Vec<&AccessRequest>)> {
    let mut groups: Vec<(RepoRef, Vec<&AccessRequest>)> = Vec::new();
    let mut position: HashMap<&RepoRef, usize> = HashMap::new();
    for request in requests {
        let at = *position.entry(&request.repo).or_insert_with(|| {
            groups.push((request.repo.clone(), Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push(request);
    }
    groups
}

/// `Some(true)` sent, `Some(false)` sent before, `None` when the repo gets no digest.
async fn digest_of_repo(
    notifier: &Notifier,
    day: Day,
    repo: &RepoRef,
    requests: &[&AccessRequest],
) -> Result<Option<bool>, NotifyError> {
    let Some(stored) = notifier.store.repo(repo).await? else {
        return Ok(None);
    };
    if stored.gate != GateMode::Manual || stored.notifications_mode != NotificationsMode::Bulk {
        return Ok(None);
    }
    let to = recipients(notifier.store.as_ref(), &stored).await?;
    if to.is_empty() {
        return Ok(None);
    }
    let mail = mails::digest(to, &notifier.site, repo, day, requests)?;
    let marker = format!("digest#{day}#{}#{}", repo.repo_type.as_str(), repo.id);
    Ok(Some(notifier.send_once(&marker, &mail).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::RecordingMailer;
    use crate::seed::seeded_sqlite;
    use std::sync::Arc;

    use crate::store::SqliteStore;

    const SEED: &str = "
users:
  - {name: owner, email: owner@example.com}
  - {name: a1, email: a1@example.com}
  - {name: a2, email: a2@example.com}
  - {name: r1, email: r1@example.com}
  - {name: r2}
  - {name: r3}
  - {name: r4}
orgs:
  - name: org
    members: [{user: a1, role: admin}, {user: a2, role: admin}]
repos:
  - {id: owner/m, gated: manual}
  - {id: org/d, type: dataset, gated: manual}
  - {id: org/live, gated: manual, notifications: {mode: realtime}}
  - {id: org/custom, gated: manual, notifications: {email: team@example.com}}
  - {id: owner/auto, gated: auto}
requests:
  - {repo: owner/m, user: r2, status: pending, time: '2026-03-02T23:59:59.999Z'}
  - {repo: owner/m, user: r1, status: pending, time: '2026-03-02T09:00:00.000Z'}
  - {repo: owner/m, user: r3, status: pending, time: '2026-03-03T00:00:00.000Z'}
  - {repo: owner/m, user: r4, status: accepted, time: '2026-03-02T10:00:00.000Z'}
  - {repo: org/d, type: dataset, user: r1, status: pending, time: '2026-03-02T11:00:00.000Z'}
  - {repo: org/live, user: r1, status: pending, time: '2026-03-02T12:00:00.000Z'}
  - {repo: org/custom, user: r2, status: pending, time: '2026-03-02T13:00:00.000Z'}
  - {repo: owner/auto, user: r1, status: accepted, time: '2026-03-02T14:00:00.000Z'}
";

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    fn notifier(store: &SqliteStore) -> (Notifier, Arc<RecordingMailer>) {
        super::super::recording(Arc::new(store.clone()))
    }

    fn names(repos: &[RepoRef]) -> Vec<String> {
        repos.iter().map(ToString::to_string).collect()
    }

    /// Each mail as its recipients and subject.
    fn mails(mailer: &RecordingMailer) -> Vec<(Vec<String>, String)> {
        let sent = mailer.sent().into_iter();
        sent.map(|mail| {
            let to = mail.to.iter().map(|e| e.as_str().to_owned()).collect();
            (to, mail.subject)
        })
        .collect()
    }

    #[tokio::test]
    async fn each_digest_repo_with_new_pending_requests_gets_one_mail_for_the_day() {
        let (store, _dir) = seeded_sqlite(SEED).await;
        let (notifier, mailer) = notifier(&store);

        let report = send_digest(&notifier, day("2026-03-02")).await.unwrap();
        assert_eq!(
            names(&report.sent),
            ["model owner/m", "dataset org/d", "model org/custom"]
        );
        assert_eq!(names(&report.not_called_for), ["model org/live"]);
        assert!(report.failed.is_empty() && report.already_sent.is_empty());
        let expected = [
            (
                vec!["owner@example.com".to_owned()],
                "2 new access requests to owner/m on 2026-03-02",
            ),
            (
                vec!["a1@example.com".to_owned(), "a2@example.com".to_owned()],
                "1 new access request to org/d on 2026-03-02",
            ),
            (
                vec!["team@example.com".to_owned()],
                "1 new access request to org/custom on 2026-03-02",
            ),
        ];
        let expected: Vec<_> = expected
            .into_iter()
            .map(|(to, s)| (to, s.to_owned()))
            .collect();
        assert_eq!(mails(&mailer), expected);

        // The owner's mail lists the day's two requests, oldest first, and not the accepted
        // one nor the next day's.
        let text = &mailer.sent()[0].text;
        let (r1, r2) = (
            text.find("User:      r1").unwrap(),
            text.find("User:      r2").unwrap(),
        );
        assert!(r1 < r2, "{text}");
        assert!(!text.contains("r3") && !text.contains("r4"), "{text}");
        assert!(
            text.contains("https://hub.example.com/owner/m/settings"),
            "{text}"
        );
        assert!(
            mailer.sent()[1]
                .text
                .contains("https://hub.example.com/datasets/org/d/settings")
        );
    }

    #[tokio::test]
    async fn a_day_already_sent_sends_nothing_again_and_the_next_day_has_its_own() {
        let (store, _dir) = seeded_sqlite(SEED).await;
        let (notifier, mailer) = notifier(&store);
        send_digest(&notifier, day("2026-03-02")).await.unwrap();

        let rerun = send_digest(&notifier, day("2026-03-02")).await.unwrap();
        assert!(rerun.sent.is_empty());
        assert_eq!(rerun.already_sent.len(), 3);
        assert_eq!(mailer.sent().len(), 3);

        let next = send_digest(&notifier, day("2026-03-03")).await.unwrap();
        assert_eq!(names(&next.sent), ["model owner/m"]);
        assert_eq!(
            mails(&mailer)[3].1,
            "1 new access request to owner/m on 2026-03-03"
        );
        let quiet = send_digest(&notifier, day("2026-03-04")).await.unwrap();
        assert!(quiet.sent.is_empty() && quiet.not_called_for.is_empty());
    }

    #[tokio::test]
    async fn a_repo_whose_mail_failed_gets_it_on_the_rerun_and_the_others_not_twice() {
        let (store, _dir) = seeded_sqlite(SEED).await;
        let (notifier, mailer) = notifier(&store);
        mailer.refuse("team@example.com");
        let report = send_digest(&notifier, day("2026-03-02")).await.unwrap();
        assert_eq!(report.sent.len(), 2);
        assert_eq!(report.failed.len(), 1);
        assert_eq!(report.failed[0].0.to_string(), "model org/custom");

        mailer.accept_all();
        let rerun = send_digest(&notifier, day("2026-03-02")).await.unwrap();
        assert_eq!(names(&rerun.sent), ["model org/custom"]);
        assert_eq!(rerun.already_sent.len(), 2);
        assert_eq!(mailer.sent().len(), 3);
    }
}
