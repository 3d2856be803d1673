//! The detection runtime's data: what an alert is, which entities it names, how repeats
//! collapse, how known-benign activity is suppressed, and how fired rules become an ATT&CK
//! Navigator layer.
//!
//! Matching itself is `tocsin-sigma`'s job; this crate turns its matches into [`Alert`]s.

mod alert;
mod attack;
mod entities;
mod hunt;
pub mod python;
mod suppress;

pub use alert::{alert_id, Alert, AlertSet, EvidenceRef, Level, RuleInfo, MAX_EVENTS_PER_ALERT, MAX_EVIDENCE_PER_ALERT};
pub use attack::navigator_layer;
pub use entities::{extract_entities, Entities, ENTITY_FIELDS};
pub use hunt::{DetectError, Detector, HuntOutcome, RuleSources, Worker, BUILTIN_RULES};
pub use suppress::{Suppression, SuppressionError, Suppressions};
