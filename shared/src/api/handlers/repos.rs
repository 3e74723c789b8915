use http::Response;
use serde_json::{Value, json};

use super::RepoCall;
use crate::api::Body;
use crate::api::json::{json_object, ok_json};
use crate::domain::Repo;
use crate::error::{Error, Result};
use crate::service::RepoView;
use crate::service::repos::{REQUESTER_EMAILS, card_view, settings_update};
use crate::store::FileEntry;

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
