//! Two real processes writing the same store at once lose nothing: every alert, incident and
//! note of both arrives, and the audit chain stays one unbroken chain. Runs on SQLite (one
//! file) and on PostgreSQL (one schema, selected through the URL's `options` parameter).
//!
//! The parent test runs this test binary twice more, filtered to `child_writer`, with the
//! store's URL in `TOCSIN_STORE_CHILD`; without that variable `child_writer` does nothing.

mod common;

use std::process::Command;

use chrono::Utc;
use tocsin_store::incidents::{IncidentFilter, NewIncident};
use tocsin_store::{AlertRecord, Entity, Store};

const WRITES_PER_PROCESS: usize = 60;

#[tokio::test]
async fn child_writer() {
    let (Ok(url), Ok(tag)) = (std::env::var("TOCSIN_STORE_CHILD"), std::env::var("TOCSIN_STORE_CHILD_TAG")) else {
        return;
    };
    let store = Store::open(&url).await.expect("child opens the store");
    let barrier = std::env::var("TOCSIN_STORE_CHILD_BARRIER").map(std::path::PathBuf::from).ok();

    // Both children start together and meet again halfway. The second meeting makes the
    // overlap certain: neither can finish before the other has written, whatever order the
    // store's lock grants them.
    if let Some(barrier) = &barrier {
        meet(&barrier.join("ready"), &tag);
    }
    for i in 0..WRITES_PER_PROCESS {
        if i == WRITES_PER_PROCESS / 2
            && let Some(barrier) = &barrier
        {
            meet(&barrier.join("halfway"), &tag);
        }
        let alert = AlertRecord::new(
            "concurrency",
            "concurrency test",
            "low",
            vec![],
            vec![Entity::new("host.name", format!("{tag}-host"))],
            vec![format!("{tag}.log:{i}")],
            Utc::now(),
            Utc::now(),
            1,
        );
        let mut tx = store.begin_write(&tag).await.expect("begin");
        let outcome = tx.record_alerts(std::slice::from_ref(&alert)).await.expect("record");
        assert_eq!(outcome.new.len(), 1);
        let id = tx
            .insert_incident(&NewIncident {
                title: format!("{tag} {i}"),
                state: "identified".into(),
                origin: "detection".into(),
                severity: "low".into(),
                classification: serde_json::json!({}),
                identified_at: Utc::now(),
                ..NewIncident::default()
            })
            .await
            .expect("incident");
        tx.link_alert(id, &alert, "test").await.expect("link");
        tx.add_note(id, &format!("{tag} note {i}")).await.expect("note");
        tx.commit().await.expect("commit");
    }
}

#[tokio::test]
async fn two_processes_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    // Create the schema first so both children race on data, not only on the migration.
    Store::open(&url).await.unwrap().close().await.unwrap();
    run_children(&url);
    let store = Store::open(&url).await.unwrap();
    check_everything_arrived(&store).await;
    let report = store.verify_audit_log(None).await.unwrap();
    assert_eq!(report.head_file.map(|h| h.seq), Some(report.entries as i64), "the head file names the last entry");
}

#[tokio::test]
async fn two_processes_lose_nothing_postgres() {
    let Some(test) = common::postgres(tocsin_store::StoreOptions::default()).await else { return };
    let schema = test.pg_schema.clone().unwrap();
    let url = format!("{}?options=-csearch_path%3D{schema}", test.url);
    run_children(&url);
    check_everything_arrived(&test.store).await;
}

/// Marks `tag` as arrived in the folder `point` and waits until both children have arrived.
fn meet(point: &std::path::Path, tag: &str) {
    std::fs::create_dir_all(point).unwrap();
    std::fs::write(point.join(tag), b"").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::fs::read_dir(point).unwrap().count() < 2 {
        assert!(std::time::Instant::now() < deadline, "the other child writer never arrived at {}", point.display());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Runs two child writers against `url` at once and waits for both.
fn run_children(url: &str) {
    let exe = std::env::current_exe().unwrap();
    let barrier = tempfile::tempdir().unwrap();
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|tag| {
            Command::new(&exe)
                .args(["--exact", "child_writer", "--test-threads=1", "--nocapture"])
                .env("TOCSIN_STORE_CHILD", url)
                .env("TOCSIN_STORE_CHILD_TAG", tag)
                .env("TOCSIN_STORE_CHILD_BARRIER", barrier.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn the test binary")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a child writer failed: {:?}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

async fn check_everything_arrived(store: &Store) {
    let incidents = store.incidents(&IncidentFilter::default()).await.unwrap();
    assert_eq!(incidents.len(), 2 * WRITES_PER_PROCESS);
    let mut ids: Vec<i64> = incidents.iter().map(|i| i.id).collect();
    ids.sort();
    assert_eq!(ids, (1..=2 * WRITES_PER_PROCESS as i64).collect::<Vec<_>>());
    for tag in ["a", "b"] {
        let mine = incidents.iter().filter(|i| i.title.starts_with(&format!("{tag} "))).count();
        assert_eq!(mine, WRITES_PER_PROCESS, "incidents of process {tag}");
    }
    let alerts = store.alerts_since(Utc::now() - chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(alerts.len(), 2 * WRITES_PER_PROCESS);

    // Per write: one entry each for the alerts, the incident, the link and the note.
    let report = store.verify_audit_log(None).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.entries, 4 * 2 * WRITES_PER_PROCESS as u64);

    // The writers overlapped: the audit log switches between their actors more than once. The
    // halfway meeting guarantees at least two switches.
    let entries = store.audit_entries(0, 10_000).await.unwrap();
    let switches = entries.windows(2).filter(|pair| pair[0].actor != pair[1].actor).count();
    assert!(switches > 1, "the two writers did not overlap (the actor changed {switches} times)");
}
