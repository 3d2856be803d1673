//! Response metrics per incident and as medians over a period.
//!
//! | metric | from | to |
//! |---|---|---|
//! | time to detect | first event behind the incident | identified |
//! | time to acknowledge | identified | first move to classified |
//! | time to contain | identified | first successful containment action, else first move to investigating |
//! | time to recover | identified | first move to in review |
//!
//! For incidents opened by `tocsin hunt` over old logs, the time to detect is the age of the
//! logs when they were read, and is labelled so ([`IncidentMetrics::detect_is_log_age`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use tocsin_store::Store;
use tocsin_store::incidents::{Action, IncidentFilter, IncidentRow, Transition};

use crate::error::Result;
use crate::lifecycle::State;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IncidentMetrics {
    pub incident_id: i64,
    /// Seconds; `None` when the end point has not happened or is unknown.
    pub time_to_detect: Option<i64>,
    pub detect_is_log_age: bool,
    pub time_to_acknowledge: Option<i64>,
    pub time_to_contain: Option<i64>,
    /// `containment action` or `investigating`: what ended the time to contain.
    pub contain_basis: Option<&'static str>,
    pub time_to_recover: Option<i64>,
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds().max(0)
}

fn first_move(transitions: &[Transition], to: State) -> Option<DateTime<Utc>> {
    transitions.iter().filter(|t| t.from_state.is_some() && t.to_state == to.name()).map(|t| t.at).min()
}

/// Computes an incident's metrics from its rows.
pub fn compute(incident: &IncidentRow, transitions: &[Transition], actions: &[Action]) -> IncidentMetrics {
    let identified = incident.identified_at;
    let contained_by_action = actions
        .iter()
        .filter(|a| a.containment && a.status == "succeeded")
        .filter_map(|a| a.finished_at)
        .min();
    let (contained_at, contain_basis) = match contained_by_action {
        Some(at) => (Some(at), Some("containment action")),
        None => match first_move(transitions, State::Investigating) {
            Some(at) => (Some(at), Some("investigating")),
            None => (None, None),
        },
    };
    IncidentMetrics {
        incident_id: incident.id,
        time_to_detect: incident.first_event_at.map(|first| seconds(first, identified)),
        detect_is_log_age: incident.origin == "hunt",
        time_to_acknowledge: first_move(transitions, State::Classified).map(|at| seconds(identified, at)),
        time_to_contain: contained_at.map(|at| seconds(identified, at)),
        contain_basis,
        time_to_recover: first_move(transitions, State::InReview).map(|at| seconds(identified, at)),
    }
}

pub async fn incident_metrics(store: &Store, id: i64) -> Result<IncidentMetrics> {
    let incident = store.incident(id).await?;
    let transitions = store.transitions(id).await?;
    let actions = store.actions(id).await?;
    Ok(compute(&incident, &transitions, &actions))
}

/// Medians over the incidents identified in `[from, to)`. Each median covers the incidents
/// that have that metric, and `*_count` is their number.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeriodMetrics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub incidents: usize,
    pub median_time_to_detect: Option<f64>,
    pub time_to_detect_count: usize,
    pub median_time_to_acknowledge: Option<f64>,
    pub time_to_acknowledge_count: usize,
    pub median_time_to_contain: Option<f64>,
    pub time_to_contain_count: usize,
    pub median_time_to_recover: Option<f64>,
    pub time_to_recover_count: usize,
}

/// Returns the median of `values` (the mean of the middle two for an even count).
pub fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] as f64 } else { (values[mid - 1] + values[mid]) as f64 / 2.0 })
}

/// Computes the medians of the incidents identified in `[from, to)`. False positives are
/// left out, because their times measure triage, not response.
pub async fn period_metrics(store: &Store, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<PeriodMetrics> {
    let incidents: Vec<IncidentRow> = store
        .incidents(&IncidentFilter::default())
        .await?
        .into_iter()
        .filter(|i| i.identified_at >= from && i.identified_at < to && i.state != State::FalsePositive.name())
        .collect();
    let mut detect = Vec::new();
    let mut acknowledge = Vec::new();
    let mut contain = Vec::new();
    let mut recover = Vec::new();
    for incident in &incidents {
        let metrics = incident_metrics(store, incident.id).await?;
        detect.extend(metrics.time_to_detect);
        acknowledge.extend(metrics.time_to_acknowledge);
        contain.extend(metrics.time_to_contain);
        recover.extend(metrics.time_to_recover);
    }
    Ok(PeriodMetrics {
        from,
        to,
        incidents: incidents.len(),
        time_to_detect_count: detect.len(),
        median_time_to_detect: median(&mut detect),
        time_to_acknowledge_count: acknowledge.len(),
        median_time_to_acknowledge: median(&mut acknowledge),
        time_to_contain_count: contain.len(),
        median_time_to_contain: median(&mut contain),
        time_to_recover_count: recover.len(),
        median_time_to_recover: median(&mut recover),
    })
}

/// Formats seconds as `3d 4h`, `2h 5m`, `4m 10s` or `12s`.
pub fn human_duration(seconds: i64) -> String {
    let (d, h, m, s) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&mut [5, 1, 3]), Some(3.0));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(12), "12s");
        assert_eq!(human_duration(250), "4m 10s");
        assert_eq!(human_duration(7500), "2h 5m");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600), "3d 4h");
    }
}
