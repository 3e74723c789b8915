//! GET /{repo} (and /datasets/…, /spaces/…): the repo page with its card, its files and the
//! gate; POST /{repo}/withdraw-request. It reads the README from the blob bucket.

use lambda_http::{Error, service_fn};
use shared::api::endpoints;
use shared::lambda;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_with_blobs_from_env().await?;
    lambda_http::run(service_fn(|request| {
        lambda::answer(&app, endpoints::REPO_PAGE, request)
    }))
    .await
}
