//! Correlation rules: specification examples and faults reported against other engines.

mod common;

use common::{at, event, rules};
use tocsin_event::{Event, Schema, Value};
use tocsin_sigma::{correlate_batch, CorrelationConfig, CorrelationEngine, RuleIdx, RuleSet};

fn step_rule(name: &str, command: &str) -> String {
    format!(
        "title: step {name}\nid: 00000000-0000-4000-8000-0000000000{name}\nname: step_{name}\nlogsource: {{ product: linux }}\ndetection:\n  selection:\n    command: '{command}'\n  condition: selection\n"
    )
}

fn host_event(command: &str, time: &str) -> Event {
    at(event(Schema::Syslog, &[("host.name", Value::from("web-01")), ("command", Value::from(command))]), time)
}

/// Matches every event against the set and runs batch correlation.
fn batch(set: &RuleSet, events: &[Event]) -> usize {
    let mut matches: Vec<(RuleIdx, &Event)> = Vec::new();
    for event in events {
        for rule in set.matches(event) {
            matches.push((rule, event));
        }
    }
    correlate_batch(set, &matches).0.len()
}

fn ordered_set() -> RuleSet {
    let correlation = "title: ordered\nid: 00000000-0000-4000-8000-0000000000ff\ncorrelation:\n  type: temporal_ordered\n  rules: [step_aa, step_bb, step_cc]\n  group-by: [host.name]\n  timespan: 10m\n";
    rules(&[&step_rule("aa", "a"), &step_rule("bb", "b"), &step_rule("cc", "c"), correlation])
}

#[test]
fn temporal_ordered_checks_every_step() {
    let set = ordered_set();
    let t = |s: &str| format!("2024-01-01T10:{s}Z");
    let run = |steps: &[(&str, &str)]| batch(&set, &steps.iter().map(|(c, s)| host_event(c, &t(s))).collect::<Vec<_>>());
    assert_eq!(run(&[("a", "00:00"), ("c", "01:00"), ("b", "02:00")]), 0);
    assert_eq!(run(&[("a", "00:00"), ("b", "01:00"), ("c", "02:00")]), 1);
    assert_eq!(run(&[("a", "00:00"), ("b", "01:00"), ("c", "11:00")]), 0);
    // Decision: the events of a window that fired are consumed, so this gives one alert.
    assert_eq!(run(&[("a", "00:00"), ("b", "00:30"), ("a", "00:40"), ("c", "00:50")]), 1);
}

fn login_rule() -> String {
    "title: login\nid: 00000000-0000-4000-8000-000000000010\nname: failed_login\nlogsource: { product: linux }\ndetection:\n  selection:\n    outcome: failure\n  condition: selection\n".into()
}

fn login(user: &str, ip: Option<&str>, time: &str) -> Event {
    let mut e = event(Schema::Syslog, &[("host.name", Value::from("web-01")), ("outcome", Value::from("failure")), ("User", Value::from(user))]);
    if let Some(ip) = ip {
        e.push("SrcIp", ip);
    }
    at(e, time)
}

#[test]
fn value_count_counts_distinct_tuples() {
    let tuple = "title: spread\nid: 00000000-0000-4000-8000-000000000011\ncorrelation:\n  type: value_count\n  rules: [failed_login]\n  group-by: [host.name]\n  timespan: 10m\n  condition:\n    field: [User, SrcIp]\n    gte: 2\n";
    let events = [
        login("alice", Some("203.0.113.1"), "2024-01-01T10:00:00Z"),
        login("alice", Some("203.0.113.2"), "2024-01-01T10:01:00Z"),
        login("alice", Some("203.0.113.1"), "2024-01-01T10:02:00Z"),
    ];
    assert_eq!(batch(&rules(&[&login_rule(), tuple]), &events), 1);
    let single = tuple.replace("field: [User, SrcIp]", "field: User");
    assert_eq!(batch(&rules(&[&login_rule(), &single]), &events), 0);

    let set = rules(&[&login_rule(), tuple]);
    let missing = [login("alice", Some("203.0.113.1"), "2024-01-01T10:00:00Z"), login("alice", None, "2024-01-01T10:01:00Z")];
    let matches: Vec<(RuleIdx, &Event)> = missing.iter().map(|e| (0, e)).collect();
    let (alerts, stats) = correlate_batch(&set, &matches);
    assert!(alerts.is_empty());
    assert_eq!(stats.missing_value_field, 1);
}

#[test]
fn selector_glob_in_the_middle() {
    let text = "title: g\nid: 00000000-0000-4000-8000-000000000012\nlogsource: { product: linux }\ndetection:\n  sel_a_main:\n    a: '1'\n  selmain:\n    b: '1'\n  sel_a_main_x:\n    c: '1'\n  condition: 1 of sel*main\n";
    let set = rules(&[text]);
    let one = |field: &str| event(Schema::Syslog, &[(field, Value::from("1"))]);
    assert_eq!(set.matches(&one("a")), vec![0]);
    assert_eq!(set.matches(&one("b")), vec![0]);
    assert!(set.matches(&one("c")).is_empty());
}

fn brute_force_set() -> RuleSet {
    let correlation = "title: brute force\nid: 00000000-0000-4000-8000-000000000013\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [User]\n  timespan: 5m\n  condition:\n    gte: 5\n";
    rules(&[&login_rule(), correlation])
}

#[test]
fn sliding_window_does_not_split_bursts() {
    let set = brute_force_set();
    let burst: Vec<Event> = ["10:14:00", "10:14:30", "10:15:10", "10:15:40", "10:16:00"]
        .iter()
        .map(|t| login("alice", Some("203.0.113.7"), &format!("2024-01-01T{t}Z")))
        .collect();
    assert_eq!(batch(&set, &burst), 1);

    let spread: Vec<Event> = (0..5).map(|i| login("alice", Some("203.0.113.7"), &format!("2024-01-01T10:{:02}:00Z", i * 7))).collect();
    assert_eq!(batch(&set, &spread), 0);

    // The same file fed twice to one streaming engine gives no second alert.
    let mut engine = CorrelationEngine::new(&set, CorrelationConfig::default());
    let mut alerts = 0;
    for _ in 0..2 {
        for event in &burst {
            alerts += engine.feed(0, event).len();
        }
    }
    alerts += engine.flush().len();
    assert_eq!(alerts, 1);
    assert_eq!(engine.stats().late + engine.stats().already_correlated, 5);
}

#[test]
fn window_boundary_is_inclusive() {
    let set = brute_force_set();
    let times = ["10:00:00", "10:01:00", "10:02:00", "10:03:00", "10:05:00"];
    let exact: Vec<Event> = times.iter().map(|t| login("bob", None, &format!("2024-01-01T{t}Z"))).collect();
    assert_eq!(batch(&set, &exact), 1, "events exactly one timespan apart share a window");
    let mut late = exact.clone();
    late[4] = login("bob", None, "2024-01-01T10:05:01Z");
    assert_eq!(batch(&set, &late), 0);
}

#[test]
fn batch_is_independent_of_input_order() {
    let set = brute_force_set();
    let mut events: Vec<Event> = ["10:14:00", "10:14:30", "10:15:10", "10:15:40", "10:16:00"]
        .iter()
        .map(|t| login("alice", None, &format!("2024-01-01T{t}Z")))
        .collect();
    events.reverse();
    assert_eq!(batch(&set, &events), 1);
}

#[test]
fn streaming_reorders_within_lateness_and_counts_late_events() {
    let set = brute_force_set();
    let mut engine = CorrelationEngine::new(&set, CorrelationConfig { allowed_lateness_ms: 60_000, ..CorrelationConfig::default() });
    let mut alerts = 0;
    for t in ["10:00:30", "10:00:00", "10:01:00", "10:01:10", "10:01:20"] {
        alerts += engine.feed(0, &login("carol", None, &format!("2024-01-01T{t}Z"))).len();
    }
    alerts += engine.feed(0, &login("carol", None, "2024-01-01T10:20:00Z")).len();
    assert_eq!(alerts, 1);
    assert_eq!(engine.feed(0, &login("carol", None, "2024-01-01T10:00:05Z")).len(), 0);
    assert_eq!(engine.stats().late, 1);
}

#[test]
fn streaming_memory_is_capped() {
    let set = brute_force_set();
    let config = CorrelationConfig { allowed_lateness_ms: 0, max_entries_per_key: 10, max_keys: 3 };
    let mut engine = CorrelationEngine::new(&set, config);
    for i in 0..10 {
        engine.feed(0, &login(&format!("user{i}"), None, &format!("2024-01-01T10:00:{i:02}Z")));
    }
    let (keys, _) = engine.memory();
    assert!(keys <= 3, "{keys} keys kept");
    assert_eq!(engine.stats().evicted_keys, 7);
}

#[test]
fn temporal_with_aliases() {
    // The aliases example of the correlation specification, with our own values.
    let internal_error = "title: e\nid: 00000000-0000-4000-8000-000000000020\nname: internal_error\nlogsource: { product: linux }\ndetection:\n  selection:\n    http.response.status_code: 500\n  condition: selection\n";
    let new_connection = "title: c\nid: 00000000-0000-4000-8000-000000000021\nname: new_network_connection\nlogsource: { product: linux }\ndetection:\n  selection:\n    event.type: connection\n  condition: selection\n";
    let correlation = "title: t\nid: 00000000-0000-4000-8000-000000000022\ncorrelation:\n  type: temporal\n  rules: [internal_error, new_network_connection]\n  group-by: [internal_ip, remote_ip]\n  timespan: 10s\n  aliases:\n    internal_ip:\n      internal_error: destination.ip\n      new_network_connection: source.ip\n    remote_ip:\n      internal_error: source.ip\n      new_network_connection: destination.ip\n";
    let set = rules(&[internal_error, new_connection, correlation]);
    let error = at(
        event(Schema::Syslog, &[("http.response.status_code", Value::Int(500)), ("destination.ip", Value::from("192.0.2.1")), ("source.ip", Value::from("198.51.100.9"))]),
        "2024-01-01T10:00:00Z",
    );
    let connection = at(
        event(Schema::Syslog, &[("event.type", Value::from("connection")), ("source.ip", Value::from("192.0.2.1")), ("destination.ip", Value::from("198.51.100.9"))]),
        "2024-01-01T10:00:05Z",
    );
    assert_eq!(batch(&set, &[error.clone(), connection.clone()]), 1);
    let mut other = connection;
    other.set("destination.ip", "198.51.100.10");
    assert_eq!(batch(&set, &[error, other]), 0);
}

#[test]
fn value_sum_and_avg() {
    let transfer = "title: x\nid: 00000000-0000-4000-8000-000000000030\nname: transfer\nlogsource: { product: linux }\ndetection:\n  selection:\n    kind: transfer\n  condition: selection\n";
    let sum = "title: s\nid: 00000000-0000-4000-8000-000000000031\ncorrelation:\n  type: value_sum\n  rules: [transfer]\n  group-by: [User]\n  timespan: 1h\n  condition:\n    field: BytesOut\n    gt: 1000\n";
    let avg = sum.replace("value_sum", "value_avg").replace("000000000031", "000000000032").replace("gt: 1000", "gt: 500");
    let bytes = |n: i64, t: &str| at(event(Schema::Syslog, &[("kind", Value::from("transfer")), ("User", Value::from("dave")), ("BytesOut", Value::Int(n))]), t);
    let events = [bytes(400, "2024-01-01T10:00:00Z"), bytes(700, "2024-01-01T10:10:00Z")];
    assert_eq!(batch(&rules(&[transfer, sum]), &events), 1);
    assert_eq!(batch(&rules(&[transfer, &avg]), &events), 1);
    let low = [bytes(400, "2024-01-01T10:00:00Z"), bytes(500, "2024-01-01T10:10:00Z")];
    assert_eq!(batch(&rules(&[transfer, &avg]), &low), 0);
}

#[test]
fn unknown_rule_reference_rejected() {
    let correlation = "title: c\nid: 00000000-0000-4000-8000-000000000040\ncorrelation:\n  type: event_count\n  rules: [no_such_rule]\n  group-by: [User]\n  timespan: 5m\n  condition:\n    gte: 2\n";
    let mut builder = tocsin_sigma::RuleSetBuilder::new();
    builder.add_str(correlation, None);
    let (_, report) = builder.build();
    assert_eq!(report.rejected(), 1);
}

/// The specification's example of chaining: ten failed logins of one user within ten minutes
/// (an event_count correlation), then a successful login of that user (a temporal_ordered
/// correlation over the first correlation and a detection rule).
const FAILED_THEN_SUCCESS: &str = r"
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
";

/// Builds a Security logon event of `user` at minute and second `clock` past 10:00.
fn logon(event_id: i64, user: &str, clock: &str) -> Event {
    at(event(Schema::Windows, &[("Channel", Value::from("Security")), ("EventID", Value::Int(event_id)), ("User", Value::from(user))]), &format!("2024-01-01T10:{clock}Z"))
}

/// Builds `failures` failed logins of `user` one second apart from 10:00:00, then a success at
/// 10:01:00.
fn failures_then_success(user: &str, failures: usize) -> Vec<Event> {
    let mut events: Vec<Event> = (0..failures).map(|i| logon(4625, user, &format!("00:{i:02}"))).collect();
    events.push(logon(4624, user, "01:00"));
    events
}

fn chained_hits(set: &RuleSet, events: &[Event]) -> Vec<String> {
    let mut matches: Vec<(RuleIdx, &Event)> = Vec::new();
    for event in events {
        for rule in set.matches(event) {
            matches.push((rule, event));
        }
    }
    let (hits, _) = correlate_batch(set, &matches);
    hits.iter().map(|hit| format!("{} {:?}", hit.title, hit.group)).collect()
}

#[test]
fn chained_correlation_from_specification() {
    let set = rules(&[FAILED_THEN_SUCCESS]);
    let outer = "Correlation - Multiple Failed Logins Followed by Successful Login";

    // Only the chaining correlation reports: its inner one has no `generate: true`.
    assert_eq!(chained_hits(&set, &failures_then_success("alice", 10)), [format!("{outer} [\"alice\"]")]);
    assert!(chained_hits(&set, &failures_then_success("alice", 9)).is_empty());

    let mut only_failures = failures_then_success("bob", 10);
    only_failures.pop();
    assert!(chained_hits(&set, &only_failures).is_empty());

    // The success must follow the failures, and be of the same user.
    let mut success_first = vec![logon(4624, "carol", "00:00")];
    success_first.extend((1..=10).map(|i| logon(4625, "carol", &format!("00:{i:02}"))));
    assert!(chained_hits(&set, &success_first).is_empty());
    let mut other_user = failures_then_success("dave", 10);
    other_user.pop();
    other_user.push(logon(4624, "erin", "01:00"));
    assert!(chained_hits(&set, &other_user).is_empty());
}

#[test]
fn chained_correlation_streams_like_batch() {
    let set = rules(&[FAILED_THEN_SUCCESS]);
    let mut engine = CorrelationEngine::new(&set, CorrelationConfig::default());
    let mut hits = Vec::new();
    for event in failures_then_success("alice", 10) {
        for rule in set.matches(&event) {
            hits.extend(engine.feed(rule, &event));
        }
    }
    hits.extend(engine.flush());

    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].group, ["alice"]);
    assert_eq!(hits[0].first_ms, 1_704_103_200_000, "the window starts at the first failure");
}

#[test]
fn chained_correlation_with_generate() {
    let text = FAILED_THEN_SUCCESS.replacen("    timespan: 10m\nlevel: high", "    timespan: 10m\n    generate: true\nlevel: high", 1);
    let set = rules(&[&text]);

    let hits = chained_hits(&set, &failures_then_success("alice", 10));
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits.iter().any(|h| h.starts_with("Multiple failed logons")));
}

#[test]
fn chained_correlation_cycle_rejected() {
    let first = "title: c1\nid: 00000000-0000-4000-8000-000000000050\nname: one\ncorrelation:\n  type: event_count\n  rules: [two]\n  group-by: [User]\n  timespan: 5m\n  condition:\n    gte: 2\n";
    let second = "title: c2\nid: 00000000-0000-4000-8000-000000000051\nname: two\ncorrelation:\n  type: event_count\n  rules: [one]\n  group-by: [User]\n  timespan: 5m\n  condition:\n    gte: 2\n";
    let mut builder = tocsin_sigma::RuleSetBuilder::new();
    builder.add_str(first, None);
    builder.add_str(second, None);
    let (set, report) = builder.build();

    assert_eq!(set.correlation_count(), 0);
    assert_eq!(report.rejected(), 2);
    let reasons: Vec<String> = report
        .rules
        .iter()
        .filter_map(|r| match &r.status {
            tocsin_sigma::RuleStatus::Rejected(error) => Some(error.to_string()),
            _ => None,
        })
        .collect();
    assert!(reasons.iter().all(|r| r.contains("cycle")), "{reasons:?}");
}

#[test]
fn chained_group_by_must_come_from_inner() {
    let inner = "title: c1\nid: 00000000-0000-4000-8000-000000000060\nname: many_failures\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [User]\n  timespan: 5m\n  condition:\n    gte: 2\n";
    let outer = "title: c2\nid: 00000000-0000-4000-8000-000000000061\ncorrelation:\n  type: temporal\n  rules: [many_failures, failed_login]\n  group-by: [SrcIp]\n  timespan: 5m\n";
    let mut builder = tocsin_sigma::RuleSetBuilder::new();
    builder.add_str(&login_rule(), None);
    builder.add_str(inner, None);
    builder.add_str(outer, None);
    let (set, report) = builder.build();

    assert_eq!(set.correlation_count(), 1);
    let rejected = report.rules.iter().find(|r| matches!(r.status, tocsin_sigma::RuleStatus::Rejected(_))).unwrap();
    assert_eq!(rejected.title.as_deref(), Some("c2"));
    assert!(format!("{:?}", rejected.status).contains("group-by field `SrcIp`"));
}

/// rsyslog folds repeats of one line into "message repeated N times: [ ... ]"; such an event
/// counts N times towards an event_count threshold.
#[test]
fn repeated_syslog_line_counts_n_times() {
    let base = "title: failed\nid: 7d1e0c2a-0000-4000-8000-00000000a001\nlogsource: { product: linux, service: sshd }\ndetection:\n  selection:\n    event.outcome: failure\n  condition: selection\n";
    let burst = "title: burst\nid: 7d1e0c2a-0000-4000-8000-00000000a002\ncorrelation:\n  type: event_count\n  rules: [7d1e0c2a-0000-4000-8000-00000000a001]\n  group-by: [source.ip]\n  timespan: 5m\n  condition: { gte: 5 }\n";
    let set = common::rules(&[base, burst]);

    let failure = |second: u32, repeated: Option<i64>, record: u64| {
        let mut event = common::at(
            common::event(tocsin_event::Schema::Syslog, &[
                ("process.name", tocsin_event::Value::from("sshd")),
                ("event.outcome", tocsin_event::Value::from("failure")),
                ("source.ip", tocsin_event::Value::from("203.0.113.7")),
            ]),
            &format!("2024-03-01T10:00:{second:02}Z"),
        );
        event.evidence.line = Some(record);
        if let Some(n) = repeated {
            event.push("log.syslog.repeated", tocsin_event::Value::Int(n));
        }
        event
    };

    let single = [failure(1, None, 1), failure(2, None, 2)];
    let matches: Vec<_> = single.iter().map(|e| (0, e)).collect();
    assert!(tocsin_sigma::correlate_batch(&set, &matches).0.is_empty(), "two failures stay under five");

    let folded = [failure(1, None, 1), failure(9, Some(4), 2)];
    let matches: Vec<_> = folded.iter().map(|e| (0, e)).collect();
    let (alerts, _) = tocsin_sigma::correlate_batch(&set, &matches);
    assert_eq!(alerts.len(), 1, "one line plus four repeats are five failures");
    assert_eq!(alerts[0].events, 5);
}
