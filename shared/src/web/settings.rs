//! The owners' pages, `/{repo}/settings`: gating, notifications and a check of the card; and
//! `/{repo}/settings/requests/{status}`: the requests in three tabs, each with its actions,
//! and a grant by user name. Only managers (a write token and write access) get them.

use askama::Template;
use http::{Method, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{Chrome, Form, Visit, url_encoded};
use crate::api::{Body, RouteMatch, query, query_value, see_other};
use crate::domain::{GateMode, Name, NotificationsMode, RepoRef, RequestStatus, RequestTarget};
use crate::error::{Error, Result};
use crate::service::access::{self, RequestLines};
use crate::service::identity::{RepoView, visible_repo, visible_repo_and_target};
use crate::service::repos::{REQUESTER_EMAILS, card_view, settings_update};
use crate::store::Cursor;

/// Requests a tab shows at a time.
const PAGE_SIZE: usize = 50;

pub(super) async fn run(visit: &mut Visit<'_>, matched: &RouteMatch) -> Result<Response<Body>> {
    let repo = matched.repo.as_ref().expect("settings routes name a repo");
    let post = visit.request().method() == Method::POST;
    let form = if post {
        let form = Form::read(visit.request())?;
        visit.check_form(&form)?;
        Some(form)
    } else {
        None
    };
    let credentials = visit.caller().await?;
    let on_requests = matched.pattern.contains("/settings/requests");
    match (form, on_requests) {
        (Some(form), true) => review(visit, credentials, repo, &form).await,
        (None, true) => {
            let status = matched.status.expect("the requests tab has a status");
            let view = visible_repo(visit.store(), credentials, repo).await?;
            view.require_manager()?;
            requests_tab(visit, &view, status).await
        }
        (form, false) => {
            let view = visible_repo(visit.store(), credentials, repo).await?;
            view.require_manager()?;
            match form {
                Some(form) => update(visit, &view, &form).await,
                None => {
                    let saved = query(visit.request())?.iter().any(|(k, _)| k == "saved");
                    settings_page(
                        visit,
                        &view,
                        StatusCode::OK,
                        Choices::of(&view),
                        saved,
                        None,
                    )
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "web/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    id: String,
    path: String,
    choices: Choices,
    saved: bool,
    error: Option<String>,
    card: CardCheck,
    report_path: String,
}

/// The settings as the form shows them: stored, or as just submitted.
struct Choices {
    /// (value, label, chosen) for each gating mode.
    gate_modes: Vec<(&'static str, &'static str, bool)>,
    notification_modes: Vec<(&'static str, &'static str, bool)>,
    email: String,
    requester_emails: bool,
}

impl Choices {
    fn new(
        gate: Option<GateMode>,
        notifications: Option<NotificationsMode>,
        email: String,
        requester_emails: bool,
    ) -> Choices {
        Choices {
            gate_modes: [
                (GateMode::Off, "Off: anyone can download"),
                (GateMode::Auto, "Automatic: requests are accepted at once"),
                (GateMode::Manual, "Manual: each request waits for a review"),
            ]
            .into_iter()
            .map(|(mode, label)| (mode.as_str(), label, Some(mode) == gate))
            .collect(),
            notification_modes: [
                (NotificationsMode::Bulk, "A daily digest of new requests"),
                (NotificationsMode::RealTime, "An email for each new request"),
            ]
            .into_iter()
            .map(|(mode, label)| (mode.as_str(), label, Some(mode) == notifications))
            .collect(),
            email,
            requester_emails,
        }
    }

    fn of(view: &RepoView) -> Choices {
        let repo = &view.repo;
        let email = repo
            .notifications_email
            .as_ref()
            .map_or_else(String::new, ToString::to_string);
        Choices::new(
            Some(repo.gate),
            Some(repo.notifications_mode),
            email,
            repo.requester_emails,
        )
    }
}

/// The settings form as the API's settings body, so it goes through the same reading.
fn settings_body(form: &Form) -> Result<Map<String, Value>> {
    let gate = form
        .get("gated")
        .and_then(GateMode::from_stored)
        .ok_or_else(|| Error::BadRequest("Choose how access requests are handled".into()))?;
    let notifications = form
        .get("notifications")
        .and_then(NotificationsMode::parse)
        .ok_or_else(|| Error::BadRequest("Choose how you hear about new requests".into()))?;
    let email = match form.get("email").map(str::trim).unwrap_or("") {
        "" => Value::Null,
        email => json!(email),
    };
    let mut body = Map::new();
    body.insert("gated".into(), gate.to_json());
    body.insert(
        "gatedNotificationsMode".into(),
        json!(notifications.as_str()),
    );
    body.insert("gatedNotificationsEmail".into(), email);
    body.insert(
        REQUESTER_EMAILS.into(),
        json!(form.get("requester_emails").is_some()),
    );
    Ok(body)
}

/// What the card's front matter makes of the gate form: its fields, or why it cannot be read.
struct CardCheck {
    error: Option<String>,
    heading: Option<String>,
    button: Option<String>,
    eu_disallowed: bool,
    fields: Vec<(String, &'static str, String)>,
    has_card: bool,
}

fn card_check(view: &RepoView) -> CardCheck {
    let card = card_view(&view.repo);
    let mut check = CardCheck {
        error: None,
        heading: None,
        button: None,
        eu_disallowed: false,
        fields: Vec::new(),
        has_card: false,
    };
    match card.gate_card {
        Err(error) => check.error = Some(error.to_string()),
        Ok(None) => {}
        Ok(Some(gate)) => {
            check.has_card = true;
            check.heading = gate.heading.clone();
            check.button = Some(gate.button_text().to_owned());
            check.eu_disallowed = gate.eu_disallowed;
            check.fields = gate
                .fields
                .iter()
                .map(|field| {
                    let options = match &field.kind {
                        crate::card::FieldKind::Select { options } => options
                            .iter()
                            .map(|o| o.label.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        _ => String::new(),
                    };
                    (field.label.clone(), field.kind.type_name(), options)
                })
                .collect();
        }
    }
    check
}

fn settings_page(
    visit: &Visit<'_>,
    view: &RepoView,
    status: StatusCode,
    choices: Choices,
    saved: bool,
    error: Option<String>,
) -> Result<Response<Body>> {
    let repo = view.repo_ref();
    let page = SettingsPage {
        chrome: visit.chrome(format!("Settings · {}", repo.id)),
        id: repo.id.to_string(),
        path: repo.web_path(),
        choices,
        saved,
        error,
        card: card_check(view),
        report_path: format!("{}/user-access-request/report", repo.api_path()),
    };
    visit.page(status, &page)
}

/// Saves the settings form through the API's own reading of settings: all or nothing. A
/// refused form comes back with its message and the choices as submitted.
async fn update(visit: &Visit<'_>, view: &RepoView, form: &Form) -> Result<Response<Body>> {
    let saved = match settings_body(form).and_then(|body| settings_update(&body)) {
        Ok(update) => visit
            .store()
            .update_repo_settings(view.repo_ref(), &update)
            .await
            .map_err(Error::from),
        Err(error) => Err(error),
    };
    match saved {
        Ok(_) => see_other(&format!("{}/settings?saved=1", view.repo_ref().web_path())),
        Err(error @ Error::BadRequest(_)) => {
            let (status, _, message) = crate::api::describe(&error, &visit.exchange.base_url);
            let choices = Choices::new(
                form.get("gated").and_then(GateMode::from_stored),
                form.get("notifications").and_then(NotificationsMode::parse),
                form.get("email").unwrap_or("").trim().to_owned(),
                form.get("requester_emails").is_some(),
            );
            settings_page(visit, view, status, choices, false, Some(message))
        }
        Err(error) => Err(error),
    }
}

#[derive(Template)]
#[template(path = "web/requests.html")]
struct RequestsPage {
    chrome: Chrome,
    id: String,
    path: String,
    tab: &'static str,
    tabs: Vec<(&'static str, &'static str, bool)>,
    gated: bool,
    rows: Vec<RequestRow>,
    next: Option<String>,
}

struct RequestRow {
    lines: RequestLines,
    reason: Option<String>,
    /// The reviews this request can take from its status: (status, button).
    actions: Vec<(&'static str, &'static str)>,
}

async fn requests_tab(
    visit: &Visit<'_>,
    view: &RepoView,
    status: RequestStatus,
) -> Result<Response<Body>> {
    let repo = view.repo_ref();
    let gated = view.repo.gate.is_gated();
    let cursor = query_value(&query(visit.request())?, "cursor").map(|c| Cursor::from_client(&c));
    let page = visit
        .store()
        .list_requests(repo, Some(status), cursor.as_ref(), PAGE_SIZE)
        .await?;
    let rows = page
        .items
        .iter()
        .map(|request| RequestRow {
            lines: RequestLines::new(request),
            reason: request.state.rejection_reason().map(str::to_owned),
            actions: match status {
                RequestStatus::Pending => vec![("accepted", "Accept"), ("rejected", "Reject")],
                RequestStatus::Accepted => {
                    vec![("rejected", "Reject"), ("pending", "Back to pending")]
                }
                RequestStatus::Rejected => {
                    vec![("accepted", "Accept"), ("pending", "Back to pending")]
                }
            },
        })
        .collect();
    let tab = status.as_str();
    let page = RequestsPage {
        chrome: visit.chrome(format!("Access requests · {}", repo.id)),
        id: repo.id.to_string(),
        path: repo.web_path(),
        tab,
        tabs: [
            ("pending", "Pending"),
            ("accepted", "Accepted"),
            ("rejected", "Rejected"),
        ]
        .into_iter()
        .map(|(key, label)| (key, label, key == tab))
        .collect(),
        gated,
        rows,
        next: page
            .next
            .map(|next| format!("?cursor={}", url_encoded(next.as_str()))),
    };
    visit.page(StatusCode::OK, &page)
}

/// A review or a grant from the requests page, through the API's use cases; back to the tab.
async fn review(
    visit: &Visit<'_>,
    credentials: Option<crate::service::identity::Presented>,
    repo: &RepoRef,
    form: &Form,
) -> Result<Response<Body>> {
    let text = form.get("user").unwrap_or("").trim();
    let user = match Name::parse(text) {
        Ok(user) => user,
        // Who is asking is checked before what they sent, as everywhere else.
        Err(error) => {
            let view = visible_repo(visit.store(), credentials, repo).await?;
            view.require_manager()?;
            let shown: String = text.chars().take(100).collect();
            return Err(Error::BadRequest(format!(
                "'{shown}' is not a user name: {error}"
            )));
        }
    };
    let target = RequestTarget::User(user.clone());
    let (view, found) = visible_repo_and_target(visit.store(), credentials, repo, &target).await?;
    let reviewer = view.require_manager()?;
    let action = form.get("action").unwrap_or("");
    let back_to = match action {
        "grant" => {
            access::grant(visit.store(), reviewer, &view, &user, found).await?;
            RequestStatus::Accepted
        }
        status => {
            let status: RequestStatus = status.parse().map_err(Error::BadRequest)?;
            let reason = form
                .get("reason")
                .map(str::trim)
                .filter(|reason| !reason.is_empty())
                .map(str::to_owned);
            access::review(
                visit.store(),
                reviewer,
                &view,
                &target,
                found,
                status,
                reason,
            )
            .await?;
            form.get("tab")
                .and_then(|tab| tab.parse().ok())
                .unwrap_or(RequestStatus::Pending)
        }
    };
    see_other(&format!(
        "{}/settings/requests/{}",
        repo.web_path(),
        back_to.as_str()
    ))
}
