//! Examples from the Sigma v2.1.0 specification (rules, modifiers, filters), with our own
//! values.

mod common;

use common::{fires, rule, rules, sysmon};
use tocsin_event::Value;
use tocsin_sigma::{ErrorKind, Placeholders, RuleSetBuilder, RuleStatus};

const PROC: &str = "{ product: windows, category: process_creation }";

fn proc(id: u32, selection: &str) -> String {
    rule(&format!("20000000-0000-4000-8000-{id:012}"), PROC, selection)
}

#[test]
fn null_and_empty_values() {
    let null = proc(1, "    PasswordLastSet: null");
    assert!(fires(&null, &sysmon(1, &[])));
    let mut with_null = sysmon(1, &[]);
    with_null.push("PasswordLastSet", Value::Null);
    assert!(fires(&null, &with_null));
    assert!(!fires(&null, &sysmon(1, &[("PasswordLastSet", "2024-01-01")])));

    let empty = proc(2, "    PasswordLastSet: ''");
    assert!(fires(&empty, &sysmon(1, &[("PasswordLastSet", "")])));
    assert!(!fires(&empty, &sysmon(1, &[])));
}

#[test]
fn exists_modifier() {
    let present = proc(3, "    PasswordLastSet|exists: true");
    let absent = proc(4, "    PasswordLastSet|exists: false");
    let with = sysmon(1, &[("PasswordLastSet", "")]);
    let without = sysmon(1, &[]);
    assert!(fires(&present, &with));
    assert!(!fires(&present, &without));
    assert!(fires(&absent, &without));
    assert!(!fires(&absent, &with));
}

#[test]
fn all_modifier_and_lists() {
    let all = proc(5, "    CommandLine|contains|all: ['-ExternalUrl', 'OabVirtualDirectory']");
    assert!(fires(&all, &sysmon(1, &[("CommandLine", "Set-OabVirtualDirectory -ExternalUrl x")])));
    assert!(!fires(&all, &sysmon(1, &[("CommandLine", "Set-OabVirtualDirectory")])));
    let any = proc(6, "    EventID: [517, 1102, 1]");
    assert!(fires(&any, &sysmon(1, &[])));
}

#[test]
fn keywords_with_all() {
    let text = "title: k\nid: 20000000-0000-4000-8000-000000000007\nlogsource: { product: windows }\ndetection:\n  keywords_cmdlet:\n    '|all':\n      - 'OabVirtualDirectory'\n      - ' -ExternalUrl '\n  condition: keywords_cmdlet\n";
    assert!(fires(text, &sysmon(1, &[("CommandLine", "Set-OabVirtualDirectory"), ("Other", "a -ExternalUrl b")])));
    assert!(!fires(text, &sysmon(1, &[("CommandLine", "Set-OabVirtualDirectory")])));
}

#[test]
fn wildcards_and_escapes() {
    let glob = proc(8, r"    Image: 'C:\\*\prog?.exe'");
    assert!(fires(&glob, &sysmon(1, &[("Image", r"C:\Tools\progA.exe")])));
    assert!(!fires(&glob, &sysmon(1, &[("Image", r"C:\Tools\progAB.exe")])));
    let literal_star = proc(9, r"    CommandLine: 'echo \*'");
    assert!(fires(&literal_star, &sysmon(1, &[("CommandLine", "echo *")])));
    assert!(!fires(&literal_star, &sysmon(1, &[("CommandLine", "echo x")])));
    let backslash_then_wildcard = proc(10, r"    CommandLine|contains: '1> \\\\*\\ADMIN$'");
    assert!(fires(&backslash_then_wildcard, &sysmon(1, &[("CommandLine", r"cmd.exe /Q /c whoami 1> \\127.0.0.1\ADMIN$\x 2>&1")])));
    let single = proc(11, r"    CommandLine|contains: '1> \\127.0.0.1\'");
    assert!(!fires(&single, &sysmon(1, &[("CommandLine", r"cmd 1> \\127.0.0.1\ADMIN$")])));
}

#[test]
fn base64_modifiers() {
    let plain = proc(12, "    CommandLine|base64|contains: 'http://'");
    assert!(fires(&plain, &sysmon(1, &[("CommandLine", "x aHR0cDovLw== y")])));
    let offset = proc(13, "    CommandLine|base64offset|contains: '/bin/bash'");
    for encoded in ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"] {
        assert!(fires(&offset, &sysmon(1, &[("CommandLine", &format!("echo {encoded}x"))])), "{encoded}");
    }
    let wide = proc(14, "    CommandLine|wide|base64offset|contains: 'ping'");
    // "ping" in UTF-16LE, base64-encoded with no leading bytes: cABpAG4AZwA=
    assert!(fires(&wide, &sysmon(1, &[("CommandLine", "powershell -enc cABpAG4AZwA=")])));
}

#[test]
fn numeric_modifiers() {
    let gt = proc(15, "    Size|gt: 100");
    assert!(fires(&gt, &sysmon(1, &[("Size", "101")])));
    assert!(!fires(&gt, &sysmon(1, &[("Size", "100")])));
    assert!(!fires(&gt, &sysmon(1, &[("Size", "big")])));
    let lte = proc(16, "    Size|lte: 0x10");
    assert!(fires(&lte, &sysmon(1, &[("Size", "0x0F")])));
    let neq = proc(17, "    User|neq: 'SYSTEM'");
    assert!(fires(&neq, &sysmon(1, &[("User", "alice")])));
    assert!(!fires(&neq, &sysmon(1, &[("User", "system")])));
}

#[test]
fn fieldref_modifier() {
    let same = proc(18, "    TargetUserName|fieldref: SubjectUserName");
    assert!(fires(&same, &sysmon(1, &[("TargetUserName", "Alice"), ("SubjectUserName", "alice")])));
    assert!(!fires(&same, &sysmon(1, &[("TargetUserName", "bob"), ("SubjectUserName", "alice")])));
    assert!(!fires(&same, &sysmon(1, &[("TargetUserName", "bob")])));
    let differs = proc(19, "    TargetUserName|fieldref|neq: SubjectUserName");
    assert!(fires(&differs, &sysmon(1, &[("TargetUserName", "bob"), ("SubjectUserName", "alice")])));
    let contains = proc(20, "    CommandLine|fieldref|contains: User");
    assert!(fires(&contains, &sysmon(1, &[("CommandLine", "runas /user:alice x"), ("User", "ALICE")])));
}

#[test]
fn time_modifiers() {
    let hour = proc(21, "    UtcTime|hour|gte: 22");
    assert!(fires(&hour, &sysmon(1, &[("UtcTime", "2024-03-01 23:10:00.000")])));
    assert!(!fires(&hour, &sysmon(1, &[("UtcTime", "2024-03-01 08:10:00.000")])));
    let month = proc(22, "    UtcTime|month: 3");
    assert!(fires(&month, &sysmon(1, &[("UtcTime", "2024-03-01T08:10:00Z")])));
}

#[test]
fn cidr_ipv4() {
    let cidr = rule("20000000-0000-4000-8000-000000000023", "{ product: windows, category: network_connection }", "    DestinationIp|cidr: 10.0.0.0/8");
    assert!(fires(&cidr, &sysmon(3, &[("DestinationIp", "10.1.2.3")])));
    assert!(!fires(&cidr, &sysmon(3, &[("DestinationIp", "11.1.2.3")])));
    let mut typed = sysmon(3, &[]);
    typed.push("DestinationIp", Value::Ip("10.9.9.9".parse().unwrap()));
    assert!(fires(&cidr, &typed));
}

#[test]
fn list_values_match_any_element() {
    let rule = proc(24, "    Tags: 'beta'");
    let mut event = sysmon(1, &[]);
    event.push("Tags", Value::List(vec![Value::from("alpha"), Value::from("BETA")]));
    assert!(fires(&rule, &event));
}

#[test]
fn ecs_names_reach_source_fields() {
    let rule = proc(25, "    process.command_line|contains: 'whoami'");
    assert!(fires(&rule, &sysmon(1, &[("CommandLine", "whoami /all")])));
}

#[test]
fn security_4688_uses_renamed_fields() {
    let rule = proc(26, r"    Image|endswith: '\whoami.exe'");
    let mut event = common::event(tocsin_event::Schema::Windows, &[("Channel", Value::from("Security")), ("EventID", Value::Int(4688))]);
    event.push("NewProcessName", r"C:\Windows\System32\whoami.exe");
    assert!(fires(&rule, &event));
}

#[test]
fn placeholders_expand_or_stay_inactive() {
    let text = proc(27, "    User|expand: '%Administrators%'");
    let mut builder = RuleSetBuilder::new();
    builder.add_str(&text, None);
    let (_, report) = builder.build();
    let RuleStatus::Inactive(error) = &report.rules[0].status else { panic!("expected inactive: {:?}", report.rules) };
    assert_eq!(error.kind, ErrorKind::Placeholder("Administrators".into()));

    let mut placeholders = Placeholders::default();
    placeholders.insert("Administrators", vec!["adm_*".into(), "root".into()]);
    let mut builder = RuleSetBuilder::new();
    builder.placeholders(placeholders);
    builder.add_str(&text, None);
    let (set, report) = builder.build();
    assert_eq!(report.accepted(), 1);
    assert_eq!(set.matches(&sysmon(1, &[("User", "ADM_alice")])), vec![0]);
    assert!(set.matches(&sysmon(1, &[("User", "alice")])).is_empty());
}

#[test]
fn filter_rules_narrow_their_targets() {
    let target = proc(28, "    CommandLine|contains: 'rar.exe'");
    let filter = "title: Filter admins\nlogsource: { product: windows, category: process_creation }\nfilter:\n  rules:\n    - 20000000-0000-4000-8000-000000000028\n  selection:\n    User|startswith: 'adm_'\n  condition: not selection\n";
    let set = rules(&[&target, filter]);
    assert_eq!(set.matches(&sysmon(1, &[("CommandLine", "rar.exe a x"), ("User", "bob")])), vec![0]);
    assert!(set.matches(&sysmon(1, &[("CommandLine", "rar.exe a x"), ("User", "adm_bob")])).is_empty());
}

#[test]
fn condition_lists_are_ored() {
    let text = "title: t\nid: 20000000-0000-4000-8000-000000000029\nlogsource: { product: windows }\ndetection:\n  a:\n    A: '1'\n  b:\n    B: '1'\n  condition:\n    - a\n    - b\n";
    assert!(fires(text, &sysmon(1, &[("B", "1")])));
}

#[test]
fn rejections_name_the_problem() {
    let cases = [
        (proc(30, "    Image|contians: 'x'"), "unknown value modifier `contians`"),
        (proc(31, "    Image|re: '(?<=a)b'"), "look-around"),
        ("title: t\nlogsource: { product: windows }\ndetection:\n  sel:\n    A: 1\n  condition: sel | count() > 5\n".to_string(), "correlation rule"),
    ];
    for (text, expected) in cases {
        let mut builder = RuleSetBuilder::new();
        builder.add_str(&text, Some(std::path::Path::new("rule.yml")));
        let (_, report) = builder.build();
        let RuleStatus::Rejected(error) = &report.rules[0].status else { panic!("{text} was not rejected") };
        let message = error.to_string();
        assert!(message.contains(expected), "{message}");
        assert!(message.starts_with("rule.yml:"), "{message}");
    }
}

#[test]
fn keywords_match_numbers_and_unicode() {
    let keywords = |id: u32, words: &str| {
        format!("title: k\nid: 20000000-0000-4000-8000-{id:012}\nlogsource: {{ product: windows }}\ndetection:\n  keywords: [{words}]\n  condition: keywords\n")
    };
    let event = sysmon(4688, &[("CommandLine", "echo ПРИВЕТ")]);
    assert!(fires(&keywords(40, "'4688', 'nothing', 'absent'"), &event));
    assert!(fires(&keywords(41, "'привет', 'nothing', 'absent'"), &event));
    assert!(!fires(&keywords(42, "'4689', 'nothing', 'absent'"), &event));
    assert!(fires(&keywords(43, "'ECHO', 'nothing', 'absent'"), &event));
}

#[test]
fn check_rules_reports_each_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yml"), proc(50, "    Image|endswith: '\\a.exe'")).unwrap();
    std::fs::write(dir.path().join("bad.yml"), proc(51, "    Image|nosuch: 'x'")).unwrap();
    let mut output = Vec::new();
    let (set, report) = tocsin_sigma::check_rules(&[dir.path().to_path_buf()], None, true, &mut output).unwrap();
    let text = String::from_utf8(output).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(report.rejected(), 1);
    assert!(text.contains("accepted "), "{text}");
    assert!(text.contains("bad.yml:5: test 20000000-0000-4000-8000-000000000051: unknown value modifier `nosuch`"), "{text}");
    assert!(text.ends_with("1 accepted, 1 rejected, 0 inactive, 0 skipped\n"), "{text}");
}

#[test]
fn rule_set_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<tocsin_sigma::RuleSet>();
}

/// `|expand|cidr` takes its networks from the placeholder; without values the rule is
/// inactive, not rejected.
#[test]
fn expand_cidr_placeholder() {
    let text = "title: egress\nid: 5a0c3f1e-0000-4000-8000-00000000b001\nlogsource: { product: aws, service: cloudtrail }\ndetection:\n  selection:\n    sourceIPAddress|expand|cidr: '%egress%'\n  condition: selection\n";

    let mut builder = tocsin_sigma::RuleSetBuilder::new();
    builder.add_str(text, None);
    let (_, report) = builder.build();
    assert!(matches!(report.rules[0].status, tocsin_sigma::RuleStatus::Inactive(_)), "{:?}", report.rules[0].status);

    let mut placeholders = tocsin_sigma::Placeholders::default();
    placeholders.insert("egress", vec!["198.51.100.0/24".into(), "2001:db8::/32".into()]);
    let mut builder = tocsin_sigma::RuleSetBuilder::new();
    builder.placeholders(placeholders);
    builder.add_str(text, None);
    let (set, report) = builder.build();
    assert_eq!(report.accepted(), 1, "{:?}", report.rules);

    let event = |ip: &str| common::event(tocsin_event::Schema::CloudTrail, &[("sourceIPAddress", tocsin_event::Value::from(ip))]);
    assert_eq!(set.matches(&event("198.51.100.42")).len(), 1);
    assert_eq!(set.matches(&event("2001:db8::7")).len(), 1);
    assert!(set.matches(&event("203.0.113.9")).is_empty());
}
