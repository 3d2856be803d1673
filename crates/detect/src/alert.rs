use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tocsin_event::{Event, Evidence, Timestamp};

use crate::entities::{extract_entities, Entities};

/// Sigma rule levels, lowest first, so `>=` compares severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Level, String> {
        match text.to_ascii_lowercase().as_str() {
            "informational" | "info" => Ok(Level::Informational),
            "low" => Ok(Level::Low),
            "medium" => Ok(Level::Medium),
            "high" => Ok(Level::High),
            "critical" => Ok(Level::Critical),
            _ => Err(format!("unknown level {text:?}: use informational, low, medium, high or critical")),
        }
    }
}

/// Rule metadata an alert carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub level: Level,
    /// Sigma tags as written: `attack.t1110.001`, `attack.credential-access`, …
    pub tags: Vec<String>,
}

impl RuleInfo {
    /// Returns the ATT&CK technique ids among the tags, upper-cased (`T1110.001`).
    pub fn attack_techniques(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|tag| tag.strip_prefix("attack."))
            .filter(|rest| rest.len() > 1 && rest.starts_with(['t', 'T']) && rest[1..2].chars().all(|c| c.is_ascii_digit()))
            .map(|rest| rest.to_ascii_uppercase())
            .collect()
    }
}

/// Location of one matching event, in a form that outlives the event.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

impl From<&Evidence> for EvidenceRef {
    fn from(evidence: &Evidence) -> Self {
        EvidenceRef {
            path: evidence.source.path.clone(),
            sha256: evidence.source.sha256_hex(),
            line: evidence.line,
            offset: evidence.offset,
            record_id: evidence.record_id,
            index: evidence.index,
        }
    }
}

impl fmt::Display for EvidenceRef {
    /// Formats as `path:line N`, `path:record N` or `path:offset N`, then `#index` for an
    /// element of a JSON document. The file digest is left out: it is known only once the
    /// whole file is read, and alert ids, which hash this text, must not depend on timing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        tocsin_event::write_reference(f, &self.path, self.line, self.record_id, self.offset, self.index)
    }
}

/// Evidence references kept per alert. Identical alerts collapse into one, so a brute force
/// can gather thousands of events. The first ones in sorted order are kept, which is
/// deterministic whatever the thread scheduling, and `event_count` still counts them all.
pub const MAX_EVIDENCE_PER_ALERT: usize = 1000;

/// Events kept in memory per alert, for the same reason.
pub const MAX_EVENTS_PER_ALERT: usize = 64;

/// A rule match with the events behind it.
///
/// `id` is stable: SHA-256 over the rule id and the sorted evidence references of its events,
/// so a second run over the same logs recognises the alerts it already recorded.
#[derive(Clone, Debug, Serialize)]
pub struct Alert {
    pub id: String,
    pub rule: RuleInfo,
    /// Number of events behind the alert (for a correlation, the events in its window).
    pub event_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    pub entities: Entities,
    pub evidence: Vec<EvidenceRef>,
    /// How many identical alerts (same rule, same entities) were collapsed into this one.
    pub count: u64,
    /// The suppression that silenced this alert, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed_by: Option<String>,
    /// The matching events themselves; not serialized (the evidence references are).
    #[serde(skip)]
    pub events: Vec<Arc<Event>>,
}

impl Alert {
    /// Builds an alert from its rule and matching events (at least one).
    pub fn new(rule: RuleInfo, events: Vec<Arc<Event>>) -> Alert {
        let mut entities = Entities::new();
        let mut evidence: Vec<EvidenceRef> = Vec::with_capacity(events.len());
        let mut first_seen: Option<Timestamp> = None;
        let mut last_seen: Option<Timestamp> = None;

        for event in &events {
            extract_entities(event, &mut entities);
            evidence.push(EvidenceRef::from(&event.evidence));
            if let Some(ts) = event.timestamp {
                first_seen = Some(first_seen.map_or(ts, |f| f.min(ts)));
                last_seen = Some(last_seen.map_or(ts, |l| l.max(ts)));
            }
        }
        evidence.sort();
        evidence.dedup();
        evidence.truncate(MAX_EVIDENCE_PER_ALERT);

        let event_count = events.len() as u64;
        let mut events = events;
        events.truncate(MAX_EVENTS_PER_ALERT);

        Alert {
            id: alert_id(&rule.id, &evidence),
            rule,
            event_count,
            first_seen,
            last_seen,
            entities,
            evidence,
            count: 1,
            suppressed_by: None,
            events,
        }
    }

    /// Key under which identical alerts collapse: the rule and the entities it names.
    pub fn dedup_key(&self) -> String {
        let entities = serde_json::to_string(&self.entities).unwrap_or_default();
        format!("{}\u{0}{entities}", self.rule.id)
    }
}

/// Returns the first 32 hex digits of SHA-256 over the rule id and the sorted, deduplicated
/// evidence texts, each followed by a NUL byte. The store computes the same id, so a second
/// run over the same logs finds the alerts it already recorded.
pub fn alert_id(rule_id: &str, evidence: &[EvidenceRef]) -> String {
    let mut texts: Vec<String> = evidence.iter().map(ToString::to_string).collect();
    texts.sort_unstable();
    texts.dedup();
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update([0]);
    for text in &texts {
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Alerts collected from a run, with identical ones collapsed into a count.
#[derive(Default)]
pub struct AlertSet {
    alerts: Vec<Alert>,
    by_key: BTreeMap<String, usize>,
}

impl AlertSet {
    /// Adds an alert, or raises the count of the identical alert already present and widens
    /// its time range and evidence.
    pub fn add(&mut self, alert: Alert) {
        let key = alert.dedup_key();
        match self.by_key.get(&key) {
            Some(&index) => {
                let existing = &mut self.alerts[index];
                existing.count += alert.count;
                existing.event_count += alert.event_count;
                existing.first_seen = min_time(existing.first_seen, alert.first_seen);
                existing.last_seen = max_time(existing.last_seen, alert.last_seen);
                existing.evidence.extend(alert.evidence);
                existing.evidence.sort();
                existing.evidence.dedup();
                existing.evidence.truncate(MAX_EVIDENCE_PER_ALERT);
                existing.events.extend(alert.events);
                existing.events.truncate(MAX_EVENTS_PER_ALERT);
            }
            None => {
                self.by_key.insert(key, self.alerts.len());
                self.alerts.push(alert);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Returns the alerts sorted by level (highest first), then rule title, then first seen,
    /// with each id computed over the alert's final evidence.
    pub fn into_sorted(mut self) -> Vec<Alert> {
        for alert in &mut self.alerts {
            alert.id = alert_id(&alert.rule.id, &alert.evidence);
        }
        self.alerts.sort_by(|a, b| {
            b.rule.level.cmp(&a.rule.level).then_with(|| a.rule.title.cmp(&b.rule.title)).then_with(|| a.first_seen.cmp(&b.first_seen))
        });
        self.alerts
    }
}

fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::{Schema, SourceRef, Value};

    fn rule() -> RuleInfo {
        RuleInfo {
            id: "5b3c8f0e-0000-4000-8000-000000000001".into(),
            title: "SSH brute force".into(),
            level: Level::Medium,
            tags: vec!["attack.credential-access".into(), "attack.t1110.001".into()],
        }
    }

    fn failed_login(line: u64, ip: &str) -> Arc<Event> {
        let mut event = Event::new(Schema::Syslog, Evidence::line(SourceRef::new("auth.log"), line, line * 100));
        event.push("host.name", "web-01");
        event.push("source.ip", Value::Ip(ip.parse().unwrap()));
        Arc::new(event)
    }

    #[test]
    fn id_is_stable_and_order_free() {
        let a = Alert::new(rule(), vec![failed_login(1, "203.0.113.7"), failed_login(2, "203.0.113.7")]);
        let b = Alert::new(rule(), vec![failed_login(2, "203.0.113.7"), failed_login(1, "203.0.113.7")]);
        assert_eq!(a.id, b.id);
        assert_eq!(a.id.len(), 32);

        let other = Alert::new(rule(), vec![failed_login(3, "203.0.113.7")]);
        assert_ne!(a.id, other.id);
    }

    #[test]
    fn identical_alerts_collapse() {
        let mut set = AlertSet::default();
        set.add(Alert::new(rule(), vec![failed_login(1, "203.0.113.7")]));
        set.add(Alert::new(rule(), vec![failed_login(2, "203.0.113.7")]));
        set.add(Alert::new(rule(), vec![failed_login(3, "198.51.100.4")]));

        let alerts = set.into_sorted();
        assert_eq!(alerts.len(), 2);
        let collapsed = alerts.iter().find(|a| a.entities["source.ip"].contains("203.0.113.7")).unwrap();
        assert_eq!(collapsed.count, 2);
        assert_eq!(collapsed.evidence.len(), 2);
    }

    #[test]
    fn attack_techniques_from_tags() {
        assert_eq!(rule().attack_techniques(), ["T1110.001"]);
    }

    #[test]
    fn level_order_and_parse() {
        assert!(Level::Critical > Level::High);
        assert_eq!("HIGH".parse::<Level>(), Ok(Level::High));
        assert!("severe".parse::<Level>().unwrap_err().contains("unknown level"));
    }
}
