//! Faults reported against other Sigma engines, each pinned as a test with our own values.

mod common;

use common::{event, fires, rule, rules, sysmon};
use tocsin_event::{Schema, Value};
use tocsin_sigma::{Pipeline, RuleSetBuilder};

const PROC: &str = "{ product: windows, category: process_creation }";

fn proc_rule(selection: &str) -> String {
    rule("00000000-0000-4000-8000-000000000001", PROC, selection)
}

fn proc_event(field: &str, value: &str) -> tocsin_event::Event {
    sysmon(1, &[(field, value)])
}

#[test]
fn trailing_backslash_with_modifiers() {
    let event = proc_event("Data", r"C:\Windows\system32\x.exe");
    assert!(fires(&proc_rule(r"    Data|startswith: 'C:\Windows\'"), &event));
    assert!(fires(&proc_rule(r"    Data|contains: '\Windows\'"), &event));
    assert!(fires(&proc_rule(r"    Data|endswith: '\'"), &proc_event("Data", r"C:\Temp\")));
}

#[test]
fn doubled_backslashes_mean_two() {
    let rule = proc_rule(r"    ImagePath|contains: '\\\\.\pipe\'");
    assert!(fires(&rule, &proc_event("ImagePath", r"cmd.exe /c echo x > \\.\pipe\x")));
    assert!(!fires(&rule, &proc_event("ImagePath", r"cmd.exe /c echo x > \.\pipe\x")));
}

#[test]
fn windash_covers_all_five_dashes() {
    let rule = proc_rule("    CommandLine|windash|contains: ' -ma '");
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        let line = format!("procdump.exe {dash}ma lsass.exe");
        assert!(fires(&rule, &proc_event("CommandLine", &line)), "dash {dash:?} not matched");
    }
    assert!(!fires(&rule, &proc_event("CommandLine", "procdump.exe _ma lsass.exe")));

    let two = proc_rule("    CommandLine|windash|contains: ' -a -b '");
    for first in ["-", "/", "\u{2014}"] {
        for second in ["-", "\u{2013}", "\u{2015}"] {
            let line = format!("tool.exe {first}a {second}b x");
            assert!(fires(&two, &proc_event("CommandLine", &line)), "{line:?} not matched");
        }
    }
}

#[test]
fn ipv6_cidr_uses_membership() {
    let rule = rule("00000000-0000-4000-8000-000000000002", "{ product: windows, category: network_connection }", "    SourceIp|cidr: '2001:db8::/64'");
    let net = |ip: &str| sysmon(3, &[("SourceIp", ip)]);
    assert!(fires(&rule, &net("2001:db8::1")));
    assert!(fires(&rule, &net("2001:0DB8:0000:0000::5")));
    assert!(!fires(&rule, &net("2001:db8:0:1::1")));
    assert!(!fires(&rule, &net("-")));

    // Decision: an IPv4-mapped IPv6 address is compared as the IPv4 address it carries.
    let v4 = rule_with_id("00000000-0000-4000-8000-000000000003", "    SourceIp|cidr: '192.0.2.0/24'");
    assert!(fires(&v4, &net("::ffff:192.0.2.7")));
}

fn rule_with_id(id: &str, selection: &str) -> String {
    rule(id, "{ product: windows, category: network_connection }", selection)
}

#[test]
fn case_insensitive_by_default_with_unicode_folding() {
    let image = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
    assert!(fires(&proc_rule(r"    Image|endswith: '\POWERSHELL.EXE'"), &proc_event("Image", image)));
    assert!(fires(&proc_rule("    CommandLine|contains: 'ПРИВЕТ'"), &proc_event("CommandLine", "echo привет")));
    assert!(!fires(&proc_rule("    CommandLine|contains|cased: 'Invoke'"), &proc_event("CommandLine", "invoke")));
    assert!(!fires(&proc_rule("    CommandLine|re: 'Invoke'"), &proc_event("CommandLine", "INVOKE")));
    assert!(fires(&proc_rule("    CommandLine|re|i: 'Invoke'"), &proc_event("CommandLine", "INVOKE")));
}

#[test]
fn regex_is_an_unanchored_search() {
    let value = "Foo\r\n\tNewEngineState=Available\r\n\tPrevious=None";
    let event = proc_event("Data", value);
    assert!(fires(&proc_rule("    Data|re: 'NewEngineState'"), &event));
    assert!(!fires(&proc_rule("    Data|re: '^NewEngineState'"), &event));
    assert!(fires(&proc_rule("    Data|re|m: '^\\tNewEngineState'"), &event));
    assert!(!fires(&proc_rule("    Data|re: 'Available.\\s*Previous'"), &proc_event("Data", "Available\nPrevious")));
    assert!(fires(&proc_rule("    Data|re|s: 'Available.Previous'"), &proc_event("Data", "Available\nPrevious")));
}

#[test]
fn them_excludes_engine_conditions() {
    let text = "title: t\nid: 00000000-0000-4000-8000-000000000004\nlogsource: { product: windows, category: process_creation }\ndetection:\n  a:\n    Image|endswith: '\\a.exe'\n  b:\n    Image|endswith: '\\b.exe'\n  condition: 1 of them\n";
    let pipeline = Pipeline::from_yaml(
        "name: channel\ntransformations:\n  - type: add_condition\n    conditions:\n      Channel: Microsoft-Windows-Sysmon/Operational\n",
        "channel.yml",
    )
    .unwrap();
    let mut builder = RuleSetBuilder::new();
    builder.pipeline(pipeline);
    builder.add_str(text, None);
    let (set, report) = builder.build();
    assert_eq!(report.accepted(), 1);
    assert!(set.matches(&proc_event("Image", r"C:\x.exe")).is_empty());
    assert_eq!(set.matches(&proc_event("Image", r"C:\a.exe")), vec![0]);

    let all = text.replace("1 of them", "all of them");
    let set = rules(&[&all]);
    assert!(set.matches(&proc_event("Image", r"C:\a.exe")).is_empty());
    let mut both = proc_event("Image", r"C:\a.exe");
    both.push("Image", r"C:\b.exe");
    // Only the first `Image` is visible, so one event cannot end in both names.
    assert!(set.matches(&both).is_empty());

    let unknown = text.replace("1 of them", "1 of nosuch*");
    let mut builder = RuleSetBuilder::new();
    builder.add_str(&unknown, None);
    let (_, report) = builder.build();
    assert_eq!(report.rejected(), 1, "{:?}", report.rules);
}

#[test]
fn all_of_them_needs_every_selection() {
    let text = "title: t\nid: 00000000-0000-4000-8000-000000000005\nlogsource: { product: windows, category: process_creation }\ndetection:\n  a:\n    Image|endswith: '\\a.exe'\n  b:\n    CommandLine|contains: 'run'\n  condition: all of them\n";
    let mut event = proc_event("Image", r"C:\a.exe");
    assert!(!fires(text, &event));
    event.push("CommandLine", "a.exe run");
    assert!(fires(text, &event));
}

#[test]
fn hex_strings_stay_strings() {
    let logon = |id: &str| event(Schema::Windows, &[("Channel", Value::from("Security")), ("EventID", Value::Int(4624)), ("LogonId", Value::from(id)), ("LogonType", Value::from("10"))]);
    let security = "{ product: windows, service: security }";
    let string_rule = rule("00000000-0000-4000-8000-000000000006", security, "    LogonId: '0x3e7'");
    assert!(fires(&string_rule, &logon("0x3e7")));
    assert!(fires(&string_rule, &logon("0x3E7")));
    // Decision: an integer rule value is compared as its decimal text, so 999 never equals 0x3e7.
    let number_rule = rule("00000000-0000-4000-8000-000000000007", security, "    LogonId: 999");
    assert!(!fires(&number_rule, &logon("0x3e7")));
    assert!(fires(&rule("00000000-0000-4000-8000-000000000008", security, "    EventID: '4624'"), &logon("0x1")));
    assert!(fires(&rule("00000000-0000-4000-8000-000000000009", security, "    LogonType|gte: 3"), &logon("0x1")));
}

#[test]
fn keywords_search_all_fields() {
    let message = "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5  user=root";
    let line = event(Schema::Syslog, &[("process.name", Value::from("sshd")), ("message", Value::from(message))]);
    let linux = "{ product: linux, service: auth }";
    let keywords = |id: &str, body: &str| format!("title: k\nid: {id}\nlogsource: {linux}\ndetection:\n{body}\n");
    assert!(fires(&keywords("00000000-0000-4000-8000-00000000000a", "  keywords:\n    - 'authentication failure'\n  condition: keywords"), &line));
    assert!(fires(&keywords("00000000-0000-4000-8000-00000000000b", "  keywords:\n    - 'AUTHENTICATION FAILURE'\n  condition: keywords"), &line));
    assert!(fires(
        &keywords("00000000-0000-4000-8000-00000000000c", "  k1:\n    - 'pam_unix'\n  k2:\n    - 'rhost=203.0.113.*'\n  condition: k1 and k2"),
        &line
    ));
    assert!(!fires(&keywords("00000000-0000-4000-8000-00000000000d", "  keywords:\n    - 'failure; user'\n  condition: keywords"), &line));
}

#[test]
fn logsource_limits_event_id_rules() {
    let rule = proc_rule(r"    Image|endswith: '\evil.exe'");
    let sysmon_event = proc_event("Image", r"C:\evil.exe");
    let application = event(
        Schema::Windows,
        &[
            ("Channel", Value::from("Application")),
            ("Provider_Name", Value::from("ExampleApp")),
            ("EventID", Value::Int(1)),
            ("Image", Value::from(r"C:\evil.exe")),
        ],
    );
    assert!(fires(&rule, &sysmon_event));
    assert!(!fires(&rule, &application));
}
