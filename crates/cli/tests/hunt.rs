//! `tocsin hunt` on the public samples: the attacks the built-in rules must find, checked
//! against counts made independently in the test, and the benign sets that must stay quiet.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDateTime;
use regex::Regex;
use tocsin_testdata::test_data;

fn tocsin(data_home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tocsin"));
    command
        .env_remove("TOCSIN_CONFIG")
        .env_remove("TOCSIN_STORE")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("XDG_DATA_HOME", data_home)
        .env("USER", "analyst");
    command
}

fn alerts(output: &Output) -> Vec<serde_json::Value> {
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "hunt failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).lines().map(|line| serde_json::from_str(line).expect("JSON line")).collect()
}

fn hunt_json(paths: &[PathBuf], extra: &[&str]) -> Vec<serde_json::Value> {
    let home = tempfile::tempdir().unwrap();
    let output = tocsin(home.path()).args(["hunt", "--no-store", "--format", "json"]).args(extra).args(paths).output().unwrap();
    alerts(&output)
}

fn titled<'a>(alerts: &'a [serde_json::Value], title: &str) -> Vec<&'a serde_json::Value> {
    alerts.iter().filter(|a| a["rule"]["title"] == title).collect()
}

fn entity_values(alerts: &[&serde_json::Value], field: &str) -> BTreeSet<String> {
    alerts
        .iter()
        .flat_map(|a| a["entities"][field].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Source addresses with five or more failed SSH logins within five minutes, counted straight
/// from the text with a regular expression (independent of tocsin's decoder and engine).
/// "message repeated N times: [ Failed ... ]" counts N times, as rsyslog means it.
fn brute_force_sources(log: &Path) -> BTreeSet<String> {
    let failed = Regex::new(r"^(\w{3} +\d+ \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: (?:message repeated (\d+) times: \[ )?Failed \S+ for (?:invalid user )?.*? from (\S+) port \d+").unwrap();
    let mut times: BTreeMap<String, Vec<NaiveDateTime>> = BTreeMap::new();
    for line in std::fs::read_to_string(log).unwrap().lines() {
        let Some(found) = failed.captures(line) else { continue };
        let stamp = format!("2000 {}", found[1].split_whitespace().collect::<Vec<_>>().join(" "));
        let time = NaiveDateTime::parse_from_str(&stamp, "%Y %b %d %H:%M:%S").unwrap();
        let repeats: usize = found.get(2).map_or(1, |n| n.as_str().parse().unwrap());
        times.entry(found[3].to_string()).or_default().extend(std::iter::repeat_n(time, repeats));
    }

    let mut sources = BTreeSet::new();
    for (source, mut list) in times {
        list.sort();
        let burst = list.windows(5).any(|w| w[4] - w[0] <= chrono::Duration::minutes(5));
        if burst {
            sources.insert(source);
        }
    }
    sources
}

#[test]
fn ssh_brute_force_elastic_auth_log() {
    let Some(dir) = test_data("elastic-examples-auth-log") else { return };
    let log = dir.join("auth.log");
    let expected = brute_force_sources(&log);
    assert!(expected.len() >= 10, "the sample holds many attackers: {expected:?}");

    let alerts = hunt_json(std::slice::from_ref(&log), &["--year", "2017"]);
    let found = entity_values(&titled(&alerts, "SSH Brute Force"), "source.ip");
    assert_eq!(found, expected);
}

#[test]
fn ssh_brute_force_loghub_openssh() {
    let Some(dir) = test_data("loghub/OpenSSH") else { return };
    let log = dir.join("OpenSSH_2k.log");
    let expected = brute_force_sources(&log);
    assert!(expected.contains("183.62.140.253"), "{expected:?}");

    let alerts = hunt_json(std::slice::from_ref(&log), &[]);
    let found = entity_values(&titled(&alerts, "SSH Brute Force"), "source.ip");
    assert_eq!(found, expected);
}

#[test]
fn windows_openssh_brute_force() {
    let Some(dir) = test_data("evtx-to-mitre-attack/TA0006-Credential Access/T1110.xxx-Brut force") else { return };
    let file = dir.join("ID4-OpenSSH brutforce with non existing users (sshd logs).evtx");

    let alerts = hunt_json(&[file], &[]);
    let brute = titled(&alerts, "SSH Brute Force");
    assert_eq!(brute.len(), 1, "{alerts:#?}");
    assert_eq!(entity_values(&brute, "source.ip"), BTreeSet::from(["10.23.23.9".to_string()]));
    assert_eq!(entity_values(&brute, "user.name"), BTreeSet::from(["hacker".to_string()]));
    assert_eq!(titled(&alerts, "SSH Client Exceeded Maximum Authentication Attempts").len(), 1);
}

/// Returns the sbousseaden files whose Sysmon events show winpwnage run by
/// `C:\Python27\python.exe`.
fn winpwnage_files(dir: &Path) -> Vec<PathBuf> {
    let index = std::fs::read_to_string(dir.join("INDEX.csv")).unwrap();
    index
        .lines()
        .filter(|line| line.ends_with(",yes"))
        .map(|line| dir.join(line.split(',').next().unwrap().trim_matches('"')))
        .collect()
}

#[test]
fn unfamiliar_python_then_learned() {
    let Some(sbousseaden) = test_data("sbousseaden-evtx-attack-samples") else { return };
    let Some(otrf) = test_data("otrf-security-datasets/datasets/atomic/windows/execution/host/psh_python_webserver.zip") else { return };
    let mut inputs = winpwnage_files(&sbousseaden);
    assert_eq!(inputs.len(), 11);
    inputs.push(otrf);

    let home = tempfile::tempdir().unwrap();
    let hunt = |home: &Path| {
        let output = tocsin(home).args(["hunt", "--format", "json"]).args(&inputs).output().unwrap();
        let alerts = alerts(&output);
        alerts.into_iter().filter(|a| a["rule"]["title"] == "Unfamiliar Python Script").collect::<Vec<_>>()
    };

    let before = hunt(home.path());
    let hosts: BTreeSet<String> = before.iter().flat_map(|a| entity_values(&[a], "host.name")).collect();
    assert_eq!(hosts, BTreeSet::from(["IEWIN7".to_string(), "WORKSTATION5".to_string()]));
    let executables: BTreeSet<String> = before.iter().flat_map(|a| entity_values(&[a], "process.executable")).collect();
    assert!(executables.contains("C:\\Python27\\python.exe"), "{executables:?}");
    assert!(before.iter().all(|a| a["rule"]["level"] == "low"), "no baseline on these hosts: every script starts at low");

    let learn = tocsin(home.path()).args(["baseline", "learn"]).args(&inputs).output().unwrap();
    assert_eq!(learn.status.code(), Some(0), "{}", String::from_utf8_lossy(&learn.stderr));
    let list = tocsin(home.path()).args(["baseline", "list", "--host", "iewin7"]).output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("script:winpwnage.py"), "{}", String::from_utf8_lossy(&list.stdout));

    let after = hunt(home.path());
    assert!(after.is_empty(), "learned scripts still alert: {after:#?}");
}

#[test]
fn benign_application_log_is_quiet() {
    let Some(dir) = test_data("deepbluecli/evtx") else { return };
    let alerts = hunt_json(&[dir.join("many-events-application.evtx")], &[]);
    assert!(alerts.is_empty(), "alerts on a benign Application log: {alerts:#?}");
}

#[test]
fn benign_audit_logs_are_quiet() {
    let Some(dir) = test_data("go-libaudit-testdata/auparse/testdata") else { return };
    let alerts = hunt_json(&[dir], &[]);
    assert!(alerts.is_empty(), "alerts on benign audit logs: {alerts:#?}");
}

#[test]
fn second_hunt_records_nothing_new() {
    let Some(dir) = test_data("loghub/OpenSSH") else { return };
    let log = dir.join("OpenSSH_2k.log");
    let home = tempfile::tempdir().unwrap();

    let first = tocsin(home.path()).args(["hunt", "--format", "json"]).arg(&log).output().unwrap();
    let first_alerts = alerts(&first);
    let stderr = String::from_utf8_lossy(&first.stderr);
    let recorded = Regex::new(r"store: (\d+) new alerts recorded, (\d+) already known").unwrap();
    let counts = recorded.captures(&stderr).unwrap_or_else(|| panic!("no store line: {stderr}"));
    assert_eq!(counts[1].parse::<usize>().unwrap(), first_alerts.len());
    assert_eq!(&counts[2], "0");

    let second = tocsin(home.path()).args(["hunt", "--format", "json"]).arg(&log).output().unwrap();
    let second_alerts = alerts(&second);
    let stderr = String::from_utf8_lossy(&second.stderr);
    let counts = recorded.captures(&stderr).unwrap_or_else(|| panic!("no store line: {stderr}"));
    assert_eq!(&counts[1], "0");
    assert_eq!(counts[2].parse::<usize>().unwrap(), second_alerts.len());
    assert!(stderr.contains("incidents opened: none"), "{stderr}");

    let ids = |alerts: &[serde_json::Value]| alerts.iter().map(|a| a["id"].as_str().unwrap().to_string()).collect::<BTreeSet<_>>();
    assert_eq!(ids(&first_alerts), ids(&second_alerts), "alert ids are stable across runs");
}

#[test]
fn fail_on_sets_exit_status() {
    let Some(dir) = test_data("loghub/OpenSSH") else { return };
    let home = tempfile::tempdir().unwrap();
    let log = dir.join("OpenSSH_2k.log");

    let medium = tocsin(home.path()).args(["hunt", "--no-store", "--format", "json", "--fail-on", "medium"]).arg(&log).output().unwrap();
    assert_eq!(medium.status.code(), Some(1));
    let critical = tocsin(home.path()).args(["hunt", "--no-store", "--format", "json", "--fail-on", "critical"]).arg(&log).output().unwrap();
    assert_eq!(critical.status.code(), Some(0));
}

/// A rule that cannot load is named on stderr, the hunt runs with the others, and the exit
/// status shows that some input was not read.
#[test]
fn rejected_rule_sets_exit_status() {
    let home = tempfile::tempdir().unwrap();
    let rules = home.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("bad.yml"),
        "title: Bad\nlogsource: { product: linux }\ndetection:\n  selection:\n    CommandLine|nosuchmod: x\n  condition: selection\n",
    )
    .unwrap();
    let log = home.path().join("auth.log");
    std::fs::write(&log, "Nov 14 10:00:00 web-01 sshd[42]: Failed password for alice from 198.51.100.9 port 50000 ssh2\n").unwrap();

    let output = tocsin(home.path()).args(["hunt", "--no-store", "--format", "json", "--rules"]).arg(&rules).arg(&log).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("bad.yml"), "{stderr}");
    assert!(stderr.contains("nosuchmod"), "{stderr}");

    let clean = tocsin(home.path()).args(["hunt", "--no-store", "--format", "json"]).arg(&log).output().unwrap();
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stderr));
}

#[test]
fn suppression_marks_alerts() {
    let Some(dir) = test_data("loghub/OpenSSH") else { return };
    let home = tempfile::tempdir().unwrap();
    let suppressions = home.path().join("suppress.yml");
    std::fs::write(
        &suppressions,
        "suppressions:\n  - rule: \"*\"\n    entity: source.ip=183.62.140.0/24\n    expires: 2999-12-31\n    reason: test scanner\n",
    )
    .unwrap();

    let alerts = hunt_json(&[dir.join("OpenSSH_2k.log")], &["--suppress", suppressions.to_str().unwrap()]);
    let suppressed: Vec<_> = alerts.iter().filter(|a| a["suppressed_by"].is_string()).collect();
    assert!(!suppressed.is_empty());
    for alert in &suppressed {
        assert!(entity_values(&[alert], "source.ip").iter().any(|ip| ip.starts_with("183.62.140.")));
        assert!(alert["suppressed_by"].as_str().unwrap().contains("test scanner"));
    }
}

#[test]
fn attack_layer_lists_techniques() {
    let Some(dir) = test_data("loghub/OpenSSH") else { return };
    let home = tempfile::tempdir().unwrap();
    let layer = home.path().join("layer.json");
    let output = tocsin(home.path())
        .args(["hunt", "--no-store", "--format", "json", "--attack-layer"])
        .arg(&layer)
        .arg(dir.join("OpenSSH_2k.log"))
        .output()
        .unwrap();
    alerts(&output);

    let layer: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&layer).unwrap()).unwrap();
    let techniques: BTreeSet<&str> = layer["techniques"].as_array().unwrap().iter().filter_map(|t| t["techniqueID"].as_str()).collect();
    assert!(techniques.contains("T1110.001"), "{techniques:?}");
    assert_eq!(layer["domain"], "enterprise-attack");
}

/// The incidents a hunt over the SSH, Python and CloudTrail samples opens, and the severity
/// the default policy gives them when the SSH host is the PCI server of the inventory.
#[test]
fn hunt_opens_incidents_with_asset_severity() {
    let Some(auth) = test_data("elastic-examples-auth-log/auth.log") else { return };
    let Some(sbousseaden) = test_data("sbousseaden-evtx-attack-samples") else { return };
    let Some(stratus) = test_data("stratus-red-team-detonation-logs") else { return };
    let home = tempfile::tempdir().unwrap();
    let inventory = home.path().join("inventory.yml");
    std::fs::write(
        &inventory,
        "assets:\n  - name: payments\n    hostnames: [ip-10-77-20-248]\n    role: pci-server\n    data_classes: [pci, pii]\n    criticality: critical\n",
    )
    .unwrap();

    let mut inputs = vec![auth, stratus];
    inputs.extend(winpwnage_files(&sbousseaden));
    let output = tocsin(home.path()).args(["hunt", "--format", "json", "--year", "2017", "--inventory"]).arg(&inventory).args(&inputs).output().unwrap();
    alerts(&output);

    let list = tocsin(home.path()).args(["incident", "list", "--format", "json"]).output().unwrap();
    assert_eq!(list.status.code(), Some(0), "{}", String::from_utf8_lossy(&list.stderr));
    let incidents: Vec<serde_json::Value> =
        String::from_utf8_lossy(&list.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(!incidents.is_empty());

    // Each incident with the titles and entities of its alerts, read back with `incident show`.
    let show = |id: &serde_json::Value| -> serde_json::Value {
        let output = tocsin(home.path()).args(["incident", "show", "--format", "json", &id.to_string()]).output().unwrap();
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let shown: Vec<serde_json::Value> = incidents.iter().map(|i| show(&i["id"])).collect();
    let has_alert = |incident: &serde_json::Value, needle: &str| {
        incident["alerts"].as_array().unwrap().iter().any(|a| a["alert"].to_string().contains(needle))
    };

    let pci: Vec<_> = shown.iter().filter(|i| has_alert(i, "ip-10-77-20-248")).collect();
    let python: Vec<_> = shown.iter().filter(|i| has_alert(i, "Unfamiliar Python Script")).collect();
    let cloud: Vec<_> = shown.iter().filter(|i| has_alert(i, "christophe")).collect();
    assert!(!pci.is_empty(), "no incident on the PCI server: {incidents:#?}");
    assert!(!python.is_empty(), "no unfamiliar-Python incident: {incidents:#?}");
    assert!(!cloud.is_empty(), "no CloudTrail incident: {incidents:#?}");

    for incident in &pci {
        let severity = incident["incident"]["severity"].as_str().unwrap_or_default();
        assert!(matches!(severity, "high" | "critical"), "an attack on the PCI server ranks high or critical: {:#}", incident["incident"]);
    }
    for incident in &python {
        assert_ne!(incident["incident"]["severity"], "critical", "the Python hosts are not in the inventory: {:#}", incident["incident"]);
    }
}

/// Hand-made inputs (placeholder values, written from the documented formats: no public
/// sample of these exists) for the sources the SSH and Python rules must also cover.
mod hand_made {
    use super::*;

    fn hunt_file(name: &str, content: &str) -> Vec<serde_json::Value> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        hunt_json(&[path], &[])
    }

    /// Six failed passwords from 203.0.113.7 within a minute, in `journalctl -o json` form.
    #[test]
    fn journald_ssh_brute_force() {
        let mut export = String::new();
        for i in 0..6u64 {
            let micros = 1_700_000_000_000_000u64 + i * 5_000_000;
            export.push_str(&format!(
                "{{\"__CURSOR\":\"s=1;i={i}\",\"__REALTIME_TIMESTAMP\":\"{micros}\",\"_HOSTNAME\":\"web-01\",\"SYSLOG_IDENTIFIER\":\"sshd\",\"_COMM\":\"sshd\",\"_PID\":\"4242\",\"PRIORITY\":\"6\",\"MESSAGE\":\"Failed password for root from 203.0.113.7 port {} ssh2\"}}\n",
                40000 + i
            ));
        }

        let alerts = hunt_file("journal.json", &export);
        let brute = titled(&alerts, "SSH Brute Force");
        assert_eq!(brute.len(), 1, "{alerts:#?}");
        assert_eq!(entity_values(&brute, "source.ip"), BTreeSet::from(["203.0.113.7".to_string()]));
        assert_eq!(entity_values(&brute, "host.name"), BTreeSet::from(["web-01".to_string()]));
    }

    /// The same attack as auth.log lines shipped by the CloudWatch agent, in the decoded
    /// subscription payload that a CloudWatch Logs subscription delivers.
    #[test]
    fn cloudwatch_shipped_ssh_brute_force() {
        let events: Vec<String> = (0..6u64)
            .map(|i| {
                format!(
                    "{{\"id\":\"{i}\",\"timestamp\":{},\"message\":\"Nov 14 22:13:{:02} web-01 sshd[4242]: Failed password for invalid user admin from 198.51.100.23 port {} ssh2\"}}",
                    1_700_000_000_000u64 + i * 1000,
                    20 + i,
                    50000 + i
                )
            })
            .collect();
        let payload = format!(
            "{{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"111122223333\",\"logGroup\":\"/var/log/secure\",\"logStream\":\"i-0abc12345def67890\",\"subscriptionFilters\":[\"ssh\"],\"logEvents\":[{}]}}\n",
            events.join(",")
        );

        let alerts = hunt_file("subscription.json", &payload);
        let brute = titled(&alerts, "SSH Brute Force");
        assert_eq!(brute.len(), 1, "{alerts:#?}");
        assert_eq!(entity_values(&brute, "source.ip"), BTreeSet::from(["198.51.100.23".to_string()]));
    }

    /// Five failed passwords and then a login from one address fire "SSH Login After Failed
    /// Attempts" with all six lines as evidence. One mistyped password before a login does not.
    #[test]
    fn login_after_five_failures() {
        let mut lines: Vec<String> = (0..5)
            .map(|i| format!("Nov 14 10:00:{:02} web-01 sshd[42{i}]: Failed password for alice from 198.51.100.9 port {} ssh2", i * 10, 50000 + i))
            .collect();
        lines.push("Nov 14 10:00:01 web-01 sshd[500]: Failed password for bob from 192.0.2.1 port 40000 ssh2".into());
        lines.push("Nov 14 10:00:45 web-01 sshd[501]: Accepted password for bob from 192.0.2.1 port 40001 ssh2".into());
        lines.push("Nov 14 10:20:00 web-01 sshd[502]: Accepted password for alice from 198.51.100.9 port 50010 ssh2".into());
        lines.sort();

        let alerts = hunt_file("auth.log", &(lines.join("\n") + "\n"));
        let login = titled(&alerts, "SSH Login After Failed Attempts");
        assert_eq!(login.len(), 1, "{alerts:#?}");
        assert_eq!(entity_values(&login, "source.ip"), BTreeSet::from(["198.51.100.9".to_string()]));
        assert_eq!(login[0]["event_count"], 6);
        assert_eq!(login[0]["evidence"].as_array().unwrap().len(), 6);
    }

    /// A Python script run from /tmp, as auditd records it (SYSCALL, EXECVE, CWD, EOE).
    #[test]
    fn auditd_unfamiliar_python() {
        let log = "\
node=web-01 type=SYSCALL msg=audit(1700000000.123:501): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=1000 pid=1001 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"python3\" exe=\"/usr/bin/python3.11\" key=\"exec\"
node=web-01 type=EXECVE msg=audit(1700000000.123:501): argc=2 a0=\"python3\" a1=\"/tmp/.cache/stage2.py\"
node=web-01 type=CWD msg=audit(1700000000.123:501): cwd=\"/home/alice\"
node=web-01 type=EOE msg=audit(1700000000.123:501):
";
        let alerts = hunt_file("audit.log", log);
        let python = titled(&alerts, "Unfamiliar Python Script");
        assert_eq!(python.len(), 1, "{alerts:#?}");
        assert_eq!(python[0]["rule"]["level"], "medium", "low without a baseline, raised once for the /tmp script");
        assert_eq!(entity_values(&python, "host.name"), BTreeSet::from(["web-01".to_string()]));
        assert_eq!(entity_values(&python, "process.executable"), BTreeSet::from(["/usr/bin/python3.11".to_string()]));
    }
}
