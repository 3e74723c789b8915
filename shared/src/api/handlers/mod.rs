//! One function per handler of the routing table.

mod account;
mod report;
mod repos;
mod requests;

use http::Response;

use super::json::authorization;
use super::{Body, Exchange, Handler, RouteMatch};
use crate::domain::RepoRef;
use crate::error::{Error, Result};
use crate::service::{Caller, RepoView, authenticate, visible_repo};

pub async fn run(exchange: &Exchange<'_>, matched: RouteMatch) -> Result<Response<Body>> {
    if matched.handler == Handler::AgentHarnesses {
        return account::agent_harnesses();
    }
    let store = exchange.app.store.as_ref();
    let caller = authenticate(store, authorization(exchange.request)?).await?;
    let caller = caller.as_ref();
    if matched.handler == Handler::WhoAmI {
        return account::whoami(exchange, caller).await;
    }
    let repo = matched
        .repo
        .as_ref()
        .expect("every other route names a repo");
    let view = visible_repo(store, caller, repo).await?;
    let context = RepoCall {
        exchange,
        caller,
        view,
    };
    match matched.handler {
        Handler::RepoInfo => repos::info(&context).await,
        Handler::AuthCheck => repos::auth_check(&context, false).await,
        Handler::AuthCheckWrite => repos::auth_check(&context, true).await,
        Handler::UpdateSettings => repos::update_settings(&context).await,
        Handler::ListRequests => {
            let status = matched.status.expect("the listing route has a status");
            requests::list(&context, status).await
        }
        Handler::HandleRequest => requests::handle(&context).await,
        Handler::GrantAccess => requests::grant(&context).await,
        Handler::OwnRequest => requests::own(&context).await,
        Handler::WithdrawRequest => requests::withdraw(&context).await,
        Handler::AskAccess => requests::ask(&context).await,
        Handler::AccessReport => report::download(&context).await,
        Handler::WhoAmI | Handler::AgentHarnesses => unreachable!("answered above"),
    }
}

/// A call on one repo that the caller may see.
struct RepoCall<'a> {
    exchange: &'a Exchange<'a>,
    caller: Option<&'a Caller>,
    view: RepoView,
}

impl RepoCall<'_> {
    fn repo(&self) -> &RepoRef {
        self.view.repo_ref()
    }

    fn require_caller(&self) -> Result<&Caller> {
        self.caller.ok_or(Error::NotAuthenticated)
    }

    fn store(&self) -> &dyn crate::store::Store {
        self.exchange.app.store.as_ref()
    }
}

#[cfg(test)]
mod tests;
