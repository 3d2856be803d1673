//! Syslog header parsing: RFC 3164 (BSD, as in /var/log/auth.log), RFC 5424, and the
//! ISO-8601 timestamps of rsyslog's `RSYSLOG_FileFormat`.
//!
//! Parsing works on borrowed slices of the line and allocates only for RFC 5424 structured
//! data, so the common auth.log line costs no allocation here.

use tocsin_event::Timestamp;

use super::year::MonthDayTime;

/// The time written in a syslog header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderTime {
    /// RFC 3164 `Mmm dd hh:mm:ss`: local time without a year.
    NoYear(MonthDayTime),
    /// A full timestamp with offset (RFC 5424, ISO-8601).
    Full(Timestamp),
    /// RFC 5424 NILVALUE (`-`).
    Nil,
}

/// One structured-data parameter of an RFC 5424 message: `[id param="value"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SdParam {
    pub id: String,
    pub name: String,
    pub value: String,
}

/// The parts of a syslog line. Absent parts (RFC 5424 `-`) are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    pub priority: Option<u8>,
    /// RFC 5424 version digit; `None` for RFC 3164 and ISO-timestamped lines.
    pub version: Option<u8>,
    pub time: Option<HeaderTime>,
    pub hostname: Option<&'a str>,
    /// RFC 3164 TAG program or RFC 5424 APP-NAME.
    pub program: Option<&'a str>,
    /// RFC 3164 `[pid]` or RFC 5424 PROCID.
    pub pid: Option<&'a str>,
    pub msgid: Option<&'a str>,
    pub structured_data: Vec<SdParam>,
    pub message: &'a str,
}

const MONTHS: [&[u8; 3]; 12] = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// Parses a syslog line (without its line terminator). Returns `None` when the line has no
/// recognisable header: no RFC 3164 timestamp, no RFC 5424 version, no ISO timestamp.
pub(crate) fn parse(line: &str) -> Option<Header<'_>> {
    let (priority, rest) = match parse_priority(line) {
        Some((priority, rest)) => (Some(priority), rest),
        None => (None, line),
    };

    // RFC 5424 needs its PRI: a bare digit and a space would also start many free-text lines.
    if priority.is_some()
        && let Some(after) = rest.strip_prefix("1 ")
    {
        return parse_rfc5424(priority, after);
    }
    if let Some((time, after)) = parse_rfc3164_time(rest) {
        return Some(parse_host_and_tag(priority, time, after));
    }
    if let Some((time, after)) = parse_iso_time(rest) {
        return Some(parse_host_and_tag(priority, HeaderTime::Full(time), after));
    }
    None
}

/// Parses `<PRI>` (0 to 191, at most three digits).
fn parse_priority(line: &str) -> Option<(u8, &str)> {
    let rest = line.strip_prefix('<')?;
    let end = rest.find('>')?;
    if end == 0 || end > 3 || !rest[..end].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u16 = rest[..end].parse().ok()?;
    if value > 191 {
        return None;
    }
    Some((value as u8, &rest[end + 1..]))
}

/// Parses `Mmm dd hh:mm:ss ` where the day is space- or zero-padded (`Jan  1`, `Jan 01`).
/// Returns the time as a `NoYear` value and the text after the following space.
fn parse_rfc3164_time(text: &str) -> Option<(HeaderTime, &str)> {
    let b = text.as_bytes();
    if b.len() < 15 {
        return None;
    }
    let month = MONTHS.iter().position(|m| b[..3] == m[..])? as u32 + 1;
    if b[3] != b' ' {
        return None;
    }
    // Day: " 1", "01", "1 " (single digit without padding), or "12".
    let (day, mut i) = if b[4] == b' ' {
        (digit(b[5])?, 6)
    } else if b[5] == b' ' {
        (digit(b[4])?, 5)
    } else {
        (digit(b[4])? * 10 + digit(b[5])?, 6)
    };
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let clock = b.get(i..i + 8)?;
    if clock[2] != b':' || clock[5] != b':' {
        return None;
    }
    let hour = digit(clock[0])? * 10 + digit(clock[1])?;
    let minute = digit(clock[3])? * 10 + digit(clock[4])?;
    let second = digit(clock[6])? * 10 + digit(clock[7])?;
    i += 8;
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Some senders add fractional seconds; they are dropped because RFC 3164 has none.
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let rest = match b.get(i) {
        Some(b' ') => &text[i + 1..],
        None => "",
        Some(_) => return None,
    };
    Some((HeaderTime::NoYear(MonthDayTime { month, day, hour, minute, second }), rest))
}

fn digit(b: u8) -> Option<u32> {
    b.is_ascii_digit().then(|| u32::from(b - b'0'))
}

/// Parses an RFC 3339 timestamp at the start of `text` (`2024-03-01T12:00:00.123+01:00`),
/// followed by a space or the end of the text.
fn parse_iso_time(text: &str) -> Option<(Timestamp, &str)> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let end = text.find(' ').unwrap_or(text.len());
    let time = Timestamp::parse_rfc3339(&text[..end])?;
    Some((time, text.get(end + 1..).unwrap_or("")))
}

/// Parses `HOSTNAME TAG: MSG` after an RFC 3164 or ISO timestamp. The hostname is any token
/// (IPv6 addresses included). A first token that already looks like a tag (`sshd[12]:`) is
/// taken as the tag of a line without hostname.
fn parse_host_and_tag(priority: Option<u8>, time: HeaderTime, text: &str) -> Header<'_> {
    let mut header = Header { priority, time: Some(time), ..Header::default() };
    let first_end = text.find(' ').unwrap_or(text.len());
    let first = &text[..first_end];
    let rest = if first.ends_with(':') && first.len() > 1 {
        text
    } else {
        header.hostname = (!first.is_empty()).then_some(first);
        text.get(first_end + 1..).unwrap_or("")
    };
    let (program, pid, message) = split_tag(rest);
    header.program = program;
    header.pid = pid;
    header.message = message;
    header
}

/// Maximum length of a program name in a tag. RFC 3164 allows 32 characters, but some
/// senders write longer ones.
const MAX_TAG_BYTES: usize = 64;

/// Splits `program[pid]: message` or `program: message`. Returns no program when the text
/// does not start with a tag, in which case the whole text is the message.
pub(crate) fn split_tag(text: &str) -> (Option<&str>, Option<&str>, &str) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && i <= MAX_TAG_BYTES && !matches!(b[i], b'[' | b':' | b' ') {
        i += 1;
    }
    if i == 0 || i >= b.len() || i > MAX_TAG_BYTES {
        return (None, None, text);
    }
    let program = &text[..i];
    let mut pid = None;
    let mut after = i;
    if b[i] == b'[' {
        let Some(close) = text[i + 1..].find(']') else {
            return (None, None, text);
        };
        let id = &text[i + 1..i + 1 + close];
        if id.is_empty() || id.len() > 20 || id.contains(' ') {
            return (None, None, text);
        }
        pid = Some(id);
        after = i + 1 + close + 1;
    }
    if b.get(after) != Some(&b':') {
        return (None, None, text);
    }
    let message = &text[after + 1..];
    let message = message.strip_prefix(' ').unwrap_or(message);
    (Some(program), pid, message)
}

/// Parses the part of an RFC 5424 line after `<PRI>1 `.
fn parse_rfc5424(priority: Option<u8>, text: &str) -> Option<Header<'_>> {
    let (timestamp, rest) = next_token(text)?;
    let time = if timestamp == "-" { HeaderTime::Nil } else { HeaderTime::Full(Timestamp::parse_rfc3339(timestamp)?) };
    let (hostname, rest) = next_token(rest)?;
    let (app, rest) = next_token(rest)?;
    let (procid, rest) = next_token(rest)?;
    let (msgid, rest) = next_token(rest)?;

    let mut header = Header {
        priority,
        version: Some(1),
        time: Some(time),
        hostname: nil(hostname),
        program: nil(app),
        pid: nil(procid),
        msgid: nil(msgid),
        ..Header::default()
    };

    let message = if let Some(after) = rest.strip_prefix('-') {
        after
    } else if rest.starts_with('[') {
        match parse_structured_data(rest) {
            Some((params, after)) => {
                header.structured_data = params;
                after
            }
            // Not valid structured data: keep the text as the message rather than lose it.
            None => rest,
        }
    } else {
        rest
    };
    let message = message.strip_prefix(' ').unwrap_or(message);
    header.message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Some(header)
}

fn next_token(text: &str) -> Option<(&str, &str)> {
    let end = text.find(' ')?;
    if end == 0 {
        return None;
    }
    Some((&text[..end], &text[end + 1..]))
}

fn nil(token: &str) -> Option<&str> {
    (token != "-").then_some(token)
}

/// Parses one or more `[SD-ID param="value" ...]` elements. Values may escape `"`, `\` and
/// `]` with a backslash. Returns `None` unless the syntax is valid throughout, so free text
/// that merely starts with `[` stays text.
pub(crate) fn parse_structured_data(text: &str) -> Option<(Vec<SdParam>, &str)> {
    let b = text.as_bytes();
    let mut params = Vec::new();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        i += 1;
        let id_start = i;
        while i < b.len() && is_sd_name_byte(b[i]) {
            i += 1;
        }
        if i == id_start {
            return None;
        }
        let id = &text[id_start..i];
        loop {
            match b.get(i) {
                Some(b']') => {
                    i += 1;
                    break;
                }
                Some(b' ') => i += 1,
                _ => return None,
            }
            let name_start = i;
            while i < b.len() && is_sd_name_byte(b[i]) {
                i += 1;
            }
            if i == name_start || b.get(i) != Some(&b'=') || b.get(i + 1) != Some(&b'"') {
                return None;
            }
            let name = &text[name_start..i];
            i += 2;
            let mut value = String::new();
            loop {
                match b.get(i)? {
                    b'"' => break,
                    b'\\' if matches!(b.get(i + 1), Some(b'"' | b'\\' | b']')) => {
                        value.push(b[i + 1] as char);
                        i += 2;
                    }
                    _ => {
                        let run = text[i..].find(['"', '\\']).map_or(text.len(), |n| i + n);
                        let run = if run == i { i + 1 } else { run };
                        value.push_str(&text[i..run]);
                        i = run;
                    }
                }
            }
            i += 1;
            params.push(SdParam { id: id.to_string(), name: name.to_string(), value });
        }
    }
    Some((params, &text[i..]))
}

/// SD-NAME: printable US-ASCII except `=`, space, `]` and `"` (RFC 5424 section 6).
fn is_sd_name_byte(b: u8) -> bool {
    (33..=126).contains(&b) && !matches!(b, b'=' | b']' | b'"')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_year(month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<HeaderTime> {
        Some(HeaderTime::NoYear(MonthDayTime { month, day, hour, minute, second }))
    }

    #[test]
    fn rfc3164_auth_log_line() {
        let h = parse("Mar 27 13:06:56 ip-10-77-20-248 sshd[1291]: Server listening on 0.0.0.0 port 22.").unwrap();
        assert_eq!(h.time, no_year(3, 27, 13, 6, 56));
        assert_eq!(h.hostname, Some("ip-10-77-20-248"));
        assert_eq!(h.program, Some("sshd"));
        assert_eq!(h.pid, Some("1291"));
        assert_eq!(h.message, "Server listening on 0.0.0.0 port 22.");
    }

    #[test]
    fn rfc3164_day_padding() {
        assert_eq!(parse("Jan  1 00:00:01 web-01 app: x").unwrap().time, no_year(1, 1, 0, 0, 1));
        assert_eq!(parse("Jan 01 00:00:01 web-01 app: x").unwrap().time, no_year(1, 1, 0, 0, 1));
        assert_eq!(parse("Jan 1 00:00:01 web-01 app: x").unwrap().time, no_year(1, 1, 0, 0, 1));
    }

    #[test]
    fn rfc3164_bracket_message_is_text() {
        let h = parse("<13>Feb 13 19:48:34 web-01 app[12]: [job 42] started").unwrap();
        assert_eq!(h.priority, Some(13));
        assert_eq!(h.program, Some("app"));
        assert_eq!(h.message, "[job 42] started");
        assert!(h.structured_data.is_empty());
    }

    #[test]
    fn rfc3164_tag_without_pid_and_sudo_spacing() {
        let h = parse("Mar 27 13:06:56 host sudo:   ubuntu : TTY=pts/0").unwrap();
        assert_eq!(h.program, Some("sudo"));
        assert_eq!(h.pid, None);
        assert_eq!(h.message, "  ubuntu : TTY=pts/0");
    }

    #[test]
    fn rfc3164_without_tag() {
        let h = parse("Mar 27 13:06:56 host -- MARK --").unwrap();
        assert_eq!(h.program, None);
        assert_eq!(h.message, "-- MARK --");
    }

    #[test]
    fn rfc5424_structured_data() {
        let h = parse(r#"<13>1 2019-02-13T19:48:34+00:00 web-01 app 12 - [ex@32473 k="v" q="a\"b\]"] hello"#).unwrap();
        assert_eq!(h.version, Some(1));
        assert_eq!(h.program, Some("app"));
        assert_eq!(h.pid, Some("12"));
        assert_eq!(h.msgid, None);
        assert_eq!(h.structured_data.len(), 2);
        assert_eq!(h.structured_data[0], SdParam { id: "ex@32473".into(), name: "k".into(), value: "v".into() });
        assert_eq!(h.structured_data[1].value, "a\"b]");
        assert_eq!(h.message, "hello");
    }

    #[test]
    fn rfc5424_ipv6_hostname() {
        let h = parse("<14>1 2023-11-03T08:53:51.391+00:00 ::ffff:192.0.2.116 app - - - hi").unwrap();
        assert_eq!(h.hostname, Some("::ffff:192.0.2.116"));
        assert_eq!(h.message, "hi");
    }

    #[test]
    fn rfc5424_invalid_sd_kept_as_message() {
        let h = parse("<14>1 2023-11-03T08:53:51Z host app - - [not sd] text").unwrap();
        assert!(h.structured_data.is_empty());
        assert_eq!(h.message, "[not sd] text");
    }

    #[test]
    fn iso_timestamp_line() {
        let h = parse("2024-03-01T12:00:00.123456+01:00 web-01 sshd[5]: hello").unwrap();
        assert!(matches!(h.time, Some(HeaderTime::Full(_))));
        assert_eq!(h.hostname, Some("web-01"));
        assert_eq!(h.message, "hello");
    }

    #[test]
    fn not_syslog() {
        assert!(parse("hello world").is_none());
        assert!(parse("Foo 27 13:06:56 host x").is_none());
        assert!(parse("<999>1 x").is_none());
    }
}
