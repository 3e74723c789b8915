//! GET and POST /login, POST /logout: a browser signs in with an access token, and out.

use lambda_http::{Error, service_fn};
use shared::api::endpoints;
use shared::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let app = lambda::app_from_env().await?;
    lambda_http::run(service_fn(|request| {
        lambda::answer(&app, endpoints::SIGN_IN, request)
    }))
    .await
}
