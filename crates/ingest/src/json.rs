use serde_json::Value as Json;
use tocsin_event::{Event, Str, Value};

/// Pushes every leaf of a JSON object onto `event` under its dotted path
/// (`userIdentity.sessionContext.sessionIssuer.arn`).
///
/// Arrays of scalars become one [`Value::List`]. Arrays of objects are flattened element by
/// element, and the values reached through the same path are gathered into one list, so that
/// `requestParameters.ipPermissions.items.ipRanges.items.cidrIp` lists every CIDR of the
/// request. Empty objects and arrays are kept as empty lists, so a Sigma `exists` check on
/// them holds.
pub fn flatten_json(event: &mut Event, prefix: &str, json: &Json) {
    let mut leaves: Vec<(String, Value)> = Vec::new();
    collect(prefix, json, &mut leaves, false);
    for (name, value) in leaves {
        event.push(Str::from(name), value);
    }
}

fn collect(path: &str, json: &Json, out: &mut Vec<(String, Value)>, in_array: bool) {
    match json {
        Json::Object(map) if !map.is_empty() => {
            for (key, value) in map {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                collect(&child, value, out, in_array);
            }
        }
        Json::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            for item in items {
                collect(path, item, out, true);
            }
        }
        _ => {
            let value = match json {
                Json::Object(_) => Value::List(Vec::new()),
                other => Value::from_json(other),
            };
            add(out, path, value, in_array);
        }
    }
}

/// Adds a leaf; inside arrays of objects, a second value for the same path turns the first
/// into a list.
fn add(out: &mut Vec<(String, Value)>, path: &str, value: Value, in_array: bool) {
    if in_array && let Some((_, existing)) = out.iter_mut().find(|(name, _)| name == path) {
        match existing {
            Value::List(items) => match value {
                Value::List(more) => items.extend(more),
                one => items.push(one),
            },
            _ => {
                let first = std::mem::replace(existing, Value::Null);
                *existing = Value::List(vec![first, value]);
            }
        }
        return;
    }
    out.push((path.to_string(), value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::{Evidence, Schema, SourceRef};

    #[test]
    fn nested_arrays_gather_values() {
        let json: Json = serde_json::from_str(
            r#"{"eventName":"AuthorizeSecurityGroupIngress","requestParameters":{"ipPermissions":{"items":[
                {"fromPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}},
                {"fromPort":3389,"ipRanges":{"items":[{"cidrIp":"198.51.100.0/24"}]}}]}},
                "resources":[],"tags":["a","b"]}"#,
        )
        .unwrap();
        let mut event = Event::new(Schema::CloudTrail, Evidence::new(SourceRef::new("t.json")));
        flatten_json(&mut event, "", &json);

        assert_eq!(event.get_str("eventName"), Some("AuthorizeSecurityGroupIngress"));
        assert_eq!(
            event.get("requestParameters.ipPermissions.items.fromPort"),
            Some(&Value::List(vec![Value::Int(22), Value::Int(3389)]))
        );
        assert_eq!(
            event.get("requestParameters.ipPermissions.items.ipRanges.items.cidrIp"),
            Some(&Value::List(vec!["0.0.0.0/0".into(), "198.51.100.0/24".into()]))
        );
        assert_eq!(event.get("resources"), Some(&Value::List(vec![])));
        assert_eq!(event.get("tags"), Some(&Value::List(vec!["a".into(), "b".into()])));
    }
}
