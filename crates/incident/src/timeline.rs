//! An incident's timeline: alerts, transitions, response actions, notes and evidence in one
//! list, ordered by time (ties keep that kind order, then the order of recording).

use chrono::{DateTime, Utc};
use serde::Serialize;
use tocsin_store::Store;

use crate::error::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Alert,
    Transition,
    Action,
    Note,
    Evidence,
}

impl EntryKind {
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Alert => "alert",
            EntryKind::Transition => "transition",
            EntryKind::Action => "action",
            EntryKind::Note => "note",
            EntryKind::Evidence => "evidence",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    /// The user behind the entry, or `None` for alerts, which come from detection.
    pub actor: Option<String>,
    pub summary: String,
}

pub async fn timeline(store: &Store, id: i64) -> Result<Vec<TimelineEntry>> {
    let mut entries = Vec::new();
    for (stored, reason, _) in store.incident_alerts(id).await? {
        let alert = stored.alert;
        entries.push(TimelineEntry {
            at: alert.first_seen,
            kind: EntryKind::Alert,
            actor: None,
            summary: format!("{} [{}] ×{}: {}", alert.rule_title, alert.level, alert.count, reason),
        });
    }
    for t in store.transitions(id).await? {
        let summary = match &t.from_state {
            Some(from) => format!("{from} → {}", t.to_state),
            None => format!("opened as {}", t.to_state),
        };
        let summary = match &t.reason {
            Some(reason) if t.from_state.is_some() => format!("{summary}: {reason}"),
            _ => summary,
        };
        entries.push(TimelineEntry { at: t.at, kind: EntryKind::Transition, actor: Some(t.actor), summary });
    }
    for action in store.actions(id).await? {
        entries.push(TimelineEntry {
            at: action.requested_at,
            kind: EntryKind::Action,
            actor: Some(action.requested_by.clone()),
            summary: format!("{} {} requested", action.kind, action.target),
        });
        if let Some(finished) = action.finished_at {
            entries.push(TimelineEntry {
                at: finished,
                kind: EntryKind::Action,
                actor: Some(action.requested_by.clone()),
                summary: format!("{} {} {}", action.kind, action.target, action.status),
            });
        }
    }
    for note in store.notes(id).await? {
        entries.push(TimelineEntry { at: note.at, kind: EntryKind::Note, actor: Some(note.author), summary: note.body });
    }
    for item in store.evidence(id).await? {
        entries.push(TimelineEntry {
            at: item.collected_at,
            kind: EntryKind::Evidence,
            actor: Some(item.collected_by),
            summary: format!("{} collected from {} (SHA-256 {})", item.name, item.origin, item.sha256),
        });
    }
    // A stable sort keeps the recording order within one time and kind.
    entries.sort_by_key(|e| (e.at, e.kind));
    Ok(entries)
}
