//! Classifying an incident: the policy's assessment over its alerts, and an analyst's
//! decision, which may override any value. A severity override needs a reason, and the
//! computed severity stays on the incident beside it.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use tocsin_store::incidents::{ClassificationUpdate, IncidentRow};
use tocsin_store::{AlertRecord, Store};

use crate::error::{IncidentError, Result};
use crate::inventory::Inventory;
use crate::lifecycle::{Actor, Role, State, check_move};
use crate::policy::{Assessment, FUNCTIONAL_IMPACTS, INFORMATION_IMPACTS, Policy, RECOVERABILITIES, Severity, Subject};

/// The content of an incident's `classification` JSON column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationRecord {
    /// The policy's assessment, kept even when an analyst overrides values.
    pub computed: Assessment,
    /// The analyst's decision, once classified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub by: String,
    pub at: chrono::DateTime<Utc>,
    pub category: Option<String>,
    pub functional_impact: Option<String>,
    pub information_impact: Option<String>,
    pub recoverability: Option<String>,
    pub severity: Option<Severity>,
    pub reason: Option<String>,
}

/// An analyst's input to [`classify_incident`]; `None` accepts the computed value.
#[derive(Clone, Debug, Default)]
pub struct ClassifyRequest {
    pub category: Option<String>,
    pub functional_impact: Option<String>,
    pub information_impact: Option<String>,
    pub recoverability: Option<String>,
    pub severity: Option<Severity>,
    /// Required when `severity` differs from the computed one.
    pub reason: Option<String>,
}

/// Combines the policy's assessment of each alert. The highest severity wins and its alert
/// gives the category, while each impact takes the most severe value of any alert.
pub fn assess_alerts(policy: &Policy, inventory: &Inventory, alerts: &[AlertRecord]) -> Option<Assessment> {
    let mut best: Option<Assessment> = None;
    for alert in alerts {
        let assessment = policy.assess(
            &Subject { rule_id: &alert.rule_id, level: &alert.level, tags: &alert.tags, entities: &alert.entities },
            inventory,
        );
        best = Some(match best {
            None => assessment,
            Some(current) => merge(current, assessment),
        });
    }
    best
}

fn rank(list: &[&str], value: &str) -> usize {
    list.iter().position(|v| *v == value).unwrap_or(0)
}

fn merge(a: Assessment, b: Assessment) -> Assessment {
    let (mut top, other) = if b.severity > a.severity { (b, a) } else { (a, b) };
    if rank(FUNCTIONAL_IMPACTS, &other.functional_impact) > rank(FUNCTIONAL_IMPACTS, &top.functional_impact) {
        top.functional_impact = other.functional_impact.clone();
    }
    if rank(INFORMATION_IMPACTS, &other.information_impact) > rank(INFORMATION_IMPACTS, &top.information_impact) {
        top.information_impact = other.information_impact.clone();
    }
    if rank(RECOVERABILITIES, &other.recoverability) > rank(RECOVERABILITIES, &top.recoverability) {
        top.recoverability = other.recoverability.clone();
    }
    for asset in other.assets {
        if !top.assets.contains(&asset) {
            top.assets.push(asset);
        }
    }
    for class in other.data_classes {
        if !top.data_classes.contains(&class) {
            top.data_classes.push(class);
        }
    }
    top.data_classes.sort();
    top
}

fn check_value(what: &str, value: &Option<String>, allowed: &[&str]) -> Result<()> {
    if let Some(value) = value
        && !allowed.contains(&value.as_str())
    {
        return Err(IncidentError::Invalid(format!("invalid {what} {value:?}: use one of {}", allowed.join(", "))));
    }
    Ok(())
}

/// Classifies an incident: recomputes the assessment from its alerts (a manual report keeps
/// the assessment it was opened with), applies the analyst's values, and moves an incident in
/// `identified` or `reopened` to `classified`. Needs the security role.
pub async fn classify_incident(
    store: &Store,
    actor: &Actor,
    id: i64,
    policy: &Policy,
    inventory: &Inventory,
    request: &ClassifyRequest,
) -> Result<IncidentRow> {
    actor.require(&[Role::Security], &format!("classify incident {id}"))?;
    check_value("functional impact", &request.functional_impact, FUNCTIONAL_IMPACTS)?;
    check_value("information impact", &request.information_impact, INFORMATION_IMPACTS)?;
    check_value("recoverability", &request.recoverability, RECOVERABILITIES)?;

    let alerts: Vec<AlertRecord> = store.incident_alerts(id).await?.into_iter().map(|(a, _, _)| a.alert).collect();
    let mut tx = store.begin_write(&actor.name).await?;
    match classify_in(&mut tx, actor, id, policy, inventory, request, &alerts).await {
        Ok(row) => {
            tx.commit().await?;
            Ok(row)
        }
        Err(error) => {
            tx.rollback().await?;
            Err(error)
        }
    }
}

/// Runs the part of [`classify_incident`] inside its write transaction. The caller rolls the
/// transaction back on an error.
async fn classify_in(
    tx: &mut tocsin_store::WriteTx<'_>,
    actor: &Actor,
    id: i64,
    policy: &Policy,
    inventory: &Inventory,
    request: &ClassifyRequest,
    alerts: &[AlertRecord],
) -> Result<IncidentRow> {
    let incident = tx.incident(id).await?;
    let previous: Option<ClassificationRecord> = serde_json::from_value(incident.classification.clone()).ok();
    let computed = match assess_alerts(policy, inventory, alerts) {
        Some(assessment) => assessment,
        None => match previous {
            Some(record) => record.computed,
            None => {
                return Err(IncidentError::Invalid(format!("incident {id} has no alerts and no stored assessment to classify from")));
            }
        },
    };
    if let Some(severity) = request.severity
        && severity != computed.severity
        && request.reason.as_deref().is_none_or(|r| r.trim().is_empty())
    {
        return Err(IncidentError::Invalid(format!(
            "overriding the computed severity {} with {} needs a reason: add --reason",
            computed.severity.name(),
            severity.name()
        )));
    }

    let state = State::parse(&incident.state).unwrap_or(State::Identified);
    let moves_to_classified = matches!(state, State::Identified | State::Reopened);
    if moves_to_classified {
        check_move(id, actor, state, State::Classified)?;
    }

    let severity = request.severity.unwrap_or(computed.severity);
    let decision = Decision {
        by: actor.name.clone(),
        at: Utc::now(),
        category: request.category.clone(),
        functional_impact: request.functional_impact.clone(),
        information_impact: request.information_impact.clone(),
        recoverability: request.recoverability.clone(),
        severity: request.severity,
        reason: request.reason.clone(),
    };
    let update = ClassificationUpdate {
        category: Some(request.category.clone().unwrap_or_else(|| computed.category.clone())),
        functional_impact: Some(request.functional_impact.clone().unwrap_or_else(|| computed.functional_impact.clone())),
        information_impact: Some(request.information_impact.clone().unwrap_or_else(|| computed.information_impact.clone())),
        recoverability: Some(request.recoverability.clone().unwrap_or_else(|| computed.recoverability.clone())),
        severity: severity.name().to_string(),
        computed_severity: computed.severity.name().to_string(),
        severity_override_reason: if severity != computed.severity { request.reason.clone() } else { None },
        classification: serde_json::to_value(ClassificationRecord { computed, decision: Some(decision) }).unwrap_or_default(),
    };
    tx.update_classification(id, &update).await?;
    if moves_to_classified {
        tx.set_state(id, State::Classified.name(), Utc::now(), Some("classified")).await?;
    }
    Ok(tx.incident(id).await?)
}
