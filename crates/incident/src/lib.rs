//! Incidents: alerts grouped by shared entities and time, classified by a policy the team
//! edits, moved through the response lifecycle by the roles that own each step, measured,
//! and written up for the review.
//!
//! The data lives in `tocsin-store`, and this crate contains the rules. Entry points:
//! - [`grouping::record_and_group`]: store new alerts and attach each to an incident;
//! - [`lifecycle::move_incident`]: a state change, checked against the lifecycle and roles;
//! - [`classify::classify_incident`]: apply the policy, with an optional analyst override;
//! - [`metrics`], [`timeline`] and [`report`] for reading an incident back.

pub mod classify;
pub mod error;
pub mod grouping;
pub mod inventory;
pub mod lifecycle;
pub mod metrics;
pub mod policy;
pub mod report;
pub mod timeline;

pub use crate::error::{IncidentError, Result};
pub use crate::lifecycle::{Actor, Role, State};
