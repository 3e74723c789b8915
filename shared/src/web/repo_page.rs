//! `/{repo}` (and `/datasets/…`, `/spaces/…`): the card, the files for those the gate lets in,
//! and for everyone else the gate: the card's form, or the state of their request. The form
//! posts to `/{repo}/ask-access`, the API's route, through the same validation.

use askama::Template;
use http::{Method, Response, StatusCode};
use serde_json::{Map, Value};

use super::{Chrome, Form, Visit};
use crate::api::{Body, Exchange, RouteMatch, see_other};
use crate::card::{AnswerErrors, FieldKind, GateCard, countries, default_button_content};
use crate::domain::{Denial, ReadmeBody, ReadmeHtml, RepoRef, RepoRole, RequestStatus};
use crate::error::{Error, Result};
use crate::service::access;
use crate::service::identity::{RepoView, visible_repo, visible_repo_and_readme};
use crate::store::FileEntry;

/// The most files the page lists.
const MAX_LISTED_FILES: usize = 1000;

pub(super) async fn run(visit: &mut Visit<'_>, matched: &RouteMatch) -> Result<Response<Body>> {
    let repo = matched.repo.as_ref().expect("page routes name a repo");
    if visit.request().method() == Method::POST {
        return withdraw(visit, repo).await;
    }
    let credentials = visit.caller().await?;
    let (view, readme) = visible_repo_and_readme(visit.store(), credentials, repo).await?;
    let page = RepoPage::build(visit, &view, readme, None).await?;
    visit.page(StatusCode::OK, &page)
}

/// `POST /{repo}/ask-access` from the gate's form, signed in with a session: a redirect to the
/// repo page, or the page again with each refused answer next to its field.
pub(crate) async fn ask_access(exchange: &Exchange<'_>, repo: &RepoRef) -> Response<Body> {
    let mut visit = Visit::start(exchange);
    let answer = ask(&mut visit, repo).await;
    visit.answer(answer)
}

async fn ask(visit: &mut Visit<'_>, repo: &RepoRef) -> Result<Response<Body>> {
    let form = Form::read(visit.request())?;
    visit.check_form(&form)?;
    let credentials = visit.caller().await?;
    let (view, readme) = visible_repo_and_readme(visit.store(), credentials, repo).await?;
    let viewer = view.require_viewer()?;
    let card = access::gate_card(&view)?;
    let submitted = answers_of(&card, &form);
    let country = visit.exchange.viewer_country();
    match access::ask(visit.store(), viewer, &view, country, &submitted).await {
        Ok(_) => see_other(&repo.web_path()),
        Err(error) => {
            let Error::InvalidAnswers(errors) = &error else {
                return Err(error);
            };
            let (status, _, _) = crate::api::describe(&error, &visit.exchange.base_url);
            let refused = Refused {
                submitted: &submitted,
                errors,
            };
            let page = RepoPage::build(visit, &view, readme, Some(refused)).await?;
            visit.page(status, &page)
        }
    }
}

/// The form's answers by field label. Inputs are named by position (`field-0`, …) rather than
/// by label, so no label can collide with the CSRF field or need escaping in a name.
fn answers_of(card: &GateCard, form: &Form) -> Map<String, Value> {
    card.fields
        .iter()
        .enumerate()
        .filter_map(|(index, field)| {
            let answer = form.get(&field_name(index))?;
            Some((field.label.clone(), Value::String(answer.to_owned())))
        })
        .collect()
}

fn field_name(index: usize) -> String {
    format!("field-{index}")
}

async fn withdraw(visit: &mut Visit<'_>, repo: &RepoRef) -> Result<Response<Body>> {
    let form = Form::read(visit.request())?;
    visit.check_form(&form)?;
    let credentials = visit.caller().await?;
    let view = visible_repo(visit.store(), credentials, repo).await?;
    let viewer = view.require_viewer()?;
    access::withdraw(visit.store(), viewer, &view).await?;
    see_other(&repo.web_path())
}

/// A submission the gate refused, to show again with its errors.
struct Refused<'s> {
    submitted: &'s Map<String, Value>,
    errors: &'s AnswerErrors,
}

#[derive(Template)]
#[template(path = "web/repo.html")]
struct RepoPage {
    chrome: Chrome,
    kind: &'static str,
    id: String,
    path: String,
    gated: bool,
    /// The settings page, for those with write access to the repo.
    settings_path: Option<String>,
    readme: ReadmeBody,
    /// The files, for those the gate lets in.
    files: Option<Vec<FileRow>>,
    more_files: usize,
    gate: Option<Gate>,
}

struct FileRow {
    path: String,
    size: String,
    href: String,
}

/// The gate as this caller meets it.
struct Gate {
    heading: String,
    state: GateState,
}

enum GateState {
    /// Anonymous: sign in first.
    SignIn,
    /// Access through the repo's namespace.
    Member,
    Form(Box<GateForm>),
    Pending,
    Accepted,
    Rejected {
        reason: Option<String>,
    },
    /// `extra_gated_eu_disallowed`, and the caller is in the EU.
    Unavailable {
        message: String,
    },
    /// The card cannot be read: nobody can ask until the owners fix it.
    Broken {
        message: String,
    },
}

struct GateForm {
    description: Option<String>,
    prompt: Option<Prompt>,
    username: String,
    fullname: String,
    email: String,
    fields: Vec<FieldInput>,
    /// Errors not about one field.
    errors: Vec<String>,
    button: String,
}

enum Prompt {
    Html(String),
    /// A card committed before READMEs were rendered on commit: shown as plain text until
    /// the next commit of README.md renders it.
    Text(String),
}

struct FieldInput {
    name: String,
    label: String,
    kind: &'static str,
    value: String,
    options: Vec<Choice>,
    error: Option<String>,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

impl RepoPage {
    /// The card is shown to everyone who may see the repo, as on the Hub; only the files are
    /// behind the gate.
    async fn build(
        visit: &Visit<'_>,
        view: &RepoView,
        readme: Option<ReadmeHtml>,
        refused: Option<Refused<'_>>,
    ) -> Result<RepoPage> {
        let repo = view.repo_ref();
        let country = visit.exchange.viewer_country();
        let readable = view.require_content_access(country);
        let files = match readable {
            Ok(()) => Some(visit.store().files(repo).await?),
            Err(_) => None,
        };
        let ReadmeHtml { body, prompt } = readme.unwrap_or_default();
        let gate = if view.repo.gate.is_gated() {
            Some(gate(visit, view, readable.err(), prompt, refused))
        } else {
            None
        };
        let rows = files.as_deref().map(|files| {
            files
                .iter()
                .take(MAX_LISTED_FILES)
                .map(|file| file_row(repo, file))
                .collect()
        });
        Ok(RepoPage {
            chrome: visit.chrome(repo.id.to_string()),
            kind: match repo.repo_type {
                crate::domain::RepoType::Model => "Model",
                crate::domain::RepoType::Dataset => "Dataset",
                crate::domain::RepoType::Space => "Space",
            },
            id: repo.id.to_string(),
            path: repo.web_path(),
            gated: view.repo.gate.is_gated(),
            settings_path: view
                .role()
                .is_some_and(RepoRole::can_write)
                .then(|| format!("{}/settings", repo.web_path())),
            readme: body,
            more_files: files
                .as_ref()
                .map_or(0, |f| f.len().saturating_sub(MAX_LISTED_FILES)),
            files: rows,
            gate,
        })
    }
}

fn gate(
    visit: &Visit<'_>,
    view: &RepoView,
    refusal: Option<Error>,
    prompt_html: Option<String>,
    refused: Option<Refused<'_>>,
) -> Gate {
    let card = access::gate_card(view);
    let heading = card
        .as_ref()
        .ok()
        .and_then(|card| card.heading.clone())
        .unwrap_or_else(|| {
            format!(
                "You need to agree to share your contact information to access this {}",
                view.repo_ref().repo_type.as_str()
            )
        });
    let state = match (&view.viewer, refusal) {
        (None, _) => GateState::SignIn,
        (Some(viewer), _) if viewer.role.is_some() => GateState::Member,
        (
            _,
            Some(Error::Gated {
                denial: denial @ Denial::EuDisallowed { .. },
                repo,
            }),
        ) => {
            let (_, _, message) =
                crate::api::describe(&Error::Gated { repo, denial }, &visit.exchange.base_url);
            GateState::Unavailable { message }
        }
        (Some(viewer), _) => match viewer.request.as_ref() {
            Some(request) => match request.status() {
                RequestStatus::Pending => GateState::Pending,
                RequestStatus::Accepted => GateState::Accepted,
                RequestStatus::Rejected => GateState::Rejected {
                    reason: request.state.rejection_reason().map(str::to_owned),
                },
            },
            None => match card {
                Ok(card) => {
                    GateState::Form(Box::new(gate_form(viewer, &card, prompt_html, refused)))
                }
                Err(error) => GateState::Broken {
                    message: error.to_string(),
                },
            },
        },
    };
    Gate { heading, state }
}

fn gate_form(
    viewer: &crate::service::identity::Viewer,
    card: &GateCard,
    prompt_html: Option<String>,
    refused: Option<Refused<'_>>,
) -> GateForm {
    let user = &viewer.caller.user;
    let error_of = |label: &str| {
        refused.as_ref().and_then(|refused| {
            refused
                .errors
                .fields
                .iter()
                .find(|error| error.label == label)
                .map(|error| format!("{} {}", error.label, error.message))
        })
    };
    let kept = |label: &str| {
        refused
            .as_ref()
            .and_then(|refused| refused.submitted.get(label))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let fields = card
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let value = kept(&field.label);
            let options = match &field.kind {
                FieldKind::Select { options } => options
                    .iter()
                    .map(|option| Choice {
                        selected: option.value == value,
                        value: option.value.clone(),
                        label: option.label.clone(),
                    })
                    .collect(),
                FieldKind::Country => countries()
                    .map(|(code, name)| Choice {
                        selected: code.eq_ignore_ascii_case(&value),
                        value: code.to_owned(),
                        label: name.to_owned(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            FieldInput {
                name: field_name(index),
                label: field.label.clone(),
                kind: field.kind.type_name(),
                error: error_of(&field.label),
                value,
                options,
            }
        })
        .collect();
    let labels: Vec<&str> = card.fields.iter().map(|f| f.label.as_str()).collect();
    let errors = refused
        .as_ref()
        .map(|refused| {
            refused
                .errors
                .fields
                .iter()
                .filter(|error| !labels.contains(&error.label.as_str()))
                .map(|error| match error.label.as_str() {
                    "" => error.message.clone(),
                    label => format!("{label} {}", error.message),
                })
                .collect()
        })
        .unwrap_or_default();
    GateForm {
        description: card.description.clone(),
        prompt: prompt_html
            .map(Prompt::Html)
            .or_else(|| card.prompt.clone().map(Prompt::Text)),
        username: user.name.to_string(),
        fullname: user.fullname.clone(),
        email: user
            .email
            .as_ref()
            .map_or_else(String::new, ToString::to_string),
        fields,
        errors,
        button: card
            .button_content
            .clone()
            .unwrap_or_else(|| default_button_content().to_owned()),
    }
}

fn file_row(repo: &RepoRef, file: &FileEntry) -> FileRow {
    let encoded: Vec<String> = file
        .path
        .split('/')
        .map(|segment| percent_encoding::utf8_percent_encode(segment, PATH_SEGMENT).to_string())
        .collect();
    FileRow {
        path: file.path.clone(),
        size: human_size(file.size),
        href: format!("{}/resolve/main/{}", repo.web_path(), encoded.join("/")),
    }
}

/// What a path segment must escape: everything but unreserved characters.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit + 1 < UNITS.len() {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_the_hub_s() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(999), "999 bytes");
        assert_eq!(human_size(1500), "1.5 kB");
        assert_eq!(human_size(52_428_800), "52.4 MB");
    }

    #[test]
    fn file_links_escape_each_segment() {
        let repo = RepoRef::new(
            crate::domain::RepoType::Dataset,
            crate::domain::RepoId::parse("org/d").unwrap(),
        );
        let file = crate::service::repos::file_entry("data dir/a#b?.csv", b"x");
        assert_eq!(
            file_row(&repo, &file).href,
            "/datasets/org/d/resolve/main/data%20dir/a%23b%3F.csv"
        );
    }
}
