//! Reading request bodies and query strings, and writing JSON answers.

use http::{Response, StatusCode};
use lambda_http::Request;
use serde_json::{Map, Value};

use super::Body;
use crate::error::{Error, Result};

pub fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(value.to_string()))
        .expect("a JSON response is valid")
}

pub fn ok_json(value: &Value) -> Result<Response<Body>> {
    Ok(json_response(StatusCode::OK, value))
}

/// The body as a JSON object; anything else is a 4xx that says what was wrong. The body must
/// be declared `application/json`: a browser cannot send that cross-site without asking
/// first, so a forged form post never reaches a state change.
pub fn json_object(request: &Request) -> Result<Map<String, Value>> {
    if content_type(request).as_deref() != Some("application/json") {
        return Err(Error::UnsupportedMediaType(
            "The request body must be JSON, sent with Content-Type: application/json".into(),
        ));
    }
    let body: &[u8] = request.body().as_ref();
    if body.is_empty() {
        return Err(Error::BadRequest(
            "The request needs a JSON object body".into(),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Error::BadRequest(
            "The request body must be a JSON object".into(),
        )),
        Err(e) => Err(Error::BadRequest(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

/// The query string's pairs, decoded; a malformed query is a 400.
pub fn query(request: &Request) -> Result<Vec<(String, String)>> {
    let raw = request.uri().query().unwrap_or("");
    serde_urlencoded::from_str(raw)
        .map_err(|_| Error::BadRequest("The query string is malformed".into()))
}

/// Whether a body is a form post, as browsers send them.
pub fn is_form(request: &Request) -> bool {
    content_type(request).as_deref() == Some("application/x-www-form-urlencoded")
}

/// A form post's fields, in order; a malformed body is a 400.
pub fn form_pairs(request: &Request) -> Result<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(request.body().as_ref())
        .map_err(|_| Error::BadRequest("The form body is malformed".into()))
}

/// A redirect after a successful post (303), so reloading the page does not post again.
pub fn see_other(location: &str) -> Result<Response<Body>> {
    let location = http::HeaderValue::from_str(location)
        .map_err(|_| Error::BadRequest("That page cannot be linked to".into()))?;
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(http::header::LOCATION, location)
        .body(Body::empty())
        .expect("a redirect is valid"))
}

pub fn query_value(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// The `Authorization` header; one that is not text cannot hold a valid token.
pub fn authorization(request: &Request) -> Result<Option<&str>> {
    request
        .headers()
        .get(http::header::AUTHORIZATION)
        .map(|v| v.to_str().map_err(|_| Error::InvalidToken))
        .transpose()
}

/// The media type of the body, lower-cased and without parameters.
pub fn content_type(request: &Request) -> Option<String> {
    let value = request
        .headers()
        .get(http::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}
