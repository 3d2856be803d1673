use std::fmt;

use serde::Serialize;

use crate::decode;

/// A log format tocsin decodes. Chosen from the content by [`Format::sniff`], never from the
/// file name alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Windows binary event log (`ElfFile` header).
    Evtx,
    /// Windows events as XML (`wevtutil qe /f:xml`, `Get-WinEvent | ... ToXml()`).
    WindowsXml,
    /// Windows events as JSON lines: Winlogbeat/ECS documents or flat exports.
    WindowsJson,
    /// Syslog lines: RFC 3164 (auth.log, secure), RFC 5424, and ISO-timestamped rsyslog lines.
    Syslog,
    /// `journalctl -o json` export.
    Journald,
    /// Raw Linux audit log.
    Auditd,
    /// AWS VPC Flow Logs records.
    VpcFlow,
    /// CloudTrail events: S3 delivery files, JSON arrays, or one event per line.
    CloudTrail,
    /// CloudTrail digest file: recognised and skipped.
    CloudTrailDigest,
    /// CloudWatch Logs subscription payload (base64 + gzip, or the decoded JSON).
    CloudWatchSubscription,
    /// Output of `aws logs filter-log-events` or `get-log-events`.
    CloudWatchEvents,
    /// Text file written by a CloudWatch Logs export task to S3 (`timestamp message` lines).
    CloudWatchExport,
    /// Amazon GuardDuty findings (API output, EventBridge events, or one per line).
    GuardDuty,
    /// AWS Security Hub findings in ASFF.
    SecurityHub,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::WindowsXml => "windows-xml",
            Format::WindowsJson => "windows-json",
            Format::Syslog => "syslog",
            Format::Journald => "journald",
            Format::Auditd => "auditd",
            Format::VpcFlow => "vpcflow",
            Format::CloudTrail => "cloudtrail",
            Format::CloudTrailDigest => "cloudtrail-digest",
            Format::CloudWatchSubscription => "cloudwatch-subscription",
            Format::CloudWatchEvents => "cloudwatch-events",
            Format::CloudWatchExport => "cloudwatch-export",
            Format::GuardDuty => "guardduty",
            Format::SecurityHub => "securityhub",
        }
    }

    /// Every format, in the order `--input-format` lists them.
    pub const ALL: &'static [Format] = &[
        Format::Evtx,
        Format::WindowsXml,
        Format::WindowsJson,
        Format::Syslog,
        Format::Journald,
        Format::Auditd,
        Format::VpcFlow,
        Format::CloudTrail,
        Format::CloudTrailDigest,
        Format::CloudWatchSubscription,
        Format::CloudWatchEvents,
        Format::CloudWatchExport,
        Format::GuardDuty,
        Format::SecurityHub,
    ];

    /// Looks a format up by its [`Format::name`].
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Recognises the format from the first bytes of an input (up to [`SNIFF_BYTES`]).
    ///
    /// Binary signatures come first, then JSON documents by their keys, then line formats by
    /// the shape of their first lines. Returns `None` when nothing fits; the caller reports
    /// the input as unrecognised.
    pub fn sniff(head: &[u8]) -> Option<Format> {
        if decode::evtx::sniff(head) {
            return Some(Format::Evtx);
        }
        let text = skip_bom_and_space(head);
        match text.first() {
            Some(b'{') | Some(b'[') => sniff_json(text),
            Some(b'<') if decode::winxml::sniff(text) => Some(Format::WindowsXml),
            Some(_) => sniff_lines(text),
            None => None,
        }
    }
}

/// How many bytes of an input [`Format::sniff`] looks at.
pub const SNIFF_BYTES: usize = 64 * 1024;

fn sniff_json(text: &[u8]) -> Option<Format> {
    if decode::cloudtrail::sniff_digest(text) {
        return Some(Format::CloudTrailDigest);
    }
    if decode::cloudtrail::sniff(text) {
        return Some(Format::CloudTrail);
    }
    if decode::cloudwatch::sniff_subscription(text) {
        return Some(Format::CloudWatchSubscription);
    }
    if decode::cloudwatch::sniff_events(text) {
        return Some(Format::CloudWatchEvents);
    }
    if decode::findings::sniff_securityhub(text) {
        return Some(Format::SecurityHub);
    }
    if decode::findings::sniff_guardduty(text) {
        return Some(Format::GuardDuty);
    }
    if decode::journald::sniff(text) {
        return Some(Format::Journald);
    }
    if decode::winjson::sniff(text) {
        return Some(Format::WindowsJson);
    }
    None
}

fn sniff_lines(text: &[u8]) -> Option<Format> {
    if decode::cloudwatch::sniff_base64_subscription(text) {
        return Some(Format::CloudWatchSubscription);
    }
    if decode::auditd::sniff(text) {
        return Some(Format::Auditd);
    }
    if decode::vpcflow::sniff(text) {
        return Some(Format::VpcFlow);
    }
    if decode::cloudwatch::sniff_export(text) {
        return Some(Format::CloudWatchExport);
    }
    if decode::syslog::sniff(text) {
        return Some(Format::Syslog);
    }
    None
}

fn skip_bom_and_space(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    &head[start..]
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
