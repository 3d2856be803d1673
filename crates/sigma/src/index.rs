//! Rule indexing: which rules can still match an event.
//!
//! For each rule the index derives necessary conditions from its match tree: up to
//! [`MAX_CLAUSES`] clauses, each a set of (field, literal) alternatives of which at least one
//! must occur in the folded text of its field. A rule is a candidate only when every one of its
//! clauses has a hit, so `Image|endswith: \csi.exe` and `Company: Microsoft Corporation`
//! together keep the rule away from every other Microsoft process. Keyword searches without a
//! field give clauses too; their literals are searched in the folded text of all the event's
//! values.
//!
//! Literals of all rules in a log-source bucket are compiled into one Aho-Corasick automaton
//! per field, and an event runs each automaton once over the field. Rules without any clause
//! are always evaluated. The clauses are only ever necessary, never sufficient, so the full
//! match tree still decides.

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::compile::{FieldId, FieldTest, Node, ValueTest};
use crate::matcher::EvalCtx;

/// Maximum number of clauses kept per rule, so that the mask of satisfied clauses fits a byte.
pub const MAX_CLAUSES: usize = 8;

/// Maximum number of literals of a field for which a quick SIMD check runs before the automaton.
const QUICK_CHECK_LITERALS: usize = 64;

/// Field id of a keyword clause, whose literal may occur in any value of the event.
pub const KEYWORDS: FieldId = FieldId::MAX;

/// (field, folded literal) alternatives; a rule that has this clause needs at least one.
type Clause = Vec<(FieldId, String)>;

/// Derives the clauses of a match tree: every one must hold for the tree to match. Negations,
/// numeric tests, `null` and similar values give none.
pub fn required_clauses(node: &Node) -> Vec<Clause> {
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

/// Returns the clauses a rule is indexed by: the best one, and the others whose literals are all long
/// enough to be rare. A short literal such as `-` or `.exe` is found in most events, so it
/// costs search time and filters out almost nothing.
fn indexed_clauses(node: &Node) -> Vec<Clause> {
    let mut clauses = required_clauses(node);
    let mut kept = 0;
    clauses.retain(|clause| {
        kept += 1;
        kept == 1 || shortest(clause) >= MIN_EXTRA_LITERAL
    });
    clauses
}

/// Shortest literal, in bytes, of a clause that is not a rule's best one.
const MIN_EXTRA_LITERAL: usize = 4;

fn shortest(clause: &Clause) -> usize {
    clause.iter().map(|(_, lit)| lit.len()).min().unwrap_or(0)
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
                ValueTest::Str(s) => out.push((field, s.required_literal()?)),
                ValueTest::Regex { literals, .. } => {
                    out.extend(literals.as_ref()?.iter().map(|lit| (field, lit.clone())));
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
                        out.push((field, folded));
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

/// Ranks clauses: longer shortest literal first, then fewer alternatives.
fn score(clause: &Clause) -> (usize, std::cmp::Reverse<usize>) {
    (shortest(clause).min(8), std::cmp::Reverse(clause.len()))
}

/// A literal's effect when found: clause `bit` of `rule` is satisfied, and the rule becomes a
/// candidate once its mask of satisfied clauses equals `full`.
#[derive(Clone, Copy, Debug)]
struct Hit {
    rule: u32,
    bit: u8,
    full: u8,
}

struct FieldAutomaton {
    field: FieldId,
    /// The literals, sorted; pattern numbers are positions in this list.
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
    automata: Vec<FieldAutomaton>,
}

impl BucketIndex {
    /// Builds the index for `rules` (rule number and match tree), numbering its patterns from
    /// zero; [`BucketIndex::rebase`] moves them into the rule set's numbering.
    pub fn build(rules: &[(u32, &Node)]) -> BucketIndex {
        let mut pattern_count = 0;
        let mut always = Vec::new();
        let mut per_field: HashMap<FieldId, HashMap<String, Vec<Hit>>> = HashMap::new();
        for &(rule, node) in rules {
            let clauses = indexed_clauses(node);
            if clauses.is_empty() {
                always.push(rule);
                continue;
            }
            let full = (1u16 << clauses.len()).wrapping_sub(1) as u8;
            for (bit, clause) in clauses.into_iter().enumerate() {
                let hit = Hit { rule, bit: 1 << bit, full };
                for (field, literal) in clause {
                    let hits = per_field.entry(field).or_default().entry(literal).or_default();
                    if !hits.iter().any(|h| h.rule == rule && h.bit == hit.bit) {
                        hits.push(hit);
                    }
                }
            }
        }
        let mut automata = Vec::new();
        let mut fields: Vec<_> = per_field.into_iter().collect();
        fields.sort_by_key(|(field, _)| *field);
        for (field, literals) in fields {
            let mut literals: Vec<(String, Vec<Hit>)> = literals.into_iter().collect();
            literals.sort_by(|a, b| a.0.cmp(&b.0));
            let pattern_base = pattern_count;
            pattern_count += literals.len() as u32;
            let (literals, hits): (Vec<String>, Vec<Vec<Hit>>) = literals.into_iter().unzip();
            let hits_of_pattern = hits.into_iter().map(Vec::into_boxed_slice).collect();
            let literals = literals.into_iter().map(String::into_boxed_str).collect();
            automata.push(FieldAutomaton { field, literals, searchers: OnceLock::new(), pattern_base, hits_of_pattern });
        }
        BucketIndex { always, automata }
    }

    /// Adds the rules of this bucket that can still match to the scratch candidate list.
    pub fn collect_candidates(&self, ctx: &mut EvalCtx) {
        let epoch = ctx.scratch.epoch();
        let mut candidates = std::mem::take(&mut ctx.scratch.candidates);
        let mut patterns_seen = std::mem::take(&mut ctx.scratch.patterns_seen);
        let mut clause_epoch = std::mem::take(&mut ctx.scratch.clause_epoch);
        let mut clause_mask = std::mem::take(&mut ctx.scratch.clause_mask);
        candidates.extend_from_slice(&self.always);

        for field in &self.automata {
            let text = if field.field == KEYWORDS { Some(ctx.keyword_text()) } else { ctx.folded_for_index(field.field).map(str::as_bytes) };
            let Some(text) = text else { continue };
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
                for hit in field.hits_of_pattern[pattern].iter() {
                    let rule = hit.rule as usize;
                    let before = if clause_epoch[rule] == epoch { clause_mask[rule] } else { 0 };
                    let after = before | hit.bit;
                    clause_epoch[rule] = epoch;
                    clause_mask[rule] = after;
                    if after == hit.full && before != hit.full {
                        candidates.push(hit.rule);
                    }
                }
            }
        }

        ctx.scratch.candidates = candidates;
        ctx.scratch.patterns_seen = patterns_seen;
        ctx.scratch.clause_epoch = clause_epoch;
        ctx.scratch.clause_mask = clause_mask;
    }

    /// Adds `offset` to the pattern numbers of this bucket.
    pub fn rebase(&mut self, offset: u32) {
        self.automata.iter_mut().for_each(|a| a.pattern_base += offset);
    }

    /// Number of literal patterns over all automata of this bucket.
    pub fn pattern_count(&self) -> u32 {
        self.automata.iter().map(|a| a.hits_of_pattern.len() as u32).sum()
    }
}
