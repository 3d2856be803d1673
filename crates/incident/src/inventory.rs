//! The asset inventory: which hosts, instances and addresses matter, how much, and what data
//! they hold.
//!
//! Loaded from YAML:
//!
//! ```yaml
//! assets:
//!   - name: pay-db-1
//!     hostnames: [pay-db-1, pay-db-1.corp.example]
//!     instance_ids: [i-0abc12345def67890]
//!     ips: [10.0.2.15]
//!     role: pci-server
//!     data_classes: [pci, pii]
//!     owner_team: payments
//!     criticality: critical
//! ```
//!
//! or imported from the JSON of `aws ec2 describe-instances`, taking the `Name` tag as the
//! name and the tags `tocsin:role`, `tocsin:criticality`, `tocsin:data-classes` (comma
//! separated) and `tocsin:owner-team`.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tocsin_store::Entity;

use crate::error::{IncidentError, Result};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Criticality {
    pub fn name(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Criticality> {
        match text.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Criticality::Low),
            "medium" => Some(Criticality::Medium),
            "high" => Some(Criticality::High),
            "critical" => Some(Criticality::Critical),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Asset {
    pub name: String,
    pub hostnames: Vec<String>,
    pub instance_ids: Vec<String>,
    pub ips: Vec<String>,
    /// The asset's role: `domain-controller`, `pci-server`, `web-server`, …
    pub role: Option<String>,
    /// Classes of data it holds: `pii`, `pci`, `phi`, `proprietary`, `credentials`, …
    pub data_classes: Vec<String>,
    pub owner_team: Option<String>,
    pub criticality: Criticality,
}

impl Asset {
    /// Returns whether the entity names this asset: a host name (case-insensitive, with or
    /// without its domain), an instance id or an IP address.
    pub fn matches(&self, entity: &Entity) -> bool {
        let value = entity.value.trim();
        match entity.field.as_str() {
            "host.name" | "host.hostname" | "destination.domain" => {
                let short = |h: &str| h.split('.').next().unwrap_or(h).to_ascii_lowercase();
                std::iter::once(&self.name)
                    .chain(&self.hostnames)
                    .any(|h| h.eq_ignore_ascii_case(value) || short(h) == short(value))
            }
            "cloud.instance.id" => self.instance_ids.iter().any(|i| i == value),
            "host.ip" | "destination.ip" | "source.ip" => self.ips.iter().any(|ip| ip == value),
            _ => false,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Inventory {
    pub assets: Vec<Asset>,
}

impl Inventory {
    pub fn from_yaml(text: &str, source_name: &str) -> Result<Inventory> {
        yaml_serde::from_str(text).map_err(|e| IncidentError::InvalidInput {
            what: "asset inventory",
            source_name: source_name.to_string(),
            message: e.to_string(),
        })
    }

    /// Loads a YAML inventory, or the JSON of `aws ec2 describe-instances` (recognised by its
    /// `Reservations` key).
    pub fn load(path: &Path) -> Result<Inventory> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| IncidentError::InvalidInput {
            what: "asset inventory",
            source_name: name.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        if text.trim_start().starts_with('{') && text.contains("\"Reservations\"") {
            return Inventory::from_ec2_json(&text, &name);
        }
        Inventory::from_yaml(&text, &name)
    }

    /// Imports the output of `aws ec2 describe-instances`.
    pub fn from_ec2_json(text: &str, source_name: &str) -> Result<Inventory> {
        let invalid = |message: String| IncidentError::InvalidInput { what: "EC2 instance list", source_name: source_name.to_string(), message };
        let document: Ec2Document = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut assets = Vec::new();
        for instance in document.reservations.into_iter().flat_map(|r| r.instances) {
            let tag = |key: &str| instance.tags.iter().find(|t| t.key.eq_ignore_ascii_case(key)).map(|t| t.value.clone());
            let mut hostnames: Vec<String> = [&instance.private_dns_name, &instance.public_dns_name]
                .into_iter()
                .flatten()
                .filter(|h| !h.is_empty())
                .cloned()
                .collect();
            let name = tag("Name").unwrap_or_else(|| instance.instance_id.clone());
            hostnames.retain(|h| *h != name);
            let criticality = match tag("tocsin:criticality") {
                Some(text) => Criticality::parse(&text).ok_or_else(|| {
                    invalid(format!("instance {} has tocsin:criticality {text:?}: use low, medium, high or critical", instance.instance_id))
                })?,
                None => Criticality::default(),
            };
            let data_classes = tag("tocsin:data-classes")
                .map(|t| t.split(',').map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty()).collect())
                .unwrap_or_default();
            let ips = [&instance.private_ip_address, &instance.public_ip_address].into_iter().flatten().cloned().collect();
            assets.push(Asset {
                name,
                hostnames,
                instance_ids: vec![instance.instance_id.clone()],
                ips,
                role: tag("tocsin:role"),
                data_classes,
                owner_team: tag("tocsin:owner-team"),
                criticality,
            });
        }
        Ok(Inventory { assets })
    }

    /// Returns the assets any of `entities` names, each once, in inventory order.
    pub fn assets_for<'a>(&'a self, entities: &[Entity]) -> Vec<&'a Asset> {
        self.assets.iter().filter(|asset| entities.iter().any(|e| asset.matches(e))).collect()
    }

    /// Returns the union of the data classes of `assets`, sorted.
    pub fn data_classes(assets: &[&Asset]) -> BTreeSet<String> {
        assets.iter().flat_map(|a| a.data_classes.iter().map(|c| c.to_ascii_lowercase())).collect()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ec2Document {
    #[serde(default)]
    reservations: Vec<Ec2Reservation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ec2Reservation {
    #[serde(default)]
    instances: Vec<Ec2Instance>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ec2Instance {
    instance_id: String,
    private_ip_address: Option<String>,
    public_ip_address: Option<String>,
    private_dns_name: Option<String>,
    public_dns_name: Option<String>,
    #[serde(default)]
    tags: Vec<Ec2Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ec2Tag {
    key: String,
    value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC2: &str = r#"{"Reservations": [{"Instances": [
        {"InstanceId": "i-0abc12345def67890", "PrivateIpAddress": "10.0.2.15", "PrivateDnsName": "ip-10-0-2-15.ec2.internal",
         "Tags": [{"Key": "Name", "Value": "pay-db-1"}, {"Key": "tocsin:criticality", "Value": "critical"},
                  {"Key": "tocsin:data-classes", "Value": "PCI, pii"}, {"Key": "tocsin:role", "Value": "pci-server"}]},
        {"InstanceId": "i-0def", "Tags": []}
    ]}]}"#;

    #[test]
    fn ec2_import_reads_tags() {
        let inventory = Inventory::from_ec2_json(EC2, "test").unwrap();
        assert_eq!(inventory.assets.len(), 2);
        let db = &inventory.assets[0];
        assert_eq!(db.name, "pay-db-1");
        assert_eq!(db.criticality, Criticality::Critical);
        assert_eq!(db.data_classes, vec!["pci", "pii"]);
        assert_eq!(db.role.as_deref(), Some("pci-server"));
        assert_eq!(db.ips, vec!["10.0.2.15"]);
        assert_eq!(inventory.assets[1].name, "i-0def");
        assert_eq!(inventory.assets[1].criticality, Criticality::Medium);
    }

    #[test]
    fn assets_match_entities() {
        let inventory = Inventory::from_ec2_json(EC2, "test").unwrap();
        let hits = inventory.assets_for(&[Entity::new("host.name", "PAY-DB-1.corp.example")]);
        assert_eq!(hits.len(), 1);
        assert_eq!(inventory.assets_for(&[Entity::new("cloud.instance.id", "i-0abc12345def67890")]).len(), 1);
        assert_eq!(inventory.assets_for(&[Entity::new("source.ip", "10.0.2.15")]).len(), 1);
        assert!(inventory.assets_for(&[Entity::new("user.name", "pay-db-1")]).is_empty());
    }

    #[test]
    fn yaml_rejects_unknown_fields() {
        let error = Inventory::from_yaml("assets:\n  - name: a\n    critical: high\n", "inv.yaml").unwrap_err().to_string();
        assert!(error.contains("inv.yaml"), "{error}");
        assert!(error.contains("critical"), "{error}");
    }
}
