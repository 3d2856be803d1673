//! Compilation of parsed detections into match trees.
//!
//! Field names are interned into [`FieldId`]s so that the matcher can cache each field's text
//! once per event. String values are folded to lower case here, once, so matching folds only
//! the event side.

use std::net::IpAddr;
use std::sync::OnceLock;

use memchr::memmem;

use crate::condition::{parse_condition, Cond};
use crate::error::{ErrorKind, RuleError};
use crate::hash::FastMap;
use crate::matcher::fold_into;
use crate::modifiers::{build_patterns, expand_placeholders, Modifier, Pattern, Piece};
use crate::parser::{Detection, FieldItem, RawValue, Search};

/// Index of an interned field name.
pub type FieldId = u32;

/// Interned field names of a rule set.
#[derive(Clone, Debug, Default)]
pub struct FieldTable {
    names: Vec<String>,
    /// Whether the name contains a dot, so that it may be an ECS alias of the event.
    dotted: Vec<bool>,
    ids: FastMap<String, FieldId>,
}

impl FieldTable {
    pub fn intern(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as FieldId;
        self.names.push(name.to_string());
        self.dotted.push(name.contains('.'));
        self.ids.insert(name.to_string(), id);
        id
    }

    pub fn id(&self, name: &str) -> Option<FieldId> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: FieldId) -> &str {
        &self.names[id as usize]
    }

    /// Returns whether the name contains a dot (see [`FieldTable`]). Read on every field lookup.
    pub fn is_dotted(&self, id: FieldId) -> bool {
        self.dotted[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// One element of a compiled wildcard pattern, with literals already case-folded when the
/// test is case-insensitive.
#[derive(Clone, Debug, PartialEq)]
pub enum GlobPiece {
    Lit(Box<str>),
    Star,
    One,
    Dash,
}

/// The comparison of a string value.
#[derive(Clone, Debug)]
pub enum StrMatch {
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    /// Boxed: a finder is a few hundred bytes, and every value test would otherwise be as large.
    Contains(Box<memmem::Finder<'static>>),
    Glob(Box<[GlobPiece]>),
}

/// A string comparison; `cased` compares the original text, otherwise the folded text.
#[derive(Clone, Debug)]
pub struct StrTest {
    pub matcher: StrMatch,
    pub cased: bool,
}

/// Numeric comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumOp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl NumOp {
    pub fn apply(self, left: f64, right: f64) -> bool {
        match self {
            NumOp::Eq => left == right,
            NumOp::Gt => left > right,
            NumOp::Gte => left >= right,
            NumOp::Lt => left < right,
            NumOp::Lte => left <= right,
        }
    }
}

/// The part of a timestamp that a time modifier extracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// The comparison a `fieldref` makes between two fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefMode {
    Equal,
    Contains,
    Prefix,
    Suffix,
}

/// One comparison of a field value.
#[derive(Clone, Debug)]
pub enum ValueTest {
    Str(StrTest),
    /// A regular expression. For the rule index, `literals` are folded strings of which every
    /// match contains at least one, or `None` when no such set was found.
    Regex { regex: LazyRegex, literals: Option<Box<[String]>> },
    Cidr { network: IpAddr, prefix: u8 },
    Num(NumOp, f64),
    /// The field is missing or null.
    Null,
    Exists(bool),
    /// Several `contains` values of one field searched in one pass; `literals` keeps the
    /// (folded unless cased) needles for the rule index.
    AnyContains { automaton: LazyAutomaton, literals: Box<[Box<str>]>, cased: bool },
    FieldRef { other: FieldId, mode: RefMode, cased: bool },
    Time { part: TimePart, op: NumOp, value: f64 },
}

/// A field (or, for keywords, every field) compared against a list of values.
#[derive(Clone, Debug)]
pub struct FieldTest {
    /// `None` for keyword searches over all fields.
    pub field: Option<FieldId>,
    /// Each inner list is one rule value with its alternatives (ORed); outer lists are ORed,
    /// or ANDed when `all` is set.
    pub values: Vec<Vec<ValueTest>>,
    pub all: bool,
    /// `neq`: the test succeeds when the value comparison fails, so a missing field counts as
    /// different.
    pub negate: bool,
    /// Whether any value compares folded text; computed once by [`FieldTest::new`].
    pub needs_folded: bool,
    /// Whether any value is a `fieldref`; computed once by [`FieldTest::new`].
    pub has_fieldref: bool,
}

impl FieldTest {
    pub fn new(field: Option<FieldId>, values: Vec<Vec<ValueTest>>, all: bool, negate: bool) -> FieldTest {
        let mut test = FieldTest { field, values, all, negate, needs_folded: false, has_fieldref: false };
        test.needs_folded = test.compute_needs_folded();
        test.has_fieldref = test.values.iter().flatten().any(|v| matches!(v, ValueTest::FieldRef { .. }));
        test
    }

    fn compute_needs_folded(&self) -> bool {
        self.values.iter().flatten().any(|v| {
            matches!(v, ValueTest::Str(s) if !s.cased)
                || matches!(v, ValueTest::AnyContains { cased: false, .. })
                || matches!(v, ValueTest::FieldRef { cased: false, .. })
        })
    }
}

/// A compiled condition tree.
#[derive(Clone, Debug)]
pub enum Node {
    Test(Box<FieldTest>),
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
    Const(bool),
}

/// Everything compilation needs besides the detection itself.
pub struct CompileContext<'a> {
    pub fields: &'a mut FieldTable,
    pub placeholders: &'a dyn Fn(&str) -> Option<Vec<String>>,
}

/// Compiles a detection (search identifiers and conditions) into one tree.
pub fn compile_detection(detection: &Detection, ctx: &mut CompileContext) -> Result<Node, RuleError> {
    let names: Vec<String> = detection.searches.iter().map(|(name, _)| name.clone()).collect();
    let mut searches = Vec::with_capacity(detection.searches.len());
    for (_, search) in &detection.searches {
        searches.push(compile_search(search, ctx)?);
    }
    let mut roots = Vec::with_capacity(detection.conditions.len());
    for condition in &detection.conditions {
        let cond = parse_condition(condition, &names).map_err(RuleError::new)?;
        roots.push(build_node(&cond, &searches));
    }
    Ok(if roots.len() == 1 { roots.pop().expect("one root") } else { Node::Or(roots.into()) })
}

fn build_node(cond: &Cond, searches: &[Node]) -> Node {
    match cond {
        Cond::Search(i) => searches[*i].clone(),
        Cond::And(items) => Node::And(items.iter().map(|c| build_node(c, searches)).collect()),
        Cond::Or(items) => Node::Or(items.iter().map(|c| build_node(c, searches)).collect()),
        Cond::Not(inner) => Node::Not(Box::new(build_node(inner, searches))),
    }
}

fn compile_search(search: &Search, ctx: &mut CompileContext) -> Result<Node, RuleError> {
    Ok(match search {
        Search::AllOf(items) => {
            let tests = items.iter().map(|item| compile_item(item, ctx)).collect::<Result<Vec<_>, _>>()?;
            if tests.is_empty() { Node::Const(true) } else { Node::And(tests.into()) }
        }
        Search::AnyOf(alternatives) => {
            Node::Or(alternatives.iter().map(|s| compile_search(s, ctx)).collect::<Result<Vec<_>, _>>()?.into())
        }
        Search::Keywords(item) => compile_item(item, ctx)?,
    })
}

fn unsupported(reason: String) -> RuleError {
    RuleError::new(ErrorKind::Unsupported(reason))
}

/// Compiles one `field|modifiers: values` entry.
pub fn compile_item(item: &FieldItem, ctx: &mut CompileContext) -> Result<Node, RuleError> {
    let mods = &item.modifiers;
    let has = |m: Modifier| mods.contains(&m);
    let field_label = item.field.clone().unwrap_or_else(|| "keywords".into());
    let field = item.field.as_deref().map(|f| ctx.fields.intern(f));
    let all = has(Modifier::All);
    let negate = has(Modifier::Neq);
    let cased = has(Modifier::Cased);

    // The specification forbids `all` on a single value. Such a value is accepted and matched
    // as a plain value, which gives the same result.
    if has(Modifier::Exists) {
        let [RawValue::Bool(b)] = item.values.as_slice() else {
            return Err(RuleError::new(ErrorKind::Invalid { key: field_label, reason: "`exists` takes `true` or `false`".into() }));
        };
        if field.is_none() {
            return Err(unsupported("`exists` without a field name".into()));
        }
        return Ok(Node::Test(Box::new(FieldTest::new(field, vec![vec![ValueTest::Exists(*b)]], false, false))));
    }

    let time_part = mods.iter().find_map(|m| match m {
        Modifier::Minute => Some(TimePart::Minute),
        Modifier::Hour => Some(TimePart::Hour),
        Modifier::Day => Some(TimePart::Day),
        Modifier::Week => Some(TimePart::Week),
        Modifier::Month => Some(TimePart::Month),
        Modifier::Year => Some(TimePart::Year),
        _ => None,
    });
    let num_op = mods.iter().find_map(|m| match m {
        Modifier::Gt => Some(NumOp::Gt),
        Modifier::Gte => Some(NumOp::Gte),
        Modifier::Lt => Some(NumOp::Lt),
        Modifier::Lte => Some(NumOp::Lte),
        _ => None,
    });
    if field.is_none() && (num_op.is_some() || time_part.is_some() || has(Modifier::Cidr) || has(Modifier::FieldRef)) {
        return Err(unsupported(format!("modifiers {mods:?} on keywords without a field name")));
    }

    let mut values = Vec::with_capacity(item.values.len());
    for raw in &item.values {
        let invalid_number = || {
            RuleError::new(ErrorKind::Invalid { key: field_label.clone(), reason: format!("`{raw:?}` is not a number") })
        };
        let tests: Vec<ValueTest> = if let Some(part) = time_part {
            let value = raw.as_f64().ok_or_else(invalid_number)?;
            vec![ValueTest::Time { part, op: num_op.unwrap_or(NumOp::Eq), value }]
        } else if let Some(op) = num_op {
            vec![ValueTest::Num(op, raw.as_f64().ok_or_else(invalid_number)?)]
        } else if *raw == RawValue::Null {
            vec![ValueTest::Null]
        } else if has(Modifier::FieldRef) {
            let other = raw.text().expect("not null");
            let mode = if has(Modifier::Contains) {
                RefMode::Contains
            } else if has(Modifier::StartsWith) {
                RefMode::Prefix
            } else if has(Modifier::EndsWith) {
                RefMode::Suffix
            } else {
                RefMode::Equal
            };
            vec![ValueTest::FieldRef { other: ctx.fields.intern(&other), mode, cased }]
        } else if has(Modifier::Cidr) {
            let text = raw.text().expect("not null");
            // `|expand|cidr`: the placeholder's values are the networks.
            let texts = if has(Modifier::Expand) {
                expand_placeholders(&text, ctx.placeholders).map_err(|name| RuleError::new(ErrorKind::Placeholder(name)))?
            } else {
                vec![text]
            };
            let mut tests = Vec::with_capacity(texts.len());
            for text in texts {
                tests.push(parse_cidr(&text).ok_or_else(|| {
                    RuleError::new(ErrorKind::Invalid { key: field_label.clone(), reason: format!("`{text}` is not a CIDR network") })
                })?);
            }
            tests
        } else if has(Modifier::Re) {
            let text = raw.text().expect("not null");
            vec![compile_regex(&text, mods)?]
        } else {
            let text = raw.text().expect("not null");
            let texts = if has(Modifier::Expand) {
                match expand_placeholders(&text, ctx.placeholders) {
                    Ok(texts) => texts,
                    Err(name) => return Err(RuleError::new(ErrorKind::Placeholder(name))),
                }
            } else {
                vec![text]
            };
            let mut tests = Vec::new();
            for text in texts {
                let mut modifiers = mods.clone();
                if field.is_none() && !has(Modifier::StartsWith) && !has(Modifier::EndsWith) {
                    // Keywords are substring searches over the event's fields.
                    modifiers.push(Modifier::Contains);
                }
                for pattern in build_patterns(&text, &modifiers).map_err(RuleError::new)? {
                    tests.push(ValueTest::Str(compile_pattern(&pattern, cased)));
                }
            }
            tests
        };
        values.push(tests);
    }
    if values.is_empty() {
        return Err(RuleError::new(ErrorKind::Invalid { key: field_label, reason: "an empty list of values matches nothing".into() }));
    }
    if !all && values.len() > 1 {
        values = vec![values.into_iter().flatten().collect()];
    }
    for group in &mut values {
        merge_contains(group);
        merge_regexes(group, mods)?;
    }
    Ok(Node::Test(Box::new(FieldTest::new(field, values, all, negate))))
}

/// Joins the regular expressions of one value group (they share their flags because they
/// share the field's modifiers) into one alternation, so the field is searched once.
fn merge_regexes(group: &mut Vec<ValueTest>, mods: &[Modifier]) -> Result<(), RuleError> {
    if group.iter().filter(|v| matches!(v, ValueTest::Regex { .. })).count() < 2 {
        return Ok(());
    }
    let mut sources = Vec::new();
    let mut literals: Option<Vec<String>> = Some(Vec::new());
    group.retain(|v| match v {
        ValueTest::Regex { regex, literals: own } => {
            sources.push(format!("(?:{})", regex.source));
            match (&mut literals, own) {
                (Some(all), Some(own)) => all.extend(own.iter().cloned()),
                _ => literals = None,
            }
            false
        }
        _ => true,
    });
    let source = sources.join("|");
    let regex = LazyRegex::new(&source, mods)?;
    group.push(ValueTest::Regex { regex, literals: literals.map(Vec::into_boxed_slice) });
    Ok(())
}

/// Replaces three or more `contains` tests of one value group with one Aho-Corasick search,
/// because rules often list dozens of substrings for one field.
fn merge_contains(group: &mut Vec<ValueTest>) {
    for cased in [false, true] {
        let is_target = |v: &ValueTest| matches!(v, ValueTest::Str(StrTest { matcher: StrMatch::Contains(_), cased: c }) if *c == cased);
        if group.iter().filter(|v| is_target(v)).count() < 3 {
            continue;
        }
        let mut literals: Vec<Box<str>> = Vec::new();
        group.retain(|v| match v {
            ValueTest::Str(StrTest { matcher: StrMatch::Contains(finder), cased: c }) if *c == cased => {
                literals.push(String::from_utf8_lossy(finder.needle()).into());
                false
            }
            _ => true,
        });
        let literals: Box<[Box<str>]> = literals.into();
        let automaton = LazyAutomaton::new(literals.clone());
        group.push(ValueTest::AnyContains { automaton, literals, cased });
    }
}

fn compile_regex(text: &str, mods: &[Modifier]) -> Result<ValueTest, RuleError> {
    let regex = LazyRegex::new(text, mods)?;
    let literals = regex_literals(text, mods);
    Ok(ValueTest::Regex { regex, literals })
}

/// Extracts literals of which every match of `pattern` contains one: its possible prefixes,
/// or else its possible suffixes, folded and deduplicated. Returns `None` when there is no
/// finite, non-empty set of at most 64.
fn regex_literals(pattern: &str, mods: &[Modifier]) -> Option<Box<[String]>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(mods.contains(&Modifier::ReI))
        .multi_line(mods.contains(&Modifier::ReM))
        .dot_matches_new_line(mods.contains(&Modifier::ReS))
        .build()
        .parse(pattern)
        .ok()?;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut extractor = Extractor::new();
        extractor.kind(kind);
        let seq = extractor.extract(&hir);
        let Some(literals) = seq.literals() else { continue };
        let mut folded: Vec<String> = Vec::new();
        let mut usable = !literals.is_empty();
        for literal in literals {
            let Ok(text) = std::str::from_utf8(literal.as_bytes()) else {
                usable = false;
                break;
            };
            if text.is_empty() {
                usable = false;
                break;
            }
            let mut out = String::new();
            fold_into(text, &mut out);
            if !folded.contains(&out) {
                folded.push(out);
            }
        }
        if usable && folded.len() <= 64 {
            return Some(folded.into());
        }
    }
    None
}

/// A regular expression checked at load time and compiled on first use. Most rules never
/// reach their regular expressions once the index has filtered them, so this keeps start-up
/// short.
#[derive(Clone, Debug)]
pub struct LazyRegex {
    pub source: Box<str>,
    case_insensitive: bool,
    multi_line: bool,
    dot_matches_new_line: bool,
    compiled: OnceLock<Option<regex_automata::meta::Regex>>,
}

impl LazyRegex {
    /// Checks the syntax of `text` with the flags of `mods`.
    pub fn new(text: &str, mods: &[Modifier]) -> Result<LazyRegex, RuleError> {
        let regex = LazyRegex {
            source: text.into(),
            case_insensitive: mods.contains(&Modifier::ReI),
            multi_line: mods.contains(&Modifier::ReM),
            dot_matches_new_line: mods.contains(&Modifier::ReS),
            compiled: OnceLock::new(),
        };
        let parsed = regex_syntax::ParserBuilder::new()
            .case_insensitive(regex.case_insensitive)
            .multi_line(regex.multi_line)
            .dot_matches_new_line(regex.dot_matches_new_line)
            .build()
            .parse(text);
        if let Err(error) = parsed {
            let reason = error.to_string();
            let kind = if reason.contains("look-around") || reason.contains("backreferences") {
                ErrorKind::Unsupported(format!(
                    "regular expression `{text}` uses look-around or backreferences, which the Rust regex engine does not support"
                ))
            } else {
                ErrorKind::Regex { pattern: text.to_string(), reason }
            };
            return Err(RuleError::new(kind));
        }
        Ok(regex)
    }

    pub fn is_match(&self, text: &str) -> bool {
        // NOTE: a pattern whose compiled form exceeds the 16 MiB size limit passes the load
        // check, fails here, and then never matches.
        let compiled = self.compiled.get_or_init(|| {
            let syntax = regex_automata::util::syntax::Config::new()
                .case_insensitive(self.case_insensitive)
                .multi_line(self.multi_line)
                .dot_matches_new_line(self.dot_matches_new_line);
            // The bounded backtracker, which the `regex` crate picks for short texts, clears a
            // visited set on every search. Without it a lazy DFA decides the match, with 4%
            // fewer instructions per event on the EVTX samples.
            let config = regex_automata::meta::Config::new().nfa_size_limit(Some(1 << 24)).backtrack(false);
            regex_automata::meta::Regex::builder().syntax(syntax).configure(config).build(&self.source).ok()
        });
        compiled.as_ref().is_some_and(|regex| regex.is_match(text))
    }
}

/// An Aho-Corasick automaton over `literals`, built on first use for the same reason as
/// [`LazyRegex`].
#[derive(Clone, Debug)]
pub struct LazyAutomaton {
    literals: Box<[Box<str>]>,
    compiled: OnceLock<aho_corasick::AhoCorasick>,
}

impl LazyAutomaton {
    pub fn new(literals: Box<[Box<str>]>) -> LazyAutomaton {
        LazyAutomaton { literals, compiled: OnceLock::new() }
    }

    pub fn is_match(&self, text: impl AsRef<[u8]>) -> bool {
        let automaton = self.compiled.get_or_init(|| {
            aho_corasick::AhoCorasick::new(self.literals.iter().map(|l| l.as_bytes())).expect("contains automaton within size limits")
        });
        automaton.is_match(text.as_ref())
    }
}

fn parse_cidr(text: &str) -> Option<ValueTest> {
    let (address, prefix) = match text.trim().split_once('/') {
        Some((a, p)) => (a, p.parse::<u8>().ok()?),
        None => (text.trim(), if text.contains(':') { 128 } else { 32 }),
    };
    let network: IpAddr = address.parse().ok()?;
    let max = if network.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some(ValueTest::Cidr { network, prefix })
}

fn fold(text: &str) -> Box<str> {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out.into_boxed_str()
}

/// Compiles a pattern into the cheapest matcher that gives the same result.
pub fn compile_pattern(pattern: &Pattern, cased: bool) -> StrTest {
    let lit = |s: &str| if cased { Box::<str>::from(s) } else { fold(s) };
    let matcher = match pattern.0.as_slice() {
        [] => StrMatch::Exact("".into()),
        [Piece::Lit(s)] => StrMatch::Exact(lit(s)),
        [Piece::Lit(s), Piece::Star] => StrMatch::Prefix(lit(s)),
        [Piece::Star, Piece::Lit(s)] => StrMatch::Suffix(lit(s)),
        [Piece::Star, Piece::Lit(s), Piece::Star] => StrMatch::Contains(Box::new(memmem::Finder::new(lit(s).as_bytes()).into_owned())),
        pieces => StrMatch::Glob(
            pieces
                .iter()
                .map(|p| match p {
                    Piece::Lit(s) => GlobPiece::Lit(lit(s)),
                    Piece::Star => GlobPiece::Star,
                    Piece::One => GlobPiece::One,
                    Piece::Dash => GlobPiece::Dash,
                })
                .collect(),
        ),
    };
    StrTest { matcher, cased }
}

impl StrTest {
    /// Returns the longest literal that any text this test accepts must contain (folded).
    pub fn required_literal(&self) -> Option<String> {
        let text = match &self.matcher {
            StrMatch::Exact(s) | StrMatch::Prefix(s) | StrMatch::Suffix(s) => s.to_string(),
            StrMatch::Contains(finder) => String::from_utf8_lossy(finder.needle()).into_owned(),
            StrMatch::Glob(pieces) => pieces
                .iter()
                .filter_map(|p| match p {
                    GlobPiece::Lit(s) => Some(s.to_string()),
                    _ => None,
                })
                .max_by_key(String::len)?,
        };
        if text.is_empty() {
            return None;
        }
        if self.cased {
            let mut out = String::new();
            fold_into(&text, &mut out);
            return Some(out);
        }
        Some(text)
    }
}
