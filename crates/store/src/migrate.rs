//! The schema and its versioned migrations.
//!
//! One migration set serves both backends. Each migration is SQL written once with type
//! placeholders that [`render`] fills per backend:
//!
//! | placeholder | SQLite | PostgreSQL | used for |
//! |---|---|---|---|
//! | `{ts}` | `TEXT` (RFC 3339, UTC) | `TIMESTAMPTZ` | instants, truncated to microseconds |
//! | `{json}` | `TEXT` | `TEXT` | JSON kept byte for byte (the audit log hashes it) |
//! | `{blob}` | `BLOB` | `BYTEA` | raw bytes |
//!
//! Keys are application-assigned (text hashes, or integers allocated under the store's write
//! lock), so no serial or identity column differs between backends. Fields a query filters on
//! are real columns; JSON columns are only read back whole.
//!
//! The applied versions are rows of `schema_version`. A store whose highest version is above
//! [`SCHEMA_VERSION`] was upgraded by a newer tocsin, and [`migrate`] rejects it instead of
//! writing rows an older schema does not describe.

use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};

use crate::db::{exec, get, query_one};
use crate::error::{Result, StoreError};

/// The newest schema version this build can read and write.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Migrations in order; version N is `MIGRATIONS[N - 1]`. Append only: never edit one that
/// has shipped.
const MIGRATIONS: &[&str] = &[V1];

const V1: &str = r#"
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL,
    rule_title TEXT NOT NULL,
    level TEXT NOT NULL,
    tags {json} NOT NULL,
    entities {json} NOT NULL,
    evidence {json} NOT NULL,
    first_seen {ts} NOT NULL,
    last_seen {ts} NOT NULL,
    count BIGINT NOT NULL,
    recorded_at {ts} NOT NULL
);
CREATE INDEX alerts_rule ON alerts (rule_id);
CREATE INDEX alerts_last_seen ON alerts (last_seen);

CREATE TABLE alert_entities (
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (alert_id, field, value)
);
CREATE INDEX alert_entities_value ON alert_entities (field, value);

CREATE TABLE incidents (
    id BIGINT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL,
    origin TEXT NOT NULL,
    reported_by TEXT,
    assignee TEXT,
    category TEXT,
    functional_impact TEXT,
    information_impact TEXT,
    recoverability TEXT,
    severity TEXT NOT NULL,
    computed_severity TEXT NOT NULL,
    severity_override_reason TEXT,
    classification {json} NOT NULL,
    alert_count BIGINT NOT NULL,
    first_event_at {ts},
    last_alert_at {ts},
    identified_at {ts} NOT NULL,
    last_activity_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX incidents_state ON incidents (state);
CREATE INDEX incidents_activity ON incidents (last_activity_at);
CREATE INDEX incidents_last_alert ON incidents (last_alert_at);

CREATE TABLE incident_alerts (
    alert_id TEXT PRIMARY KEY REFERENCES alerts (id),
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    reason TEXT NOT NULL,
    joined_at {ts} NOT NULL
);
CREATE INDEX incident_alerts_incident ON incident_alerts (incident_id);

CREATE TABLE transitions (
    id BIGINT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    at {ts} NOT NULL,
    reason TEXT
);
CREATE INDEX transitions_incident ON transitions (incident_id);

CREATE TABLE notes (
    id BIGINT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    author TEXT NOT NULL,
    at {ts} NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX notes_incident ON notes (incident_id);

CREATE TABLE tasks (
    id BIGINT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    title TEXT NOT NULL,
    owner TEXT,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL,
    done_at {ts}
);
CREATE INDEX tasks_incident ON tasks (incident_id);

CREATE TABLE observables (
    id BIGINT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    note TEXT,
    added_by TEXT NOT NULL,
    added_at {ts} NOT NULL,
    UNIQUE (incident_id, kind, value)
);
CREATE INDEX observables_value ON observables (kind, value);

CREATE TABLE evidence (
    id BIGINT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    origin TEXT NOT NULL,
    collected_by TEXT NOT NULL,
    collected_at {ts} NOT NULL
);
CREATE INDEX evidence_incident ON evidence (incident_id);
CREATE INDEX evidence_sha256 ON evidence (sha256);

CREATE TABLE custody (
    id BIGINT PRIMARY KEY,
    evidence_id BIGINT NOT NULL REFERENCES evidence (id),
    at {ts} NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX custody_evidence ON custody (evidence_id);

CREATE TABLE actions (
    id BIGINT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    containment BIGINT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at {ts} NOT NULL,
    finished_at {ts},
    result {json} NOT NULL
);
CREATE INDEX actions_incident ON actions (incident_id);

CREATE TABLE lessons (
    id BIGINT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    author TEXT NOT NULL,
    at {ts} NOT NULL
);
CREATE INDEX lessons_incident ON lessons (incident_id);

CREATE TABLE action_items (
    id BIGINT PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    title TEXT NOT NULL,
    owner TEXT,
    due {ts},
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX action_items_incident ON action_items (incident_id);

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    display_name TEXT,
    created_at {ts} NOT NULL
);

CREATE TABLE user_roles (
    user_name TEXT NOT NULL REFERENCES users (name),
    role TEXT NOT NULL,
    PRIMARY KEY (user_name, role)
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail {json} NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    hmac TEXT
);

CREATE TABLE baseline (
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    term TEXT NOT NULL,
    first_seen {ts} NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (host, kind, term)
);
"#;

/// Fills the type placeholders of a migration for one backend.
fn render(sql: &str, backend: DatabaseBackend) -> String {
    let (ts, blob) = match backend {
        DatabaseBackend::Postgres => ("TIMESTAMPTZ", "BYTEA"),
        _ => ("TEXT", "BLOB"),
    };
    sql.replace("{ts}", ts).replace("{json}", "TEXT").replace("{blob}", blob)
}

/// Brings the schema up to [`SCHEMA_VERSION`], each migration in its own transaction, and
/// returns the version found before. Rejects a store with a newer schema.
pub(crate) async fn migrate<C>(conn: &C, url: &str) -> Result<i64>
where
    C: ConnectionTrait + TransactionTrait<Transaction = sea_orm::DatabaseTransaction>,
{
    let backend = conn.get_database_backend();
    exec(
        conn,
        &render("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at {ts} NOT NULL)", backend),
        vec![],
    )
    .await?;
    let found = current_version(conn).await?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { url: url.to_string(), found, known: SCHEMA_VERSION });
    }

    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        // The write lock serializes migrating processes; a process that waited finds the
        // version applied and skips it.
        let txn = crate::lock::begin_locked(conn).await?;
        if current_version(&txn).await? >= version {
            txn.rollback().await?;
            continue;
        }
        for statement in render(migration, backend).split(';').map(str::trim).filter(|s| !s.is_empty()) {
            txn.execute_unprepared(statement).await?;
        }
        exec(&txn, "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)", vec![
            version.into(),
            crate::db::ts(chrono::Utc::now()),
        ])
        .await?;
        txn.commit().await?;
        tracing::info!(version, "store schema migrated");
    }
    Ok(found)
}

pub(crate) async fn current_version(conn: &impl ConnectionTrait) -> Result<i64> {
    let row = query_one(conn, "SELECT COALESCE(MAX(version), 0) AS v FROM schema_version", vec![]).await?;
    match row {
        Some(row) => get(&row, "v"),
        None => Ok(0),
    }
}
