use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

/// The file an event came from, shared by all its events.
///
/// `path` is the path as given on the command line; for a member of an archive it is
/// `archive.zip!member.json`. The SHA-256 is of the file on disk (the outer archive for
/// members) and is set once the decoder has read the whole file, so events emitted before that
/// moment see it as soon as it is known.
#[derive(Debug)]
pub struct SourceRef {
    pub path: String,
    sha256: OnceLock<[u8; 32]>,
}

impl SourceRef {
    pub fn new(path: impl Into<String>) -> Arc<SourceRef> {
        Arc::new(SourceRef { path: path.into(), sha256: OnceLock::new() })
    }

    /// Records the file's SHA-256. A second call is ignored: the first complete read wins.
    pub fn set_sha256(&self, digest: [u8; 32]) {
        let _ = self.sha256.set(digest);
    }

    pub fn sha256(&self) -> Option<&[u8; 32]> {
        self.sha256.get()
    }

    pub fn sha256_hex(&self) -> Option<String> {
        self.sha256.get().map(hex::encode)
    }
}

/// Where an event's original record lives, so an analyst can read it again.
///
/// Line formats set `line` (1-based) and `offset` (byte offset of the line's start); EVTX sets
/// `record_id` (the record's `EventRecordID`) and `offset` (byte offset of the record in the
/// file); JSON documents with several events set `index` (0-based position in the array).
#[derive(Clone, Debug)]
pub struct Evidence {
    pub source: Arc<SourceRef>,
    pub offset: Option<u64>,
    pub line: Option<u64>,
    pub record_id: Option<u64>,
    pub index: Option<u64>,
}

impl Evidence {
    pub fn new(source: Arc<SourceRef>) -> Self {
        Evidence { source, offset: None, line: None, record_id: None, index: None }
    }

    pub fn line(source: Arc<SourceRef>, line: u64, offset: u64) -> Self {
        Evidence { line: Some(line), offset: Some(offset), ..Evidence::new(source) }
    }

    pub fn record(source: Arc<SourceRef>, record_id: u64) -> Self {
        Evidence { record_id: Some(record_id), ..Evidence::new(source) }
    }

    pub fn with_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    pub fn with_index(mut self, index: u64) -> Self {
        self.index = Some(index);
        self
    }
}

impl fmt::Display for Evidence {
    /// Formats as `path:line N`, `path:record N`, `path:offset N` or `path[#index]`, the most
    /// precise reference first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_reference(f, &self.source.path, self.line, self.record_id, self.offset, self.index)
    }
}

/// Writes an evidence reference as `path:line N`, `path:record N` or `path:offset N` (the most
/// precise position the record has), then `#index` for an element of a JSON document. Alerts
/// hash this text into their ids, so it must stay stable.
pub fn write_reference(
    out: &mut impl fmt::Write,
    path: &str,
    line: Option<u64>,
    record_id: Option<u64>,
    offset: Option<u64>,
    index: Option<u64>,
) -> fmt::Result {
    out.write_str(path)?;
    if let Some(line) = line {
        write!(out, ":line {line}")?;
    } else if let Some(record) = record_id {
        write!(out, ":record {record}")?;
    } else if let Some(offset) = offset {
        write!(out, ":offset {offset}")?;
    }
    if let Some(index) = index {
        write!(out, "#{index}")?;
    }
    Ok(())
}

#[derive(Serialize)]
pub(crate) struct EvidenceDoc<'a> {
    pub path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

impl Evidence {
    pub(crate) fn doc(&self) -> EvidenceDoc<'_> {
        EvidenceDoc {
            path: &self.source.path,
            sha256: self.source.sha256_hex(),
            offset: self.offset,
            line: self.line,
            record_id: self.record_id,
            index: self.index,
        }
    }
}
