//! Loading rule files into a compiled, indexed [`RuleSet`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use tocsin_event::Event;

use crate::compile::{compile_detection, compile_item, CompileContext, FieldTable, Node};
use crate::correlation::{CorrelationDef, GroupField, CHAINED};
use crate::error::{Error, ErrorKind, RuleError};
use crate::hash::FastMap;
use crate::index::BucketIndex;
use crate::logsource::{accepts, route};
use crate::matcher::{EvalCtx, Scratch};
use crate::parser::{parse_rules, CorrelationRule, Detection, LogSource, RuleBody, RuleDoc, RuleMeta};
use crate::pipeline::Pipeline;

/// Placeholder values for `|expand`, read from a YAML mapping of name to list of values.
#[derive(Clone, Debug, Default)]
pub struct Placeholders {
    values: HashMap<String, Vec<String>>,
}

impl Placeholders {
    pub fn from_yaml(text: &str, path: &str) -> Result<Placeholders, Error> {
        let bad = |reason: String| Error::Placeholders { path: path.to_string(), reason };
        let value: yaml_serde::Value = yaml_serde::from_str(text).map_err(|e| bad(e.to_string()))?;
        let yaml_serde::Value::Mapping(map) = value else { return Err(bad("expected a mapping of placeholder names to value lists".into())) };
        let mut values = HashMap::new();
        for (name, list) in map {
            let name = name.as_str().ok_or_else(|| bad("placeholder names must be strings".into()))?.to_string();
            let list = match list {
                yaml_serde::Value::Sequence(items) => items.iter().filter_map(scalar).collect(),
                other => scalar(&other).into_iter().collect(),
            };
            values.insert(name, list);
        }
        Ok(Placeholders { values })
    }

    pub fn insert(&mut self, name: &str, values: Vec<String>) {
        self.values.insert(name.to_string(), values);
    }

    pub fn get(&self, name: &str) -> Option<Vec<String>> {
        self.values.get(name).cloned()
    }
}

fn scalar(value: &yaml_serde::Value) -> Option<String> {
    match value {
        yaml_serde::Value::String(s) => Some(s.clone()),
        yaml_serde::Value::Number(n) => Some(n.to_string()),
        yaml_serde::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The kind of a rule document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Detection,
    Correlation,
    Filter,
}

/// The load outcome of one rule document.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleStatus {
    Accepted,
    /// Loaded but never fires, for example because a placeholder has no values.
    Inactive(RuleError),
    Rejected(RuleError),
    /// `status: deprecated` or `status: unsupported`: reported, not loaded and not counted.
    Skipped(String),
}

/// The per-rule line of a load report.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleReport {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub id: Option<String>,
    pub title: Option<String>,
    pub kind: Option<RuleKind>,
    pub status: RuleStatus,
}

/// Per-rule results of loading and compiling.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    pub rules: Vec<RuleReport>,
}

impl LoadReport {
    pub fn accepted(&self) -> usize {
        self.rules.iter().filter(|r| r.status == RuleStatus::Accepted).count()
    }
    pub fn inactive(&self) -> usize {
        self.rules.iter().filter(|r| matches!(r.status, RuleStatus::Inactive(_))).count()
    }
    pub fn rejected(&self) -> usize {
        self.rules.iter().filter(|r| matches!(r.status, RuleStatus::Rejected(_))).count()
    }
    pub fn skipped(&self) -> usize {
        self.rules.iter().filter(|r| matches!(r.status, RuleStatus::Skipped(_))).count()
    }
    /// Rules that count towards acceptance: all but the skipped ones.
    pub fn counted(&self) -> usize {
        self.rules.len() - self.skipped()
    }
}

/// Index of a rule inside its [`RuleSet`].
pub type RuleIdx = u32;

/// Metadata of a compiled detection rule.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    pub level: Option<String>,
    pub tags: Vec<String>,
    pub file: Option<PathBuf>,
    pub line: usize,
    pub logsource: LogSource,
    /// False when a correlation uses the rule and none of them sets `generate: true`, so its
    /// matches feed the correlation but are not alerts on their own.
    pub standalone: bool,
}

struct CompiledRule {
    info: RuleInfo,
    root: Node,
}

/// Loads rule files and compiles them.
#[derive(Default)]
pub struct RuleSetBuilder {
    placeholders: Placeholders,
    pipelines: Vec<Pipeline>,
    docs: Vec<(RuleDoc, usize)>,
    report: LoadReport,
}

fn is_rule_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
}

impl RuleSetBuilder {
    pub fn new() -> Self {
        RuleSetBuilder::default()
    }

    pub fn placeholders(&mut self, placeholders: Placeholders) -> &mut Self {
        self.placeholders = placeholders;
        self
    }

    pub fn pipeline(&mut self, pipeline: Pipeline) -> &mut Self {
        self.pipelines.push(pipeline);
        self.pipelines.sort_by_key(|p| p.priority);
        self
    }

    /// Parses rule text; `file` names it in the report.
    pub fn add_str(&mut self, text: &str, file: Option<&Path>) -> &mut Self {
        self.add_parsed(parse_rules(text, file))
    }

    fn add_parsed(&mut self, results: Vec<Result<RuleDoc, RuleError>>) -> &mut Self {
        for result in results {
            match result {
                Ok(doc) => {
                    let status = doc.meta.status.as_deref().unwrap_or("");
                    if status == "deprecated" || status == "unsupported" {
                        self.report.rules.push(report_of(&doc.meta, kind_of(&doc.body), RuleStatus::Skipped(format!("status: {status}"))));
                        continue;
                    }
                    let slot = self.report.rules.len();
                    self.report.rules.push(report_of(&doc.meta, kind_of(&doc.body), RuleStatus::Accepted));
                    self.docs.push((doc, slot));
                }
                Err(error) => self.report.rules.push(RuleReport {
                    file: error.file.clone(),
                    line: error.line,
                    id: error.rule_id.clone(),
                    title: error.rule_title.clone(),
                    kind: None,
                    status: RuleStatus::Rejected(error),
                }),
            }
        }
        self
    }

    /// Reads one rule file.
    pub fn add_file(&mut self, path: &Path) -> Result<&mut Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        Ok(self.add_str(&text, Some(path)))
    }

    /// Reads every `.yml` and `.yaml` file under `path` (or the file itself), in sorted order.
    pub fn add_path(&mut self, path: &Path) -> Result<&mut Self, Error> {
        if path.is_file() {
            return self.add_file(path);
        }
        let mut files = Vec::new();
        collect_files(path, &mut files)?;
        files.sort();
        // Parsing YAML is most of the load time, so files are parsed on all cores and then
        // registered in sorted order, which keeps rule numbers stable.
        let parsed: Vec<Result<Vec<Result<RuleDoc, RuleError>>, Error>> = files
            .par_iter()
            .map(|file| {
                let text = std::fs::read_to_string(file).map_err(|source| Error::Io { path: file.clone(), source })?;
                Ok(parse_rules(&text, Some(file)))
            })
            .collect();
        for results in parsed {
            self.add_parsed(results?);
        }
        Ok(self)
    }

    /// Compiles everything loaded so far.
    pub fn build(mut self) -> (RuleSet, LoadReport) {
        let mut fields = FieldTable::default();
        let placeholders = self.placeholders.clone();
        let lookup = move |name: &str| placeholders.get(name);
        let mut rules: Vec<CompiledRule> = Vec::new();
        let mut rule_slots: Vec<usize> = Vec::new();
        let mut filters = Vec::new();
        let mut correlations = Vec::new();

        for (doc, slot) in std::mem::take(&mut self.docs) {
            let RuleDoc { meta, body } = doc;
            match body {
                RuleBody::Detection { mut logsource, detection } => {
                    let mut detection = detection;
                    let mut extra = Vec::new();
                    for pipeline in &self.pipelines {
                        pipeline.apply(&mut logsource, &mut detection.searches, &mut extra);
                    }
                    let mut ctx = CompileContext { fields: &mut fields, placeholders: &lookup };
                    match compile_with_extra(&detection, &extra, &mut ctx) {
                        Ok(root) => {
                            rules.push(CompiledRule { info: info_of(&meta, logsource), root });
                            rule_slots.push(slot);
                        }
                        Err(error) => self.report.rules[slot].status = status_of_error(error, &meta),
                    }
                }
                RuleBody::Filter { logsource: _, rules: targets, detection } => {
                    let mut ctx = CompileContext { fields: &mut fields, placeholders: &lookup };
                    match compile_detection(&detection, &mut ctx) {
                        Ok(root) => filters.push((targets, root, slot, meta)),
                        Err(error) => self.report.rules[slot].status = status_of_error(error, &meta),
                    }
                }
                RuleBody::Correlation(correlation) => correlations.push((meta, correlation, slot)),
            }
        }

        let find_rule = |rules: &[CompiledRule], reference: &str| -> Option<usize> {
            rules.iter().position(|r| r.info.id.as_deref() == Some(reference) || r.info.name.as_deref() == Some(reference))
        };

        // NOTE: a filter applies to the rules it lists; its own logsource is not compared with
        // theirs.
        for (targets, root, slot, meta) in filters {
            let mut applied = 0;
            for target in &targets {
                if let Some(i) = find_rule(&rules, target) {
                    let old = std::mem::replace(&mut rules[i].root, Node::Const(false));
                    rules[i].root = Node::And(vec![old, root.clone()].into());
                    applied += 1;
                }
            }
            if applied == 0 {
                let error = RuleError::located(meta.file.clone(), Some(meta.line), ErrorKind::UnknownRule(targets.join(", ")));
                self.report.rules[slot].status = RuleStatus::Inactive(error);
            }
        }

        // Correlations may reference detection rules and other correlations (chaining). They
        // are resolved in rounds, each taking those whose referenced correlations are already
        // resolved, so a correlation always comes after the ones it reads.
        let mut defs: Vec<CorrelationDef> = Vec::new();
        let mut resolved: HashMap<String, usize> = HashMap::new();
        let mut rejected: Vec<String> = Vec::new();
        let mut pending = correlations;
        loop {
            let waiting_names: Vec<String> = pending.iter().flat_map(|(meta, _, _)| meta.id.iter().chain(meta.name.iter()).cloned()).collect();
            let mut progressed = false;
            let mut waiting = Vec::new();
            for (meta, correlation, slot) in pending {
                let is_waiting = correlation.rules.iter().any(|r| {
                    find_rule(&rules, r).is_none() && !resolved.contains_key(r) && waiting_names.contains(r) && !own_name(&meta, r)
                });
                if is_waiting {
                    waiting.push((meta, correlation, slot));
                    continue;
                }
                progressed = true;
                let chained = Chained { names: &resolved, defs: &defs, rejected: &rejected };
                match resolve_correlation(&meta, &correlation, &rules, &mut fields, &find_rule, &chained) {
                    Ok(def) => {
                        if !correlation.generate {
                            for (&rule, &inner) in def.rules.iter().zip(&def.chained) {
                                match inner {
                                    Some(inner) => defs[inner].standalone = false,
                                    None => rules[rule as usize].info.standalone = false,
                                }
                            }
                        }
                        for name in meta.id.iter().chain(meta.name.iter()) {
                            resolved.insert(name.clone(), defs.len());
                        }
                        defs.push(def);
                    }
                    Err(error) => {
                        rejected.extend(meta.id.iter().chain(meta.name.iter()).cloned());
                        self.report.rules[slot].status = RuleStatus::Rejected(error);
                    }
                }
            }
            pending = waiting;
            if pending.is_empty() || !progressed {
                break;
            }
        }
        for (meta, _, slot) in pending {
            let kind = ErrorKind::Invalid {
                key: "correlation.rules".into(),
                reason: "correlation rules reference each other in a cycle".into(),
            };
            self.report.rules[slot].status = RuleStatus::Rejected(RuleError::located(meta.file.clone(), Some(meta.line), kind));
        }

        let set = RuleSet::new(rules, fields, defs);
        (set, self.report)
    }
}

fn compile_with_extra(detection: &Detection, extra: &[crate::parser::FieldItem], ctx: &mut CompileContext) -> Result<Node, RuleError> {
    let root = compile_detection(detection, ctx)?;
    if extra.is_empty() {
        return Ok(root);
    }
    // Pipeline conditions are ANDed outside the rule's own condition, so `1 of them` never
    // includes them.
    let mut items = vec![root];
    for item in extra {
        items.push(compile_item(item, ctx)?);
    }
    Ok(Node::And(items.into()))
}

/// The correlations resolved so far, for references from a chained correlation.
struct Chained<'a> {
    /// Id or name to position in `defs`.
    names: &'a HashMap<String, usize>,
    defs: &'a [CorrelationDef],
    /// Ids and names of correlations that were rejected.
    rejected: &'a [String],
}

fn own_name(meta: &RuleMeta, reference: &str) -> bool {
    meta.id.as_deref() == Some(reference) || meta.name.as_deref() == Some(reference)
}

fn resolve_correlation(
    meta: &RuleMeta,
    correlation: &CorrelationRule,
    rules: &[CompiledRule],
    fields: &mut FieldTable,
    find_rule: &dyn Fn(&[CompiledRule], &str) -> Option<usize>,
    chained: &Chained,
) -> Result<CorrelationDef, RuleError> {
    let located = |kind: ErrorKind| RuleError::located(meta.file.clone(), Some(meta.line), kind);

    // Each reference is a detection rule, or a correlation resolved before this one.
    let mut indexes = Vec::new();
    let mut inner_of = Vec::new();
    for reference in &correlation.rules {
        if let Some(i) = find_rule(rules, reference) {
            indexes.push(i as RuleIdx);
            inner_of.push(None);
        } else if let Some(&inner) = chained.names.get(reference) {
            indexes.push(CHAINED);
            inner_of.push(Some(inner));
        } else if own_name(meta, reference) {
            let reason = format!("the correlation references itself (`{reference}`)");
            return Err(located(ErrorKind::Invalid { key: "correlation.rules".into(), reason }));
        } else if chained.rejected.iter().any(|r| r == reference) {
            let reason = format!("references the correlation `{reference}`, which was rejected");
            return Err(located(ErrorKind::Invalid { key: "correlation.rules".into(), reason }));
        } else {
            return Err(located(ErrorKind::UnknownRule(reference.clone())));
        }
    }

    // A reference's name and id, for aliases and the temporal expression.
    let reference_names = |position: usize| -> (Option<&str>, Option<&str>) {
        match inner_of[position] {
            Some(inner) => (chained.defs[inner].name.as_deref(), chained.defs[inner].id.as_deref()),
            None => {
                let info = &rules[indexes[position] as usize].info;
                (info.name.as_deref(), info.id.as_deref())
            }
        }
    };

    let mut group_by = Vec::new();
    for name in &correlation.group_by {
        let alias = correlation.aliases.iter().find(|(alias, _)| alias == name);
        let per_rule = (0..indexes.len())
            .map(|position| {
                let (rule_name, rule_id) = reference_names(position);
                let mapped = alias.and_then(|(_, pairs)| pairs.iter().find(|(r, _)| Some(r.as_str()) == rule_name || Some(r.as_str()) == rule_id));
                fields.intern(mapped.map_or(name.as_str(), |(_, field)| field.as_str()))
            })
            .collect();
        group_by.push(GroupField { name: name.clone(), per_rule });
    }

    // A chained correlation's hits carry only its own group-by values, so each group-by field of
    // this correlation must be one of them.
    let mut group_of_chained = Vec::with_capacity(indexes.len());
    for (position, inner) in inner_of.iter().enumerate() {
        let Some(inner) = *inner else {
            group_of_chained.push(Vec::new());
            continue;
        };
        let inner_def = &chained.defs[inner];
        let mut map = Vec::with_capacity(group_by.len());
        for field in &group_by {
            let group_field = fields.name(field.per_rule[position]);
            let Some(j) = inner_def.group_by.iter().position(|g| g.name == group_field) else {
                let reason = format!(
                    "group-by field `{group_field}` is not a group-by field of the chained correlation `{}`",
                    correlation.rules[position]
                );
                return Err(located(ErrorKind::Unsupported(reason)));
            };
            map.push(j);
        }
        group_of_chained.push(map);
    }

    let value_fields = correlation.fields.iter().map(|f| fields.intern(f)).collect();
    let names: Vec<String> = (0..indexes.len())
        .map(|position| reference_names(position).0.map_or_else(|| correlation.rules[position].clone(), str::to_string))
        .collect();
    let expression = match &correlation.expression {
        Some(text) => Some(crate::condition::parse_condition(text, &names).map_err(located)?),
        None => None,
    };
    Ok(CorrelationDef {
        id: meta.id.clone(),
        name: meta.name.clone(),
        title: meta.title.clone(),
        level: meta.level.clone(),
        tags: meta.tags.clone(),
        kind: correlation.kind,
        rules: indexes,
        chained: inner_of,
        group_of_chained,
        standalone: true,
        group_by,
        timespan_ms: correlation.timespan_ms,
        threshold: correlation.threshold.clone(),
        value_fields,
        percentile: correlation.percentile,
        expression,
    })
}

fn kind_of(body: &RuleBody) -> RuleKind {
    match body {
        RuleBody::Detection { .. } => RuleKind::Detection,
        RuleBody::Correlation(_) => RuleKind::Correlation,
        RuleBody::Filter { .. } => RuleKind::Filter,
    }
}

fn report_of(meta: &RuleMeta, kind: RuleKind, status: RuleStatus) -> RuleReport {
    RuleReport { file: meta.file.clone(), line: Some(meta.line), id: meta.id.clone(), title: Some(meta.title.clone()), kind: Some(kind), status }
}

fn status_of_error(mut error: RuleError, meta: &RuleMeta) -> RuleStatus {
    if error.file.is_none() {
        error.file = meta.file.clone();
    }
    if error.line.is_none() {
        error.line = Some(meta.line);
    }
    match error.kind {
        ErrorKind::Placeholder(_) => RuleStatus::Inactive(error),
        _ => RuleStatus::Rejected(error),
    }
}

fn info_of(meta: &RuleMeta, logsource: LogSource) -> RuleInfo {
    RuleInfo {
        id: meta.id.clone(),
        name: meta.name.clone(),
        title: meta.title.clone(),
        level: meta.level.clone(),
        tags: meta.tags.clone(),
        file: meta.file.clone(),
        line: meta.line,
        logsource,
        standalone: true,
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if is_rule_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Log-source bucket key: symbol ids of product, category and service, 0 for "any".
type BucketKey = (u16, u16, u16);

/// A compiled, indexed set of detection rules and correlation definitions.
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    fields: FieldTable,
    symbols: FastMap<String, u16>,
    buckets: FastMap<BucketKey, BucketIndex>,
    /// Total literal patterns over all bucket automata.
    pattern_count: u32,
    pub(crate) correlations: Vec<CorrelationDef>,
    /// Number unique to this rule set within the process, so that a [`Scratch`] used with
    /// another set drops the field ids it cached for this one.
    serial: u64,
}

static NEXT_SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl RuleSet {
    fn new(rules: Vec<CompiledRule>, fields: FieldTable, correlations: Vec<CorrelationDef>) -> RuleSet {
        let mut symbols: FastMap<String, u16> = FastMap::default();
        let mut symbol = |name: &Option<String>| -> u16 {
            match name {
                None => 0,
                Some(name) => {
                    let next = symbols.len() as u16 + 1;
                    *symbols.entry(name.clone()).or_insert(next)
                }
            }
        };
        let mut grouped: HashMap<BucketKey, Vec<(u32, &Node)>> = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            let ls = &rule.info.logsource;
            let key = (symbol(&ls.product), symbol(&ls.category), symbol(&ls.service));
            grouped.entry(key).or_default().push((i as u32, &rule.root));
        }
        // Buckets are built on all cores, each numbering its patterns from zero, and then
        // moved into one numbering.
        let grouped: Vec<(BucketKey, Vec<(u32, &Node)>)> = grouped.into_iter().collect();
        let built: Vec<(BucketKey, BucketIndex)> =
            grouped.into_par_iter().map(|(key, members)| (key, BucketIndex::build(&members))).collect();
        let mut pattern_count = 0;
        let mut buckets = FastMap::default();
        for (key, mut bucket) in built {
            bucket.rebase(pattern_count);
            pattern_count += bucket.pattern_count();
            buckets.insert(key, bucket);
        }
        let serial = NEXT_SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        RuleSet { rules, fields, symbols, buckets, pattern_count, correlations, serial }
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rule(&self, idx: RuleIdx) -> &RuleInfo {
        &self.rules[idx as usize].info
    }

    /// Finds a rule by its `id` or `name`.
    pub fn find(&self, reference: &str) -> Option<RuleIdx> {
        self.rules
            .iter()
            .position(|r| r.info.id.as_deref() == Some(reference) || r.info.name.as_deref() == Some(reference))
            .map(|i| i as RuleIdx)
    }

    pub fn correlation_count(&self) -> usize {
        self.correlations.len()
    }

    pub(crate) fn fields(&self) -> &FieldTable {
        &self.fields
    }

    fn symbol(&self, name: &str) -> Option<u16> {
        self.symbols.get(name).copied()
    }

    /// Appends to `out` the rules that match `event`, in ascending rule order. Only rules of
    /// the event's log sources whose required literals occur in the event are evaluated.
    pub fn matches_into(&self, event: &Event, scratch: &mut Scratch, out: &mut Vec<RuleIdx>) {
        let routing = route(event);
        scratch.reset(self.serial, self.fields.len(), self.rules.len(), self.pattern_count as usize);
        let mut ctx = EvalCtx { event, fields: &self.fields, field_map: routing.field_map, scratch, preloaded: false };
        ctx.preload();

        let product = routing.product.and_then(|p| self.symbol(p));
        let mut products = [0u16; 2];
        let mut product_count = 1;
        if let Some(p) = product {
            products[1] = p;
            product_count = 2;
        }
        let mut categories = [0u16; 4];
        let mut category_count = 1;
        for c in routing.categories.iter().filter_map(|c| self.symbol(c)).take(3) {
            categories[category_count] = c;
            category_count += 1;
        }
        let mut services = [0u16; 4];
        let mut service_count = 1;
        for s in routing.services.iter().filter_map(|s| self.symbol(s)).take(3) {
            services[service_count] = s;
            service_count += 1;
        }
        for &p in &products[..product_count] {
            for &c in &categories[..category_count] {
                for &s in &services[..service_count] {
                    if let Some(bucket) = self.buckets.get(&(p, c, s)) {
                        bucket.collect_candidates(&mut ctx);
                    }
                }
            }
        }

        let candidates = std::mem::take(&mut ctx.scratch.candidates);
        let start = out.len();
        for &rule in &candidates {
            if ctx.eval(&self.rules[rule as usize].root) {
                out.push(rule);
            }
        }
        ctx.scratch.candidates = candidates;
        out[start..].sort_unstable();
    }

    /// Evaluates one rule against `event`, log source included, without the index.
    pub fn matches_rule(&self, idx: RuleIdx, event: &Event, scratch: &mut Scratch) -> bool {
        let routing = route(event);
        scratch.reset(self.serial, self.fields.len(), self.rules.len(), self.pattern_count as usize);
        let rule = &self.rules[idx as usize];
        let ls = &rule.info.logsource;
        if !accepts(ls.product.as_deref(), ls.category.as_deref(), ls.service.as_deref(), &routing) {
            return false;
        }
        let mut ctx = EvalCtx { event, fields: &self.fields, field_map: routing.field_map, scratch, preloaded: false };
        ctx.preload();
        ctx.eval(&rule.root)
    }

    /// Returns the rules the index would evaluate for `event` (for diagnostics).
    pub fn candidates(&self, event: &Event) -> Vec<RuleIdx> {
        let mut scratch = Scratch::new();
        let mut out = Vec::new();
        self.matches_into(event, &mut scratch, &mut out);
        scratch.candidates.clone()
    }

    /// Returns the matching rules; allocates a scratch, so prefer [`RuleSet::matches_into`]
    /// in loops.
    pub fn matches(&self, event: &Event) -> Vec<RuleIdx> {
        let mut scratch = Scratch::new();
        let mut out = Vec::new();
        self.matches_into(event, &mut scratch, &mut out);
        out
    }

    /// Evaluates every rule one by one without the index: the reference the indexed path is
    /// tested against.
    pub fn matches_unindexed(&self, event: &Event) -> Vec<RuleIdx> {
        let routing = route(event);
        let mut scratch = Scratch::new();
        scratch.reset(self.serial, self.fields.len(), self.rules.len(), self.pattern_count as usize);
        let mut ctx = EvalCtx { event, fields: &self.fields, field_map: routing.field_map, scratch: &mut scratch, preloaded: false };
        let mut out = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let ls = &rule.info.logsource;
            if accepts(ls.product.as_deref(), ls.category.as_deref(), ls.service.as_deref(), &routing) && ctx.eval(&rule.root) {
                out.push(i as RuleIdx);
            }
        }
        out
    }
}

