//! Incidents and what is recorded on them: linked alerts, state transitions, notes, tasks,
//! observables, response actions, lessons learned and action items.
//!
//! The store keeps states, severities and categories as text and enforces no rules about
//! them. The lifecycle and the roles that may move an incident live in `tocsin-incident`.
//! Every write method audits itself.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{exec, get, get_json, json_text, opt_str, opt_ts, query, query_one, ts};
use crate::error::{Result, StoreError};
use crate::{Store, WriteTx};

/// An incident as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IncidentRow {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub state: String,
    /// `detection` (opened by grouping) or `report` (a manual report).
    pub origin: String,
    pub reported_by: Option<String>,
    pub assignee: Option<String>,
    pub category: Option<String>,
    pub functional_impact: Option<String>,
    pub information_impact: Option<String>,
    pub recoverability: Option<String>,
    /// The severity in force: the override when there is one, else the computed one.
    pub severity: String,
    pub computed_severity: String,
    pub severity_override_reason: Option<String>,
    /// The classification's inputs and reasons, as the incident crate writes them.
    pub classification: serde_json::Value,
    pub alert_count: i64,
    /// Time of the earliest event behind the incident, when known.
    pub first_event_at: Option<DateTime<Utc>>,
    /// End of the latest alert linked (its last event); grouping windows count from here.
    pub last_alert_at: Option<DateTime<Utc>>,
    pub identified_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Fields of a new incident; the store assigns the id.
#[derive(Clone, Debug, Default)]
pub struct NewIncident {
    pub title: String,
    pub description: String,
    pub state: String,
    pub origin: String,
    pub reported_by: Option<String>,
    pub severity: String,
    pub category: Option<String>,
    pub classification: serde_json::Value,
    pub first_event_at: Option<DateTime<Utc>>,
    pub identified_at: DateTime<Utc>,
}

/// A classification to store; `severity` is the one in force, `computed_severity` the
/// policy's.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ClassificationUpdate {
    pub category: Option<String>,
    pub functional_impact: Option<String>,
    pub information_impact: Option<String>,
    pub recoverability: Option<String>,
    pub severity: String,
    pub computed_severity: String,
    pub severity_override_reason: Option<String>,
    pub classification: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    pub id: i64,
    pub incident_id: i64,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Note {
    pub id: i64,
    pub incident_id: i64,
    pub author: String,
    pub at: DateTime<Utc>,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Task {
    pub id: i64,
    pub incident_id: i64,
    pub title: String,
    pub owner: Option<String>,
    /// `open` or `done`.
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Observable {
    pub id: i64,
    pub incident_id: i64,
    /// `ip`, `user`, `host`, `hash`, `access-key`, `domain`, `url`, `file`, `instance`, …
    pub kind: String,
    pub value: String,
    pub note: Option<String>,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

/// A response action and its result, written by the response work.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Action {
    pub id: i64,
    pub incident_id: i64,
    pub kind: String,
    pub target: String,
    /// `requested`, `running`, `succeeded`, `failed`, `undone`, …
    pub status: String,
    /// Whether the action contains the incident (isolation, key deactivation, IP deny);
    /// the first successful one ends the time to contain.
    pub containment: bool,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub result: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lesson {
    pub id: i64,
    pub incident_id: i64,
    pub question: String,
    pub answer: String,
    pub author: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActionItem {
    pub id: i64,
    pub incident_id: i64,
    pub title: String,
    pub owner: Option<String>,
    pub due: Option<DateTime<Utc>>,
    /// `open` or `done`.
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A filter for [`Store::incidents`].
#[derive(Clone, Debug, Default)]
pub struct IncidentFilter {
    /// Only these states; empty means every state.
    pub states: Vec<String>,
    /// Only incidents active at or after this time.
    pub active_since: Option<DateTime<Utc>>,
    pub limit: Option<u64>,
}

/// An open incident that has an alert with a given entity, found by
/// [`WriteTx::open_incidents_with_entity`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityMatch {
    pub incident_id: i64,
    pub last_alert_at: DateTime<Utc>,
}

const INCIDENT_COLUMNS: &str = "id, title, description, state, origin, reported_by, assignee, category, functional_impact, \
     information_impact, recoverability, severity, computed_severity, severity_override_reason, classification, \
     alert_count, first_event_at, last_alert_at, identified_at, last_activity_at, updated_at";

fn incident_from_row(row: &sea_orm::QueryResult) -> Result<IncidentRow> {
    Ok(IncidentRow {
        id: get(row, "id")?,
        title: get(row, "title")?,
        description: get(row, "description")?,
        state: get(row, "state")?,
        origin: get(row, "origin")?,
        reported_by: get(row, "reported_by")?,
        assignee: get(row, "assignee")?,
        category: get(row, "category")?,
        functional_impact: get(row, "functional_impact")?,
        information_impact: get(row, "information_impact")?,
        recoverability: get(row, "recoverability")?,
        severity: get(row, "severity")?,
        computed_severity: get(row, "computed_severity")?,
        severity_override_reason: get(row, "severity_override_reason")?,
        classification: get_json(row, "classification")?,
        alert_count: get(row, "alert_count")?,
        first_event_at: get(row, "first_event_at")?,
        last_alert_at: get(row, "last_alert_at")?,
        identified_at: get(row, "identified_at")?,
        last_activity_at: get(row, "last_activity_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

fn subject(incident_id: i64) -> String {
    format!("incident {incident_id}")
}

impl WriteTx<'_> {
    /// Inserts an incident and its first transition (from no state to `state`) and returns
    /// its id.
    pub async fn insert_incident(&mut self, new: &NewIncident) -> Result<i64> {
        let id = self.next_id("incidents").await?;
        let now = Utc::now();
        exec(
            self.conn(),
            &format!(
                "INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, NULL, $7, NULL, NULL, NULL, $8, $8, NULL, $9, 0, $10, NULL, $11, $11, $12)"
            ),
            vec![
                id.into(),
                new.title.clone().into(),
                new.description.clone().into(),
                new.state.clone().into(),
                new.origin.clone().into(),
                opt_str(new.reported_by.as_deref()),
                opt_str(new.category.as_deref()),
                new.severity.clone().into(),
                json_text(&new.classification),
                opt_ts(new.first_event_at),
                ts(new.identified_at),
                ts(now),
            ],
        )
        .await?;
        self.audit("incident.open", &subject(id), serde_json::json!({
            "title": new.title, "origin": new.origin, "state": new.state, "severity": new.severity,
            "reported_by": new.reported_by,
        }))
        .await?;
        self.insert_transition(id, None, &new.state, new.identified_at, Some("opened")).await?;
        Ok(id)
    }

    /// Returns the open incidents (any state but `closed` and `false_positive`) with an alert
    /// carrying `entity` whose alerts overlap `[since, until]`: the latest alert ends at or
    /// after `since` and the first event is at or before `until`. Most recent alert first,
    /// then the higher id.
    pub async fn open_incidents_with_entity(
        &self,
        entity: &crate::Entity,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<EntityMatch>> {
        let rows = query(
            self.conn(),
            "SELECT DISTINCT i.id, i.last_alert_at FROM alert_entities ae \
             JOIN incident_alerts ia ON ia.alert_id = ae.alert_id \
             JOIN incidents i ON i.id = ia.incident_id \
             WHERE ae.field = $1 AND ae.value = $2 AND i.state NOT IN ('closed', 'false_positive') \
             AND i.last_alert_at >= $3 AND i.first_event_at <= $4 ORDER BY i.last_alert_at DESC, i.id DESC",
            vec![entity.field.clone().into(), entity.value.clone().into(), ts(since), ts(until)],
        )
        .await?;
        rows.iter()
            .map(|row| Ok(EntityMatch { incident_id: get(row, "id")?, last_alert_at: get(row, "last_alert_at")? }))
            .collect()
    }

    /// Returns the incident an alert already belongs to.
    pub async fn incident_of_alert(&self, alert_id: &str) -> Result<Option<i64>> {
        let row = query_one(self.conn(), "SELECT incident_id FROM incident_alerts WHERE alert_id = $1", vec![alert_id.into()]).await?;
        row.map(|row| get(&row, "incident_id")).transpose()
    }

    /// Links an alert to an incident with the reason it joined, raises the incident's alert
    /// count and moves its last activity and first event time to cover the alert.
    pub async fn link_alert(&mut self, incident_id: i64, alert: &crate::AlertRecord, reason: &str) -> Result<()> {
        exec(self.conn(), "INSERT INTO incident_alerts (alert_id, incident_id, reason, joined_at) VALUES ($1, $2, $3, $4)", vec![
            alert.id.clone().into(),
            incident_id.into(),
            reason.into(),
            ts(Utc::now()),
        ])
        .await?;
        let incident = self.incident(incident_id).await?;
        let last_activity = incident.last_activity_at.max(crate::micros(alert.last_seen));
        let last_alert = incident.last_alert_at.map_or(alert.last_seen, |t| t.max(alert.last_seen));
        let first_event = incident.first_event_at.map_or(alert.first_seen, |t| t.min(alert.first_seen));
        exec(
            self.conn(),
            "UPDATE incidents SET alert_count = alert_count + 1, last_activity_at = $2, first_event_at = $3, last_alert_at = $4, \
             updated_at = $5 WHERE id = $1",
            vec![incident_id.into(), ts(last_activity), ts(first_event), ts(last_alert), ts(Utc::now())],
        )
        .await?;
        self.audit("incident.alert", &subject(incident_id), serde_json::json!({ "alert": alert.id, "reason": reason })).await?;
        Ok(())
    }

    /// Returns an incident as read inside this transaction, with its uncommitted changes.
    pub async fn incident(&self, id: i64) -> Result<IncidentRow> {
        let row = query_one(self.conn(), &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"), vec![id.into()]).await?;
        match row {
            Some(row) => incident_from_row(&row),
            None => Err(StoreError::NotFound { what: "incident", id: id.to_string() }),
        }
    }

    pub async fn update_classification(&mut self, id: i64, update: &ClassificationUpdate) -> Result<()> {
        let changed = exec(
            self.conn(),
            "UPDATE incidents SET category = $2, functional_impact = $3, information_impact = $4, recoverability = $5, \
             severity = $6, computed_severity = $7, severity_override_reason = $8, classification = $9, updated_at = $10 WHERE id = $1",
            vec![
                id.into(),
                opt_str(update.category.as_deref()),
                opt_str(update.functional_impact.as_deref()),
                opt_str(update.information_impact.as_deref()),
                opt_str(update.recoverability.as_deref()),
                update.severity.clone().into(),
                update.computed_severity.clone().into(),
                opt_str(update.severity_override_reason.as_deref()),
                json_text(&update.classification),
                ts(Utc::now()),
            ],
        )
        .await?;
        ensure_found(changed, "incident", id)?;
        self.audit("incident.classify", &subject(id), serde_json::to_value(update).unwrap_or_default()).await?;
        Ok(())
    }

    /// Records a state change: sets the incident's state and inserts the transition.
    pub async fn set_state(&mut self, id: i64, to_state: &str, at: DateTime<Utc>, reason: Option<&str>) -> Result<Transition> {
        let incident = self.incident(id).await?;
        exec(self.conn(), "UPDATE incidents SET state = $2, updated_at = $3, last_activity_at = $4 WHERE id = $1", vec![
            id.into(),
            to_state.into(),
            ts(Utc::now()),
            ts(incident.last_activity_at.max(crate::micros(at))),
        ])
        .await?;
        self.audit("incident.move", &subject(id), serde_json::json!({ "from": incident.state, "to": to_state, "reason": reason })).await?;
        self.insert_transition(id, Some(&incident.state), to_state, at, reason).await
    }

    async fn insert_transition(&mut self, id: i64, from: Option<&str>, to: &str, at: DateTime<Utc>, reason: Option<&str>) -> Result<Transition> {
        let transition_id = self.next_id("transitions").await?;
        exec(
            self.conn(),
            "INSERT INTO transitions (id, incident_id, from_state, to_state, actor, at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![transition_id.into(), id.into(), opt_str(from), to.into(), self.actor().into(), ts(at), opt_str(reason)],
        )
        .await?;
        Ok(Transition {
            id: transition_id,
            incident_id: id,
            from_state: from.map(str::to_string),
            to_state: to.to_string(),
            actor: self.actor().to_string(),
            at: crate::micros(at),
            reason: reason.map(str::to_string),
        })
    }

    pub async fn set_assignee(&mut self, id: i64, assignee: Option<&str>) -> Result<()> {
        let changed = exec(self.conn(), "UPDATE incidents SET assignee = $2, updated_at = $3 WHERE id = $1", vec![
            id.into(),
            opt_str(assignee),
            ts(Utc::now()),
        ])
        .await?;
        ensure_found(changed, "incident", id)?;
        self.audit("incident.assign", &subject(id), serde_json::json!({ "assignee": assignee })).await?;
        Ok(())
    }

    pub async fn add_note(&mut self, incident_id: i64, body: &str) -> Result<i64> {
        self.incident(incident_id).await?;
        let id = self.next_id("notes").await?;
        exec(self.conn(), "INSERT INTO notes (id, incident_id, author, at, body) VALUES ($1, $2, $3, $4, $5)", vec![
            id.into(),
            incident_id.into(),
            self.actor().into(),
            ts(Utc::now()),
            body.into(),
        ])
        .await?;
        self.audit("incident.note", &subject(incident_id), serde_json::json!({ "note": id, "body": body })).await?;
        Ok(id)
    }

    pub async fn add_task(&mut self, incident_id: i64, title: &str, owner: Option<&str>) -> Result<i64> {
        self.incident(incident_id).await?;
        let id = self.next_id("tasks").await?;
        exec(
            self.conn(),
            "INSERT INTO tasks (id, incident_id, title, owner, status, created_by, created_at, done_at) \
             VALUES ($1, $2, $3, $4, 'open', $5, $6, NULL)",
            vec![id.into(), incident_id.into(), title.into(), opt_str(owner), self.actor().into(), ts(Utc::now())],
        )
        .await?;
        self.audit("incident.task", &subject(incident_id), serde_json::json!({ "task": id, "title": title, "owner": owner })).await?;
        Ok(id)
    }

    /// Marks a task `done` or back to `open`.
    pub async fn set_task_status(&mut self, task_id: i64, done: bool) -> Result<()> {
        let (status, done_at) = if done { ("done", Some(Utc::now())) } else { ("open", None) };
        let row = query_one(self.conn(), "SELECT incident_id FROM tasks WHERE id = $1", vec![task_id.into()]).await?;
        let Some(row) = row else { return Err(StoreError::NotFound { what: "task", id: task_id.to_string() }) };
        let incident_id: i64 = get(&row, "incident_id")?;
        exec(self.conn(), "UPDATE tasks SET status = $2, done_at = $3 WHERE id = $1", vec![task_id.into(), status.into(), opt_ts(done_at)]).await?;
        self.audit("incident.task.status", &subject(incident_id), serde_json::json!({ "task": task_id, "status": status })).await?;
        Ok(())
    }

    /// Adds an observable; adding one that the incident already has returns the existing id.
    pub async fn add_observable(&mut self, incident_id: i64, kind: &str, value: &str, note: Option<&str>) -> Result<i64> {
        self.incident(incident_id).await?;
        let existing = query_one(
            self.conn(),
            "SELECT id FROM observables WHERE incident_id = $1 AND kind = $2 AND value = $3",
            vec![incident_id.into(), kind.into(), value.into()],
        )
        .await?;
        if let Some(row) = existing {
            return get(&row, "id");
        }
        let id = self.next_id("observables").await?;
        exec(
            self.conn(),
            "INSERT INTO observables (id, incident_id, kind, value, note, added_by, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![id.into(), incident_id.into(), kind.into(), value.into(), opt_str(note), self.actor().into(), ts(Utc::now())],
        )
        .await?;
        self.audit("incident.observable", &subject(incident_id), serde_json::json!({ "kind": kind, "value": value })).await?;
        Ok(id)
    }

    /// Records a requested response action.
    pub async fn add_action(&mut self, incident_id: i64, kind: &str, target: &str, containment: bool) -> Result<i64> {
        self.incident(incident_id).await?;
        let id = self.next_id("actions").await?;
        exec(
            self.conn(),
            "INSERT INTO actions (id, incident_id, kind, target, status, containment, requested_by, requested_at, finished_at, result) \
             VALUES ($1, $2, $3, $4, 'requested', $5, $6, $7, NULL, '{}')",
            vec![id.into(), incident_id.into(), kind.into(), target.into(), i64::from(containment).into(), self.actor().into(), ts(Utc::now())],
        )
        .await?;
        self.audit("action.request", &subject(incident_id), serde_json::json!({ "action": id, "kind": kind, "target": target })).await?;
        Ok(id)
    }

    /// Records an action's status and result; `finished_at` marks a final status.
    pub async fn set_action_result(
        &mut self,
        action_id: i64,
        status: &str,
        finished_at: Option<DateTime<Utc>>,
        result: &serde_json::Value,
    ) -> Result<()> {
        let row = query_one(self.conn(), "SELECT incident_id FROM actions WHERE id = $1", vec![action_id.into()]).await?;
        let Some(row) = row else { return Err(StoreError::NotFound { what: "action", id: action_id.to_string() }) };
        let incident_id: i64 = get(&row, "incident_id")?;
        exec(self.conn(), "UPDATE actions SET status = $2, finished_at = $3, result = $4 WHERE id = $1", vec![
            action_id.into(),
            status.into(),
            opt_ts(finished_at),
            json_text(result),
        ])
        .await?;
        self.audit("action.result", &subject(incident_id), serde_json::json!({ "action": action_id, "status": status, "result": result })).await?;
        Ok(())
    }

    pub async fn add_lesson(&mut self, incident_id: i64, question: &str, answer: &str) -> Result<i64> {
        self.incident(incident_id).await?;
        let id = self.next_id("lessons").await?;
        exec(self.conn(), "INSERT INTO lessons (id, incident_id, question, answer, author, at) VALUES ($1, $2, $3, $4, $5, $6)", vec![
            id.into(),
            incident_id.into(),
            question.into(),
            answer.into(),
            self.actor().into(),
            ts(Utc::now()),
        ])
        .await?;
        self.audit("incident.lesson", &subject(incident_id), serde_json::json!({ "question": question, "answer": answer })).await?;
        Ok(id)
    }

    pub async fn add_action_item(&mut self, incident_id: i64, title: &str, owner: Option<&str>, due: Option<DateTime<Utc>>) -> Result<i64> {
        self.incident(incident_id).await?;
        let id = self.next_id("action_items").await?;
        exec(
            self.conn(),
            "INSERT INTO action_items (id, incident_id, title, owner, due, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
            vec![id.into(), incident_id.into(), title.into(), opt_str(owner), opt_ts(due), self.actor().into(), ts(Utc::now())],
        )
        .await?;
        self.audit("incident.action_item", &subject(incident_id), serde_json::json!({ "item": id, "title": title, "owner": owner })).await?;
        Ok(id)
    }

    pub async fn set_action_item_status(&mut self, item_id: i64, done: bool) -> Result<()> {
        let status = if done { "done" } else { "open" };
        let row = query_one(self.conn(), "SELECT incident_id FROM action_items WHERE id = $1", vec![item_id.into()]).await?;
        let Some(row) = row else { return Err(StoreError::NotFound { what: "action item", id: item_id.to_string() }) };
        let incident_id: i64 = get(&row, "incident_id")?;
        exec(self.conn(), "UPDATE action_items SET status = $2 WHERE id = $1", vec![item_id.into(), status.into()]).await?;
        self.audit("incident.action_item.status", &subject(incident_id), serde_json::json!({ "item": item_id, "status": status })).await?;
        Ok(())
    }
}

fn ensure_found(changed: u64, what: &'static str, id: i64) -> Result<()> {
    if changed == 0 {
        return Err(StoreError::NotFound { what, id: id.to_string() });
    }
    Ok(())
}

impl Store {
    pub async fn incident(&self, id: i64) -> Result<IncidentRow> {
        let row = query_one(self.connection(), &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"), vec![id.into()]).await?;
        match row {
            Some(row) => incident_from_row(&row),
            None => Err(StoreError::NotFound { what: "incident", id: id.to_string() }),
        }
    }

    /// Returns incidents matching `filter`, most recently active first.
    pub async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<IncidentRow>> {
        let mut sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE 1 = 1");
        let mut values: Vec<sea_orm::Value> = Vec::new();
        if !filter.states.is_empty() {
            let mut marks = Vec::new();
            for state in &filter.states {
                values.push(state.clone().into());
                marks.push(format!("${}", values.len()));
            }
            sql.push_str(&format!(" AND state IN ({})", marks.join(", ")));
        }
        if let Some(since) = filter.active_since {
            values.push(ts(since));
            sql.push_str(&format!(" AND last_activity_at >= ${}", values.len()));
        }
        sql.push_str(" ORDER BY last_activity_at DESC, id DESC");
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let rows = query(self.connection(), &sql, values).await?;
        rows.iter().map(incident_from_row).collect()
    }

    pub async fn transitions(&self, incident_id: i64) -> Result<Vec<Transition>> {
        let rows = query(
            self.connection(),
            "SELECT id, incident_id, from_state, to_state, actor, at, reason FROM transitions WHERE incident_id = $1 ORDER BY id",
            vec![incident_id.into()],
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Transition {
                    id: get(row, "id")?,
                    incident_id: get(row, "incident_id")?,
                    from_state: get(row, "from_state")?,
                    to_state: get(row, "to_state")?,
                    actor: get(row, "actor")?,
                    at: get(row, "at")?,
                    reason: get(row, "reason")?,
                })
            })
            .collect()
    }

    pub async fn notes(&self, incident_id: i64) -> Result<Vec<Note>> {
        let rows = query(self.connection(), "SELECT id, incident_id, author, at, body FROM notes WHERE incident_id = $1 ORDER BY id", vec![
            incident_id.into(),
        ])
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Note { id: get(row, "id")?, incident_id: get(row, "incident_id")?, author: get(row, "author")?, at: get(row, "at")?, body: get(row, "body")? })
            })
            .collect()
    }

    pub async fn tasks(&self, incident_id: i64) -> Result<Vec<Task>> {
        let rows = query(
            self.connection(),
            "SELECT id, incident_id, title, owner, status, created_by, created_at, done_at FROM tasks WHERE incident_id = $1 ORDER BY id",
            vec![incident_id.into()],
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Task {
                    id: get(row, "id")?,
                    incident_id: get(row, "incident_id")?,
                    title: get(row, "title")?,
                    owner: get(row, "owner")?,
                    status: get(row, "status")?,
                    created_by: get(row, "created_by")?,
                    created_at: get(row, "created_at")?,
                    done_at: get(row, "done_at")?,
                })
            })
            .collect()
    }

    pub async fn observables(&self, incident_id: i64) -> Result<Vec<Observable>> {
        let rows = query(
            self.connection(),
            "SELECT id, incident_id, kind, value, note, added_by, added_at FROM observables WHERE incident_id = $1 ORDER BY id",
            vec![incident_id.into()],
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Observable {
                    id: get(row, "id")?,
                    incident_id: get(row, "incident_id")?,
                    kind: get(row, "kind")?,
                    value: get(row, "value")?,
                    note: get(row, "note")?,
                    added_by: get(row, "added_by")?,
                    added_at: get(row, "added_at")?,
                })
            })
            .collect()
    }

    pub async fn actions(&self, incident_id: i64) -> Result<Vec<Action>> {
        let rows = query(
            self.connection(),
            "SELECT id, incident_id, kind, target, status, containment, requested_by, requested_at, finished_at, result \
             FROM actions WHERE incident_id = $1 ORDER BY id",
            vec![incident_id.into()],
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Action {
                    id: get(row, "id")?,
                    incident_id: get(row, "incident_id")?,
                    kind: get(row, "kind")?,
                    target: get(row, "target")?,
                    status: get(row, "status")?,
                    containment: get::<i64>(row, "containment")? != 0,
                    requested_by: get(row, "requested_by")?,
                    requested_at: get(row, "requested_at")?,
                    finished_at: get(row, "finished_at")?,
                    result: get_json(row, "result")?,
                })
            })
            .collect()
    }

    pub async fn lessons(&self, incident_id: i64) -> Result<Vec<Lesson>> {
        let rows = query(
            self.connection(),
            "SELECT id, incident_id, question, answer, author, at FROM lessons WHERE incident_id = $1 ORDER BY id",
            vec![incident_id.into()],
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Lesson {
                    id: get(row, "id")?,
                    incident_id: get(row, "incident_id")?,
                    question: get(row, "question")?,
                    answer: get(row, "answer")?,
                    author: get(row, "author")?,
                    at: get(row, "at")?,
                })
            })
            .collect()
    }

    pub async fn action_items(&self, incident_id: i64) -> Result<Vec<ActionItem>> {
        let rows = query(
            self.connection(),
            "SELECT id, incident_id, title, owner, due, status, created_by, created_at FROM action_items WHERE incident_id = $1 ORDER BY id",
            vec![incident_id.into()],
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ActionItem {
                    id: get(row, "id")?,
                    incident_id: get(row, "incident_id")?,
                    title: get(row, "title")?,
                    owner: get(row, "owner")?,
                    due: get(row, "due")?,
                    status: get(row, "status")?,
                    created_by: get(row, "created_by")?,
                    created_at: get(row, "created_at")?,
                })
            })
            .collect()
    }
}
