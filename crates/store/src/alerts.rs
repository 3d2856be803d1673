//! Alerts: rule matches with their entities and evidence references.
//!
//! An alert's id is derived from the rule id and the evidence references of its events
//! ([`AlertRecord::stable_id`]), so recording the same logs twice recognises every alert the
//! first run stored. Entities are kept twice: whole, as JSON on the alert, and one row per
//! (field, value) in `alert_entities`, which incident grouping searches.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{exec, get, get_json, json_text, query, query_one, ts};
use crate::error::Result;
use crate::{Store, WriteTx};

/// One entity of an alert, by its ECS field name (`host.name`, `user.name`, `source.ip`,
/// `cloud.instance.id`, `aws.access_key_id`, …).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Entity {
    pub field: String,
    pub value: String,
}

impl Entity {
    pub fn new(field: impl Into<String>, value: impl Into<String>) -> Entity {
        Entity { field: field.into(), value: value.into() }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.value)
    }
}

/// An alert to record, as the detection runtime produces it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// [`AlertRecord::stable_id`] of `rule_id` and `evidence`.
    pub id: String,
    pub rule_id: String,
    pub rule_title: String,
    /// Sigma level: informational, low, medium, high or critical.
    pub level: String,
    /// Rule tags, ATT&CK ones included (`attack.t1110`).
    pub tags: Vec<String>,
    pub entities: Vec<Entity>,
    /// Evidence references of the matched events (`path:line`, `path#record`, …).
    pub evidence: Vec<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Number of events the alert covers.
    pub count: i64,
}

impl AlertRecord {
    /// Builds a record whose id is [`AlertRecord::stable_id`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rule_id: &str,
        rule_title: &str,
        level: &str,
        tags: Vec<String>,
        entities: Vec<Entity>,
        evidence: Vec<String>,
        first_seen: DateTime<Utc>,
        last_seen: DateTime<Utc>,
        count: i64,
    ) -> AlertRecord {
        AlertRecord {
            id: AlertRecord::stable_id(rule_id, &evidence),
            rule_id: rule_id.to_string(),
            rule_title: rule_title.to_string(),
            level: level.to_string(),
            tags,
            entities,
            evidence,
            first_seen,
            last_seen,
            count,
        }
    }

    /// Returns the first 32 hex digits (128 bits) of SHA-256 over the rule id and the sorted,
    /// deduplicated evidence references, each followed by a NUL byte. The order in which
    /// events matched does not change the id.
    pub fn stable_id(rule_id: &str, evidence: &[String]) -> String {
        let mut refs: Vec<&str> = evidence.iter().map(String::as_str).collect();
        refs.sort_unstable();
        refs.dedup();
        let mut hasher = Sha256::new();
        hasher.update(rule_id.as_bytes());
        hasher.update([0]);
        for reference in refs {
            hasher.update(reference.as_bytes());
            hasher.update([0]);
        }
        hex::encode(&hasher.finalize()[..16])
    }
}

/// An alert as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredAlert {
    #[serde(flatten)]
    pub alert: AlertRecord,
    pub recorded_at: DateTime<Utc>,
}

/// The result of [`WriteTx::record_alerts`]: ids newly stored, and ids already in the store
/// (left unchanged), each in input order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RecordOutcome {
    pub new: Vec<String>,
    pub known: Vec<String>,
}

impl WriteTx<'_> {
    /// Stores the alerts not yet in the store, with their entity rows, and audits the batch
    /// as one entry. Alerts already stored (same stable id) are left as they are.
    pub async fn record_alerts(&mut self, alerts: &[AlertRecord]) -> Result<RecordOutcome> {
        let mut outcome = RecordOutcome::default();
        let now = Utc::now();
        for alert in alerts {
            let exists = query_one(self.conn(), "SELECT id FROM alerts WHERE id = $1", vec![alert.id.clone().into()]).await?;
            if exists.is_some() || outcome.new.contains(&alert.id) {
                outcome.known.push(alert.id.clone());
                continue;
            }
            exec(
                self.conn(),
                "INSERT INTO alerts (id, rule_id, rule_title, level, tags, entities, evidence, first_seen, last_seen, count, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                vec![
                    alert.id.clone().into(),
                    alert.rule_id.clone().into(),
                    alert.rule_title.clone().into(),
                    alert.level.clone().into(),
                    json_text(&alert.tags),
                    json_text(&alert.entities),
                    json_text(&alert.evidence),
                    ts(alert.first_seen),
                    ts(alert.last_seen),
                    alert.count.into(),
                    ts(now),
                ],
            )
            .await?;
            let mut entities = alert.entities.clone();
            entities.sort();
            entities.dedup();
            for entity in entities {
                exec(self.conn(), "INSERT INTO alert_entities (alert_id, field, value) VALUES ($1, $2, $3)", vec![
                    alert.id.clone().into(),
                    entity.field.into(),
                    entity.value.into(),
                ])
                .await?;
            }
            outcome.new.push(alert.id.clone());
        }
        if !outcome.new.is_empty() {
            let detail = serde_json::json!({ "new": outcome.new, "known": outcome.known.len() });
            self.audit("alerts.record", &format!("{} alerts", outcome.new.len()), detail).await?;
        }
        Ok(outcome)
    }
}

const ALERT_COLUMNS: &str = "a.id, a.rule_id, a.rule_title, a.level, a.tags, a.entities, a.evidence, a.first_seen, a.last_seen, a.count, a.recorded_at";

fn alert_from_row(row: &sea_orm::QueryResult) -> Result<StoredAlert> {
    Ok(StoredAlert {
        alert: AlertRecord {
            id: get(row, "id")?,
            rule_id: get(row, "rule_id")?,
            rule_title: get(row, "rule_title")?,
            level: get(row, "level")?,
            tags: get_json(row, "tags")?,
            entities: get_json(row, "entities")?,
            evidence: get_json(row, "evidence")?,
            first_seen: get(row, "first_seen")?,
            last_seen: get(row, "last_seen")?,
            count: get(row, "count")?,
        },
        recorded_at: get(row, "recorded_at")?,
    })
}

impl Store {
    /// Stores alerts in their own write transaction; see [`WriteTx::record_alerts`].
    pub async fn record_alerts(&self, actor: &str, alerts: &[AlertRecord]) -> Result<RecordOutcome> {
        let mut tx = self.begin_write(actor).await?;
        let outcome = tx.record_alerts(alerts).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub async fn alert(&self, id: &str) -> Result<Option<StoredAlert>> {
        let row = query_one(self.connection(), &format!("SELECT {ALERT_COLUMNS} FROM alerts a WHERE a.id = $1"), vec![id.into()]).await?;
        row.as_ref().map(alert_from_row).transpose()
    }

    /// Returns the alerts last seen at or after `since`, oldest first.
    pub async fn alerts_since(&self, since: DateTime<Utc>) -> Result<Vec<StoredAlert>> {
        let rows = query(
            self.connection(),
            &format!("SELECT {ALERT_COLUMNS} FROM alerts a WHERE a.last_seen >= $1 ORDER BY a.first_seen, a.id"),
            vec![ts(since)],
        )
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// Returns the alerts of an incident with the reason each joined, oldest first.
    pub async fn incident_alerts(&self, incident_id: i64) -> Result<Vec<(StoredAlert, String, DateTime<Utc>)>> {
        let rows = query(
            self.connection(),
            &format!(
                "SELECT {ALERT_COLUMNS}, ia.reason, ia.joined_at FROM alerts a JOIN incident_alerts ia ON ia.alert_id = a.id \
                 WHERE ia.incident_id = $1 ORDER BY a.first_seen, a.id"
            ),
            vec![incident_id.into()],
        )
        .await?;
        rows.iter().map(|row| Ok((alert_from_row(row)?, get(row, "reason")?, get(row, "joined_at")?))).collect()
    }
}
