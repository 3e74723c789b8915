//! The DynamoDB stream consumer: real-time alerts of new pending access requests.

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::lambda::init_tracing();
    let notifier = shared::lambda::notifier_from_env().await?;
    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(gatehouse_fn_stream_alerts::handle(notifier, &event.payload).await)
    }))
    .await
}
