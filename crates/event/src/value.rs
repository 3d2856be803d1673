use std::fmt;
use std::net::IpAddr;

use serde::ser::{Serialize, SerializeSeq, Serializer};

use crate::{Str, Timestamp};

/// A typed field value.
///
/// Decoders store the most specific type they can prove: `EventID` is an integer, `source.ip`
/// an address. Sigma matching compares across types as the specification requires (an
/// integer rule value matches the string `"4688"`), so a decoder that cannot tell may store a
/// string.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Str),
    Ip(IpAddr),
    Time(Timestamp),
    /// Several values under one name: a JSON array, or the same path reached through several
    /// array elements when nested JSON is flattened. A Sigma value matches a list when it
    /// matches any element.
    List(Vec<Value>),
}

impl Value {
    /// Returns the string slice when the value is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Returns the integer when the value is an integer, or a string that parses as one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Value::Ip(ip) => Some(*ip),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Writes the value as text, the way it would appear in a log line: what CSV and table
    /// output print, and what string-based Sigma modifiers see for non-string values.
    pub fn write_text(&self, out: &mut impl fmt::Write) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(out, "{b}"),
            Value::Int(i) => write!(out, "{i}"),
            Value::Float(f) => write!(out, "{f}"),
            Value::Str(s) => out.write_str(s),
            Value::Ip(ip) => write!(out, "{ip}"),
            Value::Time(t) => write!(out, "{t}"),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.write_str(", ")?;
                    }
                    item.write_text(out)?;
                }
                Ok(())
            }
        }
    }

    /// Returns the value as text (see [`Value::write_text`]).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = self.write_text(&mut s);
        s
    }

    /// Converts the value to a JSON value for ECS documents.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => s.as_str().into(),
            Value::Ip(ip) => ip.to_string().into(),
            Value::Time(t) => t.to_string().into(),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
        }
    }

    /// Converts a JSON scalar or array into a value. Objects become their JSON text, because
    /// decoders flatten objects into dotted field names before they get here.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Str(Str::from(s.as_str())),
            serde_json::Value::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(_) => Value::Str(Str::from(json.to_string())),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(Str::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(Str::from(s))
    }
}

impl From<Str> for Value {
    fn from(s: Str) -> Self {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<IpAddr> for Value {
    fn from(ip: IpAddr) -> Self {
        Value::Ip(ip)
    }
}

impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Self {
        Value::Time(t)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => serializer.serialize_f64(*f),
            Value::Float(_) => serializer.serialize_none(),
            Value::Str(s) => serializer.serialize_str(s),
            Value::Ip(ip) => serializer.collect_str(ip),
            Value::Time(t) => serializer.collect_str(t),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}
