//! The classification policy: category, the NIST SP 800-61 Rev. 2 prioritization factors
//! (functional impact, information impact, recoverability) and a severity computed from the
//! rule level, the criticality of the assets involved and their data classes.
//!
//! The default is `default-policy.yaml` beside this file, compiled in; a team's own YAML
//! replaces it whole. [`Policy::assess`] returns every value with the reason it was chosen,
//! so the incident shows how its severity came about.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IncidentError, Result};
use crate::inventory::{Asset, Criticality, Inventory};

pub const DEFAULT_POLICY: &str = include_str!("default-policy.yaml");

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        let lower = text.trim().to_ascii_lowercase();
        Severity::ALL.into_iter().find(|s| s.name() == lower)
    }
}

/// NIST SP 800-61 Rev. 2 functional impact.
pub const FUNCTIONAL_IMPACTS: &[&str] = &["none", "low", "medium", "high"];
/// NIST SP 800-61 Rev. 2 information impact.
pub const INFORMATION_IMPACTS: &[&str] = &["none", "privacy-breach", "proprietary-breach", "integrity-loss"];
/// NIST SP 800-61 Rev. 2 recoverability.
pub const RECOVERABILITIES: &[&str] = &["regular", "supplemented", "extended", "not-recoverable"];
/// Categories the default policy uses; a policy may add its own.
pub const CATEGORIES: &[&str] =
    &["unauthorized-access", "malicious-code", "reconnaissance", "denial-of-service", "improper-usage", "policy-violation", "other"];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub categories: Vec<CategoryRule>,
    pub default_category: String,
    pub severity: SeverityRules,
    pub functional_impact: BTreeMap<Criticality, String>,
    #[serde(default)]
    pub information_impact: Vec<InformationRule>,
    #[serde(default)]
    pub recoverability: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub rule_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityRules {
    pub level: BTreeMap<String, i64>,
    pub criticality: BTreeMap<Criticality, i64>,
    #[serde(default)]
    pub sensitive_data_classes: Vec<String>,
    #[serde(default)]
    pub sensitive_data_bonus: i64,
    pub thresholds: BTreeMap<Severity, i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InformationRule {
    pub data_class: String,
    pub impact: String,
}

/// The policy's result for an alert or incident, with the reasons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub category: String,
    pub functional_impact: String,
    pub information_impact: String,
    pub recoverability: String,
    pub severity: Severity,
    pub score: i64,
    /// Names of the inventory assets involved.
    pub assets: Vec<String>,
    pub data_classes: Vec<String>,
    /// One sentence per input that moved a value.
    pub reasons: Vec<String>,
}

/// The facts the policy looks at.
#[derive(Clone, Debug, Default)]
pub struct Subject<'a> {
    pub rule_id: &'a str,
    pub level: &'a str,
    pub tags: &'a [String],
    pub entities: &'a [tocsin_store::Entity],
}

impl Policy {
    pub fn default_policy() -> Policy {
        Policy::from_yaml(DEFAULT_POLICY, "the built-in default policy").expect("the built-in policy is valid")
    }

    pub fn from_yaml(text: &str, source_name: &str) -> Result<Policy> {
        let invalid = |message: String| IncidentError::InvalidInput { what: "classification policy", source_name: source_name.to_string(), message };
        let policy: Policy = yaml_serde::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for impact in policy.functional_impact.values() {
            if !FUNCTIONAL_IMPACTS.contains(&impact.as_str()) {
                return Err(invalid(format!("functional impact {impact:?} is not one of {}", FUNCTIONAL_IMPACTS.join(", "))));
            }
        }
        for rule in &policy.information_impact {
            if !INFORMATION_IMPACTS.contains(&rule.impact.as_str()) {
                return Err(invalid(format!("information impact {:?} is not one of {}", rule.impact, INFORMATION_IMPACTS.join(", "))));
            }
        }
        for value in policy.recoverability.values() {
            if !RECOVERABILITIES.contains(&value.as_str()) {
                return Err(invalid(format!("recoverability {value:?} is not one of {}", RECOVERABILITIES.join(", "))));
            }
        }
        if !policy.severity.thresholds.contains_key(&Severity::Low) {
            return Err(invalid("severity.thresholds needs a minimum score for low".to_string()));
        }
        Ok(policy)
    }

    pub fn load(path: &Path) -> Result<Policy> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| IncidentError::InvalidInput {
            what: "classification policy",
            source_name: name.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        Policy::from_yaml(&text, &name)
    }

    /// Computes category, impacts, recoverability and severity for one alert's facts.
    pub fn assess(&self, subject: &Subject<'_>, inventory: &Inventory) -> Assessment {
        let mut reasons = Vec::new();
        let category = self.category(subject);
        let assets: Vec<&Asset> = inventory.assets_for(subject.entities);
        let data_classes = Inventory::data_classes(&assets);
        let top_criticality = assets.iter().map(|a| a.criticality).max();

        let level = subject.level.trim().to_ascii_lowercase();
        let level_score = self.severity.level.get(&level).copied().unwrap_or(0);
        reasons.push(format!("rule level {level} scores {level_score}"));
        let mut score = level_score;
        if let Some(criticality) = top_criticality {
            let bonus = self.severity.criticality.get(&criticality).copied().unwrap_or(0);
            let names: Vec<&str> = assets.iter().filter(|a| a.criticality == criticality).map(|a| a.name.as_str()).collect();
            reasons.push(format!("asset {} has criticality {}, {bonus:+}", names.join(", "), criticality.name()));
            score += bonus;
        }
        let sensitive: Vec<&String> = data_classes.iter().filter(|c| self.severity.sensitive_data_classes.iter().any(|s| s.eq_ignore_ascii_case(c))).collect();
        if !sensitive.is_empty() && self.severity.sensitive_data_bonus != 0 {
            let names: Vec<&str> = sensitive.iter().map(|c| c.as_str()).collect();
            reasons.push(format!("assets hold {} data, {:+}", names.join(", "), self.severity.sensitive_data_bonus));
            score += self.severity.sensitive_data_bonus;
        }
        let severity = self
            .severity
            .thresholds
            .iter()
            .filter(|(_, minimum)| score >= **minimum)
            .map(|(severity, _)| *severity)
            .max()
            .unwrap_or(Severity::Low);
        reasons.push(format!("score {score} gives severity {}", severity.name()));

        let functional_impact = top_criticality
            .and_then(|c| self.functional_impact.get(&c).cloned())
            .unwrap_or_else(|| "none".to_string());
        let information_impact = self
            .information_impact
            .iter()
            .find(|rule| data_classes.iter().any(|c| c.eq_ignore_ascii_case(&rule.data_class)))
            .map(|rule| rule.impact.clone())
            .unwrap_or_else(|| "none".to_string());
        let recoverability = self.recoverability.get(&category).cloned().unwrap_or_else(|| "regular".to_string());

        Assessment {
            category,
            functional_impact,
            information_impact,
            recoverability,
            severity,
            score,
            assets: assets.iter().map(|a| a.name.clone()).collect(),
            data_classes: data_classes.into_iter().collect(),
            reasons,
        }
    }

    fn category(&self, subject: &Subject<'_>) -> String {
        for rule in &self.categories {
            let tag_hit = rule.tags.iter().any(|t| subject.tags.iter().any(|s| tag_matches(t, s)));
            let id_hit = rule.rule_ids.iter().any(|prefix| subject.rule_id.starts_with(prefix.as_str()));
            if tag_hit || id_hit {
                return rule.category.clone();
            }
        }
        self.default_category.clone()
    }
}

/// Compares a policy tag with an alert tag. Case, and `_` against `-`, do not matter (Sigma
/// wrote tactics as `attack.credential_access` before v2 and `attack.credential-access`
/// since), and a technique matches its sub-techniques: `attack.t1110` covers
/// `attack.t1110.001`.
fn tag_matches(policy_tag: &str, alert_tag: &str) -> bool {
    let normalize = |tag: &str| tag.to_ascii_lowercase().replace('_', "-");
    let (policy_tag, alert_tag) = (normalize(policy_tag), normalize(alert_tag));
    alert_tag == policy_tag || alert_tag.strip_prefix(&policy_tag).is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_across_spellings() {
        assert!(tag_matches("attack.credential_access", "attack.credential-access"));
        assert!(tag_matches("attack.t1110", "attack.t1110.001"));
        assert!(tag_matches("attack.T1110", "attack.t1110"));
        assert!(!tag_matches("attack.t1110", "attack.t11100"));
        assert!(!tag_matches("attack.t1110.001", "attack.t1110"));
    }
    use tocsin_store::Entity;

    fn pci_inventory() -> Inventory {
        Inventory::from_yaml(
            "assets:\n  - name: pay-db-1\n    ips: [10.0.2.15]\n    role: pci-server\n    data_classes: [pci]\n    criticality: high\n  - name: dc-1\n    role: domain-controller\n    criticality: critical\n",
            "test",
        )
        .unwrap()
    }

    fn assess(level: &str, host: &str) -> Assessment {
        let tags = vec!["attack.credential_access".to_string()];
        let entities = vec![Entity::new("host.name", host)];
        Policy::default_policy().assess(&Subject { rule_id: "r", level, tags: &tags, entities: &entities }, &pci_inventory())
    }

    #[test]
    fn default_policy_severity_table() {
        // (rule level, host, expected severity): the table in docs/incidents.md.
        let cases = [
            ("low", "web-9", Severity::Low),
            ("medium", "web-9", Severity::Medium),
            ("high", "web-9", Severity::High),
            ("critical", "web-9", Severity::Critical),
            ("low", "pay-db-1", Severity::High),
            ("medium", "pay-db-1", Severity::High),
            ("high", "pay-db-1", Severity::Critical),
            ("critical", "pay-db-1", Severity::Critical),
            ("low", "dc-1", Severity::High),
            ("medium", "dc-1", Severity::High),
            ("high", "dc-1", Severity::Critical),
            ("critical", "dc-1", Severity::Critical),
        ];
        for (level, host, expected) in cases {
            assert_eq!(assess(level, host).severity, expected, "level {level} on {host}");
        }
    }

    #[test]
    fn assessment_explains_itself() {
        let a = assess("high", "pay-db-1");
        assert_eq!(a.category, "unauthorized-access");
        assert_eq!(a.information_impact, "privacy-breach");
        assert_eq!(a.functional_impact, "medium");
        assert_eq!(a.recoverability, "regular");
        assert_eq!(a.assets, vec!["pay-db-1"]);
        assert!(a.reasons.iter().any(|r| r.contains("pci data, +1")), "{:?}", a.reasons);
    }

    #[test]
    fn policy_rejects_unknown_impact() {
        let text = DEFAULT_POLICY.replace("critical: high\n", "critical: severe\n");
        let error = Policy::from_yaml(&text, "p.yaml").unwrap_err().to_string();
        assert!(error.contains("\"severe\""), "{error}");
    }
}
