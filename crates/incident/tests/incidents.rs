//! Grouping, lifecycle, classification, metrics, timeline and report on both backends.

#[path = "../../store/tests/common/mod.rs"]
mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use tocsin_incident::classify::{ClassifyRequest, classify_incident};
use tocsin_incident::grouping::{GroupContext, GroupingConfig, ManualReport, NonGrouping, open_manual, record_and_group};
use tocsin_incident::inventory::Inventory;
use tocsin_incident::lifecycle::{Actor, Role, State, move_incident};
use tocsin_incident::policy::{Policy, Severity};
use tocsin_incident::{IncidentError, metrics, report, timeline};
use tocsin_store::{AlertRecord, Entity, Store, StoreOptions};

use crate::common::TestStore;

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, minute, 0).unwrap()
}

fn alert(rule: &str, level: &str, entities: &[(&str, &str)], evidence: &str, seen: DateTime<Utc>) -> AlertRecord {
    AlertRecord::new(
        rule,
        &format!("{rule} title"),
        level,
        vec!["attack.credential_access".to_string()],
        entities.iter().map(|(f, v)| Entity::new(*f, *v)).collect(),
        vec![evidence.to_string()],
        seen,
        seen + Duration::minutes(1),
        1,
    )
}

fn inventory() -> Inventory {
    Inventory::from_yaml(
        "assets:\n  - name: pay-db-1\n    ips: [10.0.2.15]\n    role: pci-server\n    data_classes: [pci, pii]\n    criticality: high\n",
        "test inventory",
    )
    .unwrap()
}

struct Setup {
    config: GroupingConfig,
    policy: Policy,
    inventory: Inventory,
}

impl Setup {
    fn new() -> Setup {
        Setup { config: GroupingConfig::default(), policy: Policy::default_policy(), inventory: inventory() }
    }

    fn context(&self) -> GroupContext<'_> {
        GroupContext { config: &self.config, policy: &self.policy, inventory: &self.inventory, origin: "detection", now: at(20, 0, 0) }
    }
}

async fn group(store: &Store, setup: &Setup, alerts: &[AlertRecord]) -> tocsin_incident::grouping::GroupOutcome {
    record_and_group(store, "detect", alerts, &setup.context()).await.unwrap()
}

fn actor(name: &str, roles: &[Role]) -> Actor {
    Actor { name: name.to_string(), roles: roles.to_vec() }
}

both_backends!(shared_entity_joins, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    let a = alert("ssh-brute", "medium", &[("host.name", "web-1"), ("source.ip", "203.0.113.7")], "auth.log:1", at(14, 10, 0));
    let b = alert("ssh-login", "high", &[("host.name", "web-2"), ("source.ip", "203.0.113.7")], "auth.log:9", at(14, 11, 0));
    let outcome = group(&test.store, &setup, &[a.clone(), b.clone()]).await;
    assert_eq!(outcome.recorded.new.len(), 2);
    assert_eq!(outcome.opened(), vec![1]);
    assert_eq!(outcome.placements[0].reason, "opened by rule ssh-brute");
    assert_eq!(outcome.placements[1].incident_id, 1);
    assert_eq!(outcome.placements[1].reason, "joined because source.ip 203.0.113.7 matched");

    let incident = test.store.incident(1).await.unwrap();
    assert_eq!(incident.alert_count, 2);
    assert_eq!(incident.state, "identified");
    assert_eq!(incident.first_event_at, Some(at(14, 10, 0)));
    // The high alert raised the computed severity of the still unclassified incident.
    assert_eq!(incident.severity, "high");
    let alerts = test.store.incident_alerts(1).await.unwrap();
    assert_eq!(alerts[1].1, "joined because source.ip 203.0.113.7 matched");
});

both_backends!(window_expires, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    let a = alert("ssh-brute", "medium", &[("source.ip", "203.0.113.7")], "auth.log:1", at(14, 10, 0));
    let late = alert("ssh-brute", "medium", &[("source.ip", "203.0.113.7")], "auth.log:500", at(16, 10, 0));
    let inside = alert("ssh-brute", "medium", &[("source.ip", "203.0.113.7")], "auth.log:90", at(15, 9, 0));
    let outcome = group(&test.store, &setup, &[a, inside, late]).await;
    let ids: Vec<i64> = outcome.placements.iter().map(|p| p.incident_id).collect();
    // The second alert starts 23 h after the first ends; the third 25 h after the second.
    assert_eq!(ids, vec![1, 1, 2]);
});

both_backends!(non_grouping_entities_ignored, StoreOptions::default(), async |test: TestStore| {
    let mut setup = Setup::new();
    setup.config.non_grouping.push(NonGrouping { field: "source.ip".into(), values: vec!["198.51.100.1".into()] });
    let a = alert("r1", "low", &[("user.name", "SYSTEM"), ("source.ip", "198.51.100.1"), ("host.name", "a")], "x:1", at(14, 1, 0));
    let b = alert("r2", "low", &[("user.name", "SYSTEM"), ("source.ip", "198.51.100.1"), ("host.name", "b")], "x:2", at(14, 2, 0));
    let c = alert("r3", "low", &[("cloud.account.id", "111122223333")], "x:3", at(14, 3, 0));
    let d = alert("r4", "low", &[("cloud.account.id", "111122223333")], "x:4", at(14, 4, 0));
    let outcome = group(&test.store, &setup, &[a, b, c, d]).await;
    assert_eq!(outcome.opened(), vec![1, 2, 3, 4]);
});

both_backends!(alert_joins_most_recent_only, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    let on_host = alert("r1", "low", &[("host.name", "web-1")], "x:1", at(14, 1, 0));
    let from_ip = alert("r2", "low", &[("source.ip", "203.0.113.9")], "x:2", at(14, 2, 0));
    let both = alert("r3", "low", &[("host.name", "web-1"), ("source.ip", "203.0.113.9")], "x:3", at(14, 3, 0));
    let outcome = group(&test.store, &setup, &[on_host, from_ip, both]).await;
    assert_eq!(outcome.opened(), vec![1, 2]);
    // Incident 2's alert is the later one, so the bridging alert joins it, and incident 1
    // stays apart.
    assert_eq!(outcome.placements[2].incident_id, 2);
    assert_eq!(outcome.placements[2].reason, "joined because source.ip 203.0.113.9 matched");
    assert_eq!(test.store.incident(1).await.unwrap().alert_count, 1);
    assert_eq!(test.store.incident(2).await.unwrap().alert_count, 2);
});

both_backends!(repeats_raise_count, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    let first = alert("ssh-brute", "medium", &[("source.ip", "203.0.113.7")], "auth.log:1", at(14, 1, 0));
    let repeat = alert("ssh-brute", "medium", &[("source.ip", "203.0.113.7")], "auth.log:2", at(14, 2, 0));
    group(&test.store, &setup, std::slice::from_ref(&first)).await;
    let again = group(&test.store, &setup, &[first.clone(), repeat]).await;
    assert_eq!(again.recorded.known, vec![first.id.clone()]);
    assert!(again.placements[0].already_linked);
    assert!(again.opened().is_empty());
    assert_eq!(test.store.incident(1).await.unwrap().alert_count, 2);
    assert_eq!(test.store.incidents(&Default::default()).await.unwrap().len(), 1);
});

both_backends!(grouping_deterministic, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    let alerts: Vec<AlertRecord> = (0..12)
        .map(|i| {
            let ip = format!("203.0.113.{}", i % 3);
            let host = format!("web-{}", i % 4);
            alert("r", "low", &[("host.name", host.as_str()), ("source.ip", ip.as_str())], &format!("x:{i}"), at(14, 1, i))
        })
        .collect();
    let first = group(&test.store, &setup, &alerts).await.placements;
    // The same input into an empty store of the same backend gives the same placements.
    let second = if test.is_sqlite() {
        let other = common::sqlite(StoreOptions::default()).await;
        group(&other.store, &setup, &alerts).await.placements
    } else {
        let other = common::postgres(StoreOptions::default()).await.unwrap();
        group(&other.store, &setup, &alerts).await.placements
    };
    assert_eq!(first, second);
});

both_backends!(closed_incidents_not_joined, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    group(&test.store, &setup, &[alert("r", "low", &[("host.name", "web-1")], "x:1", at(14, 1, 0))]).await;
    let security = actor("alice", &[Role::Security]);
    move_incident(&test.store, &security, 1, State::FalsePositive, None, Some("scanner")).await.unwrap();
    let outcome = group(&test.store, &setup, &[alert("r", "low", &[("host.name", "web-1")], "x:2", at(14, 2, 0))]).await;
    assert_eq!(outcome.opened(), vec![2]);
});

both_backends!(lifecycle_full_path, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    group(&test.store, &setup, &[alert("r", "high", &[("host.name", "pay-db-1")], "x:1", at(14, 1, 0))]).await;
    let security = actor("alice", &[Role::Security]);
    let it = actor("bob", &[Role::It]);
    let management = actor("carol", &[Role::Management]);
    let steps = [
        (&security, State::Classified),
        (&security, State::Responding),
        (&it, State::Investigating),
        (&it, State::Recovering),
        (&management, State::InReview),
        (&management, State::Closed),
        (&management, State::Reopened),
        (&security, State::Classified),
    ];
    for (who, to) in steps {
        let t = move_incident(&test.store, who, 1, to, None, None).await.unwrap_or_else(|e| panic!("{who:?} → {to}: {e}"));
        assert_eq!(t.actor, who.name);
    }
    let transitions = test.store.transitions(1).await.unwrap();
    assert_eq!(transitions.len(), 9);
    assert_eq!(transitions[3].from_state.as_deref(), Some("responding"));
    assert_eq!(transitions[3].to_state, "investigating");
    assert_eq!(transitions[3].actor, "bob");
});

both_backends!(illegal_moves_name_rule, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    group(&test.store, &setup, &[alert("r", "low", &[("host.name", "web-1")], "x:1", at(14, 1, 0))]).await;
    let security = actor("alice", &[Role::Security]);
    let it = actor("bob", &[Role::It]);

    let error = move_incident(&test.store, &it, 1, State::Investigating, None, None).await.unwrap_err();
    assert!(matches!(error, IncidentError::IllegalTransition { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        "cannot move incident 1 from identified to investigating: the lifecycle allows identified → classified or false positive only"
    );

    let error = move_incident(&test.store, &it, 1, State::Classified, None, None).await.unwrap_err();
    assert!(matches!(error, IncidentError::WrongRole { .. }), "{error}");
    assert_eq!(error.to_string(), "bob cannot move incident 1 to classified: only the security role moves an incident to classified, and bob has roles IT");

    move_incident(&test.store, &security, 1, State::Classified, None, None).await.unwrap();
    move_incident(&test.store, &security, 1, State::Responding, None, None).await.unwrap();
    let error = move_incident(&test.store, &security, 1, State::Investigating, None, None).await.unwrap_err();
    assert!(error.to_string().contains("only the IT role moves an incident to investigating"), "{error}");

    move_incident(&test.store, &it, 1, State::Investigating, None, None).await.unwrap();
    let error = move_incident(&test.store, &security, 1, State::FalsePositive, None, None).await.unwrap_err();
    assert!(error.to_string().contains("the lifecycle allows investigating → recovering only"), "{error}");

    let nobody = actor("mallory", &[]);
    let error = move_incident(&test.store, &nobody, 1, State::Recovering, None, None).await.unwrap_err();
    assert!(error.to_string().ends_with("and mallory has no roles"), "{error}");
    // Nothing rejected reached the store.
    assert_eq!(test.store.incident(1).await.unwrap().state, "investigating");
    assert_eq!(test.store.transitions(1).await.unwrap().len(), 4);
});

both_backends!(roles_loaded_from_store, StoreOptions::default(), async |test: TestStore| {
    test.store.set_user("admin", "alice", &["security".into(), "unknown-role".into()]).await.unwrap();
    let alice = Actor::load(&test.store, "alice").await.unwrap();
    assert_eq!(alice.roles, vec![Role::Security]);
    assert!(Actor::load(&test.store, "zed").await.unwrap().roles.is_empty());
});

both_backends!(classification_override_keeps_computed, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    group(&test.store, &setup, &[alert("r", "medium", &[("source.ip", "10.0.2.15")], "x:1", at(14, 1, 0))]).await;
    let incident = test.store.incident(1).await.unwrap();
    // medium (2) + high criticality (+1) + PCI/PII data (+1) = 4: high.
    assert_eq!(incident.computed_severity, "high");
    let security = actor("alice", &[Role::Security]);
    let it = actor("bob", &[Role::It]);

    let request = ClassifyRequest { severity: Some(Severity::Critical), ..Default::default() };
    let error = classify_incident(&test.store, &security, 1, &setup.policy, &setup.inventory, &request).await.unwrap_err();
    assert!(error.to_string().contains("needs a reason"), "{error}");
    let error = classify_incident(&test.store, &it, 1, &setup.policy, &setup.inventory, &ClassifyRequest::default()).await.unwrap_err();
    assert!(error.to_string().contains("needs the security role"), "{error}");

    let request = ClassifyRequest {
        severity: Some(Severity::Critical),
        reason: Some("card data confirmed on the host".into()),
        recoverability: Some("extended".into()),
        ..Default::default()
    };
    let row = classify_incident(&test.store, &security, 1, &setup.policy, &setup.inventory, &request).await.unwrap();
    assert_eq!(row.state, "classified");
    assert_eq!(row.severity, "critical");
    assert_eq!(row.computed_severity, "high");
    assert_eq!(row.severity_override_reason.as_deref(), Some("card data confirmed on the host"));
    assert_eq!(row.category.as_deref(), Some("unauthorized-access"));
    assert_eq!(row.information_impact.as_deref(), Some("privacy-breach"));
    assert_eq!(row.functional_impact.as_deref(), Some("medium"));
    assert_eq!(row.recoverability.as_deref(), Some("extended"));
    assert_eq!(row.classification["decision"]["by"], "alice");
    assert_eq!(row.classification["computed"]["severity"], "high");

    let bad = ClassifyRequest { functional_impact: Some("huge".into()), ..Default::default() };
    let error = classify_incident(&test.store, &security, 1, &setup.policy, &setup.inventory, &bad).await.unwrap_err();
    assert!(error.to_string().contains("none, low, medium, high"), "{error}");
});

both_backends!(manual_report_opens_incident, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    let report = ManualReport {
        title: "Phishing mail opened by alice".into(),
        description: "reported by phone".into(),
        reported_by: "helpdesk".into(),
        level: String::new(),
        entities: vec![Entity::new("user.name", "alice"), Entity::new("host.name", "pay-db-1")],
        first_event_at: None,
    };
    let id = open_manual(&test.store, "helpdesk", &report, &setup.policy, &setup.inventory).await.unwrap();
    let incident = test.store.incident(id).await.unwrap();
    assert_eq!(incident.origin, "report");
    assert_eq!(incident.reported_by.as_deref(), Some("helpdesk"));
    assert_eq!(incident.severity, "high");
    let observables = test.store.observables(id).await.unwrap();
    assert_eq!(observables.len(), 2);
    assert_eq!(observables[0].kind, "user");
    // A manual incident classifies from the assessment it was opened with.
    let security = actor("alice", &[Role::Security]);
    let row = classify_incident(&test.store, &security, id, &setup.policy, &setup.inventory, &ClassifyRequest::default()).await.unwrap();
    assert_eq!(row.computed_severity, "high");
});

/// Runs an incident through the lifecycle at fixed times: identified 00:00 on the 20th.
async fn worked_incident(test: &TestStore, setup: &Setup) {
    group(&test.store, setup, &[alert("r", "high", &[("host.name", "web-1")], "x:1", at(19, 22, 0))]).await;
    let security = actor("alice", &[Role::Security]);
    let it = actor("bob", &[Role::It]);
    let management = actor("carol", &[Role::Management]);
    move_incident(&test.store, &security, 1, State::Classified, Some(at(20, 0, 10)), None).await.unwrap();
    move_incident(&test.store, &security, 1, State::Responding, Some(at(20, 0, 20)), None).await.unwrap();
    let mut tx = test.store.begin_write("alice").await.unwrap();
    let action = tx.add_action(1, "isolate-instance", "i-0abc", true).await.unwrap();
    tx.set_action_result(action, "succeeded", Some(at(20, 0, 45)), &serde_json::json!({"security_group": "sg-quarantine"})).await.unwrap();
    tx.add_note(1, "<script>alert(1)</script> seen in the web log").await.unwrap();
    tx.add_lesson(1, tocsin_incident::report::LESSONS_QUESTIONS[0], "Password spraying from one address.").await.unwrap();
    tx.add_action_item(1, "Enforce MFA on the VPN", Some("carol"), Some(at(27, 0, 0))).await.unwrap();
    tx.commit().await.unwrap();
    move_incident(&test.store, &it, 1, State::Investigating, Some(at(20, 1, 0)), None).await.unwrap();
    move_incident(&test.store, &it, 1, State::Recovering, Some(at(20, 3, 0)), None).await.unwrap();
    move_incident(&test.store, &management, 1, State::InReview, Some(at(20, 5, 0)), None).await.unwrap();
}

both_backends!(incident_metrics_measured, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    worked_incident(&test, &setup).await;
    let m = metrics::incident_metrics(&test.store, 1).await.unwrap();
    assert_eq!(m.time_to_detect, Some(2 * 3600));
    assert!(!m.detect_is_log_age);
    assert_eq!(m.time_to_acknowledge, Some(10 * 60));
    assert_eq!(m.time_to_contain, Some(45 * 60));
    assert_eq!(m.contain_basis, Some("containment action"));
    assert_eq!(m.time_to_recover, Some(5 * 3600));

    // A second incident, contained only by moving to investigating after 1 h.
    let setup2 = Setup::new();
    group(&test.store, &setup2, &[alert("r", "low", &[("host.name", "web-2")], "y:1", at(19, 23, 0))]).await;
    let security = actor("alice", &[Role::Security]);
    let it = actor("bob", &[Role::It]);
    move_incident(&test.store, &security, 2, State::Classified, Some(at(20, 0, 30)), None).await.unwrap();
    move_incident(&test.store, &security, 2, State::Responding, Some(at(20, 0, 40)), None).await.unwrap();
    move_incident(&test.store, &it, 2, State::Investigating, Some(at(20, 1, 0)), None).await.unwrap();
    let m2 = metrics::incident_metrics(&test.store, 2).await.unwrap();
    assert_eq!(m2.contain_basis, Some("investigating"));
    assert_eq!(m2.time_to_contain, Some(3600));
    assert_eq!(m2.time_to_recover, None);

    let period = metrics::period_metrics(&test.store, at(19, 0, 0), at(21, 0, 0)).await.unwrap();
    assert_eq!(period.incidents, 2);
    assert_eq!(period.median_time_to_detect, Some(1.5 * 3600.0));
    assert_eq!(period.median_time_to_acknowledge, Some(20.0 * 60.0));
    assert_eq!(period.median_time_to_contain, Some((45.0 * 60.0 + 3600.0) / 2.0));
    assert_eq!(period.median_time_to_recover, Some(5.0 * 3600.0));
    assert_eq!(period.time_to_recover_count, 1);
    let empty = metrics::period_metrics(&test.store, at(1, 0, 0), at(2, 0, 0)).await.unwrap();
    assert_eq!(empty.incidents, 0);
    assert_eq!(empty.median_time_to_detect, None);
});

both_backends!(timeline_ordered, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    worked_incident(&test, &setup).await;
    let entries = timeline::timeline(&test.store, 1).await.unwrap();
    let times: Vec<_> = entries.iter().map(|e| e.at).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert_eq!(entries[0].kind, timeline::EntryKind::Alert);
    assert_eq!(entries[0].at, at(19, 22, 0));
    assert!(entries.iter().any(|e| e.summary == "isolate-instance i-0abc succeeded" && e.at == at(20, 0, 45)));
    assert!(entries.iter().any(|e| e.summary == "responding → investigating" && e.actor.as_deref() == Some("bob")));
    assert!(entries.iter().any(|e| e.kind == timeline::EntryKind::Note));
});

both_backends!(report_html_self_contained, StoreOptions::default(), async |test: TestStore| {
    let setup = Setup::new();
    worked_incident(&test, &setup).await;
    let evidence = test.dir.path().join("web.log");
    std::fs::write(&evidence, "GET /login\n").unwrap();
    let mut tx = test.store.begin_write("bob").await.unwrap();
    let item = tx.add_evidence_file(1, &evidence, "web-1:/var/log/nginx/access.log").await.unwrap();
    tx.commit().await.unwrap();

    let html = report::render(&test.store, 1, report::ReportFormat::Html).await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for section in ["Summary", "Classification", "Timeline", "Response actions", "Evidence", "Metrics", "Lessons learned", "Action items"] {
        assert!(html.contains(&format!("<h2>{section}</h2>")), "missing section {section}");
    }
    assert!(html.contains(&item.sha256));
    assert!(html.contains("isolate-instance"));
    assert!(html.contains("Enforce MFA on the VPN"));
    assert!(html.contains("Password spraying from one address."));
    assert!(html.contains("What precursors or indicators should be watched for"));
    assert!(html.contains("45m 0s"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script"), "stored text must not become markup");
    assert!(!html.contains("src="), "the report must not load anything");
    assert!(!html.contains("href="), "the report must not load anything");

    let md = report::render(&test.store, 1, report::ReportFormat::Markdown).await.unwrap();
    assert!(md.starts_with("# Incident 1: "));
    assert!(md.contains("## Lessons learned"));
    assert!(md.contains(&item.sha256));
    assert!(md.contains("&lt;script&gt;"));
});
