//! The web pages: sign-in, the repo page with its gate dialog and the requester's status, and
//! the owners' settings and review pages. They are handlers of the one routing table, rendered
//! on the server from askama templates (checked at compile time), and work without JavaScript.
//! They call the same use cases of `service` as the JSON API; only their input (a session
//! cookie, form posts carrying a CSRF token) and their output (HTML) differ.

mod repo_page;
pub mod session;
mod settings;
mod sign_in;

use askama::Template;
use http::{HeaderValue, Method, Response, StatusCode, header};
use lambda_http::Request;

pub(crate) use repo_page::ask_access;
pub use session::SessionKey;

use crate::api::{Body, Exchange, RouteMatch};
use crate::domain::Timestamp;
use crate::error::{Error, Result};
use crate::service::identity::{Claim, Credentials, Presented, authenticate};
use session::{CSRF_COOKIE, SESSION_COOKIE, SESSION_SECONDS, cookie, new_csrf_cookie, set_cookie};

/// `/login` and `/logout`: a page, a redirect, or an error page; never JSON.
pub(crate) async fn sign_in_page(exchange: &Exchange<'_>, _: RouteMatch) -> Result<Response<Body>> {
    let mut visit = Visit::start(exchange);
    let answer = sign_in::run(&mut visit).await;
    Ok(visit.answer(answer))
}

/// The repo page.
pub(crate) async fn repo_page(
    exchange: &Exchange<'_>,
    matched: RouteMatch,
) -> Result<Response<Body>> {
    let mut visit = Visit::start(exchange);
    let answer = repo_page::run(&mut visit, &matched).await;
    Ok(visit.answer(answer))
}

/// The owners' pages.
pub(crate) async fn settings_page(
    exchange: &Exchange<'_>,
    matched: RouteMatch,
) -> Result<Response<Body>> {
    let mut visit = Visit::start(exchange);
    let answer = settings::run(&mut visit, &matched).await;
    Ok(visit.answer(answer))
}

/// The token a browser's session cookie names, for the API's and the content's GETs (a report
/// download, a file link on the repo page), checked by the call's own read. `None` without a
/// session cookie; a cookie that is not a live session of ours is refused.
pub(crate) fn session_claim(exchange: &Exchange<'_>) -> Result<Option<Claim>> {
    cookie(exchange.request.headers(), SESSION_COOKIE)
        .map(|value| claim_of_session(exchange, value))
        .transpose()
}

fn claim_of_session(exchange: &Exchange<'_>, value: &str) -> Result<Claim> {
    exchange
        .app
        .session_key
        .read_session(value, Timestamp::now())
        .map(Claim::session)
        .ok_or(Error::InvalidSession)
}

/// One browser request to a page: its cookies as they come in, and the cookies and caller
/// the answer ends up with.
pub(crate) struct Visit<'a> {
    exchange: &'a Exchange<'a>,
    /// The session cookie as the browser sent it.
    session_cookie: Option<String>,
    /// What the browser will hold once it has this answer: the same, a new session, or none.
    session_after: Option<String>,
    csrf_cookie: String,
    /// The browser sent no CSRF cookie: this answer sets `csrf_cookie`.
    csrf_cookie_is_new: bool,
    /// The signed-in user, once [`Visit::caller`] has read the session.
    user: Option<String>,
}

impl<'a> Visit<'a> {
    fn start(exchange: &'a Exchange<'a>) -> Self {
        let headers = exchange.request.headers();
        let session_cookie = cookie(headers, SESSION_COOKIE).map(str::to_owned);
        let (csrf_cookie, csrf_cookie_is_new) = match cookie(headers, CSRF_COOKIE) {
            Some(value) => (value.to_owned(), false),
            None => (new_csrf_cookie(), true),
        };
        Visit {
            exchange,
            session_after: session_cookie.clone(),
            session_cookie,
            csrf_cookie,
            csrf_cookie_is_new,
            user: None,
        }
    }

    fn request(&self) -> &Request {
        self.exchange.request
    }

    fn store(&self) -> &dyn crate::store::Store {
        self.exchange.app.store.as_ref()
    }

    /// Who is calling: a token's owner (pages read with `curl` and a token too), the
    /// signed-in user, or `None` for a visitor without a session. A session that is not valid
    /// any more is refused (and its cookie cleared) rather than quietly treated as signed out,
    /// so a person is told why their page changed.
    async fn caller(&mut self) -> Result<Option<Presented>> {
        if let Some(header) = crate::api::authorization(self.request())? {
            let credentials = authenticate(self.store(), Some(header)).await?;
            self.user = credentials.as_ref().map(|c| c.name().to_string());
            return Ok(credentials.map(Presented::from));
        }
        let Some(value) = self.session_cookie.clone() else {
            return Ok(None);
        };
        let checked = match claim_of_session(self.exchange, &value) {
            Ok(claim) => claim.check(self.store()).await,
            Err(refusal) => Err(refusal),
        };
        match checked {
            Ok(credentials) => {
                self.user = Some(credentials.name().to_string());
                Ok(Some(Presented::from(credentials)))
            }
            Err(error) => {
                if matches!(error, Error::InvalidSession) {
                    self.session_after = None;
                }
                Err(error)
            }
        }
    }

    /// Signs the browser in with a token: the answer sets a new session cookie.
    fn open_session(&mut self, credentials: &Credentials) {
        let value = self
            .exchange
            .app
            .session_key
            .open_session(credentials.digest(), Timestamp::now());
        self.session_after = Some(value);
        self.user = Some(credentials.name().to_string());
    }

    fn close_session(&mut self) {
        self.session_after = None;
        self.user = None;
    }

    /// The CSRF token for the forms of this answer's page.
    fn csrf_token(&self) -> String {
        self.exchange
            .app
            .session_key
            .csrf_token(&self.csrf_cookie, self.session_after.as_deref())
    }

    /// Refuses a form post that does not carry the CSRF token of this browser's cookies, or
    /// that the browser says comes from another site.
    fn check_form(&self, form: &Form) -> Result<()> {
        let cross_site = self
            .request()
            .headers()
            .get("sec-fetch-site")
            .is_some_and(|value| value.as_bytes() == b"cross-site");
        let matches = !self.csrf_cookie_is_new
            && form.get(CSRF_FIELD).is_some_and(|posted| {
                self.exchange.app.session_key.csrf_token_matches(
                    posted,
                    &self.csrf_cookie,
                    self.session_cookie.as_deref(),
                )
            });
        if cross_site || !matches {
            return Err(Error::FormRefused);
        }
        Ok(())
    }

    /// What every page shows around its content.
    fn chrome(&self, title: String) -> Chrome {
        let uri = self.request().uri();
        let here = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Chrome {
            title,
            user: self.user.clone(),
            csrf: self.csrf_token(),
            sign_in_url: sign_in_url(&here),
            here,
        }
    }

    /// A rendered page.
    fn page(&self, status: StatusCode, page: &impl Template) -> Result<Response<Body>> {
        Ok(Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .body(Body::from(page.render()?))
            .expect("a page is a valid response"))
    }

    /// The answer to send: the page or redirect, or the error page; with the cookies this
    /// visit set and the headers every page carries.
    fn answer(self, answer: Result<Response<Body>>) -> Response<Body> {
        let mut response = answer.unwrap_or_else(|error| self.error_page(error));
        let secure = self.exchange.base_url.starts_with("https://");
        let mut cookies = Vec::new();
        if self.csrf_cookie_is_new {
            cookies.push(set_cookie(
                CSRF_COOKIE,
                &self.csrf_cookie,
                SESSION_SECONDS,
                secure,
            ));
        }
        if self.session_after != self.session_cookie {
            cookies.push(match &self.session_after {
                Some(value) => set_cookie(SESSION_COOKIE, value, SESSION_SECONDS, secure),
                None => set_cookie(SESSION_COOKIE, "", 0, secure),
            });
        }
        let headers = response.headers_mut();
        for value in cookies {
            let value = HeaderValue::from_str(&value).expect("cookie values are base64url");
            headers.append(header::SET_COOKIE, value);
        }
        for (name, value) in PAGE_HEADERS {
            headers.insert(name.clone(), HeaderValue::from_static(value));
        }
        if self.request().method() == Method::HEAD {
            *response.body_mut() = Body::empty();
        }
        response
    }

    /// An error as a page: the status and message of the one mapping of errors to answers
    /// (`api::error`), in words for a person, with a way on.
    fn error_page(&self, error: Error) -> Response<Body> {
        let (status, code, message) = crate::api::describe(&error, &self.exchange.base_url);
        let title = match status {
            StatusCode::UNAUTHORIZED => "Sign in required",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::CONFLICT => "Conflict",
            status if status.is_server_error() => "Something went wrong",
            _ => "That did not work",
        };
        let page = ErrorPage {
            chrome: self.chrome(title.to_owned()),
            message,
            sign_in: status == StatusCode::UNAUTHORIZED,
        };
        let body = page.render().unwrap_or_else(|_| title.to_owned());
        let mut response = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header("x-error-message", crate::api::header_value(&page.message));
        if let Some(code) = code {
            response = response.header("x-error-code", code);
        }
        response
            .body(Body::from(body))
            .expect("an error page is a valid response")
    }
}

/// Headers of every page: never cached (pages are personal), never framed, and no script at
/// all, so even markup that slipped past the sanitizer could not run.
const PAGE_HEADERS: &[(header::HeaderName, &str)] = &[
    (header::CACHE_CONTROL, "no-store"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
];

/// The hidden field of every state-changing form.
const CSRF_FIELD: &str = "_csrf";

/// A form post's fields, in order.
struct Form(Vec<(String, String)>);

impl Form {
    fn read(request: &Request) -> Result<Form> {
        if !crate::api::is_form(request) {
            return Err(Error::UnsupportedMediaType(
                "A form must be posted as application/x-www-form-urlencoded".into(),
            ));
        }
        crate::api::form_pairs(request).map(Form)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// `next` if it is a path of this site, else `/`: a sign-in link must not send anyone away.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && path.len() <= 2048
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

fn sign_in_url(next: &str) -> String {
    let next: String = url_encoded(next);
    format!("/login?next={next}")
}

fn url_encoded(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Around every page: its title, who is signed in, and the sign-in and sign-out forms.
struct Chrome {
    title: String,
    user: Option<String>,
    csrf: String,
    /// This page's path and query, where signing in or out comes back to.
    here: String,
    sign_in_url: String,
}

#[derive(Template)]
#[template(path = "web/error.html")]
struct ErrorPage {
    chrome: Chrome,
    message: String,
    sign_in: bool,
}

#[cfg(test)]
mod tests;
