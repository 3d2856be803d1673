//! AWS decoders over real samples and hand-made inputs: VPC Flow Logs, CloudTrail,
//! CloudWatch Logs and GuardDuty / Security Hub findings.
//!
//! Real samples come from `TOCSIN_TEST_DATA` (the AWS documentation's flow log examples, the
//! Invictus and Stratus Red Team CloudTrail sets, the aws-lambda-go CloudWatch Logs sample,
//! Panther's labelled findings). Everything under `tests/data/aws/` is made by hand from the
//! documented formats with placeholder values, because no public sample of that shape exists
//! (CloudWatch exports and CLI output, Firehose bodies, digest files, ASFF with resources);
//! `tests/data/aws/make_inputs.py` writes them.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use tocsin_event::{Event, Schema, Value};
use tocsin_ingest::decode::{cloudtrail, vpcflow};
use tocsin_ingest::{decode_bytes_as, decode_bytes_input, flatten_json, Collect, FileStats, Format, Options};

use common::{decode_file, decode_file_with, local_data, test_data};

fn ip(text: &str) -> Value {
    Value::Ip(text.parse::<IpAddr>().unwrap())
}

fn one(stats: &[FileStats]) -> &FileStats {
    assert_eq!(stats.len(), 1, "expected one input, got {stats:?}");
    &stats[0]
}

fn files_with_extension(folder: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

fn decode_text(name: &str, text: &str, options: &Options) -> (Collect, Vec<FileStats>) {
    let mut out = Collect::default();
    let stats = decode_bytes_input(name, text.as_bytes(), options, &mut out);
    (out, stats)
}

// ---------------------------------------------------------------------------------------
// VPC Flow Logs
// ---------------------------------------------------------------------------------------

/// Header lines in the documentation examples, counted by hand: tcp-flag.log and nat.log
/// start with one.
const VPC_HEADER_LINES: &[(&str, u64)] = &[
    ("accepted-rejected.log", 0),
    ("ipv6.log", 0),
    ("nat.log", 1),
    ("no-data.log", 0),
    ("security-groups.log", 0),
    ("tcp-flag.log", 1),
];

#[test]
fn vpc_doc_examples_counts() {
    let Some(folder) = test_data("awsdocs-vpc-flow-log-examples") else { return };
    let files = files_with_extension(&folder, "log");
    assert_eq!(files.len(), VPC_HEADER_LINES.len(), "unexpected example files: {files:?}");

    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let headers = VPC_HEADER_LINES.iter().find(|(n, _)| *n == name).map(|(_, h)| *h).unwrap();
        let data = std::fs::read(&path).unwrap();
        let lines = data.iter().filter(|&&b| b == b'\n').count() as u64;

        let (out, stats) = decode_file(&path);
        let stats = one(&stats);
        assert_eq!(stats.format, Some(Format::VpcFlow), "{name}");
        assert_eq!(stats.errors, 0, "{name}: {:?}", out.errors);
        assert_eq!(stats.records, lines - headers, "{name}");
        assert_eq!(out.events.len() as u64, lines - headers, "{name}");
        assert!(out.events.iter().all(|e| e.schema == Schema::VpcFlow));
    }
}

#[test]
fn vpc_accepted_rejected_fields() {
    let Some(folder) = test_data("awsdocs-vpc-flow-log-examples") else { return };
    let (out, _) = decode_file(&folder.join("accepted-rejected.log"));
    let ssh = &out.events[0];
    assert_eq!(ssh.get_i64("version"), Some(2));
    assert_eq!(ssh.get_str("account-id"), Some("123456789010"));
    assert_eq!(ssh.get_str("interface-id"), Some("eni-1235b8ca123456789"));
    assert_eq!(ssh.get("srcaddr"), Some(&ip("172.31.16.139")));
    assert_eq!(ssh.get("source.ip"), Some(&ip("172.31.16.139")));
    assert_eq!(ssh.get("destination.ip"), Some(&ip("172.31.16.21")));
    assert_eq!(ssh.get_i64("source.port"), Some(20641));
    assert_eq!(ssh.get_i64("destination.port"), Some(22));
    assert_eq!(ssh.get_str("network.transport"), Some("tcp"));
    assert_eq!(ssh.get_i64("network.bytes"), Some(4249));
    assert_eq!(ssh.get_i64("network.packets"), Some(20));
    assert_eq!(ssh.get_str("event.action"), Some("ACCEPT"));
    assert_eq!(ssh.get_str("event.outcome"), Some("success"));
    assert_eq!(ssh.get_str("cloud.account.id"), Some("123456789010"));
    assert_eq!(ssh.timestamp.unwrap().to_string(), "2014-12-14T04:06:50Z");
    assert_eq!(ssh.evidence.line, Some(1));
    assert!(ssh.raw.as_deref().unwrap().ends_with("ACCEPT OK"));

    let rdp = &out.events[1];
    assert_eq!(rdp.get_i64("dstport"), Some(3389));
    assert_eq!(rdp.get_str("action"), Some("REJECT"));
    assert_eq!(rdp.get_str("event.outcome"), Some("failure"));
}

#[test]
fn vpc_nodata_and_skipdata() {
    let Some(folder) = test_data("awsdocs-vpc-flow-log-examples") else { return };
    let (out, _) = decode_file(&folder.join("no-data.log"));
    assert_eq!(out.events.len(), 2);
    let nodata = &out.events[0];
    assert_eq!(nodata.get_str("log-status"), Some("NODATA"));
    assert_eq!(nodata.get("srcaddr"), None);
    assert_eq!(nodata.get("dstport"), None);
    assert_eq!(nodata.get("action"), None);
    assert_eq!(nodata.get("event.outcome"), None);
    assert_eq!(nodata.timestamp.unwrap().to_string(), "2015-05-10T18:01:16Z");
    let skipdata = &out.events[1];
    assert_eq!(skipdata.get_str("log-status"), Some("SKIPDATA"));
    assert_eq!(skipdata.get_str("interface-id"), Some("eni-11111111aaaaaaaaa"));
    assert_eq!(skipdata.get("packets"), None);
}

#[test]
fn vpc_ipv6_and_icmp() {
    let Some(folder) = test_data("awsdocs-vpc-flow-log-examples") else { return };
    let (out, _) = decode_file(&folder.join("ipv6.log"));
    let event = &out.events[0];
    assert_eq!(event.get("srcaddr"), Some(&ip("2001:db8:1234:a100:8d6e:3477:df66:f105")));
    assert_eq!(event.get("dstaddr"), Some(&ip("2001:db8:1234:a102:3304:8879:34cf:4071")));
    assert_eq!(event.get_str("network.type"), Some("ipv6"));

    let (out, _) = decode_file(&folder.join("security-groups.log"));
    assert_eq!(out.events[0].get_i64("protocol"), Some(1));
    assert_eq!(out.events[0].get_str("network.transport"), Some("icmp"));
    assert_eq!(out.events[0].get_i64("dstport"), Some(0));
}

#[test]
fn vpc_header_line_custom_order() {
    let Some(folder) = test_data("awsdocs-vpc-flow-log-examples") else { return };
    let (out, _) = decode_file(&folder.join("tcp-flag.log"));
    assert_eq!(out.events.len(), 8);
    let second = &out.events[1];
    assert_eq!(second.get_i64("version"), Some(3));
    assert_eq!(second.get_str("vpc-id"), Some("vpc-abcdefab012345678"));
    assert_eq!(second.get_str("instance-id"), Some("i-01234567890123456"));
    assert_eq!(second.get_str("cloud.instance.id"), Some("i-01234567890123456"));
    assert_eq!(second.get_i64("tcp-flags"), Some(18));
    assert_eq!(second.get("pkt-srcaddr"), Some(&ip("10.0.0.62")));
    assert_eq!(second.get_str("type"), Some("IPv4"));
    assert_eq!(second.get_i64("bytes"), Some(376));
    // The last record has two spaces between two values.
    let last = &out.events[7];
    assert_eq!(last.get_i64("srcport"), Some(5001));
    assert_eq!(last.get_i64("tcp-flags"), Some(19));
}

#[test]
fn vpc_nat_example_with_comments() {
    let Some(folder) = test_data("awsdocs-vpc-flow-log-examples") else { return };
    let (out, stats) = decode_file(&folder.join("nat.log"));
    assert_eq!(one(&stats).errors, 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 6);
    assert_eq!(out.events[0].get("instance-id"), None);
    assert_eq!(out.events[0].get("pkt-dstaddr"), Some(&ip("203.0.113.5")));
    assert_eq!(out.events[0].timestamp, None);
    let annotated = &out.events[4];
    assert_eq!(annotated.get_str("instance-id"), Some("i-01234567890123456"));
    assert_eq!(annotated.get("dstaddr"), Some(&ip("203.0.113.5")));
    assert_eq!(annotated.fields().iter().filter(|f| !f.name.contains('.')).count(), 6);
}

/// The header of tcp-flag.log, given as the configured format for the same records without
/// their header line, in both spellings AWS uses.
#[test]
fn vpc_format_option_without_header() {
    let Some(folder) = test_data("awsdocs-vpc-flow-log-examples") else { return };
    let text = std::fs::read_to_string(folder.join("tcp-flag.log")).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let placeholders: Vec<String> = header.split_whitespace().map(|n| format!("${{{n}}}")).collect();

    for format in [header.to_string(), placeholders.join(" ")] {
        let options = Options { flow_log_format: Some(format.clone()), ..Options::default() };
        let (out, stats) = decode_text("tcp-flag-body.log", body, &options);
        assert_eq!(one(&stats).format, Some(Format::VpcFlow), "{format}");
        assert_eq!(out.errors.len(), 0, "{format}: {:?}", out.errors);
        assert_eq!(out.events.len(), 8, "{format}");
        assert_eq!(out.events[1].get_i64("tcp-flags"), Some(18), "{format}");
    }

    // Without the format, the 21-value records do not fit the default format: an error per
    // record, never a guess.
    let (out, _) = decode_text("tcp-flag-body.log", body, &Options::default());
    assert_eq!(out.events.len(), 0);
    assert_eq!(out.errors.len(), 8);
    assert!(out.errors[0].message.contains("21 values"), "{}", out.errors[0]);
}

#[test]
fn vpc_custom_format_skipdata() {
    let (out, stats) = decode_file(&local_data("aws/vpcflow/custom-skipdata.log"));
    assert_eq!(one(&stats).errors, 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 3);

    let accept = &out.events[0];
    assert_eq!(accept.get_i64("version"), Some(5));
    assert_eq!(accept.get("srcaddr"), Some(&ip("198.51.100.7")));
    assert_eq!(accept.get_i64("dstport"), Some(22));
    assert_eq!(accept.get_str("flow-direction"), Some("ingress"));
    assert_eq!(accept.get_str("network.direction"), Some("ingress"));
    assert_eq!(accept.get_str("az-id"), Some("use1-az1"));
    assert_eq!(accept.get_str("cloud.region"), Some("us-east-1"));
    assert_eq!(accept.get("pkt-src-aws-service"), None);

    for (event, status) in [(&out.events[1], "NODATA"), (&out.events[2], "SKIPDATA")] {
        assert_eq!(event.get_str("log-status"), Some(status));
        assert_eq!(event.get_str("instance-id"), Some("i-0123456789abcdef0"), "{status}");
        assert_eq!(event.get("packets"), None, "{status}");
        assert_eq!(event.get("bytes"), None, "{status}");
        assert_eq!(event.get("srcport"), None, "{status}");
        assert_eq!(event.get("srcaddr"), None, "{status}");
        assert_eq!(event.get_str("vpc-id"), Some("vpc-0123456789abcdef0"), "{status}");
        assert_eq!(event.timestamp.unwrap().to_string(), "2023-11-14T22:13:20Z", "{status}");
    }
}

#[test]
fn vpc_unknown_layout_is_error() {
    let (out, stats) = decode_file(&local_data("aws/vpcflow/no-header-30-values.log"));
    assert_eq!(one(&stats).format, Some(Format::VpcFlow));
    assert_eq!(out.events.len(), 0);
    assert_eq!(out.errors.len(), 1);
    assert!(out.errors[0].message.contains("record has 30 values"), "{}", out.errors[0]);
}

#[test]
fn vpc_newer_and_unknown_fields() {
    let (out, stats) = decode_file(&local_data("aws/vpcflow/v7-unknown-field.log"));
    assert_eq!(one(&stats).errors, 0, "{:?}", out.errors);
    let event = &out.events[0];
    assert_eq!(event.get_i64("version"), Some(7));
    assert_eq!(event.get_str("future-field-x"), Some("abc"));
    assert_eq!(event.get_i64("traffic-path"), Some(1));
    assert_eq!(event.get("ecs-cluster-name"), None);
    assert_eq!(event.get("ecs-task-id"), None);
    assert_eq!(event.get_i64("dstport"), Some(443));

    // The same record without a header, with the format from its companion file.
    let format = std::fs::read_to_string(local_data("aws/vpcflow/v7-no-header.format")).unwrap();
    let options = Options { flow_log_format: Some(format.trim().to_string()), ..Options::default() };
    let (out, _) = decode_file_with(&local_data("aws/vpcflow/v7-no-header.log"), &options);
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    assert_eq!(out.events[0].get_str("future-field-x"), Some("abc"));
}

#[test]
fn vpc_gzip_s3_object() {
    let (out, stats) = decode_file(&local_data("aws/vpcflow/s3-object.log.gz"));
    assert_eq!(one(&stats).format, Some(Format::VpcFlow));
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[0].get("srcaddr"), Some(&ip("2001:db8::7")));
    assert_eq!(out.events[0].get_str("network.transport"), Some("ipv6-icmp"));
    assert_eq!(out.events[1].get_str("network.transport"), Some("icmp"));
}

#[test]
fn vpc_single_record_api() {
    let line = "2 111122223333 eni-0123456789abcdef0 203.0.113.9 192.0.2.10 51000 22 6 20 4249 1688989500 1688989560 REJECT OK";
    assert!(vpcflow::sniff_record(line.as_bytes()));
    assert!(!vpcflow::sniff_record(b"Jul 10 11:45:01 web-01 sshd[4242]: Accepted password for alice"));
    let source = tocsin_event::SourceRef::new("message");
    let event = vpcflow::parse_default_record(line, tocsin_event::Evidence::new(source)).unwrap();
    assert_eq!(event.get("source.ip"), Some(&ip("203.0.113.9")));
    assert_eq!(event.get_str("event.outcome"), Some("failure"));
}

#[test]
fn vpc_invalid_utf8_reported_once() {
    let mut data = b"2 111122223333 eni-0123456789abcdef0 - - - - - - - 1431280876 1431280934 - NODATA\n".to_vec();
    let bad = b"2 111122223333 eni-01\xff - - - - - - - 1431280876 1431280934 - NODATA\n";
    data.extend_from_slice(bad);
    data.extend_from_slice(bad);
    let mut out = Collect::default();
    decode_bytes_input("flow.log", &data, &Options::default(), &mut out);
    assert_eq!(out.events.len(), 3);
    assert_eq!(out.errors.len(), 1);
    assert!(out.errors[0].message.contains("invalid UTF-8"));
}

// ---------------------------------------------------------------------------------------
// CloudTrail
// ---------------------------------------------------------------------------------------

/// Counts the events of a CloudTrail file with serde_json: the `Records` length, or the
/// array length.
fn count_cloudtrail_events(path: &Path) -> u64 {
    let json: Json = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let list = match &json {
        Json::Array(items) => items,
        other => other["Records"].as_array().unwrap(),
    };
    list.len() as u64
}

/// Decodes every CloudTrail file of a folder and checks its event count against serde_json,
/// and each event's source fields against `flatten_json` over the parsed record.
fn check_cloudtrail_folder(folder: &Path) -> usize {
    let files = files_with_extension(folder, "json");
    for path in &files {
        let expected = count_cloudtrail_events(path);
        let json: Json = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let records = json.as_array().or_else(|| json["Records"].as_array()).unwrap().clone();
        let (out, stats) = decode_file(path);
        let stats = one(&stats);
        let name = path.display();
        assert_eq!(stats.format, Some(Format::CloudTrail), "{name}");
        assert_eq!(stats.errors, 0, "{name}: {:?}", out.errors);
        assert_eq!(stats.records, expected, "{name}");
        assert_eq!(out.events.len() as u64, expected, "{name}");
        for (event, record) in out.events.iter().zip(&records) {
            let mut flat = Event::new(Schema::CloudTrail, event.evidence.clone());
            flatten_json(&mut flat, "", record);
            assert_eq!(&event.fields()[..flat.fields().len()], flat.fields(), "{name}: {}", event.evidence);
            assert_eq!(event.schema, Schema::CloudTrail);
            assert!(event.timestamp.is_some(), "{name}: {} has no timestamp", event.evidence);
            assert!(event.get_str("eventName").is_some(), "{name}");
            assert!(event.raw.is_some());
        }
    }
    files.len()
}

#[test]
fn cloudtrail_invictus_counts() {
    let Some(folder) = test_data("invictus-ir-aws-dataset") else { return };
    assert_eq!(check_cloudtrail_folder(&folder.join("CloudTrail")), 55);
}

#[test]
fn cloudtrail_stratus_counts() {
    let Some(folder) = test_data("stratus-red-team-detonation-logs") else { return };
    assert_eq!(check_cloudtrail_folder(&folder), 26);
}

#[test]
fn cloudtrail_invictus_fields() {
    let Some(folder) = test_data("invictus-ir-aws-dataset") else { return };
    let path = folder.join("CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json");
    let (out, _) = decode_file(&path);
    let event = &out.events[0];
    assert_eq!(event.get_str("eventName"), Some("CreateVolume"));
    assert_eq!(event.get_str("event.action"), Some("CreateVolume"));
    assert_eq!(event.get_str("event.provider"), Some("ec2.amazonaws.com"));
    assert_eq!(event.get_str("userIdentity.arn"), Some("arn:aws:iam::123837392027:user/bert-jan"));
    assert_eq!(event.get_str("userIdentity.type"), Some("IAMUser"));
    assert_eq!(event.get_str("user.name"), Some("bert-jan"));
    assert_eq!(event.get_str("aws.access_key_id"), Some("AKIATFQR7NSC8Q4X20BJ"));
    assert_eq!(event.get("source.ip"), Some(&ip("192.168.10.20")));
    assert_eq!(event.get_str("cloud.region"), Some("us-east-1"));
    assert_eq!(event.get_str("requestParameters.zone"), Some("us-east-1a"));
    assert_eq!(event.get_str("event.outcome"), Some("success"));
    assert!(event.get_str("user_agent.original").unwrap().contains("stratus-red-team_36659dd6"));
    assert_eq!(event.timestamp.unwrap().to_string(), "2023-07-10T12:11:15Z");
    assert_eq!(event.evidence.index, Some(0));
    assert_eq!(event.evidence.offset, Some(12));

    // The raw text is the element itself, at its byte offset.
    let file = std::fs::read(&path).unwrap();
    let second = &out.events[1];
    let raw = second.raw.as_deref().unwrap();
    let offset = second.evidence.offset.unwrap() as usize;
    assert_eq!(&file[offset..offset + raw.len()], raw.as_bytes());
    let parsed: Json = serde_json::from_str(raw).unwrap();
    let expected: Json = serde_json::from_slice::<Json>(&file).unwrap()["Records"][1].clone();
    assert_eq!(parsed, expected);
}

#[test]
fn cloudtrail_stratus_fields() {
    let Some(folder) = test_data("stratus-red-team-detonation-logs") else { return };
    let (out, _) = decode_file(&folder.join("aws.credential-access.ec2-get-password-data.json"));
    let event = &out.events[0];
    assert_eq!(event.get_str("eventName"), Some("GetPasswordData"));
    assert_eq!(event.get_str("errorCode"), Some("Client.UnauthorizedOperation"));
    assert_eq!(event.get_str("event.outcome"), Some("failure"));
    assert_eq!(event.get_str("user.name"), Some("aws-go-sdk-1722375070115152000"));
    assert_eq!(event.get_str("user.roles"), Some("stratus-red-team-ec2-get-password-data-role"));
    assert_eq!(event.get_str("cloud.account.id"), Some("457448411975"));
    assert_eq!(event.get("source.ip"), Some(&ip("200.249.253.51")));

    // The sanitised address `225.178.039.250` is not a valid IPv4 text (leading zero), so it
    // stays a string under its own name and `source.address`, with no `source.ip`.
    let (out, _) = decode_file(&folder.join("aws.persistence.iam-backdoor-role.json"));
    let event = &out.events[0];
    assert_eq!(event.get_str("requestParameters.roleName"), Some("stratus-red-team-backdoor-r-role"));
    assert_eq!(event.get_str("source.address"), Some("225.178.039.250"));
    assert_eq!(event.get_source("source.ip"), None);
    assert_eq!(event.get_str("tlsDetails.tlsVersion"), Some("TLSv1.3"));
}

#[test]
fn cloudtrail_digest_and_empty_files() {
    let folder = local_data("aws/cloudtrail");
    let (out, stats) = decode_file(&folder.join("111122223333_CloudTrail_us-east-1_20230710T1145Z_example.json.gz"));
    assert_eq!(one(&stats).format, Some(Format::CloudTrail));
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.errors.len(), 0);
    assert_eq!(out.events[1].get_str("errorCode"), Some("AccessDenied"));
    assert_eq!(out.events[1].get_str("error.message"), Some("not authorized"));

    let (out, stats) = decode_file(&folder.join("111122223333_CloudTrail_us-east-1_20230710T1150Z_empty.json.gz"));
    assert_eq!(one(&stats).format, Some(Format::CloudTrail));
    assert_eq!(out.events.len(), 0);
    assert_eq!(out.errors.len(), 0);

    let digest = folder.join("CloudTrail-Digest/111122223333_CloudTrail-Digest_us-east-1_example_us-east-1_20230710T120000Z.json.gz");
    let (out, stats) = decode_file(&digest);
    let stats = one(&stats);
    assert_eq!(stats.format, Some(Format::CloudTrailDigest));
    assert_eq!(stats.skipped.get("CloudTrail digest file"), Some(&1));
    assert_eq!(out.events.len(), 0);
    assert_eq!(out.errors.len(), 0);

    // Named `.json.gz` but not compressed: the content decides.
    let (out, stats) = decode_file(&folder.join("uncompressed-named.json.gz"));
    assert_eq!(one(&stats).format, Some(Format::CloudTrail));
    assert_eq!(out.events.len(), 2);
}

#[test]
fn cloudtrail_lookup_events_output() {
    let (out, stats) = decode_file(&local_data("aws/cloudtrail/lookup-events.json"));
    assert_eq!(one(&stats).format, Some(Format::CloudTrail));
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[0].get_str("eventName"), Some("ListUsers"));
    assert_eq!(out.events[0].get_str("user.name"), Some("alice"));
    assert_eq!(out.events[1].get_str("errorCode"), Some("AccessDenied"));
    assert_eq!(out.events[1].timestamp.unwrap().to_string(), "2023-07-10T11:45:02Z");
    assert!(out.events[1].raw.as_deref().unwrap().starts_with("{\"eventVersion\""));
}

#[test]
fn cloudtrail_identity_variants() {
    let (out, stats) = decode_file(&local_data("aws/cloudtrail/identities.jsonl"));
    assert_eq!(one(&stats).errors, 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 6);
    let users: Vec<Option<&str>> = out.events.iter().map(|e| e.get_str("user.name")).collect();
    assert_eq!(
        users,
        vec![Some("alice@example.com"), Some("bob"), Some("root"), None, Some("carol"), Some("dave")]
    );
    let roles: Vec<Option<&str>> = out.events.iter().map(|e| e.get_str("user.roles")).collect();
    assert_eq!(roles, vec![Some("Admins"), Some("AWSReservedSSO_ReadOnly_0123abcd"), None, None, None, None]);

    assert_eq!(out.events[0].get_str("aws.access_key_id"), Some("ASIAEXAMPLEALICE0001"));
    assert_eq!(out.events[3].get_str("userIdentity.invokedBy"), Some("autoscaling.amazonaws.com"));
    assert_eq!(out.events[3].get_source("source.ip"), None);
    assert_eq!(out.events[3].get_str("source.address"), Some("autoscaling.amazonaws.com"));
    assert_eq!(out.events[4].get("source.ip"), Some(&ip("2001:db8::5")));
    assert_eq!(out.events[5].get_source("source.ip"), None);
    assert_eq!(out.events[2].evidence.line, Some(3));
}

#[test]
fn cloudtrail_single_event_api() {
    let text = r#"{"eventVersion":"1.08","eventTime":"2023-07-10T11:45:01Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"198.51.100.7"}"#;
    assert!(cloudtrail::sniff(text.as_bytes()));
    let event = cloudtrail::parse_event_text(text, tocsin_event::Evidence::new(tocsin_event::SourceRef::new("m"))).unwrap();
    assert_eq!(event.get_str("eventName"), Some("GetObject"));
    assert_eq!(event.raw.as_deref(), Some(text));
}

// ---------------------------------------------------------------------------------------
// CloudWatch Logs
// ---------------------------------------------------------------------------------------

fn assert_sshd_failed_alice(event: &Event) {
    assert_eq!(event.schema, Schema::Syslog);
    assert_eq!(event.get_str("event.outcome"), Some("failure"));
    assert_eq!(event.get_str("user.name"), Some("alice"));
    assert_eq!(event.get("source.ip"), Some(&ip("203.0.113.9")));
    assert_eq!(event.get_i64("source.port"), Some(51000));
}

#[test]
fn cloudwatch_lambda_sample() {
    let Some(folder) = test_data("aws-lambda-go-event-samples") else { return };
    let (out, stats) = decode_file(&folder.join("cloudwatch-logs-event.json"));
    let stats = one(&stats);
    assert_eq!(stats.format, Some(Format::CloudWatchSubscription));
    assert_eq!(stats.errors, 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 2);
    let first = &out.events[0];
    assert_eq!(first.get_str("message"), Some("[ERROR] First test message"));
    assert_eq!(first.get_str("aws.cloudwatch.log_group"), Some("testLogGroup"));
    assert_eq!(first.get_str("aws.cloudwatch.log_stream"), Some("testLogStream"));
    assert_eq!(first.get_str("aws.cloudwatch.id"), Some("eventId1"));
    assert_eq!(first.timestamp.unwrap().to_string(), "2015-08-24T19:03:07.000Z");
    assert_eq!(out.events[1].timestamp.unwrap().to_string(), "2015-08-24T19:03:07.001Z");
}

#[test]
fn cloudwatch_firehose_control_and_data() {
    let (out, stats) = decode_file(&local_data("aws/cloudwatch/firehose-body.json"));
    let stats = one(&stats);
    assert_eq!(stats.format, Some(Format::CloudWatchSubscription));
    assert_eq!(stats.skipped.get("CloudWatch Logs control message"), Some(&1));
    assert_eq!(stats.errors, 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 2);

    let sshd = &out.events[0];
    assert_sshd_failed_alice(sshd);
    assert_eq!(sshd.get_str("aws.cloudwatch.log_group"), Some("/var/log/secure"));
    assert_eq!(sshd.get_str("aws.cloudwatch.log_stream"), Some("i-0123456789abcdef0"));
    assert_eq!(sshd.evidence.index, Some(0));

    let trail = &out.events[1];
    assert_eq!(trail.schema, Schema::CloudTrail);
    assert_eq!(trail.get_str("eventName"), Some("ConsoleLogin"));
    assert_eq!(trail.get("source.ip"), Some(&ip("203.0.113.9")));
    assert_eq!(trail.get_str("aws.cloudwatch.log_group"), Some("/var/log/secure"));
    assert_eq!(trail.timestamp.unwrap().to_string(), "2023-07-10T11:45:03Z");
}

#[test]
fn cloudwatch_double_gzip_and_not_gzip() {
    let (out, _) = decode_file(&local_data("aws/cloudwatch/firehose-double-gzip.json"));
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 2);
    assert_sshd_failed_alice(&out.events[0]);

    let (out, stats) = decode_file(&local_data("aws/cloudwatch/firehose-not-gzip.json"));
    assert_eq!(one(&stats).format, Some(Format::CloudWatchSubscription));
    assert_eq!(out.events.len(), 0);
    assert_eq!(out.errors.len(), 1);
    assert!(out.errors[0].message.contains("not gzip"), "{}", out.errors[0]);
}

#[test]
fn cloudwatch_base64_and_gzip_payloads() {
    for name in ["aws/cloudwatch/subscription.b64", "aws/cloudwatch/subscription.json.gz"] {
        let (out, stats) = decode_file(&local_data(name));
        assert_eq!(one(&stats).format, Some(Format::CloudWatchSubscription), "{name}");
        assert_eq!(out.errors.len(), 0, "{name}: {:?}", out.errors);
        assert_eq!(out.events.len(), 2, "{name}");
        assert_sshd_failed_alice(&out.events[0]);
        let flow = &out.events[1];
        assert_eq!(flow.schema, Schema::VpcFlow, "{name}");
        assert_eq!(flow.get_i64("dstport"), Some(22), "{name}");
        assert_eq!(flow.get_str("aws.cloudwatch.log_group"), Some("/var/log/secure"), "{name}");
    }

    // Gzip bytes handed straight to the decoder, without the input layer that opens gzip files.
    let gzip = std::fs::read(local_data("aws/cloudwatch/subscription.json.gz")).unwrap();
    let mut out = Collect::default();
    decode_bytes_as(Format::CloudWatchSubscription, "payload.gz", &gzip, &Options::default(), &mut out);
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 2);

    let (out, _) = decode_file(&local_data("aws/cloudwatch/lambda-event.json"));
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].get_str("action"), Some("REJECT"));
}

/// Flow logs in a custom format reach CloudWatch Logs without a header, so the configured
/// format decodes them. Other messages in the same envelope keep their own decoder. The input
/// is made by hand from the documented envelope shape.
#[test]
fn cloudwatch_custom_flow_format() {
    let envelope = serde_json::json!({
        "messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "vpc-flow", "logStream": "eni-0123456789abcdef0-all",
        "logEvents": [
            {"id": "1", "timestamp": 1700000001000_i64, "message": "5 vpc-0123456789abcdef0 198.51.100.7 443 1700000000 OK"},
            {"id": "2", "timestamp": 1700000002000_i64, "message": "Nov 14 22:13:21 web-01 sshd[7]: Connection closed"},
        ]
    });
    let options = Options { flow_log_format: Some("version vpc-id srcaddr dstport start log-status".to_string()), ..Options::default() };
    let (out, _) = decode_text("envelope.json", &envelope.to_string(), &options);
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 2);
    let flow = &out.events[0];
    assert_eq!(flow.schema, Schema::VpcFlow);
    assert_eq!(flow.get_str("vpc-id"), Some("vpc-0123456789abcdef0"));
    assert_eq!(flow.get("srcaddr"), Some(&ip("198.51.100.7")));
    assert_eq!(flow.get_str("aws.cloudwatch.log_group"), Some("vpc-flow"));
    assert_eq!(out.events[1].schema, Schema::Syslog);
}

#[test]
fn cloudwatch_cli_output() {
    let (out, stats) = decode_file(&local_data("aws/cloudwatch/filter-log-events.json"));
    assert_eq!(one(&stats).format, Some(Format::CloudWatchEvents));
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    let schemas: Vec<Schema> = out.events.iter().map(|e| e.schema).collect();
    assert_eq!(schemas, vec![Schema::Syslog, Schema::VpcFlow, Schema::CloudTrail]);
    assert_sshd_failed_alice(&out.events[0]);
    assert_eq!(out.events[0].get_str("aws.cloudwatch.log_stream"), Some("i-0123456789abcdef0"));
    assert_eq!(out.events[0].get("aws.cloudwatch.ingestion_time").unwrap().to_text(), "2023-07-10T11:45:02.000Z");
    assert_eq!(out.events[1].get_str("aws.cloudwatch.id"), Some("37200000000000000000000000000000000000000000000000000002"));
    assert_eq!(out.events[2].get_str("eventName"), Some("ConsoleLogin"));

    let (out, stats) = decode_file(&local_data("aws/cloudwatch/get-log-events.json"));
    assert_eq!(one(&stats).format, Some(Format::CloudWatchEvents));
    assert_eq!(out.events.len(), 1);
    assert_sshd_failed_alice(&out.events[0]);
}

#[test]
fn cloudwatch_s3_export() {
    let (out, stats) = decode_file(&local_data("aws/cloudwatch/export-000000.gz"));
    let stats = one(&stats);
    assert_eq!(stats.format, Some(Format::CloudWatchExport));
    assert_eq!(stats.records, 3);
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 3);
    assert_sshd_failed_alice(&out.events[0]);
    assert_eq!(out.events[0].evidence.line, Some(1));
    // A message of two lines stays one event, stamped with the export time.
    let traceback = &out.events[1];
    assert_eq!(traceback.timestamp.unwrap().to_string(), "2023-07-10T11:45:02.000Z");
    assert!(traceback.raw.as_deref().unwrap().contains("\n  File \"app.py\""));
    assert_eq!(out.events[2].schema, Schema::VpcFlow);
    assert_eq!(out.events[2].evidence.line, Some(4));
}

// ---------------------------------------------------------------------------------------
// GuardDuty and Security Hub findings
// ---------------------------------------------------------------------------------------

/// Panther's samples wrap each finding in a `log` object; this unwraps them into one
/// finding per line.
fn panther_findings(folder: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(folder.join(file)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Json>(l).unwrap()["log"].to_string() + "\n")
        .collect()
}

#[test]
fn findings_panther_guardduty() {
    let Some(folder) = test_data("panther-analysis-rule-tests") else { return };
    let lines = panther_findings(&folder, "aws_guardduty.jsonl");
    let (out, stats) = decode_text("aws_guardduty.jsonl", &lines, &Options::default());
    assert_eq!(one(&stats).format, Some(Format::GuardDuty));
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), lines.lines().count());
    let first = &out.events[0];
    assert_eq!(first.schema, Schema::GuardDuty);
    assert_eq!(first.get_str("rule.name"), Some("PrivilegeEscalation:IAMUser/AdministrativePermissions"));
    assert_eq!(first.get_i64("event.severity"), Some(8));
    assert_eq!(first.get_str("cloud.account.id"), Some("123456789012"));
    assert_eq!(first.get_str("cloud.region"), Some("us-east-1"));
    assert_eq!(first.get_str("service.action.awsApiCallAction.api"), Some("PutRolePolicy"));
    assert_eq!(first.timestamp.unwrap().to_string(), "2020-02-14T18:12:22.316Z");
    assert_eq!(out.events[2].get_i64("severity"), Some(1));
}

#[test]
fn findings_panther_securityhub() {
    let Some(folder) = test_data("panther-analysis-rule-tests") else { return };
    let lines = panther_findings(&folder, "aws_securityfindingformat.jsonl");
    let (out, stats) = decode_text("aws_securityfindingformat.jsonl", &lines, &Options::default());
    assert_eq!(one(&stats).format, Some(Format::SecurityHub));
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), lines.lines().count());
    let first = &out.events[0];
    assert_eq!(first.schema, Schema::SecurityHub);
    assert_eq!(first.get_str("ProductName"), Some("DecoyDetector"));
    assert_eq!(first.get("source.ip"), Some(&ip("11.111.11.111")));
    assert_eq!(first.get_str("aws.access_key_id"), Some("ABC9ONWNS3155VIEJC8U"));
    assert_eq!(first.get_str("cloud.account.id"), Some("123456789012"));
    assert!(first.get_str("rule.name").unwrap().starts_with("Suspicious activity detected accessing private decoy DynamoDB"));
    assert_eq!(first.timestamp.unwrap().to_string(), "2024-05-24T22:53:24.000000000Z");
}

#[test]
fn findings_guardduty_shapes() {
    let (out, stats) = decode_file(&local_data("aws/findings/guardduty-get-findings.json"));
    assert_eq!(one(&stats).format, Some(Format::GuardDuty));
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 2);
    let brute = &out.events[0];
    assert_eq!(brute.get_str("rule.name"), Some("UnauthorizedAccess:EC2/SSHBruteForce"));
    assert_eq!(brute.get_str("cloud.instance.id"), Some("i-0123456789abcdef0"));
    assert_eq!(brute.get("source.ip"), Some(&ip("203.0.113.9")));
    assert_eq!(brute.timestamp.unwrap().to_string(), "2023-07-10T11:45:30.500Z");
    assert_eq!(brute.evidence.index, Some(0));
    let caller = &out.events[1];
    assert_eq!(caller.get_str("aws.access_key_id"), Some("AKIAEXAMPLEBOB000001"));
    assert_eq!(caller.get_str("user.name"), Some("bob"));
    assert_eq!(caller.get("source.ip"), Some(&ip("198.51.100.7")));
    assert_eq!(caller.get("event.severity"), Some(&Value::Float(5.0)));

    let (out, stats) = decode_file(&local_data("aws/findings/guardduty-eventbridge.jsonl"));
    assert_eq!(one(&stats).format, Some(Format::GuardDuty));
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[1].get_str("type"), Some("UnauthorizedAccess:IAMUser/MaliciousIPCaller"));
    assert_eq!(out.events[1].evidence.line, Some(2));

    // The same EventBridge events as one JSON array.
    let lines = std::fs::read_to_string(local_data("aws/findings/guardduty-eventbridge.jsonl")).unwrap();
    let array = format!("[{}]", lines.trim_end().replace('\n', ","));
    let (out, _) = decode_text("eventbridge-array.json", &array, &Options::default());
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[0].get_str("rule.name"), Some("UnauthorizedAccess:EC2/SSHBruteForce"));
    assert_eq!(out.events[1].evidence.index, Some(1));
}

#[test]
fn findings_securityhub_shapes() {
    let (out, stats) = decode_file(&local_data("aws/findings/securityhub-get-findings.json"));
    assert_eq!(one(&stats).format, Some(Format::SecurityHub));
    assert_eq!(out.errors.len(), 0, "{:?}", out.errors);
    let finding = &out.events[0];
    assert_eq!(finding.get_str("cloud.instance.id"), Some("i-0123456789abcdef0"));
    assert_eq!(finding.get_str("aws.access_key_id"), Some("AKIAEXAMPLEBOB000001"));
    assert_eq!(finding.get("source.ip"), Some(&ip("198.51.100.7")));
    assert_eq!(finding.get_i64("event.severity"), Some(20));
    assert_eq!(finding.get_str("Severity.Label"), Some("LOW"));
    assert!(finding.get_str("rule.name").unwrap().contains("SSH brute force"));
    assert_eq!(finding.timestamp.unwrap().to_string(), "2023-07-10T11:45:30.500Z");

    let (out, stats) = decode_file(&local_data("aws/findings/securityhub-eventbridge.json"));
    assert_eq!(one(&stats).format, Some(Format::SecurityHub));
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[1].get_str("event.id"), Some("second"));
    assert_eq!(out.events[1].evidence.index, Some(1));
}

// ---------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------

#[test]
fn hostile_deeply_nested_json() {
    let depth = 100_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let inputs = [
        format!(r#"{{"Records":[{{"eventVersion":"1.08","eventName":"A","x":{nested}}},{{"eventVersion":"1.08","eventName":"B"}}]}}"#),
        format!("{{\"eventVersion\":\"1.08\",\"eventName\":\"A\",\"x\":{nested}}}\n{{\"eventVersion\":\"1.08\",\"eventName\":\"B\"}}\n"),
    ];
    for input in inputs {
        let (out, _) = decode_text("nested.json", &input, &Options::default());
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
        assert!(out.errors[0].message.contains("recursion limit"), "{}", out.errors[0]);
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].get_str("eventName"), Some("B"));
    }

    for format in [Format::CloudWatchSubscription, Format::CloudWatchEvents, Format::GuardDuty, Format::SecurityHub] {
        let mut out = Collect::default();
        let stats = decode_bytes_as(format, "nested.json", nested.as_bytes(), &Options::default(), &mut out);
        assert_eq!(stats.errors, 1, "{format}: {:?}", out.errors);
    }
}

#[test]
fn hostile_huge_string() {
    let options = Options { max_buffered_bytes: 1 << 20, ..Options::default() };
    let huge = "x".repeat(4 << 20);
    let input = format!(
        r#"{{"Records":[{{"eventVersion":"1.08","eventName":"A","userAgent":"{huge}"}},{{"eventVersion":"1.08","eventName":"B"}}]}}"#
    );
    let (out, stats) = decode_text("huge.json", &input, &options);
    assert_eq!(one(&stats).records, 2);
    assert_eq!(out.errors.len(), 1);
    assert!(out.errors[0].message.contains("exceeds the size limit"), "{}", out.errors[0]);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].evidence.index, Some(1));

    let line = format!("2 111122223333 eni-0123456789abcdef0 {huge}\n2 111122223333 eni-0123456789abcdef0 - - - - - - - 1431280876 1431280934 - NODATA\n");
    let options = Options { max_line_bytes: 1 << 16, ..Options::default() };
    let mut out = Collect::default();
    decode_bytes_as(Format::VpcFlow, "huge.log", line.as_bytes(), &options, &mut out);
    assert_eq!(out.errors.len(), 1);
    assert!(out.errors[0].message.contains("longer than"), "{}", out.errors[0]);
    assert_eq!(out.events.len(), 1);
}

#[test]
fn hostile_truncated_gzip() {
    let data = std::fs::read(local_data("aws/cloudtrail/111122223333_CloudTrail_us-east-1_20230710T1145Z_example.json.gz")).unwrap();
    let truncated = &data[..data.len() / 2];
    let mut out = Collect::default();
    let stats = decode_bytes_input("truncated.json.gz", truncated, &Options::default(), &mut out);
    assert!(stats.iter().map(|s| s.errors).sum::<u64>() >= 1, "{stats:?}");
    assert!(!out.errors.is_empty());

    let data = std::fs::read(local_data("aws/cloudwatch/export-000000.gz")).unwrap();
    let mut out = Collect::default();
    decode_bytes_input("truncated-export.gz", &data[..data.len() - 12], &Options::default(), &mut out);
    assert!(!out.errors.is_empty());
}

#[test]
fn hostile_binary_junk() {
    let mut junk = Vec::new();
    let mut state: u32 = 0x1234_5678;
    for _ in 0..100_000 {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        junk.push((state >> 16) as u8);
    }
    let formats = [
        Format::VpcFlow,
        Format::CloudTrail,
        Format::CloudWatchSubscription,
        Format::CloudWatchEvents,
        Format::CloudWatchExport,
        Format::GuardDuty,
        Format::SecurityHub,
    ];
    for format in formats {
        for input in [&junk[..], b"]]]}}}", b"{\"Records\":[1,\"a\",null,", b"[{\"events\":"] {
            let mut out = Collect::default();
            decode_bytes_as(format, "junk", input, &Options::default(), &mut out);
            assert!(out.events.is_empty() || format == Format::CloudWatchExport, "{format}");
        }
    }
}
