//! Linux layouts: syslog (with sshd fields), journald and auditd.
//!
//! Only renames live here. The decoders store typed or computed values under their ECS names
//! themselves: `process.pid` as an integer, `source.ip` as an address, `event.outcome`,
//! `process.command_line` joined from auditd EXECVE arguments, and so on.

/// Syslog events already carry ECS names; these aliases fill the `log.syslog.*` and
/// `related.*` fields that Elastic's syslog integrations also set.
pub(super) const SYSLOG_ALIASES: &[(&str, &[&str])] = &[
    ("log.syslog.hostname", &["host.name"]),
    ("log.syslog.appname", &["process.name"]),
    ("log.syslog.procid", &["process.pid"]),
    ("related.user", &["user.name"]),
    ("related.ip", &["source.ip"]),
];

/// journald's own field names, as `journalctl -o json` writes them.
pub(super) const JOURNALD_ALIASES: &[(&str, &[&str])] = &[
    ("message", &["MESSAGE"]),
    ("host.name", &["_HOSTNAME"]),
    ("host.id", &["_MACHINE_ID"]),
    ("host.boot.id", &["_BOOT_ID"]),
    ("process.name", &["SYSLOG_IDENTIFIER", "_COMM"]),
    ("process.executable", &["_EXE"]),
    ("process.command_line", &["_CMDLINE"]),
    ("process.pid", &["_PID", "SYSLOG_PID"]),
    ("user.id", &["_UID"]),
    ("group.id", &["_GID"]),
    ("log.syslog.appname", &["SYSLOG_IDENTIFIER"]),
    ("systemd.unit", &["_SYSTEMD_UNIT"]),
    ("systemd.user_unit", &["_SYSTEMD_USER_UNIT"]),
    ("systemd.transport", &["_TRANSPORT"]),
    ("systemd.cgroup", &["_SYSTEMD_CGROUP"]),
    ("related.user", &["user.name"]),
    ("related.ip", &["source.ip"]),
];

/// Linux audit record keys (`exe`, `comm`, `auid`, ...), as the kernel and auditd write them.
/// In an event joined from several records, a key that more than one record carries contains
/// the list of their values.
pub(super) const AUDITD_ALIASES: &[(&str, &[&str])] = &[
    ("process.executable", &["exe"]),
    ("process.name", &["comm"]),
    ("process.working_directory", &["cwd"]),
    ("user.id", &["uid", "auid"]),
    ("user.audit.id", &["auid"]),
    ("user.effective.id", &["euid"]),
    ("user.saved.id", &["suid"]),
    ("user.filesystem.id", &["fsuid"]),
    ("user.name", &["acct"]),
    ("group.id", &["gid"]),
    ("group.effective.id", &["egid"]),
    ("file.path", &["name"]),
    ("file.inode", &["inode"]),
    ("file.mode", &["mode"]),
    ("host.name", &["node"]),
];
