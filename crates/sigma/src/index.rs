//! Rule indexing: which rules can still match an event.
//!
//! For each rule the index derives necessary conditions from its match tree: up to
//! [`MAX_CLAUSES`] clauses, each a set of (field, literal) alternatives. At least one literal
//! of a clause must occur in the folded text of its field, or be all of it for a whole value.
//! A rule is a candidate only when every one of its clauses has a hit, so `Image|endswith: \csi.exe` and
//! `Company: Microsoft Corporation` together keep the rule away from every other Microsoft
//! process. Keyword searches without a
//! field give clauses too; their literals are searched in the folded text of all the event's
//! values.
//!
//! Substring literals of all rules in a log-source bucket are compiled into one Aho-Corasick
//! automaton per field, and an event runs each automaton once over the field. Whole values
//! (`EventID: 4624`, `Image: C:\Windows\System32\cmd.exe` without wildcards) go into a hash map
//! per field instead, looked up once with the field's whole text. Rules without any clause
//! are always evaluated. The clauses are only ever necessary, never sufficient, so the full
//! match tree still decides.

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::compile::{FieldId, FieldTest, Node, StrMatch, ValueTest};
use crate::hash::FastMap;
use crate::matcher::EvalCtx;

/// Maximum number of clauses kept per rule, so that the mask of satisfied clauses fits a byte.
pub const MAX_CLAUSES: usize = 8;

/// Maximum number of literals of a field for which a quick SIMD check runs before the automaton.
const QUICK_CHECK_LITERALS: usize = 64;

/// Every character of the folded text of a value that is not a string: digits, signs and `.`
/// of numbers, `true`, `false`, `inf`, `nan`, hexadecimal digits and `:` of IPv6 addresses, and
/// the `t` and `z` of RFC 3339 timestamps.
const RENDERED_ALPHABET: &str = "0123456789abcdefilnrstuz.:-+";

/// Field id of a keyword clause, whose literal may occur in any value of the event.
pub const KEYWORDS: FieldId = FieldId::MAX;

/// One alternative of a clause: a folded literal that must occur in the folded text of a field,
/// or, when `exact`, be all of it (for a list, all of one element).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Literal {
    field: FieldId,
    text: String,
    exact: bool,
}

impl Literal {
    /// Returns how rarely the literal is expected to be found, from 1 to 8. A whole value
    /// (`EventID: 4624`) is rare however short; a substring is rarer the longer it is.
    fn strength(&self) -> usize {
        if self.exact { 8 } else { self.text.len().min(8) }
    }
}

/// Alternatives of which a rule that has this clause needs at least one.
type Clause = Vec<Literal>;

/// Derives the clauses of a match tree: every one must hold for the tree to match. Negations,
/// numeric tests, `null` and similar values give none.
fn required_clauses(node: &Node) -> Vec<Clause> {
    let mut clauses = match node {
        Node::Test(test) => test_clauses(test),
        Node::And(items) => items.iter().flat_map(required_clauses).collect(),
        Node::Or(items) => or_clauses(items),
        Node::Not(_) | Node::Const(_) => Vec::new(),
    };
    clauses.retain(|clause| !clause.is_empty());
    clauses.sort_by_key(|clause| std::cmp::Reverse(score(clause)));
    clauses.dedup();
    clauses.truncate(MAX_CLAUSES);
    clauses
}

/// Returns the clauses a rule is indexed by: the best one, and the others whose literals are all
/// whole values or long enough to be rare. A short substring such as `-` or `.exe` is found in
/// most events, so it costs search time and filters out almost nothing.
fn indexed_clauses(node: &Node) -> Vec<Clause> {
    let mut clauses = required_clauses(node);
    let mut position = 0;
    clauses.retain(|clause| {
        position += 1;
        position == 1 || weakest(clause) >= MIN_EXTRA_STRENGTH
    });
    clauses
}

/// Least [`Literal::strength`] of a clause that is not a rule's best one.
const MIN_EXTRA_STRENGTH: usize = 4;

fn weakest(clause: &Clause) -> usize {
    clause.iter().map(Literal::strength).min().unwrap_or(0)
}

/// Clauses of an `Or`: by distribution, `(a ∧ b) ∨ (c ∧ d)` implies `a ∨ c`, `a ∨ d`,
/// `b ∨ c` and `b ∨ d`. Taking one clause from each branch gives a clause of the whole, so
/// `EventID: 517 ∧ Provider_Name: Security` or `EventID: 1102 ∧ ...` keeps the selective
/// `EventID` pair. The product is bounded by [`MAX_CLAUSES`]; past that each branch gives its
/// best clause only.
fn or_clauses(items: &[Node]) -> Vec<Clause> {
    let mut branches = Vec::with_capacity(items.len());
    for item in items {
        let clauses = required_clauses(item);
        if clauses.is_empty() {
            return Vec::new();
        }
        branches.push(clauses);
    }
    let product = branches.iter().try_fold(1usize, |acc, b| acc.checked_mul(b.len()).filter(|&n| n <= MAX_CLAUSES));
    if product.is_none() {
        branches.iter_mut().for_each(|b| b.truncate(1));
    }

    let mut combined: Vec<Clause> = vec![Vec::new()];
    for branch in &branches {
        combined = combined
            .iter()
            .flat_map(|prefix| {
                branch.iter().map(move |clause| {
                    let mut union = prefix.clone();
                    union.extend(clause.iter().cloned());
                    union
                })
            })
            .collect();
    }
    combined
}

fn test_clauses(test: &FieldTest) -> Vec<Clause> {
    if test.negate {
        return Vec::new();
    }
    let field = test.field.unwrap_or(KEYWORDS);
    let group_clause = |group: &Vec<ValueTest>| -> Option<Clause> {
        let mut out = Vec::new();
        for value in group {
            match value {
                ValueTest::Str(s) => {
                    let exact = matches!(s.matcher, StrMatch::Exact(_)) && field != KEYWORDS;
                    out.push(Literal { field, text: s.required_literal()?, exact });
                }
                ValueTest::Regex { literals, .. } => {
                    out.extend(literals.as_ref()?.iter().map(|lit| Literal { field, text: lit.clone(), exact: false }));
                }
                ValueTest::AnyContains { literals, cased, .. } => {
                    for literal in literals.iter() {
                        let mut folded = String::new();
                        if *cased {
                            crate::matcher::fold_into(literal, &mut folded);
                        } else {
                            folded.push_str(literal);
                        }
                        if folded.is_empty() {
                            return None;
                        }
                        out.push(Literal { field, text: folded, exact: false });
                    }
                }
                _ => return None,
            }
        }
        Some(out)
    };
    if test.all {
        // `|all`: every value group must match, so each one is a clause of its own.
        test.values.iter().filter_map(group_clause).collect()
    } else {
        let mut out = Vec::new();
        for group in &test.values {
            match group_clause(group) {
                Some(clause) => out.extend(clause),
                None => return Vec::new(),
            }
        }
        vec![out]
    }
}

/// Ranks clauses: stronger weakest literal first, then fewer alternatives.
fn score(clause: &Clause) -> (usize, std::cmp::Reverse<usize>) {
    (weakest(clause), std::cmp::Reverse(clause.len()))
}

/// A literal's effect when found: clause `bit` of `rule` is satisfied, and the rule becomes a
/// candidate once its mask of satisfied clauses equals `full`.
#[derive(Clone, Copy, Debug)]
struct Hit {
    rule: u32,
    bit: u8,
    full: u8,
}

/// The index of one field: an automaton over its substrings and a map of its whole values.
struct FieldIndex {
    field: FieldId,
    /// For keywords: whether every literal has a character that the text of a number, boolean,
    /// address or timestamp never has, so that only the event's strings need searching.
    strings_only: bool,
    /// Whole folded values and what finding each one means.
    exact: FastMap<Box<str>, Box<[Hit]>>,
    /// The substring literals, sorted; pattern numbers are positions in this list.
    literals: Box<[Box<str>]>,
    /// Built on first use: most buckets never meet an event in a given hunt (a Linux log never
    /// reaches the Windows buckets), so building them all up front only lengthens start-up.
    searchers: OnceLock<Searchers>,
    /// Number of the automaton's first pattern among all patterns of the rule set, so that a
    /// pattern found several times in one event is handled once.
    pattern_base: u32,
    hits_of_pattern: Vec<Box<[Hit]>>,
}

struct Searchers {
    automaton: AhoCorasick,
    /// For a field with few literals, a SIMD searcher (Teddy) that checks whether any literal
    /// occurs at all, about ten times faster than the automaton. Most fields of most events
    /// contain none, and only then is the automaton's overlapping search skipped.
    quick: Option<packed::Searcher>,
}

impl Searchers {
    fn build(literals: &[Box<str>]) -> Searchers {
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            // The rare-byte prefilter stops at nearly every position of Windows paths and
            // command lines, and cost more instructions per event than it saved. A DFA
            // (`AhoCorasickKind::DFA`) needs fewer instructions but was slower in wall time on
            // the EVTX samples (its tables miss the cache) and takes longer to build.
            .prefilter(false)
            .build(literals.iter().map(|lit| lit.as_bytes()))
            .expect("literal automaton within size limits");
        let quick = if literals.len() <= QUICK_CHECK_LITERALS {
            packed::Config::new().builder().extend(literals.iter().map(|lit| lit.as_bytes())).build()
        } else {
            None
        };
        Searchers { automaton, quick }
    }
}

/// The index of the rules of one log-source bucket.
pub struct BucketIndex {
    always: Vec<u32>,
    fields: Vec<FieldIndex>,
}

impl BucketIndex {
    /// Builds the index for `rules` (rule number and match tree), numbering its patterns from
    /// zero; [`BucketIndex::rebase`] moves them into the rule set's numbering.
    pub fn build(rules: &[(u32, &Node)]) -> BucketIndex {
        let mut pattern_count = 0;
        let mut always = Vec::new();
        // Per field: substrings and whole values, each with what finding it means.
        let mut per_field: HashMap<FieldId, [HashMap<String, Vec<Hit>>; 2]> = HashMap::new();
        for &(rule, node) in rules {
            let clauses = indexed_clauses(node);
            if clauses.is_empty() {
                always.push(rule);
                continue;
            }
            let full = (1u16 << clauses.len()).wrapping_sub(1) as u8;
            for (bit, clause) in clauses.into_iter().enumerate() {
                let hit = Hit { rule, bit: 1 << bit, full };
                for literal in clause {
                    let kinds = per_field.entry(literal.field).or_default();
                    let hits = kinds[usize::from(literal.exact)].entry(literal.text).or_default();
                    if !hits.iter().any(|h| h.rule == rule && h.bit == hit.bit) {
                        hits.push(hit);
                    }
                }
            }
        }

        let mut fields: Vec<_> = per_field.into_iter().collect();
        fields.sort_by_key(|(field, _)| *field);
        let mut indexes = Vec::with_capacity(fields.len());
        for (field, [substrings, exact]) in fields {
            let mut substrings: Vec<(String, Vec<Hit>)> = substrings.into_iter().collect();
            substrings.sort_by(|a, b| a.0.cmp(&b.0));
            let pattern_base = pattern_count;
            pattern_count += substrings.len() as u32;
            let (literals, hits): (Vec<String>, Vec<Vec<Hit>>) = substrings.into_iter().unzip();
            let hits_of_pattern = hits.into_iter().map(Vec::into_boxed_slice).collect();
            let strings_only = field == KEYWORDS && literals.iter().all(|lit| lit.chars().any(|c| !RENDERED_ALPHABET.contains(c)));
            let literals = literals.into_iter().map(String::into_boxed_str).collect();
            let exact = exact.into_iter().map(|(text, hits)| (text.into_boxed_str(), hits.into_boxed_slice())).collect();
            indexes.push(FieldIndex { field, strings_only, exact, literals, searchers: OnceLock::new(), pattern_base, hits_of_pattern });
        }
        BucketIndex { always, fields: indexes }
    }

    /// Adds the rules of this bucket that can still match to the scratch candidate list.
    pub fn collect_candidates(&self, ctx: &mut EvalCtx) {
        let epoch = ctx.scratch.epoch();
        let mut candidates = std::mem::take(&mut ctx.scratch.candidates);
        let mut patterns_seen = std::mem::take(&mut ctx.scratch.patterns_seen);
        let mut clause_epoch = std::mem::take(&mut ctx.scratch.clause_epoch);
        let mut clause_mask = std::mem::take(&mut ctx.scratch.clause_mask);
        candidates.extend_from_slice(&self.always);

        let mut found_hits = |hits: &[Hit], candidates: &mut Vec<u32>| {
            for hit in hits {
                let rule = hit.rule as usize;
                let before = if clause_epoch[rule] == epoch { clause_mask[rule] } else { 0 };
                let after = before | hit.bit;
                clause_epoch[rule] = epoch;
                clause_mask[rule] = after;
                if after == hit.full && before != hit.full {
                    candidates.push(hit.rule);
                }
            }
        };

        for field in &self.fields {
            let text = if field.field == KEYWORDS {
                ctx.keyword_text(!field.strings_only)
            } else {
                let Some(folded) = ctx.folded_for_index(field.field) else { continue };
                if !field.exact.is_empty() {
                    // The whole text, and each element when it is a list joined by NUL.
                    if let Some(hits) = field.exact.get(folded) {
                        found_hits(hits, &mut candidates);
                    }
                    if folded.contains('\0') {
                        for element in folded.split('\0') {
                            if let Some(hits) = field.exact.get(element) {
                                found_hits(hits, &mut candidates);
                            }
                        }
                    }
                }
                folded.as_bytes()
            };

            if field.literals.is_empty() {
                continue;
            }
            let searchers = field.searchers.get_or_init(|| Searchers::build(&field.literals));
            if searchers.quick.as_ref().is_some_and(|quick| quick.find(text).is_none()) {
                continue;
            }
            for found in searchers.automaton.find_overlapping_iter(text) {
                let pattern = found.pattern().as_usize();
                let global = field.pattern_base as usize + pattern;
                if patterns_seen[global] == epoch {
                    continue;
                }
                patterns_seen[global] = epoch;
                found_hits(&field.hits_of_pattern[pattern], &mut candidates);
            }
        }

        ctx.scratch.candidates = candidates;
        ctx.scratch.patterns_seen = patterns_seen;
        ctx.scratch.clause_epoch = clause_epoch;
        ctx.scratch.clause_mask = clause_mask;
    }

    /// Adds `offset` to the pattern numbers of this bucket.
    pub fn rebase(&mut self, offset: u32) {
        self.fields.iter_mut().for_each(|f| f.pattern_base += offset);
    }

    /// Number of literal patterns over all automata of this bucket.
    pub fn pattern_count(&self) -> u32 {
        self.fields.iter().map(|f| f.hits_of_pattern.len() as u32).sum()
    }
}
