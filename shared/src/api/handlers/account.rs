use http::Response;
use serde_json::json;

use super::super::Body;
use super::super::json::ok_json;
use crate::api::Exchange;
use crate::error::{Error, Result};
use crate::service::identity::{Presented, caller_with_orgs};

/// `GET /api/whoami-v2`: the Hub's full shape, with `orgs` (the CLI needs it) and
/// `auth.accessToken` (0.x clients need it).
pub async fn whoami(
    exchange: &Exchange<'_>,
    credentials: Option<Presented>,
) -> Result<Response<Body>> {
    let credentials = credentials.ok_or(Error::NotAuthenticated)?;
    let (caller, memberships) = caller_with_orgs(exchange.app.store.as_ref(), credentials).await?;
    let orgs: Vec<_> = memberships
        .iter()
        .map(|(org, role)| {
            json!({
                "type": "org",
                "id": org.id,
                "name": org.name,
                "fullname": org.fullname,
                "email": null,
                "canPay": false,
                "periodEnd": null,
                "roleInOrg": role.as_str(),
            })
        })
        .collect();
    let user = &caller.user;
    ok_json(&json!({
        "type": "user",
        "id": user.id,
        "name": user.name,
        "fullname": user.fullname,
        "email": user.email,
        "emailVerified": user.email.is_some(),
        "isPro": false,
        "canPay": false,
        "periodEnd": null,
        "orgs": orgs,
        "auth": {
            "type": "access_token",
            "accessToken": {
                "displayName": caller.token.display_name,
                "role": caller.token.role.as_str(),
                "createdAt": caller.token.created_at,
            }
        }
    }))
}

/// `GET /api/agent-harnesses`: the client asks once a day; there is nothing to tell it.
pub fn agent_harnesses() -> Result<Response<Body>> {
    ok_json(&json!({ "standardEnvVars": [], "harnesses": {} }))
}
