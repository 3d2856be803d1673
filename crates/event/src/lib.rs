//! The normalized tocsin [`Event`].
//!
//! Every decoder in `tocsin-ingest` produces `Event`s and every later stage (Sigma matching,
//! alerts, incidents, forwarding) reads them. An event keeps the source's own field names
//! (Sysmon `CommandLine`, CloudTrail `eventName`) because Sigma rules are written against them,
//! and answers Elastic Common Schema names (`process.command_line`) through a per-schema alias
//! table, so callers can use either. Serialized, an event is an ECS document
//! ([`Event::to_ecs`]).
//!
//! ```
//! use tocsin_event::{Event, Schema, SourceRef, Evidence, Value};
//!
//! let source = SourceRef::new("Microsoft-Windows-Sysmon%4Operational.evtx");
//! let mut event = Event::new(Schema::Windows, Evidence::record(source, 42));
//! event.push("EventID", Value::Int(1));
//! event.push("Image", Value::from("C:\\Python27\\python.exe"));
//!
//! assert_eq!(event.get_str("Image"), Some("C:\\Python27\\python.exe"));
//! assert_eq!(event.get_str("process.executable"), Some("C:\\Python27\\python.exe"));
//! ```

mod ecs;
mod event;
mod evidence;
mod time;
mod value;

pub use ecs::{ecs_aliases, SYSTEM_FIELDS};
pub use event::{Event, Field, Schema};
pub use evidence::{write_reference, Evidence, SourceRef};
pub use time::{Precision, Timestamp};
pub use value::Value;

/// The string type used for field names and short values: inline up to 24 bytes, so most
/// field names and many values cost no heap allocation.
pub type Str = compact_str::CompactString;
