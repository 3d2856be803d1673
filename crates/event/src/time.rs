use std::fmt;

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

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
        // Written digit by digit: every Windows event has a timestamp, and keyword searches and
        // JSON output render it, so chrono's general formatter (which allocates) was a visible
        // share of matching time. Years outside 0..=9999 and leap seconds take chrono's path.
        let date = self.time.date_naive();
        let clock = self.time.time();
        let nanos = clock.nanosecond();
        let year = date.year();
        if (0..=9999).contains(&year) && nanos < 1_000_000_000 {
            let mut buf = *b"0000-00-00T00:00:00.000000000Z";
            put_digits(&mut buf[0..4], year as u32);
            put_digits(&mut buf[5..7], date.month());
            put_digits(&mut buf[8..10], date.day());
            put_digits(&mut buf[11..13], clock.hour());
            put_digits(&mut buf[14..16], clock.minute());
            put_digits(&mut buf[17..19], clock.second());
            let digits = match self.precision {
                Precision::Seconds => 0,
                Precision::Millis => 3,
                Precision::Micros => 6,
                Precision::Nanos => 9,
            };
            let mut len = 19;
            if digits > 0 {
                put_digits(&mut buf[20..20 + digits], nanos / 10u32.pow(9 - digits as u32));
                len = 20 + digits;
            }
            buf[len] = b'Z';
            len += 1;
            return f.write_str(std::str::from_utf8(&buf[..len]).expect("ASCII digits"));
        }
        let format = match self.precision {
            Precision::Seconds => SecondsFormat::Secs,
            Precision::Millis => SecondsFormat::Millis,
            Precision::Micros => SecondsFormat::Micros,
            Precision::Nanos => SecondsFormat::Nanos,
        };
        f.write_str(&self.time.to_rfc3339_opts(format, true))
    }
}

/// Writes `value` in decimal into all of `out`, padded with leading zeros.
fn put_digits(out: &mut [u8], mut value: u32) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
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
    fn display_matches_chrono() {
        let cases = [
            ("0001-01-01T00:00:00.000000001Z", Precision::Nanos),
            ("1999-12-31T23:59:59.999Z", Precision::Millis),
            ("2024-02-29T07:05:09.000120Z", Precision::Micros),
            ("9999-12-31T23:59:59Z", Precision::Seconds),
        ];
        for (text, precision) in cases {
            let t = Timestamp::parse_rfc3339(text).unwrap();
            assert_eq!(t.precision, precision);
            assert_eq!(t.to_string(), text);
            let format = [SecondsFormat::Secs, SecondsFormat::Millis, SecondsFormat::Micros, SecondsFormat::Nanos];
            for (p, f) in [Precision::Seconds, Precision::Millis, Precision::Micros, Precision::Nanos].into_iter().zip(format) {
                assert_eq!(Timestamp::new(t.time, p).to_string(), t.time.to_rfc3339_opts(f, true));
            }
        }
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
