//! One module per log format. Each has a `sniff` that recognises its format from the first
//! bytes of an input, and a `decode` that turns the input into events through a [`Context`].

pub mod auditd;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod evtx;
pub mod findings;
pub mod journald;
pub mod syslog;
pub mod vpcflow;
pub mod winjson;
pub mod winxml;

use std::io::{self, BufRead};

use tocsin_event::{Evidence, Timestamp};

use crate::{Context, Format};

/// Decodes a stream in a format that does not need random access (every format but EVTX,
/// which [`evtx::decode`] reads from a byte slice).
///
/// Returns an I/O error when the stream itself fails (a truncated gzip member, say); events
/// decoded before the failure have already been emitted.
pub fn decode_stream(format: Format, reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    match format {
        Format::Evtx => {
            let mut data = Vec::new();
            crate::input::read_limited(reader, ctx.options.max_buffered_bytes, &mut data)?;
            evtx::decode(&data, ctx);
            Ok(())
        }
        Format::WindowsXml => winxml::decode(reader, ctx),
        Format::WindowsJson => winjson::decode(reader, ctx),
        Format::Syslog => syslog::decode(reader, ctx),
        Format::Journald => journald::decode(reader, ctx),
        Format::Auditd => auditd::decode(reader, ctx),
        Format::VpcFlow => vpcflow::decode(reader, ctx),
        Format::CloudTrail => cloudtrail::decode(reader, ctx),
        Format::CloudTrailDigest => {
            ctx.skip("CloudTrail digest file", 1);
            Ok(())
        }
        Format::CloudWatchSubscription => cloudwatch::decode_subscription(reader, ctx),
        Format::CloudWatchEvents => cloudwatch::decode_events(reader, ctx),
        Format::CloudWatchExport => cloudwatch::decode_export(reader, ctx),
        Format::GuardDuty => findings::decode_guardduty(reader, ctx),
        Format::SecurityHub => findings::decode_securityhub(reader, ctx),
    }
}

/// Decodes one log message that arrived inside an envelope (a CloudWatch Logs event): an
/// auth.log line, a VPC flow record, a CloudTrail event as JSON, and so on.
///
/// `received` is the envelope's timestamp, used when the message has none of its own (or
/// only one without a year). Emits the event, or reports an error at `evidence`'s location.
pub fn decode_message(text: &str, evidence: Evidence, received: Option<Timestamp>, ctx: &mut Context<'_>) {
    let trimmed = text.trim_start();
    let result = if trimmed.starts_with('{') {
        if cloudtrail::sniff(trimmed.as_bytes()) {
            cloudtrail::parse_event_text(trimmed, evidence.clone())
        } else if journald::sniff(trimmed.as_bytes()) {
            journald::parse_entry_text(trimmed, evidence.clone())
        } else if winjson::sniff(trimmed.as_bytes()) {
            winjson::parse_record_text(trimmed, evidence.clone())
        } else {
            Err("JSON message of an unrecognised format".to_string())
        }
    } else if vpcflow::sniff_record(trimmed.as_bytes()) {
        vpcflow::parse_default_record(trimmed, evidence.clone())
    } else if auditd::sniff(trimmed.as_bytes()) {
        auditd::parse_single_record(trimmed, evidence.clone())
    } else {
        syslog::parse_message(trimmed, evidence.clone(), received, ctx)
    };

    match result {
        Ok(mut event) => {
            if event.timestamp.is_none() {
                event.timestamp = received;
            }
            ctx.emit(event);
        }
        Err(message) => ctx.error(location_of(&evidence), message),
    }
}

fn location_of(evidence: &Evidence) -> crate::Location {
    if let Some(line) = evidence.line {
        crate::Location::Line { line, offset: evidence.offset.unwrap_or(0) }
    } else if let Some(index) = evidence.index {
        crate::Location::Index { index }
    } else if let Some(offset) = evidence.offset {
        crate::Location::Offset { offset }
    } else {
        crate::Location::File
    }
}
