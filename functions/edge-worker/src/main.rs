//! The edge worker: CloudFront sends it the file content paths (`/{repo}/resolve/…`,
//! `/datasets/…`, `/spaces/…`) through a streaming function URL with origin access control.
//! It answers through the whole routing table, so it serves the `/resolve` routes as soon as
//! the table has them.

use lambda_http::{Error, service_fn};
use shared::lambda;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_from_env().await?;
    lambda_http::run_with_streaming_response(service_fn(|request| {
        lambda::answer_any(&app, request)
    }))
    .await
}
