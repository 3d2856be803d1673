//! AWS CloudTrail: S3 delivery files (`{"Records": [...]}`), JSON arrays of events, one event
//! per line, events wrapped in EventBridge envelopes, and `aws cloudtrail lookup-events`
//! output (`{"Events": [{"CloudTrailEvent": "<event as a JSON string>", ...}]}`).
//!
//! Files are split record by record ([`split::JsonSplitter`]), so a large delivery file costs
//! the memory of one event, not of the file. Each event is flattened into dotted source names
//! (`userIdentity.arn`, `requestParameters.roleName`) and keeps its JSON text as `raw`. Digest
//! files (written beside the logs when log file validation is on) are recognised and skipped
//! with a count.

mod flatten;
pub(crate) mod split;

use std::io::{self, BufRead};
use std::net::IpAddr;

use serde_json::Value as Json;
use tocsin_event::{Event, Evidence, Schema, Str, Timestamp, Value};

use crate::{Context, Location};
use split::{JsonSplitter, Piece, SplitError};

/// Recognises CloudTrail events: an empty `Records` file, `aws cloudtrail lookup-events`
/// output (`CloudTrailEvent` beside `EventId`), or JSON whose keys include `eventVersion` with
/// `eventSource` or `eventName`. Lambda event notifications (S3, Kinesis,
/// DynamoDB) share those keys, but their `eventSource` starts with `aws:` where CloudTrail
/// writes a service host name, so that prefix excludes them.
pub fn sniff(head: &[u8]) -> bool {
    let text = trim_start(head);
    if !matches!(text.first(), Some(b'{') | Some(b'[')) {
        return false;
    }
    if starts_with_wrapper(text, "Records") && is_empty_array(trim_start(&text[text.iter().position(|&b| b == b'[').unwrap_or(0)..])) {
        return true;
    }
    if contains(text, br#""CloudTrailEvent""#) && contains(text, br#""EventId""#) {
        return true;
    }
    let keys = contains(text, br#""eventVersion""#) && (contains(text, br#""eventSource""#) || contains(text, br#""eventName""#));
    let notification = contains(text, br#""eventSource":"aws:"#) || contains(text, br#""eventSource": "aws:"#);
    keys && !notification
}

/// Returns whether `text` starts with `[` and `]` with only whitespace between.
fn is_empty_array(text: &[u8]) -> bool {
    text.strip_prefix(b"[").is_some_and(|rest| trim_start(rest).first() == Some(&b']'))
}

/// Recognises a CloudTrail digest file by its keys.
pub fn sniff_digest(head: &[u8]) -> bool {
    let text = trim_start(head);
    text.first() == Some(&b'{') && contains(text, br#""digestStartTime""#) && contains(text, br#""digestEndTime""#)
}

/// Returns whether `text` starts with `{"KEY": [`, whitespace allowed between tokens.
pub(crate) fn starts_with_wrapper(text: &[u8], key: &str) -> bool {
    let Some(rest) = trim_start(text).strip_prefix(b"{") else {
        return false;
    };
    let rest = trim_start(rest);
    let Some(rest) = rest.strip_prefix(b"\"").and_then(|r| r.strip_prefix(key.as_bytes())).and_then(|r| r.strip_prefix(b"\"")) else {
        return false;
    };
    let Some(rest) = trim_start(rest).strip_prefix(b":") else {
        return false;
    };
    trim_start(rest).first() == Some(&b'[')
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

pub(crate) fn trim_start(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Decodes a CloudTrail input: a `Records` file, an array of events, or events one per line
/// (or concatenated). A malformed event is reported with its index or line and the others are
/// still decoded. One event read whole is at most `max_buffered_bytes` long.
pub fn decode(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let max_record = usize::try_from(ctx.options.max_buffered_bytes).unwrap_or(usize::MAX);
    let mut splitter = JsonSplitter::new(reader, &["Records", "Events"], max_record);

    while let Some(piece) = splitter.next_piece() {
        match piece {
            Ok(Piece::Element { bytes, offset, index }) => {
                ctx.record();
                let evidence = Evidence::new(ctx.source.clone()).with_offset(offset).with_index(index);
                let result = if contains(bytes, br#""CloudTrailEvent""#) {
                    parse_lookup_event(bytes, evidence)
                } else {
                    parse_event_bytes(bytes, evidence)
                };
                match result {
                    Ok(event) => ctx.emit(event),
                    Err(message) => ctx.error(Location::Index { index }, message),
                }
            }
            Ok(Piece::Document { bytes, offset, line }) => decode_document(bytes, offset, line, ctx),
            Err(error) => report_split_error(error, ctx)?,
        }
    }
    Ok(())
}

/// Reports a splitter error through `ctx`. An I/O error is returned instead, so that the input
/// layer reports a failing stream (a truncated gzip member) the same way for every decoder.
pub(crate) fn report_split_error(error: SplitError, ctx: &mut Context<'_>) -> io::Result<()> {
    let location = match &error {
        SplitError::TooLarge { index: Some(index), .. } => Location::Index { index: *index },
        SplitError::TooLarge { offset, .. } | SplitError::Truncated { offset } | SplitError::Unexpected { offset, .. } => {
            Location::Offset { offset: *offset }
        }
        SplitError::Io(_) => Location::File,
    };
    match error {
        SplitError::Io(error) => Err(error),
        SplitError::TooLarge { .. } => {
            ctx.record();
            ctx.error(location, error.to_string());
            Ok(())
        }
        other => {
            ctx.error(location, other.to_string());
            Ok(())
        }
    }
}

/// Decodes a top-level document: one event, a digest, or a `Records` file whose first key is
/// not `Records`. Such a file is read whole, because the splitter streams a wrapper only when
/// it is the first key.
fn decode_document(bytes: &[u8], offset: u64, line: u64, ctx: &mut Context<'_>) {
    let location = Location::Line { line, offset };
    let json: Json = match serde_json::from_slice(bytes) {
        Ok(json) => json,
        Err(error) => {
            ctx.record();
            ctx.error(location, format!("invalid JSON: {error}"));
            return;
        }
    };
    if is_digest(&json) {
        ctx.skip("CloudTrail digest file", 1);
        return;
    }
    let list = match (json.get("Records"), json.get("Events")) {
        (Some(Json::Array(records)), _) => Some(records),
        (None, Some(Json::Array(events))) => Some(events),
        _ => None,
    };
    if let Some(records) = list {
        for (index, record) in records.iter().enumerate() {
            ctx.record();
            let index = index as u64;
            let evidence = Evidence::new(ctx.source.clone()).with_offset(offset).with_index(index);
            let result = match lookup_event_text(record) {
                Some(text) => event_from_text(text, evidence),
                None => event_from_text(&record.to_string(), evidence),
            };
            match result {
                Ok(event) => ctx.emit(event),
                Err(message) => ctx.error(Location::Index { index }, message),
            }
        }
        return;
    }
    ctx.record();
    let evidence = Evidence::line(ctx.source.clone(), line, offset);
    let result = match lookup_event_text(&json) {
        Some(text) => event_from_text(text, evidence),
        None => parse_event_bytes(bytes, evidence),
    };
    match result {
        Ok(event) => ctx.emit(event),
        Err(message) => ctx.error(location, message),
    }
}

/// Returns the event text of an `aws cloudtrail lookup-events` result, whose
/// `CloudTrailEvent` key contains the CloudTrail event as a JSON string.
fn lookup_event_text(json: &Json) -> Option<&str> {
    json.get("CloudTrailEvent").and_then(Json::as_str)
}

fn parse_lookup_event(bytes: &[u8], evidence: Evidence) -> Result<Event, String> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
    let text = lookup_event_text(&json).ok_or("lookup-events result has no CloudTrailEvent string")?;
    event_from_text(text, evidence)
}

fn is_digest(json: &Json) -> bool {
    json.get("digestStartTime").is_some() && json.get("digestEndTime").is_some()
}

fn parse_event_bytes(bytes: &[u8], evidence: Evidence) -> Result<Event, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8 in JSON text: {e}"))?;
    event_from_text(text, evidence)
}

/// Decodes one CloudTrail event from its JSON text (an event delivered through CloudWatch
/// Logs, say).
pub fn parse_event_text(text: &str, evidence: Evidence) -> Result<Event, String> {
    event_from_text(text.trim(), evidence)
}

/// Builds the event for one CloudTrail record. An EventBridge envelope (`detail-type`
/// "AWS API Call via CloudTrail" and similar) is unwrapped to its `detail`.
fn event_from_text(text: &str, evidence: Evidence) -> Result<Event, String> {
    if !text.trim_start().starts_with('{') {
        return Err("CloudTrail record is not a JSON object".to_string());
    }
    let mut leaves = flatten::flatten_text(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let eventbridge = leaves.iter().any(|(name, _)| name == "detail-type")
        && leaves.iter().any(|(name, _)| name == "detail.eventName");
    if eventbridge {
        leaves = leaves
            .into_iter()
            .filter_map(|(name, value)| name.strip_prefix("detail.").map(|inner| (Str::from(inner), value)))
            .collect();
    }

    let mut event = Event::with_capacity(Schema::CloudTrail, evidence, leaves.len() + 6);
    for (name, value) in leaves {
        event.push(name, value);
    }
    event.timestamp = event.get_source("eventTime").and_then(Value::as_str).and_then(Timestamp::parse_rfc3339);
    event.raw = Some(Box::from(text));
    add_derived_fields(&mut event);
    Ok(event)
}

/// Adds the ECS fields that need more than a rename: `source.ip` only when
/// `sourceIPAddress` is an address (AWS puts service names there too), `event.outcome` from
/// `errorCode`, and the acting user.
fn add_derived_fields(event: &mut Event) {
    let source_ip = event.get_source("sourceIPAddress").and_then(Value::as_str).and_then(|s| s.parse::<IpAddr>().ok());
    if let Some(ip) = source_ip {
        event.push("source.ip", Value::Ip(ip));
    }

    let failed = event.get_source("errorCode").is_some_and(|v| !v.is_null());
    event.push("event.outcome", if failed { "failure" } else { "success" });

    let identity = Identity::of(event);
    if let Some(name) = identity.user_name {
        event.push("user.name", name);
    }
    if let Some(role) = identity.role {
        event.push("user.roles", role);
    }
}

/// The acting user, from `userIdentity`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Identity {
    /// The person or principal: the IAM user name, the session name of an assumed role (with
    /// AWS IAM Identity Center, the person's user name or e-mail), the federated user's name,
    /// or `root`. `None` for AWS services and other accounts, which are not users.
    pub user_name: Option<Str>,
    /// The role of an `AssumedRole` identity.
    pub role: Option<Str>,
}

impl Identity {
    pub(crate) fn of(event: &Event) -> Identity {
        let text = |name: &str| event.get_source(name).and_then(Value::as_str).filter(|s| !s.is_empty());
        let kind = text("userIdentity.type");
        let arn = text("userIdentity.arn");
        let user_name = text("userIdentity.userName");
        let principal_id = text("userIdentity.principalId");
        // A principal id of the form `AROA...:session-name` carries the session after the colon.
        let principal_suffix = principal_id.and_then(|id| id.split_once(':')).map(|(_, session)| session);

        match kind {
            Some("AssumedRole") => {
                let (arn_role, arn_session) = arn.and_then(split_assumed_role_arn).unzip();
                let role = arn_role.or_else(|| text("userIdentity.sessionContext.sessionIssuer.userName"));
                let session = arn_session.or(principal_suffix);
                Identity { user_name: session.map(Str::from), role: role.map(Str::from) }
            }
            Some("Root") => Identity { user_name: Some(Str::from(user_name.unwrap_or("root"))), role: None },
            Some("IAMUser") => {
                let from_arn = arn.and_then(|arn| arn.rsplit_once(":user/")).map(|(_, path)| path.rsplit('/').next().unwrap_or(path));
                Identity { user_name: user_name.or(from_arn).map(Str::from), role: None }
            }
            Some("FederatedUser") => {
                let from_arn = arn.and_then(|arn| arn.rsplit_once(":federated-user/")).map(|(_, name)| name);
                Identity { user_name: from_arn.or(principal_suffix).or(user_name).map(Str::from), role: None }
            }
            Some("AWSService") | Some("AWSAccount") => Identity::default(),
            _ => Identity { user_name: user_name.map(Str::from), role: None },
        }
    }
}

/// Splits `arn:aws:sts::111122223333:assumed-role/ROLE/SESSION` into role and session. The
/// session name is everything after the role, kept whole (it may hold `@ . = , -`).
fn split_assumed_role_arn(arn: &str) -> Option<(&str, &str)> {
    let (_, rest) = arn.split_once(":assumed-role/")?;
    let (role, session) = rest.split_once('/')?;
    (!role.is_empty() && !session.is_empty()).then_some((role, session))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::SourceRef;

    fn event(json: &str) -> Event {
        parse_event_text(json, Evidence::new(SourceRef::new("t.json"))).unwrap()
    }

    #[test]
    fn sniffs_shapes() {
        assert!(sniff(br#"{"Records":[]}"#));
        assert!(sniff(b" \n{ \"Records\" : [ {\"eventVersion\":\"1.08\",\"eventName\":\"GetObject\"}"));
        assert!(!sniff(br#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put"}]}"#));
        assert!(!sniff(br#"{"Records":[{"EventVersion":"1.0","EventSource":"aws:sns"}]}"#));
        assert!(sniff(br#"[{"eventVersion":"1.09","eventName":"GetObject"}]"#));
        assert!(!sniff(br#"{"message":"{\"eventVersion\":\"1.08\",\"eventName\":\"X\"}"}"#));
        assert!(sniff_digest(br#"{"awsAccountId":"111122223333","digestStartTime":"a","digestEndTime":"b"}"#));
    }

    #[test]
    fn assumed_role_session_is_user() {
        let e = event(
            r#"{"eventVersion":"1.08","eventName":"ListBuckets","eventTime":"2023-07-10T11:45:01Z",
            "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Admins/alice@example.com",
            "sessionContext":{"sessionIssuer":{"userName":"Admins"}}}}"#,
        );
        assert_eq!(e.get_str("user.name"), Some("alice@example.com"));
        assert_eq!(e.get_str("user.roles"), Some("Admins"));
    }

    #[test]
    fn service_name_is_not_source_ip() {
        let e = event(r#"{"eventVersion":"1.08","eventName":"Decrypt","sourceIPAddress":"kms.amazonaws.com"}"#);
        assert_eq!(e.get_source("source.ip"), None);
        let e = event(r#"{"eventVersion":"1.08","eventName":"Decrypt","sourceIPAddress":"203.0.113.9","errorCode":"AccessDenied"}"#);
        assert_eq!(e.get("source.ip"), Some(&Value::Ip("203.0.113.9".parse().unwrap())));
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
    }

    #[test]
    fn eventbridge_envelope_unwrapped() {
        let e = event(
            r#"{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.iam",
            "detail":{"eventVersion":"1.08","eventName":"CreateUser","eventTime":"2023-07-10T11:45:01Z"}}"#,
        );
        assert_eq!(e.get_str("eventName"), Some("CreateUser"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2023-07-10T11:45:01Z");
    }
}
