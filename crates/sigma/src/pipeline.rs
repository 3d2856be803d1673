//! pySigma-style processing pipelines loaded from YAML.
//!
//! Supported transformations: `field_name_mapping` (a field to one or several names; several
//! names are ORed), `add_condition` (extra field conditions ANDed to the rule) and
//! `change_logsource`. Each may carry `rule_conditions` of type `logsource`, which limit it
//! to rules whose log source has the given product, category and service. Pipelines run in
//! ascending `priority` order.

use yaml_serde::{Mapping, Value as Yaml};

use crate::error::Error;
use crate::parser::{FieldItem, LogSource, RawValue, Search};

/// A log-source condition of a transformation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogSourceCondition {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

impl LogSourceCondition {
    fn accepts(&self, logsource: &LogSource) -> bool {
        let same = |want: &Option<String>, have: &Option<String>| want.as_ref().is_none_or(|w| have.as_ref() == Some(w));
        same(&self.product, &logsource.product) && same(&self.category, &logsource.category) && same(&self.service, &logsource.service)
    }
}

/// One transformation step.
#[derive(Clone, Debug, PartialEq)]
pub enum Transformation {
    FieldNameMapping(Vec<(String, Vec<String>)>),
    AddCondition(Vec<FieldItem>),
    ChangeLogSource(LogSource),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub transformation: Transformation,
    /// The step applies when any condition accepts the rule (or when there is none).
    pub conditions: Vec<LogSourceCondition>,
}

/// A processing pipeline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pipeline {
    pub name: String,
    pub priority: i64,
    pub steps: Vec<Step>,
}

fn bad(path: &str, reason: impl Into<String>) -> Error {
    Error::Pipeline { path: path.to_string(), reason: reason.into() }
}

fn text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn logsource_of(map: &Mapping) -> LogSource {
    let field = |key: &str| map.get(key).and_then(text).map(|s| s.to_lowercase());
    LogSource { product: field("product"), category: field("category"), service: field("service") }
}

impl Pipeline {
    /// Parses a pipeline from YAML text; `path` names it in errors.
    pub fn from_yaml(source: &str, path: &str) -> Result<Pipeline, Error> {
        let value: Yaml = yaml_serde::from_str(source).map_err(|e| bad(path, e.to_string()))?;
        let Yaml::Mapping(map) = value else { return Err(bad(path, "a pipeline must be a YAML mapping")) };
        let name = map.get("name").and_then(text).unwrap_or_else(|| path.to_string());
        let priority = map.get("priority").and_then(Yaml::as_i64).unwrap_or(0);
        let mut steps = Vec::new();
        let Some(Yaml::Sequence(items)) = map.get("transformations") else {
            return Err(bad(path, "missing `transformations` list"));
        };
        for item in items {
            let Yaml::Mapping(item) = item else { return Err(bad(path, "each transformation must be a mapping")) };
            let kind = item.get("type").and_then(text).ok_or_else(|| bad(path, "a transformation has no `type`"))?;
            let transformation = match kind.as_str() {
                "field_name_mapping" => {
                    let Some(Yaml::Mapping(mapping)) = item.get("mapping") else {
                        return Err(bad(path, "`field_name_mapping` needs a `mapping`"));
                    };
                    let mut pairs = Vec::new();
                    for (from, to) in mapping {
                        let from = text(from).ok_or_else(|| bad(path, "field names must be strings"))?;
                        let to = match to {
                            Yaml::Sequence(names) => names.iter().filter_map(text).collect(),
                            other => vec![text(other).ok_or_else(|| bad(path, "field names must be strings"))?],
                        };
                        pairs.push((from, to));
                    }
                    Transformation::FieldNameMapping(pairs)
                }
                "add_condition" => {
                    let Some(Yaml::Mapping(conditions)) = item.get("conditions") else {
                        return Err(bad(path, "`add_condition` needs `conditions`"));
                    };
                    let mut items = Vec::new();
                    for (field, value) in conditions {
                        let field = text(field).ok_or_else(|| bad(path, "field names must be strings"))?;
                        let values = match value {
                            Yaml::Sequence(values) => values.iter().map(raw).collect(),
                            other => vec![raw(other)],
                        };
                        let mut parts = field.split('|');
                        let name = parts.next().unwrap_or_default().to_string();
                        let names: Vec<&str> = parts.collect();
                        let modifiers = crate::modifiers::parse_modifiers(&names).map_err(|e| bad(path, e.to_string()))?;
                        items.push(FieldItem { field: Some(name), modifiers, values });
                    }
                    Transformation::AddCondition(items)
                }
                "change_logsource" => Transformation::ChangeLogSource(logsource_of(item)),
                other => return Err(bad(path, format!("transformation type `{other}` is not supported; use field_name_mapping, add_condition or change_logsource"))),
            };
            let mut conditions = Vec::new();
            if let Some(Yaml::Sequence(rule_conditions)) = item.get("rule_conditions") {
                for condition in rule_conditions {
                    let Yaml::Mapping(condition) = condition else { return Err(bad(path, "rule conditions must be mappings")) };
                    match condition.get("type").and_then(text).as_deref() {
                        Some("logsource") => {
                            let ls = logsource_of(condition);
                            conditions.push(LogSourceCondition { product: ls.product, category: ls.category, service: ls.service });
                        }
                        other => return Err(bad(path, format!("rule condition type `{}` is not supported; use logsource", other.unwrap_or("")))),
                    }
                }
            }
            steps.push(Step { transformation, conditions });
        }
        Ok(Pipeline { name, priority, steps })
    }

    /// Applies the pipeline to a detection rule: renames fields in `searches`, returns the
    /// extra conditions to AND, and may change `logsource`.
    pub fn apply(&self, logsource: &mut LogSource, searches: &mut [(String, Search)], extra: &mut Vec<FieldItem>) {
        for step in &self.steps {
            if !step.conditions.is_empty() && !step.conditions.iter().any(|c| c.accepts(logsource)) {
                continue;
            }
            match &step.transformation {
                Transformation::FieldNameMapping(pairs) => {
                    for (_, search) in searches.iter_mut() {
                        rename(search, pairs);
                    }
                    for item in extra.iter_mut() {
                        rename_item(item, pairs);
                    }
                }
                Transformation::AddCondition(items) => extra.extend(items.iter().cloned()),
                Transformation::ChangeLogSource(new) => {
                    if new.product.is_some() {
                        logsource.product = new.product.clone();
                    }
                    if new.category.is_some() {
                        logsource.category = new.category.clone();
                    }
                    if new.service.is_some() {
                        logsource.service = new.service.clone();
                    }
                }
            }
        }
    }
}

fn raw(value: &Yaml) -> RawValue {
    match value {
        Yaml::Null => RawValue::Null,
        Yaml::Bool(b) => RawValue::Bool(*b),
        Yaml::Number(n) => n.as_i64().map_or_else(|| RawValue::Float(n.to_string()), RawValue::Int),
        other => RawValue::Str(text(other).unwrap_or_default()),
    }
}

fn rename_item(item: &mut FieldItem, pairs: &[(String, Vec<String>)]) -> Option<Vec<String>> {
    let field = item.field.as_ref()?;
    let (_, targets) = pairs.iter().find(|(from, _)| from == field)?;
    if targets.len() == 1 {
        item.field = Some(targets[0].clone());
        return None;
    }
    Some(targets.clone())
}

/// Renames fields; a field mapped to several names becomes an OR over copies of its map.
fn rename(search: &mut Search, pairs: &[(String, Vec<String>)]) {
    match search {
        Search::AllOf(items) => {
            let mut variants = vec![Vec::new()];
            for item in items.iter() {
                let mut item = item.clone();
                match rename_item(&mut item, pairs) {
                    None => variants.iter_mut().for_each(|v| v.push(item.clone())),
                    Some(targets) => {
                        variants = variants
                            .into_iter()
                            .flat_map(|v| {
                                let item = &item;
                                targets.iter().map(move |t| {
                                    let mut v = v.clone();
                                    v.push(FieldItem { field: Some(t.clone()), ..item.clone() });
                                    v
                                })
                            })
                            .collect();
                    }
                }
            }
            *search = if variants.len() == 1 {
                Search::AllOf(variants.pop().expect("one variant"))
            } else {
                Search::AnyOf(variants.into_iter().map(Search::AllOf).collect())
            };
        }
        Search::AnyOf(items) => items.iter_mut().for_each(|s| rename(s, pairs)),
        Search::Keywords(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIPELINE: &str = "name: ecs\npriority: 10\ntransformations:\n  - type: field_name_mapping\n    mapping:\n      Image: process.executable\n      User: [user.name, winlog.user.name]\n    rule_conditions:\n      - type: logsource\n        product: windows\n  - type: add_condition\n    conditions:\n      Channel: Security\n  - type: change_logsource\n    service: security\n";

    #[test]
    fn pipeline_parses_and_applies() {
        let pipeline = Pipeline::from_yaml(PIPELINE, "ecs.yml").unwrap();
        assert_eq!(pipeline.steps.len(), 3);
        let mut logsource = LogSource { product: Some("windows".into()), ..LogSource::default() };
        let item = |f: &str| FieldItem { field: Some(f.into()), modifiers: vec![], values: vec![RawValue::Str("x".into())] };
        let mut searches = vec![("sel".to_string(), Search::AllOf(vec![item("Image"), item("User")]))];
        let mut extra = Vec::new();
        pipeline.apply(&mut logsource, &mut searches, &mut extra);
        assert_eq!(logsource.service.as_deref(), Some("security"));
        assert_eq!(extra.len(), 1);
        let Search::AnyOf(variants) = &searches[0].1 else { panic!("expected OR of variants") };
        assert_eq!(variants.len(), 2);
    }

    #[test]
    fn unknown_transformation_rejected() {
        let error = Pipeline::from_yaml("transformations:\n  - type: drop_detection_item\n", "p.yml").unwrap_err();
        assert!(error.to_string().contains("drop_detection_item"));
    }
}
