//! One function per handler of the routing table.

mod account;
mod content;
mod report;
mod repos;
mod requests;

use http::Response;

use super::json::authorization;
use super::{Body, Exchange, Handler, RouteMatch};
use crate::domain::RepoRef;
use crate::error::Result;
use crate::service::{RepoView, authenticate, visible_repo};

pub async fn run(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    if matched.handler == Handler::AgentHarnesses {
        return account::agent_harnesses();
    }
    if matched.handler.is_page() {
        return Ok(crate::web::run(exchange, matched).await);
    }
    let request = exchange.request;
    let header = authorization(request)?;
    if matched.handler == Handler::AskAccess && header.is_none() && requests::is_form(request) {
        let repo = matched.repo.as_ref().expect("ask-access names a repo");
        return Ok(crate::web::ask_access(exchange, repo).await);
    }
    let store = exchange.app.store.as_ref();
    // A browser's session counts for reading (a file link, the report download); a change
    // through the API needs a token, as a cookie would let another site post in its name.
    let safe = matches!(*request.method(), http::Method::GET | http::Method::HEAD);
    let credentials = match header {
        None if safe => crate::web::session_credentials(exchange).await?,
        header => authenticate(store, header).await?,
    };
    if matched.handler == Handler::WhoAmI {
        return account::whoami(exchange, credentials).await;
    }
    let repo = matched
        .repo
        .as_ref()
        .expect("every other route names a repo");
    let revision = || {
        matched
            .revision
            .as_deref()
            .expect("the content routes name a revision")
    };
    // These read the repo their own way: content with the gate before any file or revision
    // check, a review or a grant with the request its body names.
    match matched.handler {
        Handler::ResolveFile => {
            let path = matched
                .path
                .as_ref()
                .expect("the resolve route names a file");
            return content::resolve(exchange, credentials, repo, revision(), path).await;
        }
        Handler::RevisionInfo => {
            return content::revision_info(exchange, credentials, repo, revision()).await;
        }
        Handler::ListTree => {
            let folder = matched.path.as_ref();
            return content::tree(exchange, credentials, repo, revision(), folder).await;
        }
        Handler::HandleRequest => return requests::handle(exchange, credentials, repo).await,
        Handler::GrantAccess => return requests::grant(exchange, credentials, repo).await,
        _ => {}
    }
    let call = RepoCall {
        exchange,
        view: visible_repo(store, credentials, repo).await?,
    };
    match matched.handler {
        Handler::RepoInfo => repos::info(&call).await,
        Handler::AuthCheck => repos::auth_check(&call, false),
        Handler::AuthCheckWrite => repos::auth_check(&call, true),
        Handler::UpdateSettings => repos::update_settings(&call).await,
        Handler::ListRequests => {
            let status = matched.status.expect("the listing route has a status");
            requests::list(&call, status).await
        }
        Handler::OwnRequest => requests::own(&call),
        Handler::WithdrawRequest => requests::withdraw(&call).await,
        Handler::AskAccess => requests::ask(&call).await,
        Handler::AccessReport => report::download(&call).await,
        Handler::HandleRequest
        | Handler::GrantAccess
        | Handler::WhoAmI
        | Handler::AgentHarnesses
        | Handler::ResolveFile
        | Handler::RevisionInfo
        | Handler::ListTree
        | Handler::SignIn
        | Handler::RepoPage
        | Handler::RepoSettings => unreachable!("answered above"),
    }
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
