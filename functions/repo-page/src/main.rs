//! GET /{repo} (and /datasets/…, /spaces/…): the repo page with its files and the gate;
//! POST /{repo}/withdraw-request. It has no blob store, so it shows no README body
//! (BENCHMARKS.md, section 4: with the S3 client it would pass the 8 MiB size target).

use lambda_http::{Error, service_fn};
use shared::api::endpoints;
use shared::lambda;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_from_env().await?;
    lambda_http::run(service_fn(|request| {
        lambda::answer(&app, endpoints::REPO_PAGE, request)
    }))
    .await
}
