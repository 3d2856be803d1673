//! Grouping alerts into incidents.
//!
//! Each alert, in input order, joins the open incident that shares one of its grouping
//! entities and whose alerts come within the window of it. The window reaches both ways,
//! because `hunt` reads files in any order. Without such an incident the alert opens a new
//! one. Times are event times, not the time of grouping, so old logs group as they would have
//! live.
//! Rules that keep grouping explainable and bounded:
//!
//! - Only the configured fields group (`host.name`, `user.name`, `source.ip`,
//!   `cloud.instance.id`, `aws.access_key_id` by default), and configured non-grouping values
//!   (service accounts such as SYSTEM, NAT and proxy addresses, the account id) never do,
//!   because they would glue unrelated activity together.
//! - An alert joins at most one incident: the match with the latest alert (the higher id on
//!   a tie). Incidents therefore never merge through chains of shared entities.
//! - An alert already linked (same stable id) is left where it is; a repeat of the same
//!   activity with new events joins its incident and raises the incident's alert count.
//! - The incident keeps the reason per alert: "joined because source.ip 203.0.113.7 matched".
//!
//! The outcome depends only on the store's contents and the input order.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tocsin_store::incidents::NewIncident;
use tocsin_store::{AlertRecord, Entity, RecordOutcome, Store, WriteTx};

use crate::classify::ClassificationRecord;
use crate::error::{IncidentError, Result};
use crate::inventory::Inventory;
use crate::lifecycle::State;
use crate::policy::{Policy, Subject};

/// Grouping settings, from the `[incident]` section of the configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupingConfig {
    /// How long after an incident's last activity a new alert can still join it, as a
    /// duration such as `30m`, `24h` or `7d`.
    pub window: String,
    /// Entity fields that group, in the order reasons name them.
    pub fields: Vec<String>,
    /// Entity values that never group.
    pub non_grouping: Vec<NonGrouping>,
}

/// Values of one field that never group. A value may end in `*` to match a prefix or be
/// `*` alone for every value; comparison ignores ASCII case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonGrouping {
    pub field: String,
    pub values: Vec<String>,
}

impl Default for GroupingConfig {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        GroupingConfig {
            window: "24h".to_string(),
            fields: strings(&["host.name", "user.name", "source.ip", "cloud.instance.id", "aws.access_key_id"]),
            non_grouping: vec![
                NonGrouping {
                    field: "user.name".into(),
                    values: strings(&["SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE", "ANONYMOUS LOGON", "-", ""]),
                },
                NonGrouping { field: "source.ip".into(), values: strings(&["127.0.0.1", "::1", "-", ""]) },
                NonGrouping { field: "cloud.account.id".into(), values: strings(&["*"]) },
            ],
        }
    }
}

impl GroupingConfig {
    pub fn window(&self) -> Result<Duration> {
        parse_duration(&self.window)
            .ok_or_else(|| IncidentError::Invalid(format!("invalid grouping window {:?}: use a number and s, m, h or d, e.g. 24h", self.window)))
    }

    /// Returns whether `entity` may group: its field is configured and its value is not excluded.
    pub fn groups(&self, entity: &Entity) -> bool {
        if !self.fields.contains(&entity.field) {
            return false;
        }
        !self.non_grouping.iter().filter(|n| n.field == entity.field).any(|n| n.values.iter().any(|pattern| matches_pattern(pattern, &entity.value)))
    }

    /// Returns the alert's grouping entities, ordered by the configured field order, then value.
    fn grouping_entities(&self, alert: &AlertRecord) -> Vec<Entity> {
        let mut entities: Vec<Entity> = alert.entities.iter().filter(|e| self.groups(e)).cloned().collect();
        entities.sort_by_key(|e| (self.fields.iter().position(|f| *f == e.field), e.value.clone()));
        entities.dedup();
        entities
    }
}

fn matches_pattern(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.len() >= prefix.len() && value.is_char_boundary(prefix.len()) && value[..prefix.len()].eq_ignore_ascii_case(prefix),
        None => pattern.eq_ignore_ascii_case(value),
    }
}

/// Parses `90s`, `30m`, `24h`, `7d`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    if number < 0 {
        return None;
    }
    match unit {
        's' => Some(Duration::seconds(number)),
        'm' => Some(Duration::minutes(number)),
        'h' => Some(Duration::hours(number)),
        'd' => Some(Duration::days(number)),
        _ => None,
    }
}

/// Settings of one grouping run: configuration, policy, inventory, and the origin and time
/// given to new incidents.
#[derive(Clone, Debug)]
pub struct GroupContext<'a> {
    pub config: &'a GroupingConfig,
    pub policy: &'a Policy,
    pub inventory: &'a Inventory,
    /// `detection` for live detection, `hunt` for logs read after the fact (the time to
    /// detect is then the age of the logs).
    pub origin: &'a str,
    /// When the incidents count as identified.
    pub now: DateTime<Utc>,
}

/// The placement of one alert in an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub alert_id: String,
    pub incident_id: i64,
    /// Whether the alert opened the incident.
    pub opened: bool,
    /// Whether the alert was already linked before this call.
    pub already_linked: bool,
    pub reason: String,
}

/// The result of [`record_and_group`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct GroupOutcome {
    pub recorded: RecordOutcome,
    pub placements: Vec<Placement>,
}

impl GroupOutcome {
    /// Ids of the incidents opened by this call, in order.
    pub fn opened(&self) -> Vec<i64> {
        self.placements.iter().filter(|p| p.opened).map(|p| p.incident_id).collect()
    }
}

/// Stores the alerts and places each in an incident, all in one write transaction: the call
/// the detection runtime makes after each batch of alerts.
pub async fn record_and_group(store: &Store, actor: &str, alerts: &[AlertRecord], context: &GroupContext<'_>) -> Result<GroupOutcome> {
    let mut tx = store.begin_write(actor).await?;
    let recorded = tx.record_alerts(alerts).await?;
    let placements = group(&mut tx, alerts, context).await?;
    tx.commit().await?;
    Ok(GroupOutcome { recorded, placements })
}

/// Places each alert (already recorded in this transaction or before) in an incident.
pub async fn group(tx: &mut WriteTx<'_>, alerts: &[AlertRecord], context: &GroupContext<'_>) -> Result<Vec<Placement>> {
    let window = context.config.window()?;
    let mut placements = Vec::with_capacity(alerts.len());
    for alert in alerts {
        if let Some(incident_id) = tx.incident_of_alert(&alert.id).await? {
            placements.push(Placement {
                alert_id: alert.id.clone(),
                incident_id,
                opened: false,
                already_linked: true,
                reason: "already recorded".to_string(),
            });
            continue;
        }
        let entities = context.config.grouping_entities(alert);
        let since = alert.first_seen - window;
        let until = alert.last_seen + window;
        // The best match: the latest alert, then the higher id; with the first entity (in
        // field order) that matched it.
        let mut best: Option<(DateTime<Utc>, i64, &Entity)> = None;
        for entity in &entities {
            for found in tx.open_incidents_with_entity(entity, since, until).await? {
                let better = match &best {
                    None => true,
                    Some((at, id, _)) => (found.last_alert_at, found.incident_id) > (*at, *id),
                };
                if better {
                    best = Some((found.last_alert_at, found.incident_id, entity));
                }
            }
        }
        let placement = match best {
            Some((_, incident_id, entity)) => {
                let reason = format!("joined because {} {} matched", entity.field, entity.value);
                tx.link_alert(incident_id, alert, &reason).await?;
                raise_severity(tx, incident_id, alert, context).await?;
                Placement { alert_id: alert.id.clone(), incident_id, opened: false, already_linked: false, reason }
            }
            None => {
                let incident_id = open_for_alert(tx, alert, &entities, context).await?;
                let reason = format!("opened by rule {}", alert.rule_id);
                tx.link_alert(incident_id, alert, &reason).await?;
                Placement { alert_id: alert.id.clone(), incident_id, opened: true, already_linked: false, reason }
            }
        };
        placements.push(placement);
    }
    Ok(placements)
}

fn title_for(alert: &AlertRecord, entities: &[Entity]) -> String {
    match entities.first() {
        Some(entity) => format!("{} ({} {})", alert.rule_title, entity.field, entity.value),
        None => alert.rule_title.clone(),
    }
}

async fn open_for_alert(tx: &mut WriteTx<'_>, alert: &AlertRecord, entities: &[Entity], context: &GroupContext<'_>) -> Result<i64> {
    let assessment = context.policy.assess(
        &Subject { rule_id: &alert.rule_id, level: &alert.level, tags: &alert.tags, entities: &alert.entities },
        context.inventory,
    );
    let new = NewIncident {
        title: title_for(alert, entities),
        description: format!("Opened by rule {} ({}).", alert.rule_id, alert.rule_title),
        state: State::Identified.name().to_string(),
        origin: context.origin.to_string(),
        reported_by: None,
        severity: assessment.severity.name().to_string(),
        category: Some(assessment.category.clone()),
        classification: serde_json::to_value(ClassificationRecord { computed: assessment, decision: None }).unwrap_or_default(),
        first_event_at: Some(alert.first_seen),
        identified_at: context.now,
    };
    Ok(tx.insert_incident(&new).await?)
}

/// Raises an unclassified incident's computed severity when a joining alert scores higher.
/// Once an analyst has classified it, the analyst's values stand.
async fn raise_severity(tx: &mut WriteTx<'_>, incident_id: i64, alert: &AlertRecord, context: &GroupContext<'_>) -> Result<()> {
    let incident = tx.incident(incident_id).await?;
    let Ok(mut record) = serde_json::from_value::<ClassificationRecord>(incident.classification.clone()) else { return Ok(()) };
    if record.decision.is_some() {
        return Ok(());
    }
    let assessment = context.policy.assess(
        &Subject { rule_id: &alert.rule_id, level: &alert.level, tags: &alert.tags, entities: &alert.entities },
        context.inventory,
    );
    if assessment.severity <= record.computed.severity {
        return Ok(());
    }
    record.computed = assessment;
    let update = tocsin_store::incidents::ClassificationUpdate {
        category: Some(record.computed.category.clone()),
        functional_impact: incident.functional_impact.clone(),
        information_impact: incident.information_impact.clone(),
        recoverability: incident.recoverability.clone(),
        severity: record.computed.severity.name().to_string(),
        computed_severity: record.computed.severity.name().to_string(),
        severity_override_reason: None,
        classification: serde_json::to_value(&record).unwrap_or_default(),
    };
    tx.update_classification(incident_id, &update).await?;
    Ok(())
}

/// A manual report from a user or IT staff, opened into the same queue as detections.
#[derive(Clone, Debug, Default)]
pub struct ManualReport {
    pub title: String,
    pub description: String,
    pub reported_by: String,
    /// Sigma-style level the reporter gives, for the policy (`medium` when empty).
    pub level: String,
    pub entities: Vec<Entity>,
    pub first_event_at: Option<DateTime<Utc>>,
}

/// Opens an incident from a manual report, assessed by the policy like an alert would be.
/// Its entities become observables.
pub async fn open_manual(store: &Store, actor: &str, report: &ManualReport, policy: &Policy, inventory: &Inventory) -> Result<i64> {
    if report.title.trim().is_empty() {
        return Err(IncidentError::Invalid("a report needs a title".to_string()));
    }
    let level = if report.level.is_empty() { "medium" } else { report.level.as_str() };
    let assessment = policy.assess(&Subject { rule_id: "manual-report", level, tags: &[], entities: &report.entities }, inventory);
    let mut tx = store.begin_write(actor).await?;
    let id = tx
        .insert_incident(&NewIncident {
            title: report.title.clone(),
            description: report.description.clone(),
            state: State::Identified.name().to_string(),
            origin: "report".to_string(),
            reported_by: Some(report.reported_by.clone()),
            severity: assessment.severity.name().to_string(),
            category: Some(assessment.category.clone()),
            classification: serde_json::to_value(ClassificationRecord { computed: assessment, decision: None }).unwrap_or_default(),
            first_event_at: report.first_event_at,
            identified_at: Utc::now(),
        })
        .await?;
    for entity in &report.entities {
        tx.add_observable(id, observable_kind(&entity.field), &entity.value, Some(&entity.field)).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Returns the observable kind for an entity field.
pub fn observable_kind(field: &str) -> &'static str {
    match field {
        "source.ip" | "destination.ip" | "host.ip" | "client.ip" => "ip",
        "user.name" | "user.id" => "user",
        "host.name" | "host.hostname" => "host",
        "cloud.instance.id" => "instance",
        "aws.access_key_id" => "access-key",
        "file.hash.sha256" | "file.hash.md5" | "file.hash.sha1" | "process.hash.sha256" => "hash",
        "url.full" | "url.original" => "url",
        "dns.question.name" | "destination.domain" => "domain",
        "file.path" | "process.executable" => "file",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("24h"), Some(Duration::hours(24)));
        assert_eq!(parse_duration("30m"), Some(Duration::minutes(30)));
        assert_eq!(parse_duration("7d"), Some(Duration::days(7)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("-1h"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn non_grouping_values_excluded() {
        let config = GroupingConfig::default();
        assert!(!config.groups(&Entity::new("user.name", "system")));
        assert!(config.groups(&Entity::new("user.name", "alice")));
        assert!(!config.groups(&Entity::new("cloud.account.id", "111122223333")));
        assert!(!config.groups(&Entity::new("process.executable", "/usr/bin/python3")));
        let mut nat = config.clone();
        nat.non_grouping.push(NonGrouping { field: "source.ip".into(), values: vec!["198.51.100.*".into()] });
        assert!(!nat.groups(&Entity::new("source.ip", "198.51.100.20")));
        assert!(nat.groups(&Entity::new("source.ip", "203.0.113.7")));
    }
}
