//! GET /api/{type}/{repo}: a repo's info and card.

use lambda_http::{Error, service_fn};
use shared::api::endpoints;
use shared::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_from_env().await?;
    lambda_http::run(service_fn(|request| {
        lambda::answer(&app, endpoints::REPO_INFO, request)
    }))
    .await
}
