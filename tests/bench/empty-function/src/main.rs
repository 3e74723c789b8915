//! The baseline for `tests/bench/lambda-init.sh`: an empty `lambda_runtime` function, built
//! with the same settings as the functions under `functions/`. It answers its event as is. It is
//! `cargo lambda new`'s function, on tokio's multi-threaded runtime (`#[tokio::main]`).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
