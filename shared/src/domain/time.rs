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

    /// The UTC calendar day it falls on.
    pub fn day(self) -> Day {
        Day(self.datetime().date())
    }
}

/// A UTC calendar day, written `YYYY-MM-DD`: what the daily digest covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(time::Date);

impl Day {
    pub fn parse(text: &str) -> Option<Self> {
        time::Date::parse(text, format_description!("[year]-[month]-[day]"))
            .ok()
            .map(Self)
    }

    /// The day before, if the calendar has one.
    pub fn previous(self) -> Option<Self> {
        self.0.previous_day().map(Self)
    }

    /// Its first millisecond.
    pub fn start(self) -> Timestamp {
        Timestamp::from_datetime(self.0.midnight().assume_utc())
    }

    /// The first millisecond after it (the next day's start).
    pub fn end(self) -> Timestamp {
        Timestamp(self.start().0 + 24 * 60 * 60 * 1000)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = self.0;
        write!(
            f,
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
        assert_eq!(at.day().to_string(), "2024-05-01");
    }

    #[test]
    fn times_with_an_offset_or_no_zone_are_refused() {
        assert!(Timestamp::parse("2024-05-01T10:00:00+00:00").is_none());
        assert!(Timestamp::parse("2024-05-01T10:00:00").is_none());
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn a_day_spans_from_its_midnight_to_the_next() {
        let day = Day::parse("2024-02-29").unwrap();
        assert_eq!(day.to_string(), "2024-02-29");
        assert_eq!(day.start().to_string(), "2024-02-29T00:00:00.000Z");
        assert_eq!(day.end().to_string(), "2024-03-01T00:00:00.000Z");
        assert_eq!(day.previous().unwrap().to_string(), "2024-02-28");
        assert_eq!(
            Timestamp::parse("2024-02-29T23:59:59.999Z").unwrap().day(),
            day
        );
        for bad in ["2023-02-29", "2024-2-1", "yesterday", ""] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
    }
}
