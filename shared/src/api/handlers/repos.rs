use http::Response;
use serde_json::{Map, Value, json};

use super::RepoCall;
use crate::api::Body;
use crate::api::json::{json_object, ok_json};
use crate::domain::{Email, GateMode, NotificationsMode, Repo, Visibility};
use crate::error::{Error, Result};
use crate::service::RepoView;
use crate::service::repos::card_view;
use crate::store::{FileEntry, SettingsUpdate};

/// `GET /api/{type}/{repo}`: 200 for gated repos too; only content is gated. Those who
/// manage the repo also see its notification settings and any error in its card.
pub async fn info(call: &RepoCall<'_>) -> Result<Response<Body>> {
    let files = call.store().files(call.repo()).await?;
    ok_json(&info_json(&call.view, &files))
}

/// A repo's info as `model_info` reads it, with its files as `siblings`.
pub fn info_json(view: &RepoView, files: &[FileEntry]) -> Value {
    let repo = &view.repo;
    let siblings: Vec<Value> = files
        .iter()
        .map(|f| json!({ "rfilename": f.path, "size": f.size, "blobId": f.oid }))
        .collect();
    let card = card_view(repo);
    let mut body = json!({
        "_id": repo.repo.object_id(),
        "id": repo.repo.id,
        "author": repo.owner,
        "sha": repo.sha,
        "private": repo.visibility.is_private(),
        "disabled": false,
        "gated": repo.gate,
        "lastModified": repo.last_modified,
        "createdAt": repo.created_at,
        "tags": [],
        "downloads": 0,
        "likes": 0,
        "siblings": siblings,
    });
    if let Some(card_data) = card.card_data {
        body["cardData"] = card_data;
    }
    if view.can_manage() {
        body["gatedNotificationsMode"] = json!(repo.notifications_mode);
        body["gatedNotificationsEmail"] = json!(repo.notifications_email);
        body[REQUESTER_EMAILS] = json!(repo.requester_emails);
        if let Err(error) = card.gate_card {
            body["cardError"] = json!(error.to_string());
        }
    }
    body
}

/// `GET …/auth-check[/write]`: 200 when the caller may read (and, for `/write`, write) the
/// repo; otherwise the gate's answer.
pub fn auth_check(call: &RepoCall<'_>, write: bool) -> Result<Response<Body>> {
    call.view
        .require_content_access(call.exchange.viewer_country())?;
    if write && !call.view.can_manage() {
        let caller = &call.view.require_viewer()?.caller;
        return Err(Error::Forbidden(format!(
            "{} has no write access to {} with the token '{}'",
            caller.name(),
            call.repo(),
            caller.token.display_name
        )));
    }
    ok_json(&json!("OK"))
}

/// `PUT …/settings`: gating, visibility and notification settings, all or nothing.
pub async fn update_settings(call: &RepoCall<'_>) -> Result<Response<Body>> {
    call.view.require_manager()?;
    let update = settings_update(&json_object(call.exchange.request)?)?;
    let repo = call
        .store()
        .update_repo_settings(call.repo(), &update)
        .await?;
    ok_json(&settings_json(&repo))
}

fn settings_json(repo: &Repo) -> Value {
    json!({
        "gated": repo.gate,
        "private": repo.visibility.is_private(),
        "visibility": repo.visibility,
        "gatedNotificationsMode": repo.notifications_mode,
        "gatedNotificationsEmail": repo.notifications_email,
        REQUESTER_EMAILS: repo.requester_emails,
    })
}

/// The setting of whether requesters are mailed about decisions (gatehouse's own; the Hub
/// has none).
const REQUESTER_EMAILS: &str = "gatedRequesterEmails";

/// Reads a settings body. Every key must be known and every value valid, or nothing at all
/// changes. `private` (0.x clients) and `visibility` (later ones) mean the same thing.
fn settings_update(body: &Map<String, Value>) -> Result<SettingsUpdate> {
    if body.is_empty() {
        return Err(Error::BadRequest(
            "At least one setting must be updated.".into(),
        ));
    }
    let bad = |message: String| Error::BadRequest(message);
    let mut update = SettingsUpdate::default();
    for (key, value) in body {
        match key.as_str() {
            "gated" => update.gate = Some(GateMode::from_json(value).map_err(bad)?),
            "visibility" => {
                let visibility = match value.as_str() {
                    Some("public") => Visibility::Public,
                    Some("private") => Visibility::Private,
                    Some("protected") => {
                        return Err(bad("'protected' visibility is not supported".into()));
                    }
                    _ => {
                        return Err(bad(format!(
                            "invalid value for 'visibility': {value}; expected \"public\" or \"private\""
                        )));
                    }
                };
                set_visibility(&mut update, visibility)?;
            }
            "private" => {
                let private = value.as_bool().ok_or_else(|| {
                    bad(format!(
                        "invalid value for 'private': {value}; expected true or false"
                    ))
                })?;
                set_visibility(&mut update, Visibility::from_private(private))?;
            }
            "gatedNotificationsMode" => {
                let mode = value.as_str().and_then(NotificationsMode::parse).ok_or_else(|| {
                    bad(format!(
                        "invalid value for 'gatedNotificationsMode': {value}; expected \"bulk\" or \"real-time\""
                    ))
                })?;
                update.notifications_mode = Some(mode);
            }
            "gatedNotificationsEmail" => {
                let email = match value {
                    Value::Null => None,
                    Value::String(text) if text.is_empty() => None,
                    Value::String(text) => Some(
                        Email::parse(text)
                            .map_err(|e| bad(format!("invalid gatedNotificationsEmail: {e}")))?,
                    ),
                    _ => {
                        return Err(bad(
                            "gatedNotificationsEmail must be a string or null".into()
                        ));
                    }
                };
                update.notifications_email = Some(email);
            }
            REQUESTER_EMAILS => {
                let on = value.as_bool().ok_or_else(|| {
                    bad(format!(
                        "invalid value for '{REQUESTER_EMAILS}': {value}; expected true or false"
                    ))
                })?;
                update.requester_emails = Some(on);
            }
            // 0.x clients send it; gatehouse stores files without Xet.
            "xetEnabled" if value == &Value::Bool(false) => {}
            "xetEnabled" => return Err(bad("Xet storage is not supported".into())),
            other => {
                let shown: String = other.chars().take(100).collect();
                return Err(bad(format!("unknown setting '{shown}'")));
            }
        }
    }
    Ok(update)
}

fn set_visibility(update: &mut SettingsUpdate, visibility: Visibility) -> Result<()> {
    match update.visibility {
        Some(existing) if existing != visibility => Err(Error::BadRequest(
            "'private' and 'visibility' disagree".into(),
        )),
        _ => {
            update.visibility = Some(visibility);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<SettingsUpdate> {
        settings_update(body.as_object().unwrap())
    }

    #[test]
    fn the_client_settings_bodies_are_read() {
        let update = parse(json!({"gated": false, "visibility": "private"})).unwrap();
        assert_eq!(update.gate, Some(GateMode::Off));
        assert_eq!(update.visibility, Some(Visibility::Private));
        let old_client = parse(json!({"gated": "auto", "private": false})).unwrap();
        assert_eq!(old_client.visibility, Some(Visibility::Public));
    }

    #[test]
    fn requester_emails_are_turned_on_or_off_with_a_boolean_only() {
        let off = parse(json!({"gatedRequesterEmails": false})).unwrap();
        assert_eq!(off.requester_emails, Some(false));
        for bad in [json!("no"), json!(0), Value::Null] {
            let error = parse(json!({"gatedRequesterEmails": bad})).unwrap_err();
            assert!(
                error.to_string().contains("gatedRequesterEmails"),
                "{error}"
            );
        }
    }

    #[test]
    fn notification_settings_are_read_and_an_empty_email_clears_it() {
        let update = parse(json!({
            "gatedNotificationsMode": "real-time",
            "gatedNotificationsEmail": "team@example.com"
        }))
        .unwrap();
        assert_eq!(update.notifications_mode, Some(NotificationsMode::RealTime));
        assert!(update.notifications_email.unwrap().is_some());
        let cleared = parse(json!({"gatedNotificationsEmail": null})).unwrap();
        assert_eq!(cleared.notifications_email, Some(None));
    }

    #[test]
    fn unknown_keys_bad_values_and_empty_bodies_are_refused() {
        for body in [
            json!({}),
            json!({"gated": true}),
            json!({"gated": "false"}),
            json!({"visibility": "secret"}),
            json!({"private": "yes"}),
            json!({"private": true, "visibility": "public"}),
            json!({"gatedNotificationsMode": "weekly"}),
            json!({"gatedNotificationsEmail": "a@b.c\r\nBcc: x@y.z"}),
            json!({"owner": "me"}),
        ] {
            assert!(
                matches!(parse(body.clone()), Err(Error::BadRequest(_))),
                "{body}"
            );
        }
    }
}
