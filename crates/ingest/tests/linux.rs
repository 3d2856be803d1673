//! Linux decoders (syslog with sshd, journald, auditd) over the public samples in
//! `TOCSIN_TEST_DATA` (elastic auth.log, loghub OpenSSH, go-libaudit, OTRF) and over the
//! hand-made inputs in tests/data/linux, which use placeholder values only.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use tocsin_event::{Evidence, Precision, SourceRef, Timestamp, Value};
use tocsin_ingest::{decode, decode_bytes_input, Collect, Context, Event, FileStats, Format, Options};

/// Counts lines the way `wc -l` does, plus a last line without a newline.
fn count_lines(data: &[u8]) -> u64 {
    let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(!data.is_empty() && !data.ends_with(b"\n"))
}

fn ip(text: &str) -> Value {
    Value::Ip(text.parse::<IpAddr>().unwrap())
}

fn options_2017() -> Options {
    Options { year: Some(2017), ..Options::default() }
}

/// Decodes a file and checks that it was read as `format` with one record per line.
fn decode_checked(path: &Path, options: &Options, format: Format) -> Collect {
    let (out, stats) = common::decode_file_with(path, options);
    assert_eq!(stats.len(), 1, "{}: one input expected", path.display());
    let data = std::fs::read(path).unwrap();
    assert_eq!(stats[0].format, Some(format), "{}", path.display());
    assert_eq!(stats[0].records, count_lines(&data), "{}: records", path.display());
    out
}

fn line(out: &Collect, number: u64) -> &Event {
    out.events.iter().find(|e| e.evidence.line == Some(number)).unwrap_or_else(|| panic!("no event for line {number}"))
}

fn str_of<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
    event.get_str(name)
}

// ---- elastic auth.log ------------------------------------------------------------------------

#[test]
fn authlog_records_match_line_count() {
    let Some(dir) = common::test_data("elastic-examples-auth-log") else { return };
    let path = dir.join("auth.log");
    let out = decode_checked(&path, &options_2017(), Format::Syslog);
    assert_eq!(out.events.len(), 7121);
    assert!(out.errors.is_empty(), "{:?}", out.errors.first());
}

#[test]
fn authlog_sshd_fields() {
    let Some(dir) = common::test_data("elastic-examples-auth-log") else { return };
    let out = decode_checked(&dir.join("auth.log"), &options_2017(), Format::Syslog);

    // Line 6: Accepted publickey for ubuntu from 85.245.107.41 port 54259 ssh2: RSA SHA256:...
    let e = line(&out, 6);
    assert_eq!(e.timestamp.unwrap().to_string(), "2017-03-27T13:08:09Z");
    assert_eq!(str_of(e, "host.name"), Some("ip-10-77-20-248"));
    assert_eq!(str_of(e, "process.name"), Some("sshd"));
    assert_eq!(e.get_i64("process.pid"), Some(1361));
    assert_eq!(str_of(e, "event.category"), Some("authentication"));
    assert_eq!(str_of(e, "event.action"), Some("ssh_login"));
    assert_eq!(str_of(e, "event.outcome"), Some("success"));
    assert_eq!(str_of(e, "user.name"), Some("ubuntu"));
    assert_eq!(e.get("source.ip"), Some(&ip("85.245.107.41")));
    assert_eq!(e.get_i64("source.port"), Some(54259));
    assert_eq!(str_of(e, "ssh.method"), Some("publickey"));
    assert_eq!(str_of(e, "ssh.key.type"), Some("RSA"));
    assert_eq!(e.get("ssh.invalid_user"), Some(&Value::Bool(false)));
    assert!(e.raw.as_deref().unwrap().starts_with("Mar 27 13:08:09 ip-10-77-20-248 sshd[1361]: Accepted publickey"));

    // Line 1617: Accepted password for elastic_user_7 from 127.0.0.1 port 52942 ssh2
    let e = line(&out, 1617);
    assert_eq!((str_of(e, "user.name"), str_of(e, "ssh.method")), (Some("elastic_user_7"), Some("password")));

    // Line 1813: Failed password for invalid user pi from 181.25.206.27 port 50378 ssh2
    let e = line(&out, 1813);
    assert_eq!((str_of(e, "event.action"), str_of(e, "event.outcome")), (Some("ssh_login"), Some("failure")));
    assert_eq!(str_of(e, "user.name"), Some("pi"));
    assert_eq!(e.get("ssh.invalid_user"), Some(&Value::Bool(true)));
    assert_eq!(e.get("source.ip"), Some(&ip("181.25.206.27")));
    assert_eq!(e.get_i64("source.port"), Some(50378));

    // Line 96: Invalid user support from 95.152.57.58
    let e = line(&out, 96);
    assert_eq!((str_of(e, "event.action"), str_of(e, "event.outcome")), (Some("ssh_invalid_user"), Some("failure")));
    assert_eq!(str_of(e, "user.name"), Some("support"));
    assert_eq!(e.get("source.ip"), Some(&ip("95.152.57.58")));

    // Line 251: Connection closed by 85.245.107.41 port 58980 [preauth]
    let e = line(&out, 251);
    assert_eq!((str_of(e, "event.action"), str_of(e, "event.outcome")), (Some("ssh_connection_closed"), Some("unknown")));
    assert_eq!(e.get("ssh.preauth"), Some(&Value::Bool(true)));
    assert_eq!(e.get_i64("source.port"), Some(58980));

    // Line 87: Disconnecting: Too many authentication failures [preauth]
    let e = line(&out, 87);
    assert_eq!((str_of(e, "event.action"), str_of(e, "event.outcome")), (Some("ssh_max_auth_exceeded"), Some("failure")));

    // Line 98: error: maximum authentication attempts exceeded for invalid user support from 95.152.57.58 port 53679 ssh2 [preauth]
    let e = line(&out, 98);
    assert_eq!(str_of(e, "event.action"), Some("ssh_max_auth_exceeded"));
    assert_eq!(str_of(e, "user.name"), Some("support"));
    assert_eq!(e.get("ssh.invalid_user"), Some(&Value::Bool(true)));
    assert_eq!(e.get_i64("source.port"), Some(53679));

    // Line 75: Received disconnect from 85.245.107.41 port 54259:11: disconnected by user
    let e = line(&out, 75);
    assert_eq!((str_of(e, "event.action"), str_of(e, "event.outcome")), (Some("ssh_disconnect"), Some("unknown")));
    assert_eq!(e.get_i64("ssh.disconnect.code"), Some(11));
    assert_eq!(e.get_i64("source.port"), Some(54259));

    // Line 76: Disconnected from 85.245.107.41 port 54259
    assert_eq!(str_of(line(&out, 76), "event.action"), Some("ssh_disconnected"));

    // Line 2302: message repeated 5 times: [ Failed password for root from 218.60.136.106 port 56338 ssh2]
    let e = line(&out, 2302);
    assert_eq!(e.get_i64("log.syslog.repeated"), Some(5));
    assert_eq!((str_of(e, "user.name"), str_of(e, "event.outcome")), (Some("root"), Some("failure")));
    assert_eq!(e.get("source.ip"), Some(&ip("218.60.136.106")));

    // Line 1834: PAM 5 more authentication failures; ... rhost=181.25.206.27
    let e = line(&out, 1834);
    assert_eq!(str_of(e, "event.action"), Some("pam_auth_failure"));
    assert_eq!(e.get("source.ip"), Some(&ip("181.25.206.27")));

    // Line 102: Did not receive identification string from 209.160.24.191
    assert_eq!(line(&out, 102).get("source.ip"), Some(&ip("209.160.24.191")));
    // Line 2484: Connection reset by 151.241.67.217 port 52258 [preauth]
    assert_eq!(str_of(line(&out, 2484), "event.action"), Some("ssh_connection_reset"));
    // Line 1016: Starting session: shell on pts/0 for ubuntu from 85.245.107.41 port 61663 id 0
    let e = line(&out, 1016);
    assert_eq!((str_of(e, "event.action"), str_of(e, "user.name")), (Some("ssh_session_start"), Some("ubuntu")));
    // Line 1073: Close session: user ubuntu from 85.245.107.41 port 63497 id 0
    assert_eq!(str_of(line(&out, 1073), "event.outcome"), Some("success"));
    // Line 1010: Connection from 85.245.107.41 port 61663 on 10.77.20.248 port 222
    let e = line(&out, 1010);
    assert_eq!(e.get("destination.ip"), Some(&ip("10.77.20.248")));
    assert_eq!(e.get_i64("destination.port"), Some(222));
    // Line 881: fatal: Unable to negotiate with 116.7.243.198 port 21303: ...
    assert_eq!(str_of(line(&out, 881), "event.action"), Some("ssh_negotiation_failed"));
    // Line 1647: Failed publickey for elastic_user_2 from 85.245.107.41 port 50690 ssh2: RSA SHA256:...
    let e = line(&out, 1647);
    assert_eq!((str_of(e, "ssh.method"), str_of(e, "event.outcome")), (Some("publickey"), Some("failure")));
}

#[test]
fn authlog_other_programs() {
    let Some(dir) = common::test_data("elastic-examples-auth-log") else { return };
    let out = decode_checked(&dir.join("auth.log"), &options_2017(), Format::Syslog);

    // Line 10: sudo:   ubuntu : TTY=pts/0 ; PWD=/home/ubuntu ; USER=root ; COMMAND=/usr/bin/curl -L -O https://...
    let e = line(&out, 10);
    assert_eq!(str_of(e, "process.name"), Some("sudo"));
    assert_eq!(e.get("process.pid"), None);
    assert_eq!(str_of(e, "event.action"), Some("sudo_command"));
    assert_eq!(str_of(e, "user.name"), Some("ubuntu"));
    assert_eq!(str_of(e, "user.target.name"), Some("root"));
    assert_eq!(str_of(e, "process.working_directory"), Some("/home/ubuntu"));
    assert!(str_of(e, "process.command_line").unwrap().starts_with("/usr/bin/curl -L -O https://artifacts.elastic.co/"));

    // Line 151: su[3537]: Successful su for root by root
    let e = line(&out, 151);
    assert_eq!((str_of(e, "event.action"), str_of(e, "event.outcome")), (Some("su"), Some("success")));

    // Line 9: systemd-logind[1118]: New session 1 of user ubuntu.
    let e = line(&out, 9);
    assert_eq!((str_of(e, "event.action"), str_of(e, "user.name")), (Some("session_created"), Some("ubuntu")));

    // Line 40: CRON[2623]: pam_unix(cron:session): session opened for user root by (uid=0)
    let e = line(&out, 40);
    assert_eq!(str_of(e, "process.name"), Some("CRON"));
    assert_eq!((str_of(e, "event.action"), str_of(e, "user.name")), (Some("session_opened"), Some("root")));
    assert_eq!(str_of(e, "pam.service"), Some("cron"));

    // Line 1504: useradd[750]: new user: name=elastic_user_0, UID=1001, ...
    let e = line(&out, 1504);
    assert_eq!((str_of(e, "event.action"), str_of(e, "user.target.name")), (Some("user_created"), Some("elastic_user_0")));
}

/// Every sshd line of both samples is recognised, except the `User child is on pid N`
/// debugging line, which carries nothing to act on.
#[test]
fn sshd_lines_all_recognised() {
    let Some(dir) = common::test_data("elastic-examples-auth-log") else { return };
    let Some(loghub) = common::test_data("loghub") else { return };
    for path in [dir.join("auth.log"), loghub.join("OpenSSH/OpenSSH_2k.log")] {
        let (out, _) = common::decode_file_with(&path, &options_2017());
        let unrecognised: Vec<&str> = out
            .events
            .iter()
            .filter(|e| str_of(e, "process.name") == Some("sshd") && e.get("event.action").is_none())
            .map(|e| str_of(e, "message").unwrap())
            .filter(|m| !m.starts_with("User child is on pid "))
            .collect();
        assert!(unrecognised.is_empty(), "{}: {:?}", path.display(), &unrecognised[..unrecognised.len().min(5)]);
    }
}

// ---- loghub OpenSSH --------------------------------------------------------------------------

#[test]
fn openssh_records_match_line_count() {
    let Some(dir) = common::test_data("loghub") else { return };
    let out = decode_checked(&dir.join("OpenSSH/OpenSSH_2k.log"), &options_2017(), Format::Syslog);
    assert_eq!(out.events.len(), 2000);
    assert!(out.errors.is_empty());
    let first = line(&out, 1);
    assert_eq!(str_of(first, "host.name"), Some("LabSZ"));
    assert_eq!(str_of(first, "event.action"), Some("ssh_break_in_attempt"));
    assert_eq!(first.get("source.ip"), Some(&ip("173.234.31.186")));
    assert_eq!(str_of(first, "source.domain"), Some("ns.marryaldkfaczcz.com"));
}

/// What each loghub template must decode to: action, outcome, and which template
/// placeholder (0-based) contains the user and the source address. `literal_user` is a user
/// name written in the template itself.
struct Expected {
    action: &'static str,
    outcome: &'static str,
    user: Option<usize>,
    address: Option<usize>,
    literal_user: Option<&'static str>,
}

fn expected_for(template: &str) -> Expected {
    let e = |action, outcome, user, address| Expected { action, outcome, user, address, literal_user: None };
    match template {
        "E1" => e("ssh_login", "success", Some(0), Some(1)),
        "E2" => e("ssh_connection_closed", "unknown", None, Some(0)),
        "E3" => e("ssh_no_identification", "unknown", None, Some(0)),
        "E4" => Expected { literal_user: Some("admin"), ..e("ssh_max_auth_exceeded", "failure", None, None) },
        "E5" => Expected { literal_user: Some("root"), ..e("ssh_max_auth_exceeded", "failure", None, None) },
        "E6" => e("ssh_disconnect", "unknown", None, Some(0)),
        "E7" => e("ssh_disconnect", "failure", None, Some(0)),
        "E8" | "E9" | "E10" => e("ssh_login", "failure", Some(0), Some(1)),
        "E11" => e("ssh_connection_reset", "unknown", None, None),
        "E12" => e("ssh_invalid_user", "failure", Some(0), None),
        "E13" => e("ssh_invalid_user", "failure", Some(0), Some(1)),
        "E14" => Expected { literal_user: Some("root"), ..e("ssh_login", "failure", None, Some(1)) },
        "E15" | "E16" => e("pam_auth_failure", "failure", None, Some(3)),
        "E17" => Expected { literal_user: Some("root"), ..e("pam_auth_failure", "failure", None, Some(3)) },
        "E18" => e("ssh_max_auth_exceeded", "failure", None, None),
        "E19" => e("pam_auth_failure", "failure", None, Some(2)),
        "E20" => e("pam_auth_failure", "failure", Some(3), Some(2)),
        "E21" => e("pam_user_unknown", "failure", None, None),
        "E22" => e("session_closed", "success", Some(0), None),
        "E23" => e("session_opened", "success", Some(0), None),
        "E24" | "E25" | "E26" => e("ssh_disconnect", "unknown", None, Some(0)),
        "E27" => e("ssh_break_in_attempt", "unknown", None, Some(1)),
        other => panic!("template {other} has no expectation"),
    }
}

/// Turns a loghub template into a regex: `<*>` captures, runs of spaces match one or more.
fn template_regex(template: &str) -> regex::Regex {
    let mut pattern = String::from("^");
    for (i, part) in template.split("<*>").enumerate() {
        if i > 0 {
            pattern.push_str("(.*?)");
        }
        for (j, words) in part.split(' ').enumerate() {
            if j > 0 {
                pattern.push_str(" +");
            }
            pattern.push_str(&regex::escape(words));
        }
    }
    pattern.push_str(" *$");
    regex::Regex::new(&pattern).unwrap()
}

/// The loghub `_structured.csv` assigns every line a template; each template's placeholders
/// give the user and address independently of our parser.
#[test]
fn openssh_templates_agree() {
    let Some(dir) = common::test_data("loghub") else { return };
    let dir = dir.join("OpenSSH");
    let out = decode_checked(&dir.join("OpenSSH_2k.log"), &options_2017(), Format::Syslog);
    let templates: BTreeMap<String, String> = std::fs::read_to_string(dir.join("OpenSSH_2k.log_templates.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (id, template) = l.split_once(',').unwrap();
            (id.to_string(), template.to_string())
        })
        .collect();
    let structured = std::fs::read_to_string(dir.join("OpenSSH_2k.log_structured.csv")).unwrap();
    let mut checked = BTreeMap::<String, usize>::new();

    for row in structured.lines().skip(1) {
        // LineId,Date,Day,Time,Component,Pid,Content,EventId,EventTemplate (no field is quoted).
        let columns: Vec<&str> = row.split(',').collect();
        assert_eq!(columns.len(), 9, "{row}");
        let (line_id, content, id) = (columns[0].parse::<u64>().unwrap(), columns[6], columns[7]);
        let captures = template_regex(&templates[id]).captures(content).unwrap_or_else(|| panic!("{id} does not match {content}"));
        let placeholder = |i: usize| captures.get(i + 1).unwrap().as_str().trim();
        let expected = expected_for(id);
        let event = line(&out, line_id);
        let context = format!("line {line_id} ({id}): {content}");

        assert_eq!(str_of(event, "event.action"), Some(expected.action), "{context}");
        assert_eq!(str_of(event, "event.outcome"), Some(expected.outcome), "{context}");
        if let Some(i) = expected.user {
            assert_eq!(event.get_str("user.name").map(str::trim), Some(placeholder(i)), "{context}");
        }
        if let Some(user) = expected.literal_user {
            assert_eq!(str_of(event, "user.name"), Some(user), "{context}");
        }
        if let Some(i) = expected.address {
            let address = placeholder(i);
            match address.parse::<IpAddr>() {
                Ok(addr) => assert_eq!(event.get("source.ip"), Some(&Value::Ip(addr)), "{context}"),
                Err(_) => assert_eq!(str_of(event, "source.domain"), Some(address), "{context}"),
            }
        }
        *checked.entry(id.to_string()).or_default() += 1;
    }
    assert_eq!(checked.len(), 27, "every template occurs");
    assert_eq!(checked.values().sum::<usize>(), 2000);
}

// ---- public bug reports, as hand-made inputs -------------------------------------------------

fn local(name: &str) -> Collect {
    let path = common::local_data(&format!("linux/{name}"));
    decode_checked(&path, &Options { year: Some(2024), ..Options::default() }, Format::Syslog)
}

/// OpenSSH's `Disconnecting invalid|authenticating user <u> <ip> port <p>: Too many
/// authentication failures` has no `from`; user, address and port must still be found.
#[test]
fn too_many_failures_without_from() {
    let out = local("sshd_too_many_failures.log");
    let expected = [("git", "203.0.113.10", 58410, true), ("root", "203.0.113.11", 60158, false), ("bob", "2001:db8::10", 60200, true)];
    for (event, (user, address, port, invalid)) in out.events.iter().zip(expected) {
        assert_eq!(str_of(event, "event.action"), Some("ssh_max_auth_exceeded"));
        assert_eq!(str_of(event, "event.outcome"), Some("failure"));
        assert_eq!(str_of(event, "user.name"), Some(user));
        assert_eq!(event.get("source.ip"), Some(&ip(address)));
        assert_eq!(event.get_i64("source.port"), Some(port));
        assert_eq!(event.get("ssh.invalid_user").is_some(), invalid);
        assert_eq!(event.get("ssh.preauth"), Some(&Value::Bool(true)));
    }
    assert_eq!(out.events.len(), 3);
}

/// `Connection closed/reset by ...` with and without `[preauth]` and a user: all parsed, with
/// an outcome distinct from a failed password.
#[test]
fn connection_closed_variants() {
    let out = local("sshd_connection_closed.log");
    assert_eq!(out.events.len(), 14);
    for event in &out.events[..10] {
        assert_eq!(str_of(event, "event.action"), Some("ssh_connection_closed"));
        assert_eq!(str_of(event, "event.outcome"), Some("unknown"));
        assert_eq!(event.get("source.ip"), Some(&ip("203.0.113.30")));
        assert_eq!(event.get("ssh.preauth"), Some(&Value::Bool(true)));
    }
    let reset = &out.events[10];
    assert_eq!(str_of(reset, "event.action"), Some("ssh_connection_reset"));
    assert_eq!(reset.get_i64("source.port"), Some(34490));
    assert_eq!(reset.get("ssh.preauth"), None);

    let authenticating = &out.events[11];
    assert_eq!(str_of(authenticating, "user.name"), Some("alice"));
    assert_eq!(authenticating.get("source.ip"), Some(&ip("203.0.113.32")));
    assert_eq!(authenticating.get_i64("source.port"), Some(54114));

    let invalid = &out.events[12];
    assert_eq!(str_of(invalid, "user.name"), Some("bob"));
    assert_eq!(invalid.get("ssh.invalid_user"), Some(&Value::Bool(true)));
    assert_eq!(invalid.get("source.ip"), Some(&ip("2001:db8::32")));
    assert_eq!(str_of(invalid, "event.outcome"), Some("unknown"));

    let reset_user = &out.events[13];
    assert_eq!((str_of(reset_user, "event.action"), str_of(reset_user, "user.name")), (Some("ssh_connection_reset"), Some("alice")));
}

/// OpenSSH 9.8+ logs per-connection work as `sshd-session`; syslog and journald give the
/// same failed login.
#[test]
fn sshd_session_program() {
    let out = local("sshd_session.log");
    let failed = &out.events[0];
    assert_eq!(str_of(failed, "process.name"), Some("sshd-session"));
    assert_eq!((str_of(failed, "event.action"), str_of(failed, "event.outcome")), (Some("ssh_login"), Some("failure")));
    assert_eq!(str_of(failed, "user.name"), Some("bob"));
    assert_eq!(failed.get("ssh.invalid_user"), Some(&Value::Bool(true)));
    assert_eq!(failed.get("source.ip"), Some(&ip("198.51.100.9")));
    assert_eq!(failed.get_i64("source.port"), Some(2222));

    let accepted = &out.events[1];
    assert_eq!(str_of(accepted, "event.outcome"), Some("success"));
    assert_eq!(str_of(accepted, "ssh.key.type"), Some("ED25519"));
    let session = &out.events[2];
    assert_eq!((str_of(session, "event.action"), str_of(session, "user.name")), (Some("session_opened"), Some("alice")));

    let journal = common::local_data("linux/journal_export.json");
    let (out, _) = common::decode_file(&journal);
    let entry = &out.events[0];
    assert_eq!(entry.timestamp.unwrap().to_string(), "2024-07-11T16:19:20.123456Z");
    assert_eq!(str_of(entry, "process.name"), Some("sshd-session"));
    assert_eq!((str_of(entry, "event.action"), str_of(entry, "event.outcome")), (Some("ssh_login"), Some("failure")));
    assert_eq!(str_of(entry, "user.name"), Some("bob"));
    assert_eq!(entry.get("source.ip"), Some(&ip("198.51.100.9")));
}

/// The line sshd writes at the end of a normal session is a success, never a failure; a
/// refused user is a failure.
#[test]
fn close_session_is_not_failure() {
    let out = local("sshd_close_session.log");
    assert_eq!(out.events.len(), 21);
    for event in &out.events[..20] {
        assert_eq!(str_of(event, "event.action"), Some("ssh_session_close"));
        assert_eq!(str_of(event, "event.outcome"), Some("success"));
        assert_eq!(str_of(event, "user.name"), Some("deploy"));
    }
    let refused = &out.events[20];
    assert_eq!((str_of(refused, "event.action"), str_of(refused, "event.outcome")), (Some("ssh_user_not_allowed"), Some("failure")));
    assert_eq!(str_of(refused, "user.name"), Some("root"));
    assert_eq!(refused.get("source.ip"), Some(&ip("192.0.2.51")));
}

/// Copies a hand-made log to a temporary file with the given modification time.
fn with_mtime(name: &str, mtime: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(common::local_data(&format!("linux/{name}")), &path).unwrap();
    let time: DateTime<Utc> = mtime.parse().unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(time.timestamp() as u64)).unwrap();
    (dir, path)
}

fn times(out: &Collect) -> Vec<String> {
    out.events.iter().map(|e| e.timestamp.unwrap().to_string()).collect()
}

#[test]
fn year_rolls_over_in_one_pass() {
    let (_dir, path) = with_mtime("year_rollover.log", "2025-01-02T09:00:00Z");
    let out = decode_checked(&path, &Options::default(), Format::Syslog);
    assert_eq!(
        times(&out),
        ["2024-12-30T23:00:00Z", "2024-12-31T23:59:58Z", "2025-01-01T00:00:01Z", "2025-01-01T00:10:00Z", "2025-01-02T08:00:00Z"]
    );
    assert!(out.events.iter().all(|e| e.timestamp.unwrap().precision == Precision::Seconds));
}

#[test]
fn year_from_option() {
    let path = common::local_data("linux/year_rollover.log");
    let out = decode_checked(&path, &Options { year: Some(2019), ..Options::default() }, Format::Syslog);
    assert_eq!(times(&out)[0], "2019-12-30T23:00:00Z");
    assert_eq!(times(&out)[4], "2020-01-02T08:00:00Z");
}

#[test]
fn feb_29_from_mtime() {
    let (_dir, path) = with_mtime("feb29.log", "2025-03-01T06:00:00Z");
    let out = decode_checked(&path, &Options::default(), Format::Syslog);
    assert_eq!(times(&out), ["2024-02-29T12:00:00Z", "2024-02-29T23:59:59Z", "2024-03-01T00:00:00Z"]);
}

#[test]
fn time_zone_option() {
    let path = common::local_data("linux/year_rollover.log");
    let options = Options { year: Some(2024), timezone: "America/New_York".parse().unwrap(), ..Options::default() };
    let out = decode_checked(&path, &options, Format::Syslog);
    assert_eq!(times(&out)[0], "2024-12-31T04:00:00Z");
    assert_eq!(times(&out)[2], "2025-01-01T05:00:01Z");
}

/// A single message received through CloudWatch Logs takes the year closest to its receive
/// time.
#[test]
fn cloudwatch_message_year() {
    let cases = [
        ("2025-01-01T00:00:05Z", "Dec 31 23:59:58 web-01 sshd[1]: Connection closed by 192.0.2.1 port 1 [preauth]", "2024-12-31T23:59:58Z"),
        ("2024-12-31T23:59:59Z", "Jan  1 00:00:01 web-01 sshd[1]: Connection closed by 192.0.2.1 port 1 [preauth]", "2025-01-01T00:00:01Z"),
        ("2025-03-01T00:00:00Z", "Feb 29 12:00:00 web-01 sshd[1]: Connection closed by 192.0.2.1 port 1 [preauth]", "2024-02-29T12:00:00Z"),
    ];
    for (received, text, expected) in cases {
        let event = parse_message(text, Some(received));
        assert_eq!(event.timestamp.unwrap().to_string(), expected, "{text}");
    }
}

fn parse_message(text: &str, received: Option<&str>) -> Event {
    let options = Options::default();
    let mut out = Collect::default();
    let mut stats = FileStats::default();
    let ctx = Context::new(SourceRef::new("cloudwatch"), &options, &mut stats, &mut out);
    let received = received.map(|r| Timestamp::new(r.parse().unwrap(), Precision::Millis));
    let evidence = Evidence::new(ctx.source.clone()).with_index(0);
    decode::syslog::parse_message(text, evidence, received, &ctx).unwrap()
}

/// Shippers that strip the syslog header leave `sshd[pid]: message` or the bare message.
#[test]
fn cloudwatch_bare_sshd_message() {
    let e = parse_message("Failed password for invalid user bob from 198.51.100.9 port 2222 ssh2", None);
    assert_eq!((str_of(&e, "event.action"), str_of(&e, "user.name")), (Some("ssh_login"), Some("bob")));
    assert_eq!(e.get("source.ip"), Some(&ip("198.51.100.9")));
    assert_eq!(e.timestamp, None);

    let e = parse_message("sshd-session[77]: Accepted password for alice from 192.0.2.8 port 4000 ssh2", None);
    assert_eq!(str_of(&e, "process.name"), Some("sshd-session"));
    assert_eq!(e.get_i64("process.pid"), Some(77));
    assert_eq!(str_of(&e, "event.outcome"), Some("success"));

    let e = parse_message("error: maximum authentication attempts exceeded for root from 192.0.2.8 port 4001 ssh2 [preauth]", None);
    assert_eq!(str_of(&e, "event.action"), Some("ssh_max_auth_exceeded"));
    assert_eq!(e.get("process.name"), None);

    let e = parse_message("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5  user=root", None);
    assert_eq!((str_of(&e, "event.action"), str_of(&e, "user.name")), (Some("pam_auth_failure"), Some("root")));

    let e = parse_message("some application text", None);
    assert_eq!(str_of(&e, "message"), Some("some application text"));
    assert_eq!(e.get("event.action"), None);
}

/// `[...]` is structured data only in RFC 5424 and only with valid syntax. Hostnames may be
/// IPv6, and lines without `<PRI>` parse.
#[test]
fn syslog_header_variants() {
    let out = local("syslog_headers.log");
    assert_eq!(out.events.len(), 6);

    let e = &out.events[0];
    assert_eq!(str_of(e, "message"), Some("[job 42] started"));
    assert_eq!(e.get_i64("log.syslog.facility.code"), Some(1));
    assert_eq!(e.get_i64("log.syslog.severity.code"), Some(5));
    assert!(e.fields().iter().all(|f| !f.name.starts_with("log.syslog.structured_data")));

    let e = &out.events[1];
    assert_eq!(str_of(e, "log.syslog.structured_data.ex@32473.k"), Some("v"));
    assert_eq!(str_of(e, "message"), Some("hello"));
    assert_eq!(str_of(e, "log.syslog.appname"), Some("app"));
    assert_eq!(e.timestamp.unwrap().to_string(), "2019-02-13T19:48:34Z");

    let e = &out.events[2];
    assert_eq!(str_of(e, "host.name"), Some("::ffff:192.0.2.116"));
    assert_eq!(str_of(e, "message"), Some("hi"));
    assert_eq!(e.timestamp.unwrap().precision, Precision::Millis);

    let e = &out.events[3];
    assert_eq!((str_of(e, "user.name"), str_of(e, "event.outcome")), (Some("alice"), Some("success")));

    let e = &out.events[4];
    assert_eq!(str_of(e, "host.name"), Some("2001:db8::5"));
    assert_eq!(str_of(e, "log.syslog.msgid"), Some("AUTH"));
    assert_eq!(str_of(e, "log.syslog.structured_data.origin.ip"), Some("2001:db8::5"));
    assert_eq!(str_of(e, "log.syslog.structured_data.meta.sequenceId"), Some("7"));
    assert_eq!(e.get("source.ip"), Some(&ip("2001:db8::99")));
    assert_eq!(e.timestamp.unwrap().to_string(), "2024-05-01T10:00:00.123456Z");

    let e = &out.events[5];
    assert_eq!(e.timestamp.unwrap().to_string(), "2024-05-01T08:00:01.500000Z");
    assert_eq!((str_of(e, "event.action"), str_of(e, "user.name")), (Some("ssh_invalid_user"), Some("git")));
}

#[test]
fn syslog_ecs_document() {
    let out = local("sshd_session.log");
    let doc = out.events[0].to_ecs();
    assert_eq!(doc["source"]["ip"], "198.51.100.9");
    assert_eq!(doc["user"]["name"], "bob");
    assert_eq!(doc["log"]["syslog"]["appname"], "sshd-session");
    assert_eq!(doc["related"]["ip"], "198.51.100.9");
    assert!(doc["event"]["original"].as_str().unwrap().contains("sshd-session[998915]"));
}

// ---- journald ---------------------------------------------------------------------------------

/// No public journald export sample exists; journal_export.json was written by hand from the
/// `journalctl -o json` format.
#[test]
fn journald_export_fields() {
    let path = common::local_data("linux/journal_export.json");
    let (out, stats) = common::decode_file(&path);
    let data = std::fs::read(&path).unwrap();
    assert_eq!(stats[0].format, Some(Format::Journald));
    assert_eq!(stats[0].records, count_lines(&data));
    // 8 lines: 6 entries, one empty line, one truncated entry.
    assert_eq!(out.events.len(), 6);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(stats[0].skipped.get("empty line"), Some(&1));

    let e = &out.events[0];
    assert_eq!(str_of(e, "host.name"), Some("web-01"));
    assert_eq!(str_of(e, "_HOSTNAME"), Some("web-01"));
    assert_eq!(e.get_i64("process.pid"), Some(998915));
    assert_eq!(str_of(e, "process.executable"), Some("/usr/libexec/openssh/sshd-session"));
    assert_eq!(str_of(e, "systemd.unit"), Some("ssh.service"));
    assert_eq!(str_of(e, "message"), Some("Failed password for invalid user bob from 198.51.100.9 port 2222 ssh2"));
    assert_eq!(e.get_i64("log.syslog.severity.code"), Some(6));

    // _COMM only, and an IPv6 client.
    let e = &out.events[1];
    assert_eq!((str_of(e, "event.outcome"), str_of(e, "user.name")), (Some("success"), Some("alice")));
    assert_eq!(e.get("source.ip"), Some(&ip("2001:db8::20")));

    let e = &out.events[2];
    assert_eq!((str_of(e, "event.action"), str_of(e, "user.target.name")), (Some("sudo_command"), Some("root")));

    // MESSAGE as a byte array (not UTF-8).
    assert_eq!(str_of(&out.events[3], "message"), Some("hello \u{fffd}world"));

    // A socket-activated sshd unit marks the entry as sshd.
    let e = &out.events[4];
    assert_eq!(str_of(e, "event.action"), Some("ssh_connection_closed"));
    assert_eq!(e.get("source.ip"), Some(&ip("203.0.113.50")));

    // A bad timestamp leaves the time unset; the entry is kept.
    assert_eq!(out.events[5].timestamp, None);

    let doc = out.events[0].to_ecs();
    assert_eq!(doc["host"]["name"], "web-01");
    assert_eq!(doc["journald"]["_SYSTEMD_UNIT"], "ssh.service");
    assert_eq!(doc["@timestamp"], "2024-07-11T16:19:20.123456Z");
}

// ---- auditd -----------------------------------------------------------------------------------

/// Counts the distinct `audit(time:serial)` stamps of a raw audit log, independently of the
/// decoder.
fn audit_stamps(text: &str) -> usize {
    let stamp = regex::Regex::new(r"msg=audit\((\d+\.\d+:\d+)\)").unwrap();
    text.lines().filter_map(|l| stamp.captures(l)).map(|c| c[1].to_string()).collect::<HashSet<_>>().len()
}

#[test]
fn auditd_libaudit_logs_counts() {
    let Some(dir) = common::test_data("go-libaudit-testdata") else { return };
    let mut files = 0;
    for entry in std::fs::read_dir(dir.join("auparse/testdata")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "log") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let out = decode_checked(&path, &Options::default(), Format::Auditd);
        // audit-rhel7.log contains `type=UNKNOWN[1329] msg=?`, a record without a stamp,
        // which is reported rather than joined.
        let stampless = text.lines().filter(|l| !l.contains("msg=audit(")).count();
        assert_eq!(out.errors.len(), stampless, "{}: {:?}", path.display(), out.errors);
        assert_eq!(out.events.len(), audit_stamps(&text), "{}: events", path.display());
        files += 1;
    }
    assert_eq!(files, 5);
}

#[test]
fn auditd_libaudit_fields() {
    let Some(dir) = common::test_data("go-libaudit-testdata") else { return };
    let out = decode_checked(&dir.join("auparse/testdata/test3.log"), &Options::default(), Format::Auditd);
    // Records of serial 194435 are interleaved with others: SYSCALL on line 1, PROCTITLE on line 4.
    let e = out.events.iter().find(|e| e.get_i64("event.sequence") == Some(194435)).unwrap();
    assert_eq!(e.get("type"), Some(&Value::List(vec!["SYSCALL".into(), "PROCTITLE".into()])));
    assert_eq!(str_of(e, "process.title"), Some("sshd: burn [priv]"));
    assert_eq!(str_of(e, "process.executable"), Some("/usr/sbin/sshd"));
    assert_eq!(e.get_i64("process.pid"), Some(1281));
    assert_eq!(e.get_i64("process.parent.pid"), Some(1271));
    assert_eq!(str_of(e, "user.audit.id"), Some("1000"));
    assert_eq!(e.timestamp.unwrap().to_string(), "2016-01-03T00:37:51.394Z");

    let out = decode_checked(&dir.join("auparse/testdata/audit-rhel7.log"), &Options::default(), Format::Auditd);
    // EXECVE of serial 479: argc=7 a0="auditctl" a1="-a" a2="exit,always" ...
    let e = out.events.iter().find(|e| e.get_i64("event.sequence") == Some(479)).unwrap();
    assert_eq!(str_of(e, "process.command_line"), Some("auditctl -a exit,always -F arch=b32 -S execve"));
    assert_eq!(e.get_i64("process.args_count"), Some(7));
    assert_eq!(str_of(e, "cwd"), Some("/home/andrew_kroh"));
    // CWD of serial 1208725 is hex-encoded: 2F746D702F6120622063 is "/tmp/a b c".
    let e = out.events.iter().find(|e| e.get_i64("event.sequence") == Some(1208725)).unwrap();
    assert_eq!(str_of(e, "process.working_directory"), Some("/tmp/a b c"));
}

/// The aucoalesce test files contain raw multi-record events as YAML strings. Each decodes
/// to as many events as it has distinct stamps, with one record per line.
#[test]
fn auditd_aucoalesce_events() {
    let Some(dir) = common::test_data("go-libaudit-testdata") else { return };
    let mut cases = 0;
    for entry in std::fs::read_dir(dir.join("aucoalesce/testdata")).unwrap() {
        let path = entry.unwrap().path();
        let yaml: yaml_serde::Value = yaml_serde::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let tests = yaml.get("tests").and_then(|t| t.as_mapping()).unwrap();
        for (name, value) in tests {
            let text = value.as_str().unwrap();
            let name = format!("{}: {}", path.display(), name.as_str().unwrap_or("?"));
            let mut out = Collect::default();
            let stats = decode_bytes_input(&name, text.as_bytes(), &Options::default(), &mut out);
            assert_eq!(stats[0].format, Some(Format::Auditd), "{name}");
            assert_eq!(stats[0].records, text.lines().filter(|l| l.starts_with("type=")).count() as u64, "{name}");
            assert!(out.errors.is_empty(), "{name}: {:?}", out.errors);
            assert_eq!(out.events.len(), audit_stamps(text), "{name}");
            cases += 1;
        }
    }
    assert_eq!(cases, 31);
}

#[test]
fn auditd_otrf_arp_cache() {
    let Some(dir) = common::test_data("otrf-security-datasets") else { return };
    let path = dir.join("datasets/atomic/linux/discovery/host/sh_arp_cache.zip");

    let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut text = String::new();
    archive.by_index(0).unwrap().read_to_string(&mut text).unwrap();

    let (out, stats) = common::decode_file(&path);
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].format, Some(Format::Auditd));
    assert_eq!(stats[0].records, count_lines(text.as_bytes()));
    assert_eq!(out.events.len(), audit_stamps(&text));
    assert!(out.errors.is_empty());

    let e = out.events.iter().find(|e| e.get_i64("event.sequence") == Some(92733)).unwrap();
    assert_eq!(str_of(e, "process.command_line"), Some("arp -a"));
    assert_eq!(str_of(e, "SYSCALL"), Some("execve"));
    assert_eq!(str_of(e, "process.name"), Some("arp"));
    assert_eq!(str_of(e, "process.executable"), Some("/usr/sbin/arp"));
    assert_eq!(str_of(e, "process.working_directory"), Some("/home/wardog"));
    assert_eq!(str_of(e, "user.id"), Some("1000"));
    assert_eq!(e.get_i64("process.parent.pid"), Some(29002));
    assert_eq!(e.get("file.path"), Some(&Value::List(vec!["/usr/sbin/arp".into(), "/lib64/ld-linux-x86-64.so.2".into()])));
    assert_eq!(e.timestamp.unwrap().to_string(), "2020-11-10T07:48:16.155Z");
}

/// Hand-made: two interleaved execve events, an EOE, a line that is not a record, and a
/// user-space record with a nested `msg='...'`.
#[test]
fn auditd_interleaved_join() {
    let path = common::local_data("linux/audit_interleaved.log");
    let out = decode_checked(&path, &Options::default(), Format::Auditd);
    assert_eq!(out.events.len(), 3);
    assert_eq!(out.errors.len(), 1);

    let python = out.events.iter().find(|e| e.get_i64("event.sequence") == Some(500)).unwrap();
    assert_eq!(str_of(python, "process.command_line"), Some("python3 -c import os; os.system('id')"));
    assert_eq!(str_of(python, "process.working_directory"), Some("/home/alice/my dir"));
    assert_eq!(str_of(python, "process.title"), Some("python3 -c"));
    assert_eq!(python.get("tags"), Some(&Value::List(vec!["exec".into()])));
    assert_eq!(python.evidence.line, Some(1));

    let missing = out.events.iter().find(|e| e.get_i64("event.sequence") == Some(501)).unwrap();
    assert_eq!(str_of(missing, "event.outcome"), Some("failure"));
    assert_eq!(str_of(missing, "process.command_line"), Some("missing-tool"));

    let login = out.events.iter().find(|e| e.get_i64("event.sequence") == Some(600)).unwrap();
    assert_eq!(str_of(login, "user.name"), Some("bob"));
    assert_eq!(str_of(login, "event.outcome"), Some("failure"));
    assert_eq!(login.get("source.ip"), Some(&ip("203.0.113.60")));

    let doc = python.to_ecs();
    assert_eq!(doc["process"]["executable"], "/usr/bin/python3.11");
    assert_eq!(doc["auditd"]["exe"], "/usr/bin/python3.11");
}

#[test]
fn auditd_single_record() {
    let source = SourceRef::new("cloudwatch");
    let text = "type=EXECVE msg=audit(1604994496.155:92733): argc=2 a0=\"arp\" a1=\"-a\"";
    let event = decode::auditd::parse_single_record(text, Evidence::new(source).with_index(3)).unwrap();
    assert_eq!(str_of(&event, "process.command_line"), Some("arp -a"));
    assert_eq!(event.evidence.index, Some(3));
    assert!(decode::auditd::parse_single_record("nothing", Evidence::new(SourceRef::new("x"))).is_err());
}
