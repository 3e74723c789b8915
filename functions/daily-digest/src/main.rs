//! The daily digest, run once a day by an EventBridge Scheduler schedule. It starts and logs
//! each run; the digest mail itself comes with the notifications.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde::Deserialize;

/// The schedule's input (`infra/template.yaml`): when this run was due.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tick {
    scheduled_time: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::lambda::init_tracing();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Tick>| async move {
        tracing::info!(
            scheduled_time = event.payload.scheduled_time.as_deref(),
            "the daily digest ran"
        );
        Ok::<(), Error>(())
    }))
    .await
}
