use std::fmt;

use serde::Serialize;

use crate::{ecs, Evidence, Str, Timestamp, Value};

/// The family of log an event came from. It decides which ECS aliases apply and how the event
/// is laid out as an ECS document; the concrete format (EVTX or XML export, say) is in
/// `event.module`-style fields the decoder sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Schema {
    /// Windows event log records (EVTX, XML export, Winlogbeat): System fields and EventData.
    Windows,
    /// Syslog lines (RFC 3164, RFC 5424, auth.log), with sshd fields parsed where present.
    Syslog,
    /// journald JSON export.
    Journald,
    /// Linux audit events, joined by serial number.
    Auditd,
    /// AWS VPC Flow Logs records.
    VpcFlow,
    /// AWS CloudTrail events.
    CloudTrail,
    /// Amazon GuardDuty findings.
    GuardDuty,
    /// AWS Security Hub findings in ASFF.
    SecurityHub,
    /// Flat JSON records with no more specific schema.
    Json,
}

impl Schema {
    pub fn name(self) -> &'static str {
        match self {
            Schema::Windows => "windows",
            Schema::Syslog => "syslog",
            Schema::Journald => "journald",
            Schema::Auditd => "auditd",
            Schema::VpcFlow => "vpcflow",
            Schema::CloudTrail => "cloudtrail",
            Schema::GuardDuty => "guardduty",
            Schema::SecurityHub => "securityhub",
            Schema::Json => "json",
        }
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One named value of an event.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: Str,
    pub value: Value,
}

/// One normalized log record.
///
/// Fields are kept in the order the decoder pushed them, in a flat list: an event has a few
/// dozen fields, and a linear scan over inline names beats hashing at that size. Nested JSON
/// is flattened into dotted names (`userIdentity.arn`). `Event` is `Send + Sync` and is shared
/// between stages behind an `Arc`.
#[derive(Clone, Debug)]
pub struct Event {
    pub schema: Schema,
    pub timestamp: Option<Timestamp>,
    fields: Vec<Field>,
    pub evidence: Evidence,
    /// The original record for line formats (the line itself) and for JSON formats (the
    /// record's JSON text). EVTX records are re-rendered from the file instead.
    pub raw: Option<Box<str>>,
}

impl Event {
    pub fn new(schema: Schema, evidence: Evidence) -> Self {
        Event { schema, timestamp: None, fields: Vec::new(), evidence, raw: None }
    }

    pub fn with_capacity(schema: Schema, evidence: Evidence, fields: usize) -> Self {
        Event { fields: Vec::with_capacity(fields), ..Event::new(schema, evidence) }
    }

    /// Appends a field. Names are not deduplicated: decoders push each name once, and a
    /// lookup returns the first.
    pub fn push(&mut self, name: impl Into<Str>, value: impl Into<Value>) {
        self.fields.push(Field { name: name.into(), value: value.into() });
    }

    /// Replaces the value of an existing field or appends it.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) {
        let value = value.into();
        match self.fields.iter_mut().find(|f| f.name == name) {
            Some(field) => field.value = value,
            None => self.fields.push(Field { name: Str::from(name), value }),
        }
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Looks up a field by the source's own name only.
    pub fn get_source(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|f| f.name == name).map(|f| &f.value)
    }

    /// Looks up a field by the source's own name first, then by its ECS name through the
    /// schema's alias table (`process.command_line` finds Sysmon `CommandLine`), then by its
    /// path in the ECS document (`winlog.event_data.CommandLine`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.get_source(name).or_else(|| self.get_ecs(name))
    }

    /// Looks up a field like [`Event::get`], except that when the event has the source name
    /// twice the later field wins. Decoders put a Windows event's System fields before its
    /// EventData and UserData, so this reads the data: event 104 names the cleared log
    /// `Channel` in its UserData, beside the System `Channel`. Sigma rules read fields so.
    pub fn get_last(&self, name: &str) -> Option<&Value> {
        match self.fields.iter().rev().find(|f| f.name == name) {
            Some(field) => Some(&field.value),
            None => self.get_ecs(name),
        }
    }

    /// Looks up an ECS name through the alias table, then as a path in the ECS document.
    fn get_ecs(&self, name: &str) -> Option<&Value> {
        if name == "@timestamp" {
            return None;
        }
        if let Some(found) = ecs::event_aliases(self, name).iter().find_map(|alias| self.get_source(alias)) {
            return Some(found);
        }
        let prefix = ecs::source_namespace(self.schema)?;
        self.get_source(name.strip_prefix(prefix)?)
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_i64)
    }

    /// Renders the event as an ECS document (see the `ecs` module for the layout).
    pub fn to_ecs(&self) -> serde_json::Value {
        ecs::to_ecs(self)
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_ecs().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceRef;

    #[test]
    fn get_last_prefers_later_field() {
        let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("test"), 1));
        event.push("Channel", "System");
        event.push("Computer", "dc01");
        event.push("Channel", "Application");

        assert_eq!(event.get_str("Channel"), Some("System"));
        assert_eq!(event.get_last("Channel").and_then(Value::as_str), Some("Application"));
        assert_eq!(event.get_last("host.name").and_then(Value::as_str), Some("dc01"));
    }

    fn sysmon() -> Event {
        let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("a.evtx"), 7));
        event.push("EventID", Value::Int(1));
        event.push("Channel", "Microsoft-Windows-Sysmon/Operational");
        event.push("Computer", "WIN-DC01");
        event.push("CommandLine", "python.exe winpwnage.py");
        event
    }

    #[test]
    fn source_name_lookup() {
        assert_eq!(sysmon().get_str("CommandLine"), Some("python.exe winpwnage.py"));
        assert_eq!(sysmon().get_i64("EventID"), Some(1));
    }

    #[test]
    fn ecs_name_lookup() {
        let event = sysmon();
        assert_eq!(event.get_str("process.command_line"), Some("python.exe winpwnage.py"));
        assert_eq!(event.get_str("host.name"), Some("WIN-DC01"));
        assert_eq!(event.get_i64("event.code"), Some(1));
        assert_eq!(event.get("user.name"), None);
    }

    #[test]
    fn set_replaces() {
        let mut event = sysmon();
        event.set("Computer", "WIN-DC02");
        assert_eq!(event.get_str("host.name"), Some("WIN-DC02"));
        assert_eq!(event.fields().len(), 4);
    }
}
