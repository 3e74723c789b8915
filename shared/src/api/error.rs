//! The one place where an `Error` becomes an HTTP answer: status, `X-Error-Code` where the
//! client maps one, `X-Error-Message`, and a JSON `{"error": ...}` body.

use http::{HeaderValue, Response, StatusCode};
use serde_json::{Value, json};

use super::Body;
use crate::domain::{Denial, RepoRef};
use crate::error::Error;
use crate::store::StoreError;

/// Everything an error answer needs besides the error.
pub struct ErrorContext<'a> {
    /// Where requesters go to ask for access, e.g. `http://127.0.0.1:8080`.
    pub base_url: &'a str,
    /// HEAD answers carry no body, so the message travels in the header alone.
    pub head: bool,
}

pub fn error_response(error: Error, context: &ErrorContext<'_>) -> Response<Body> {
    let (status, code, message) = describe(&error, context.base_url);
    let mut body = json!({ "error": message });
    if let Error::InvalidAnswers(answers) = &error {
        body["fields"] = answers
            .fields
            .iter()
            .map(|f| json!({ "label": f.label, "message": f.message }))
            .collect::<Value>();
    }
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-error-message", header_value(&message));
    if let Some(code) = code {
        response = response.header("x-error-code", code);
    }
    // The Hub client waits as long as `Retry-After` says before it retries a 503.
    if let Error::Store(StoreError::Unavailable(_)) = &error {
        response = response.header("retry-after", RETRY_AFTER_SECONDS);
    }
    match &error {
        Error::EntryNotFound { commit } => response = response.header("x-repo-commit", commit),
        Error::RangeNotSatisfiable { size } => {
            response = response.header("content-range", format!("bytes */{size}"));
        }
        _ => {}
    }
    if let Error::MethodNotAllowed(methods) = &error {
        let allow: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
        response = response.header("allow", allow.join(", "));
    }
    let body = if context.head {
        Body::empty()
    } else {
        Body::from(body.to_string())
    };
    response.body(body).expect("status and headers are valid")
}

/// How long a client should wait before it tries again after a 503.
const RETRY_AFTER_SECONDS: &str = "1";

/// Status, error code and message for each error: the JSON answers' and the web pages'.
pub(crate) fn describe(
    error: &Error,
    base_url: &str,
) -> (StatusCode, Option<&'static str>, String) {
    use StatusCode as S;
    let message = error.to_string();
    match error {
        Error::NotAuthenticated | Error::InvalidToken | Error::InvalidSession => {
            (S::UNAUTHORIZED, None, message)
        }
        Error::FormRefused => (S::FORBIDDEN, None, message),
        Error::RepoNotFound { anonymous } => repo_not_found(*anonymous),
        Error::Gated { repo, denial } => gated(repo, *denial, base_url),
        Error::Forbidden(_) => (S::FORBIDDEN, None, message),
        Error::NotGated(_) | Error::BadRequest(_) | Error::InvalidAnswers(_) => {
            (S::BAD_REQUEST, None, message)
        }
        Error::InvalidCard { .. } | Error::Conflict(_) => (S::CONFLICT, None, message),
        Error::NotFound(_) | Error::NoSuchRoute => (S::NOT_FOUND, None, message),
        Error::RevisionNotFound { .. } => (S::NOT_FOUND, Some("RevisionNotFound"), message),
        Error::EntryNotFound { .. } => (S::NOT_FOUND, Some("EntryNotFound"), message),
        Error::RangeNotSatisfiable { .. } => (S::RANGE_NOT_SATISFIABLE, None, message),
        Error::ContentNotServedHere => (S::NOT_IMPLEMENTED, None, message),
        Error::MethodNotAllowed(_) => (S::METHOD_NOT_ALLOWED, None, message),
        Error::PayloadTooLarge { .. } => (S::PAYLOAD_TOO_LARGE, None, message),
        Error::UnsupportedMediaType(_) => (S::UNSUPPORTED_MEDIA_TYPE, None, message),
        Error::Render(detail) => {
            tracing::error!(error = %detail, "page rendering failure");
            internal_error()
        }
        Error::Store(store) => match store {
            StoreError::Conflict | StoreError::AlreadyExists(_) => (S::CONFLICT, None, message),
            StoreError::NotFound(_) => (S::NOT_FOUND, None, message),
            StoreError::InvalidCursor => (S::BAD_REQUEST, None, message),
            StoreError::TooLarge(_) => (S::PAYLOAD_TOO_LARGE, None, message),
            StoreError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "store busy");
                (
                    S::SERVICE_UNAVAILABLE,
                    None,
                    "The service is busy; please try again in a moment".into(),
                )
            }
            StoreError::Backend(detail) => {
                tracing::error!(error = %detail, "store failure");
                internal_error()
            }
        },
    }
}

fn internal_error() -> (StatusCode, Option<&'static str>, String) {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        "Internal error; please try again".into(),
    )
}

fn repo_not_found(anonymous: bool) -> (StatusCode, Option<&'static str>, String) {
    let status = if anonymous {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::NOT_FOUND
    };
    (status, Some("RepoNotFound"), "Repository not found".into())
}

/// The four gated answers of hf-wire §6, word for word as the Hub sends them, and the EU
/// refusal of `extra_gated_eu_disallowed` (401 or 403 like them, and `GatedRepo` so that the
/// client raises `GatedRepoError`).
fn gated(
    repo: &RepoRef,
    denial: Denial,
    base_url: &str,
) -> (StatusCode, Option<&'static str>, String) {
    let (kind, id) = (repo.repo_type.as_str(), &repo.id);
    let message = match denial {
        Denial::RepoNotFound => return repo_not_found(false),
        Denial::GatedAnonymous => {
            let message = format!(
                "Access to {kind} {id} is restricted. You must have access to it and be authenticated to access it. Please log in."
            );
            return (StatusCode::UNAUTHORIZED, Some("GatedRepo"), message);
        }
        Denial::GatedNotRequested => format!(
            "Access to {kind} {id} is restricted and you are not in the authorized list. Visit {base_url}{} to ask for access.",
            repo.web_path()
        ),
        Denial::GatedPending => {
            format!(
                "Your request to access {kind} {id} is awaiting a review from the repo authors."
            )
        }
        Denial::GatedRejected => {
            format!("Your request to access {kind} {id} has been rejected by the repo's authors.")
        }
        Denial::EuDisallowed { anonymous } => {
            let message = format!(
                "Access to {kind} {id} is restricted in your region: its authors do not allow access from the European Union."
            );
            let status = if anonymous {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            return (status, Some("GatedRepo"), message);
        }
    };
    (StatusCode::FORBIDDEN, Some("GatedRepo"), message)
}

/// Header values must be visible ASCII; anything else is escaped so the message survives.
/// A message as a header value: printable ASCII, anything else escaped.
pub(crate) fn header_value(message: &str) -> HeaderValue {
    let ascii: String = message
        .chars()
        .flat_map(|c| match c {
            ' '..='~' => vec![c],
            other => other.escape_unicode().collect(),
        })
        .collect();
    HeaderValue::from_str(&ascii).expect("printable ASCII is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RepoId, RepoType};

    fn answer(error: Error) -> (StatusCode, Option<String>, String, Value) {
        let context = ErrorContext {
            base_url: "http://127.0.0.1:9",
            head: false,
        };
        let response = error_response(error, &context);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (code, message) = (header("x-error-code"), header("x-error-message").unwrap());
        let status = response.status();
        let Body::Full(bytes) = response.into_body() else {
            panic!("a whole body")
        };
        (
            status,
            code,
            message,
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    fn repo() -> RepoRef {
        RepoRef::new(RepoType::Dataset, RepoId::parse("org/d").unwrap())
    }

    #[test]
    fn gated_answers_carry_the_hub_messages_and_code() {
        let (status, code, message, body) = answer(Error::Gated {
            repo: repo(),
            denial: Denial::GatedNotRequested,
        });
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(code.as_deref(), Some("GatedRepo"));
        assert_eq!(
            message,
            "Access to dataset org/d is restricted and you are not in the authorized list. Visit http://127.0.0.1:9/datasets/org/d to ask for access."
        );
        assert_eq!(body["error"], message);
        let (status, ..) = answer(Error::Gated {
            repo: repo(),
            denial: Denial::GatedAnonymous,
        });
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn the_eu_refusal_is_a_gated_answer_401_for_anonymous_callers_and_403_otherwise() {
        for (anonymous, expected) in [
            (true, StatusCode::UNAUTHORIZED),
            (false, StatusCode::FORBIDDEN),
        ] {
            let (status, code, message, body) = answer(Error::Gated {
                repo: repo(),
                denial: Denial::EuDisallowed { anonymous },
            });
            assert_eq!(status, expected);
            assert_eq!(code.as_deref(), Some("GatedRepo"));
            assert_eq!(
                message,
                "Access to dataset org/d is restricted in your region: its authors do not allow access from the European Union."
            );
            assert_eq!(body["error"], message);
        }
    }

    #[test]
    fn a_hidden_repo_is_not_found_with_401_for_anonymous_callers() {
        let (status, code, ..) = answer(Error::RepoNotFound { anonymous: true });
        assert_eq!(
            (status, code.as_deref()),
            (StatusCode::UNAUTHORIZED, Some("RepoNotFound"))
        );
        let (status, ..) = answer(Error::RepoNotFound { anonymous: false });
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn store_failures_are_500s_that_reveal_nothing() {
        let (status, _, message, _) = answer(Error::Store(StoreError::Backend(
            "disk /secret/path full".into(),
        )));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!message.contains("secret"));
    }

    #[test]
    fn a_busy_store_is_a_503_with_retry_after_that_reveals_nothing() {
        let error = Error::Store(StoreError::Unavailable(
            "DynamoDB GetItem failed: ProvisionedThroughputExceededException on table-secret"
                .into(),
        ));
        let context = ErrorContext {
            base_url: "http://h",
            head: false,
        };
        let response = error_response(error, &context);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "1");
        let message = response.headers()["x-error-message"].to_str().unwrap();
        assert_eq!(message, "The service is busy; please try again in a moment");
    }

    #[test]
    fn a_record_too_large_to_store_is_a_413_with_the_stores_message() {
        let limit = "the access request is about 512000 bytes, over the limit of 409600 bytes";
        let (status, code, message, body) =
            answer(Error::Store(StoreError::TooLarge(limit.into())));
        assert_eq!((status, code), (StatusCode::PAYLOAD_TOO_LARGE, None));
        assert_eq!(message, limit);
        assert_eq!(body["error"], limit);
    }

    #[test]
    fn non_ascii_messages_survive_in_the_header() {
        let (_, _, message, body) = answer(Error::BadRequest("Café\r\nX-Evil: 1".into()));
        assert!(!message.contains('\r') && !message.contains('\n'));
        assert_eq!(body["error"], "Café\r\nX-Evil: 1");
    }

    #[test]
    fn head_answers_have_no_body() {
        let context = ErrorContext {
            base_url: "",
            head: true,
        };
        let response = error_response(Error::NoSuchRoute, &context);
        assert!(matches!(response.body(), Body::Full(b) if b.is_empty()));
        assert!(response.headers().contains_key("x-error-message"));
    }
}
