//! The daily digest of new pending access requests, sent with SES.

use gatehouse_fn_daily_digest::{Tick, handle};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::lambda::init_tracing();
    let notifier = shared::lambda::notifier_from_env().await?;
    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Tick>| async move {
        handle(notifier, &event.payload).await.map_err(Error::from)
    }))
    .await
}
