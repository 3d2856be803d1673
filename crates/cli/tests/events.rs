//! `tocsin events` run as a user runs it: the real binary, real files, exit statuses.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn tocsin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tocsin"));
    command.env_remove("TOCSIN_CONFIG").env("XDG_CONFIG_HOME", "/nonexistent");
    command
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("invalid JSON line {line:?}: {e}")))
        .collect()
}

#[test]
fn missing_path_exits_2() {
    let output = tocsin().args(["events", "/nonexistent/auth.log"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/auth.log does not exist"), "stderr: {stderr}");
}

#[test]
fn unknown_timezone_exits_2() {
    let output = tocsin().args(["events", "--timezone", "Mars/Olympus"]).arg(samples()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown time zone \"Mars/Olympus\""));
}

#[test]
fn invalid_config_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[decode]\nyaer = 2024\n").unwrap();
    let output = tocsin().arg("--config").arg(&config).arg("events").arg(samples()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid configuration file"), "stderr: {stderr}");
    assert!(stderr.contains("yaer"), "stderr: {stderr}");
}

#[test]
fn samples_decode_without_errors() {
    let output = tocsin().args(["events", "--stats"]).arg(samples()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");

    let events = json_lines(&output);
    let auth_lines = std::fs::read(samples().join("linux/auth.log")).unwrap().iter().filter(|b| **b == b'\n').count();
    let auth_events = events
        .iter()
        .filter(|e| e["log"]["file"]["path"].as_str().is_some_and(|p| p.ends_with("auth.log")))
        .count();
    assert_eq!(auth_events, auth_lines);

    for schema in ["windows", "syslog", "auditd", "cloudtrail", "vpcflow"] {
        assert!(events.iter().any(|e| e["tocsin"]["schema"] == schema), "no {schema} event in the samples");
    }
    assert!(stderr.contains("format"), "--stats prints a per-format table: {stderr}");
}

#[test]
fn stdin_is_decoded() {
    let mut child = tocsin()
        .args(["events", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = "Mar 27 13:06:56 web-01 sshd[5191]: Failed password for invalid user alice from 203.0.113.7 port 40312 ssh2\n";
    child.stdin.take().unwrap().write_all(line.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));

    let events = json_lines(&output);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["source"]["ip"], "203.0.113.7");
    assert_eq!(events[0]["user"]["name"], "alice");
    assert_eq!(events[0]["log"]["file"]["path"], "-");
}

#[test]
fn named_junk_file_exits_3_and_others_decode() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 159, 146, 150, 7, 1, 2, 3]).unwrap();
    let flows = samples().join("aws/vpcflow/accepted-rejected.log");

    let output = tocsin().arg("events").arg(&junk).arg(&flows).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("junk.bin: unrecognised format"), "stderr: {stderr}");
    assert_eq!(json_lines(&output).len(), 2, "the flow log named next to the junk file still decodes");
}

#[test]
fn unrecognised_file_in_folder_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.txt"), "notes about this case\n").unwrap();
    std::fs::copy(samples().join("aws/vpcflow/accepted-rejected.log"), dir.path().join("flows.log")).unwrap();

    let output = tocsin().arg("events").arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1 file in the given folders skipped: format not recognised"), "stderr: {stderr}");
    assert_eq!(json_lines(&output).len(), 2);
}

#[test]
fn table_escapes_terminal_controls() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let line = "Mar 27 13:06:56 web-01 sshd[5191]: Failed password for bob\x1b[2J from 203.0.113.7 port 22 ssh2\n";
    std::fs::write(&log, line).unwrap();

    let output = tocsin().args(["events", "--format", "table"]).arg(&log).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains('\x1b'), "raw escape reached the terminal: {stdout:?}");
    assert!(stdout.contains("\\u{1b}[2J"), "stdout: {stdout}");
}

#[test]
fn csv_has_header_and_one_row_per_event() {
    let log = samples().join("aws/vpcflow/accepted-rejected.log");
    let json = tocsin().arg("events").arg(&log).output().unwrap();
    let csv = tocsin().args(["events", "--format", "csv"]).arg(&log).output().unwrap();
    assert_eq!(csv.status.code(), Some(0));

    let mut reader = csv::Reader::from_reader(&csv.stdout[..]);
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "@timestamp");
    assert_eq!(reader.records().count(), json_lines(&json).len());
}
