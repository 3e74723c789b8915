//! `/login` and `/logout`: a browser signs in with an access token, as `hf auth login` does.

use askama::Template;
use http::{Method, Response, StatusCode};

use super::{Chrome, Form, Visit, local_path};
use crate::api::Body;
use crate::api::{query, query_value, see_other};
use crate::domain::TokenSecret;
use crate::error::Result;
use crate::service::identity::Credentials;

#[derive(Template)]
#[template(path = "web/login.html")]
struct SignInPage {
    chrome: Chrome,
    next: String,
    error: Option<String>,
}

pub(super) async fn run(visit: &mut Visit<'_>) -> Result<Response<Body>> {
    let path = visit.request().uri().path().trim_end_matches('/');
    match (visit.request().method().clone(), path) {
        (Method::POST, "/logout") => sign_out(visit),
        (Method::POST, _) => sign_in(visit).await,
        _ => {
            let next = query_value(&query(visit.request())?, "next");
            show(visit, StatusCode::OK, local_path(next.as_deref()), None)
        }
    }
}

fn show(
    visit: &Visit<'_>,
    status: StatusCode,
    next: &str,
    error: Option<String>,
) -> Result<Response<Body>> {
    let page = SignInPage {
        chrome: visit.chrome("Sign in".into()),
        next: next.to_owned(),
        error,
    };
    visit.page(status, &page)
}

async fn sign_in(visit: &mut Visit<'_>) -> Result<Response<Body>> {
    let form = Form::read(visit.request())?;
    visit.check_form(&form)?;
    let next = local_path(form.get("next")).to_owned();
    let token = form.get("token").unwrap_or("").trim();
    let record = match TokenSecret::parse(token) {
        Ok(secret) => visit.store().token(&secret.digest()).await?,
        Err(_) => None,
    };
    let Some(record) = record else {
        let message = if token.is_empty() {
            "Paste an access token to sign in."
        } else {
            "That token is not valid. Check it, or make a new one."
        };
        return show(
            visit,
            StatusCode::UNAUTHORIZED,
            &next,
            Some(message.to_owned()),
        );
    };
    visit.open_session(&Credentials::from(record));
    see_other(&next)
}

fn sign_out(visit: &mut Visit<'_>) -> Result<Response<Body>> {
    let form = Form::read(visit.request())?;
    visit.check_form(&form)?;
    visit.close_session();
    see_other(local_path(form.get("next")))
}
