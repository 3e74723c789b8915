//! One function per handler of the routing table, each an [`Endpoint`] of its own.

mod account;
mod content;
mod report;
mod repos;
mod requests;

use futures::future::BoxFuture;
use http::Response;

use super::json::{authorization, is_form};
use super::{Body, Exchange, Handler, RouteMatch};
use crate::domain::RepoRef;
use crate::error::Result;
use crate::service::{Claim, Presented, RepoView, visible_repo};

/// Runs the handler of a matched route, any of the table's (the local server).
pub async fn run(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    (endpoint(matched.handler).run)(exchange, matched).await
}

/// What runs a handler's requests, on its own: a Lambda function names only its own endpoint,
/// so its binary carries only its own handler's code.
#[derive(Clone, Copy)]
pub struct Endpoint {
    /// The handler whose routes it answers; any other route is refused.
    pub handler: Handler,
    pub run: for<'a> fn(&'a Exchange<'a>, RouteMatch) -> BoxFuture<'a, Result<Response<Body>>>,
}

macro_rules! endpoints {
    ($($name:ident: $handler:ident => $run:path,)*) => {
        /// Each handler's endpoint.
        pub mod endpoints {
            use super::*;
            $(
                pub const $name: Endpoint = Endpoint {
                    handler: Handler::$handler,
                    run: |exchange, matched| Box::pin($run(exchange, matched)),
                };
            )*
        }

        /// The endpoint of any handler.
        pub fn endpoint(handler: Handler) -> Endpoint {
            match handler {
                $(Handler::$handler => endpoints::$name,)*
            }
        }

        /// The name of a handler's constant in [`endpoints`], which its function's `main` uses.
        pub fn endpoint_name(handler: Handler) -> &'static str {
            match handler {
                $(Handler::$handler => stringify!($name),)*
            }
        }
    };
}

endpoints! {
    WHOAMI: WhoAmI => whoami,
    AGENT_HARNESSES: AgentHarnesses => agent_harnesses,
    REPO_INFO: RepoInfo => repo_info,
    AUTH_CHECK: AuthCheck => auth_check,
    AUTH_CHECK_WRITE: AuthCheckWrite => auth_check_write,
    UPDATE_SETTINGS: UpdateSettings => update_settings,
    LIST_REQUESTS: ListRequests => list_requests,
    HANDLE_REQUEST: HandleRequest => handle_request,
    GRANT_ACCESS: GrantAccess => grant_access,
    OWN_REQUEST: OwnRequest => own_request,
    WITHDRAW_REQUEST: WithdrawRequest => withdraw_request,
    ACCESS_REPORT: AccessReport => access_report,
    ASK_ACCESS: AskAccess => ask_access,
    RESOLVE_FILE: ResolveFile => resolve_file,
    REVISION_INFO: RevisionInfo => revision_info,
    LIST_TREE: ListTree => list_tree,
    SIGN_IN: SignIn => crate::web::sign_in_page,
    REPO_PAGE: RepoPage => crate::web::repo_page,
    REPO_SETTINGS: RepoSettings => crate::web::settings_page,
}

/// Who the caller says they are: a bearer token; for reading, also a browser's session (a
/// file link, the report download). A change through the API needs a token, as a cookie would
/// let another site post in its name. Not read here: the call's own read checks it.
fn credentials(exchange: &Exchange<'_>) -> Result<Option<Presented>> {
    let request = exchange.request;
    let safe = matches!(*request.method(), http::Method::GET | http::Method::HEAD);
    let claim = match authorization(request)? {
        Some(header) => Some(Claim::bearer(header)?),
        None if safe => crate::web::session_claim(exchange)?,
        None => None,
    };
    Ok(claim.map(Presented::from))
}

fn repo(matched: &RouteMatch) -> &RepoRef {
    matched.repo.as_ref().expect("the route names a repo")
}

fn revision(matched: &RouteMatch) -> &str {
    matched
        .revision
        .as_deref()
        .expect("the content routes name a revision")
}

/// The repo the route names, as the caller sees it.
async fn repo_call<'a>(exchange: &'a Exchange<'a>, matched: &RouteMatch) -> Result<RepoCall<'a>> {
    let credentials = credentials(exchange)?;
    let view = visible_repo(exchange.app.store.as_ref(), credentials, repo(matched)).await?;
    Ok(RepoCall { exchange, view })
}

async fn whoami(exchange: &Exchange<'_>, _: RouteMatch) -> Result<Response<Body>> {
    account::whoami(exchange, credentials(exchange)?).await
}

async fn agent_harnesses(_: &Exchange<'_>, _: RouteMatch) -> Result<Response<Body>> {
    account::agent_harnesses()
}

// Content is read with the gate before any file or revision check; a review or a grant reads
// the repo with the request its body names.

async fn resolve_file(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    let credentials = credentials(exchange)?;
    let path = matched
        .path
        .as_ref()
        .expect("the resolve route names a file");
    content::resolve(
        exchange,
        credentials,
        repo(&matched),
        revision(&matched),
        path,
    )
    .await
}

async fn revision_info(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    let credentials = credentials(exchange)?;
    content::revision_info(exchange, credentials, repo(&matched), revision(&matched)).await
}

async fn list_tree(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    let credentials = credentials(exchange)?;
    let folder = matched.path.as_ref();
    content::tree(
        exchange,
        credentials,
        repo(&matched),
        revision(&matched),
        folder,
    )
    .await
}

async fn handle_request(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    let credentials = credentials(exchange)?;
    requests::handle(exchange, credentials, repo(&matched)).await
}

async fn grant_access(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    let credentials = credentials(exchange)?;
    requests::grant(exchange, credentials, repo(&matched)).await
}

async fn repo_info(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    repos::info(&repo_call(exchange, &matched).await?).await
}

async fn auth_check(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    repos::auth_check(&repo_call(exchange, &matched).await?, false)
}

async fn auth_check_write(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    repos::auth_check(&repo_call(exchange, &matched).await?, true)
}

async fn update_settings(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    repos::update_settings(&repo_call(exchange, &matched).await?).await
}

async fn list_requests(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    let status = matched.status.expect("the listing route has a status");
    requests::list(&repo_call(exchange, &matched).await?, status).await
}

async fn own_request(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    requests::own(&repo_call(exchange, &matched).await?)
}

async fn withdraw_request(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    requests::withdraw(&repo_call(exchange, &matched).await?).await
}

async fn access_report(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    report::download(&repo_call(exchange, &matched).await?).await
}

/// A browser posting the gate's form without a token is a page's visitor: the form comes back
/// with its errors. Anyone else gets the API's answer.
async fn ask_access(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    let request = exchange.request;
    if authorization(request)?.is_none() && is_form(request) {
        return Ok(crate::web::ask_access(exchange, repo(&matched)).await);
    }
    requests::ask(&repo_call(exchange, &matched).await?).await
}

/// Adds a `Link` to the next page: this request's own path with `query`, absolute.
fn link_next(exchange: &Exchange<'_>, response: &mut Response<Body>, query: &str) -> Result<()> {
    let link = format!(
        "<{}{}?{query}>; rel=\"next\"",
        exchange.base_url,
        exchange.request.uri().path(),
    );
    let value = http::HeaderValue::from_str(&link).map_err(|_| {
        crate::error::Error::BadRequest("The request path cannot be linked to".into())
    })?;
    response.headers_mut().insert(http::header::LINK, value);
    Ok(())
}

/// A call on one repo that the caller may see.
struct RepoCall<'a> {
    exchange: &'a Exchange<'a>,
    view: RepoView,
}

impl RepoCall<'_> {
    fn repo(&self) -> &RepoRef {
        self.view.repo_ref()
    }

    fn store(&self) -> &dyn crate::store::Store {
        self.exchange.app.store.as_ref()
    }
}

#[cfg(test)]
mod tests;
