//! AWS VPC Flow Logs: versions 2 to 8, default and custom field order.
//!
//! A record is one line of space-separated values. The field order comes from the first of: a
//! header line naming the fields, the `flow_log_format` option, or the default version 2
//! format. S3 delivery writes a header at the top of each object, and a header later in the
//! input replaces the layout. A record whose value count differs from the layout is reported,
//! never cut by guessing. Field names stay as AWS writes them (`srcaddr`, `log-status`), a `-`
//! value is left out of the event, and a field name tocsin does not know is kept as a string.

use std::borrow::Cow;
use std::io::{self, BufRead};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tocsin_event::{Event, Evidence, Precision, Schema, Str, Timestamp, Value};

use crate::{Context, LineError, LineReader, Location};

/// The default format: every version 2 field, in this order.
pub const DEFAULT_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// The type a field's text is parsed into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Ip,
    Text,
}

/// The fields AWS documents for flow log versions 2 to 8, with their types. Names missing
/// here are kept as text.
const KNOWN_FIELDS: &[(&str, Kind)] = &[
    ("version", Kind::Int),
    ("account-id", Kind::Text),
    ("interface-id", Kind::Text),
    ("srcaddr", Kind::Ip),
    ("dstaddr", Kind::Ip),
    ("srcport", Kind::Int),
    ("dstport", Kind::Int),
    ("protocol", Kind::Int),
    ("packets", Kind::Int),
    ("bytes", Kind::Int),
    ("start", Kind::Int),
    ("end", Kind::Int),
    ("action", Kind::Text),
    ("log-status", Kind::Text),
    // Version 3.
    ("vpc-id", Kind::Text),
    ("subnet-id", Kind::Text),
    ("instance-id", Kind::Text),
    ("tcp-flags", Kind::Int),
    ("type", Kind::Text),
    ("pkt-srcaddr", Kind::Ip),
    ("pkt-dstaddr", Kind::Ip),
    // Version 4.
    ("region", Kind::Text),
    ("az-id", Kind::Text),
    ("sublocation-type", Kind::Text),
    ("sublocation-id", Kind::Text),
    // Version 5.
    ("pkt-src-aws-service", Kind::Text),
    ("pkt-dst-aws-service", Kind::Text),
    ("flow-direction", Kind::Text),
    ("traffic-path", Kind::Int),
    // Version 7: Amazon ECS.
    ("ecs-cluster-arn", Kind::Text),
    ("ecs-cluster-name", Kind::Text),
    ("ecs-container-instance-arn", Kind::Text),
    ("ecs-container-instance-id", Kind::Text),
    ("ecs-container-id", Kind::Text),
    ("ecs-second-container-id", Kind::Text),
    ("ecs-service-name", Kind::Text),
    ("ecs-task-definition-arn", Kind::Text),
    ("ecs-task-arn", Kind::Text),
    ("ecs-task-id", Kind::Text),
    // Version 8.
    ("reject-reason", Kind::Text),
];

fn kind_of(name: &str) -> Option<Kind> {
    KNOWN_FIELDS.iter().find(|(known, _)| *known == name).map(|(_, kind)| *kind)
}

/// A field order: the names of a record's values, with their types resolved once.
#[derive(Clone, Debug)]
pub struct Layout {
    fields: Vec<(Str, Kind)>,
    /// The source of the layout, named in error messages.
    origin: &'static str,
}

impl Layout {
    fn from_names<'a>(names: impl Iterator<Item = &'a str>, origin: &'static str) -> Layout {
        let fields: Vec<(Str, Kind)> = names.map(|name| (Str::from(name), kind_of(name).unwrap_or(Kind::Text))).collect();
        let unknown: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).filter(|name| kind_of(name).is_none()).collect();
        if !unknown.is_empty() {
            tracing::info!(fields = ?unknown, origin, "flow log format names fields this version of tocsin does not know; their values are kept as strings");
        }
        Layout { fields, origin }
    }

    /// The default version 2 format.
    pub fn default_format() -> Layout {
        Layout::from_names(DEFAULT_FIELDS.iter().copied(), "the default version 2 format")
    }

    /// Parses a format string as AWS writes it: `version account-id ...` or
    /// `${version} ${account-id} ...`. Returns `None` when it names no field.
    pub fn parse_format(format: &str) -> Option<Layout> {
        let names: Vec<&str> = format.split_ascii_whitespace().map(strip_placeholder).filter(|n| !n.is_empty()).collect();
        if names.is_empty() {
            return None;
        }
        Some(Layout::from_names(names.into_iter(), "the configured flow log format"))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

fn strip_placeholder(token: &str) -> &str {
    token.strip_prefix("${").and_then(|t| t.strip_suffix('}')).unwrap_or(token)
}

/// Recognises a header line: every token is shaped like a field name, and at least two (or
/// the only one) are fields AWS documents. Record values such as `eni-0a1b...` are shaped like
/// names too, which is why known names are required.
fn is_header(line: &str) -> bool {
    let mut tokens = 0;
    let mut known = 0;
    for token in line.split_ascii_whitespace() {
        let token = strip_placeholder(token);
        let shaped = token.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
            && token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !shaped {
            return false;
        }
        tokens += 1;
        if kind_of(token).is_some() {
            known += 1;
        }
    }
    known >= 2 || (tokens == 1 && known == 1)
}

/// Recognises a flow log from the first bytes of an input: a header line, a default-format
/// record, or a record of a custom format (an `eni-` interface id beside an address or an
/// action or status word).
pub fn sniff(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')) else {
        return false;
    };
    is_header(first) || sniff_record(first.as_bytes()) || looks_like_custom_record(first)
}

fn looks_like_custom_record(line: &str) -> bool {
    let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
    if tokens.len() < 4 {
        return false;
    }
    // Exclude lines that start with a timestamp or a month name: syslog and CloudWatch
    // export lines may quote flow records in their message.
    let first = tokens[0];
    let dated = first.len() >= 5 && first.as_bytes()[..4].iter().all(u8::is_ascii_digit) && first.as_bytes()[4] == b'-';
    let month = matches!(first, "Jan" | "Feb" | "Mar" | "Apr" | "May" | "Jun" | "Jul" | "Aug" | "Sep" | "Oct" | "Nov" | "Dec");
    if dated || month || first.starts_with('<') {
        return false;
    }
    let interface = tokens.iter().any(|t| t.starts_with("eni-"));
    let flow_value = tokens
        .iter()
        .any(|t| matches!(*t, "ACCEPT" | "REJECT" | "OK" | "NODATA" | "SKIPDATA") || t.parse::<IpAddr>().is_ok());
    interface && flow_value
}

/// Recognises one default-format (version 2) record: 14 values, a version number first, an
/// interface id third, and an action and log status last.
pub fn sniff_record(head: &[u8]) -> bool {
    let line = match head.iter().position(|&b| b == b'\n') {
        Some(end) => &head[..end],
        None => head,
    };
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
    if tokens.len() != DEFAULT_FIELDS.len() {
        return false;
    }
    let version = !tokens[0].is_empty() && tokens[0].bytes().all(|b| b.is_ascii_digit());
    let account = tokens[1] == "-"
        || tokens[1] == "unknown"
        || (!tokens[1].is_empty() && tokens[1].bytes().all(|b| b.is_ascii_digit()));
    let interface = tokens[2] == "-" || tokens[2].starts_with("eni-");
    let action = matches!(tokens[12], "ACCEPT" | "REJECT" | "-");
    let status = matches!(tokens[13], "OK" | "NODATA" | "SKIPDATA");
    version && account && interface && action && status
}

/// Decodes a flow log file: header lines set the layout, every other non-empty line is a
/// record, and `#` starts a comment (AWS documentation examples annotate records that way).
pub fn decode(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let configured = match ctx.options.flow_log_format.as_deref() {
        Some(format) => match Layout::parse_format(format) {
            Some(layout) => Some(layout),
            None => {
                ctx.error(Location::File, format!("the flow log format {format:?} names no field; using the default format"));
                None
            }
        },
        None => None,
    };
    let mut layout = Arc::new(configured.unwrap_or_else(Layout::default_format));
    let mut lines = LineReader::new(reader, ctx.options.max_line_bytes);
    let mut reported_utf8 = false;

    while let Some(next) = lines.next_line() {
        let line = match next {
            Ok(line) => line,
            Err(LineError::TooLong { number, offset, length }) => {
                ctx.record();
                ctx.error(
                    Location::Line { line: number, offset },
                    format!("line is {length} bytes, longer than the {}-byte limit; skipped", ctx.options.max_line_bytes),
                );
                continue;
            }
            Err(LineError::Io { error, .. }) => return Err(error),
        };
        let location = Location::Line { line: line.number, offset: line.offset };
        let text = match std::str::from_utf8(line.bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => {
                if !reported_utf8 {
                    reported_utf8 = true;
                    ctx.error(location, "invalid UTF-8; this and later lines are decoded with replacement characters");
                }
                String::from_utf8_lossy(line.bytes)
            }
        };
        let record = strip_comment(&text);
        if record.is_empty() {
            if text.trim_start().starts_with('#') {
                ctx.skip("comment line", 1);
            }
            continue;
        }
        if is_header(record) {
            layout = Arc::new(Layout::from_names(record.split_ascii_whitespace().map(strip_placeholder), "the header line"));
            continue;
        }

        ctx.record();
        let evidence = Evidence::line(ctx.source.clone(), line.number, line.offset);
        match parse_record(record, &layout, evidence) {
            Ok(mut event) => {
                event.raw = Some(Box::from(text.as_ref()));
                ctx.emit(event);
            }
            Err(message) => ctx.error(location, message),
        }
    }
    Ok(())
}

/// Returns the record part of a line: without surrounding space and without a trailing
/// `#` comment.
fn strip_comment(line: &str) -> &str {
    let line = line.trim();
    if line.starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(at) => line[..at].trim_end(),
        None => line,
    }
}

/// Decodes one default-format (version 2) record, such as a flow log message delivered
/// through CloudWatch Logs.
pub fn parse_default_record(text: &str, evidence: Evidence) -> Result<Event, String> {
    parse_record_with_format(text, None, evidence)
}

/// Decodes one record in the given format string (`version account-id ...`), or in the
/// default format when `format` is `None`.
pub fn parse_record_with_format(text: &str, format: Option<&str>, evidence: Evidence) -> Result<Event, String> {
    let layout = match format {
        Some(format) => Layout::parse_format(format).ok_or_else(|| format!("the flow log format {format:?} names no field"))?,
        None => Layout::default_format(),
    };
    let record = strip_comment(text);
    let mut event = parse_record(record, &layout, evidence)?;
    event.raw = Some(Box::from(text.trim_end()));
    Ok(event)
}

/// Returns whether `text` is a record of the given format string: the same number of values,
/// and every integer or address field either `-` or a valid integer or address. Used for
/// custom-format records delivered through CloudWatch Logs, which have no header line.
pub fn fits_format(text: &str, format: &str) -> bool {
    let Some(layout) = Layout::parse_format(format) else {
        return false;
    };
    let record = strip_comment(text);
    record.split_ascii_whitespace().count() == layout.len()
        && layout.fields.iter().zip(record.split_ascii_whitespace()).all(|((_, kind), value)| {
            value == "-"
                || match kind {
                    Kind::Int => value.parse::<i64>().is_ok(),
                    Kind::Ip => value.parse::<IpAddr>().is_ok(),
                    Kind::Text => true,
                }
        })
}

/// Turns one record into an event with the given layout.
fn parse_record(record: &str, layout: &Layout, evidence: Evidence) -> Result<Event, String> {
    let count = record.split_ascii_whitespace().count();
    if count != layout.len() {
        return Err(format!(
            "record has {count} values but {} names {} fields; give the field order with a header line or --flow-log-format",
            layout.origin,
            layout.len()
        ));
    }

    let mut event = Event::with_capacity(Schema::VpcFlow, evidence, layout.len() + 6);
    for ((name, kind), text) in layout.fields.iter().zip(record.split_ascii_whitespace()) {
        if text == "-" {
            continue;
        }
        event.push(name.clone(), typed_value(*kind, text));
    }
    add_derived_fields(&mut event);
    Ok(event)
}

/// Types a value. Text that does not fit its field's type is kept as a string.
fn typed_value(kind: Kind, text: &str) -> Value {
    match kind {
        Kind::Int => text.parse::<i64>().map(Value::Int).unwrap_or_else(|_| Value::from(text)),
        Kind::Ip => text.parse::<IpAddr>().map(Value::Ip).unwrap_or_else(|_| Value::from(text)),
        Kind::Text => Value::from(text),
    }
}

/// Adds the timestamp and the ECS fields that are computed rather than renamed (renamed ones
/// live in the VPC Flow alias table of the event crate).
fn add_derived_fields(event: &mut Event) {
    let start = event.get_source("start").and_then(Value::as_i64).and_then(seconds_to_timestamp);
    let end = event.get_source("end").and_then(Value::as_i64).and_then(seconds_to_timestamp);
    event.timestamp = start;
    if let Some(start) = start {
        event.push("event.start", Value::Time(start));
    }
    if let Some(end) = end {
        event.push("event.end", Value::Time(end));
    }

    let transport = event.get_source("protocol").and_then(|v| match v {
        Value::Int(number) => transport_name(*number),
        _ => None,
    });
    if let Some(name) = transport {
        event.push("network.transport", name);
    }

    let network_type = match event.get_source("type").and_then(Value::as_str) {
        Some(kind) => Some(Str::from(kind.to_ascii_lowercase())),
        None => match event.get_source("srcaddr").or_else(|| event.get_source("dstaddr")) {
            Some(Value::Ip(IpAddr::V4(_))) => Some(Str::from("ipv4")),
            Some(Value::Ip(IpAddr::V6(_))) => Some(Str::from("ipv6")),
            _ => None,
        },
    };
    if let Some(kind) = network_type {
        event.push("network.type", kind);
    }

    let outcome = match event.get_source("action").and_then(Value::as_str) {
        Some("ACCEPT") => Some("success"),
        Some("REJECT") => Some("failure"),
        _ => None,
    };
    if let Some(outcome) = outcome {
        event.push("event.outcome", outcome);
    }
}

fn seconds_to_timestamp(seconds: i64) -> Option<Timestamp> {
    let time = Utc.timestamp_opt(seconds, 0).single()?;
    Some(Timestamp::new(time, Precision::Seconds))
}

/// Returns the ECS `network.transport` name of an IANA protocol number, for the protocols
/// that appear in VPC traffic.
pub fn transport_name(number: i64) -> Option<&'static str> {
    Some(match number {
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        132 => "sctp",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::SourceRef;

    fn evidence() -> Evidence {
        Evidence::line(SourceRef::new("flow.log"), 1, 0)
    }

    #[test]
    fn default_record_fields() {
        let line = "2 111122223333 eni-0a1b2c3d4e5f60789 198.51.100.7 192.0.2.10 49152 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
        assert!(sniff_record(line.as_bytes()));
        let event = parse_default_record(line, evidence()).unwrap();
        assert_eq!(event.get("srcaddr"), Some(&Value::Ip("198.51.100.7".parse().unwrap())));
        assert_eq!(event.get_i64("dstport"), Some(22));
        assert_eq!(event.get_str("network.transport"), Some("tcp"));
        assert_eq!(event.get_str("event.outcome"), Some("success"));
        assert_eq!(event.timestamp.unwrap().to_string(), "2014-12-14T04:06:50Z");
    }

    #[test]
    fn dash_values_absent() {
        let line = "2 111122223333 eni-0a1b2c3d4e5f60789 - - - - - - - 1431280876 1431280934 - NODATA";
        let event = parse_default_record(line, evidence()).unwrap();
        assert_eq!(event.get_str("log-status"), Some("NODATA"));
        assert_eq!(event.get("srcaddr"), None);
        assert_eq!(event.get("packets"), None);
        assert_eq!(event.get("event.outcome"), None);
    }

    #[test]
    fn wrong_count_rejected() {
        let error = parse_default_record("2 111122223333 eni-0a1b2c3d4e5f60789 ACCEPT OK", evidence()).unwrap_err();
        assert!(error.contains("record has 5 values"), "{error}");
    }

    #[test]
    fn placeholder_format() {
        let layout = Layout::parse_format("${version} ${vpc-id} ${srcaddr}").unwrap();
        assert_eq!(layout.len(), 3);
        assert_eq!(layout.fields[1].0, "vpc-id");
        assert_eq!(layout.fields[2].1, Kind::Ip);
    }

    #[test]
    fn header_detection() {
        assert!(is_header("version account-id interface-id srcaddr"));
        assert!(is_header("instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr"));
        assert!(!is_header("2 111122223333 eni-0a1b2c3d4e5f60789"));
        assert!(!is_header("eni-0a1b2c3d4e5f60789 vpc-0a1b2c3d"));
    }

    #[test]
    fn trailing_comment_stripped() {
        assert_eq!(strip_comment("i-0123 eni-1 10.0.1.5 #Traffic from the instance"), "i-0123 eni-1 10.0.1.5");
        assert_eq!(strip_comment("# a comment"), "");
    }
}
