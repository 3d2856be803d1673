//! AWS layouts: VPC Flow Logs, CloudTrail, GuardDuty and Security Hub.

pub(super) const VPCFLOW_ALIASES: &[(&str, &[&str])] = &[];
pub(super) const CLOUDTRAIL_ALIASES: &[(&str, &[&str])] = &[];
pub(super) const GUARDDUTY_ALIASES: &[(&str, &[&str])] = &[];
pub(super) const SECURITYHUB_ALIASES: &[(&str, &[&str])] = &[];
