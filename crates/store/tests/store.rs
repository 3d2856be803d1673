//! The store on both backends: schema versions, alerts, incidents and their records,
//! evidence, users and the baseline. Audit-log tampering is in `audit.rs`.

mod common;

use chrono::{Duration, TimeZone, Utc};
use tocsin_store::incidents::{ClassificationUpdate, IncidentFilter, NewIncident};
use tocsin_store::{AlertRecord, Entity, Store, StoreError, StoreOptions};

use crate::common::TestStore;

fn at(hour: u32, minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, hour, minute, 0).unwrap()
}

fn ssh_alert(line: u64) -> AlertRecord {
    AlertRecord::new(
        "ssh-brute-force",
        "SSH brute force",
        "high",
        vec!["attack.t1110".to_string()],
        vec![Entity::new("source.ip", "203.0.113.7"), Entity::new("host.name", "web-1")],
        vec![format!("auth.log:{line}")],
        at(10, 0),
        at(10, 5),
        12,
    )
}

fn new_incident(title: &str) -> NewIncident {
    NewIncident {
        title: title.to_string(),
        description: "test".to_string(),
        state: "identified".to_string(),
        origin: "detection".to_string(),
        severity: "medium".to_string(),
        classification: serde_json::json!({}),
        identified_at: at(10, 6),
        ..NewIncident::default()
    }
}

#[test]
fn stable_id_ignores_evidence_order() {
    let a = AlertRecord::stable_id("r", &["b:2".to_string(), "a:1".to_string()]);
    let b = AlertRecord::stable_id("r", &["a:1".to_string(), "b:2".to_string(), "a:1".to_string()]);
    let other_rule = AlertRecord::stable_id("s", &["a:1".to_string(), "b:2".to_string()]);
    assert_eq!(a, b);
    assert_ne!(a, other_rule);
    assert_eq!(a.len(), 32);
}

#[test]
fn url_forms_parse() {
    use tocsin_store::Location;
    assert_eq!(Location::parse("sqlite:///var/lib/t.db").unwrap(), Location::Sqlite("/var/lib/t.db".into()));
    assert_eq!(Location::parse("sqlite:rel.db").unwrap(), Location::Sqlite("rel.db".into()));
    assert_eq!(Location::parse("/tmp/x.db").unwrap(), Location::Sqlite("/tmp/x.db".into()));
    assert!(matches!(Location::parse("postgres://u@h/db").unwrap(), Location::Postgres(_)));
    let error = Location::parse("mysql://h/db").unwrap_err().to_string();
    assert!(error.contains("sqlite://PATH"), "{error}");
}

#[tokio::test]
async fn sqlite_file_created_with_wal() {
    use sea_orm::ConnectionTrait;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("tocsin.db");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    assert!(path.exists());
    let row = store
        .connection()
        .query_one_raw(sea_orm::Statement::from_string(store.backend(), "PRAGMA journal_mode"))
        .await
        .unwrap()
        .unwrap();
    let mode: String = row.try_get_by_index(0).unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(store.schema_version().await.unwrap(), tocsin_store::SCHEMA_VERSION);
}

both_backends!(newer_schema_rejected, StoreOptions::default(), async |test: TestStore| {
    use sea_orm::ConnectionTrait;
    test.store.connection().execute_unprepared("INSERT INTO schema_version (version, applied_at) VALUES (999, '2030-01-01T00:00:00Z')").await.unwrap();
    let error = Store::open_with(&test.url, test.options.clone()).await.unwrap_err();
    assert!(matches!(error, StoreError::NewerSchema { found: 999, .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("schema version 999"), "{message}");
    assert!(message.contains("newer tocsin"), "{message}");
});

both_backends!(reopen_keeps_data, StoreOptions::default(), async |test: TestStore| {
    test.store.record_alerts("hunt", &[ssh_alert(1)]).await.unwrap();
    let again = test.reopen(test.options.clone()).await;
    assert_eq!(again.schema_version().await.unwrap(), tocsin_store::SCHEMA_VERSION);
    assert!(again.alert(&ssh_alert(1).id).await.unwrap().is_some());
});

both_backends!(record_alerts_idempotent, StoreOptions::default(), async |test: TestStore| {
    let alerts = vec![ssh_alert(1), ssh_alert(2)];
    let first = test.store.record_alerts("hunt", &alerts).await.unwrap();
    assert_eq!(first.new, vec![alerts[0].id.clone(), alerts[1].id.clone()]);
    assert!(first.known.is_empty());

    let second = test.store.record_alerts("hunt", &alerts).await.unwrap();
    assert!(second.new.is_empty());
    assert_eq!(second.known.len(), 2);

    let stored = test.store.alert(&alerts[0].id).await.unwrap().unwrap();
    assert_eq!(stored.alert.rule_id, "ssh-brute-force");
    assert_eq!(stored.alert.entities, alerts[0].entities);
    assert_eq!(stored.alert.first_seen, at(10, 0));
    assert_eq!(stored.alert.count, 12);
    assert_eq!(test.store.alerts_since(at(9, 0)).await.unwrap().len(), 2);
    assert_eq!(test.store.alerts_since(at(11, 0)).await.unwrap().len(), 0);
});

both_backends!(incident_records_round_trip, StoreOptions::default(), async |test: TestStore| {
    let store = &test.store;
    let alert = ssh_alert(1);
    store.record_alerts("hunt", std::slice::from_ref(&alert)).await.unwrap();

    let mut tx = store.begin_write("alice").await.unwrap();
    let id = tx.insert_incident(&new_incident("SSH brute force on web-1")).await.unwrap();
    tx.link_alert(id, &alert, "opened by ssh-brute-force").await.unwrap();
    let matches = tx.open_incidents_with_entity(&Entity::new("source.ip", "203.0.113.7"), at(9, 0), at(11, 0)).await.unwrap();
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].incident_id, id);
    assert_eq!(matches[0].last_alert_at, at(10, 5));
    let later = tx.open_incidents_with_entity(&Entity::new("source.ip", "203.0.113.7"), at(10, 6), at(11, 0)).await.unwrap();
    assert!(later.is_empty(), "the alert ended before the window");
    let earlier = tx.open_incidents_with_entity(&Entity::new("source.ip", "203.0.113.7"), at(8, 0), at(9, 0)).await.unwrap();
    assert!(earlier.is_empty(), "the window ends before the first event");
    assert_eq!(tx.incident_of_alert(&alert.id).await.unwrap(), Some(id));
    tx.update_classification(id, &ClassificationUpdate {
        category: Some("unauthorized-access".into()),
        functional_impact: Some("low".into()),
        information_impact: Some("none".into()),
        recoverability: Some("regular".into()),
        severity: "critical".into(),
        computed_severity: "high".into(),
        severity_override_reason: Some("PCI scope".into()),
        classification: serde_json::json!({"reasons": ["rule level high"]}),
    })
    .await
    .unwrap();
    tx.set_state(id, "classified", at(10, 20), None).await.unwrap();
    tx.set_assignee(id, Some("bob")).await.unwrap();
    tx.add_note(id, "blocked at the firewall").await.unwrap();
    let task = tx.add_task(id, "rotate SSH host keys", Some("bob")).await.unwrap();
    tx.set_task_status(task, true).await.unwrap();
    assert_eq!(tx.add_observable(id, "ip", "203.0.113.7", None).await.unwrap(), tx.add_observable(id, "ip", "203.0.113.7", None).await.unwrap());
    let action = tx.add_action(id, "deny-ip", "203.0.113.7", true).await.unwrap();
    tx.set_action_result(action, "succeeded", Some(at(10, 30)), &serde_json::json!({"acl": "acl-1"})).await.unwrap();
    tx.add_lesson(id, "What happened?", "password guessing").await.unwrap();
    let item = tx.add_action_item(id, "enforce SSH keys", Some("carol"), Some(at(12, 0) + Duration::days(7))).await.unwrap();
    tx.set_action_item_status(item, true).await.unwrap();
    tx.commit().await.unwrap();

    let incident = store.incident(id).await.unwrap();
    assert_eq!(incident.state, "classified");
    assert_eq!(incident.alert_count, 1);
    assert_eq!(incident.first_event_at, Some(at(10, 0)));
    assert_eq!(incident.last_activity_at, at(10, 20));
    assert_eq!(incident.severity, "critical");
    assert_eq!(incident.computed_severity, "high");
    assert_eq!(incident.assignee.as_deref(), Some("bob"));

    let transitions = store.transitions(id).await.unwrap();
    assert_eq!(transitions.len(), 2);
    assert_eq!(transitions[0].from_state, None);
    assert_eq!(transitions[1].from_state.as_deref(), Some("identified"));
    assert_eq!(transitions[1].actor, "alice");
    assert_eq!(store.notes(id).await.unwrap()[0].body, "blocked at the firewall");
    assert_eq!(store.tasks(id).await.unwrap()[0].status, "done");
    assert_eq!(store.observables(id).await.unwrap().len(), 1);
    let actions = store.actions(id).await.unwrap();
    assert!(actions[0].containment);
    assert_eq!(actions[0].result["acl"], "acl-1");
    assert_eq!(store.lessons(id).await.unwrap().len(), 1);
    assert_eq!(store.action_items(id).await.unwrap()[0].status, "done");
    let alerts = store.incident_alerts(id).await.unwrap();
    assert_eq!(alerts[0].1, "opened by ssh-brute-force");

    let open = store.incidents(&IncidentFilter { states: vec!["classified".into()], ..IncidentFilter::default() }).await.unwrap();
    assert_eq!(open.len(), 1);
    let none = store.incidents(&IncidentFilter { states: vec!["closed".into()], ..IncidentFilter::default() }).await.unwrap();
    assert!(none.is_empty());
    assert!(matches!(store.incident(id + 1).await, Err(StoreError::NotFound { .. })));
});

both_backends!(rollback_leaves_nothing, StoreOptions::default(), async |test: TestStore| {
    let head = test.store.audit_head().await.unwrap();
    {
        let mut tx = test.store.begin_write("alice").await.unwrap();
        tx.insert_incident(&new_incident("dropped")).await.unwrap();
    }
    assert!(test.store.incidents(&IncidentFilter::default()).await.unwrap().is_empty());
    assert_eq!(test.store.audit_head().await.unwrap(), head);
});

both_backends!(evidence_content_addressed, StoreOptions::default(), async |test: TestStore| {
    let store = &test.store;
    let file = test.dir.path().join("capture.pcap");
    std::fs::write(&file, b"evidence bytes").unwrap();
    let copy = test.dir.path().join("copy.pcap");
    std::fs::write(&copy, b"evidence bytes").unwrap();

    let mut tx = store.begin_write("alice").await.unwrap();
    let id = tx.insert_incident(&new_incident("with evidence")).await.unwrap();
    let first = tx.add_evidence_file(id, &file, "web-1:/tmp/capture.pcap").await.unwrap();
    let second = tx.add_evidence_file(id, &copy, "web-1:/tmp/copy.pcap").await.unwrap();
    tx.commit().await.unwrap();

    // SHA-256 of "evidence bytes".
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b"evidence bytes"))
    };
    assert_eq!(first.sha256, expected);
    assert_eq!(second.sha256, expected);
    let dir = store.evidence_dir().unwrap();
    let blob = tocsin_store::evidence::blob_path(&dir, &expected);
    assert_eq!(std::fs::read(&blob).unwrap(), b"evidence bytes");
    let blobs: Vec<_> = std::fs::read_dir(blob.parent().unwrap()).unwrap().collect();
    assert_eq!(blobs.len(), 1, "the same content is stored once");

    assert_eq!(store.open_evidence("bob", first.id, "analysis").await.unwrap(), b"evidence bytes");
    let custody = store.custody(first.id).await.unwrap();
    assert_eq!(custody.len(), 2);
    assert_eq!(custody[0].action, "collected");
    assert_eq!(custody[0].actor, "alice");
    assert_eq!(custody[1].action, "accessed");
    assert_eq!(custody[1].actor, "bob");

    std::fs::write(&blob, b"changed").unwrap();
    let error = store.open_evidence("bob", first.id, "analysis").await.unwrap_err().to_string();
    assert!(error.contains("was changed"), "{error}");
});

both_backends!(users_and_roles, StoreOptions::default(), async |test: TestStore| {
    test.store.set_user("admin", "alice", &["security".to_string(), "management".to_string()]).await.unwrap();
    let alice = test.store.user("alice").await.unwrap().unwrap();
    assert_eq!(alice.roles, vec!["management", "security"]);
    test.store.set_user("admin", "alice", &["it".to_string()]).await.unwrap();
    assert_eq!(test.store.user("alice").await.unwrap().unwrap().roles, vec!["it"]);
    assert!(test.store.user("nobody").await.unwrap().is_none());
    assert_eq!(test.store.users().await.unwrap().len(), 1);
});

both_backends!(baseline_learns_new_terms, StoreOptions::default(), async |test: TestStore| {
    use tocsin_store::baseline::BaselineTerm;
    let term = |t: &str| BaselineTerm {
        host: "web-1".into(),
        kind: "python.script".into(),
        term: t.into(),
        first_seen: at(9, 0),
        source: "learning".into(),
    };
    let added = test.store.learn_terms("detect", &[term("/opt/app.py"), term("/opt/app.py"), term("/tmp/x.py")]).await.unwrap();
    assert_eq!(added.len(), 2);
    let again = test.store.learn_terms("detect", &[term("/opt/app.py")]).await.unwrap();
    assert!(again.is_empty());
    assert!(test.store.baseline_contains("web-1", "python.script", "/tmp/x.py").await.unwrap());
    assert!(!test.store.baseline_contains("web-2", "python.script", "/tmp/x.py").await.unwrap());
    assert_eq!(test.store.baseline_terms("web-1", "python.script").await.unwrap()[0].first_seen, at(9, 0));
});
