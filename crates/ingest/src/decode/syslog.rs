//! Syslog lines: RFC 3164 (auth.log, secure, messages), RFC 5424, and rsyslog lines with
//! ISO-8601 timestamps, with sshd, PAM, sudo, su, systemd-logind, cron and shadow-tool
//! messages parsed into ECS fields.
//!
//! Every line becomes one event: the header fields (`host.name`, `process.name`,
//! `process.pid`, `log.syslog.*`), the text after the header as `message`, the line itself as
//! the event's raw record, and the fields of a recognised message (see [`sshd`] and
//! [`programs`]). RFC 3164 timestamps carry no year; [`year`] explains how it is chosen.

mod header;
mod programs;
pub(crate) mod sshd;
mod year;

use std::io::{self, BufRead};

use chrono::{DateTime, Utc};
use tocsin_event::{Event, Evidence, Schema, Str, Timestamp, Value};

use crate::lines::LineReader;
use crate::Context;
use header::{Header, HeaderTime};
use year::YearResolver;

/// How many non-empty lines [`sniff`] looks at.
const SNIFF_LINES: usize = 8;

/// Recognises syslog text: at least half of the first non-empty lines (up to
/// [`SNIFF_LINES`]) start with an RFC 3164, RFC 5424 or ISO-8601 header. A majority rather
/// than the first line alone, so that a file cut in the middle of its first line (a copy
/// taken while the log rotated, a carved fragment) is still recognised.
pub fn sniff(head: &[u8]) -> bool {
    let complete = match memchr::memrchr(b'\n', head) {
        Some(end) => &head[..end],
        None => head,
    };
    let lines = complete
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .take(SNIFF_LINES);
    let (mut seen, mut matched) = (0, 0);
    for line in lines {
        seen += 1;
        if header::parse(&String::from_utf8_lossy(line)).is_some() {
            matched += 1;
        }
    }
    matched > 0 && matched * 2 >= seen
}

/// Decodes a syslog file, one event per line.
pub fn decode(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let mut lines = LineReader::new(reader, ctx.options.max_line_bytes);
    let upper_bound = ctx.modified.map(DateTime::<Utc>::from).unwrap_or_else(Utc::now);
    let mut years = YearResolver::new(ctx.options.timezone, ctx.options.year, upper_bound);

    while let Some(next) = lines.next_text(ctx) {
        let line = next?;
        let location = line.location();
        let text = line.text;
        let Some(header) = header::parse(&text) else {
            ctx.error(location, "not a syslog line: no RFC 3164, RFC 5424 or ISO-8601 timestamp at its start");
            continue;
        };
        let timestamp = match header.time {
            Some(HeaderTime::NoYear(t)) => years.resolve(t),
            Some(HeaderTime::Full(t)) => Some(t),
            Some(HeaderTime::Nil) | None => None,
        };
        let evidence = Evidence::line(ctx.source.clone(), line.number, line.offset);
        ctx.emit(build_event(&text, header, timestamp, evidence));
    }
    Ok(())
}

/// Decodes one syslog-like message that arrived in an envelope (a CloudWatch Logs event):
/// a full syslog line, or a bare message whose header the shipper removed (`sshd[12]: ...`
/// or just `Accepted publickey for ...`).
///
/// `received` is the envelope's time. An RFC 3164 timestamp takes the year that puts it
/// closest to that time. Without a receive time, the year comes from `--year`, else from
/// the file's modification time or now.
pub fn parse_message(text: &str, evidence: Evidence, received: Option<Timestamp>, ctx: &Context<'_>) -> Result<Event, String> {
    let text = text.trim_end_matches(['\r', '\n']);
    if text.trim().is_empty() {
        return Err("empty message".to_string());
    }
    if let Some(header) = header::parse(text) {
        let timezone = ctx.options.timezone;
        let timestamp = match header.time {
            Some(HeaderTime::NoYear(t)) => match (received, ctx.options.year) {
                (Some(received), _) => year::closest_to(received.time, timezone, t),
                (None, Some(first_year)) => YearResolver::new(timezone, Some(first_year), Utc::now()).resolve(t),
                (None, None) => {
                    let reference = ctx.modified.map(DateTime::<Utc>::from).unwrap_or_else(Utc::now);
                    YearResolver::new(timezone, None, reference).resolve(t)
                }
            },
            Some(HeaderTime::Full(t)) => Some(t),
            Some(HeaderTime::Nil) | None => None,
        };
        return Ok(build_event(text, header, timestamp, evidence));
    }

    // No header. A PAM or sshd message can contain `(...):` or `word:` near its start, so
    // it is recognised whole before a `program[pid]:` tag is looked for.
    let bare = text.starts_with("pam_") || text.starts_with("PAM ") || sshd::parse(text).is_some();
    let (program, pid, message) = if bare { (None, None, text) } else { header::split_tag(text) };
    let header = Header { program, pid, message, ..Header::default() };
    Ok(build_event(text, header, None, evidence))
}

const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp",
    "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
    "local7",
];
const SEVERITIES: [&str; 8] = ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"];

/// Builds the event of one syslog line from its parsed header.
fn build_event(raw: &str, header: Header<'_>, timestamp: Option<Timestamp>, evidence: Evidence) -> Event {
    let mut event = Event::with_capacity(Schema::Syslog, evidence, 16);
    event.timestamp = timestamp;
    event.raw = Some(raw.into());

    if let Some(priority) = header.priority {
        let facility = usize::from(priority / 8);
        let severity = usize::from(priority % 8);
        event.push("log.syslog.priority", Value::Int(i64::from(priority)));
        event.push("log.syslog.facility.code", Value::Int(facility as i64));
        event.push("log.syslog.facility.name", FACILITIES[facility]);
        event.push("log.syslog.severity.code", Value::Int(severity as i64));
        event.push("log.syslog.severity.name", SEVERITIES[severity]);
    }
    if let Some(version) = header.version {
        event.push("log.syslog.version", Value::Int(i64::from(version)));
    }
    if let Some(hostname) = header.hostname {
        event.push("host.name", hostname);
    }
    if let Some(program) = header.program {
        event.push("process.name", program);
        if header.version.is_some() {
            event.push("log.syslog.appname", program);
        }
    }
    if let Some(pid) = header.pid {
        match pid.parse::<i64>() {
            Ok(pid) => event.push("process.pid", Value::Int(pid)),
            Err(_) => event.push("log.syslog.procid", pid),
        }
    }
    if let Some(msgid) = header.msgid {
        event.push("log.syslog.msgid", msgid);
    }
    for param in &header.structured_data {
        let name = format!("log.syslog.structured_data.{}.{}", param.id, param.name);
        event.push(Str::from(name), param.value.as_str());
    }
    event.push("message", header.message);
    parse_message_fields(header.program, header.message, &mut event);
    event
}

/// Pushes the fields of a recognised message: sshd first (for sshd programs and for bare
/// messages of unknown origin), then PAM and the other known programs.
pub(crate) fn parse_message_fields(program: Option<&str>, message: &str, event: &mut Event) -> bool {
    let (message, repeated) = strip_repeated(message);
    if let Some(count) = repeated {
        event.push("log.syslog.repeated", Value::Int(count));
    }
    if program.is_none_or(sshd::is_sshd_program) && sshd::parse_into(message, event) {
        return true;
    }
    programs::parse_into(program, message, event)
}

/// Unwraps rsyslog's `message repeated N times: [ <message>]`.
fn strip_repeated(message: &str) -> (&str, Option<i64>) {
    let Some(rest) = message.strip_prefix("message repeated ") else { return (message, None) };
    let Some((count, inner)) = rest.split_once(" times: [") else { return (message, None) };
    let Ok(count) = count.parse::<i64>() else { return (message, None) };
    let inner = inner.strip_suffix(']').unwrap_or(inner);
    (inner.strip_prefix(' ').unwrap_or(inner), Some(count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Collect, FileStats, Options};
    use tocsin_event::SourceRef;

    fn decode_text(text: &str, options: &Options) -> (Collect, FileStats) {
        let mut out = Collect::default();
        let mut stats = FileStats::default();
        {
            let mut ctx = Context::new(SourceRef::new("t.log"), options, &mut stats, &mut out);
            decode(&mut text.as_bytes(), &mut ctx).unwrap();
        }
        (out, stats)
    }

    #[test]
    fn sniff_lines() {
        assert!(sniff(b"Mar 27 13:06:56 host sshd[1]: x\nMar 27 13:06:57 host sshd[1]: y\n"));
        assert!(sniff(b"\n<13>1 2019-02-13T19:48:34Z host app - - - x\n"));
        assert!(!sniff(b"hello world\n"));
        assert!(!sniff(b""));
        assert!(sniff(b"0:00 web-01 sshd[1]: cut line\nMar 27 13:06:57 host sshd[1]: y\nMar 27 13:06:58 host sshd[1]: z\n"));
        assert!(!sniff(b"a\nb\nMar 27 13:06:57 host sshd[1]: y\n"));
    }

    #[test]
    fn repeated_failed_password() {
        let options = Options { year: Some(2024), ..Options::default() };
        let (out, stats) = decode_text(
            "Apr  2 10:00:00 web-01 sshd[7]: message repeated 5 times: [ Failed password for root from 192.0.2.4 port 4000 ssh2]\n",
            &options,
        );
        assert_eq!(stats.records, 1);
        let e = &out.events[0];
        assert_eq!(e.get_i64("log.syslog.repeated"), Some(5));
        assert_eq!(e.get_str("user.name"), Some("root"));
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2024-04-02T10:00:00Z");
    }

    #[test]
    fn bad_line_reported_and_others_kept() {
        let (out, stats) = decode_text("Mar 27 13:06:56 host a: x\ngarbage\n\nMar 27 13:06:57 host a: y\n", &Options::default());
        assert_eq!(stats.records, 4);
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].location, crate::Location::Line { line: 2, offset: 26 });
    }

    #[test]
    fn invalid_utf8_reported_once() {
        let text = "Mar 27 13:06:56 host a: \u{0}x\n";
        let mut bytes = text.replace('\u{0}', "\u{1}").into_bytes();
        bytes[24] = 0xff;
        let twice = [bytes.clone(), bytes].concat();
        let mut out = Collect::default();
        let mut stats = FileStats::default();
        let options = Options::default();
        {
            let mut ctx = Context::new(SourceRef::new("t.log"), &options, &mut stats, &mut out);
            decode(&mut &twice[..], &mut ctx).unwrap();
        }
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.errors.len(), 1);
    }
}
