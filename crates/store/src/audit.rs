//! The append-only, hash-chained audit log.
//!
//! Entry N stores `hash = SHA-256(prev_hash ‖ "\n" ‖ canonical JSON of the entry)`, where
//! `prev_hash` is entry N-1's hash (64 zeros for entry 1) and the canonical JSON is the object
//! `{action, actor, at, detail, seq, subject}` with object keys sorted at every level and no
//! whitespace. With a key configured, `hmac = HMAC-SHA256(key, hash)`.
//!
//! What [`Store::verify_audit_log`] detects:
//! - an edited entry: its recomputed hash differs from the stored one;
//! - a deleted entry: a gap in `seq`, or a `prev_hash` that does not match;
//! - a truncated chain: the head kept outside the database (the head file beside a SQLite
//!   store, or `expect_head` saved by an operator) is missing from the chain;
//! - a rewritten chain (every hash recomputed after an edit): with an HMAC key the HMACs no
//!   longer match. Without a key, only the outside head reveals it.
//!
//! Appends happen inside a [`crate::WriteTx`], which holds the store's write lock, so two
//! processes never chain onto the same entry.

use std::io::Write as _;
use std::path::Path;

use chrono::{SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Store;
use crate::db::{exec, get, query, query_one};
use crate::error::{Result, StoreError};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit log entry as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    /// RFC 3339 UTC with microseconds, kept as text so the hash input reads back unchanged.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
    pub hmac: Option<String>,
}

/// The last entry's sequence number and hash; seq 0 and [`GENESIS`] for an empty log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

impl std::fmt::Display for AuditHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.seq, self.hash)
    }
}

/// The result of [`Store::verify_audit_log`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    pub head: Option<AuditHead>,
    pub hmac_checked: bool,
    /// The head recorded beside a SQLite store, if that file exists.
    pub head_file: Option<AuditHead>,
    /// Each problem found, as a sentence naming the entry.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Returns the canonical JSON of `value`: object keys sorted at every level, no whitespace.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).expect("a string serializes"));
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).expect("a scalar serializes")),
    }
}

/// Computes an entry's hash from the previous hash and its content.
pub fn entry_hash(prev_hash: &str, seq: i64, at: &str, actor: &str, action: &str, subject: &str, detail: &serde_json::Value) -> String {
    let content = serde_json::json!({
        "seq": seq, "at": at, "actor": actor, "action": action, "subject": subject, "detail": detail,
    });
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_json(&content).as_bytes());
    hex::encode(hasher.finalize())
}

pub fn entry_hmac(key: &[u8], hash: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts a key of any length");
    mac.update(hash.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub(crate) async fn last_head(conn: &impl ConnectionTrait) -> Result<AuditHead> {
    let row = query_one(conn, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", vec![]).await?;
    match row {
        Some(row) => Ok(AuditHead { seq: get(&row, "seq")?, hash: get(&row, "hash")? }),
        None => Ok(AuditHead { seq: 0, hash: GENESIS.to_string() }),
    }
}

pub(crate) async fn append(
    conn: &impl ConnectionTrait,
    head: &AuditHead,
    actor: &str,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
    key: Option<&[u8]>,
) -> Result<AuditEntry> {
    let seq = head.seq + 1;
    let at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let hash = entry_hash(&head.hash, seq, &at, actor, action, subject, &detail);
    let hmac = key.map(|key| entry_hmac(key, &hash));
    exec(
        conn,
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash, hmac) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            seq.into(),
            at.clone().into(),
            actor.into(),
            action.into(),
            subject.into(),
            canonical_json(&detail).into(),
            head.hash.clone().into(),
            hash.clone().into(),
            hmac.clone().into(),
        ],
    )
    .await?;
    Ok(AuditEntry {
        seq,
        at,
        actor: actor.to_string(),
        action: action.to_string(),
        subject: subject.to_string(),
        detail,
        prev_hash: head.hash.clone(),
        hash,
        hmac,
    })
}

/// Writes `head` to the head file unless the file already names a later entry (another
/// process may have committed after us and written first). Written to a temporary file and
/// renamed, so a reader never sees half a line.
pub(crate) fn write_head_file(path: &Path, head: &AuditHead) -> Result<()> {
    if let Some(current) = read_head_file(path)?
        && current.seq >= head.seq
    {
        return Ok(());
    }
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let io_error = |action, source| StoreError::Io { action, path: path.to_path_buf(), source };
    let mut file = std::fs::File::create(&temp).map_err(|e| io_error("cannot write the audit head file", e))?;
    writeln!(file, "{head}").map_err(|e| io_error("cannot write the audit head file", e))?;
    file.sync_all().map_err(|e| io_error("cannot write the audit head file", e))?;
    std::fs::rename(&temp, path).map_err(|e| io_error("cannot replace the audit head file", e))?;
    Ok(())
}

/// Reads a head file (`SEQ HASH`); `None` when it does not exist.
pub fn read_head_file(path: &Path) -> Result<Option<AuditHead>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StoreError::Io { action: "cannot read the audit head file", path: path.to_path_buf(), source }),
    };
    let invalid = || StoreError::Invalid(format!("invalid audit head file {}: expected \"SEQ HASH\"", path.display()));
    let (seq, hash) = text.trim().split_once(' ').ok_or_else(invalid)?;
    Ok(Some(AuditHead { seq: seq.parse().map_err(|_| invalid())?, hash: hash.to_string() }))
}

impl Store {
    /// Returns the chain's last entry (seq 0 and [`GENESIS`] when the log is empty).
    pub async fn audit_head(&self) -> Result<AuditHead> {
        last_head(self.connection()).await
    }

    /// Returns audit entries with `seq` greater than `after`, oldest first, at most `limit`.
    pub async fn audit_entries(&self, after: i64, limit: u64) -> Result<Vec<AuditEntry>> {
        let rows = query(
            self.connection(),
            "SELECT seq, at, actor, action, subject, detail, prev_hash, hash, hmac FROM audit_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            vec![after.into(), (limit as i64).into()],
        )
        .await?;
        rows.iter()
            .map(|row| {
                let detail_text: String = get(row, "detail")?;
                Ok(AuditEntry {
                    seq: get(row, "seq")?,
                    at: get(row, "at")?,
                    actor: get(row, "actor")?,
                    action: get(row, "action")?,
                    subject: get(row, "subject")?,
                    // An edited row may hold invalid JSON; keep it as a string so that
                    // verification can report the entry instead of failing.
                    detail: serde_json::from_str(&detail_text).unwrap_or(serde_json::Value::String(detail_text)),
                    prev_hash: get(row, "prev_hash")?,
                    hash: get(row, "hash")?,
                    hmac: get(row, "hmac")?,
                })
            })
            .collect()
    }

    /// Walks the whole audit chain and reports every entry that was edited, deleted or
    /// re-chained, and whether `expect_head` (a hash saved earlier, e.g. from `tocsin
    /// audit-log head`) and the head file beside a SQLite store are still in the chain.
    pub async fn verify_audit_log(&self, expect_head: Option<&str>) -> Result<VerifyReport> {
        let key = self.options().audit_key.as_deref();
        let mut report = VerifyReport { hmac_checked: key.is_some(), ..VerifyReport::default() };

        if let Some(file) = self.head_file() {
            report.head_file = read_head_file(&file)?;
        }

        let mut expected_seq = 1;
        let mut prev_hash = GENESIS.to_string();
        let mut found_expected = false;
        let mut head_file_hash_at_seq: Option<String> = None;
        let mut after = 0;
        loop {
            let batch = self.audit_entries(after, 1000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for entry in &batch {
                report.entries += 1;
                if entry.seq != expected_seq {
                    report.problems.push(format!(
                        "entries {expected_seq} to {} are missing: deleted from the audit log",
                        entry.seq - 1
                    ));
                }
                if entry.prev_hash != prev_hash {
                    report.problems.push(format!(
                        "entry {} does not chain onto the entry before it: an entry was deleted or the chain was rewritten",
                        entry.seq
                    ));
                }

                let recomputed = entry_hash(&entry.prev_hash, entry.seq, &entry.at, &entry.actor, &entry.action, &entry.subject, &entry.detail);
                if recomputed != entry.hash {
                    report.problems.push(format!("entry {} was edited: its content does not match its hash", entry.seq));
                }
                if let Some(key) = key {
                    match &entry.hmac {
                        Some(hmac) if *hmac == entry_hmac(key, &entry.hash) => {}
                        Some(_) => report.problems.push(format!(
                            "entry {} has an HMAC that does not match the configured key: the chain was rewritten, or the key is wrong",
                            entry.seq
                        )),
                        None => report.problems.push(format!(
                            "entry {} has no HMAC although a key is configured: it was written without the key, or the chain was rewritten",
                            entry.seq
                        )),
                    }
                }

                if expect_head.is_some_and(|h| h.eq_ignore_ascii_case(&entry.hash)) {
                    found_expected = true;
                }
                if report.head_file.as_ref().is_some_and(|h| h.seq == entry.seq) {
                    head_file_hash_at_seq = Some(entry.hash.clone());
                }
                expected_seq = entry.seq + 1;
                prev_hash = entry.hash.clone();
            }
            report.head = Some(AuditHead { seq: last.seq, hash: last.hash.clone() });
        }

        if let Some(expected) = expect_head
            && !found_expected
            && !(expected.eq_ignore_ascii_case(GENESIS))
        {
            report.problems.push(format!(
                "the expected head {expected} is not in the audit log: entries were truncated or the chain was rewritten"
            ));
        }

        if let Some(file_head) = &report.head_file {
            match &head_file_hash_at_seq {
                Some(hash) if *hash == file_head.hash => {}
                Some(_) => report.problems.push(format!(
                    "entry {} differs from the head file beside the store: the chain was rewritten",
                    file_head.seq
                )),
                None => report.problems.push(format!(
                    "the head file beside the store names entry {}, which is not in the audit log: entries were truncated",
                    file_head.seq
                )),
            }
        }
        Ok(report)
    }
}
