//! Correlation rules: event_count, value_count, temporal, temporal_ordered, value_sum,
//! value_avg and value_percentile over sliding windows per group-by key.
//!
//! Window semantics: for an observation at time `t`, the window holds the observations of the
//! same correlation and group key with times in `[t - timespan, t]`, so a burst that crosses
//! a clock boundary is never split. When the condition is met, one alert is emitted and the
//! window's observations are consumed, so they never count towards a second alert. An
//! observation at or before the last consumed time, or from a record already in the window,
//! is ignored, so feeding the same events twice gives no second alert. Thresholds with only upper bounds (`lt`, `lte`) are checked
//! when a window closes, because a low count is only known once the timespan has passed.
//!
//! Two modes: [`correlate_batch`] sorts each key's observations by time before correlating,
//! so results do not depend on input order; [`CorrelationEngine`] streams, keeps observations
//! for an allowed lateness (5 minutes by default) to reorder them, and counts the ones that
//! arrive later than that.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use tocsin_event::{Event, Value};

use crate::compile::{FieldId, FieldTable};
use crate::condition::Cond;
use crate::matcher::parse_event_number;
use crate::parser::{CorrelationType, Threshold};
use crate::ruleset::{RuleIdx, RuleSet};

/// A group-by field resolved per referenced rule (aliases may name a different field for
/// each rule); `per_rule` is parallel to [`CorrelationDef::rules`].
#[derive(Clone, Debug)]
pub struct GroupField {
    /// The name in the rule's `group-by`, an alias or a field.
    pub name: String,
    pub per_rule: Vec<FieldId>,
}

/// Placeholder in [`CorrelationDef::rules`] for a reference to another correlation.
pub const CHAINED: RuleIdx = RuleIdx::MAX;

/// A correlation rule with its references resolved.
#[derive(Clone, Debug)]
pub struct CorrelationDef {
    pub id: Option<String>,
    pub title: String,
    pub level: Option<String>,
    /// Tags of the correlation rule itself (ATT&CK techniques and tactics).
    pub tags: Vec<String>,
    pub name: Option<String>,
    pub kind: CorrelationType,
    /// The referenced detection rules, in the rule's order; [`CHAINED`] where the reference is
    /// a correlation.
    pub rules: Vec<RuleIdx>,
    /// Parallel to `rules`: the position of a referenced correlation in the rule set.
    pub chained: Vec<Option<usize>>,
    /// Parallel to `rules`: for a referenced correlation, the index in its `group-by` of each
    /// of this correlation's group-by fields.
    pub group_of_chained: Vec<Vec<usize>>,
    /// False when a chaining correlation without `generate: true` uses this one, so its hits
    /// feed that correlation but are not reported on their own.
    pub standalone: bool,
    pub group_by: Vec<GroupField>,
    pub timespan_ms: i64,
    pub threshold: Threshold,
    pub value_fields: Vec<FieldId>,
    pub percentile: f64,
    /// Boolean expression over rule positions for temporal types.
    pub expression: Option<Cond>,
}

/// One correlation hit.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationAlert {
    /// Position of the correlation in the rule set.
    pub correlation: usize,
    pub id: Option<String>,
    pub title: String,
    /// Group-by values in `group-by` order; missing fields are empty strings.
    pub group: Vec<String>,
    pub first_ms: i64,
    pub last_ms: i64,
    /// The aggregated value the threshold was checked against (count, distinct count, sum…).
    pub value: f64,
    /// Number of events behind the hit: those of the window that fired, where a chained
    /// correlation's hit counts the events behind it.
    pub events: usize,
}

/// Streaming limits.
#[derive(Clone, Debug)]
pub struct CorrelationConfig {
    /// How long to hold observations for reordering; later ones are counted and dropped.
    pub allowed_lateness_ms: i64,
    /// Maximum observations kept per group key; the oldest are evicted first.
    pub max_entries_per_key: usize,
    /// Maximum group keys kept over all correlations; the least recently updated go first.
    pub max_keys: usize,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        CorrelationConfig { allowed_lateness_ms: 5 * 60_000, max_entries_per_key: 10_000, max_keys: 100_000 }
    }
}

/// Counters of observations that did not take part in correlation, and of evictions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorrelationStats {
    pub observations: u64,
    pub late: u64,
    pub without_timestamp: u64,
    pub missing_value_field: u64,
    pub already_correlated: u64,
    pub evicted_entries: u64,
    pub evicted_keys: u64,
}

#[derive(Clone, Debug)]
struct Observation {
    correlation: usize,
    rule_pos: usize,
    time_ms: i64,
    /// Start of what the observation stands for: its own time, or for a chained correlation's
    /// hit the start of that hit's window.
    start_ms: i64,
    sequence: u64,
    group: Vec<String>,
    text: Option<String>,
    number: Option<f64>,
    /// Identity of the source record, so that a record fed twice counts once.
    record: String,
    /// Occurrences the record stands for (see [`occurrences`]).
    weight: u64,
    /// Events behind the observation: its weight, or a chained hit's event count.
    events: u64,
}

#[derive(Clone, Debug)]
struct Entry {
    time_ms: i64,
    start_ms: i64,
    events: u64,
    rule_pos: usize,
    text: Option<String>,
    number: Option<f64>,
    record: String,
    weight: u64,
}

/// Field of a syslog line that stands for several occurrences of its message ("message
/// repeated N times: [ ... ]"), as the syslog decoder names it.
const REPEATED_FIELD: &str = "log.syslog.repeated";

/// Most occurrences one record may stand for: the count comes from the (attacker-controlled)
/// log line, so it is capped.
const MAX_OCCURRENCES: i64 = 10_000;

/// Returns how many occurrences an event stands for in an event_count correlation: N for
/// syslog's "message repeated N times" line, else 1. Five failed logins collapsed by rsyslog
/// into one line must still count as five.
fn occurrences(event: &Event) -> u64 {
    event.get_i64(REPEATED_FIELD).unwrap_or(1).clamp(1, MAX_OCCURRENCES) as u64
}

#[derive(Debug, Default)]
struct Series {
    entries: VecDeque<Entry>,
    distinct: HashMap<String, usize>,
    records: HashSet<String>,
    consumed_until: Option<i64>,
    last_update: i64,
}

impl Series {
    fn pop_front(&mut self) {
        let Some(entry) = self.entries.pop_front() else { return };
        self.records.remove(&entry.record);
        if let Some(text) = entry.text
            && let Some(count) = self.distinct.get_mut(&text)
        {
            *count -= 1;
            if *count == 0 {
                self.distinct.remove(&text);
            }
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.distinct.clear();
        self.records.clear();
    }
}

fn value_text(value: &Value) -> String {
    value.to_text()
}

/// Returns the group-by values of `event`, matched by the rule at `rule_pos` of `def`, in
/// `group-by` order; a missing field gives an empty string.
pub(crate) fn group_values(def: &CorrelationDef, fields: &FieldTable, rule_pos: usize, event: &Event) -> Vec<String> {
    def.group_by
        .iter()
        .map(|g| event.get(fields.name(g.per_rule[rule_pos])).map(value_text).unwrap_or_default())
        .collect()
}

/// Builds the observation of one matched event for one correlation, or `None` (counted)
/// when it cannot take part.
fn observe(
    def: &CorrelationDef,
    index: usize,
    rule: RuleIdx,
    event: &Event,
    fields: &FieldTable,
    sequence: u64,
    stats: &mut CorrelationStats,
) -> Option<Observation> {
    let rule_pos = def.rules.iter().position(|&r| r == rule)?;
    stats.observations += 1;
    let Some(time) = event.timestamp else {
        stats.without_timestamp += 1;
        return None;
    };
    let group = group_values(def, fields, rule_pos, event);
    let mut text = None;
    let mut number = None;
    match def.kind {
        CorrelationType::ValueCount => {
            // Distinct tuples of all value fields; an event missing any of them is not counted.
            let mut tuple = String::new();
            for (i, &field) in def.value_fields.iter().enumerate() {
                let Some(value) = event.get(fields.name(field)).filter(|v| !v.is_null()) else {
                    stats.missing_value_field += 1;
                    return None;
                };
                if i > 0 {
                    tuple.push('\u{1f}');
                }
                tuple.push_str(&value_text(value));
            }
            text = Some(tuple);
        }
        CorrelationType::ValueSum | CorrelationType::ValueAvg | CorrelationType::ValuePercentile => {
            let field = def.value_fields[0];
            match event.get(fields.name(field)).and_then(parse_event_number) {
                Some(n) => number = Some(n),
                None => {
                    stats.missing_value_field += 1;
                    return None;
                }
            }
        }
        _ => {}
    }
    let evidence = &event.evidence;
    let record = format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{}",
        evidence.source.path, evidence.record_id, evidence.offset, evidence.line, evidence.index, time.timestamp_millis()
    );
    let weight = occurrences(event);
    let time_ms = time.timestamp_millis();
    Some(Observation { correlation: index, rule_pos, time_ms, start_ms: time_ms, sequence, group, text, number, record, weight, events: weight })
}

/// Builds the observations a hit of correlation `hit.correlation` gives the correlations that
/// chain it: one for each position that references it, at the time the hit completed.
fn observe_hit(set: &RuleSet, hit: &CorrelationAlert, sequence: u64, out: &mut Vec<Observation>) {
    for (index, def) in set.correlations.iter().enumerate() {
        for (rule_pos, inner) in def.chained.iter().enumerate() {
            if *inner != Some(hit.correlation) {
                continue;
            }
            let group = def.group_of_chained[rule_pos].iter().map(|&j| hit.group[j].clone()).collect();
            out.push(Observation {
                correlation: index,
                rule_pos,
                time_ms: hit.last_ms,
                start_ms: hit.first_ms,
                sequence,
                group,
                text: None,
                number: None,
                record: format!("correlation {}|{:?}|{}|{}", hit.correlation, hit.group, hit.first_ms, hit.last_ms),
                weight: 1,
                events: hit.events as u64,
            });
        }
    }
}

fn eval_cond(cond: &Cond, present: &[bool]) -> bool {
    match cond {
        Cond::Search(i) => present.get(*i).copied().unwrap_or(false),
        Cond::And(items) => items.iter().all(|c| eval_cond(c, present)),
        Cond::Or(items) => items.iter().any(|c| eval_cond(c, present)),
        Cond::Not(inner) => !eval_cond(inner, present),
    }
}

/// Finds rule 0, rule 1, … in order, each at or after the previous one and all within the
/// timespan from the first. Trying each candidate first step and taking the earliest valid
/// entry for every later step leaves the most room for the steps after it.
fn ordered_sequence_found(entries: &VecDeque<Entry>, steps: usize, timespan_ms: i64) -> bool {
    for (start, first) in entries.iter().enumerate() {
        if first.rule_pos != 0 {
            continue;
        }
        let deadline = first.time_ms + timespan_ms;
        let mut step = 1;
        for entry in entries.iter().skip(start + 1) {
            if step == steps {
                break;
            }
            if entry.time_ms > deadline {
                break;
            }
            if entry.rule_pos == step {
                step += 1;
            }
        }
        if step == steps {
            return true;
        }
    }
    steps == 1 && !entries.is_empty()
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * (values.len() as f64 - 1.0)).clamp(0.0, values.len() as f64 - 1.0);
    let low = rank.floor() as usize;
    let high = rank.ceil() as usize;
    values[low] + (values[high] - values[low]) * (rank - low as f64)
}

/// Computes the aggregated value of a window and whether the correlation condition holds.
fn window_value(def: &CorrelationDef, series: &Series) -> (f64, bool) {
    let entries = &series.entries;
    match def.kind {
        CorrelationType::EventCount => {
            let n = entries.iter().map(|e| e.weight).sum::<u64>() as f64;
            (n, def.threshold.accepts(n))
        }
        CorrelationType::ValueCount => {
            let n = series.distinct.len() as f64;
            (n, def.threshold.accepts(n))
        }
        CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
            let mut present = vec![false; def.rules.len()];
            entries.iter().for_each(|e| present[e.rule_pos] = true);
            let distinct = present.iter().filter(|p| **p).count() as f64;
            let holds = match (&def.expression, def.threshold.is_empty()) {
                (Some(cond), _) => eval_cond(cond, &present),
                (None, true) => distinct as usize == def.rules.len(),
                (None, false) => def.threshold.accepts(distinct),
            };
            let ordered = def.kind == CorrelationType::Temporal || ordered_sequence_found(entries, def.rules.len(), def.timespan_ms);
            (distinct, holds && ordered)
        }
        CorrelationType::ValueSum | CorrelationType::ValueAvg | CorrelationType::ValuePercentile => {
            let mut numbers: Vec<f64> = entries.iter().filter_map(|e| e.number).collect();
            if numbers.is_empty() {
                return (0.0, false);
            }
            let value = match def.kind {
                CorrelationType::ValueSum => numbers.iter().sum(),
                CorrelationType::ValueAvg => numbers.iter().sum::<f64>() / numbers.len() as f64,
                // NOTE: Sigma v2.1.0 names value_percentile without defining it. This computes
                // the `percentile` (default 50) of the field's values in the window.
                _ => percentile(&mut numbers, def.percentile),
            };
            (value, def.threshold.accepts(value))
        }
    }
}

fn upper_bound_only(threshold: &Threshold) -> bool {
    (threshold.lt.is_some() || threshold.lte.is_some()) && threshold.gt.is_none() && threshold.gte.is_none() && threshold.eq.is_none()
}

fn alert(def: &CorrelationDef, index: usize, group: &[String], series: &Series, value: f64) -> CorrelationAlert {
    CorrelationAlert {
        correlation: index,
        id: def.id.clone(),
        title: def.title.clone(),
        group: group.to_vec(),
        first_ms: series.entries.iter().map(|e| e.start_ms).min().unwrap_or(0),
        last_ms: series.entries.back().map_or(0, |e| e.time_ms),
        value,
        events: series.entries.iter().map(|e| e.events as usize).sum(),
    }
}

/// Closes the windows that start before `now - timespan` and checks upper-bound thresholds.
fn close_expired(def: &CorrelationDef, index: usize, group: &[String], series: &mut Series, now: Option<i64>, out: &mut Vec<CorrelationAlert>) {
    let lower_only = upper_bound_only(&def.threshold);
    loop {
        let Some(front) = series.entries.front() else { return };
        let window_end = front.time_ms + def.timespan_ms;
        if now.is_some_and(|now| now <= window_end) {
            return;
        }
        if lower_only {
            let mut window = Series::default();
            for entry in series.entries.iter().take_while(|e| e.time_ms <= window_end) {
                if let Some(text) = &entry.text {
                    *window.distinct.entry(text.clone()).or_default() += 1;
                }
                window.entries.push_back(entry.clone());
            }
            let (value, holds) = window_value(def, &window);
            if holds {
                out.push(alert(def, index, group, &window, value));
                let consumed = window.entries.back().map(|e| e.time_ms);
                series.consumed_until = consumed.max(series.consumed_until);
                let n = window.entries.len();
                for _ in 0..n {
                    series.pop_front();
                }
                continue;
            }
        }
        series.pop_front();
    }
}

/// Adds one observation, in time order, to its series and returns an alert when it fires.
fn push(def: &CorrelationDef, index: usize, series: &mut Series, obs: Observation, max_entries: usize, stats: &mut CorrelationStats, out: &mut Vec<CorrelationAlert>) {
    if series.consumed_until.is_some_and(|t| obs.time_ms <= t) || series.records.contains(&obs.record) {
        stats.already_correlated += 1;
        return;
    }
    close_expired(def, index, &obs.group, series, Some(obs.time_ms), out);
    if series.entries.len() >= max_entries {
        series.pop_front();
        stats.evicted_entries += 1;
    }
    if let Some(text) = &obs.text {
        *series.distinct.entry(text.clone()).or_default() += 1;
    }
    series.last_update = obs.time_ms;
    series.records.insert(obs.record.clone());
    series.entries.push_back(Entry {
        time_ms: obs.time_ms,
        start_ms: obs.start_ms,
        events: obs.events,
        rule_pos: obs.rule_pos,
        text: obs.text,
        number: obs.number,
        record: obs.record,
        weight: obs.weight,
    });
    if upper_bound_only(&def.threshold) {
        return;
    }
    let (value, holds) = window_value(def, series);
    if holds {
        out.push(alert(def, index, &obs.group, series, value));
        series.consumed_until = Some(obs.time_ms);
        series.clear();
    }
}

/// Correlates a finished batch of matches: each key's observations are sorted by timestamp
/// (ties keep input order) before the windows run, so the result is independent of file
/// order and thread scheduling. Correlations run in rule-set order, which puts a chained
/// correlation after the ones it reads; their hits are its observations. Hits of correlations
/// that are not stand-alone are not returned.
pub fn correlate_batch(set: &RuleSet, matches: &[(RuleIdx, &Event)]) -> (Vec<CorrelationAlert>, CorrelationStats) {
    let mut stats = CorrelationStats::default();
    let mut by_key: BTreeMap<(usize, Vec<String>), Vec<Observation>> = BTreeMap::new();
    for (sequence, (rule, event)) in matches.iter().enumerate() {
        for (index, def) in set.correlations.iter().enumerate() {
            if let Some(obs) = observe(def, index, *rule, event, set.fields(), sequence as u64, &mut stats) {
                by_key.entry((index, obs.group.clone())).or_default().push(obs);
            }
        }
    }

    let mut hits: Vec<CorrelationAlert> = Vec::new();
    let mut sequence = matches.len() as u64;
    for index in 0..set.correlations.len() {
        let def = &set.correlations[index];
        let keys: Vec<(usize, Vec<String>)> = by_key.range((index, Vec::new())..(index + 1, Vec::new())).map(|(k, _)| k.clone()).collect();
        let mut fired = Vec::new();
        for key in keys {
            let mut observations = by_key.remove(&key).unwrap_or_default();
            observations.sort_by_key(|o| (o.time_ms, o.sequence));
            let mut series = Series::default();
            for obs in observations {
                push(def, index, &mut series, obs, usize::MAX, &mut stats, &mut fired);
            }
            close_expired(def, index, &key.1, &mut series, None, &mut fired);
        }

        for hit in &fired {
            let mut chained = Vec::new();
            observe_hit(set, hit, sequence, &mut chained);
            sequence += 1;
            for obs in chained {
                by_key.entry((obs.correlation, obs.group.clone())).or_default().push(obs);
            }
        }
        hits.extend(fired);
    }

    let mut out: Vec<CorrelationAlert> = hits.into_iter().filter(|hit| set.correlations[hit.correlation].standalone).collect();
    out.sort_by_key(|a| (a.last_ms, a.correlation));
    (out, stats)
}

/// Streaming correlation with bounded lateness and memory.
pub struct CorrelationEngine<'r> {
    set: &'r RuleSet,
    config: CorrelationConfig,
    pending: BTreeMap<(i64, u64), Observation>,
    series: HashMap<(usize, Vec<String>), Series>,
    max_seen_ms: i64,
    released_until: i64,
    sequence: u64,
    stats: CorrelationStats,
}

impl<'r> CorrelationEngine<'r> {
    pub fn new(set: &'r RuleSet, config: CorrelationConfig) -> Self {
        CorrelationEngine {
            set,
            config,
            pending: BTreeMap::new(),
            series: HashMap::new(),
            max_seen_ms: i64::MIN,
            released_until: i64::MIN,
            sequence: 0,
            stats: CorrelationStats::default(),
        }
    }

    pub fn stats(&self) -> &CorrelationStats {
        &self.stats
    }

    /// Number of group keys and buffered observations currently held.
    pub fn memory(&self) -> (usize, usize) {
        let entries = self.series.values().map(|s| s.entries.len()).sum::<usize>() + self.pending.len();
        (self.series.len(), entries)
    }

    /// Feeds one detection match and returns the correlation alerts it completes. Alerts come
    /// once the allowed lateness has passed the observations involved.
    pub fn feed(&mut self, rule: RuleIdx, event: &Event) -> Vec<CorrelationAlert> {
        let mut out = Vec::new();
        for (index, def) in self.set.correlations.iter().enumerate() {
            self.sequence += 1;
            let Some(obs) = observe(def, index, rule, event, self.set.fields(), self.sequence, &mut self.stats) else { continue };
            if obs.time_ms <= self.released_until {
                self.stats.late += 1;
                continue;
            }
            self.max_seen_ms = self.max_seen_ms.max(obs.time_ms);
            self.pending.insert((obs.time_ms, obs.sequence), obs);
        }
        let watermark = self.max_seen_ms.saturating_sub(self.config.allowed_lateness_ms);
        self.release(watermark, &mut out);
        out
    }

    /// Processes everything still held back, closes all windows and returns the alerts.
    pub fn flush(&mut self) -> Vec<CorrelationAlert> {
        let mut out = Vec::new();
        // Closing windows can complete hits that chained correlations read, so repeat until
        // nothing is left; each round moves up at least one level of chaining.
        for _ in 0..=self.set.correlations.len() {
            self.release(i64::MAX, &mut out);
            let mut fired = Vec::new();
            for ((index, group), series) in self.series.iter_mut() {
                close_expired(&self.set.correlations[*index], *index, group, series, None, &mut fired);
            }
            if fired.is_empty() {
                break;
            }
            self.report(fired, &mut out);
        }
        out
    }

    fn release(&mut self, watermark: i64, out: &mut Vec<CorrelationAlert>) {
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > watermark {
                break;
            }
            let obs = entry.remove();
            self.released_until = self.released_until.max(obs.time_ms);
            let def = &self.set.correlations[obs.correlation];
            let key = (obs.correlation, obs.group.clone());
            if !self.series.contains_key(&key) && self.series.len() >= self.config.max_keys {
                self.evict_key();
            }
            let series = self.series.entry(key).or_default();
            let mut fired = Vec::new();
            push(def, obs.correlation, series, obs, self.config.max_entries_per_key, &mut self.stats, &mut fired);
            self.report(fired, out);
        }
    }

    /// Passes the hits of stand-alone correlations to `out`, and queues every hit as an
    /// observation of the correlations that chain it.
    fn report(&mut self, fired: Vec<CorrelationAlert>, out: &mut Vec<CorrelationAlert>) {
        for hit in fired {
            let mut chained = Vec::new();
            observe_hit(self.set, &hit, 0, &mut chained);
            for mut obs in chained {
                // Each queued observation needs its own sequence, which keys the queue.
                self.sequence += 1;
                obs.sequence = self.sequence;
                self.pending.insert((obs.time_ms, obs.sequence), obs);
            }
            if self.set.correlations[hit.correlation].standalone {
                out.push(hit);
            }
        }
    }

    /// Evicts the least recently updated key.
    fn evict_key(&mut self) {
        if let Some(key) = self.series.iter().min_by_key(|(_, s)| s.last_update).map(|(k, _)| k.clone()) {
            self.series.remove(&key);
            self.stats.evicted_keys += 1;
        }
    }
}
