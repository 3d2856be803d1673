use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use tocsin_event::{Event, SourceRef};

use crate::{Format, Options};

/// Position of a record in its input, for error messages and evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// The input as a whole (an unreadable file, a truncated archive).
    File,
    /// A line (1-based) starting at a byte offset.
    Line { line: u64, offset: u64 },
    /// A byte offset.
    Offset { offset: u64 },
    /// An EVTX record by its record id.
    Record { record_id: u64 },
    /// An element of a JSON array or document list (0-based).
    Index { index: u64 },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line { line, .. } => write!(f, "line {line}"),
            Location::Offset { offset } => write!(f, "offset {offset}"),
            Location::Record { record_id } => write!(f, "record {record_id}"),
            Location::Index { index } => write!(f, "element {index}"),
        }
    }
}

/// A record, member or file that could not be decoded.
#[derive(Clone, Debug, Serialize)]
pub struct RecordError {
    pub path: String,
    pub location: Location,
    pub message: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::File => write!(f, "{}: {}", self.path, self.message),
            location => write!(f, "{}: {location}: {}", self.path, self.message),
        }
    }
}

/// Destination of decoded events and errors.
pub trait Output {
    fn event(&mut self, event: Event);
    fn error(&mut self, error: RecordError);
}

/// An [`Output`] that keeps everything in memory; for tests and small inputs.
#[derive(Default)]
pub struct Collect {
    pub events: Vec<Event>,
    pub errors: Vec<RecordError>,
}

impl Output for Collect {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }

    fn error(&mut self, error: RecordError) {
        self.errors.push(error);
    }
}

/// Counts for one decoded input (a file, or one member of an archive).
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileStats {
    pub path: String,
    pub format: Option<Format>,
    /// Records read: lines, EVTX records, JSON array elements.
    pub records: u64,
    /// Events produced. Differs from `records` where records are joined (auditd) or skipped.
    pub events: u64,
    /// Records, members or files that could not be decoded.
    pub errors: u64,
    /// Records deliberately not turned into events, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
}

/// Decoder context: the options, the source it reads, and the output.
///
/// Decoders call [`Context::record`] for each record read, [`Context::emit`] for each event
/// and [`Context::error`] for each record they cannot decode, then carry on with the next.
pub struct Context<'a> {
    pub source: Arc<SourceRef>,
    pub options: &'a Options,
    pub stats: &'a mut FileStats,
    /// Modification time of the file on disk, when known; RFC 3164 decoding takes the year
    /// from it.
    pub modified: Option<std::time::SystemTime>,
    out: &'a mut dyn Output,
}

impl<'a> Context<'a> {
    pub fn new(source: Arc<SourceRef>, options: &'a Options, stats: &'a mut FileStats, out: &'a mut dyn Output) -> Self {
        Context { source, options, stats, modified: None, out }
    }

    pub fn record(&mut self) {
        self.stats.records += 1;
    }

    pub fn emit(&mut self, mut event: Event) {
        crate::enrich::enrich(&mut event);
        self.stats.events += 1;
        self.out.event(event);
    }

    pub fn error(&mut self, location: Location, message: impl Into<String>) {
        self.stats.errors += 1;
        self.out.error(RecordError { path: self.source.path.clone(), location, message: message.into() });
    }

    pub fn skip(&mut self, reason: &'static str, count: u64) {
        *self.stats.skipped.entry(reason).or_default() += count;
    }
}
