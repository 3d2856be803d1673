//! The store's write lock, held for the whole of every write transaction.
//!
//! Every change appends to the hash-chained audit log, whose next entry depends on the last
//! one, so writers must not interleave, not even across processes sharing the store:
//!
//! - SQLite: `BEGIN IMMEDIATE` takes the database's write lock at the start of the transaction
//!   (a later reader-to-writer upgrade could fail with `SQLITE_BUSY` instead of waiting). A
//!   second process waits up to the busy timeout set when the store was opened.
//! - PostgreSQL: `pg_advisory_xact_lock` on a fixed key, released at commit or rollback.

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

use crate::error::Result;

/// The advisory lock key on PostgreSQL: the bytes of "tocsin!!" as a big-endian integer.
const PG_LOCK_KEY: i64 = 0x746f_6373_696e_2121;

pub(crate) async fn begin_locked<C>(conn: &C) -> Result<DatabaseTransaction>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
{
    match conn.get_database_backend() {
        DatabaseBackend::Postgres => {
            let txn = conn.begin().await?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")).await?;
            Ok(txn)
        }
        _ => {
            let options = TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            };
            Ok(conn.begin_with_options(options).await?)
        }
    }
}
