//! POST /api/{type}/{repo}/user-access-request/handle: accept, reject or cancel a request.

use lambda_http::{Error, service_fn};
use shared::api::endpoints;
use shared::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_from_env().await?;
    lambda_http::run(service_fn(|request| {
        lambda::answer(&app, endpoints::HANDLE_REQUEST, request)
    }))
    .await
}
