//! Flattens a JSON record straight from its text into dotted leaves, without building a
//! `serde_json::Value` tree first.
//!
//! The result is the same as [`crate::flatten_json`] on the parsed value, and a unit test
//! compares the two. Objects become dotted names and arrays of scalars become one list. Arrays
//! holding objects or arrays are flattened element by element, with the values of each path
//! gathered into a list. Empty objects and arrays become empty lists. Skipping the tree roughly
//! halves the cost of a CloudTrail event, most of which was allocating and hashing map
//! entries that were thrown away right after flattening.

use std::collections::HashMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use tocsin_event::{Str, Value};

/// Parses `text` and returns its leaves in document order.
pub(crate) fn flatten_text(text: &str) -> Result<Vec<(Str, Value)>, serde_json::Error> {
    let mut leaves = Leaves::default();
    let mut path = String::new();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    Node { leaves: &mut leaves, path: &mut path, in_array: false }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(leaves.items)
}

/// Leaves with at most this many entries are searched linearly when a gathered path
/// repeats. Past it, an index by path is built and kept.
const LINEAR_SEARCH_MAX: usize = 32;

#[derive(Default)]
struct Leaves {
    items: Vec<(Str, Value)>,
    /// Position of the first leaf of each path, once `items` outgrows a linear search
    /// (large arrays of objects repeat the same paths many times).
    index: Option<HashMap<Str, usize>>,
}

impl Leaves {
    /// Adds a leaf. Inside arrays of objects a second value for the same path turns the first
    /// into a list, as `flatten_json` does.
    fn add(&mut self, path: &str, value: Value, in_array: bool) {
        if in_array && let Some(position) = self.find(path) {
            let existing = &mut self.items[position].1;
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
        let name = Str::from(path);
        if let Some(index) = &mut self.index {
            index.entry(name.clone()).or_insert(self.items.len());
        }
        self.items.push((name, value));
    }

    fn find(&mut self, path: &str) -> Option<usize> {
        if self.index.is_none() && self.items.len() > LINEAR_SEARCH_MAX {
            let mut index = HashMap::with_capacity(self.items.len() * 2);
            for (position, (name, _)) in self.items.iter().enumerate() {
                index.entry(name.clone()).or_insert(position);
            }
            self.index = Some(index);
        }
        match &self.index {
            Some(index) => index.get(path).copied(),
            None => self.items.iter().position(|(name, _)| name == path),
        }
    }
}

/// One JSON value at `path`.
struct Node<'a> {
    leaves: &'a mut Leaves,
    path: &'a mut String,
    in_array: bool,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Node<'_> {
    fn leaf(self, value: Value) {
        self.leaves.add(self.path, value, self.in_array);
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.leaf(Value::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.leaf(Value::Int(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.leaf(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.leaf(Value::Float(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.leaf(Value::Str(Str::from(v)));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.leaf(Value::Null);
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.leaf(Value::Null);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let base = self.path.len();
        let mut empty = true;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            empty = false;
            if base > 0 {
                self.path.push('.');
            }
            self.path.push_str(&key);
            map.next_value_seed(Node { leaves: self.leaves, path: self.path, in_array: self.in_array })?;
            self.path.truncate(base);
        }
        if empty {
            self.leaf(Value::List(Vec::new()));
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Scalars are held back until the array is known to hold no object or array: then
        // they form one list. Once a container element appears, the held scalars and every
        // later element are added one by one, gathered by path.
        let mut elements = Elements { leaves: self.leaves, path: self.path, scalars: Vec::new(), gathering: false };
        while seq.next_element_seed(&mut elements)?.is_some() {}
        if !elements.gathering {
            let scalars = std::mem::take(&mut elements.scalars);
            self.leaves.add(self.path, Value::List(scalars), self.in_array);
        }
        Ok(())
    }
}

/// The elements of one array, visited in order.
struct Elements<'a> {
    leaves: &'a mut Leaves,
    path: &'a mut String,
    scalars: Vec<Value>,
    gathering: bool,
}

impl Elements<'_> {
    fn scalar(&mut self, value: Value) {
        if self.gathering {
            self.leaves.add(self.path, value, true);
        } else {
            self.scalars.push(value);
        }
    }

    /// Switches to adding elements one by one, first adding the scalars held back.
    fn start_gathering(&mut self) -> Node<'_> {
        if !self.gathering {
            self.gathering = true;
            for value in self.scalars.drain(..) {
                self.leaves.add(self.path, value, true);
            }
        }
        Node { leaves: self.leaves, path: self.path, in_array: true }
    }
}

impl<'de> DeserializeSeed<'de> for &mut Elements<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.scalar(Value::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.scalar(Value::Int(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.scalar(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.scalar(Value::Float(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.scalar(Value::Str(Str::from(v)));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.scalar(Value::Null);
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.scalar(Value::Null);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.start_gathering().visit_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.start_gathering().visit_seq(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::{Event, Evidence, Schema, SourceRef};

    fn same_as_flatten_json(text: &str) {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut event = Event::new(Schema::CloudTrail, Evidence::new(SourceRef::new("t")));
        crate::flatten_json(&mut event, "", &json);
        let expected: Vec<(Str, Value)> = event.fields().iter().map(|f| (f.name.clone(), f.value.clone())).collect();
        assert_eq!(flatten_text(text).unwrap(), expected, "{text}");
    }

    #[test]
    fn matches_flatten_json() {
        same_as_flatten_json(
            r#"{"eventName":"AuthorizeSecurityGroupIngress","requestParameters":{"ipPermissions":{"items":[
                {"fromPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}},
                {"fromPort":3389,"ipRanges":{"items":[{"cidrIp":"198.51.100.0/24"}]}}]}},
                "resources":[],"tags":["a","b"],"empty":{},"n":null,"f":1.5,"big":18446744073709551615}"#,
        );
        same_as_flatten_json(r#"{"mixed":[1,"x",{"a":1},2,[3,4],{"a":[5]}],"nested":[[1,2],[3]],"deep":{"a":{"b":{}}}}"#);
        same_as_flatten_json(r#"{"list":[{"a":1},{"b":2},{"a":3}],"t":true}"#);
    }

    #[test]
    fn rejects_trailing_text() {
        assert!(flatten_text(r#"{"a":1} x"#).is_err());
    }
}
