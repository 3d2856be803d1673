//! Amazon GuardDuty findings and AWS Security Hub findings (ASFF) as events.
//!
//! Accepted shapes: the `GetFindings` API output (`{"Findings": [...]}`, read finding by
//! finding), JSON arrays, one finding per line, and EventBridge events (`detail-type`
//! "GuardDuty Finding", whose `detail` is the finding, or "Security Hub Findings - Imported",
//! whose `detail.findings` lists them). Each finding's kind comes from its own keys: an ASFF
//! finding has `ProductArn` or `SchemaVersion`, a GuardDuty finding has `schemaVersion` in
//! lower camel case. Both decoders therefore accept either kind.

use std::io::{self, BufRead};
use std::net::IpAddr;

use serde_json::Value as Json;
use tocsin_event::{Event, Evidence, Schema, Str, Timestamp, Value};

use super::cloudtrail::split::{JsonSplitter, Piece};
use super::cloudtrail::{contains, report_split_error, trim_start};
use crate::{flatten_json, Context, Location};

/// Recognises GuardDuty findings: an EventBridge "GuardDuty Finding" event, or JSON with a
/// `schemaVersion` beside a `detectorId` or a GuardDuty ARN.
pub fn sniff_guardduty(head: &[u8]) -> bool {
    let text = trim_start(head);
    if !matches!(text.first(), Some(b'{') | Some(b'[')) {
        return false;
    }
    (contains(text, br#""detail-type""#) && contains(text, b"GuardDuty Finding"))
        || (contains(text, br#""schemaVersion""#) && (contains(text, br#""detectorId""#) || contains(text, b":guardduty:")))
}

/// Recognises Security Hub findings in ASFF: an EventBridge "Security Hub Findings" event, or
/// JSON with `ProductArn` beside `SchemaVersion` or `AwsAccountId`.
pub fn sniff_securityhub(head: &[u8]) -> bool {
    let text = trim_start(head);
    if !matches!(text.first(), Some(b'{') | Some(b'[')) {
        return false;
    }
    (contains(text, br#""detail-type""#) && contains(text, b"Security Hub Findings"))
        || (contains(text, br#""ProductArn""#) && (contains(text, br#""SchemaVersion""#) || contains(text, br#""AwsAccountId""#)))
}

pub fn decode_guardduty(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    decode(reader, ctx)
}

pub fn decode_securityhub(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    decode(reader, ctx)
}

fn decode(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let max_record = usize::try_from(ctx.options.max_buffered_bytes).unwrap_or(usize::MAX);
    let mut splitter = JsonSplitter::new(reader, &["Findings"], max_record);

    while let Some(piece) = splitter.next_piece() {
        let (bytes, location, evidence) = match piece {
            Ok(Piece::Element { bytes, offset, index }) => {
                (bytes, Location::Index { index }, Evidence::new(ctx.source.clone()).with_offset(offset).with_index(index))
            }
            Ok(Piece::Document { bytes, offset, line }) => {
                (bytes, Location::Line { line, offset }, Evidence::line(ctx.source.clone(), line, offset))
            }
            Err(error) => {
                report_split_error(error, ctx)?;
                continue;
            }
        };
        match serde_json::from_slice::<Json>(bytes) {
            Ok(json) => decode_value(&json, bytes, location, evidence, ctx),
            Err(error) => {
                ctx.record();
                ctx.error(location, format!("invalid JSON: {error}"));
            }
        }
    }
    Ok(())
}

/// Decodes one JSON value of the input: an EventBridge event, a `Findings` list (one whose
/// first key is not `Findings`, so the splitter did not stream it), or one finding.
fn decode_value(json: &Json, bytes: &[u8], location: Location, evidence: Evidence, ctx: &mut Context<'_>) {
    let (list, envelope) = match (json.get("detail-type"), json.get("detail")) {
        (Some(_), Some(detail)) => match detail.get("findings") {
            Some(Json::Array(findings)) => (Some(findings), Some(json)),
            _ => {
                ctx.record();
                match finding_event(detail, &String::from_utf8_lossy(bytes), evidence, Some(json)) {
                    Ok(event) => ctx.emit(event),
                    Err(message) => ctx.error(location, message),
                }
                return;
            }
        },
        _ => match json.get("Findings") {
            Some(Json::Array(findings)) => (Some(findings), None),
            _ => (None, None),
        },
    };

    match list {
        Some(findings) => {
            for (index, finding) in findings.iter().enumerate() {
                ctx.record();
                let index = index as u64;
                match finding_event(finding, &finding.to_string(), evidence.clone().with_index(index), envelope) {
                    Ok(event) => ctx.emit(event),
                    Err(message) => ctx.error(Location::Index { index }, message),
                }
            }
        }
        None => {
            ctx.record();
            match finding_event(json, &String::from_utf8_lossy(bytes), evidence, None) {
                Ok(event) => ctx.emit(event),
                Err(message) => ctx.error(location, message),
            }
        }
    }
}

/// Builds the event of one finding. `envelope` is the EventBridge event around it, whose
/// `time` is used when the finding carries no time of its own.
fn finding_event(finding: &Json, raw: &str, evidence: Evidence, envelope: Option<&Json>) -> Result<Event, String> {
    let Json::Object(map) = finding else {
        return Err("finding is not a JSON object".to_string());
    };
    let asff = map.contains_key("ProductArn") || map.contains_key("SchemaVersion");
    let schema = if asff { Schema::SecurityHub } else { Schema::GuardDuty };
    let time_keys: &[&str] = if asff {
        &["UpdatedAt", "CreatedAt", "ProcessedAt", "LastObservedAt", "FirstObservedAt"]
    } else {
        &["updatedAt", "createdAt"]
    };

    let mut event = Event::with_capacity(schema, evidence, 64);
    flatten_json(&mut event, "", finding);
    event.raw = Some(Box::from(raw));
    event.timestamp = time_keys
        .iter()
        .filter_map(|key| map.get(*key).and_then(Json::as_str))
        .chain(envelope.and_then(|e| e.get("time")).and_then(Json::as_str))
        .find_map(parse_time);

    let remote_ips = if asff { remote_ips(&event, ASFF_REMOTE_IPS) } else { remote_ips(&event, GUARDDUTY_REMOTE_IPS) };
    match remote_ips.len() {
        0 => {}
        1 => event.push("source.ip", Value::Ip(remote_ips[0])),
        _ => event.push("source.ip", Value::List(remote_ips.into_iter().map(Value::Ip).collect())),
    }
    if asff {
        add_asff_resources(&mut event, map.get("Resources"));
    }
    Ok(event)
}

/// Parses the times findings carry: RFC 3339, or `2024-05-24 22:53:24.000000000` in UTC
/// (seen in exports of ASFF findings).
fn parse_time(text: &str) -> Option<Timestamp> {
    if let Some(time) = Timestamp::parse_rfc3339(text) {
        return Some(time);
    }
    let (date, time) = text.split_once(' ')?;
    Timestamp::parse_rfc3339(&format!("{date}T{time}Z"))
}

/// Flattened names of the remote address in GuardDuty findings, by action type.
const GUARDDUTY_REMOTE_IPS: &[&str] = &[
    "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4",
    "service.action.networkConnectionAction.remoteIpDetails.ipAddressV6",
    "service.action.awsApiCallAction.remoteIpDetails.ipAddressV4",
    "service.action.awsApiCallAction.remoteIpDetails.ipAddressV6",
    "service.action.kubernetesApiCallAction.remoteIpDetails.ipAddressV4",
    "service.action.kubernetesApiCallAction.remoteIpDetails.ipAddressV6",
    "service.action.rdsLoginAttemptAction.remoteIpDetails.ipAddressV4",
    "service.action.rdsLoginAttemptAction.remoteIpDetails.ipAddressV6",
    "service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4",
    "service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV6",
];

/// Flattened names of the remote address in ASFF findings.
const ASFF_REMOTE_IPS: &[&str] = &[
    "Action.NetworkConnectionAction.RemoteIpDetails.IpAddressV4",
    "Action.AwsApiCallAction.RemoteIpDetails.IpAddressV4",
    "Action.PortProbeAction.PortProbeDetails.RemoteIpDetails.IpAddressV4",
    "Network.SourceIpV4",
    "Network.SourceIpV6",
];

/// Returns the distinct addresses found under `names`, in order.
fn remote_ips(event: &Event, names: &[&str]) -> Vec<IpAddr> {
    let mut found = Vec::new();
    let mut add = |value: &Value| {
        if let Some(ip) = value.as_ip()
            && !found.contains(&ip)
        {
            found.push(ip);
        }
    };
    for name in names {
        match event.get_source(name) {
            Some(Value::List(items)) => items.iter().for_each(&mut add),
            Some(value) => add(value),
            None => {}
        }
    }
    found
}

/// Adds `cloud.instance.id` and `aws.access_key_id` from an ASFF finding's `Resources`. Read
/// from the JSON, because the flattened lists of resource fields do not line up when a
/// resource lacks a field.
fn add_asff_resources(event: &mut Event, resources: Option<&Json>) {
    let Some(Json::Array(resources)) = resources else {
        return;
    };
    let mut instances: Vec<Value> = Vec::new();
    let mut keys: Vec<Value> = Vec::new();
    for resource in resources {
        let kind = resource.get("Type").and_then(Json::as_str);
        let id = resource.get("Id").and_then(Json::as_str);
        if kind == Some("AwsEc2Instance")
            && let Some(id) = id
        {
            // The id is an ARN ending in `instance/i-...`, or the bare instance id.
            let instance = id.rsplit_once("instance/").map_or(id, |(_, instance)| instance);
            instances.push(Value::Str(Str::from(instance)));
        }
        let key = resource.pointer("/Details/AwsIamAccessKey/AccessKeyId").and_then(Json::as_str);
        let key = key.or(if kind == Some("AwsIamAccessKey") { id } else { None });
        if let Some(key) = key
            && !keys.iter().any(|k| k.as_str() == Some(key))
        {
            keys.push(Value::Str(Str::from(key)));
        }
    }
    for (name, mut values) in [("cloud.instance.id", instances), ("aws.access_key_id", keys)] {
        match values.len() {
            0 => {}
            1 => event.push(name, values.remove(0)),
            _ => event.push(name, Value::List(values)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_kinds() {
        assert!(sniff_guardduty(br#"{"schemaVersion":"2.0","accountId":"111122223333","service":{"detectorId":"d1"}}"#));
        assert!(sniff_guardduty(br#"{"version":"0","detail-type":"GuardDuty Finding","detail":{}}"#));
        assert!(sniff_securityhub(br#"{"Findings":[{"SchemaVersion":"2018-10-08","ProductArn":"arn"}]}"#));
        assert!(!sniff_securityhub(br#"{"schemaVersion":"2.0","detectorId":"d1"}"#));
    }

    #[test]
    fn space_separated_time() {
        let time = parse_time("2024-05-24 22:53:24.000000000").unwrap();
        assert_eq!(time.to_string(), "2024-05-24T22:53:24.000000000Z");
    }
}
