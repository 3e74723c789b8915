//! The notification mails, each in plain text and in HTML, from the templates under
//! `shared/templates/mail/`. The HTML ones escape every value, so nothing a requester typed
//! becomes markup; lettre keeps it out of the headers.

use askama::Template;

use crate::domain::{AccessRequest, Day, Email, RepoRef};
use crate::mail::{Mail, MailError};
use crate::service::access::RequestLines;

#[derive(Template)]
#[template(path = "mail/new_request.txt")]
struct NewRequestText<'a> {
    repo: &'a RepoRef,
    request: &'a RequestLines,
    review_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/new_request.html")]
struct NewRequestHtml<'a> {
    repo: &'a RepoRef,
    request: &'a RequestLines,
    review_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/digest.txt")]
struct DigestText<'a> {
    repo: &'a RepoRef,
    day: Day,
    requests: &'a [RequestLines],
    review_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/digest.html")]
struct DigestHtml<'a> {
    repo: &'a RepoRef,
    day: Day,
    requests: &'a [RequestLines],
    review_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/decision.txt")]
struct DecisionText<'a> {
    headline: &'a str,
    reason: Option<&'a str>,
    accepted: bool,
    repo: &'a RepoRef,
    repo_id: String,
    repo_flag: &'a str,
    repo_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/decision.html")]
struct DecisionHtml<'a> {
    headline: &'a str,
    reason: Option<&'a str>,
    accepted: bool,
    repo: &'a RepoRef,
    repo_id: String,
    repo_flag: &'a str,
    repo_url: &'a str,
}

/// Where a repo's managers review its requests: the pending tab of its requests page.
pub(super) fn review_url(site: &str, repo: &RepoRef) -> String {
    format!(
        "{}{}/settings/requests/pending",
        site.trim_end_matches('/'),
        repo.web_path()
    )
}

/// The real-time alert of one new pending request.
pub(super) fn new_request(
    to: Vec<Email>,
    site: &str,
    request: &AccessRequest,
) -> Result<Mail, MailError> {
    let (repo, lines) = (&request.repo, RequestLines::new(request));
    let review_url = review_url(site, repo);
    Ok(Mail {
        to,
        subject: format!("New access request to {} from {}", repo.id, request.user),
        text: render(&NewRequestText {
            repo,
            request: &lines,
            review_url: &review_url,
        })?,
        html: render(&NewRequestHtml {
            repo,
            request: &lines,
            review_url: &review_url,
        })?,
    })
}

/// One repo's daily digest: the requests that became pending on `day`.
pub(super) fn digest(
    to: Vec<Email>,
    site: &str,
    repo: &RepoRef,
    day: Day,
    requests: &[&AccessRequest],
) -> Result<Mail, MailError> {
    let lines: Vec<_> = requests.iter().map(|r| RequestLines::new(r)).collect();
    let review_url = review_url(site, repo);
    let count = match lines.len() {
        1 => "1 new access request".to_owned(),
        n => format!("{n} new access requests"),
    };
    Ok(Mail {
        to,
        subject: format!("{count} to {} on {day}", repo.id),
        text: render(&DigestText {
            repo,
            day,
            requests: &lines,
            review_url: &review_url,
        })?,
        html: render(&DigestHtml {
            repo,
            day,
            requests: &lines,
            review_url: &review_url,
        })?,
    })
}

fn render(template: &impl Template) -> Result<String, MailError> {
    template
        .render()
        .map_err(|e| MailError::Build(e.to_string()))
}

/// What a requester is told about their request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decision<'a> {
    Accepted,
    Rejected {
        reason: Option<&'a str>,
    },
    /// A manager gave access without a request.
    Granted,
}

/// The mail to a requester about a decision on their request.
pub(super) fn decision(
    to: Email,
    site: &str,
    repo: &RepoRef,
    decision: Decision<'_>,
) -> Result<Mail, MailError> {
    let (subject, headline, reason) = match decision {
        Decision::Accepted => (
            format!("Your request to access {} was accepted", repo.id),
            format!("Your request to access {repo} was accepted: you can now download its files."),
            None,
        ),
        Decision::Rejected { reason } => (
            format!("Your request to access {} was rejected", repo.id),
            format!("Your request to access {repo} was rejected."),
            reason,
        ),
        Decision::Granted => (
            format!("You were given access to {}", repo.id),
            format!("A manager of {repo} gave you access: you can now download its files."),
            None,
        ),
    };
    let accepted = decision != Decision::Rejected { reason };
    let repo_url = format!("{}{}", site.trim_end_matches('/'), repo.web_path());
    let repo_flag = match repo.repo_type {
        crate::domain::RepoType::Model => "",
        crate::domain::RepoType::Dataset => "--repo-type dataset",
        crate::domain::RepoType::Space => "--repo-type space",
    };
    let (repo_id, repo_url) = (repo.id.to_string(), repo_url.as_str());
    Ok(Mail {
        to: vec![to],
        subject,
        text: render(&DecisionText {
            headline: &headline,
            reason,
            accepted,
            repo,
            repo_id: repo_id.clone(),
            repo_flag,
            repo_url,
        })?,
        html: render(&DecisionHtml {
            headline: &headline,
            reason,
            accepted,
            repo,
            repo_id,
            repo_flag,
            repo_url,
        })?,
    })
}
