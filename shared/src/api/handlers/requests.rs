use http::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::RepoCall;
use crate::api::Body;
use crate::api::json::{content_type, json_object, ok_json, query, query_value};
use crate::domain::{AccessRequest, Name, ObjectId, RequestStatus, RequestTarget};
use crate::error::{Error, Result};
use crate::service::access;
use crate::store::{Cursor, MAX_PAGE_SIZE};

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
    call.view.require_manager(call.caller)?;
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
        let link = format!(
            "<{}{}?cursor={}>; rel=\"next\"",
            call.exchange.base_url,
            call.exchange.request.uri().path(),
            next.as_str()
        );
        let value = http::HeaderValue::from_str(&link)
            .map_err(|_| Error::BadRequest("The request path cannot be linked to".into()))?;
        response.headers_mut().insert(http::header::LINK, value);
    }
    Ok(response)
}

/// `POST …/user-access-request/handle`: accept, reject (with a reason) or cancel back to
/// pending, naming the request by `user` or by `requestId`.
pub async fn handle(call: &RepoCall<'_>) -> Result<Response<Body>> {
    let reviewer = call.view.require_manager(call.caller)?;
    let body = json_object(call.exchange.request)?;
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
    access::review(call.store(), reviewer, &call.view, &target, status, reason).await?;
    ok_json(&json!({}))
}

/// `POST …/user-access-request/grant`: give a user access they did not ask for.
pub async fn grant(call: &RepoCall<'_>) -> Result<Response<Body>> {
    let reviewer = call.view.require_manager(call.caller)?;
    let body = json_object(call.exchange.request)?;
    refuse_unknown_keys(&body, &["user"])?;
    let user = user_name(
        body.get("user")
            .ok_or_else(|| Error::BadRequest("'user' is required".into()))?,
    )?;
    let request = access::grant(call.store(), reviewer, &call.view, &user).await?;
    ok_json(&request_json(&request))
}

/// `GET …/user-access-request/me`: the caller's own request.
pub async fn own(call: &RepoCall<'_>) -> Result<Response<Body>> {
    let caller = call.require_caller()?;
    let request = access::own_request(call.store(), caller, &call.view).await?;
    ok_json(&request_json(&request))
}

/// `POST …/user-access-request/cancel`: the caller withdraws their own request.
pub async fn withdraw(call: &RepoCall<'_>) -> Result<Response<Body>> {
    let caller = call.require_caller()?;
    access::withdraw(call.store(), caller, &call.view).await?;
    ok_json(&json!({ "ok": true }))
}

/// `POST /{repo}/ask-access`: JSON `{"fields": {...}}` from scripts, answered with the
/// request; or a browser's form post, answered with a redirect to the repo page.
pub async fn ask(call: &RepoCall<'_>) -> Result<Response<Body>> {
    let caller = call.require_caller()?;
    let request = call.exchange.request;
    let form = content_type(request).as_deref() == Some("application/x-www-form-urlencoded");
    let answers = if form {
        form_answers(request.body().as_ref())?
    } else {
        json_answers(request)?
    };
    let country = call.exchange.viewer_country();
    let created = access::ask(call.store(), caller, &call.view, country, &answers).await?;
    if form {
        return Ok(Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(http::header::LOCATION, call.repo().web_path())
            .body(Body::empty())
            .expect("a redirect is valid"));
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
fn form_answers(body: &[u8]) -> Result<Map<String, Value>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| Error::BadRequest("The form body is malformed".into()))?;
    Ok(pairs
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
