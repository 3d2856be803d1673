//! Suppressions: known-benign activity silenced by rule and entity, until an expiry date.
//!
//! ```yaml
//! suppressions:
//!   - rule: 5b3c8f0e-0000-4000-8000-000000000001   # rule id, or "*" for every rule
//!     entity: source.ip=198.51.100.0/24             # ECS field = value (CIDR for *.ip)
//!     expires: 2027-03-31                           # date (end of day, UTC) or RFC 3339
//!     reason: weekly vulnerability scan from the security team's scanner
//! ```
//!
//! A suppressed alert is still reported, marked with the suppression's reason, so silencing
//! never hides that something matched.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use crate::Alert;

#[derive(Debug, thiserror::Error)]
pub enum SuppressionError {
    #[error("cannot read the suppression file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid suppression file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    suppressions: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    rule: String,
    entity: String,
    expires: String,
    reason: String,
}

/// One parsed suppression.
#[derive(Clone, Debug)]
pub struct Suppression {
    pub rule: String,
    pub field: String,
    pub value: String,
    network: Option<(IpAddr, u8)>,
    pub expires: DateTime<Utc>,
    pub reason: String,
}

impl Suppression {
    /// Returns whether this suppression silences `alert` at time `now`.
    pub fn applies(&self, alert: &Alert, now: DateTime<Utc>) -> bool {
        if now > self.expires || (self.rule != "*" && self.rule != alert.rule.id) {
            return false;
        }
        let Some(values) = alert.entities.get(self.field.as_str()) else {
            return false;
        };
        values.iter().any(|value| match self.network {
            Some(network) => value.parse().is_ok_and(|ip| in_network(ip, network)),
            None => value.eq_ignore_ascii_case(&self.value),
        })
    }

    pub fn describe(&self) -> String {
        format!("{}={} until {}: {}", self.field, self.value, self.expires.format("%Y-%m-%d"), self.reason)
    }
}

/// The suppressions of one or more files.
#[derive(Clone, Debug, Default)]
pub struct Suppressions {
    entries: Vec<Suppression>,
}

impl Suppressions {
    /// Loads a suppression file; every entry must name a rule, an entity, an expiry and a
    /// reason, so that nothing is silenced forever or without a stated cause.
    pub fn load(path: &Path) -> Result<Suppressions, SuppressionError> {
        let text = std::fs::read_to_string(path).map_err(|source| SuppressionError::Read { path: path.to_path_buf(), source })?;
        Suppressions::parse(&text).map_err(|message| SuppressionError::Invalid { path: path.to_path_buf(), message })
    }

    pub fn parse(text: &str) -> Result<Suppressions, String> {
        let file: File = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
        let mut entries = Vec::with_capacity(file.suppressions.len());
        for (index, entry) in file.suppressions.into_iter().enumerate() {
            entries.push(parse_entry(entry).map_err(|e| format!("suppression {}: {e}", index + 1))?);
        }
        Ok(Suppressions { entries })
    }

    /// Returns the first suppression that silences `alert` at `now`.
    pub fn find(&self, alert: &Alert, now: DateTime<Utc>) -> Option<&Suppression> {
        self.entries.iter().find(|s| s.applies(alert, now))
    }

    /// Returns the suppressions whose expiry has passed, for a reminder to renew or drop them.
    pub fn expired(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Suppression> {
        self.entries.iter().filter(move |s| now > s.expires)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn extend(&mut self, other: Suppressions) {
        self.entries.extend(other.entries);
    }
}

fn parse_entry(entry: Entry) -> Result<Suppression, String> {
    if entry.reason.trim().is_empty() {
        return Err("reason is empty; say why the activity is benign".into());
    }
    let Some((field, value)) = entry.entity.split_once('=') else {
        return Err(format!("entity {:?} is not FIELD=VALUE (for example source.ip=198.51.100.7)", entry.entity));
    };
    let (field, value) = (field.trim().to_string(), value.trim().to_string());
    let network = if field.ends_with(".ip") && value.contains('/') {
        Some(parse_cidr(&value).ok_or_else(|| format!("{value:?} is not a valid CIDR network"))?)
    } else {
        None
    };
    let expires = parse_expiry(&entry.expires)
        .ok_or_else(|| format!("expires {:?} is neither a date (2027-03-31) nor an RFC 3339 time", entry.expires))?;
    Ok(Suppression { rule: entry.rule, field, value, network, expires, reason: entry.reason })
}

fn parse_expiry(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(23, 59, 59)?.and_utc())
}

fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (address, bits) = text.split_once('/')?;
    let address: IpAddr = address.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((address, bits))
}

fn in_network(ip: IpAddr, (network, bits): (IpAddr, u8)) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Level, RuleInfo};
    use tocsin_event::{Event, Evidence, Schema, SourceRef, Value};

    fn alert(ip: &str) -> Alert {
        let rule = RuleInfo { id: "r1".into(), title: "t".into(), level: Level::High, tags: vec![] };
        let mut event = Event::new(Schema::Syslog, Evidence::line(SourceRef::new("auth.log"), 1, 0));
        event.push("source.ip", Value::Ip(ip.parse().unwrap()));
        Alert::new(rule, vec![Arc::new(event)])
    }

    fn now() -> DateTime<Utc> {
        "2027-01-15T00:00:00Z".parse().unwrap()
    }

    const FILE: &str = "suppressions:\n  - rule: r1\n    entity: source.ip=198.51.100.0/24\n    expires: 2027-03-31\n    reason: weekly scan\n";

    #[test]
    fn cidr_suppression_applies() {
        let suppressions = Suppressions::parse(FILE).unwrap();
        assert!(suppressions.find(&alert("198.51.100.9"), now()).is_some());
        assert!(suppressions.find(&alert("203.0.113.7"), now()).is_none());
    }

    #[test]
    fn expired_suppression_ignored() {
        let suppressions = Suppressions::parse(FILE).unwrap();
        let later: DateTime<Utc> = "2027-04-01T00:00:00Z".parse().unwrap();
        assert!(suppressions.find(&alert("198.51.100.9"), later).is_none());
        assert_eq!(suppressions.expired(later).count(), 1);
    }

    #[test]
    fn other_rule_not_suppressed() {
        let text = FILE.replace("rule: r1", "rule: r2");
        let suppressions = Suppressions::parse(&text).unwrap();
        assert!(suppressions.find(&alert("198.51.100.9"), now()).is_none());
    }

    #[test]
    fn invalid_entries_name_the_entry() {
        let text = FILE.replace("198.51.100.0/24", "198.51.100.0/40");
        let error = Suppressions::parse(&text).unwrap_err();
        assert!(error.contains("suppression 1"), "{error}");
        assert!(error.contains("not a valid CIDR"), "{error}");

        let text = FILE.replace("weekly scan", "\"\"");
        assert!(Suppressions::parse(&text).unwrap_err().contains("reason is empty"));
    }
}
