//! journald JSON export (`journalctl -o json`): one JSON object per line.
//!
//! Every journald field is kept under its own name (`_HOSTNAME`, `SYSLOG_IDENTIFIER`,
//! `MESSAGE`, ...), and the ECS alias table resolves `host.name`, `process.name`, `message` and
//! the rest. The decoder adds the typed ECS fields the strings cannot give: `process.pid` as
//! an integer, `log.syslog.severity.code` and `log.syslog.facility.code`, and the event time
//! from `__REALTIME_TIMESTAMP` (microseconds since the epoch). Messages of sshd (by
//! `SYSLOG_IDENTIFIER`, `_COMM` or an ssh systemd unit), PAM, sudo, su and the other programs
//! the syslog decoder knows are parsed the same way as syslog lines.

use std::io::{self, BufRead};

use chrono::DateTime;
use serde_json::{Map, Value as Json};
use tocsin_event::{Event, Evidence, Precision, Schema, Str, Timestamp, Value};

use super::syslog;
use crate::lines::LineReader;
use crate::Context;

/// Recognises a journald export by the address fields journald writes first in every entry.
pub fn sniff(head: &[u8]) -> bool {
    let first = match memchr::memchr(b'\n', head) {
        Some(end) => &head[..end],
        None => head,
    };
    let first = first.trim_ascii_start();
    first.starts_with(b"{")
        && (memchr::memmem::find(first, b"\"__REALTIME_TIMESTAMP\"").is_some()
            || memchr::memmem::find(first, b"\"__CURSOR\"").is_some())
}

/// Decodes a journald JSON export, one event per line.
pub fn decode(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let mut lines = LineReader::new(reader, ctx.options.max_line_bytes);
    while let Some(next) = lines.next_text(ctx) {
        let line = next?;
        let location = line.location();
        let text = line.text;
        let evidence = Evidence::line(ctx.source.clone(), line.number, line.offset);
        match parse_entry_text(&text, evidence) {
            Ok(event) => ctx.emit(event),
            Err(message) => ctx.error(location, message),
        }
    }
    Ok(())
}

/// Decodes one journald entry, the JSON object `journalctl -o json` writes on one line.
pub fn parse_entry_text(text: &str, evidence: Evidence) -> Result<Event, String> {
    let entry: Map<String, Json> = serde_json::from_str(text.trim()).map_err(|e| format!("invalid journald JSON entry: {e}"))?;
    let mut event = Event::with_capacity(Schema::Journald, evidence, entry.len() + 12);
    event.raw = Some(text.trim().into());

    for (name, json) in &entry {
        if let Some(value) = field_value(json) {
            event.push(Str::from(name.as_str()), value);
        }
    }

    if let Some(micros) = string_field(&entry, "__REALTIME_TIMESTAMP").and_then(|t| t.parse::<i64>().ok()) {
        event.timestamp = DateTime::from_timestamp_micros(micros).map(|time| Timestamp::new(time, Precision::Micros));
    }
    let pid = string_field(&entry, "_PID").or_else(|| string_field(&entry, "SYSLOG_PID"));
    if let Some(pid) = pid.and_then(|p| p.parse::<i64>().ok()) {
        event.push("process.pid", Value::Int(pid));
    }
    if let Some(priority) = string_field(&entry, "PRIORITY").and_then(|p| p.parse::<i64>().ok()) {
        event.push("log.syslog.severity.code", Value::Int(priority));
    }
    if let Some(facility) = string_field(&entry, "SYSLOG_FACILITY").and_then(|p| p.parse::<i64>().ok()) {
        event.push("log.syslog.facility.code", Value::Int(facility));
    }

    let program = string_field(&entry, "SYSLOG_IDENTIFIER").or_else(|| string_field(&entry, "_COMM"));
    let unit = string_field(&entry, "_SYSTEMD_UNIT").unwrap_or("");
    let program = if program.is_none_or(|p| !syslog::sshd::is_sshd_program(p)) && is_ssh_unit(unit) { Some("sshd") } else { program };
    if let Some(message) = event.get_source("MESSAGE").and_then(Value::as_str).map(str::to_owned) {
        syslog::parse_message_fields(program, &message, &mut event);
    }
    Ok(event)
}

/// Returns a field's value when it is a JSON string.
fn string_field<'a>(entry: &'a Map<String, Json>, name: &str) -> Option<&'a str> {
    entry.get(name).and_then(Json::as_str)
}

/// `ssh.service`, `sshd.service`, and the per-connection `sshd@<n>-<addr>.service` units of
/// socket-activated sshd.
fn is_ssh_unit(unit: &str) -> bool {
    unit == "ssh.service" || unit == "sshd.service" || unit.starts_with("sshd@") || unit.starts_with("ssh@")
}

/// Converts a journald field value: strings stay strings, a byte array (a value that is not
/// valid UTF-8) becomes text decoded lossily, and an array of strings (a field set more than
/// once in the entry) becomes a list. `null` (a value journalctl left out because of its
/// size) is dropped.
fn field_value(json: &Json) -> Option<Value> {
    match json {
        Json::Null => None,
        Json::String(s) => Some(Value::Str(Str::from(s.as_str()))),
        Json::Array(items) => {
            if let Some(bytes) = byte_array(items) {
                return Some(Value::Str(Str::from(String::from_utf8_lossy(&bytes))));
            }
            let values = items.iter().filter_map(field_value).collect();
            Some(Value::List(values))
        }
        other => Some(Value::from_json(other)),
    }
}

fn byte_array(items: &[Json]) -> Option<Vec<u8>> {
    items.iter().map(|item| item.as_u64().and_then(|n| u8::try_from(n).ok())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::SourceRef;

    fn entry(text: &str) -> Event {
        parse_entry_text(text, Evidence::new(SourceRef::new("j.json"))).unwrap()
    }

    #[test]
    fn sniff_export() {
        assert!(sniff(br#"{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1700000000000000","MESSAGE":"x"}"#));
        assert!(!sniff(br#"{"Records":[]}"#));
    }

    #[test]
    fn byte_array_message() {
        let e = entry(r#"{"__REALTIME_TIMESTAMP":"1700000000123456","MESSAGE":[104,105,255],"_PID":"42"}"#);
        assert_eq!(e.get_source("MESSAGE").and_then(Value::as_str), Some("hi\u{fffd}"));
        assert_eq!(e.get_i64("process.pid"), Some(42));
        assert_eq!(e.timestamp.unwrap().to_string(), "2023-11-14T22:13:20.123456Z");
    }

    #[test]
    fn invalid_json_is_error() {
        assert!(parse_entry_text("{not json", Evidence::new(SourceRef::new("j"))).is_err());
    }
}
