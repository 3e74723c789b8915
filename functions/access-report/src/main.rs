//! GET /api/{type}/{repo}/user-access-request/report: the access report, of any size.
//! Streamed, through a function URL in `RESPONSE_STREAM` mode: API Gateway would buffer it.

use lambda_http::{Error, service_fn};
use shared::api::endpoints;
use shared::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_from_env().await?;
    lambda_http::run_with_streaming_response(service_fn(|request| {
        lambda::answer_streamed(&app, endpoints::ACCESS_REPORT, request)
    }))
    .await
}
