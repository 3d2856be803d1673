//! ATT&CK Navigator layers of what fired.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use crate::Alert;

/// Builds an ATT&CK Navigator layer (layer format 4.5, Enterprise domain): one technique
/// entry per ATT&CK technique tag among the alerts, scored by the number of alerts, with the
/// titles of the rules that fired in the comment.
pub fn navigator_layer(name: &str, alerts: &[Alert]) -> Json {
    let mut techniques: BTreeMap<String, (u64, Vec<String>)> = BTreeMap::new();
    for alert in alerts {
        for technique in alert.rule.attack_techniques() {
            let (score, titles) = techniques.entry(technique).or_default();
            *score += alert.count;
            if !titles.contains(&alert.rule.title) {
                titles.push(alert.rule.title.clone());
            }
        }
    }

    let max_score = techniques.values().map(|(score, _)| *score).max().unwrap_or(1);
    let entries: Vec<Json> = techniques
        .into_iter()
        .map(|(id, (score, titles))| {
            json!({
                "techniqueID": id,
                "score": score,
                "comment": titles.join("; "),
                "enabled": true,
                "showSubtechniques": true,
            })
        })
        .collect();

    json!({
        "name": name,
        "versions": { "layer": "4.5", "navigator": "5.1.0" },
        "domain": "enterprise-attack",
        "description": "Techniques of the tocsin alerts that fired; score = number of alerts.",
        "techniques": entries,
        "gradient": { "colors": ["#ffe766", "#ff6666"], "minValue": 0, "maxValue": max_score },
        "sorting": 3,
        "hideDisabled": false,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Level, RuleInfo};
    use tocsin_event::{Event, Evidence, Schema, SourceRef};

    #[test]
    fn layer_scores_techniques() {
        let rule = RuleInfo {
            id: "r1".into(),
            title: "SSH brute force".into(),
            level: Level::Medium,
            tags: vec!["attack.t1110.001".into(), "attack.credential-access".into()],
        };
        let event = Arc::new(Event::new(Schema::Syslog, Evidence::line(SourceRef::new("auth.log"), 1, 0)));
        let mut alert = Alert::new(rule, vec![event]);
        alert.count = 3;

        let layer = navigator_layer("hunt", &[alert]);
        assert_eq!(layer["domain"], "enterprise-attack");
        assert_eq!(layer["techniques"][0]["techniqueID"], "T1110.001");
        assert_eq!(layer["techniques"][0]["score"], 3);
        assert_eq!(layer["techniques"][0]["comment"], "SSH brute force");
        assert_eq!(layer["techniques"].as_array().unwrap().len(), 1);
    }
}
