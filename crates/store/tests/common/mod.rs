//! Runs each store test on both backends: SQLite in a temporary folder, and PostgreSQL at
//! `TOCSIN_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`) in a schema
//! created for the test and dropped after it. Without a reachable PostgreSQL server the
//! PostgreSQL half is skipped with a note, except under `CI=true`, where it fails.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use tocsin_store::{Store, StoreOptions};

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn pg_url() -> String {
    std::env::var("TOCSIN_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

/// A store for one test, removed when dropped.
pub struct TestStore {
    pub store: Store,
    pub url: String,
    pub options: StoreOptions,
    pub dir: tempfile::TempDir,
    pub pg_schema: Option<String>,
}

impl TestStore {
    pub fn is_sqlite(&self) -> bool {
        self.pg_schema.is_none()
    }

    /// Opens the same store again, as a second process would.
    pub async fn reopen(&self, options: StoreOptions) -> Store {
        Store::open_with(&self.url, options).await.expect("reopen the test store")
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("tocsin.db")
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let Some(schema) = self.pg_schema.take() else { return };
        let url = self.url.clone();
        // Drop runs inside the test's runtime, so the cleanup gets a thread and runtime of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                use sea_orm::ConnectionTrait;
                if let Ok(conn) = sea_orm::Database::connect(url.as_str()).await {
                    let _ = conn.execute_unprepared(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

pub async fn sqlite(options: StoreOptions) -> TestStore {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("tocsin.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::open_with(&url, options.clone()).await.expect("open the SQLite test store");
    TestStore { store, url, options, dir, pg_schema: None }
}

static SCHEMA_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Returns a store in a fresh PostgreSQL schema, or `None` after noting the skip.
pub async fn postgres(mut options: StoreOptions) -> Option<TestStore> {
    let url = pg_url();
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let mut probe = sea_orm::ConnectOptions::new(url.as_str());
    probe.connect_timeout(std::time::Duration::from_secs(3)).sqlx_logging(false);
    match sea_orm::Database::connect(probe).await {
        Ok(conn) => {
            let _ = conn.close().await;
        }
        Err(error) => {
            assert!(!tocsin_testdata::in_ci(), "{test}: PostgreSQL at {url} is unreachable and CI=true: {error}");
            tocsin_testdata::note_skip(&format!("skipped {test}: PostgreSQL at {url} is unreachable ({error})"));
            return None;
        }
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let schema = format!("tocsin_test_{}_{}_{}", std::process::id(), SCHEMA_COUNTER.fetch_add(1, Ordering::Relaxed), nanos);
    options.pg_schema = Some(schema.clone());
    let dir = tempfile::tempdir().expect("temporary folder");
    if options.evidence_dir.is_none() {
        options.evidence_dir = Some(dir.path().join("evidence"));
    }
    let store = Store::open_with(&url, options.clone()).await.expect("open the PostgreSQL test store");
    Some(TestStore { store, url, options, dir, pg_schema: Some(schema) })
}

/// Defines `mod $name { sqlite, postgres }`, running `$body(TestStore)` on each backend.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $options:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let test = $crate::common::sqlite($options).await;
                ($body)(test).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(test) = $crate::common::postgres($options).await else { return };
                ($body)(test).await;
            }
        }
    };
}
