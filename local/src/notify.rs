//! Notifications on one machine: mail written as `.eml` files to `DATA_DIR/outbox/` (and
//! logged), domain events appended to `DATA_DIR/events.jsonl`, both fed by the embedded store's
//! change feeds within a second, and the daily digest run in-process at a set hour or on
//! demand (`gatehouse digest`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::dynamodb::EventRecord;
use clap::Args;
use shared::domain::{Day, Timestamp};
use shared::events::JsonlPublisher;
use shared::mail::{Mailbox, OutboxMailer};
use shared::service::notifications::{
    DigestReport, Notifier, alert_on_records, announce_changes, send_digest,
};
use shared::store::{SqliteStore, Store, StoreResult, stream};

use crate::admin::Report;

/// How often the change feed looks for new requests.
const FEED_POLL: Duration = Duration::from_millis(200);
/// The longest wait between tries of a record whose alert keeps failing.
const FEED_MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Tries of a failing record before the feed moves past it (with an error in the log), as
/// Lambda gives up on a stream record after its retries.
const FEED_MAX_TRIES: u32 = 10;
/// How many records a feed reads at a time.
const FEED_PAGE: usize = 100;

#[derive(Args, Debug)]
pub struct MailArgs {
    /// The sender of notification mail, `Name <address>` or an address.
    #[arg(
        long,
        env = "GATEHOUSE_MAIL_FROM",
        default_value = "gatehouse <gatehouse@localhost>"
    )]
    mail_from: Mailbox,
}

impl MailArgs {
    /// The notifier of a local run: mail to `DATA_DIR/outbox/`, links to `site`.
    pub fn notifier(&self, data_dir: &Path, store: Arc<dyn Store>, site: String) -> Notifier {
        let outbox = OutboxMailer::new(data_dir.join("outbox"), self.mail_from.clone());
        Notifier {
            store,
            mailer: Arc::new(outbox),
            site,
        }
    }
}

/// `gatehouse digest`: sends the daily digest of one day now.
#[derive(Args, Debug)]
pub struct DigestArgs {
    /// The UTC day whose new pending requests to send, `YYYY-MM-DD`; yesterday without it.
    #[arg(long, value_parser = parse_day)]
    day: Option<Day>,
    /// The base URL the mail's links point at.
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL", default_value_t = format!("http://{}", crate::default_addr()))]
    public_url: String,
    #[command(flatten)]
    mail: MailArgs,
}

fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse(text).ok_or_else(|| format!("'{text}' is not a day written YYYY-MM-DD"))
}

/// The day a digest run on `now` covers: the UTC day before.
fn yesterday(now: Timestamp) -> Result<Day, String> {
    now.day()
        .previous()
        .ok_or_else(|| "the calendar has no day before today".to_owned())
}

pub async fn digest(
    data_dir: &Path,
    store: Arc<dyn Store>,
    args: DigestArgs,
    report: &mut dyn Report,
) -> Result<(), Box<dyn std::error::Error>> {
    let day = match args.day {
        Some(day) => day,
        None => yesterday(Timestamp::now())?,
    };
    let notifier = args.mail.notifier(data_dir, store, args.public_url);
    let sent = send_digest(&notifier, day).await?;
    report.line(summary(day, &sent));
    for (repo, error) in &sent.failed {
        report.warning(format!("{repo}: {error}"));
    }
    if sent.failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} digests failed; run the same day again to send them",
            sent.failed.len()
        )
        .into())
    }
}

fn summary(day: Day, report: &DigestReport) -> String {
    format!(
        "digest of {day}: {} sent, {} sent before, {} repos with no digest to send, {} failed",
        report.sent.len(),
        report.already_sent.len(),
        report.not_called_for.len(),
        report.failed.len()
    )
}

/// Runs the daily digest every day at `hour` (UTC), for the day before, until the process
/// ends. A day whose run failed for some repos is not run again here: `gatehouse digest
/// --day` sends what is left.
pub async fn run_daily_digest(notifier: Notifier, hour: u8) {
    loop {
        let now = Timestamp::now();
        let next = next_run(now, hour);
        let wait = u64::try_from(next.millis() - now.millis()).unwrap_or(0);
        tracing::info!(at = %next, "the next daily digest");
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let Ok(day) = yesterday(Timestamp::now()) else {
            return;
        };
        match send_digest(&notifier, day).await {
            Ok(report) => {
                for (repo, error) in &report.failed {
                    tracing::error!(%repo, %error, "a digest failed; `gatehouse digest --day {day}` sends it");
                }
                tracing::info!("{}", summary(day, &report));
            }
            Err(error) => tracing::error!(%day, %error, "the daily digest could not run"),
        }
    }
}

/// The first `hour`:00 UTC after `now`.
fn next_run(now: Timestamp, hour: u8) -> Timestamp {
    let today = now.day().start().millis() + i64::from(hour) * 3_600_000;
    let at = if today > now.millis() {
        today
    } else {
        today + 86_400_000
    };
    Timestamp::from_millis(at)
}

/// A change feed of the embedded store: what it reads after a position, as the records
/// DynamoDB's stream would deliver, and the consumer those go to.
trait Feed {
    /// The feed's name in the store's saved positions.
    const NAME: &'static str;
    async fn read(&self, position: u64) -> StoreResult<(Vec<EventRecord>, u64)>;
    /// The identifiers (sequence numbers) of the records that failed.
    async fn handle(&self, records: &[EventRecord]) -> Vec<String>;
}

/// New requests, to the real-time alert (production: the `stream-alerts` function).
struct NewRequests {
    store: SqliteStore,
    notifier: Notifier,
}

impl Feed for NewRequests {
    const NAME: &'static str = "real-time-alerts";

    async fn read(&self, position: u64) -> StoreResult<(Vec<EventRecord>, u64)> {
        let (requests, reached) = self
            .store
            .inserted_requests_after(position, FEED_PAGE)
            .await?;
        let records = requests
            .iter()
            .map(|(seq, request)| stream::insert_record(*seq, request))
            .collect::<StoreResult<_>>()?;
        Ok((records, reached))
    }

    async fn handle(&self, records: &[EventRecord]) -> Vec<String> {
        alert_on_records(&self.notifier, records).await
    }
}

/// Every change, to domain events and requesters' mail (production: `request-changes`).
struct Changes {
    store: SqliteStore,
    notifier: Notifier,
    events: JsonlPublisher,
}

impl Feed for Changes {
    const NAME: &'static str = "request-changes";

    async fn read(&self, position: u64) -> StoreResult<(Vec<EventRecord>, u64)> {
        let (audits, reached) = self.store.audit_records_after(position, FEED_PAGE).await?;
        let records = audits
            .iter()
            .map(|(seq, audit)| stream::audit_insert_record(*seq, audit))
            .collect::<StoreResult<_>>()?;
        Ok((records, reached))
    }

    async fn handle(&self, records: &[EventRecord]) -> Vec<String> {
        announce_changes(&self.notifier, &self.events, records).await
    }
}

/// Runs the embedded store's change feeds until the process ends: new requests to the
/// real-time alert, and every change to `DATA_DIR/events.jsonl` and requesters' mail.
pub async fn run_change_feeds(data_dir: &Path, store: SqliteStore, notifier: Notifier) {
    let alerts = NewRequests {
        store: store.clone(),
        notifier: notifier.clone(),
    };
    let changes = Changes {
        store: store.clone(),
        notifier,
        events: JsonlPublisher::new(data_dir.join("events.jsonl")),
    };
    tokio::join!(run_feed(&store, alerts), run_feed(&store, changes));
}

/// Feeds `feed` as DynamoDB's stream feeds a Lambda consumer: same records, same handler.
/// The position is saved after each batch, so a restart goes on where it stopped; a record
/// that failed is retried, with a growing wait, from that record on, and given up on (with
/// an error in the log) after some tries, as Lambda gives up on a stream record.
async fn run_feed<F: Feed>(store: &SqliteStore, feed: F) {
    let mut position = match store.feed_position(F::NAME).await {
        Ok(position) => position,
        Err(error) => {
            tracing::error!(feed = F::NAME, %error, "a change feed cannot start");
            return;
        }
    };
    let (mut wait, mut tries) = (FEED_POLL, 0);
    loop {
        tokio::time::sleep(wait).await;
        let (records, scanned) = match feed.read(position).await {
            Ok(page) => page,
            Err(error) => {
                tracing::error!(feed = F::NAME, %error, "a change feed could not be read");
                wait = (wait * 2).min(FEED_MAX_BACKOFF);
                continue;
            }
        };
        let failed = feed.handle(&records).await;
        let reached = match failed.first().and_then(|id| id.parse::<u64>().ok()) {
            Some(first_failed) if tries + 1 < FEED_MAX_TRIES => {
                tries += 1;
                wait = (wait * 2).min(FEED_MAX_BACKOFF);
                first_failed.saturating_sub(1)
            }
            Some(first_failed) => {
                tracing::error!(
                    feed = F::NAME,
                    record = first_failed,
                    tries = FEED_MAX_TRIES,
                    "giving up on a change"
                );
                (tries, wait) = (0, FEED_POLL);
                scanned
            }
            None => {
                (tries, wait) = (0, FEED_POLL);
                scanned
            }
        };
        if reached != position {
            if let Err(error) = store.save_feed_position(F::NAME, reached).await {
                tracing::error!(feed = F::NAME, %error, "a change feed's position could not be saved");
            }
            position = reached;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn the_digest_runs_at_the_next_hour_it_is_set_to() {
        let next = |now, hour| next_run(at(now), hour).to_string();
        assert_eq!(
            next("2026-03-02T07:59:59.999Z", 8),
            "2026-03-02T08:00:00.000Z"
        );
        assert_eq!(
            next("2026-03-02T08:00:00.000Z", 8),
            "2026-03-03T08:00:00.000Z"
        );
        assert_eq!(
            next("2026-12-31T23:00:00.000Z", 0),
            "2027-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn a_run_covers_the_utc_day_before() {
        assert_eq!(
            yesterday(at("2026-03-01T00:00:00.000Z"))
                .unwrap()
                .to_string(),
            "2026-02-28"
        );
    }
}
