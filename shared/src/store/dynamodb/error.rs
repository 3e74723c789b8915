//! From SDK errors to store errors: a lost condition is the caller's answer (`Conflict`,
//! `AlreadyExists`, `NotFound`); throttling, timeouts and DynamoDB's own failures that outlast
//! the SDK's retries are `Unavailable` (the client may try again); anything else a `Backend`
//! error with the SDK's whole story.

use std::error::Error;
use std::fmt::Debug;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::store::StoreError;

/// Error codes that say "not now" rather than "never": DynamoDB is throttling the table or
/// the account, or failed on its side. The SDK has already retried them with backoff.
const TRANSIENT_CODES: [&str; 6] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

/// A failed call as a store error naming the operation: `Unavailable` when trying again
/// later may work, `Backend` otherwise.
pub(super) fn backend<E, R>(operation: &str, error: SdkError<E, R>) -> StoreError
where
    E: Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(_) => error.code().is_some_and(|c| TRANSIENT_CODES.contains(&c)),
        _ => false,
    };
    let detail = format!(
        "DynamoDB {operation} failed: {}",
        DisplayErrorContext(&error)
    );
    if transient {
        StoreError::Unavailable(detail)
    } else {
        StoreError::Backend(detail)
    }
}

/// A request that could not even be built (a missing required field: a bug here).
pub(super) fn build(error: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Backend(format!("cannot build a DynamoDB request: {error}"))
}

/// Why each action of a cancelled transaction was refused, in the order the actions were
/// sent: `None` for an action that was fine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cancelled(pub Vec<Option<String>>);

pub(super) const CONDITIONAL_CHECK_FAILED: &str = "ConditionalCheckFailed";

impl Cancelled {
    /// True when the action at `index` lost its condition.
    pub fn failed(&self, index: usize) -> bool {
        self.0
            .get(index)
            .is_some_and(|code| code.as_deref() == Some(CONDITIONAL_CHECK_FAILED))
    }

    pub fn any_condition_failed(&self) -> bool {
        (0..self.0.len()).any(|i| self.failed(i))
    }

    /// True when every refusal is one that goes away by itself: another transaction on the
    /// same items, or throttling.
    pub fn transient(&self) -> bool {
        self.0.iter().flatten().all(|code| {
            matches!(
                code.as_str(),
                "None"
                    | "TransactionConflict"
                    | "ThrottlingError"
                    | "ProvisionedThroughputExceeded"
            )
        }) && self.0.iter().flatten().any(|code| code != "None")
    }

    /// True when DynamoDB refused an action for capacity rather than for another writer.
    pub fn throttled(&self) -> bool {
        self.0.iter().flatten().any(|code| {
            matches!(
                code.as_str(),
                "ThrottlingError" | "ProvisionedThroughputExceeded"
            )
        })
    }

    pub fn describe(&self) -> String {
        let codes: Vec<&str> = self
            .0
            .iter()
            .map(|code| code.as_deref().unwrap_or("None"))
            .collect();
        codes.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn cancelled(codes: &[&str]) -> Cancelled {
        Cancelled(
            codes
                .iter()
                .map(|c| (*c != "None").then(|| c.to_string()))
                .collect(),
        )
    }

    fn failed_get_item(code: &str) -> SdkError<GetItemError, HttpResponse> {
        let error = GetItemError::generic(ErrorMetadata::builder().code(code).build());
        let response = HttpResponse::new(400.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(error, response)
    }

    #[test]
    fn throttling_that_outlasts_the_retries_is_unavailable_and_other_failures_are_backend() {
        for code in TRANSIENT_CODES {
            let error = backend("GetItem", failed_get_item(code));
            assert!(
                matches!(error, StoreError::Unavailable(_)),
                "{code}: {error:?}"
            );
        }
        for code in ["ValidationException", "ResourceNotFoundException"] {
            let error = backend("GetItem", failed_get_item(code));
            assert!(matches!(error, StoreError::Backend(_)), "{code}: {error:?}");
        }
    }

    #[test]
    fn cancellation_reasons_say_which_condition_failed_and_what_is_worth_a_retry() {
        let lost = cancelled(&["None", CONDITIONAL_CHECK_FAILED]);
        assert!(!lost.failed(0) && lost.failed(1) && !lost.failed(2));
        assert!(lost.any_condition_failed() && !lost.transient());

        let busy = cancelled(&["TransactionConflict", "None"]);
        assert!(!busy.any_condition_failed() && busy.transient());
        assert!(cancelled(&["ThrottlingError"]).transient());
        assert!(cancelled(&["None", "ThrottlingError"]).throttled() && !busy.throttled());
        assert!(!cancelled(&["ValidationError"]).transient());
        assert!(!cancelled(&["None"]).transient());
        assert_eq!(busy.describe(), "TransactionConflict, None");
    }
}
