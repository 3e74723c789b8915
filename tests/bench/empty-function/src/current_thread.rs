//! The empty function of `main.rs` on tokio's single-threaded runtime, as the functions under
//! `functions/` run: `tests/bench/lambda-init.sh` reports the functions' init against it too, so
//! what the runtime flavor saves shows apart from what the functions' own start-up costs.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
