//! Sources and decoders: log files, folders, archives and streams in; [`Event`]s out.
//!
//! The entry point is [`decode_path`]: it opens a file (or each member of a gzip, zip or
//! tar.gz archive), recognises the format from the content ([`Format::sniff`]), and hands the
//! bytes to the decoder in [`decode`]. A bad record never stops the others: decoders report
//! it through [`Context::error`] with its location and go on.
//!
//! ```no_run
//! use tocsin_ingest::{decode_path, Options, Collect};
//!
//! let mut out = Collect::default();
//! let stats = decode_path("auth.log".as_ref(), &Options::default(), &mut out);
//! println!("{} events, {} errors", out.events.len(), stats.iter().map(|s| s.errors).sum::<u64>());
//! ```

pub mod decode;
mod enrich;
mod format;
mod input;
mod json;
mod lines;
mod options;
mod report;

pub use format::Format;
pub use input::{decode_path, decode_reader, expand_paths, InputPath, SKIPPED_UNRECOGNISED};
pub use json::flatten_json;
pub use lines::{Line, LineError, LineReader, TextLine};
pub use options::Options;
pub use report::{Collect, Context, FileStats, Location, Output, RecordError};
pub use input::{decode_bytes_as, decode_bytes_input};

pub use tocsin_event::Event;
