//! The change consumer: domain events and requesters' mail from the table's stream.

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::lambda::init_tracing();
    let (notifier, events) = shared::lambda::notifier_and_events_from_env().await?;
    let (notifier, events) = (&notifier, &events);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(gatehouse_fn_request_changes::handle(notifier, events, &event.payload).await)
    }))
    .await
}
