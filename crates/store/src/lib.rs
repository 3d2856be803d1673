//! The tocsin store: alerts, incidents and everything recorded about them, the new-terms
//! baseline, and the hash-chained audit log, in SQLite (embedded, the default) or PostgreSQL
//! (shared by several nodes), with one schema and one migration set for both.
//!
//! [`Store::open`] takes `sqlite://PATH`, a plain path, or `postgres://...`, creates a SQLite
//! file on first use and brings the schema up to date. Reads go through `&Store`. Every change
//! happens inside a [`WriteTx`], which holds the store's write lock (see [`lock`]). The change
//! appends to the audit log (see [`audit`]) in the same transaction, so a change and its audit
//! entry commit together or not at all.

pub mod alerts;
pub mod audit;
pub mod baseline;
mod db;
mod error;
pub mod evidence;
pub mod incidents;
mod lock;
mod migrate;
pub mod users;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction};

pub use crate::alerts::{AlertRecord, Entity, RecordOutcome, StoredAlert};
pub use crate::audit::{AuditEntry, AuditHead, VerifyReport};
pub use crate::db::micros;
pub use crate::error::{Result, StoreError};
pub use crate::migrate::SCHEMA_VERSION;

/// Settings of an open store beyond its URL.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Key for the HMAC of each audit entry. Without it entries carry no HMAC, and a rewritten
    /// chain is detected only against a head kept outside the database.
    pub audit_key: Option<Vec<u8>>,
    /// Folder for evidence files. Default: `<store file>.evidence/` beside a SQLite store.
    /// PostgreSQL needs one before evidence can be added.
    pub evidence_dir: Option<PathBuf>,
    /// How long a SQLite writer waits for another process's write lock.
    pub busy_timeout: Duration,
    /// PostgreSQL schema to create and use (`search_path`) instead of the default `public`.
    pub pg_schema: Option<String>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { audit_key: None, evidence_dir: None, busy_timeout: Duration::from_secs(30), pg_schema: None }
    }
}

/// The backend and address of a store, parsed from its URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://...`, `postgresql://...` or a plain
    /// file path.
    pub fn parse(url: &str) -> Result<Location> {
        let invalid = |reason: &str| StoreError::InvalidUrl { url: url.to_string(), reason: reason.to_string() };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(url.to_string()));
        }
        let path = if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            rest
        } else if url.contains("://") {
            return Err(invalid("use sqlite://PATH, a plain file path, or postgres://USER@HOST:PORT/DATABASE"));
        } else {
            url
        };
        if path.is_empty() {
            return Err(invalid("the SQLite file path is empty"));
        }
        if path.contains('?') {
            return Err(invalid("query parameters are not supported for SQLite; give only the file path"));
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }
}

/// An open store.
pub struct Store {
    conn: DatabaseConnection,
    location: Location,
    options: StoreOptions,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("location", &self.display_url()).finish()
    }
}

impl Store {
    /// Opens the store at `url` with default options; see [`Store::open_with`].
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, StoreOptions::default()).await
    }

    /// Opens (creating a SQLite file and its folder on first use) and migrates the store at
    /// `url`. Fails with [`StoreError::NewerSchema`] when a newer tocsin has upgraded it.
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store> {
        let location = Location::parse(url)?;
        let conn = match &location {
            Location::Sqlite(path) => connect_sqlite(path, &options).await?,
            Location::Postgres(pg_url) => connect_postgres(pg_url, &options).await?,
        };
        let store = Store { conn, location, options };
        migrate::migrate(&store.conn, &store.display_url()).await?;
        Ok(store)
    }

    /// Returns `$XDG_DATA_HOME/tocsin/tocsin.db`, falling back to `~/.local/share` as the XDG
    /// base directory specification sets.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))?;
        Some(base.join("tocsin").join("tocsin.db"))
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// Returns the URL for messages, without a PostgreSQL password.
    pub fn display_url(&self) -> String {
        match &self.location {
            Location::Sqlite(path) => format!("sqlite://{}", path.display()),
            Location::Postgres(url) => redact_password(url),
        }
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Returns the connection, for queries this crate does not offer.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Returns the schema version recorded in the store.
    pub async fn schema_version(&self) -> Result<i64> {
        migrate::current_version(&self.conn).await
    }

    /// Returns the file beside a SQLite store that keeps the audit chain's head outside the
    /// database.
    pub fn head_file(&self) -> Option<PathBuf> {
        match &self.location {
            Location::Sqlite(path) => Some(sibling(path, ".audit-head")),
            Location::Postgres(_) => None,
        }
    }

    /// Returns the folder of evidence files: the configured one, else `<store file>.evidence/`
    /// beside a SQLite store, else none.
    pub fn evidence_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = &self.options.evidence_dir {
            return Some(dir.clone());
        }
        match &self.location {
            Location::Sqlite(path) => Some(sibling(path, ".evidence")),
            Location::Postgres(_) => None,
        }
    }

    /// Starts a write transaction on behalf of `actor`, waiting for the store's write lock.
    pub async fn begin_write(&self, actor: &str) -> Result<WriteTx<'_>> {
        let txn = lock::begin_locked(&self.conn).await?;
        let head = audit::last_head(&txn).await?;
        Ok(WriteTx { store: self, txn, actor: actor.to_string(), head, audited: false })
    }

    /// Closes the connection pool.
    pub async fn close(self) -> Result<()> {
        Ok(self.conn.close().await?)
    }
}

/// A write transaction holding the store's write lock. Dropping it without [`WriteTx::commit`]
/// rolls back.
pub struct WriteTx<'s> {
    store: &'s Store,
    txn: DatabaseTransaction,
    actor: String,
    head: AuditHead,
    audited: bool,
}

impl<'s> WriteTx<'s> {
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub fn store(&self) -> &'s Store {
        self.store
    }

    /// Returns the user or component the changes are made for, which audit entries carry.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Returns the next free integer id of `table` (its `id` column). Safe because the write
    /// lock is held.
    pub(crate) async fn next_id(&self, table: &str) -> Result<i64> {
        let row = db::query_one(&self.txn, &format!("SELECT COALESCE(MAX(id), 0) + 1 AS n FROM {table}"), vec![]).await?;
        match row {
            Some(row) => db::get(&row, "n"),
            None => Ok(1),
        }
    }

    /// Appends an audit entry for a change made in this transaction.
    pub async fn audit(&mut self, action: &str, subject: &str, detail: serde_json::Value) -> Result<AuditEntry> {
        let entry = audit::append(&self.txn, &self.head, &self.actor, action, subject, detail, self.store.options.audit_key.as_deref()).await?;
        self.head = AuditHead { seq: entry.seq, hash: entry.hash.clone() };
        self.audited = true;
        Ok(entry)
    }

    /// Rolls back and releases the write lock at once. Dropping a `WriteTx` also rolls back,
    /// but the driver sends that rollback only when the connection is next used, so until then
    /// the connection sits idle in its transaction and keeps the lock every writer waits for.
    /// Error paths inside a transaction call this.
    pub async fn rollback(self) -> Result<()> {
        Ok(self.txn.rollback().await?)
    }

    /// Commits, then records the new chain head beside a SQLite store.
    pub async fn commit(self) -> Result<()> {
        let WriteTx { store, txn, head, audited, .. } = self;
        txn.commit().await?;
        if audited && let Some(file) = store.head_file() {
            audit::write_head_file(&file, &head)?;
        }
        Ok(())
    }
}

async fn connect_sqlite(path: &Path, options: &StoreOptions) -> Result<DatabaseConnection> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateFolder { path: parent.to_path_buf(), source })?;
    }
    let sqlite = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(options.busy_timeout)
        .foreign_keys(true);
    let mut connect = ConnectOptions::new("sqlite::memory:");
    connect.max_connections(4).sqlx_logging(false).map_sqlx_sqlite_opts(move |_| sqlite.clone());
    Database::connect(connect)
        .await
        .map_err(|source| StoreError::Open { url: format!("sqlite://{}", path.display()), source })
}

async fn connect_postgres(url: &str, options: &StoreOptions) -> Result<DatabaseConnection> {
    let open_error = |source| StoreError::Open { url: redact_password(url), source };
    let mut connect = ConnectOptions::new(url);
    connect.max_connections(4).sqlx_logging(false).connect_timeout(Duration::from_secs(10));
    if let Some(schema) = &options.pg_schema {
        if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Invalid(format!(
                "invalid PostgreSQL schema name {schema:?}: use letters, digits and underscores"
            )));
        }
        let admin = Database::connect(ConnectOptions::new(url)).await.map_err(open_error)?;
        admin.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await.map_err(open_error)?;
        admin.close().await.map_err(open_error)?;
        connect.set_schema_search_path(schema.clone());
    }
    Database::connect(connect).await.map_err(open_error)
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((credentials, host)) = rest.split_once('@') else { return url.to_string() };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}
