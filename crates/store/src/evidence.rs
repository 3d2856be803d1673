//! Evidence files, stored content-addressed by SHA-256, with a chain-of-custody log.
//!
//! A file's bytes go to `<evidence folder>/<first two hex digits>/<sha256>`, written to a
//! temporary name and renamed, so the same content is stored once however often it is added.
//! Each incident's evidence row records who collected it, when and from where; every later
//! access appends to `custody`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{exec, get, query, query_one, ts};
use crate::error::{Result, StoreError};
use crate::{Store, WriteTx};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvidenceItem {
    pub id: i64,
    pub incident_id: i64,
    pub sha256: String,
    /// The file name as collected.
    pub name: String,
    pub size: i64,
    /// The place it was collected from: a host and path, a URL, a bucket key.
    pub origin: String,
    pub collected_by: String,
    pub collected_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CustodyEntry {
    pub id: i64,
    pub evidence_id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `collected`, `accessed`, `exported`, `verified`, …
    pub action: String,
    pub detail: String,
}

/// Copies `reader` into the content-addressed folder `dir` and returns its SHA-256 (hex) and
/// size.
pub fn store_blob(dir: &Path, mut reader: impl Read) -> Result<(String, u64)> {
    let io = |action, path: &Path, source| StoreError::Io { action, path: path.to_path_buf(), source };
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create the evidence folder", dir, e))?;
    let temp = dir.join(format!(".incoming-{}-{}", std::process::id(), Utc::now().timestamp_nanos_opt().unwrap_or_default()));
    let mut file = std::fs::File::create(&temp).map_err(|e| io("cannot write evidence to", &temp, e))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buffer).map_err(|e| io("cannot read the evidence file for", &temp, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        file.write_all(&buffer[..n]).map_err(|e| io("cannot write evidence to", &temp, e))?;
        size += n as u64;
    }
    file.sync_all().map_err(|e| io("cannot write evidence to", &temp, e))?;
    drop(file);
    let sha256 = hex::encode(hasher.finalize());
    let target = blob_path(dir, &sha256);
    let parent = target.parent().expect("a blob path has a parent");
    std::fs::create_dir_all(parent).map_err(|e| io("cannot create the evidence folder", parent, e))?;
    if target.exists() {
        let _ = std::fs::remove_file(&temp);
    } else {
        std::fs::rename(&temp, &target).map_err(|e| io("cannot move evidence into place at", &target, e))?;
    }
    Ok((sha256, size))
}

/// Returns the path of a blob in the evidence folder.
pub fn blob_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(&sha256[..2]).join(sha256)
}

fn evidence_from_row(row: &sea_orm::QueryResult) -> Result<EvidenceItem> {
    Ok(EvidenceItem {
        id: get(row, "id")?,
        incident_id: get(row, "incident_id")?,
        sha256: get(row, "sha256")?,
        name: get(row, "name")?,
        size: get(row, "size")?,
        origin: get(row, "origin")?,
        collected_by: get(row, "collected_by")?,
        collected_at: get(row, "collected_at")?,
    })
}

impl WriteTx<'_> {
    /// Stores the file at `path` in the evidence folder and records it on the incident, with a
    /// `collected` custody entry.
    pub async fn add_evidence_file(&mut self, incident_id: i64, path: &Path, origin: &str) -> Result<EvidenceItem> {
        let dir = self.store().evidence_dir().ok_or_else(|| {
            StoreError::Invalid("no evidence folder is configured: set one for a PostgreSQL store".to_string())
        })?;
        let file = std::fs::File::open(path).map_err(|source| StoreError::Io { action: "cannot open the evidence file", path: path.to_path_buf(), source })?;
        let (sha256, size) = store_blob(&dir, file)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        self.add_evidence(incident_id, &sha256, &name, size as i64, origin).await
    }

    /// Records evidence whose bytes are already in the evidence folder under `sha256`.
    pub async fn add_evidence(&mut self, incident_id: i64, sha256: &str, name: &str, size: i64, origin: &str) -> Result<EvidenceItem> {
        self.incident(incident_id).await?;
        let id = self.next_id("evidence").await?;
        let now = Utc::now();
        exec(
            self.conn(),
            "INSERT INTO evidence (id, incident_id, sha256, name, size, origin, collected_by, collected_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vec![id.into(), incident_id.into(), sha256.into(), name.into(), size.into(), origin.into(), self.actor().into(), ts(now)],
        )
        .await?;
        self.audit("evidence.add", &format!("incident {incident_id}"), serde_json::json!({
            "evidence": id, "sha256": sha256, "name": name, "size": size, "origin": origin,
        }))
        .await?;
        self.log_custody(id, "collected", origin).await?;
        Ok(EvidenceItem {
            id,
            incident_id,
            sha256: sha256.to_string(),
            name: name.to_string(),
            size,
            origin: origin.to_string(),
            collected_by: self.actor().to_string(),
            collected_at: crate::micros(now),
        })
    }

    /// Appends a custody entry (an access, export or verification of a piece of evidence).
    pub async fn log_custody(&mut self, evidence_id: i64, action: &str, detail: &str) -> Result<i64> {
        let id = self.next_id("custody").await?;
        exec(self.conn(), "INSERT INTO custody (id, evidence_id, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5, $6)", vec![
            id.into(),
            evidence_id.into(),
            ts(Utc::now()),
            self.actor().into(),
            action.into(),
            detail.into(),
        ])
        .await?;
        self.audit("evidence.custody", &format!("evidence {evidence_id}"), serde_json::json!({ "action": action, "detail": detail })).await?;
        Ok(id)
    }
}

impl Store {
    pub async fn evidence(&self, incident_id: i64) -> Result<Vec<EvidenceItem>> {
        let rows = query(
            self.connection(),
            "SELECT id, incident_id, sha256, name, size, origin, collected_by, collected_at FROM evidence WHERE incident_id = $1 ORDER BY id",
            vec![incident_id.into()],
        )
        .await?;
        rows.iter().map(evidence_from_row).collect()
    }

    pub async fn evidence_item(&self, id: i64) -> Result<EvidenceItem> {
        let row = query_one(
            self.connection(),
            "SELECT id, incident_id, sha256, name, size, origin, collected_by, collected_at FROM evidence WHERE id = $1",
            vec![id.into()],
        )
        .await?;
        match row {
            Some(row) => evidence_from_row(&row),
            None => Err(StoreError::NotFound { what: "evidence", id: id.to_string() }),
        }
    }

    pub async fn custody(&self, evidence_id: i64) -> Result<Vec<CustodyEntry>> {
        let rows = query(
            self.connection(),
            "SELECT id, evidence_id, at, actor, action, detail FROM custody WHERE evidence_id = $1 ORDER BY id",
            vec![evidence_id.into()],
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CustodyEntry {
                    id: get(row, "id")?,
                    evidence_id: get(row, "evidence_id")?,
                    at: get(row, "at")?,
                    actor: get(row, "actor")?,
                    action: get(row, "action")?,
                    detail: get(row, "detail")?,
                })
            })
            .collect()
    }

    /// Opens an evidence file for reading, after logging the access in its custody log, and
    /// checks that its bytes still hash to the recorded SHA-256.
    pub async fn open_evidence(&self, actor: &str, evidence_id: i64, purpose: &str) -> Result<Vec<u8>> {
        let item = self.evidence_item(evidence_id).await?;
        let dir = self.evidence_dir().ok_or_else(|| StoreError::Invalid("no evidence folder is configured".to_string()))?;
        let mut tx = self.begin_write(actor).await?;
        tx.log_custody(evidence_id, "accessed", purpose).await?;
        tx.commit().await?;
        let path = blob_path(&dir, &item.sha256);
        let bytes = std::fs::read(&path).map_err(|source| StoreError::Io { action: "cannot read evidence", path: path.clone(), source })?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != item.sha256 {
            return Err(StoreError::Invalid(format!(
                "evidence {evidence_id} at {} has SHA-256 {actual}, but {} was recorded: the file was changed",
                path.display(),
                item.sha256
            )));
        }
        Ok(bytes)
    }
}
