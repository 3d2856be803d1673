//! Reading Sigma YAML into rule documents.
//!
//! A file contains one or more YAML documents. Each document is a detection rule, a correlation
//! rule or a filter rule, distinguished by its top-level `correlation` or `filter` key. Files in
//! the older collection format (`action: global`, `reset`, `repeat`) are merged into plain
//! documents here, so later stages never see `action`.

use std::path::{Path, PathBuf};

use yaml_serde::{Mapping, Value as Yaml};

use crate::error::{ErrorKind, RuleError};
use crate::modifiers::{parse_modifiers, Modifier};

/// A scalar value as written in a rule, before modifiers are applied.
#[derive(Clone, Debug, PartialEq)]
pub enum RawValue {
    Str(String),
    Int(i64),
    /// A YAML float, kept as its text so that `1.0` matches the event text `1.0`.
    Float(String),
    Bool(bool),
    Null,
}

impl RawValue {
    /// Returns the value as the text that string matching compares against.
    pub fn text(&self) -> Option<String> {
        match self {
            RawValue::Str(s) => Some(s.clone()),
            RawValue::Int(i) => Some(i.to_string()),
            RawValue::Float(f) => Some(f.clone()),
            RawValue::Bool(b) => Some(b.to_string()),
            RawValue::Null => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            RawValue::Int(i) => Some(*i as f64),
            RawValue::Float(f) => f.parse().ok(),
            RawValue::Str(s) => s.trim().parse().ok(),
            RawValue::Bool(_) | RawValue::Null => None,
        }
    }
}

/// One `field|modifier…: values` entry of a search identifier; `field` is `None` for keywords.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldItem {
    pub field: Option<String>,
    pub modifiers: Vec<Modifier>,
    pub values: Vec<RawValue>,
}

/// The body of a search identifier.
#[derive(Clone, Debug, PartialEq)]
pub enum Search {
    /// A map: every item must match.
    AllOf(Vec<FieldItem>),
    /// A list of maps or keywords: one element must match.
    AnyOf(Vec<Search>),
    /// Keyword values searched in every field of the event.
    Keywords(FieldItem),
}

/// The `detection` section of a rule or the body of a filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Search identifiers in the order they were written.
    pub searches: Vec<(String, Search)>,
    /// One or more conditions; a list of conditions is ORed.
    pub conditions: Vec<String>,
}

/// The `logsource` section, with values lowercased as the specification requires.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LogSource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

/// Metadata common to all rule kinds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleMeta {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    pub status: Option<String>,
    pub level: Option<String>,
    pub tags: Vec<String>,
    pub file: Option<PathBuf>,
    /// 1-based line where the rule's YAML document starts.
    pub line: usize,
}

/// The correlation types of Sigma v2.1.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
}

/// A numeric threshold such as `gte: 100`; several bounds are ANDed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Threshold {
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
    pub eq: Option<f64>,
}

impl Threshold {
    pub fn is_empty(&self) -> bool {
        self.gt.is_none() && self.gte.is_none() && self.lt.is_none() && self.lte.is_none() && self.eq.is_none()
    }

    pub fn accepts(&self, x: f64) -> bool {
        self.gt.is_none_or(|v| x > v)
            && self.gte.is_none_or(|v| x >= v)
            && self.lt.is_none_or(|v| x < v)
            && self.lte.is_none_or(|v| x <= v)
            && self.eq.is_none_or(|v| x == v)
    }
}

/// A correlation rule as written.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationRule {
    pub kind: CorrelationType,
    /// Referenced rules, by id or name.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan_ms: i64,
    pub threshold: Threshold,
    /// Fields whose values are counted or aggregated (`condition.field`).
    pub fields: Vec<String>,
    /// For `value_percentile`: the percentile to compute, 50 when the rule does not set it.
    pub percentile: f64,
    /// For `temporal` and `temporal_ordered`: an optional boolean expression over rule names.
    pub expression: Option<String>,
    /// Alias name to (rule name, field name) pairs.
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    pub generate: bool,
}

/// The kind-specific part of a rule document.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleBody {
    Detection { logsource: LogSource, detection: Detection },
    Correlation(CorrelationRule),
    Filter { logsource: LogSource, rules: Vec<String>, detection: Detection },
}

/// One parsed rule document.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDoc {
    pub meta: RuleMeta,
    pub body: RuleBody,
}

/// Finds the lines of keys inside one YAML document, for error messages.
struct Locator<'a> {
    text: &'a str,
    start_line: usize,
}

impl Locator<'_> {
    /// Returns the 1-based line of the first line whose text starts with `key:` (quoted or not).
    fn line_of(&self, key: &str) -> Option<usize> {
        for (i, line) in self.text.lines().enumerate() {
            let trimmed = line.trim_start().trim_start_matches("- ");
            let unquoted = trimmed.trim_start_matches(['\'', '"']);
            if let Some(rest) = unquoted.strip_prefix(key) {
                let rest = rest.trim_start_matches(['\'', '"']);
                if rest.starts_with(':') {
                    return Some(self.start_line + i);
                }
            }
        }
        None
    }
}

/// Splits a multi-document YAML text into (first line, text) per document. Only lines that
/// are exactly `---` (optionally followed by a comment) separate documents, which is how
/// Sigma files are written.
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut offset = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            docs.push((start_line, &text[start..offset]));
            start = offset + line.len();
            start_line = i + 2;
        }
        offset += line.len();
    }
    docs.push((start_line, &text[start..]));
    docs.retain(|(_, doc)| doc.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')));
    docs
}

/// Parses all rule documents of one file. Each document gives its own result, so one bad
/// rule in a file never hides the others.
pub fn parse_rules(text: &str, file: Option<&Path>) -> Vec<Result<RuleDoc, RuleError>> {
    let with_file = |mut error: RuleError| {
        error.file = file.map(Path::to_path_buf);
        error
    };
    let mut out = Vec::new();
    let mut global: Option<Yaml> = None;
    let mut previous: Option<Yaml> = None;
    for (start_line, doc_text) in split_documents(text) {
        let value: Yaml = match yaml_serde::from_str(doc_text) {
            Ok(value) => value,
            Err(error) => {
                let line = error.location().map(|l| start_line + l.line() - 1);
                out.push(Err(with_file(RuleError::new(ErrorKind::Yaml(error.to_string())).at(line))));
                continue;
            }
        };
        let locator = Locator { text: doc_text, start_line };
        let Yaml::Mapping(mut map) = value else {
            out.push(Err(with_file(
                RuleError::new(ErrorKind::Invalid { key: "document".into(), reason: "a rule must be a YAML mapping".into() })
                    .at(Some(start_line)),
            )));
            continue;
        };
        let action = map.remove("action").and_then(|a| a.as_str().map(str::to_owned));
        let merged = match action.as_deref() {
            Some("global") => {
                global = Some(Yaml::Mapping(map));
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            Some("repeat") => match &previous {
                Some(prev) => merge(prev.clone(), Yaml::Mapping(map)),
                None => {
                    out.push(Err(with_file(
                        RuleError::new(ErrorKind::Invalid {
                            key: "action".into(),
                            reason: "`repeat` needs an earlier rule document in the same file".into(),
                        })
                        .at(locator.line_of("action")),
                    )));
                    continue;
                }
            },
            Some(other) => {
                out.push(Err(with_file(
                    RuleError::new(ErrorKind::Invalid {
                        key: "action".into(),
                        reason: format!("`{other}` is not one of global, reset, repeat"),
                    })
                    .at(locator.line_of("action")),
                )));
                continue;
            }
            None => match &global {
                Some(g) => merge(g.clone(), Yaml::Mapping(map)),
                None => Yaml::Mapping(map),
            },
        };
        previous = Some(merged.clone());
        let Yaml::Mapping(map) = merged else { unreachable!("merging two mappings gives a mapping") };
        let mut meta_line = start_line;
        if let Some(line) = locator.line_of("title") {
            meta_line = meta_line.min(line);
        }
        let result = parse_document(&map, &locator, file, meta_line).map_err(|e| {
            let mut error = with_file(e.at(Some(start_line)));
            error.rule_id = map.get("id").and_then(scalar_text);
            error.rule_title = map.get("title").and_then(scalar_text);
            error
        });
        out.push(result);
    }
    out
}

/// Merges `over` into `base`: mappings key by key, everything else replaced.
fn merge(base: Yaml, over: Yaml) -> Yaml {
    match (base, over) {
        (Yaml::Mapping(mut base), Yaml::Mapping(over)) => {
            for (key, value) in over {
                let merged = match base.remove(&key) {
                    Some(old) => merge(old, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Yaml::Mapping(base)
        }
        (_, over) => over,
    }
}

fn invalid(key: &str, reason: impl Into<String>) -> RuleError {
    RuleError::new(ErrorKind::Invalid { key: key.to_string(), reason: reason.into() })
}

fn get<'a>(map: &'a Mapping, key: &str) -> Option<&'a Yaml> {
    map.get(key)
}

fn opt_string(map: &Mapping, key: &str, locator: &Locator) -> Result<Option<String>, RuleError> {
    match get(map, key) {
        None | Some(Yaml::Null) => Ok(None),
        Some(value) => scalar_text(value)
            .map(Some)
            .ok_or_else(|| invalid(key, "expected a string").at(locator.line_of(key))),
    }
}

fn scalar_text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string_list(value: &Yaml, key: &str, locator: &Locator) -> Result<Vec<String>, RuleError> {
    match value {
        Yaml::Sequence(items) => items
            .iter()
            .map(|item| scalar_text(item).ok_or_else(|| invalid(key, "expected a list of strings").at(locator.line_of(key))))
            .collect(),
        Yaml::Null => Ok(Vec::new()),
        other => scalar_text(other)
            .map(|s| vec![s])
            .ok_or_else(|| invalid(key, "expected a string or a list of strings").at(locator.line_of(key))),
    }
}

fn parse_document(map: &Mapping, locator: &Locator, file: Option<&Path>, line: usize) -> Result<RuleDoc, RuleError> {
    let title = opt_string(map, "title", locator)?.ok_or_else(|| RuleError::new(ErrorKind::Missing("title".into())))?;
    let tags = match get(map, "tags") {
        Some(value) => string_list(value, "tags", locator)?,
        None => Vec::new(),
    };
    let meta = RuleMeta {
        id: opt_string(map, "id", locator)?,
        name: opt_string(map, "name", locator)?,
        title,
        status: opt_string(map, "status", locator)?,
        level: opt_string(map, "level", locator)?,
        tags,
        file: file.map(Path::to_path_buf),
        line,
    };

    if let Some(correlation) = get(map, "correlation") {
        let body = parse_correlation(correlation, map, locator)?;
        return Ok(RuleDoc { meta, body: RuleBody::Correlation(body) });
    }
    let logsource = parse_logsource(get(map, "logsource"), locator)?;
    if let Some(filter) = get(map, "filter") {
        let Yaml::Mapping(filter) = filter else {
            return Err(invalid("filter", "expected a mapping").at(locator.line_of("filter")));
        };
        let rules = match get(filter, "rules") {
            Some(value) => string_list(value, "rules", locator)?,
            None => return Err(RuleError::new(ErrorKind::Missing("filter.rules".into())).at(locator.line_of("filter"))),
        };
        let detection = parse_detection(filter, locator, &["rules"])?;
        return Ok(RuleDoc { meta, body: RuleBody::Filter { logsource, rules, detection } });
    }
    let Some(detection) = get(map, "detection") else {
        return Err(RuleError::new(ErrorKind::Missing("detection".into())));
    };
    let Yaml::Mapping(detection) = detection else {
        return Err(invalid("detection", "expected a mapping").at(locator.line_of("detection")));
    };
    let detection = parse_detection(detection, locator, &["timeframe"])?;
    Ok(RuleDoc { meta, body: RuleBody::Detection { logsource, detection } })
}

fn parse_logsource(value: Option<&Yaml>, locator: &Locator) -> Result<LogSource, RuleError> {
    let Some(value) = value else {
        return Ok(LogSource::default());
    };
    let Yaml::Mapping(map) = value else {
        return Err(invalid("logsource", "expected a mapping").at(locator.line_of("logsource")));
    };
    let field = |key: &str| -> Result<Option<String>, RuleError> {
        Ok(opt_string(map, key, locator)?.map(|s| s.trim().to_lowercase()))
    };
    Ok(LogSource { product: field("product")?, category: field("category")?, service: field("service")? })
}

/// Parses the search identifiers and `condition` of a mapping, skipping `ignored` keys.
fn parse_detection(map: &Mapping, locator: &Locator, ignored: &[&str]) -> Result<Detection, RuleError> {
    let mut searches = Vec::new();
    let mut conditions = Vec::new();
    for (key, value) in map {
        let Some(name) = key.as_str() else {
            return Err(invalid("detection", "search identifiers must be strings"));
        };
        if ignored.contains(&name) {
            continue;
        }
        if name == "condition" {
            conditions = match value {
                Yaml::String(s) => vec![s.clone()],
                Yaml::Sequence(_) => string_list(value, "condition", locator)?,
                _ => return Err(invalid("condition", "expected a string or a list of strings").at(locator.line_of("condition"))),
            };
            continue;
        }
        let search = parse_search(value).map_err(|e| e.at(locator.line_of(name)))?;
        searches.push((name.to_string(), search));
    }
    if conditions.is_empty() {
        return Err(RuleError::new(ErrorKind::Missing("detection.condition".into())).at(locator.line_of("detection")));
    }
    Ok(Detection { searches, conditions })
}

fn parse_search(value: &Yaml) -> Result<Search, RuleError> {
    match value {
        Yaml::Mapping(map) => parse_field_map(map).map(Search::AllOf),
        Yaml::Sequence(items) => {
            if items.iter().all(|item| !matches!(item, Yaml::Mapping(_) | Yaml::Sequence(_))) {
                let values = items.iter().map(raw_value).collect::<Result<Vec<_>, _>>()?;
                return Ok(Search::Keywords(FieldItem { field: None, modifiers: Vec::new(), values }));
            }
            let mut alternatives = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Yaml::Mapping(map) => alternatives.push(Search::AllOf(parse_field_map(map)?)),
                    Yaml::Sequence(_) => return Err(invalid("detection", "nested lists are not valid in a search identifier")),
                    scalar => alternatives.push(Search::Keywords(FieldItem {
                        field: None,
                        modifiers: Vec::new(),
                        values: vec![raw_value(scalar)?],
                    })),
                }
            }
            Ok(Search::AnyOf(alternatives))
        }
        Yaml::Tagged(_) => Err(invalid("detection", "YAML tags are not valid in a search identifier")),
        scalar => Ok(Search::Keywords(FieldItem { field: None, modifiers: Vec::new(), values: vec![raw_value(scalar)?] })),
    }
}

fn parse_field_map(map: &Mapping) -> Result<Vec<FieldItem>, RuleError> {
    let mut items = Vec::with_capacity(map.len());
    for (key, value) in map {
        let key = match key {
            Yaml::String(s) => s.clone(),
            Yaml::Number(n) => n.to_string(),
            Yaml::Null => String::new(),
            _ => return Err(invalid("detection", "field names must be strings")),
        };
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default().trim();
        let modifier_names: Vec<&str> = parts.collect();
        let modifiers = parse_modifiers(&modifier_names).map_err(RuleError::new)?;
        let values = match value {
            Yaml::Sequence(items) => items.iter().map(raw_value).collect::<Result<Vec<_>, _>>()?,
            Yaml::Mapping(_) => {
                return Err(invalid(&key, "a field value must be a scalar or a list of scalars, not a mapping"));
            }
            scalar => vec![raw_value(scalar)?],
        };
        items.push(FieldItem { field: (!field.is_empty()).then(|| field.to_string()), modifiers, values });
    }
    Ok(items)
}

fn raw_value(value: &Yaml) -> Result<RawValue, RuleError> {
    Ok(match value {
        Yaml::Null => RawValue::Null,
        Yaml::Bool(b) => RawValue::Bool(*b),
        Yaml::Number(n) => match n.as_i64() {
            Some(i) => RawValue::Int(i),
            None => RawValue::Float(n.to_string()),
        },
        Yaml::String(s) => RawValue::Str(s.clone()),
        Yaml::Tagged(tagged) => return raw_value(&tagged.value),
        Yaml::Sequence(_) | Yaml::Mapping(_) => {
            return Err(invalid("detection", "a value must be a scalar, found a nested list or mapping"));
        }
    })
}

fn parse_correlation(value: &Yaml, doc: &Mapping, locator: &Locator) -> Result<CorrelationRule, RuleError> {
    let Yaml::Mapping(map) = value else {
        return Err(invalid("correlation", "expected a mapping").at(locator.line_of("correlation")));
    };
    let kind_text = opt_string(map, "type", locator)?.ok_or_else(|| RuleError::new(ErrorKind::Missing("correlation.type".into())))?;
    let kind = match kind_text.as_str() {
        "event_count" => CorrelationType::EventCount,
        "value_count" => CorrelationType::ValueCount,
        "temporal" => CorrelationType::Temporal,
        "temporal_ordered" => CorrelationType::TemporalOrdered,
        "value_sum" => CorrelationType::ValueSum,
        "value_avg" => CorrelationType::ValueAvg,
        "value_percentile" => CorrelationType::ValuePercentile,
        other => {
            return Err(RuleError::new(ErrorKind::Unsupported(format!("correlation type `{other}`"))).at(locator.line_of("type")));
        }
    };
    let rules = match get(map, "rules") {
        Some(value) => string_list(value, "rules", locator)?,
        None => return Err(RuleError::new(ErrorKind::Missing("correlation.rules".into())).at(locator.line_of("correlation"))),
    };
    if rules.is_empty() {
        return Err(invalid("rules", "a correlation needs at least one rule").at(locator.line_of("rules")));
    }
    let group_by = match get(map, "group-by") {
        Some(value) => string_list(value, "group-by", locator)?,
        None => Vec::new(),
    };
    let timespan_text = opt_string(map, "timespan", locator)?
        .or(opt_string(map, "timeframe", locator)?)
        .ok_or_else(|| RuleError::new(ErrorKind::Missing("correlation.timespan".into())).at(locator.line_of("correlation")))?;
    let timespan_ms = parse_timespan(&timespan_text).ok_or_else(|| {
        invalid("timespan", format!("`{timespan_text}` is not a number followed by s, m, h, d or w")).at(locator.line_of("timespan"))
    })?;

    let mut threshold = Threshold::default();
    let mut fields = Vec::new();
    let mut percentile = 50.0;
    let mut expression = None;
    match get(map, "condition") {
        None | Some(Yaml::Null) => {}
        Some(Yaml::String(s)) => expression = Some(s.clone()),
        Some(Yaml::Mapping(condition)) => {
            for (key, value) in condition {
                let key = key.as_str().unwrap_or_default();
                let number = || {
                    value.as_f64().ok_or_else(|| invalid(key, "expected a number").at(locator.line_of(key)))
                };
                match key {
                    "gt" => threshold.gt = Some(number()?),
                    "gte" => threshold.gte = Some(number()?),
                    "lt" => threshold.lt = Some(number()?),
                    "lte" => threshold.lte = Some(number()?),
                    "eq" => threshold.eq = Some(number()?),
                    "field" => fields = string_list(value, "field", locator)?,
                    "percentile" => percentile = number()?,
                    other => {
                        return Err(invalid("condition", format!("`{other}` is not one of gt, gte, lt, lte, eq, field, percentile"))
                            .at(locator.line_of(other)));
                    }
                }
            }
        }
        Some(_) => return Err(invalid("condition", "expected a mapping or a string").at(locator.line_of("condition"))),
    }
    let needs_field = matches!(
        kind,
        CorrelationType::ValueCount | CorrelationType::ValueSum | CorrelationType::ValueAvg | CorrelationType::ValuePercentile
    );
    if needs_field && fields.is_empty() {
        return Err(RuleError::new(ErrorKind::Missing("correlation.condition.field".into())).at(locator.line_of("condition")));
    }
    let numeric = matches!(kind, CorrelationType::ValueSum | CorrelationType::ValueAvg | CorrelationType::ValuePercentile);
    if numeric && fields.len() > 1 {
        return Err(invalid("field", "a numeric aggregation takes exactly one field").at(locator.line_of("field")));
    }
    let is_temporal = matches!(kind, CorrelationType::Temporal | CorrelationType::TemporalOrdered);
    if !is_temporal && threshold.is_empty() {
        return Err(RuleError::new(ErrorKind::Missing("correlation.condition".into())).at(locator.line_of("correlation")));
    }

    let mut aliases = Vec::new();
    if let Some(Yaml::Mapping(alias_map)) = get(map, "aliases") {
        for (alias, targets) in alias_map {
            let alias = alias.as_str().unwrap_or_default().to_string();
            let Yaml::Mapping(targets) = targets else {
                return Err(invalid("aliases", "each alias maps rule names to field names").at(locator.line_of("aliases")));
            };
            let pairs = targets
                .iter()
                .filter_map(|(rule, field)| Some((rule.as_str()?.to_string(), scalar_text(field)?)))
                .collect();
            aliases.push((alias, pairs));
        }
    }
    let generate = matches!(get(map, "generate").or_else(|| get(doc, "generate")), Some(Yaml::Bool(true)));
    Ok(CorrelationRule {
        kind,
        rules,
        group_by,
        timespan_ms,
        threshold,
        fields,
        percentile,
        expression,
        aliases,
        generate,
    })
}

/// Parses `30s`, `5m`, `1h`, `2d` or `1w` into milliseconds.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    let factor = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        _ => return None,
    };
    (number > 0).then_some(number * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> RuleDoc {
        let mut docs = parse_rules(text, None);
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0).unwrap()
    }

    #[test]
    fn detection_rule_parses() {
        let doc = one("title: t\nid: x\nlogsource:\n  product: Windows\ndetection:\n  sel:\n    Image|endswith: '\\a.exe'\n  condition: sel\n");
        let RuleBody::Detection { logsource, detection } = doc.body else { panic!() };
        assert_eq!(logsource.product.as_deref(), Some("windows"));
        assert_eq!(detection.searches.len(), 1);
        assert_eq!(detection.conditions, vec!["sel".to_string()]);
    }

    #[test]
    fn collection_global_and_repeat() {
        let text = "action: global\ntitle: t\nlogsource:\n  product: windows\ndetection:\n  condition: sel\n---\ndetection:\n  sel:\n    A: 1\n---\naction: repeat\ndetection:\n  sel:\n    A: 2\n";
        let docs: Vec<_> = parse_rules(text, None).into_iter().map(Result::unwrap).collect();
        assert_eq!(docs.len(), 2);
        let RuleBody::Detection { detection, .. } = &docs[1].body else { panic!() };
        let Search::AllOf(items) = &detection.searches[0].1 else { panic!() };
        assert_eq!(items[0].values, vec![RawValue::Int(2)]);
    }

    #[test]
    fn missing_condition_has_line() {
        let docs = parse_rules("title: t\ndetection:\n  sel:\n    A: 1\n", Some(Path::new("r.yml")));
        let error = docs[0].clone().unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(error.to_string().starts_with("r.yml:2:"), "{error}");
    }

    #[test]
    fn yaml_error_has_line() {
        let docs = parse_rules("title: t\ndetection:\n  sel: [\n", None);
        let error = docs[0].clone().unwrap_err();
        assert!(matches!(error.kind, ErrorKind::Yaml(_)));
        assert!(error.line.is_some());
    }

    #[test]
    fn timespan_units() {
        assert_eq!(parse_timespan("90m"), Some(5_400_000));
        assert_eq!(parse_timespan("1d"), Some(86_400_000));
        assert_eq!(parse_timespan("5x"), None);
    }
}
