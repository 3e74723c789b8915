//! The edge worker: HEAD and GET /{repo}/resolve/{rev}/{path} (and under `/datasets/`,
//! `/spaces/`), every file download, gated. CloudFront sends it the content paths through a
//! streaming function URL with origin access control; a GET is answered with a redirect to a
//! presigned URL of the blob in S3 (`BLOB_BUCKET`).

use lambda_http::{Error, service_fn};
use shared::api::endpoints;
use shared::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_with_blobs_from_env().await?;
    lambda_http::run_with_streaming_response(service_fn(|request| {
        lambda::answer_streamed(&app, endpoints::RESOLVE_FILE, request)
    }))
    .await
}
