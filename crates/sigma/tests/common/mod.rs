//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use tocsin_event::{Event, Evidence, Schema, SourceRef, Timestamp, Value};
use tocsin_sigma::{RuleSet, RuleSetBuilder};

/// Returns the shared test-data folder from `TOCSIN_TEST_DATA`, or `None` after noting that
/// the calling test is skipped (a failure under `CI=true`); see `tocsin_testdata::test_data`.
pub fn test_data(_test: &str) -> Option<PathBuf> {
    tocsin_testdata::test_data(".")
}

/// Compiles rule texts, panicking with the report when any rule is not accepted.
pub fn rules(texts: &[&str]) -> RuleSet {
    let mut builder = RuleSetBuilder::new();
    for text in texts {
        builder.add_str(text, None);
    }
    let (set, report) = builder.build();
    assert_eq!(report.accepted(), report.rules.len(), "rules not accepted: {:?}", report.rules);
    set
}

/// Builds a one-selection rule for `logsource` with `selection` as YAML text indented by 4.
pub fn rule(id: &str, logsource: &str, selection: &str) -> String {
    format!("title: test {id}\nid: {id}\nlogsource: {logsource}\ndetection:\n  selection:\n{selection}\n  condition: selection\n")
}

pub fn event(schema: Schema, fields: &[(&str, Value)]) -> Event {
    let mut event = Event::new(schema, Evidence::record(SourceRef::new("test"), 1));
    for (name, value) in fields {
        event.push(*name, value.clone());
    }
    event
}

/// Builds a Sysmon event with the given event id and extra fields.
pub fn sysmon(event_id: i64, fields: &[(&str, &str)]) -> Event {
    let mut event = event(
        Schema::Windows,
        &[("Channel", Value::from("Microsoft-Windows-Sysmon/Operational")), ("EventID", Value::Int(event_id))],
    );
    for (name, value) in fields {
        event.push(*name, Value::from(*value));
    }
    event
}

pub fn at(mut event: Event, rfc3339: &str) -> Event {
    event.timestamp = Timestamp::parse_rfc3339(rfc3339);
    event
}

/// Evaluates one rule text against one event through the indexed path, checking that the
/// unindexed path agrees.
pub fn fires(rule_text: &str, event: &Event) -> bool {
    let set = rules(&[rule_text]);
    let indexed = set.matches(event);
    assert_eq!(indexed, set.matches_unindexed(event), "indexed and unindexed results differ");
    !indexed.is_empty()
}
