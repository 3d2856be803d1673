//! Years for RFC 3164 timestamps, which have none.
//!
//! A file is read in one pass. The first line takes its year from the analyst's `--year`.
//! Without it, the first line takes the latest year that does not put it after the file's
//! modification time (or after now, when the input has no modification time), because a
//! file is written before it is last modified. After that the year only changes when the month goes backwards by six months
//! or more (December to January), which means the year advanced. A smaller step back is a
//! line slightly out of order, or a sender with a skewed clock, and leaves the year alone.
//!
//! A single message that arrived with a receive time (CloudWatch Logs) takes the year that
//! puts it closest to that time, so `Dec 31 23:59:58` received at `Jan 1 00:00:05` is dated
//! the previous year.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use tocsin_event::{Precision, Timestamp};

/// Slack allowed between a line's time and the upper bound (file modification time or now),
/// for clocks and zones that disagree by a few hours.
const UPPER_BOUND_SLACK_HOURS: i64 = 26;

/// The fields of an RFC 3164 timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MonthDayTime {
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// Assigns years to the RFC 3164 timestamps of one file, in line order.
pub(crate) struct YearResolver {
    timezone: Tz,
    /// Year of the first line, from `--year`; when set, no upper bound applies.
    first_year: Option<i32>,
    /// Latest plausible time of a line: the file's modification time, else now.
    upper_bound: DateTime<Utc>,
    /// Year and month of the previous line.
    current: Option<(i32, u32)>,
}

impl YearResolver {
    pub(crate) fn new(timezone: Tz, first_year: Option<i32>, upper_bound: DateTime<Utc>) -> Self {
        YearResolver { timezone, first_year, upper_bound, current: None }
    }

    /// Returns the UTC time of the next line's timestamp, to the second.
    pub(crate) fn resolve(&mut self, t: MonthDayTime) -> Option<Timestamp> {
        let mut year = match self.current {
            None => match self.first_year {
                Some(year) => year,
                None => self.upper_bound.with_timezone(&self.timezone).year(),
            },
            Some((year, last_month)) if last_month >= t.month + 6 => year.saturating_add(1),
            Some((year, _)) => year,
        };
        if !date_exists(year, t.month, t.day) {
            // Only February 29 can be missing: move back to the last leap year.
            // NOTE: lines before it in the same file keep the year they were given. A file
            // that starts on February 28 of a leap year and was last modified the next year
            // therefore dates its February 28 lines a year late.
            year = latest_year_with(year, t.month, t.day)?;
        }
        let mut time = to_utc(self.timezone, year, t)?;
        if self.first_year.is_none() && time > later(self.upper_bound) {
            year = latest_year_with(year.saturating_sub(1), t.month, t.day)?;
            time = to_utc(self.timezone, year, t)?;
        }
        self.current = Some((year, t.month));
        Some(Timestamp::new(time, Precision::Seconds))
    }
}

/// Returns the time of `t` in the year that puts it closest to `reference`.
pub(crate) fn closest_to(reference: DateTime<Utc>, timezone: Tz, t: MonthDayTime) -> Option<Timestamp> {
    let reference_year = reference.with_timezone(&timezone).year();
    let mut best: Option<DateTime<Utc>> = None;
    for year in [reference_year.saturating_sub(1), reference_year, reference_year.saturating_add(1)] {
        if !date_exists(year, t.month, t.day) {
            continue;
        }
        let Some(time) = to_utc(timezone, year, t) else { continue };
        // Senders' clocks may run a little ahead of the receive time, but not by a year.
        if time > later(reference) {
            continue;
        }
        let closer = best.is_none_or(|b| (time - reference).abs() < (b - reference).abs());
        if closer {
            best = Some(time);
        }
    }
    let time = match best {
        Some(time) => time,
        None => to_utc(timezone, latest_year_with(reference_year, t.month, t.day)?, t)?,
    };
    Some(Timestamp::new(time, Precision::Seconds))
}

/// Returns the latest plausible time of a line given its upper bound, allowing
/// [`UPPER_BOUND_SLACK_HOURS`].
fn later(bound: DateTime<Utc>) -> DateTime<Utc> {
    bound.checked_add_signed(Duration::hours(UPPER_BOUND_SLACK_HOURS)).unwrap_or(bound)
}

fn date_exists(year: i32, month: u32, day: u32) -> bool {
    NaiveDate::from_ymd_opt(year, month, day).is_some()
}

/// Returns the latest year not after `year` in which the date exists (within eight years,
/// which covers February 29).
fn latest_year_with(year: i32, month: u32, day: u32) -> Option<i32> {
    (year.saturating_sub(8)..=year).rev().find(|&y| date_exists(y, month, day))
}

/// Converts a local time in `timezone` to UTC. An ambiguous time (the repeated hour when
/// clocks go back) takes the earlier instant. A time in the skipped hour when clocks go
/// forward is read with the offset from before the change.
fn to_utc(timezone: Tz, year: i32, t: MonthDayTime) -> Option<DateTime<Utc>> {
    let date = NaiveDate::from_ymd_opt(year, t.month, t.day)?;
    // A leap second (:60) is folded into the second before it.
    let local = date.and_hms_opt(t.hour, t.minute, t.second.min(59))?;
    if timezone == Tz::UTC {
        return Some(Utc.from_utc_datetime(&local));
    }
    if let Some(time) = timezone.from_local_datetime(&local).earliest() {
        return Some(time.with_timezone(&Utc));
    }
    let before = local.checked_sub_signed(Duration::hours(1))?;
    let time = timezone.from_local_datetime(&before).earliest()?;
    time.with_timezone(&Utc).checked_add_signed(Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn mdt(month: u32, day: u32, hour: u32, minute: u32, second: u32) -> MonthDayTime {
        MonthDayTime { month, day, hour, minute, second }
    }

    #[test]
    fn closest_across_new_year() {
        let t = closest_to(at("2025-01-01T00:00:05Z"), Tz::UTC, mdt(12, 31, 23, 59, 58)).unwrap();
        assert_eq!(t.to_string(), "2024-12-31T23:59:58Z");
        let t = closest_to(at("2024-12-31T23:59:59Z"), Tz::UTC, mdt(1, 1, 0, 0, 1)).unwrap();
        assert_eq!(t.to_string(), "2025-01-01T00:00:01Z");
    }

    #[test]
    fn closest_feb_29() {
        let t = closest_to(at("2025-03-01T00:00:00Z"), Tz::UTC, mdt(2, 29, 12, 0, 0)).unwrap();
        assert_eq!(t.to_string(), "2024-02-29T12:00:00Z");
        let t = closest_to(at("2027-03-01T00:00:00Z"), Tz::UTC, mdt(2, 29, 12, 0, 0)).unwrap();
        assert_eq!(t.to_string(), "2024-02-29T12:00:00Z");
    }

    #[test]
    fn file_rolls_over_new_year() {
        let mut years = YearResolver::new(Tz::UTC, None, at("2025-01-02T10:00:00Z"));
        let times: Vec<String> = [mdt(12, 30, 8, 0, 0), mdt(12, 31, 23, 59, 59), mdt(1, 1, 0, 0, 0), mdt(1, 2, 9, 0, 0)]
            .into_iter()
            .map(|t| years.resolve(t).unwrap().to_string())
            .collect();
        assert_eq!(times, ["2024-12-30T08:00:00Z", "2024-12-31T23:59:59Z", "2025-01-01T00:00:00Z", "2025-01-02T09:00:00Z"]);
    }

    #[test]
    fn explicit_year_is_first_line_year() {
        let mut years = YearResolver::new(Tz::UTC, Some(2019), at("2025-06-01T00:00:00Z"));
        assert_eq!(years.resolve(mdt(12, 31, 0, 0, 0)).unwrap().to_string(), "2019-12-31T00:00:00Z");
        assert_eq!(years.resolve(mdt(1, 1, 0, 0, 0)).unwrap().to_string(), "2020-01-01T00:00:00Z");
    }

    #[test]
    fn small_step_back_keeps_year() {
        let mut years = YearResolver::new(Tz::UTC, None, at("2025-06-01T00:00:00Z"));
        assert_eq!(years.resolve(mdt(4, 1, 0, 0, 0)).unwrap().to_string(), "2025-04-01T00:00:00Z");
        assert_eq!(years.resolve(mdt(3, 31, 23, 59, 59)).unwrap().to_string(), "2025-03-31T23:59:59Z");
    }

    #[test]
    fn feb_29_in_file() {
        let mut years = YearResolver::new(Tz::UTC, None, at("2025-03-01T00:00:00Z"));
        assert_eq!(years.resolve(mdt(2, 29, 12, 0, 0)).unwrap().to_string(), "2024-02-29T12:00:00Z");
    }

    #[test]
    fn time_zone_applied() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let mut years = YearResolver::new(tz, Some(2024), at("2025-01-01T00:00:00Z"));
        assert_eq!(years.resolve(mdt(7, 1, 12, 0, 0)).unwrap().to_string(), "2024-07-01T10:00:00Z");
        assert_eq!(years.resolve(mdt(12, 1, 12, 0, 0)).unwrap().to_string(), "2024-12-01T11:00:00Z");
    }
}
