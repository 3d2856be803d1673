//! Sigma detection for tocsin: a parser for the whole Sigma v2.1.0 specification, a compiler
//! to indexed match trees that read fields straight from [`tocsin_event::Event`], log-source
//! routing, pySigma-style processing pipelines and a correlation engine.
//!
//! ```
//! use tocsin_sigma::RuleSetBuilder;
//! use tocsin_event::{Event, Evidence, Schema, SourceRef, Value};
//!
//! let rule = r"
//! title: Whoami
//! id: 11111111-0000-4000-8000-000000000001
//! logsource: { product: windows, category: process_creation }
//! detection:
//!   selection:
//!     Image|endswith: '\whoami.exe'
//!   condition: selection
//! ";
//! let mut builder = RuleSetBuilder::new();
//! builder.add_str(rule, None);
//! let (rules, report) = builder.build();
//! assert_eq!(report.accepted(), 1);
//!
//! let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("a.evtx"), 1));
//! event.push("Channel", "Microsoft-Windows-Sysmon/Operational");
//! event.push("EventID", Value::Int(1));
//! event.push("Image", "C:\\Windows\\System32\\WHOAMI.EXE");
//! assert_eq!(rules.matches(&event), vec![0]);
//! ```

mod access;
pub mod compile;
pub mod condition;
pub mod correlation;
pub mod error;
mod hash;
pub mod index;
pub mod logsource;
pub mod matcher;
pub mod modifiers;
pub mod parser;
pub mod pipeline;
pub mod regression;
pub mod ruleset;

pub use correlation::{correlate_batch, CorrelationAlert, CorrelationConfig, CorrelationEngine, CorrelationStats};
pub use error::{Error, ErrorKind, RuleError};
pub use logsource::{route, Routing};
pub use matcher::Scratch;
pub use pipeline::Pipeline;
pub use regression::{check_rules, events_from_evtx_json, run_regression_cases, CaseOutcome, RegressionSummary};
pub use ruleset::{LoadReport, Placeholders, RuleIdx, RuleInfo, RuleKind, RuleReport, RuleSet, RuleSetBuilder, RuleStatus};
