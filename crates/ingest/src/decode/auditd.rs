//! Linux audit logs as auditd writes them (`/var/log/audit/audit.log`, format `raw`):
//! `type=SYSCALL msg=audit(1604994496.155:92733): key=value ...`, one record per line.
//!
//! The records of one kernel event share the `audit(seconds.millis:serial)` stamp and are
//! joined into one event: SYSCALL, EXECVE, CWD, PATH, PROCTITLE and the rest. Records of
//! different events may interleave, so up to [`MAX_OPEN_EVENTS`] events stay open at once. An
//! event is closed by its EOE record, when [`RECORD_WINDOW`] records have passed without one
//! of its own, when more events are open than allowed (oldest first), or at the end of the
//! input. An event that reaches [`MAX_RECORDS_PER_EVENT`] or [`MAX_EVENT_BYTES`] takes no
//! more records; later records with its stamp start another event. The window counts records rather than serials because collected or merged logs put
//! records of one event next to records with unrelated serials.
//!
//! Keys keep their audit names (`exe`, `comm`, `auid`, `a0`); a key that several records of an
//! event carry contains the list of their values (the PATH `name`s, say). Values that auditd
//! hex-encodes because they may contain spaces or control characters are decoded. The
//! decoder adds `type` (the record types, in order), `event.sequence` (the serial),
//! `process.pid`, `process.parent.pid`, `process.args`, `process.args_count`,
//! `process.command_line` (the EXECVE arguments joined with spaces), `process.title`,
//! `event.outcome`, `tags` (the rule keys) and `source.ip`.

mod syscalls;

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::net::IpAddr;

use chrono::DateTime;
use tocsin_event::{Event, Evidence, Precision, Schema, SourceRef, Str, Timestamp, Value};

use crate::lines::LineReader;
use crate::Context;

/// Records read without one for an open event, after which that event is taken as complete.
const RECORD_WINDOW: u64 = 64;
/// Events kept open at once while waiting for more of their records.
const MAX_OPEN_EVENTS: usize = 32;
/// Records joined into one event at most; more records with the same stamp start a new event.
const MAX_RECORDS_PER_EVENT: usize = 1024;
/// Bytes of record text joined into one event at most (a single longer record is still
/// taken), so that open events cost bounded memory whatever the input.
const MAX_EVENT_BYTES: usize = 1 << 20;
/// EXECVE arguments kept at most; auditd itself splits long argument lists across records.
const MAX_ARGS: usize = 4096;

/// Keys whose values auditd writes hex-encoded, without quotes, when they contain a space, a
/// quote or a control character (the kernel's `audit_log_untrustedstring`). Quoted values of
/// these keys are plain text.
const ENCODED_KEYS: &[&str] = &[
    "comm", "exe", "cwd", "name", "path", "proctitle", "key", "acct", "cmd", "data", "ocomm", "watch", "dir", "file",
    "vm", "root_dir", "grp", "new_group", "old_group", "new-chardev", "old-chardev",
];

/// How many non-empty lines [`sniff`] looks at.
const SNIFF_LINES: usize = 8;

/// Recognises an audit log: at least half of the first non-empty lines (up to
/// [`SNIFF_LINES`]) are audit records, so that a file whose first line was cut is still
/// recognised. A single line, as a CloudWatch Logs message, must be a record.
pub fn sniff(head: &[u8]) -> bool {
    let lines = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|line| !line.is_empty())
        .take(SNIFF_LINES);
    let (mut seen, mut matched) = (0, 0);
    for line in lines {
        seen += 1;
        let line = strip_node(line);
        if line.starts_with(b"type=") && memchr::memmem::find(line, b" msg=audit(").is_some() {
            matched += 1;
        }
    }
    matched > 0 && matched * 2 >= seen
}

fn strip_node(line: &[u8]) -> &[u8] {
    if line.starts_with(b"node=")
        && let Some(space) = memchr::memchr(b' ', line)
    {
        return &line[space + 1..];
    }
    line
}

/// Decodes an audit log, joining the records of each event.
pub fn decode(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let mut lines = LineReader::new(reader, ctx.options.max_line_bytes);
    let mut open: VecDeque<Builder> = VecDeque::new();
    let mut ordinal: u64 = 0;

    while let Some(next) = lines.next_text(ctx) {
        let line = match next {
            Ok(line) => line,
            Err(error) => {
                flush_all(&mut open, ctx);
                return Err(error);
            }
        };
        let location = line.location();
        let text = line.text;
        let Some(record) = Record::parse(&text) else {
            ctx.error(location, "not an audit record: expected `type=... msg=audit(seconds.millis:serial): ...`");
            continue;
        };

        ordinal += 1;
        close_idle(&mut open, ordinal, ctx);
        let position = open.iter().position(|b| b.stamp == record.stamp && b.has_room_for(text.len()));
        let index = match position {
            Some(index) => index,
            None => {
                close_oldest(&mut open, ctx);
                open.push_back(Builder::new(record.stamp, line.number, line.offset));
                open.len() - 1
            }
        };
        open[index].last_ordinal = ordinal;
        let is_end = record.kind == "EOE";
        open[index].add(&record, &text);
        if is_end && let Some(builder) = open.remove(index) {
            ctx.emit(builder.finish(ctx.source.clone()));
        }
    }
    flush_all(&mut open, ctx);
    Ok(())
}

/// Closes the events that got no record in the last [`RECORD_WINDOW`] records.
fn close_idle(open: &mut VecDeque<Builder>, ordinal: u64, ctx: &mut Context<'_>) {
    let mut index = 0;
    while index < open.len() {
        if ordinal - open[index].last_ordinal > RECORD_WINDOW {
            let builder = open.remove(index).expect("index is in range");
            ctx.emit(builder.finish(ctx.source.clone()));
        } else {
            index += 1;
        }
    }
}

/// Closes the oldest events while too many are open.
fn close_oldest(open: &mut VecDeque<Builder>, ctx: &mut Context<'_>) {
    while open.len() >= MAX_OPEN_EVENTS {
        let builder = open.pop_front().expect("queue is not empty");
        ctx.emit(builder.finish(ctx.source.clone()));
    }
}

fn flush_all(open: &mut VecDeque<Builder>, ctx: &mut Context<'_>) {
    while let Some(builder) = open.pop_front() {
        ctx.emit(builder.finish(ctx.source.clone()));
    }
}

/// Decodes one audit record line into an event of its own (for records shipped one by one,
/// as CloudWatch Logs does).
pub fn parse_single_record(text: &str, evidence: Evidence) -> Result<Event, String> {
    let text = text.trim_end_matches(['\r', '\n']);
    let record = Record::parse(text).ok_or("not an audit record: expected `type=... msg=audit(seconds.millis:serial): ...`")?;
    let mut builder = Builder::new(record.stamp, evidence.line.unwrap_or(0), evidence.offset.unwrap_or(0));
    builder.add(&record, text);
    let source = evidence.source.clone();
    let mut event = builder.finish(source);
    event.evidence = evidence;
    Ok(event)
}

/// The `audit(seconds.millis:serial)` stamp of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    seconds: i64,
    millis: u32,
    serial: u64,
}

/// One parsed record line.
struct Record<'a> {
    node: Option<&'a str>,
    kind: &'a str,
    stamp: Stamp,
    body: &'a str,
}

impl<'a> Record<'a> {
    fn parse(line: &'a str) -> Option<Record<'a>> {
        let mut rest = line.trim_start();
        let mut node = None;
        if let Some(after) = rest.strip_prefix("node=") {
            let (name, tail) = after.split_once(' ')?;
            node = Some(name);
            rest = tail;
        }
        let rest = rest.strip_prefix("type=")?;
        let (kind, rest) = rest.split_once(' ')?;
        let rest = rest.trim_start().strip_prefix("msg=audit(")?;
        let (stamp, body) = rest.split_once(')')?;
        let (time, serial) = stamp.split_once(':')?;
        let (seconds, millis) = time.split_once('.').unwrap_or((time, "0"));
        let stamp = Stamp { seconds: seconds.parse().ok()?, millis: millis.parse().ok()?, serial: serial.parse().ok()? };
        if kind.is_empty() || stamp.millis > 999 {
            return None;
        }
        let body = body.strip_prefix(':').unwrap_or(body).trim_start();
        Some(Record { node, kind, stamp, body })
    }
}

/// A value as written: in double quotes, in single quotes (a nested `msg='...'` list), or bare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Raw<'a> {
    Quoted(&'a str),
    Nested(&'a str),
    Bare(&'a str),
}

/// Splits `key=value key="value" msg='key=value ...'` into pairs. Words without `=` (the
/// `avc:  denied  { read } for` of an AVC record) are skipped. The group separator (0x1D)
/// that auditd's ENRICHED format puts before its added fields (`ARCH=x86_64 SYSCALL=execve
/// AUID="alice"`) separates pairs like a space.
fn pairs(body: &str) -> Vec<(&str, Raw<'_>)> {
    let mut out = Vec::new();
    let b = body.as_bytes();
    let is_separator = |byte: u8| byte == b' ' || byte == 0x1d;
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && is_separator(b[i]) {
            i += 1;
        }
        let start = i;
        while i < b.len() && !is_separator(b[i]) && b[i] != b'=' {
            i += 1;
        }
        if i >= b.len() || is_separator(b[i]) {
            continue;
        }
        let key = &body[start..i];
        i += 1;
        let value = match b.get(i) {
            Some(&quote @ (b'"' | b'\'')) => {
                let end = body[i + 1..].find(quote as char).map_or(b.len(), |n| i + 1 + n);
                let inner = &body[i + 1..end];
                i = (end + 1).min(b.len());
                if quote == b'"' { Raw::Quoted(inner) } else { Raw::Nested(inner) }
            }
            _ => {
                let end = body[i..].find([' ', '\u{1d}']).map_or(b.len(), |n| i + n);
                let value = &body[i..end];
                i = end;
                Raw::Bare(value)
            }
        };
        if !key.is_empty() {
            out.push((key, value));
        }
    }
    out
}

/// Decodes a hex-encoded value; `None` when the text is not hex.
fn decode_hex(text: &str) -> Option<String> {
    if text.is_empty() || !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes = hex::decode(text).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn is_execve_arg(key: &str) -> bool {
    key.len() > 1 && key.starts_with('a') && key[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Parses `a3[1]` (a piece of a long EXECVE argument) into (3, 1).
fn split_arg_piece(key: &str) -> Option<(usize, usize)> {
    let rest = key.strip_prefix('a')?;
    let (index, piece) = rest.split_once('[')?;
    let piece = piece.strip_suffix(']')?;
    Some((index.parse().ok()?, piece.parse().ok()?))
}

/// The records of one event gathered so far.
struct Builder {
    stamp: Stamp,
    line: u64,
    offset: u64,
    /// Position (in records read) of the event's latest record.
    last_ordinal: u64,
    records: usize,
    node: Option<String>,
    types: Vec<Str>,
    fields: Vec<(Str, Value)>,
    args: Vec<Option<String>>,
    argc: Option<i64>,
    raw: String,
}

impl Builder {
    fn new(stamp: Stamp, line: u64, offset: u64) -> Self {
        Builder {
            stamp,
            line,
            offset,
            last_ordinal: 0,
            records: 0,
            node: None,
            types: Vec::new(),
            fields: Vec::new(),
            args: Vec::new(),
            argc: None,
            raw: String::new(),
        }
    }

    fn has_room_for(&self, bytes: usize) -> bool {
        self.records < MAX_RECORDS_PER_EVENT && self.raw.len() + bytes <= MAX_EVENT_BYTES
    }

    fn add(&mut self, record: &Record<'_>, line: &str) {
        self.records += 1;
        if !self.raw.is_empty() {
            self.raw.push('\n');
        }
        self.raw.push_str(line);
        if self.node.is_none() {
            self.node = record.node.map(str::to_owned);
        }
        self.types.push(Str::from(record.kind));
        let execve = record.kind == "EXECVE";
        for (key, raw) in pairs(record.body) {
            if let Raw::Nested(inner) = raw {
                // `msg='op=login acct=... res=success'` carries the user-space fields.
                for (inner_key, inner_raw) in pairs(inner) {
                    self.add_field(inner_key, inner_raw, false);
                }
                continue;
            }
            self.add_field(key, raw, execve);
        }
    }

    fn add_field(&mut self, key: &str, raw: Raw<'_>, execve: bool) {
        if execve {
            if key == "argc" {
                self.argc = raw_text(raw).parse().ok();
                return;
            }
            if is_execve_arg(key)
                && let Ok(index) = key[1..].parse::<usize>()
            {
                self.set_arg(index, decode_value(raw, true), false);
                return;
            }
            if let Some((index, _piece)) = split_arg_piece(key) {
                self.set_arg(index, decode_value(raw, true), true);
                return;
            }
            if key.ends_with("_len") {
                return;
            }
        }
        let encoded = ENCODED_KEYS.contains(&key);
        let value = decode_value(raw, encoded);
        self.gather(key, Value::Str(Str::from(value)));
    }

    fn set_arg(&mut self, index: usize, value: String, append: bool) {
        if index >= MAX_ARGS {
            return;
        }
        if self.args.len() <= index {
            self.args.resize(index + 1, None);
        }
        match &mut self.args[index] {
            Some(existing) if append => existing.push_str(&value),
            slot => *slot = Some(value),
        }
    }

    /// Adds a value, turning the key into a list when another record already set it to a
    /// different value.
    fn gather(&mut self, key: &str, value: Value) {
        let Some((_, existing)) = self.fields.iter_mut().find(|(name, _)| name == key) else {
            self.fields.push((Str::from(key), value));
            return;
        };
        match existing {
            Value::List(items) if !items.contains(&value) => items.push(value),
            Value::List(_) => {}
            single if *single != value => {
                let first = std::mem::replace(single, Value::Null);
                *single = Value::List(vec![first, value]);
            }
            _ => {}
        }
    }

    fn finish(self, source: std::sync::Arc<SourceRef>) -> Event {
        let mut event = Event::with_capacity(Schema::Auditd, Evidence::line(source, self.line, self.offset), self.fields.len() + 16);
        let time = DateTime::from_timestamp(self.stamp.seconds, self.stamp.millis * 1_000_000);
        event.timestamp = time.map(|t| Timestamp::new(t, Precision::Millis));
        event.raw = Some(self.raw.into_boxed_str());

        let types = if self.types.len() == 1 {
            Value::Str(self.types[0].clone())
        } else {
            Value::List(self.types.iter().cloned().map(Value::Str).collect())
        };
        event.push("type", types);
        event.push("event.sequence", Value::Int(self.stamp.serial as i64));
        if let Some(node) = &self.node {
            event.push("node", node.as_str());
        }

        let first = |name: &str| -> Option<&str> {
            let value = self.fields.iter().find(|(key, _)| key == name).map(|(_, v)| v)?;
            match value {
                Value::List(items) => items.first().and_then(Value::as_str),
                other => other.as_str(),
            }
        };
        let pid = first("pid").and_then(|p| p.parse::<i64>().ok());
        let ppid = first("ppid").and_then(|p| p.parse::<i64>().ok());
        let outcome = match (first("success"), first("res")) {
            (Some("yes"), _) => Some("success"),
            (Some("no"), _) => Some("failure"),
            (None, Some("success" | "yes" | "1")) => Some("success"),
            (None, Some("failed" | "no" | "0")) => Some("failure"),
            _ => None,
        };
        let tags: Vec<Value> = match first("key") {
            Some(key) if key != "(null)" => key.split('\u{1}').filter(|k| !k.is_empty()).map(Value::from).collect(),
            _ => Vec::new(),
        };
        let title = first("proctitle").map(|t| t.replace('\0', " ").trim_end().to_string());
        let address = first("addr").and_then(|a| a.parse::<IpAddr>().ok());

        if let Some(pid) = pid {
            event.push("process.pid", Value::Int(pid));
        }
        if let Some(ppid) = ppid {
            event.push("process.parent.pid", Value::Int(ppid));
        }
        if let Some(outcome) = outcome {
            event.push("event.outcome", outcome);
        }
        if !tags.is_empty() {
            event.push("tags", Value::List(tags));
        }
        if let Some(title) = title {
            event.push("process.title", title);
        }
        if let Some(address) = address {
            event.push("source.ip", Value::Ip(address));
        }
        // Raw logs carry only the syscall number; the ENRICHED format already adds the names.
        let has_names = self.fields.iter().any(|(key, _)| key == "SYSCALL");
        if !has_names
            && let (Some(arch), Some(number)) = (first("arch"), first("syscall"))
            && let Some((arch_name, syscall_name)) = syscalls::lookup(arch, number)
        {
            event.push("ARCH", arch_name);
            event.push("SYSCALL", syscall_name);
        }

        if !self.args.is_empty() || self.argc.is_some() {
            let args: Vec<String> = self.args.into_iter().map(Option::unwrap_or_default).collect();
            event.push("process.command_line", args.join(" "));
            event.push("process.args_count", Value::Int(self.argc.unwrap_or(args.len() as i64)));
            event.push("process.args", Value::List(args.into_iter().map(Value::from).collect()));
        }

        for (name, value) in self.fields {
            event.push(name, value);
        }
        event
    }
}

fn raw_text(raw: Raw<'_>) -> &str {
    match raw {
        Raw::Quoted(text) | Raw::Nested(text) | Raw::Bare(text) => text,
    }
}

/// Returns the text of a value, hex-decoded when the key is one auditd encodes and the value
/// is bare.
fn decode_value(raw: Raw<'_>, encoded: bool) -> String {
    match raw {
        Raw::Bare(text) if encoded => decode_hex(text).unwrap_or_else(|| text.to_string()),
        other => raw_text(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_of(text: &str) -> Event {
        let mut builder: Option<Builder> = None;
        for line in text.lines() {
            let record = Record::parse(line).unwrap();
            builder.get_or_insert_with(|| Builder::new(record.stamp, 1, 0)).add(&record, line);
        }
        builder.unwrap().finish(SourceRef::new("audit.log"))
    }

    #[test]
    fn execve_event_joined() {
        let e = event_of(concat!(
            "type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59 success=yes exit=0 a0=558e items=2 ppid=29002 pid=1631 auid=1000 uid=1000 comm=\"arp\" exe=\"/usr/sbin/arp\" key=(null)\n",
            "type=EXECVE msg=audit(1604994496.155:92733): argc=2 a0=\"arp\" a1=\"-a\"\n",
            "type=CWD msg=audit(1604994496.155:92733): cwd=\"/home/alice\"\n",
            "type=PROCTITLE msg=audit(1604994496.155:92733): proctitle=617270002D61\n",
        ));
        assert_eq!(e.get_str("process.command_line"), Some("arp -a"));
        assert_eq!(e.get("process.args"), Some(&Value::List(vec!["arp".into(), "-a".into()])));
        assert_eq!(e.get_str("process.executable"), Some("/usr/sbin/arp"));
        assert_eq!(e.get_str("process.working_directory"), Some("/home/alice"));
        assert_eq!(e.get_i64("process.pid"), Some(1631));
        assert_eq!(e.get_str("process.title"), Some("arp -a"));
        assert_eq!(e.get_str("event.outcome"), Some("success"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2020-11-10T07:48:16.155Z");
        assert_eq!(e.get("type"), Some(&Value::List(vec!["SYSCALL".into(), "EXECVE".into(), "CWD".into(), "PROCTITLE".into()])));
        assert!(e.get("tags").is_none());
    }

    #[test]
    fn hex_values_and_nested_msg() {
        let e = event_of("type=USER_LOGIN msg=audit(1492896301.818:19955): pid=12635 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=28696E76616C6964207573657229 exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.7 terminal=sshd res=failed'");
        assert_eq!(e.get_str("acct"), Some("(invalid user)"));
        assert_eq!(e.get_str("user.name"), Some("(invalid user)"));
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        assert_eq!(e.get("source.ip"), Some(&Value::Ip("203.0.113.7".parse().unwrap())));
    }

    #[test]
    fn long_argument_pieces() {
        let e = event_of("type=EXECVE msg=audit(1.000:1): argc=2 a0=\"sh\" a1_len=6 a1[0]=616263 a1[1]=\"def\"");
        assert_eq!(e.get_str("process.command_line"), Some("sh abcdef"));
    }

    #[test]
    fn multiple_keys() {
        let e = event_of("type=SYSCALL msg=audit(1515619721.392:106081): pid=1 key=65786563013634626974");
        assert_eq!(e.get("tags"), Some(&Value::List(vec!["exec".into(), "64bit".into()])));
    }

    #[test]
    fn sniff_records() {
        assert!(sniff(b"type=EOE msg=audit(1.000:1): \n"));
        assert!(sniff(b"node=web-01 type=EOE msg=audit(1.000:1): "));
        assert!(sniff(b"0:2): cut\ntype=EOE msg=audit(1.000:2): \n"));
        assert!(!sniff(b"type=nothing\n"));
        assert!(!sniff(b"hello\nworld\ntype=EOE msg=audit(1.000:1): \n"));
    }

    #[test]
    fn syscall_names() {
        let e = event_of("type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=59 success=yes pid=2");
        assert_eq!(e.get_str("SYSCALL"), Some("execve"));
        assert_eq!(e.get_str("ARCH"), Some("x86_64"));
        let enriched = "type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=2 pid=2\u{1d}ARCH=x86_64 SYSCALL=open AUID=\"alice\"";
        let e = event_of(enriched);
        assert_eq!(e.get_str("SYSCALL"), Some("open"));
        assert_eq!(e.get_str("AUID"), Some("alice"));
        assert_eq!(e.get_str("pid"), Some("2"));
    }

    #[test]
    fn record_without_colon() {
        let r = Record::parse("type=DAEMON_CONFIG msg=audit(1490239800.477:34) config changed, auid=0 pid=1512 res=success").unwrap();
        assert_eq!(r.kind, "DAEMON_CONFIG");
        assert_eq!(r.stamp.serial, 34);
        assert!(Record::parse("type=X msg=audit(1.2:x): a=b").is_none());
        assert!(Record::parse("hello").is_none());
    }
}
