use std::fmt;

use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use time::macros::format_description;

/// A UTC instant with millisecond precision, written the way the Hub writes times:
/// `2024-05-01T10:00:00.000Z` (the client refuses offsets other than `Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self((nanos / 1_000_000) as i64)
    }

    pub fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` or a bare `YYYY-MM-DD` (midnight UTC).
    pub fn parse(text: &str) -> Option<Self> {
        let date_only = format_description!("[year]-[month]-[day]");
        if let Ok(date) = time::Date::parse(text, date_only) {
            return Some(Self::from_datetime(date.midnight().assume_utc()));
        }
        let parsed =
            OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
        text.ends_with('Z').then(|| Self::from_datetime(parsed))
    }

    fn from_datetime(at: OffsetDateTime) -> Self {
        Self((at.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    fn datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The UTC calendar day, `YYYY-MM-DD`.
    pub fn day(self) -> String {
        let date = self.datetime().date();
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.datetime();
        write!(
            f,
            "{}T{:02}:{:02}:{:02}.{:03}Z",
            self.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.millisecond()
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_with_milliseconds_and_a_z() {
        let at = Timestamp::parse("2023-11-23T18:04:53.828Z").unwrap();
        assert_eq!(at.to_string(), "2023-11-23T18:04:53.828Z");
        assert_eq!(
            Timestamp::from_millis(0).to_string(),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn a_bare_date_means_midnight_utc() {
        let at = Timestamp::parse("2024-05-01").unwrap();
        assert_eq!(at.to_string(), "2024-05-01T00:00:00.000Z");
        assert_eq!(at.day(), "2024-05-01");
    }

    #[test]
    fn times_with_an_offset_or_no_zone_are_refused() {
        assert!(Timestamp::parse("2024-05-01T10:00:00+00:00").is_none());
        assert!(Timestamp::parse("2024-05-01T10:00:00").is_none());
        assert!(Timestamp::parse("yesterday").is_none());
    }
}
