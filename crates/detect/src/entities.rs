use std::collections::{BTreeMap, BTreeSet};

use tocsin_event::{Event, Value};

/// The entities an alert names, by ECS field, each with its distinct values in sorted order.
pub type Entities = BTreeMap<&'static str, BTreeSet<String>>;

/// ECS fields read as entities, in the order tables show them. Incidents group alerts that
/// share one of these, so each must identify a thing a responder acts on.
pub const ENTITY_FIELDS: &[&str] = &[
    "host.name",
    "user.name",
    "source.ip",
    "destination.ip",
    "cloud.account.id",
    "cloud.instance.id",
    "aws.access_key_id",
    "process.executable",
    "file.path",
];

/// Collects the entities of `event` into `entities`. Lists contribute each element; empty
/// values and the placeholder `-` that several formats write for "none" are left out.
pub fn extract_entities(event: &Event, entities: &mut Entities) {
    for field in ENTITY_FIELDS {
        let Some(value) = event.get(field) else {
            continue;
        };
        add_values(field, value, entities);
    }
}

fn add_values(field: &'static str, value: &Value, entities: &mut Entities) {
    match value {
        Value::List(items) => {
            for item in items {
                add_values(field, item, entities);
            }
        }
        Value::Null => {}
        other => {
            let text = other.to_text();
            let text = text.trim();
            if text.is_empty() || text == "-" {
                return;
            }
            entities.entry(field).or_default().insert(text.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::{Evidence, Schema, SourceRef};

    #[test]
    fn windows_entities_through_aliases() {
        let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("s.evtx"), 1));
        event.push("Computer", "dc-01");
        event.push("TargetUserName", "alice");
        event.push("IpAddress", "-");
        event.push("Image", "C:\\Python27\\python.exe");

        let mut entities = Entities::new();
        extract_entities(&event, &mut entities);

        assert_eq!(entities["host.name"].iter().collect::<Vec<_>>(), ["dc-01"]);
        assert_eq!(entities["user.name"].iter().collect::<Vec<_>>(), ["alice"]);
        assert_eq!(entities["process.executable"].iter().collect::<Vec<_>>(), ["C:\\Python27\\python.exe"]);
        assert!(!entities.contains_key("source.ip"), "`-` is no address");
    }
}
