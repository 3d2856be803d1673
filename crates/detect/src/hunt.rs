//! The detection runtime for a batch of logs (`tocsin hunt`).
//!
//! A [`Detector`] contains the compiled rules. Each worker thread owns a [`Worker`] that receives
//! decoded events, matches them, and keeps its alerts and the matches that feed correlation
//! rules. [`Detector::finish`] merges the workers, runs the correlations over all matches
//! sorted by time (so the result does not depend on file order or thread scheduling), applies
//! suppressions and returns the alerts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tocsin_event::{Event, Precision, Timestamp};
use tocsin_sigma::{correlate_batch, CorrelationAlert, CorrelationStats, LoadReport, Placeholders, RuleIdx, RuleSet, RuleSetBuilder, Scratch};

use crate::python::{self, Baseline, PythonDetector};
use crate::{Alert, AlertSet, Level, RuleInfo, Suppressions};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Sources of the rules of a run.
#[derive(Clone, Debug, Default)]
pub struct RuleSources {
    /// Load the rule pack built into the binary.
    pub builtin: bool,
    /// Rule files or folders of rules, loaded after the built-in pack.
    pub paths: Vec<PathBuf>,
    /// YAML file mapping each Sigma placeholder name (`%org_egress_addresses%`) to its values.
    /// Rules whose placeholders have no values load but stay inactive.
    pub placeholders: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("cannot read rules: {0}")]
    Rules(#[from] tocsin_sigma::Error),
    #[error("cannot read the placeholder file {path}: {source}")]
    Placeholders { path: PathBuf, source: std::io::Error },
}

/// Compiled rules plus what alerts need to know about each.
pub struct Detector {
    rules: RuleSet,
    infos: Vec<RuleInfo>,
    standalone: Vec<bool>,
    correlates: bool,
    /// Whether the built-in unfamiliar-Python detection runs (it is part of the built-in pack).
    python_enabled: bool,
}

impl Detector {
    /// Loads and compiles the rules. Rules that fail to load are listed in the report and
    /// left out; the others still run.
    pub fn load(sources: &RuleSources) -> Result<(Detector, LoadReport), DetectError> {
        let mut builder = RuleSetBuilder::new();
        if let Some(path) = &sources.placeholders {
            let text = std::fs::read_to_string(path).map_err(|source| DetectError::Placeholders { path: path.clone(), source })?;
            builder.placeholders(Placeholders::from_yaml(&text, &path.display().to_string())?);
        }
        if sources.builtin {
            for (path, text) in BUILTIN_RULES {
                builder.add_str(text, Some(&PathBuf::from(format!("builtin:{path}"))));
            }
        }
        for path in &sources.paths {
            builder.add_path(path)?;
        }
        let (rules, report) = builder.build();
        let mut detector = Detector::new(rules);
        detector.python_enabled = sources.builtin;
        Ok((detector, report))
    }

    /// Wraps an already compiled rule set.
    pub fn new(rules: RuleSet) -> Detector {
        let mut infos = Vec::with_capacity(rules.len());
        let mut standalone = Vec::with_capacity(rules.len());
        for idx in 0..rules.len() as RuleIdx {
            let rule = rules.rule(idx);
            infos.push(RuleInfo {
                id: rule_id(rule.id.as_deref(), rule.name.as_deref(), &rule.title),
                title: rule.title.clone(),
                level: level_of(rule.level.as_deref()),
                tags: rule.tags.clone(),
            });
            standalone.push(rule.standalone);
        }
        let correlates = rules.correlation_count() > 0;
        Detector { rules, infos, standalone, correlates, python_enabled: false }
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    pub fn correlation_count(&self) -> usize {
        self.rules.correlation_count()
    }

    /// Creates the per-thread state of a worker.
    pub fn worker(&self) -> Worker<'_> {
        Worker {
            detector: self,
            scratch: Scratch::new(),
            matched: Vec::new(),
            alerts: AlertSet::default(),
            correlation_inputs: Vec::new(),
            python: PythonDetector::default(),
            events: 0,
            matches_per_file: BTreeMap::new(),
        }
    }

    /// Merges the workers' Python runs, for a caller that loads the baseline of just the
    /// hosts seen before calling [`Detector::finish`].
    pub fn python_runs(workers: &[Worker<'_>]) -> Vec<python::PythonRun> {
        workers.iter().flat_map(|w| w.python.runs().cloned()).collect()
    }

    /// Merges the workers' results, runs correlations, the unfamiliar-Python detection against
    /// `baseline`, and suppressions, and returns the outcome. `now` decides which suppressions
    /// have expired.
    pub fn finish(&self, workers: Vec<Worker<'_>>, suppressions: &Suppressions, baseline: &dyn Baseline, now: DateTime<Utc>) -> HuntOutcome {
        let mut alerts = AlertSet::default();
        let mut correlation_inputs = Vec::new();
        let mut python = PythonDetector::default();
        let mut events = 0;
        let mut matches_per_file: BTreeMap<String, u64> = BTreeMap::new();

        for worker in workers {
            events += worker.events;
            python.merge(worker.python);
            for alert in worker.alerts.into_sorted() {
                alerts.add(alert);
            }
            correlation_inputs.extend(worker.correlation_inputs);
            for (file, count) in worker.matches_per_file {
                *matches_per_file.entry(file).or_default() += count;
            }
        }

        let mut correlation_stats = CorrelationStats::default();
        if self.correlates {
            // Ties in time keep a stable order: by file, then position in the file.
            correlation_inputs.sort_by(|(ra, a), (rb, b)| {
                (a.timestamp, &a.evidence.source.path, a.evidence.line, a.evidence.offset, a.evidence.record_id, a.evidence.index, ra)
                    .cmp(&(b.timestamp, &b.evidence.source.path, b.evidence.line, b.evidence.offset, b.evidence.record_id, b.evidence.index, rb))
            });
            let borrowed: Vec<(RuleIdx, &Event)> = correlation_inputs.iter().map(|(rule, event)| (*rule, event.as_ref())).collect();
            let (hits, stats) = correlate_batch(&self.rules, &borrowed);
            correlation_stats = stats;
            for hit in hits {
                alerts.add(self.correlation_alert(&hit, &correlation_inputs));
            }
        }

        if self.python_enabled {
            for alert in python.alerts(baseline) {
                alerts.add(alert);
            }
        }

        let mut alerts = alerts.into_sorted();
        for alert in &mut alerts {
            if let Some(suppression) = suppressions.find(alert, now) {
                alert.suppressed_by = Some(suppression.describe());
            }
        }

        HuntOutcome { alerts, events, matches_per_file, correlation_stats }
    }

    /// Builds the alert of a correlation hit from the matches that fall in its window and
    /// share its group-by values.
    fn correlation_alert(&self, hit: &CorrelationAlert, inputs: &[(RuleIdx, Arc<Event>)]) -> Alert {
        let definition = self.rules.correlation(hit.correlation);
        let rule = RuleInfo {
            id: rule_id(hit.id.as_deref(), None, &hit.title),
            title: hit.title.clone(),
            level: level_of(definition.level.as_deref()),
            tags: self.rules.correlation_tags(hit.correlation).to_vec(),
        };

        let events: Vec<Arc<Event>> = inputs
            .iter()
            .filter(|(rule, event)| {
                event.timestamp.is_some_and(|t| (hit.first_ms..=hit.last_ms).contains(&t.timestamp_millis()))
                    && self.rules.correlation_group(hit.correlation, *rule, event).as_deref() == Some(hit.group.as_slice())
            })
            .map(|(_, event)| Arc::clone(event))
            .collect();

        let found_events = !events.is_empty();
        let mut alert = Alert::new(rule, events);
        alert.event_count = hit.events as u64;
        if !found_events {
            // Keep the window of the hit when its events cannot be listed.
            alert.first_seen = Some(millis_to_timestamp(hit.first_ms));
            alert.last_seen = Some(millis_to_timestamp(hit.last_ms));
        }
        alert
    }
}

/// Per-thread matching state.
pub struct Worker<'d> {
    detector: &'d Detector,
    scratch: Scratch,
    matched: Vec<RuleIdx>,
    alerts: AlertSet,
    correlation_inputs: Vec<(RuleIdx, Arc<Event>)>,
    python: PythonDetector,
    events: u64,
    matches_per_file: BTreeMap<String, u64>,
}

impl Worker<'_> {
    /// Matches one event. The event is kept (behind an `Arc`) only when a rule matched it.
    pub fn observe(&mut self, event: Event) {
        self.events += 1;
        self.matched.clear();
        self.detector.rules.matches_into(&event, &mut self.scratch, &mut self.matched);
        let python_candidate = self.detector.python_enabled && python::is_candidate(&event);
        if self.matched.is_empty() && !python_candidate {
            return;
        }

        let event = Arc::new(event);
        if python_candidate {
            self.python.observe(&event);
        }
        if self.matched.is_empty() {
            return;
        }
        let path = &event.evidence.source.path;
        match self.matches_per_file.get_mut(path) {
            Some(count) => *count += self.matched.len() as u64,
            None => {
                self.matches_per_file.insert(path.clone(), self.matched.len() as u64);
            }
        }
        for &rule in &self.matched {
            if self.detector.correlates {
                self.correlation_inputs.push((rule, Arc::clone(&event)));
            }
            if self.detector.standalone[rule as usize] {
                let info = self.detector.infos[rule as usize].clone();
                self.alerts.add(Alert::new(info, vec![Arc::clone(&event)]));
            }
        }
    }

    pub fn events(&self) -> u64 {
        self.events
    }
}

/// Result of a hunt.
pub struct HuntOutcome {
    /// Alerts, highest level first; suppressed ones carry `suppressed_by`.
    pub alerts: Vec<Alert>,
    /// Events matched against the rules.
    pub events: u64,
    /// Rule matches per input file (before deduplication).
    pub matches_per_file: BTreeMap<String, u64>,
    pub correlation_stats: CorrelationStats,
}

/// Gives every alert a rule id: the Sigma `id`, else the `name`, else one derived from the
/// title, so that alert ids stay stable for rules written without an id.
fn rule_id(id: Option<&str>, name: Option<&str>, title: &str) -> String {
    match id.or(name) {
        Some(id) => id.to_string(),
        None => format!("title:{title}"),
    }
}

/// Sigma's `level` is optional; a rule without one is informational, as in most Sigma tools.
fn level_of(level: Option<&str>) -> Level {
    level.and_then(|l| l.parse().ok()).unwrap_or(Level::Informational)
}

fn millis_to_timestamp(ms: i64) -> Timestamp {
    let time = DateTime::from_timestamp_millis(ms).unwrap_or_default();
    Timestamp::new(time, Precision::Millis)
}
