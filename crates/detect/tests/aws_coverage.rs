//! Measured detection coverage of the built-in AWS rules.
//!
//! - every CloudTrail technique of the rule pack is raised on a public sample (Stratus Red Team
//!   detonation logs, the invictus-ir attack dataset, Panther's labelled rule tests) or, where
//!   none exists, on a hand-made event in `tests/data/aws/`;
//! - Panther's labelled events, grouped into families that match our rules, give true and
//!   false positives and negatives; the numbers are the table in docs/detections.md;
//! - the Stratus detonation files and the invictus attack events give the set of techniques
//!   detected, also tabled in docs/detections.md.
//!
//! The public samples are read from `TOCSIN_TEST_DATA` (see `tocsin_testdata::test_data`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};
use tocsin_detect::python::MemoryBaseline;
use tocsin_detect::{Alert, Detector, RuleSources, Suppressions, BUILTIN_RULES};
use tocsin_event::Event;
use tocsin_ingest::{decode_bytes_as, decode_path, Collect, Format, Options};
use tocsin_sigma::{Placeholders, RuleSetBuilder, RuleStatus};
use tocsin_testdata::test_data;

// Rule ids of the built-in pack (files under crates/detect/rules/).
const ROOT_USE: &str = "8ad1600d-e9dc-4251-b0ee-a65268f29add";
const CONSOLE_NO_MFA: &str = "77caf516-34e5-4df9-b4db-20744fea0a60";
const CONSOLE_FAILURE_BURST: &str = "1b385008-122e-4868-9ee0-d84626692ca5";
const TRAIL_CHANGED: &str = "4db60cc0-36fb-42b7-9b58-a5b53019fb74";
const SELECTORS_NARROWED: &str = "e4ab4cce-e568-4cef-8498-7868391e7dc6";
const FLOW_LOGS_DELETED: &str = "e386b9b5-af12-450e-afff-761730fb8a98";
const SECURITY_GROUP_OPEN: &str = "19123f8d-9b00-4761-937f-fa8e1f4dd317";
const ACCESS_KEY_OTHER_USER: &str = "517a516d-39bd-40f7-a19f-a26960c285fd";
const ADMIN_POLICY: &str = "64560d76-a7ab-49a0-ae33-5c894a86ce17";
const DETECTION_DISABLED: &str = "509f2b77-dbbf-4662-a3d9-0e5a2f9b9b59";
const INSTANCE_CREDENTIALS_OUTSIDE: &str = "cbc46ad9-b848-4aea-abd1-f121ccf986fa";
const GUARDDUTY_CRITICAL: &str = "2ace5505-d742-442e-b81c-e2a0ff640913";
const GUARDDUTY_HIGH: &str = "60a6b5bb-f1a4-4029-846c-ccec46533eda";
const GUARDDUTY_MEDIUM: &str = "764a2fa1-e64e-4546-95ad-3ea0fcc68edc";
const GUARDDUTY_LOW: &str = "1d9f2d88-c75c-4ef9-a8cf-315696193ba7";
const PORT_SCAN: &str = "1e93aca6-4617-4de7-aa1b-1b9bd76c7ff6";
const REMOTE_ACCESS_ACCEPTED: &str = "7e0a97f2-f703-4eba-86e6-0d501b55fd4e";

const STRATUS: &str = "stratus-red-team-detonation-logs";
const INVICTUS: &str = "invictus-ir-aws-dataset/CloudTrail";
const PANTHER: &str = "panther-analysis-rule-tests";

// ---------------------------------------------------------------------------------------------
// Helpers

/// Loads the built-in pack as `tocsin hunt` does.
fn builtin_detector() -> Detector {
    Detector::load(&RuleSources { builtin: true, ..RuleSources::default() }).expect("built-in rules load").0
}

/// Compiles the built-in pack with `org_egress_addresses` set, as `tocsin hunt --placeholders`
/// does.
fn detector_with_egress(networks: &[&str]) -> Detector {
    let mut placeholders = Placeholders::default();
    placeholders.insert("org_egress_addresses", networks.iter().map(|n| n.to_string()).collect());
    let mut builder = RuleSetBuilder::new();
    builder.placeholders(placeholders);
    for (path, text) in BUILTIN_RULES {
        builder.add_str(text, Some(Path::new(path)));
    }
    let (rules, report) = builder.build();
    let instance_rule = report
        .rules
        .iter()
        .find(|r| r.id.as_deref() == Some(INSTANCE_CREDENTIALS_OUTSIDE))
        .expect("the instance-credentials rule is in the pack");
    assert_eq!(instance_rule.status, RuleStatus::Accepted, "instance-credentials rule with placeholders");
    Detector::new(rules)
}

fn hunt(detector: &Detector, events: Vec<Event>) -> Vec<Alert> {
    let mut worker = detector.worker();
    for event in events {
        worker.observe(event);
    }
    let outcome = detector.finish(vec![worker], &Suppressions::default(), &MemoryBaseline::default(), chrono::Utc::now());
    outcome.alerts
}

fn fired(alerts: &[Alert]) -> BTreeSet<String> {
    alerts.iter().map(|a| a.rule.id.clone()).collect()
}

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Decodes a file, or every file of a folder, asserting that every record decodes.
fn decode_file(path: &Path) -> Vec<Event> {
    let mut out = Collect::default();
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path).expect("read folder").map(|entry| entry.expect("folder entry").path()).collect();
        files.sort();
        for file in files {
            decode_path(&file, &Options::default(), &mut out);
        }
    } else {
        decode_path(path, &Options::default(), &mut out);
    }
    assert!(out.errors.is_empty(), "{}: decode errors: {:?}", path.display(), out.errors);
    out.events
}

fn decode_as(format: Format, name: &str, bytes: &[u8]) -> Vec<Event> {
    let mut out = Collect::default();
    decode_bytes_as(format, name, bytes, &Options::default(), &mut out);
    assert!(out.errors.is_empty(), "{name}: decode errors: {:?}", out.errors);
    out.events
}

fn hand_made(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws").join(file)
}

fn is_attack(event: &Event) -> bool {
    event.get_str("userAgent").is_some_and(|agent| agent.starts_with("stratus-red-team_"))
}

// ---------------------------------------------------------------------------------------------
// Panther's labelled events

/// One line of Panther's rule-test JSONL.
struct Labelled {
    rule_id: String,
    test_name: String,
    expected: bool,
    log: Map<String, Json>,
}

fn read_panther(file: &str) -> Option<Vec<Labelled>> {
    let path = test_data(&format!("{PANTHER}/{file}"))?;
    let text = std::fs::read_to_string(&path).expect("read Panther tests");
    let mut out = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut record: Map<String, Json> = serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", number + 1));
        let Some(Json::Object(log)) = record.remove("log") else { panic!("{file}:{}: no `log` object", number + 1) };
        out.push(Labelled {
            rule_id: record["rule_id"].as_str().expect("rule_id").to_string(),
            test_name: record["test_name"].as_str().expect("test_name").to_string(),
            expected: record["expected_result"].as_bool().expect("expected_result"),
            log,
        });
    }
    Some(out)
}

/// Maps Panther's parsed VPC flow field names (and the OCSF variants of the same tests) to
/// the field names of a flow log header.
const FLOW_FIELDS: &[(&str, &str)] = &[
    ("srcAddr", "srcaddr"),
    ("dstAddr", "dstaddr"),
    ("srcPort", "srcport"),
    ("dstPort", "dstport"),
    ("action", "action"),
    ("status", "log-status"),
    ("flowDirection", "flow-direction"),
    ("vpcId", "vpc-id"),
    ("subNetId", "subnet-id"),
    ("instanceId", "instance-id"),
    ("region", "region"),
    ("src_endpoint.ip", "srcaddr"),
    ("dst_endpoint.ip", "dstaddr"),
    ("dst_endpoint.port", "dstport"),
    ("status_code", "log-status"),
];

/// Rebuilds a flow log (header line, one record) from a parsed Panther sample. A missing
/// value or Panther's `"null"` becomes `-`, as flow logs write it.
fn flow_log_from(log: &Map<String, Json>) -> String {
    let mut names = Vec::new();
    let mut values = Vec::new();
    for (source, name) in FLOW_FIELDS {
        let mut value = Some(&Json::Object(log.clone())).cloned();
        for part in source.split('.') {
            value = value.and_then(|v| v.get(part).cloned());
        }
        let Some(value) = value else { continue };
        let text = match value {
            Json::String(s) if s == "null" => "-".to_string(),
            Json::String(s) => s,
            other => other.to_string(),
        };
        names.push(*name);
        values.push(text);
    }
    format!("{}\n{}\n", names.join(" "), values.join(" "))
}

/// Decodes one Panther sample the way tocsin reads the real log: a CloudTrail record as one
/// JSON line, a GuardDuty finding as one JSON line, a VPC flow sample as a flow log line.
fn decode_panther(file: &str, labelled: &Labelled) -> Vec<Event> {
    let name = format!("{file}:{}", labelled.test_name);
    match file {
        "aws_cloudtrail.jsonl" => decode_as(Format::CloudTrail, &name, Json::Object(labelled.log.clone()).to_string().as_bytes()),
        "aws_guardduty.jsonl" => decode_as(Format::GuardDuty, &name, Json::Object(labelled.log.clone()).to_string().as_bytes()),
        "aws_vpcflow.jsonl" => decode_as(Format::VpcFlow, &name, flow_log_from(&labelled.log).as_bytes()),
        other => panic!("no adapter for {other}"),
    }
}

/// A family: Panther rules that detect what one or more of our rules detect. For a sample
/// labelled for `panther_rule`, tocsin's verdict is whether any rule of `ours` fired.
struct Family {
    name: &'static str,
    file: &'static str,
    members: &'static [(&'static str, &'static [&'static str])],
}

const FAMILIES: &[Family] = &[
    Family {
        name: "root activity",
        file: "aws_cloudtrail.jsonl",
        members: &[
            ("AWS.Console.RootLogin", &[ROOT_USE]),
            ("AWS.Console.RootLoginFailed", &[ROOT_USE]),
            ("AWS.CloudTrail.RootAccessKeyCreated", &[ROOT_USE]),
            ("AWS.CloudTrail.RootPasswordChanged", &[ROOT_USE]),
        ],
    },
    Family { name: "console login without MFA", file: "aws_cloudtrail.jsonl", members: &[("AWS.Console.LoginWithoutMFA", &[CONSOLE_NO_MFA])] },
    Family { name: "failed console logins", file: "aws_cloudtrail.jsonl", members: &[("AWS.CloudTrail.PasswordSpraying", &[CONSOLE_FAILURE_BURST])] },
    Family {
        name: "CloudTrail stopped or narrowed",
        file: "aws_cloudtrail.jsonl",
        members: &[
            ("AWS.CloudTrail.Stopped", &[TRAIL_CHANGED, SELECTORS_NARROWED]),
            ("AWS.CloudTrail.EventSelectorsDisabled", &[TRAIL_CHANGED, SELECTORS_NARROWED]),
            ("AWS.CloudTrail.SecurityConfigurationChange", &[TRAIL_CHANGED, SELECTORS_NARROWED]),
        ],
    },
    Family { name: "VPC flow logs deleted", file: "aws_cloudtrail.jsonl", members: &[("AWS.VPCFlow.LogsDeleted", &[FLOW_LOGS_DELETED])] },
    Family {
        name: "security group opened",
        file: "aws_cloudtrail.jsonl",
        members: &[("AWS.EC2.SecurityGroupModified", &[SECURITY_GROUP_OPEN]), ("AWS.EC2.ManualSecurityGroupChange", &[SECURITY_GROUP_OPEN])],
    },
    Family { name: "access key created for another user", file: "aws_cloudtrail.jsonl", members: &[("AWS.IAM.Backdoor.User.Keys", &[ACCESS_KEY_OTHER_USER])] },
    Family { name: "admin policy attached", file: "aws_cloudtrail.jsonl", members: &[("AWS.IAM.AttachAdminUserPolicy", &[ADMIN_POLICY])] },
    Family {
        name: "instance credentials used outside",
        file: "aws_cloudtrail.jsonl",
        members: &[("AWS.CloudTrail.IMDSCredentialExfiltration", &[INSTANCE_CREDENTIALS_OUTSIDE])],
    },
    Family {
        name: "GuardDuty finding, severity mapped",
        file: "aws_guardduty.jsonl",
        members: &[
            ("AWS.GuardDuty.HighSeverityFinding", &[GUARDDUTY_HIGH]),
            ("AWS.GuardDuty.MediumSeverityFinding", &[GUARDDUTY_MEDIUM]),
            ("AWS.GuardDuty.LowSeverityFinding", &[GUARDDUTY_LOW]),
        ],
    },
    Family { name: "port scan", file: "aws_vpcflow.jsonl", members: &[("AWS.VPC.PortScanning", &[PORT_SCAN])] },
    Family {
        name: "SSH or RDP from the internet",
        file: "aws_vpcflow.jsonl",
        members: &[("AWS.VPC.SSHAllowedSignal", &[REMOTE_ACCESS_ACCEPTED]), ("AWS.VPC.InboundPortBlacklist", &[REMOTE_ACCESS_ACCEPTED])],
    },
];

/// True positives, false positives, false negatives, true negatives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Confusion {
    tp: u32,
    fp: u32,
    fn_: u32,
    tn: u32,
}

/// The table in docs/detections.md: (family, TP, FP, FN, TN).
const PANTHER_TABLE: &[(&str, u32, u32, u32, u32)] = &[
    ("root activity", 4, 3, 0, 2),
    ("console login without MFA", 3, 1, 0, 7),
    ("failed console logins", 0, 0, 2, 2),
    ("CloudTrail stopped or narrowed", 3, 2, 0, 6),
    ("VPC flow logs deleted", 1, 0, 0, 0),
    ("security group opened", 1, 0, 2, 5),
    ("access key created for another user", 3, 0, 0, 2),
    ("admin policy attached", 1, 0, 0, 1),
    ("instance credentials used outside", 2, 0, 0, 8),
    ("GuardDuty finding, severity mapped", 3, 0, 0, 3),
    ("port scan", 0, 0, 3, 3),
    ("SSH or RDP from the internet", 1, 0, 2, 6),
];

/// Egress networks for the instance-credentials rule on samples that do not name the
/// organisation's own addresses: documentation ranges that no sample uses.
const PLACEHOLDER_EGRESS: &[&str] = &["192.0.2.0/24", "2001:db8::/32"];

#[test]
fn panther_families_match_docs_table() {
    let builtin = builtin_detector();
    let with_egress = detector_with_egress(PLACEHOLDER_EGRESS);
    let mut files: BTreeMap<&str, Vec<Labelled>> = BTreeMap::new();
    for family in FAMILIES {
        if !files.contains_key(family.file) {
            let Some(samples) = read_panther(family.file) else { return };
            files.insert(family.file, samples);
        }
    }

    let mut measured = Vec::new();
    let mut misses = Vec::new();
    for family in FAMILIES {
        let mut confusion = Confusion::default();
        for (panther_rule, ours) in family.members {
            let samples: Vec<&Labelled> = files[family.file].iter().filter(|s| s.rule_id == *panther_rule).collect();
            assert!(!samples.is_empty(), "no Panther samples for {panther_rule}");
            let detector = if ours.contains(&INSTANCE_CREDENTIALS_OUTSIDE) { &with_egress } else { &builtin };
            for sample in samples {
                let alerts = hunt(detector, decode_panther(family.file, sample));
                let detected = alerts.iter().any(|a| ours.contains(&a.rule.id.as_str()));
                match (sample.expected, detected) {
                    (true, true) => confusion.tp += 1,
                    (false, true) => confusion.fp += 1,
                    (true, false) => confusion.fn_ += 1,
                    (false, false) => confusion.tn += 1,
                }
                if sample.expected != detected {
                    misses.push(format!("{}: {panther_rule} / {}: expected {}, detected {detected}", family.name, sample.test_name, sample.expected));
                }
            }
        }
        measured.push((family.name, confusion.tp, confusion.fp, confusion.fn_, confusion.tn));
    }

    for line in &misses {
        eprintln!("{line}");
    }
    for row in &measured {
        eprintln!("{row:?},");
    }
    assert_eq!(measured, PANTHER_TABLE.to_vec(), "update the table here and in docs/detections.md");
}

// ---------------------------------------------------------------------------------------------
// Stratus Red Team detonation files

/// Rules that fire on each detonation file with the built-in pack and no placeholders: the
/// "detected" column of the Stratus table in docs/detections.md. Files with no rule are
/// listed with an empty set, so a new file in the folder fails the test until it is tabled.
const STRATUS_DETECTED: &[(&str, &[&str])] = &[
    ("aws.credential-access.ec2-get-password-data.json", &[]),
    ("aws.credential-access.ec2-steal-instance-credentials.json", &[]),
    ("aws.credential-access.secretsmanager-batch-retrieve-secrets.json", &[]),
    ("aws.credential-access.secretsmanager-retrieve-secrets.json", &[]),
    ("aws.defense-evasion.cloudtrail-event-selectors.json", &[SELECTORS_NARROWED]),
    ("aws.defense-evasion.cloudtrail-stop.json", &[TRAIL_CHANGED]),
    ("aws.defense-evasion.dns-delete-logs.json", &[]),
    ("aws.defense-evasion.organizations-leave.json", &[]),
    ("aws.defense-evasion.vpc-remove-flow-logs.json", &[FLOW_LOGS_DELETED]),
    ("aws.discovery.ec2-download-user-data.json", &[]),
    ("aws.execution.ec2-launch-unusual-instances.json", &[]),
    ("aws.execution.ssm-send-command.json", &[]),
    ("aws.execution.ssm-start-session.json", &[]),
    ("aws.exfiltration.ec2-security-group-open-port-22-ingress.json", &[SECURITY_GROUP_OPEN]),
    ("aws.exfiltration.ec2-share-ami.json", &[]),
    ("aws.exfiltration.rds-share-snapshot.json", &[]),
    ("aws.impact.bedrock-invoke-model.json", &[]),
    ("aws.initial-access.console-login-without-mfa.json", &[CONSOLE_NO_MFA]),
    ("aws.lateral-movement.ec2-instance-connect.json", &[]),
    ("aws.lateral-movement.ec2-serial-console-send-ssh-public-key.json", &[]),
    ("aws.persistence.iam-backdoor-role.json", &[]),
    ("aws.persistence.iam-backdoor-user.json", &[ACCESS_KEY_OTHER_USER]),
    ("aws.persistence.iam-create-admin-user.json", &[ADMIN_POLICY, ACCESS_KEY_OTHER_USER]),
    ("aws.persistence.lambda-layer-extension.json", &[]),
    ("aws.persistence.rolesanywhere-create-trust-anchor.json", &[]),
    ("aws.persistence.sts-federation-token.json", &[]),
];

#[test]
fn stratus_detonations_detected_set() {
    let Some(folder) = test_data(STRATUS) else { return };
    let detector = builtin_detector();

    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .expect("read Stratus folder")
        .map(|entry| entry.expect("folder entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let tabled: Vec<String> = STRATUS_DETECTED.iter().map(|(file, _)| file.to_string()).collect();
    assert_eq!(files, tabled, "every detonation file is in the table");

    for (file, expected) in STRATUS_DETECTED {
        let events = decode_file(&folder.join(file));
        assert!(!events.is_empty(), "{file}: no events");
        let alerts = hunt(&detector, events);
        assert_eq!(fired(&alerts), ids(expected), "{file}");
    }
}

/// Stolen instance credentials, used from the address the Stratus runner had (18.236.253.47),
/// with the organisation's egress placeholder set to a documentation range.
#[test]
fn stratus_stolen_instance_credentials() {
    let Some(folder) = test_data(STRATUS) else { return };
    let detector = detector_with_egress(PLACEHOLDER_EGRESS);
    let events = decode_file(&folder.join("aws.credential-access.ec2-steal-instance-credentials.json"));
    let alerts = hunt(&detector, events);
    let alert = alerts.iter().find(|a| a.rule.id == INSTANCE_CREDENTIALS_OUTSIDE).expect("instance-credentials alert");
    assert_eq!(alert.event_count, 2, "GetCallerIdentity and DescribeInstances with the instance's session");
}

// ---------------------------------------------------------------------------------------------
// invictus-ir attack dataset

/// Attack events (user agent `stratus-red-team_...`) of the invictus dataset that raise each
/// rule. SELECTORS_NARROWED counts one: the detonation's narrowing call, not its revert.
const INVICTUS_ATTACK_DETECTED: &[(&str, u64)] = &[
    (TRAIL_CHANGED, 4),
    (SELECTORS_NARROWED, 1),
    (FLOW_LOGS_DELETED, 1),
    (SECURITY_GROUP_OPEN, 1),
    (CONSOLE_NO_MFA, 1),
    (ACCESS_KEY_OTHER_USER, 2),
    (ADMIN_POLICY, 1),
];

/// Events outside the attack that raise a rule, by (rule, eventName): Terraform deleting the
/// two trails it made for the detonations, and attaching AdministratorAccess to the role that
/// the backdoor-role technique then opens up. Both are real changes of the kind the rules
/// look for, made by the tool that set up the test. The only mark of Terraform is its user
/// agent, which any caller can set, so the rules do not filter on it.
const INVICTUS_BACKGROUND_DETECTED: &[(&str, &str, u64)] = &[(TRAIL_CHANGED, "DeleteTrail", 2), (ADMIN_POLICY, "AttachRolePolicy", 1)];

#[test]
fn invictus_attack_events_detected_set() {
    let Some(folder) = test_data(INVICTUS) else { return };
    let events = decode_file(&folder);
    assert_eq!(events.len(), 2900, "events in the dataset");
    assert_eq!(events.iter().filter(|e| is_attack(e)).count(), 210, "attack events");

    let alerts = hunt(&builtin_detector(), events);
    let mut attack_rules: BTreeMap<String, u64> = BTreeMap::new();
    let mut background: BTreeMap<(String, String), u64> = BTreeMap::new();
    for alert in &alerts {
        assert!(alert.events.len() as u64 == alert.event_count, "{}: every event is kept", alert.rule.title);
        for event in &alert.events {
            if is_attack(event) {
                *attack_rules.entry(alert.rule.id.clone()).or_default() += 1;
            } else {
                let name = event.get_str("eventName").unwrap_or("?").to_string();
                *background.entry((alert.rule.id.clone(), name)).or_default() += 1;
            }
        }
    }
    let expected_attack: BTreeMap<String, u64> = INVICTUS_ATTACK_DETECTED.iter().map(|(rule, count)| (rule.to_string(), *count)).collect();
    assert_eq!(attack_rules, expected_attack, "attack events per rule");
    let expected: BTreeMap<(String, String), u64> =
        INVICTUS_BACKGROUND_DETECTED.iter().map(|(rule, name, count)| ((rule.to_string(), name.to_string()), *count)).collect();
    assert_eq!(background, expected, "alerts on setup and background events");
}

/// In the invictus dataset the stolen instance credentials are used from 192.168.10.20 (the
/// dataset's stand-in for the operator's address), while the instances' own calls come from
/// their public addresses 3.225.16.109 and 52.45.102.28. With those as the organisation's
/// egress addresses, only the two replayed calls are reported.
#[test]
fn invictus_stolen_instance_credentials() {
    let Some(folder) = test_data(INVICTUS) else { return };
    let detector = detector_with_egress(&["3.225.16.109/32", "52.45.102.28/32"]);
    let alerts = hunt(&detector, decode_file(&folder));
    let hits: Vec<&Alert> = alerts.iter().filter(|a| a.rule.id == INSTANCE_CREDENTIALS_OUTSIDE).collect();
    let count: u64 = hits.iter().map(|a| a.event_count).sum();
    assert_eq!(count, 2, "GetCallerIdentity and DescribeInstances from 192.168.10.20");
    for alert in hits {
        assert_eq!(alert.entities.get("source.ip").map(|ips| ips.iter().cloned().collect::<Vec<_>>()), Some(vec!["192.168.10.20".to_string()]));
    }
}

// ---------------------------------------------------------------------------------------------
// Each CloudTrail technique of the rule pack, on one sample

/// Where a technique's sample comes from.
enum Sample {
    /// A file under `TOCSIN_TEST_DATA`.
    Public(&'static str),
    /// A Panther test, by rule id and test name.
    Panther(&'static str, &'static str, &'static str),
    /// A hand-made file under `tests/data/aws/` (placeholder values, written from the
    /// documented CloudTrail record format because no public sample has the event).
    HandMade(&'static str),
}

const TECHNIQUES: &[(&str, Sample, &str)] = &[
    ("root account use", Sample::Panther("aws_cloudtrail.jsonl", "AWS.Console.RootLogin", "Successful Root Login"), ROOT_USE),
    ("console login without MFA", Sample::Public("stratus-red-team-detonation-logs/aws.initial-access.console-login-without-mfa.json"), CONSOLE_NO_MFA),
    ("burst of failed console logins", Sample::HandMade("console_login_failure_burst.json"), CONSOLE_FAILURE_BURST),
    ("StopLogging", Sample::Public("stratus-red-team-detonation-logs/aws.defense-evasion.cloudtrail-stop.json"), TRAIL_CHANGED),
    ("DeleteTrail", Sample::Panther("aws_cloudtrail.jsonl", "AWS.CloudTrail.SecurityConfigurationChange", "Security Configuration Changed"), TRAIL_CHANGED),
    ("UpdateTrail", Sample::HandMade("update_trail.json"), TRAIL_CHANGED),
    ("PutEventSelectors", Sample::Public("stratus-red-team-detonation-logs/aws.defense-evasion.cloudtrail-event-selectors.json"), SELECTORS_NARROWED),
    ("DeleteFlowLogs", Sample::Public("stratus-red-team-detonation-logs/aws.defense-evasion.vpc-remove-flow-logs.json"), FLOW_LOGS_DELETED),
    ("ingress on 22 from 0.0.0.0/0", Sample::Public("stratus-red-team-detonation-logs/aws.exfiltration.ec2-security-group-open-port-22-ingress.json"), SECURITY_GROUP_OPEN),
    ("ingress on 3389 from ::/0", Sample::HandMade("security_group_rdp_ipv6.json"), SECURITY_GROUP_OPEN),
    ("ingress on a port range from 0.0.0.0/0", Sample::HandMade("security_group_port_range.json"), SECURITY_GROUP_OPEN),
    ("access key for another user", Sample::Public("stratus-red-team-detonation-logs/aws.persistence.iam-backdoor-user.json"), ACCESS_KEY_OTHER_USER),
    ("AdministratorAccess attached", Sample::Public("stratus-red-team-detonation-logs/aws.persistence.iam-create-admin-user.json"), ADMIN_POLICY),
    ("inline policy allowing every action", Sample::HandMade("inline_admin_policy.json"), ADMIN_POLICY),
    ("GuardDuty detector deleted", Sample::HandMade("guardduty_detector_deleted.json"), DETECTION_DISABLED),
    ("GuardDuty detector suspended", Sample::HandMade("guardduty_detector_suspended.json"), DETECTION_DISABLED),
    ("Security Hub disabled", Sample::HandMade("securityhub_disabled.json"), DETECTION_DISABLED),
    ("GuardDuty high finding", Sample::Panther("aws_guardduty.jsonl", "AWS.GuardDuty.HighSeverityFinding", "High Sev Finding"), GUARDDUTY_HIGH),
    ("GuardDuty medium finding", Sample::Panther("aws_guardduty.jsonl", "AWS.GuardDuty.MediumSeverityFinding", "Medium Sev Finding"), GUARDDUTY_MEDIUM),
    ("GuardDuty low finding", Sample::Panther("aws_guardduty.jsonl", "AWS.GuardDuty.LowSeverityFinding", "Low Sev Finding"), GUARDDUTY_LOW),
];

fn sample_events(sample: &Sample) -> Option<Vec<Event>> {
    match sample {
        Sample::Public(path) => Some(decode_file(&test_data(path)?)),
        Sample::HandMade(file) => Some(decode_file(&hand_made(file))),
        Sample::Panther(file, rule, test) => {
            let samples = read_panther(file)?;
            let labelled = samples.iter().find(|s| s.rule_id == *rule && s.test_name == *test).unwrap_or_else(|| panic!("no Panther test {rule} / {test}"));
            assert!(labelled.expected, "{rule} / {test} is a positive test");
            Some(decode_panther(file, labelled))
        }
    }
}

#[test]
fn cloudtrail_techniques_each_detected() {
    let detector = builtin_detector();
    for (technique, sample, rule) in TECHNIQUES {
        let Some(events) = sample_events(sample) else { return };
        let alerts = hunt(&detector, events);
        assert!(fired(&alerts).contains(*rule), "{technique}: rule {rule} did not fire; fired: {:?}", fired(&alerts));
    }
}

#[test]
fn guardduty_levels_follow_severity() {
    let detector = builtin_detector();
    let cases = [("High Sev Finding", "AWS.GuardDuty.HighSeverityFinding", "high"), ("Medium Sev Finding", "AWS.GuardDuty.MediumSeverityFinding", "medium"), ("Low Sev Finding", "AWS.GuardDuty.LowSeverityFinding", "low")];
    for (test, rule, level) in cases {
        let Some(events) = sample_events(&Sample::Panther("aws_guardduty.jsonl", rule, test)) else { return };
        let alerts = hunt(&detector, events);
        assert_eq!(alerts.len(), 1, "{test}: one alert");
        assert_eq!(alerts[0].rule.level.name(), level, "{test}");
    }
}

/// A GuardDuty finding of severity 9 and above (GuardDuty's critical band) is critical. Made
/// from Panther's high-severity sample with the severity raised, as no public sample has one.
#[test]
fn guardduty_critical_finding_level() {
    let Some(samples) = read_panther("aws_guardduty.jsonl") else { return };
    let labelled = samples.iter().find(|s| s.test_name == "High Sev Finding").expect("high finding");
    let mut finding = labelled.log.clone();
    finding.insert("severity".into(), Json::from(9.5));
    let events = decode_as(Format::GuardDuty, "critical", Json::Object(finding).to_string().as_bytes());
    assert_eq!(fired(&hunt(&builtin_detector(), events)), ids(&[GUARDDUTY_CRITICAL]));
}

#[test]
fn guardduty_sample_findings_ignored() {
    let Some(samples) = read_panther("aws_guardduty.jsonl") else { return };
    let detector = builtin_detector();
    for labelled in samples.iter().filter(|s| s.test_name.ends_with("As Sample Data")) {
        let alerts = hunt(&detector, decode_panther("aws_guardduty.jsonl", labelled));
        assert!(alerts.is_empty(), "{}: {:?}", labelled.test_name, fired(&alerts));
    }
}

#[test]
fn console_failure_burst_names_attacker() {
    let alerts = hunt(&builtin_detector(), decode_file(&hand_made("console_login_failure_burst.json")));
    let bursts: Vec<&Alert> = alerts.iter().filter(|a| a.rule.id == CONSOLE_FAILURE_BURST).collect();
    assert_eq!(bursts.len(), 1, "one burst: 198.51.100.7 failed only four times");
    let sources: Vec<&String> = bursts[0].entities.get("source.ip").expect("source.ip").iter().collect();
    assert_eq!(sources, ["203.0.113.10"]);
    // The correlation fires once the fifth failure falls in the window.
    assert!((5..=6).contains(&bursts[0].event_count), "{} events", bursts[0].event_count);
}

#[test]
fn security_group_https_not_remote_access() {
    let alerts = hunt(&builtin_detector(), decode_file(&hand_made("security_group_https_only.json")));
    assert!(!fired(&alerts).contains(SECURITY_GROUP_OPEN), "443 from anywhere is not SSH or RDP");
}

/// A PutEventSelectors call that turns management events on, for reads and writes, is not
/// reported. This is Panther's negative test, and the invictus per-rule counts cover the same
/// revert.
#[test]
fn event_selectors_restored_not_reported() {
    let Some(samples) = read_panther("aws_cloudtrail.jsonl") else { return };
    let restored = samples.iter().find(|s| s.test_name == "Event Selector Enabled").expect("Panther test");
    let alerts = hunt(&builtin_detector(), decode_panther("aws_cloudtrail.jsonl", restored));
    assert!(!fired(&alerts).contains(SELECTORS_NARROWED));
}

/// Our rules firing on Panther samples labelled for a Panther rule outside their family, as
/// (our rule, Panther rule, Panther test). Each is correct by our rule's definition. A root
/// login is root use and, without MFA, a login without MFA. AttachUserPolicy with
/// AdministratorAccess attaches an admin policy. Root creating a key for a user creates a key
/// for another user, and DeleteTrail through a VPC endpoint is still DeleteTrail.
const PANTHER_OTHER_ALERTS: &[(&str, &str, &str)] = &[
    (ROOT_USE, "AWS.CloudTrail.PasswordSpraying", "Failed Console Login - Root User"),
    (ROOT_USE, "AWS.Console.LoginWithoutMFA", "No MFA Login - Root User"),
    (CONSOLE_NO_MFA, "AWS.Console.RootLogin", "Successful Root Login"),
    (CONSOLE_NO_MFA, "AWS.Console.RootLoginFailed", "Successful Login"),
    (ADMIN_POLICY, "AWS.IAM.CreateUser", "IAM User Not Created"),
    (ACCESS_KEY_OTHER_USER, "AWS.CloudTrail.RootAccessKeyCreated", "Root Created Access Key For User"),
    (TRAIL_CHANGED, "AWS.CloudTrail.VPCE.SensitiveAPICalls", "CloudTrail API Call Via VPC Endpoint"),
];

#[test]
fn panther_other_rule_samples_alerts() {
    let detector = builtin_detector();
    let mut found = Vec::new();
    for file in ["aws_cloudtrail.jsonl", "aws_guardduty.jsonl", "aws_vpcflow.jsonl"] {
        let Some(samples) = read_panther(file) else { return };
        for sample in &samples {
            let ours: Vec<&str> = FAMILIES
                .iter()
                .flat_map(|family| family.members.iter())
                .filter(|(panther_rule, _)| *panther_rule == sample.rule_id)
                .flat_map(|(_, rules)| rules.iter().copied())
                .collect();
            for alert in hunt(&detector, decode_panther(file, sample)) {
                if !ours.contains(&alert.rule.id.as_str()) {
                    found.push((alert.rule.id.clone(), sample.rule_id.clone(), sample.test_name.clone()));
                }
            }
        }
    }
    let expected: Vec<(String, String, String)> =
        PANTHER_OTHER_ALERTS.iter().map(|(rule, panther, test)| (rule.to_string(), panther.to_string(), test.to_string())).collect();
    assert_eq!(found, expected);
}

/// A deny-all inline policy (the quarantine policy responders attach to a leaked key's user)
/// names every action but allows none.
#[test]
fn deny_all_policy_not_admin() {
    let Some(samples) = read_panther("aws_cloudtrail.jsonl") else { return };
    let quarantine = samples.iter().find(|s| s.test_name == "PutUserPolicy-false").expect("Panther test");
    let alerts = hunt(&builtin_detector(), decode_panther("aws_cloudtrail.jsonl", quarantine));
    assert!(!fired(&alerts).contains(ADMIN_POLICY));
}
