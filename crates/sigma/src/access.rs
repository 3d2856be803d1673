//! Read access to correlation definitions for the detection runtime, which turns correlation
//! hits into alerts and needs each hit's definition and the events behind it.

use tocsin_event::Event;

use crate::correlation::CorrelationDef;
use crate::ruleset::{RuleIdx, RuleSet};

impl RuleSet {
    /// Returns the correlation at `index` (as in [`crate::CorrelationAlert::correlation`]).
    pub fn correlation(&self, index: usize) -> &CorrelationDef {
        &self.correlations[index]
    }

    /// Returns the group-by values a match of `rule` has for correlation `index`, in the
    /// correlation's `group-by` order, as the engine computes them. A rule of a chained
    /// correlation gets its values there, mapped to this correlation's fields. Returns `None`
    /// when the correlation does not use the rule, directly or through a chain.
    pub fn correlation_group(&self, index: usize, rule: RuleIdx, event: &Event) -> Option<Vec<String>> {
        let definition = &self.correlations[index];
        if let Some(position) = definition.rules.iter().position(|&r| r == rule) {
            return Some(crate::correlation::group_values(definition, self.fields(), position, event));
        }

        // Chains are acyclic, so this recursion ends.
        for (position, inner) in definition.chained.iter().enumerate() {
            let Some(inner) = *inner else { continue };
            if let Some(inner_group) = self.correlation_group(inner, rule, event) {
                return Some(definition.group_of_chained[position].iter().map(|&j| inner_group[j].clone()).collect());
            }
        }
        None
    }

    /// Returns the tags of correlation `index`.
    pub fn correlation_tags(&self, index: usize) -> &[String] {
        &self.correlations[index].tags
    }
}
