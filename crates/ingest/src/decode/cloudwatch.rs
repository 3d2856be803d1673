//! CloudWatch Logs: subscription payloads, `aws logs filter-log-events` / `get-log-events`
//! output, and the text files an S3 export task writes.
//!
//! CloudWatch Logs only carries messages. What a message is (an auth.log line, a CloudTrail
//! event, a VPC flow record) is decided per message by [`crate::decode::decode_message`].
//! The resulting events gain `aws.cloudwatch.*` fields for the log group, stream, event id
//! and ingestion time where the input has them.

use std::io::{self, BufRead, Read};

use base64::Engine as _;
use chrono::{TimeZone, Utc};
use serde_json::Value as Json;
use tocsin_event::{Event, Evidence, Precision, Str, Timestamp, Value};

use super::cloudtrail::split::{JsonSplitter, Piece};
use super::cloudtrail::{contains, report_split_error, trim_start};
use super::vpcflow;
use crate::{Collect, Context, FileStats, LineError, LineReader, Location};

/// Maximum layers of gzip or base64 unwrapped around one subscription payload. AWS writes
/// one of each, and Firehose compression or some emulators add one more.
const MAX_PAYLOAD_LAYERS: usize = 4;

/// Recognises a subscription payload as JSON: the decoded envelope (`messageType` and
/// `logEvents`), a Lambda event (`awslogs.data`), or a Kinesis Data Firehose body whose
/// `records[].data` hold encoded payloads.
pub fn sniff_subscription(head: &[u8]) -> bool {
    let text = trim_start(head);
    if !matches!(text.first(), Some(b'{') | Some(b'[')) {
        return false;
    }
    (contains(text, br#""messageType""#) && contains(text, br#""logEvents""#))
        || contains(text, br#""awslogs""#)
        || (contains(text, br#""records""#)
            && contains(text, br#""data""#)
            && (contains(text, br#""requestId""#) || contains(text, br#""invocationId""#) || contains(text, br#""deliveryStreamArn""#)))
}

/// Recognises a subscription payload as base64 text: base64 of gzip starts with `H4sI`.
pub fn sniff_base64_subscription(head: &[u8]) -> bool {
    let text = trim_start(head);
    let line = text.split(|&b| b == b'\n').next().unwrap_or(text);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.starts_with(b"H4sI") && line.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// Recognises the JSON output of `aws logs filter-log-events` or `get-log-events`.
pub fn sniff_events(head: &[u8]) -> bool {
    let text = trim_start(head);
    text.first() == Some(&b'{')
        && contains(text, br#""events""#)
        && (contains(text, br#""ingestionTime""#)
            || contains(text, br#""nextForwardToken""#)
            || contains(text, br#""searchedLogStreams""#))
}

/// Recognises an S3 export file: its first line starts with a UTC timestamp in milliseconds
/// (`2023-07-10T11:45:01.123Z `) followed by the message.
pub fn sniff_export(head: &[u8]) -> bool {
    let text = trim_start(head);
    export_timestamp(text).is_some()
}

/// Parses the `2023-07-10T11:45:01.123Z ` prefix of an export line. Returns the time and the
/// length of the prefix, space included.
fn export_timestamp(line: &[u8]) -> Option<(Timestamp, usize)> {
    const LENGTH: usize = "2023-07-10T11:45:01.123Z".len();
    let prefix = line.get(..LENGTH)?;
    let shape = prefix.iter().enumerate().all(|(i, &b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        19 => b == b'.',
        23 => b == b'Z',
        _ => b.is_ascii_digit(),
    });
    if !shape || line.get(LENGTH) != Some(&b' ') {
        return None;
    }
    let time = Timestamp::parse_rfc3339(std::str::from_utf8(prefix).ok()?)?;
    Some((time, LENGTH + 1))
}

/// The metadata CloudWatch Logs stores with a message.
#[derive(Default)]
struct Envelope<'a> {
    log_group: Option<&'a str>,
    log_stream: Option<&'a str>,
    owner: Option<&'a str>,
    id: Option<&'a str>,
    ingestion_time: Option<Timestamp>,
}

/// Decodes one message through the format decoders, adds the envelope fields to the event,
/// and emits it (or reports why it could not be decoded).
fn decode_inner(text: &str, evidence: Evidence, received: Option<Timestamp>, envelope: &Envelope<'_>, ctx: &mut Context<'_>) {
    ctx.record();
    let text = text.trim_end_matches(['\n', '\r']);

    // Flow logs in a custom format carry no header through CloudWatch Logs, so the configured
    // format is tried first, because `decode_message` decodes only the default format.
    if let Some(format) = ctx.options.flow_log_format.as_deref()
        && vpcflow::fits_format(text, format)
    {
        match vpcflow::parse_record_with_format(text, Some(format), evidence.clone()) {
            Ok(mut event) => {
                if event.timestamp.is_none() {
                    event.timestamp = received;
                }
                add_envelope_fields(&mut event, envelope);
                ctx.emit(event);
            }
            Err(message) => ctx.error(super::location_of(&evidence), message),
        }
        return;
    }

    let mut collected = Collect::default();
    let mut stats = FileStats::default();
    {
        let mut inner = Context::new(ctx.source.clone(), ctx.options, &mut stats, &mut collected);
        inner.modified = ctx.modified;
        super::decode_message(text, evidence, received, &mut inner);
    }
    for mut event in collected.events {
        add_envelope_fields(&mut event, envelope);
        ctx.emit(event);
    }
    for error in collected.errors {
        ctx.error(error.location, error.message);
    }
}

fn add_envelope_fields(event: &mut Event, envelope: &Envelope<'_>) {
    let text_fields = [
        ("aws.cloudwatch.log_group", envelope.log_group),
        ("aws.cloudwatch.log_stream", envelope.log_stream),
        ("aws.cloudwatch.owner", envelope.owner),
        ("aws.cloudwatch.id", envelope.id),
    ];
    for (name, value) in text_fields {
        if let Some(value) = value {
            event.push(name, Value::Str(Str::from(value)));
        }
    }
    if let Some(time) = envelope.ingestion_time {
        event.push("aws.cloudwatch.ingestion_time", Value::Time(time));
    }
}

fn millis_to_timestamp(millis: i64) -> Option<Timestamp> {
    let time = Utc.timestamp_millis_opt(millis).single()?;
    Some(Timestamp::new(time, Precision::Millis))
}

/// Decodes subscription payloads: base64 text (one payload per line), or JSON documents
/// (decoded envelopes, Lambda events, Firehose bodies). Control messages are skipped with a
/// count.
pub fn decode_subscription(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    decode_subscription_layer(reader, ctx, 0)
}

/// Decodes one layer of a subscription input. The input layer opens gzip files before a
/// decoder runs, but a payload handed over as bytes (by a stream source, say) may still be
/// gzip, so it is opened here too, up to [`MAX_PAYLOAD_LAYERS`] deep.
fn decode_subscription_layer(reader: &mut dyn BufRead, ctx: &mut Context<'_>, depth: usize) -> io::Result<()> {
    let (gzip, first) = loop {
        match reader.fill_buf() {
            Ok(chunk) => break (chunk.starts_with(&[0x1f, 0x8b]), trim_start(chunk).first().copied()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    if gzip {
        if depth >= MAX_PAYLOAD_LAYERS {
            ctx.error(Location::File, format!("subscription payload is compressed more than {MAX_PAYLOAD_LAYERS} times; not opened"));
            return Ok(());
        }
        let limit = ctx.options.max_buffered_bytes.min(ctx.options.max_decompressed_bytes);
        let decoder = flate2::bufread::MultiGzDecoder::new(reader).take(limit);
        return decode_subscription_layer(&mut io::BufReader::new(decoder), ctx, depth + 1);
    }
    if matches!(first, Some(b'{') | Some(b'[')) {
        decode_subscription_json(reader, ctx)
    } else {
        decode_subscription_lines(reader, ctx)
    }
}

fn decode_subscription_lines(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let mut lines = LineReader::new(reader, ctx.options.max_line_bytes);
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
        let text = line.bytes.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let location = Location::Line { line: line.number, offset: line.offset };
        let evidence = Evidence::line(ctx.source.clone(), line.number, line.offset);
        decode_encoded_payload(text, location, evidence, ctx);
    }
    Ok(())
}

fn decode_subscription_json(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let max_record = usize::try_from(ctx.options.max_buffered_bytes).unwrap_or(usize::MAX);
    let mut splitter = JsonSplitter::new(reader, &[], max_record);
    while let Some(piece) = splitter.next_piece() {
        let (bytes, location, evidence) = match piece {
            Ok(Piece::Document { bytes, offset, line }) => {
                (bytes, Location::Line { line, offset }, Evidence::line(ctx.source.clone(), line, offset))
            }
            Ok(Piece::Element { bytes, offset, index, .. }) => {
                (bytes, Location::Index { index }, Evidence::new(ctx.source.clone()).with_offset(offset).with_index(index))
            }
            Err(error) => {
                report_split_error(error, ctx)?;
                continue;
            }
        };
        match serde_json::from_slice::<Json>(bytes) {
            Ok(json) => decode_subscription_document(&json, location, evidence, ctx),
            Err(error) => {
                ctx.record();
                ctx.error(location, format!("invalid JSON: {error}"));
            }
        }
    }
    Ok(())
}

/// Decodes one JSON document of a subscription input: an envelope, a Lambda event or a
/// Firehose body.
fn decode_subscription_document(json: &Json, location: Location, evidence: Evidence, ctx: &mut Context<'_>) {
    if json.get("messageType").is_some() || json.get("logEvents").is_some() {
        decode_envelope(json, evidence, ctx);
        return;
    }
    if let Some(data) = json.pointer("/awslogs/data").and_then(Json::as_str) {
        decode_encoded_payload(data.as_bytes(), location, evidence, ctx);
        return;
    }
    if let Some(Json::Array(records)) = json.get("records") {
        for (index, record) in records.iter().enumerate() {
            let index = index as u64;
            let evidence = evidence.clone().with_index(index);
            match record.get("data").and_then(Json::as_str) {
                Some(data) => decode_encoded_payload(data.as_bytes(), Location::Index { index }, evidence, ctx),
                None => {
                    ctx.record();
                    ctx.error(Location::Index { index }, "Firehose record has no \"data\" string");
                }
            }
        }
        return;
    }
    ctx.record();
    ctx.error(location, "JSON document is not a CloudWatch Logs subscription payload (no messageType, awslogs or records)");
}

/// Decodes base64 text of a gzip envelope, unwrapping extra layers of gzip or base64.
fn decode_encoded_payload(text: &[u8], location: Location, evidence: Evidence, ctx: &mut Context<'_>) {
    match unwrap_payload(text, ctx.options.max_buffered_bytes.min(ctx.options.max_decompressed_bytes)) {
        Ok(json) => decode_envelope(&json, evidence, ctx),
        Err(message) => {
            ctx.record();
            ctx.error(location, message);
        }
    }
}

fn unwrap_payload(text: &[u8], limit: u64) -> Result<Json, String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut data = engine.decode(text.trim_ascii()).map_err(|e| format!("subscription payload is not valid base64: {e}"))?;
    let mut gzipped = false;
    for _ in 0..MAX_PAYLOAD_LAYERS {
        if data.starts_with(&[0x1f, 0x8b]) {
            data = gunzip(&data, limit)?;
            gzipped = true;
        } else if data.starts_with(b"H4sI") {
            data = engine.decode(data.trim_ascii()).map_err(|e| format!("inner payload is not valid base64: {e}"))?;
        } else {
            break;
        }
    }
    if !gzipped {
        return Err("decoded subscription payload is not gzip data; expected base64 of a gzip CloudWatch Logs envelope".to_string());
    }
    serde_json::from_slice(&data).map_err(|e| format!("decompressed subscription payload is not valid JSON: {e}"))
}

fn gunzip(data: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(data).take(limit.saturating_add(1));
    decoder.read_to_end(&mut out).map_err(|e| format!("invalid or truncated gzip data in subscription payload: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!("subscription payload decompresses to more than the {limit}-byte limit"));
    }
    Ok(out)
}

/// Decodes a subscription envelope: each `logEvents` entry becomes an event, with the
/// entry's millisecond `timestamp` where the message has no time of its own.
fn decode_envelope(json: &Json, evidence: Evidence, ctx: &mut Context<'_>) {
    let message_type = json.get("messageType").and_then(Json::as_str);
    if message_type == Some("CONTROL_MESSAGE") {
        ctx.skip("CloudWatch Logs control message", 1);
        return;
    }
    let text = |key: &str| json.get(key).and_then(Json::as_str);
    let Some(Json::Array(log_events)) = json.get("logEvents") else {
        ctx.record();
        ctx.error(super::location_of(&evidence), "subscription envelope has no logEvents array");
        return;
    };
    for (index, log_event) in log_events.iter().enumerate() {
        let evidence = evidence.clone().with_index(index as u64);
        let envelope = Envelope {
            log_group: text("logGroup"),
            log_stream: text("logStream"),
            owner: text("owner"),
            id: log_event.get("id").and_then(Json::as_str),
            ingestion_time: None,
        };
        decode_log_event(log_event, evidence, &envelope, ctx);
    }
}

/// Decodes one `{"timestamp", "message", ...}` entry.
fn decode_log_event(log_event: &Json, evidence: Evidence, envelope: &Envelope<'_>, ctx: &mut Context<'_>) {
    let Some(message) = log_event.get("message").and_then(Json::as_str) else {
        ctx.record();
        ctx.error(super::location_of(&evidence), "log event has no \"message\" string");
        return;
    };
    let received = log_event.get("timestamp").and_then(Json::as_i64).and_then(millis_to_timestamp);
    decode_inner(message, evidence, received, envelope, ctx);
}

/// Decodes `aws logs filter-log-events` / `get-log-events` output, read event by event.
pub fn decode_events(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let max_record = usize::try_from(ctx.options.max_buffered_bytes).unwrap_or(usize::MAX);
    let mut splitter = JsonSplitter::new(reader, &["events"], max_record);
    while let Some(piece) = splitter.next_piece() {
        match piece {
            Ok(Piece::Element { bytes, offset, index, .. }) => {
                let evidence = Evidence::new(ctx.source.clone()).with_offset(offset).with_index(index);
                match serde_json::from_slice::<Json>(bytes) {
                    Ok(json) => decode_output_event(&json, evidence, ctx),
                    Err(error) => {
                        ctx.record();
                        ctx.error(Location::Index { index }, format!("invalid JSON: {error}"));
                    }
                }
            }
            Ok(Piece::Document { bytes, offset, line }) => {
                let evidence = Evidence::line(ctx.source.clone(), line, offset);
                match serde_json::from_slice::<Json>(bytes) {
                    Ok(json) => match json.get("events") {
                        Some(Json::Array(events)) => {
                            for (index, event) in events.iter().enumerate() {
                                decode_output_event(event, evidence.clone().with_index(index as u64), ctx);
                            }
                        }
                        _ => decode_output_event(&json, evidence, ctx),
                    },
                    Err(error) => {
                        ctx.record();
                        ctx.error(Location::Line { line, offset }, format!("invalid JSON: {error}"));
                    }
                }
            }
            Err(error) => report_split_error(error, ctx)?,
        }
    }
    Ok(())
}

/// Decodes one event of the CLI output: `logStreamName`, `timestamp`, `message`,
/// `ingestionTime`, `eventId`.
fn decode_output_event(json: &Json, evidence: Evidence, ctx: &mut Context<'_>) {
    let text = |key: &str| json.get(key).and_then(Json::as_str);
    let envelope = Envelope {
        log_group: text("logGroupName"),
        log_stream: text("logStreamName"),
        owner: None,
        id: text("eventId"),
        ingestion_time: json.get("ingestionTime").and_then(Json::as_i64).and_then(millis_to_timestamp),
    };
    decode_log_event(json, evidence, &envelope, ctx);
}

/// Decodes an S3 export file. Each event starts with a `2023-07-10T11:45:01.123Z ` line, and
/// lines without that prefix continue the previous event's message (multi-line messages).
pub fn decode_export(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    struct Pending {
        number: u64,
        offset: u64,
        time: Timestamp,
        message: String,
    }
    fn flush(pending: Option<Pending>, ctx: &mut Context<'_>) {
        if let Some(p) = pending {
            let evidence = Evidence::line(ctx.source.clone(), p.number, p.offset);
            decode_inner(&p.message, evidence, Some(p.time), &Envelope::default(), ctx);
        }
    }

    let mut lines = LineReader::new(reader, ctx.options.max_line_bytes);
    let mut pending: Option<Pending> = None;
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
            Err(LineError::Io { error, .. }) => {
                flush(pending.take(), ctx);
                return Err(error);
            }
        };
        let location = Location::Line { line: line.number, offset: line.offset };
        let text = match std::str::from_utf8(line.bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => {
                if !reported_utf8 {
                    reported_utf8 = true;
                    ctx.error(location, "invalid UTF-8; this and later lines are decoded with replacement characters");
                }
                String::from_utf8_lossy(line.bytes)
            }
        };
        match export_timestamp(text.as_bytes()) {
            Some((time, prefix)) => {
                flush(pending.take(), ctx);
                pending = Some(Pending { number: line.number, offset: line.offset, time, message: text[prefix..].to_string() });
            }
            None => match pending.as_mut() {
                Some(p) if p.message.len() + text.len() < ctx.options.max_line_bytes => {
                    p.message.push('\n');
                    p.message.push_str(&text);
                }
                Some(_) => {
                    ctx.error(location, "continuation line makes the message longer than the line limit; line skipped");
                }
                None if text.trim().is_empty() => {}
                None => {
                    ctx.record();
                    ctx.error(location, "line does not start with a 2023-07-10T11:45:01.123Z timestamp");
                }
            },
        }
    }
    flush(pending, ctx);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_prefix() {
        let (time, length) = export_timestamp(b"2023-07-10T11:45:01.123Z hello").unwrap();
        assert_eq!(time.to_string(), "2023-07-10T11:45:01.123Z");
        assert_eq!(length, 25);
        assert!(export_timestamp(b"2023-07-10T11:45:01.123456Z hello").is_none());
        assert!(export_timestamp(b"2023-07-10T11:45:01.123+00:00 hello").is_none());
    }

    #[test]
    fn sniffs_shapes() {
        assert!(sniff_subscription(br#"{"awslogs":{"data":"H4sI"}}"#));
        assert!(sniff_subscription(br#"{"messageType":"DATA_MESSAGE","logEvents":[]}"#));
        assert!(sniff_base64_subscription(b"H4sIAAAAAAAAA+0=\n"));
        assert!(!sniff_base64_subscription(b"H4sI not base64"));
        assert!(sniff_events(br#"{"events":[{"timestamp":1,"message":"m","ingestionTime":2}]}"#));
    }

    #[test]
    fn plain_base64_is_not_a_payload() {
        let error = unwrap_payload(b"aGVsbG8=", 1 << 20).unwrap_err();
        assert!(error.contains("not gzip"), "{error}");
    }
}
