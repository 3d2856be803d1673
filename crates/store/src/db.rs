//! Thin helpers over sea-orm's raw statements.
//!
//! Every query in the store is plain SQL with `$1`, `$2`, … placeholders, which both backends
//! accept (SQLite reads `$N` as parameter N), so one query text serves SQLite and PostgreSQL.
//! The schema keeps to types both backends share; see [`crate::migrate`].

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, QueryResult, Statement, TryGetable, Value};

use crate::error::{Result, StoreError};

pub(crate) async fn exec(conn: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64> {
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), sql, values);
    Ok(conn.execute_raw(statement).await?.rows_affected())
}

pub(crate) async fn query(conn: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>> {
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), sql, values);
    Ok(conn.query_all_raw(statement).await?)
}

pub(crate) async fn query_one(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>> {
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), sql, values);
    Ok(conn.query_one_raw(statement).await?)
}

pub(crate) fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T> {
    Ok(row.try_get::<T>("", column)?)
}

/// Reads a JSON column stored as text.
pub(crate) fn get_json<T: serde::de::DeserializeOwned>(row: &QueryResult, column: &'static str) -> Result<T> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|source| StoreError::Json { column, source })
}

pub(crate) fn json_text(value: &impl serde::Serialize) -> Value {
    Value::from(serde_json::to_string(value).expect("serializing plain data to JSON cannot fail"))
}

/// Truncates to microseconds, the precision of PostgreSQL's `timestamptz`, so a value reads
/// back equal on both backends.
pub fn micros(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(6)
}

pub(crate) fn ts(time: DateTime<Utc>) -> Value {
    Value::from(micros(time))
}

pub(crate) fn opt_ts(time: Option<DateTime<Utc>>) -> Value {
    Value::ChronoDateTimeUtc(time.map(micros))
}

pub(crate) fn opt_str(text: Option<&str>) -> Value {
    Value::from(text.map(str::to_string))
}
