//! Grouping and the review report over a public sample: the Elastic example auth.log (one
//! host, SSH password guessing from many addresses over three weeks).
//!
//! The detection runtime is not part of this crate, so the test builds the alerts itself:
//! one per source address, covering all its "Failed password" lines, as a brute-force rule
//! would. The year is not in the log; 2026 is assumed.

#[path = "../../store/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use sha2::Digest;
use tocsin_incident::grouping::{GroupContext, GroupingConfig, record_and_group};
use tocsin_incident::inventory::Inventory;
use tocsin_incident::policy::Policy;
use tocsin_incident::report;
use tocsin_store::{AlertRecord, Entity, StoreOptions};

use crate::common::TestStore;

const HOST: &str = "ip-10-77-20-248";

struct Failure {
    line: usize,
    at: DateTime<Utc>,
    user: String,
    ip: String,
}

fn failures(text: &str) -> Vec<Failure> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some(rest) = line.split_once("Failed password for ").map(|(_, r)| r) else { continue };
        let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
        let Some((user, after)) = rest.split_once(" from ") else { continue };
        let ip = after.split(' ').next().unwrap_or_default();
        let at = NaiveDateTime::parse_from_str(&format!("2026 {}", &line[..15]), "%Y %b %e %H:%M:%S").unwrap().and_utc();
        out.push(Failure { line: index + 1, at, user: user.to_string(), ip: ip.to_string() });
    }
    out
}

fn alerts(failures: &[Failure]) -> Vec<AlertRecord> {
    let mut by_ip: BTreeMap<&str, Vec<&Failure>> = BTreeMap::new();
    for failure in failures {
        by_ip.entry(&failure.ip).or_default().push(failure);
    }
    let mut alerts: Vec<AlertRecord> = by_ip
        .into_iter()
        .map(|(ip, lines)| {
            let mut entities = vec![Entity::new("host.name", HOST), Entity::new("source.ip", ip)];
            entities.extend(lines.iter().map(|f| Entity::new("user.name", f.user.as_str())));
            AlertRecord::new(
                "ssh-password-guessing",
                "SSH password guessing",
                "medium",
                vec!["attack.credential_access".into(), "attack.t1110".into()],
                entities,
                lines.iter().map(|f| format!("auth.log:{}", f.line)).collect(),
                lines.iter().map(|f| f.at).min().unwrap(),
                lines.iter().map(|f| f.at).max().unwrap(),
                lines.len() as i64,
            )
        })
        .collect();
    alerts.sort_by_key(|a| (a.first_seen, a.id.clone()));
    alerts
}

/// Incidents a 24 h window must give on one host: a new one after each gap longer than the
/// window between an alert's start and the latest end seen so far.
fn expected_incidents(alerts: &[AlertRecord], window: Duration) -> usize {
    let mut count = 0;
    let mut latest_end: Option<DateTime<Utc>> = None;
    for alert in alerts {
        if latest_end.is_none_or(|end| alert.first_seen - window > end) {
            count += 1;
            latest_end = Some(alert.last_seen);
        } else {
            latest_end = latest_end.max(Some(alert.last_seen));
        }
    }
    count
}

both_backends!(auth_log_groups_and_reports, StoreOptions::default(), async |test: TestStore| {
    let Some(path) = tocsin_testdata::test_data("elastic-examples-auth-log/auth.log") else { return };
    let text = std::fs::read_to_string(&path).unwrap();
    let failures = failures(&text);
    // Independent count: lines containing the phrase (grep -c "Failed password" gives 713).
    assert_eq!(failures.len(), text.matches("Failed password for ").count());
    assert_eq!(failures.len(), 713);
    let alerts = alerts(&failures);

    let inventory = Inventory::from_yaml(
        &format!("assets:\n  - name: {HOST}\n    role: pci-server\n    data_classes: [pci]\n    criticality: high\n"),
        "test",
    )
    .unwrap();
    let config = GroupingConfig::default();
    let policy = Policy::default_policy();
    let context = GroupContext { config: &config, policy: &policy, inventory: &inventory, origin: "hunt", now: Utc::now() };
    let outcome = record_and_group(&test.store, "hunt", &alerts, &context).await.unwrap();

    assert_eq!(outcome.recorded.new.len(), alerts.len());
    let expected = expected_incidents(&alerts, Duration::hours(24));
    assert_eq!(outcome.opened().len(), expected);
    for placement in &outcome.placements {
        let known = placement.reason == "opened by rule ssh-password-guessing" || placement.reason == format!("joined because host.name {HOST} matched");
        assert!(known, "unexpected reason {:?}", placement.reason);
    }
    let incidents = test.store.incidents(&Default::default()).await.unwrap();
    assert_eq!(incidents.iter().map(|i| i.alert_count).sum::<i64>(), alerts.len() as i64);
    // medium (2) + criticality high (+1) + PCI data (+1) = 4: high, on every incident.
    assert!(incidents.iter().all(|i| i.severity == "high"), "{:?}", incidents.iter().map(|i| &i.severity).collect::<Vec<_>>());

    // A second run over the same log adds nothing.
    let again = record_and_group(&test.store, "hunt", &alerts, &context).await.unwrap();
    assert!(again.recorded.new.is_empty());
    assert!(again.opened().is_empty());

    let mut tx = test.store.begin_write("alice").await.unwrap();
    let item = tx.add_evidence_file(1, &path, "web-1:/var/log/auth.log").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(item.sha256, hex::encode(sha2::Sha256::digest(text.as_bytes())));

    let html = report::render(&test.store, 1, report::ReportFormat::Html).await.unwrap();
    assert!(html.contains(&item.sha256));
    assert!(html.contains("time to detect (log age: read after the fact)"));
    assert!(html.contains("SSH password guessing [medium]"));
    let first = test.store.incident(1).await.unwrap();
    let alert_rows = html.matches("SSH password guessing [medium]").count();
    assert_eq!(alert_rows as i64, first.alert_count);
});
