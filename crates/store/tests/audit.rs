//! Audit-log verification on both backends: an intact chain passes; an edited, deleted or
//! truncated entry and a rewritten chain are each reported. Rows are tampered with through
//! SQL on the store's own connection and, as an attacker with file access would, through the
//! `sqlite3` and `psql` command-line clients.

mod common;

use std::process::Command;

use sea_orm::ConnectionTrait;
use tocsin_store::{Store, StoreOptions, audit};

use crate::common::TestStore;

/// Makes `n` audited changes (one note each) and returns the store's head afterwards.
async fn write_entries(store: &Store, n: usize) -> tocsin_store::AuditHead {
    let mut tx = store.begin_write("alice").await.unwrap();
    let id = tx
        .insert_incident(&tocsin_store::incidents::NewIncident {
            title: "audited".into(),
            state: "identified".into(),
            origin: "report".into(),
            severity: "low".into(),
            classification: serde_json::json!({}),
            identified_at: chrono::Utc::now(),
            ..Default::default()
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for i in 0..n {
        let mut tx = store.begin_write("alice").await.unwrap();
        tx.add_note(id, &format!("note {i}")).await.unwrap();
        tx.commit().await.unwrap();
    }
    store.audit_head().await.unwrap()
}

async fn sql(test: &TestStore, statement: &str) {
    test.store.connection().execute_unprepared(statement).await.unwrap();
}

fn has_problem(report: &tocsin_store::VerifyReport, needle: &str) -> bool {
    report.problems.iter().any(|p| p.contains(needle))
}

fn with_key() -> StoreOptions {
    StoreOptions { audit_key: Some(b"test key".to_vec()), ..StoreOptions::default() }
}

both_backends!(intact_chain_verifies, with_key(), async |test: TestStore| {
    let head = write_entries(&test.store, 5).await;
    // Opening the incident writes one entry, and each note one.
    assert_eq!(head.seq, 6, "{head:?}");
    let report = test.store.verify_audit_log(Some(&head.hash)).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert!(report.hmac_checked);
    assert_eq!(report.entries as i64, head.seq);
    assert_eq!(report.head.as_ref(), Some(&head));
    if test.is_sqlite() {
        assert_eq!(report.head_file.as_ref(), Some(&head));
    }
    let entries = test.store.audit_entries(0, 100).await.unwrap();
    assert_eq!(entries[0].prev_hash, audit::GENESIS);
    assert_eq!(entries[1].prev_hash, entries[0].hash);
    assert_eq!(entries[0].actor, "alice");
});

both_backends!(edited_entry_detected, StoreOptions::default(), async |test: TestStore| {
    write_entries(&test.store, 4).await;
    sql(&test, "UPDATE audit_log SET detail = '{\"body\":\"nothing happened\",\"note\":2}' WHERE seq = 3").await;
    let report = test.store.verify_audit_log(None).await.unwrap();
    assert!(has_problem(&report, "entry 3 was edited"), "{:?}", report.problems);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
});

both_backends!(edited_actor_detected, StoreOptions::default(), async |test: TestStore| {
    write_entries(&test.store, 2).await;
    sql(&test, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2").await;
    let report = test.store.verify_audit_log(None).await.unwrap();
    assert!(has_problem(&report, "entry 2 was edited"), "{:?}", report.problems);
});

both_backends!(deleted_entry_detected, StoreOptions::default(), async |test: TestStore| {
    write_entries(&test.store, 4).await;
    sql(&test, "DELETE FROM audit_log WHERE seq = 3").await;
    let report = test.store.verify_audit_log(None).await.unwrap();
    assert!(has_problem(&report, "entries 3 to 3 are missing"), "{:?}", report.problems);
    assert!(has_problem(&report, "entry 4 does not chain"), "{:?}", report.problems);
});

both_backends!(truncated_chain_detected, StoreOptions::default(), async |test: TestStore| {
    let head = write_entries(&test.store, 4).await;
    sql(&test, &format!("DELETE FROM audit_log WHERE seq >= {}", head.seq - 1)).await;
    let report = test.store.verify_audit_log(Some(&head.hash)).await.unwrap();
    assert!(has_problem(&report, "is not in the audit log"), "{:?}", report.problems);
    if test.is_sqlite() {
        assert!(has_problem(&report, "head file beside the store names entry"), "{:?}", report.problems);
    }
    // Without an outside head the shortened chain is consistent in itself.
    if !test.is_sqlite() {
        assert!(test.store.verify_audit_log(None).await.unwrap().is_intact());
    }
});

/// Edits entry 2 and recomputes every later hash, as an attacker who read this code would.
async fn rewrite_chain(test: &TestStore) {
    sql(test, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2").await;
    let entries = test.store.audit_entries(0, 1000).await.unwrap();
    let mut prev = audit::GENESIS.to_string();
    for entry in entries {
        let hash = audit::entry_hash(&prev, entry.seq, &entry.at, &entry.actor, &entry.action, &entry.subject, &entry.detail);
        sql(test, &format!("UPDATE audit_log SET prev_hash = '{prev}', hash = '{hash}' WHERE seq = {}", entry.seq)).await;
        prev = hash;
    }
}

both_backends!(rewritten_chain_detected_by_hmac, with_key(), async |test: TestStore| {
    write_entries(&test.store, 3).await;
    rewrite_chain(&test).await;
    let report = test.store.verify_audit_log(None).await.unwrap();
    assert!(has_problem(&report, "entry 2 has an HMAC that does not match"), "{:?}", report.problems);
    assert!(!has_problem(&report, "was edited"), "{:?}", report.problems);
});

both_backends!(rewritten_chain_detected_by_head, StoreOptions::default(), async |test: TestStore| {
    let head = write_entries(&test.store, 3).await;
    rewrite_chain(&test).await;
    let report = test.store.verify_audit_log(Some(&head.hash)).await.unwrap();
    assert!(has_problem(&report, "is not in the audit log"), "{:?}", report.problems);
    if test.is_sqlite() {
        assert!(has_problem(&report, "differs from the head file"), "{:?}", report.problems);
    }
});

both_backends!(wrong_key_reported, with_key(), async |test: TestStore| {
    write_entries(&test.store, 1).await;
    let other = test.reopen(StoreOptions { audit_key: Some(b"other key".to_vec()), ..test.options.clone() }).await;
    let report = other.verify_audit_log(None).await.unwrap();
    assert!(has_problem(&report, "does not match the configured key"), "{:?}", report.problems);
});

/// Returns whether `program` runs; notes the skip (or fails under CI) when it does not.
fn client_available(program: &str) -> bool {
    if Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    let test = std::thread::current().name().unwrap_or("?").to_string();
    assert!(!tocsin_testdata::in_ci(), "{test}: {program} is not installed and CI=true");
    tocsin_testdata::note_skip(&format!("skipped {test}: {program} is not installed"));
    false
}

#[tokio::test]
async fn sqlite3_client_edit_detected() {
    if !client_available("sqlite3") {
        return;
    }
    let test = common::sqlite(StoreOptions::default()).await;
    let head = write_entries(&test.store, 3).await;
    let output = Command::new("sqlite3")
        .arg(test.sqlite_path())
        .arg("UPDATE audit_log SET subject = 'incident 99' WHERE seq = 2;")
        .output()
        .unwrap();
    assert!(output.status.success(), "sqlite3: {}", String::from_utf8_lossy(&output.stderr));
    let report = test.store.verify_audit_log(Some(&head.hash)).await.unwrap();
    assert!(has_problem(&report, "entry 2 was edited"), "{:?}", report.problems);
}

#[tokio::test]
async fn psql_client_edit_detected() {
    let Some(test) = common::postgres(StoreOptions::default()).await else { return };
    if !client_available("psql") {
        return;
    }
    let head = write_entries(&test.store, 3).await;
    let schema = test.pg_schema.clone().unwrap();
    let output = Command::new("psql")
        .arg(&test.url)
        .arg("-v")
        .arg("ON_ERROR_STOP=1")
        .arg("-c")
        .arg(format!("UPDATE {schema}.audit_log SET action = 'incident.read' WHERE seq = 2"))
        .output()
        .unwrap();
    assert!(output.status.success(), "psql: {}", String::from_utf8_lossy(&output.stderr));
    let report = test.store.verify_audit_log(Some(&head.hash)).await.unwrap();
    assert!(has_problem(&report, "entry 2 was edited"), "{:?}", report.problems);
}
