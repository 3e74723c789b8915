use http::Response;
use serde_json::{Map, Value, json};

use super::RepoCall;
use crate::api::json::{form_pairs, is_form, json_object, ok_json, query, query_value, see_other};
use crate::api::{Body, Exchange};
use crate::domain::{AccessRequest, Name, ObjectId, RepoRef, RequestStatus, RequestTarget};
use crate::error::{Error, Result};
use crate::service::access;
use crate::service::identity::{Presented, RepoView, visible_repo, visible_repo_and_target};
use crate::store::{Cursor, MAX_PAGE_SIZE, TargetRecords};

/// A request as the Hub lists it. `user` always carries `user` and `fullname` (0.x and 1.x
/// clients index them) and `requestId` is always there (2.x needs it).
pub fn request_json(request: &AccessRequest) -> Value {
    let mut body = json!({
        "user": {
            "user": request.user,
            "fullname": request.contact.fullname,
            "email": request.contact.email,
            "type": "user",
        },
        "requestId": request.id,
        "status": request.status(),
        "timestamp": request.created_at,
        "fields": request.answers,
    });
    if let Some(reason) = request.state.rejection_reason() {
        body["rejectionReason"] = json!(reason);
    }
    body
}

/// `GET …/user-access-request/{status}`: one page, oldest first, with an absolute `Link`
/// to the next.
pub async fn list(call: &RepoCall<'_>, status: RequestStatus) -> Result<Response<Body>> {
    call.view.require_manager()?;
    if !call.view.repo.gate.is_gated() {
        return Err(Error::NotGated(call.repo().clone()));
    }
    let pairs = query(call.exchange.request)?;
    let cursor = query_value(&pairs, "cursor").map(|c| Cursor::from_client(&c));
    let page = call
        .store()
        .list_requests(call.repo(), Some(status), cursor.as_ref(), MAX_PAGE_SIZE)
        .await?;
    let items: Vec<Value> = page.items.iter().map(request_json).collect();
    let mut response = ok_json(&Value::Array(items))?;
    if let Some(next) = page.next {
        super::link_next(
            call.exchange,
            &mut response,
            &format!("cursor={}", next.as_str()),
        )?;
    }
    Ok(response)
}

/// `POST …/user-access-request/handle`: accept, reject (with a reason) or cancel back to
/// pending, naming the request by `user` or by `requestId`.
pub async fn handle(
    exchange: &Exchange<'_>,
    credentials: Option<Presented>,
    repo: &RepoRef,
) -> Result<Response<Body>> {
    let body = review_body(exchange.request);
    let (view, read) =
        read_with_target(exchange, credentials, repo, body, |b| b.target.clone()).await?;
    let reviewer = view.require_manager()?;
    let (body, found) = read?;
    let store = exchange.app.store.as_ref();
    access::review(
        store,
        reviewer,
        &view,
        &body.target,
        found,
        body.status,
        body.reason,
    )
    .await?;
    ok_json(&json!({}))
}

/// A review as its body asks for it.
struct ReviewBody {
    target: RequestTarget,
    status: RequestStatus,
    reason: Option<String>,
}

fn review_body(request: &lambda_http::Request) -> Result<ReviewBody> {
    let body = json_object(request)?;
    refuse_unknown_keys(&body, &["user", "requestId", "status", "rejectionReason"])?;
    let target = match (body.get("user"), body.get("requestId")) {
        (Some(user), None) => RequestTarget::User(user_name(user)?),
        (None, Some(Value::String(id))) => {
            RequestTarget::Id(ObjectId::parse(id).ok_or_else(|| {
                Error::BadRequest("requestId must be a 24-character hexadecimal id".into())
            })?)
        }
        (None, Some(_)) => return Err(Error::BadRequest("requestId must be a string".into())),
        _ => {
            return Err(Error::BadRequest(
                "Give exactly one of 'user' and 'requestId'".into(),
            ));
        }
    };
    let status: RequestStatus = body
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::BadRequest("'status' is required: pending, accepted or rejected".into())
        })?
        .parse()
        .map_err(Error::BadRequest)?;
    let reason = match body.get("rejectionReason") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err(Error::BadRequest("rejectionReason must be a string".into())),
    };
    Ok(ReviewBody {
        target,
        status,
        reason,
    })
}

/// `POST …/user-access-request/grant`: give a user access they did not ask for.
pub async fn grant(
    exchange: &Exchange<'_>,
    credentials: Option<Presented>,
    repo: &RepoRef,
) -> Result<Response<Body>> {
    let body = grant_body(exchange.request);
    let (view, read) = read_with_target(exchange, credentials, repo, body, |user| {
        RequestTarget::User(user.clone())
    })
    .await?;
    let reviewer = view.require_manager()?;
    let (user, found) = read?;
    let store = exchange.app.store.as_ref();
    let request = access::grant(store, reviewer, &view, &user, found).await?;
    ok_json(&request_json(&request))
}

/// The user a grant's body names.
fn grant_body(request: &lambda_http::Request) -> Result<Name> {
    let body = json_object(request)?;
    refuse_unknown_keys(&body, &["user"])?;
    user_name(
        body.get("user")
            .ok_or_else(|| Error::BadRequest("'user' is required".into()))?,
    )
}

/// The repo as the caller sees it, with the records of the request a body names, in one store
/// read. A body that cannot be read is refused only after the repo and the caller are checked,
/// as the errors of every other call on a repo come in that order.
async fn read_with_target<B>(
    exchange: &Exchange<'_>,
    credentials: Option<Presented>,
    repo: &RepoRef,
    body: Result<B>,
    target: impl FnOnce(&B) -> RequestTarget,
) -> Result<(RepoView, Result<(B, TargetRecords)>)> {
    let store = exchange.app.store.as_ref();
    match body {
        Ok(body) => {
            let target = target(&body);
            let (view, found) = visible_repo_and_target(store, credentials, repo, &target).await?;
            Ok((view, Ok((body, found))))
        }
        Err(error) => Ok((visible_repo(store, credentials, repo).await?, Err(error))),
    }
}

/// `GET …/user-access-request/me`: the caller's own request.
pub fn own(call: &RepoCall<'_>) -> Result<Response<Body>> {
    let viewer = call.view.require_viewer()?;
    let request = access::own_request(viewer, &call.view)?;
    ok_json(&request_json(request))
}

/// `POST …/user-access-request/cancel`: the caller withdraws their own request.
pub async fn withdraw(call: &RepoCall<'_>) -> Result<Response<Body>> {
    let viewer = call.view.require_viewer()?;
    access::withdraw(call.store(), viewer, &call.view).await?;
    ok_json(&json!({ "ok": true }))
}

/// `POST /{repo}/ask-access` with a token: JSON `{"fields": {...}}` from scripts, answered
/// with the request; or a form post, answered with a redirect to the repo page. (A browser
/// signed in with a session posts the gate's form to `web::ask_access` instead.)
pub async fn ask(call: &RepoCall<'_>) -> Result<Response<Body>> {
    let viewer = call.view.require_viewer()?;
    let request = call.exchange.request;
    let form = is_form(request);
    let answers = if form {
        form_answers(request)?
    } else {
        json_answers(request)?
    };
    let country = call.exchange.viewer_country();
    let created = access::ask(call.store(), viewer, &call.view, country, &answers).await?;
    if form {
        return see_other(&call.repo().web_path());
    }
    ok_json(&request_json(&created))
}

fn json_answers(request: &lambda_http::Request) -> Result<Map<String, Value>> {
    let mut body = json_object(request)?;
    refuse_unknown_keys(&body, &["fields"])?;
    match body.remove("fields") {
        Some(Value::Object(fields)) => Ok(fields),
        Some(_) => Err(Error::BadRequest(
            "'fields' must be an object of answers".into(),
        )),
        None => Err(Error::BadRequest("'fields' is required".into())),
    }
}

/// A form post: each pair is a field label and its answer.
fn form_answers(request: &lambda_http::Request) -> Result<Map<String, Value>> {
    Ok(form_pairs(request)?
        .into_iter()
        .map(|(label, answer)| (label, Value::String(answer)))
        .collect())
}

fn user_name(value: &Value) -> Result<Name> {
    let text = value
        .as_str()
        .ok_or_else(|| Error::BadRequest("'user' must be a user name".into()))?;
    Name::parse(text).map_err(|e| Error::NotFound(format!("User not found: {e}")))
}

fn refuse_unknown_keys(body: &Map<String, Value>, known: &[&str]) -> Result<()> {
    match body.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => {
            let shown: String = key.chars().take(100).collect();
            Err(Error::BadRequest(format!(
                "unknown key '{shown}'; expected {}",
                known.join(", ")
            )))
        }
        None => Ok(()),
    }
}
