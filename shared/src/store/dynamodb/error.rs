//! From SDK errors to store errors: a lost condition is the caller's answer (`Conflict`,
//! `AlreadyExists`, `NotFound`), anything else a `Backend` error with the SDK's whole story.

use std::error::Error;
use std::fmt::Debug;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};

use crate::store::StoreError;

/// A failed call as a `Backend` error naming the operation.
pub(super) fn backend<E, R>(operation: &str, error: SdkError<E, R>) -> StoreError
where
    E: Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    StoreError::Backend(format!(
        "DynamoDB {operation} failed: {}",
        DisplayErrorContext(&error)
    ))
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
    use super::*;

    fn cancelled(codes: &[&str]) -> Cancelled {
        Cancelled(
            codes
                .iter()
                .map(|c| (*c != "None").then(|| c.to_string()))
                .collect(),
        )
    }

    #[test]
    fn cancellation_reasons_say_which_condition_failed_and_what_is_worth_a_retry() {
        let lost = cancelled(&["None", CONDITIONAL_CHECK_FAILED]);
        assert!(!lost.failed(0) && lost.failed(1) && !lost.failed(2));
        assert!(lost.any_condition_failed() && !lost.transient());

        let busy = cancelled(&["TransactionConflict", "None"]);
        assert!(!busy.any_condition_failed() && busy.transient());
        assert!(cancelled(&["ThrottlingError"]).transient());
        assert!(!cancelled(&["ValidationError"]).transient());
        assert!(!cancelled(&["None"]).transient());
        assert_eq!(busy.describe(), "TransactionConflict, None");
    }
}
