//! Elastic Common Schema names and layout.
//!
//! Each schema module provides two things: an alias table that maps an ECS name to the source
//! field names that carry it (first present wins), and the ECS document path of each source
//! field. Fields that a decoder already stores under an ECS name (`source.ip` of an sshd line)
//! are placed at that path as they are.

mod aws;
mod linux;
mod windows;

use serde_json::{Map, Value as Json};

use crate::{Event, Schema};

pub use windows::SYSTEM_FIELDS;

/// Returns the source field names that carry `ecs_name` in events of `schema`, in lookup order.
pub fn ecs_aliases(schema: Schema, ecs_name: &str) -> &'static [&'static str] {
    let table = alias_table(schema);
    table.iter().find(|(name, _)| *name == ecs_name).map_or(&[], |(_, sources)| sources)
}

/// Returns the source fields of an ECS name for this event: [`ecs_aliases`], except where the
/// event's kind gives a field another meaning (in Windows group management events
/// `TargetUserName` is the group, and `user.name` is the account that made the change).
pub(crate) fn event_aliases(event: &Event, ecs_name: &str) -> &'static [&'static str] {
    let overrides = event_overrides(event);
    match overrides.iter().find(|(name, _)| *name == ecs_name) {
        Some((_, sources)) => sources,
        None => ecs_aliases(event.schema, ecs_name),
    }
}

fn event_overrides(event: &Event) -> AliasTable {
    match event.schema {
        Schema::Windows if windows::is_group_management(event) => windows::GROUP_MANAGEMENT_ALIASES,
        _ => &[],
    }
}

/// Returns the prefix under which a schema's own field names live in its ECS document, so
/// that `winlog.event_data.CommandLine` also finds `CommandLine`.
pub(crate) fn source_namespace(schema: Schema) -> Option<&'static str> {
    match schema {
        Schema::Windows => Some("winlog.event_data."),
        Schema::CloudTrail => Some("aws.cloudtrail."),
        Schema::GuardDuty => Some("aws.guardduty."),
        Schema::SecurityHub => Some("aws.securityhub."),
        Schema::VpcFlow => Some("aws.vpcflow."),
        Schema::Journald => Some("journald."),
        Schema::Auditd => Some("auditd."),
        Schema::Syslog | Schema::Json => None,
    }
}

type AliasTable = &'static [(&'static str, &'static [&'static str])];

fn alias_table(schema: Schema) -> AliasTable {
    match schema {
        Schema::Windows => windows::ALIASES,
        Schema::Syslog => linux::SYSLOG_ALIASES,
        Schema::Journald => linux::JOURNALD_ALIASES,
        Schema::Auditd => linux::AUDITD_ALIASES,
        Schema::VpcFlow => aws::VPCFLOW_ALIASES,
        Schema::CloudTrail => aws::CLOUDTRAIL_ALIASES,
        Schema::GuardDuty => aws::GUARDDUTY_ALIASES,
        Schema::SecurityHub => aws::SECURITYHUB_ALIASES,
        Schema::Json => &[],
    }
}

/// Returns where a field named `name` goes in the ECS document of an event of `schema`.
fn document_path(schema: Schema, name: &str) -> String {
    if is_ecs_name(name) {
        return name.to_string();
    }
    match schema {
        Schema::Windows => windows::document_path(name),
        _ => match source_namespace(schema) {
            Some(prefix) => format!("{prefix}{name}"),
            None => name.to_string(),
        },
    }
}

/// Top-level ECS field sets. A decoder that stores a field under one of these prefixes has
/// already given it its ECS name.
const ECS_ROOTS: &[&str] = &[
    "agent", "cloud", "destination", "dns", "ecs", "error", "event", "file", "group", "host",
    "http", "log", "network", "observer", "process", "registry", "related", "rule", "server",
    "service", "source", "threat", "tls", "url", "user", "user_agent", "winlog", "aws", "ssh",
    "auditd", "journald", "message", "tags", "labels", "tocsin", "pam", "sudo", "logind", "systemd",
];

fn is_ecs_name(name: &str) -> bool {
    let root = name.split('.').next().unwrap_or(name);
    (name.contains('.') || root == "message" || root == "tags") && ECS_ROOTS.contains(&root)
}

/// Builds the ECS document of an event.
///
/// Layout: `@timestamp`; `log.file.path` and `log.offset`; `tocsin.evidence` with the whole
/// evidence reference; `event.original` for line formats; then every field at its document
/// path; then the ECS aliases of the schema for names not already present.
pub(crate) fn to_ecs(event: &Event) -> Json {
    let mut doc = Map::new();

    if let Some(ts) = &event.timestamp {
        doc.insert("@timestamp".into(), Json::String(ts.to_string()));
    }
    insert_path(&mut doc, "log.file.path", Json::String(event.evidence.source.path.clone()));
    if let Some(offset) = event.evidence.offset {
        insert_path(&mut doc, "log.offset", offset.into());
    }
    let evidence = serde_json::to_value(event.evidence.doc()).unwrap_or(Json::Null);
    insert_path(&mut doc, "tocsin.evidence", evidence);
    insert_path(&mut doc, "tocsin.schema", event.schema.name().into());
    if let Some(raw) = &event.raw
        && keeps_original(event.schema)
    {
        insert_path(&mut doc, "event.original", Json::String(raw.to_string()));
    }

    for field in event.fields() {
        let path = document_path(event.schema, &field.name);
        let value = match event.schema {
            Schema::Windows if !is_ecs_name(&field.name) => windows::document_value(&field.name, &field.value),
            _ => field.value.to_json(),
        };
        insert_path(&mut doc, &path, value);
    }

    for (ecs_name, sources) in event_overrides(event).iter().chain(alias_table(event.schema)) {
        if ecs_name.starts_with("winlog.") || lookup_path(&doc, ecs_name).is_some() {
            continue;
        }
        if let Some(value) = sources.iter().find_map(|s| event.get_source(s)) {
            insert_path(&mut doc, ecs_name, value.to_json());
        }
    }

    Json::Object(doc)
}

/// Line formats keep the line as `event.original`; JSON formats keep their fields instead,
/// because repeating a CloudTrail record would double the output for no new information.
fn keeps_original(schema: Schema) -> bool {
    matches!(schema, Schema::Syslog | Schema::Auditd | Schema::VpcFlow)
}

/// Inserts `value` at a dotted path, creating objects on the way. When a path segment is
/// already a scalar, the value is stored under the remaining dotted key instead, so that no
/// field is lost to a name collision.
pub(crate) fn insert_path(doc: &mut Map<String, Json>, path: &str, value: Json) {
    let Some((head, tail)) = path.split_once('.') else {
        doc.entry(path.to_string()).or_insert(value);
        return;
    };
    let is_object = doc.get(head).is_none_or(Json::is_object);
    if !is_object {
        doc.entry(path.to_string()).or_insert(value);
        return;
    }
    let slot = doc.entry(head.to_string()).or_insert_with(|| Json::Object(Map::new()));
    if let Json::Object(inner) = slot {
        insert_path(inner, tail, value);
    }
}

fn lookup_path<'a>(doc: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    let mut map = doc;
    let mut rest = path;
    while let Some((head, tail)) = rest.split_once('.') {
        match map.get(head) {
            Some(Json::Object(inner)) => {
                map = inner;
                rest = tail;
            }
            _ => return None,
        }
    }
    map.get(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_nested_and_collision() {
        let mut doc = Map::new();
        insert_path(&mut doc, "a.b", 1.into());
        insert_path(&mut doc, "a.c", 2.into());
        insert_path(&mut doc, "a.b.d", 3.into());
        assert_eq!(Json::Object(doc), serde_json::json!({"a": {"b": 1, "b.d": 3, "c": 2}}));
    }

    fn security_event(event_id: i64) -> Event {
        use crate::{Evidence, SourceRef, Value};

        let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("test"), 1));
        event.push("EventID", Value::Int(event_id));
        event.push("Channel", "Security");
        event.push("SubjectUserName", "admmig");
        event.push("SubjectDomainName", "OFFSEC");
        event.push("TargetUserName", "Administrators");
        event.push("TargetDomainName", "Builtin");
        event.push("TargetSid", "S-1-5-32-544");
        event
    }

    #[test]
    fn group_event_names_group_and_actor() {
        let event = security_event(4732);

        assert_eq!(event.get_str("user.name"), Some("admmig"));
        assert_eq!(event.get_str("user.domain"), Some("OFFSEC"));
        assert_eq!(event.get_str("group.name"), Some("Administrators"));
        assert_eq!(event.get_str("group.id"), Some("S-1-5-32-544"));

        let doc = to_ecs(&event);
        assert_eq!(doc["user"]["name"], "admmig");
        assert_eq!(doc["group"]["name"], "Administrators");
        assert_eq!(doc["group"]["domain"], "Builtin");
    }

    #[test]
    fn logon_event_names_target_user() {
        let event = security_event(4624);

        assert_eq!(event.get_str("user.name"), Some("Administrators"));
        assert_eq!(event.get_str("group.name"), None);
        assert!(to_ecs(&event).get("group").is_none());
    }
}
