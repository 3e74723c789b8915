//! GET /{repo} (and /datasets/…, /spaces/…): the repo page with its card, its files and the
//! gate; POST /{repo}/withdraw-request. The card's HTML was rendered on commit and is read with
//! the repo, so it needs no blob store.

use lambda_http::{Error, service_fn};
use shared::api::endpoints;
use shared::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_from_env().await?;
    lambda_http::run(service_fn(|request| {
        lambda::answer(&app, endpoints::REPO_PAGE, request)
    }))
    .await
}
