//! /{repo}/settings and /{repo}/settings/requests/{status}: the owners' settings and review
//! pages.

use lambda_http::{Error, service_fn};
use shared::api::endpoints;
use shared::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_from_env().await?;
    lambda_http::run(service_fn(|request| {
        lambda::answer(&app, endpoints::REPO_SETTINGS, request)
    }))
    .await
}
