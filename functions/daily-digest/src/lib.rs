//! The daily digest, run once a day by an EventBridge Scheduler schedule: the digest of the
//! UTC day before the run was due.

use serde::Deserialize;
use shared::domain::{Day, Timestamp};
use shared::service::notifications::{Notifier, send_digest};

/// The schedule's input (`infra/template.yaml`): when this run was due.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tick {
    pub scheduled_time: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("the calendar has no day before {0}")]
    NoDayBefore(Timestamp),
    #[error("the daily digest of {day} could not run: {source}")]
    Run {
        day: Day,
        source: shared::service::notifications::NotifyError,
    },
    /// Lambda retries a failed run; the repos whose digest went out send nothing again.
    #[error("{failed} of the digests of {day} failed")]
    Failed { day: Day, failed: usize },
}

/// The day a run covers: the UTC day before the one it was due on (or runs on, when the
/// schedule did not say).
pub fn day_covered(tick: &Tick, now: Timestamp) -> Result<Day, DigestError> {
    let due = tick
        .scheduled_time
        .as_deref()
        .and_then(Timestamp::parse)
        .unwrap_or(now);
    due.day().previous().ok_or(DigestError::NoDayBefore(due))
}

pub async fn handle(notifier: &Notifier, tick: &Tick) -> Result<(), DigestError> {
    let day = day_covered(tick, Timestamp::now())?;
    let report = send_digest(notifier, day)
        .await
        .map_err(|source| DigestError::Run { day, source })?;
    for (repo, error) in &report.failed {
        tracing::error!(%day, %repo, %error, "a digest failed");
    }
    tracing::info!(
        %day,
        sent = report.sent.len(),
        already_sent = report.already_sent.len(),
        not_called_for = report.not_called_for.len(),
        failed = report.failed.len(),
        "the daily digest ran"
    );
    match report.failed.len() {
        0 => Ok(()),
        failed => Err(DigestError::Failed { day, failed }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_covers_the_utc_day_before_it_was_due() {
        let tick = Tick {
            scheduled_time: Some("2026-03-01T08:00:00Z".into()),
        };
        let now = Timestamp::parse("2026-03-05T00:00:00.000Z").unwrap();
        assert_eq!(day_covered(&tick, now).unwrap().to_string(), "2026-02-28");
        // Without a due time (or with one that is no time), the day before now.
        for tick in [
            Tick::default(),
            Tick {
                scheduled_time: Some("soon".into()),
            },
        ] {
            assert_eq!(day_covered(&tick, now).unwrap().to_string(), "2026-03-04");
        }
    }
}
