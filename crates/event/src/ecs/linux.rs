//! Linux layouts: syslog (with sshd fields), journald and auditd.

pub(super) const SYSLOG_ALIASES: &[(&str, &[&str])] = &[];
pub(super) const JOURNALD_ALIASES: &[(&str, &[&str])] = &[];
pub(super) const AUDITD_ALIASES: &[(&str, &[&str])] = &[];
