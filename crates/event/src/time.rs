use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};

/// How finely the source recorded a time. Kept so that output never claims more precision
/// than the log had: an RFC 3164 syslog line is to the second, EVTX to 100 ns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

/// A UTC instant with the precision of its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp {
    pub time: DateTime<Utc>,
    pub precision: Precision,
}

impl Timestamp {
    pub fn new(time: DateTime<Utc>, precision: Precision) -> Self {
        Timestamp { time, precision }
    }

    /// Parses an RFC 3339 timestamp, taking the precision from the number of fraction digits.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let time = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
        Some(Timestamp::new(time, precision_of(text)))
    }

    pub fn timestamp_millis(&self) -> i64 {
        self.time.timestamp_millis()
    }
}

/// Counts the fraction digits of an RFC 3339 text: `.123` is milliseconds, and so on.
fn precision_of(text: &str) -> Precision {
    let Some(dot) = text.find('.') else {
        return Precision::Seconds;
    };
    let digits = text[dot + 1..].bytes().take_while(u8::is_ascii_digit).count();
    match digits {
        0 => Precision::Seconds,
        1..=3 => Precision::Millis,
        4..=6 => Precision::Micros,
        _ => Precision::Nanos,
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.time.cmp(&other.time)
    }
}

impl fmt::Display for Timestamp {
    /// Formats as RFC 3339 in UTC with a `Z` suffix and as many fraction digits as the source had.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = match self.precision {
            Precision::Seconds => SecondsFormat::Secs,
            Precision::Millis => SecondsFormat::Millis,
            Precision::Micros => SecondsFormat::Micros,
            Precision::Nanos => SecondsFormat::Nanos,
        };
        f.write_str(&self.time.to_rfc3339_opts(format, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_keeps_precision() {
        let t = Timestamp::parse_rfc3339("2023-07-10T11:45:01.123456+02:00").unwrap();
        assert_eq!(t.precision, Precision::Micros);
        assert_eq!(t.to_string(), "2023-07-10T09:45:01.123456Z");
    }

    #[test]
    fn rfc3339_seconds_only() {
        let t = Timestamp::parse_rfc3339("2023-07-10T11:45:01Z").unwrap();
        assert_eq!(t.precision, Precision::Seconds);
        assert_eq!(t.to_string(), "2023-07-10T11:45:01Z");
    }
}

impl serde::Serialize for Timestamp {
    /// Serializes as the RFC 3339 text of [`Timestamp`]'s `Display`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text).ok_or_else(|| serde::de::Error::custom(format!("invalid RFC 3339 time {text:?}")))
    }
}
