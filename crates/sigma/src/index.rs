//! Rule indexing: which rules can still match an event.
//!
//! For each rule the index derives a necessary condition from its match tree: a set of
//! (field, literal) pairs such that the rule can only match when at least one literal occurs
//! in the folded text of its field. Literals of all rules in a log-source bucket are compiled
//! into one Aho-Corasick automaton per field, and an event runs each automaton once over the
//! field. Only the rules whose literals were found, plus the rules without a usable literal,
//! are evaluated. The condition is only ever necessary, never sufficient, so the full match tree
//! still decides.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::HashMap;

use crate::compile::{FieldId, Node, ValueTest};
use crate::matcher::EvalCtx;

/// (field, folded literal) alternatives; the rule needs at least one.
type Requirement = Vec<(FieldId, String)>;

/// Derives the required literals of a match tree, or `None` when no literal is required
/// (negations, regular expressions, keywords, numeric tests and similar).
pub fn required_literals(node: &Node) -> Option<Requirement> {
    match node {
        Node::Test(test) => {
            let field = test.field?;
            if test.negate {
                return None;
            }
            let group_literals = |group: &Vec<ValueTest>| -> Option<Requirement> {
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
                test.values.iter().filter_map(group_literals).max_by_key(score)
            } else {
                let mut out = Vec::new();
                for group in &test.values {
                    out.extend(group_literals(group)?);
                }
                Some(out)
            }
        }
        Node::And(items) => items.iter().filter_map(required_literals).max_by_key(score),
        Node::Or(items) => {
            let mut out = Vec::new();
            for item in items.iter() {
                out.extend(required_literals(item)?);
            }
            Some(out)
        }
        Node::Not(_) | Node::Const(_) => None,
    }
}

/// Ranks requirements: longer shortest literal first, then fewer alternatives.
fn score(requirement: &Requirement) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = requirement.iter().map(|(_, lit)| lit.len()).min().unwrap_or(0);
    (shortest.min(8), std::cmp::Reverse(requirement.len()))
}

struct FieldAutomaton {
    field: FieldId,
    automaton: AhoCorasick,
    /// Number of the automaton's first pattern among all patterns of the rule set, so that a
    /// pattern found several times in one event is handled once.
    pattern_base: u32,
    rules_of_pattern: Vec<Box<[u32]>>,
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
        let mut per_field: HashMap<FieldId, HashMap<String, Vec<u32>>> = HashMap::new();
        for (rule, node) in rules {
            match required_literals(node) {
                Some(requirement) if !requirement.is_empty() => {
                    for (field, literal) in requirement {
                        let list = per_field.entry(field).or_default().entry(literal).or_default();
                        if list.last() != Some(rule) {
                            list.push(*rule);
                        }
                    }
                }
                _ => always.push(*rule),
            }
        }
        let mut automata = Vec::new();
        let mut fields: Vec<_> = per_field.into_iter().collect();
        fields.sort_by_key(|(field, _)| *field);
        for (field, literals) in fields {
            let mut literals: Vec<(String, Vec<u32>)> = literals.into_iter().collect();
            literals.sort();
            let automaton = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                // NOTE: a DFA (`AhoCorasickKind::DFA`) ran about 30% fewer instructions per
                // event on the OTRF Windows logs under callgrind, but added about 150 ms to
                // start-up and showed no wall-time gain on the shared 2-core machine, so the
                // default stays. Worth re-measuring on an idle machine.
                .build(literals.iter().map(|(lit, _)| lit.as_bytes()))
                .expect("literal automaton within size limits");
            let pattern_base = pattern_count;
            pattern_count += literals.len() as u32;
            let rules_of_pattern = literals.into_iter().map(|(_, rules)| rules.into_boxed_slice()).collect();
            automata.push(FieldAutomaton { field, automaton, pattern_base, rules_of_pattern });
        }
        BucketIndex { always, automata }
    }

    /// Adds the rules of this bucket that can still match to the scratch candidate list.
    pub fn collect_candidates(&self, ctx: &mut EvalCtx) {
        let epoch = ctx.scratch.epoch();
        let mut seen = std::mem::take(&mut ctx.scratch.seen);
        let mut candidates = std::mem::take(&mut ctx.scratch.candidates);
        let mut patterns_seen = std::mem::take(&mut ctx.scratch.patterns_seen);
        for &rule in &self.always {
            if seen[rule as usize] != epoch {
                seen[rule as usize] = epoch;
                candidates.push(rule);
            }
        }
        for field in &self.automata {
            let Some(text) = ctx.folded_for_index(field.field) else { continue };
            for found in field.automaton.find_overlapping_iter(text) {
                let pattern = found.pattern().as_usize();
                let global = field.pattern_base as usize + pattern;
                if patterns_seen[global] == epoch {
                    continue;
                }
                patterns_seen[global] = epoch;
                for &rule in field.rules_of_pattern[pattern].iter() {
                    if seen[rule as usize] != epoch {
                        seen[rule as usize] = epoch;
                        candidates.push(rule);
                    }
                }
            }
        }
        ctx.scratch.seen = seen;
        ctx.scratch.patterns_seen = patterns_seen;
        ctx.scratch.candidates = candidates;
    }

    /// Adds `offset` to the pattern numbers of this bucket.
    pub fn rebase(&mut self, offset: u32) {
        self.automata.iter_mut().for_each(|a| a.pattern_base += offset);
    }

    /// Number of literal patterns over all automata of this bucket.
    pub fn pattern_count(&self) -> u32 {
        self.automata.iter().map(|a| a.rules_of_pattern.len() as u32).sum()
    }
}
