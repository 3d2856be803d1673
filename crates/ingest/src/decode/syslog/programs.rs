//! Messages of PAM modules, sudo, su, systemd-logind, cron and the shadow tools (useradd,
//! groupadd, userdel), parsed into `event.action`, `event.outcome` and the users involved.

use std::net::IpAddr;

use tocsin_event::{Event, Value};

/// Parses a message of a known program, or a PAM message from any program, and pushes its
/// fields onto `event`. Returns false, pushing nothing, for messages it does not recognise.
pub(crate) fn parse_into(program: Option<&str>, message: &str, event: &mut Event) -> bool {
    if message.starts_with("pam_") || message.starts_with("PAM ") {
        return pam(message, event);
    }
    match program {
        Some("sudo") => sudo(message, event),
        Some("su") => su(message, event),
        Some("systemd-logind") => logind(message, event),
        Some("CRON" | "cron" | "crond") => cron(message, event),
        Some("useradd" | "groupadd" | "userdel" | "groupdel" | "usermod") => shadow(message, event),
        _ => false,
    }
}

fn push_action(event: &mut Event, category: &'static str, action: &'static str, outcome: &'static str) {
    event.push("event.category", category);
    event.push("event.action", action);
    event.push("event.outcome", outcome);
}

/// `pam_unix(service:type): text`, and `PAM N more authentication failures; ...` lines.
fn pam(message: &str, event: &mut Event) -> bool {
    if let Some(rest) = message.strip_prefix("PAM ") {
        // PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.1  user=root
        let Some((head, fields)) = rest.split_once("; ") else { return false };
        if !head.ends_with("more authentication failures") && !head.ends_with("more authentication failure") {
            return false;
        }
        push_action(event, "authentication", "pam_auth_failure", "failure");
        if let Some(count) = head.split(' ').next().and_then(|n| n.parse::<i64>().ok()) {
            event.push("pam.more_failures", Value::Int(count));
        }
        push_pam_fields(fields, event);
        return true;
    }

    let Some((module_and_service, text)) = message.split_once("): ") else { return false };
    let Some((module, service)) = module_and_service.split_once('(') else { return false };
    let (service, kind) = service.split_once(':').unwrap_or((service, ""));
    let mut known = true;

    if let Some(fields) = text.strip_prefix("authentication failure; ") {
        push_action(event, "authentication", "pam_auth_failure", "failure");
        push_pam_fields(fields, event);
    } else if text.starts_with("check pass; user unknown") {
        push_action(event, "authentication", "pam_user_unknown", "failure");
    } else if let Some(rest) = text.strip_prefix("session opened for user ") {
        push_action(event, "session", "session_opened", "success");
        let (user, by) = rest.split_once(" by ").unwrap_or((rest, ""));
        event.push("user.name", strip_uid(user));
        let by = strip_uid(by);
        if !by.is_empty() {
            event.push("pam.by_user", by);
        }
    } else if let Some(user) = text.strip_prefix("session closed for user ") {
        push_action(event, "session", "session_closed", "success");
        event.push("user.name", strip_uid(user));
    } else if let Some(user) = text.strip_prefix("password changed for ") {
        push_action(event, "iam", "password_changed", "success");
        event.push("user.name", user);
    } else if let Some(rest) = text.strip_prefix("user \"")
        && let Some((user, _)) = rest.split_once("\" does not exist")
    {
        push_action(event, "authentication", "pam_user_unknown", "failure");
        event.push("user.name", user);
    } else if let Some(user) = text.strip_prefix("auth could not identify password for [") {
        push_action(event, "authentication", "pam_auth_failure", "failure");
        event.push("user.name", user.strip_suffix(']').unwrap_or(user));
    } else {
        known = false;
    }
    event.push("pam.module", module);
    event.push("pam.service", service);
    if !kind.is_empty() {
        event.push("pam.type", kind);
    }
    known
}

/// `logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.1  user=root`: the remote host goes
/// to `source.ip` (or `source.domain`), the user to `user.name`.
fn push_pam_fields(fields: &str, event: &mut Event) {
    for pair in fields.split(' ') {
        let Some((key, value)) = pair.split_once('=') else { continue };
        if value.is_empty() {
            continue;
        }
        match key {
            "rhost" => match value.parse::<IpAddr>() {
                Ok(ip) => event.push("source.ip", Value::Ip(ip)),
                Err(_) => event.push("source.domain", value),
            },
            "user" => event.push("user.name", value),
            "ruser" => event.push("pam.ruser", value),
            "tty" => event.push("pam.tty", value),
            _ => {}
        }
    }
}

/// `alice(uid=1000)` → `alice`.
fn strip_uid(user: &str) -> &str {
    match user.find("(uid=") {
        Some(at) => &user[..at],
        None => user,
    }
}

/// `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls`, with an error such as
/// `3 incorrect password attempts` or `user NOT in sudoers` before `TTY=` when sudo refused.
fn sudo(message: &str, event: &mut Event) -> bool {
    let message = message.trim_start();
    let Some((user, rest)) = message.split_once(" : ") else { return false };
    if user.is_empty() || user.contains(' ') {
        return false;
    }
    let (command, rest) = match rest.find("COMMAND=") {
        Some(at) => (Some(&rest[at + "COMMAND=".len()..]), &rest[..at]),
        None => (None, rest),
    };
    let mut error = None;
    let mut fields = Vec::new();
    for part in rest.split(" ; ") {
        let part = part.trim();
        match part.split_once('=') {
            Some((key, value)) if key.bytes().all(|b| b.is_ascii_uppercase()) => fields.push((key, value)),
            _ if !part.is_empty() => error = Some(part),
            _ => {}
        }
    }
    push_action(event, "process", "sudo_command", if error.is_some() { "failure" } else { "success" });
    event.push("user.name", user);
    for (key, value) in fields {
        match key {
            "USER" => event.push("user.target.name", value),
            "PWD" => event.push("process.working_directory", value),
            "TTY" => event.push("sudo.tty", value),
            "GROUP" => event.push("group.target.name", value),
            _ => {}
        }
    }
    if let Some(command) = command {
        event.push("process.command_line", command);
    }
    if let Some(error) = error {
        event.push("error.message", error);
    }
    true
}

/// `Successful su for root by alice`, `FAILED su for root by alice`, and the util-linux
/// forms `(to root) alice on pts/0` and `FAILED SU (to root) alice on pts/0`.
fn su(message: &str, event: &mut Event) -> bool {
    let (outcome, rest) = if let Some(rest) = message.strip_prefix("Successful su for ") {
        ("success", rest)
    } else if let Some(rest) = message.strip_prefix("FAILED su for ") {
        ("failure", rest)
    } else {
        return su_util_linux(message, event);
    };
    let Some((target, user)) = rest.rsplit_once(" by ") else { return false };
    push_action(event, "authentication", "su", outcome);
    event.push("user.name", user);
    event.push("user.target.name", target);
    true
}

fn su_util_linux(message: &str, event: &mut Event) -> bool {
    // Old sulog form: `+ /dev/pts/0 alice:root` (success) or `- /dev/pts/0 alice:root`.
    if let Some((sign, rest)) = message.split_at_checked(2)
        && matches!(sign, "+ " | "- ")
        && let Some((_tty, users)) = rest.split_once(' ')
        && let Some((user, target)) = users.split_once(':')
    {
        push_action(event, "authentication", "su", if sign == "+ " { "success" } else { "failure" });
        event.push("user.name", user);
        event.push("user.target.name", target);
        return true;
    }
    let (outcome, rest) = match message.strip_prefix("FAILED SU ") {
        Some(rest) => ("failure", rest),
        None => ("success", message),
    };
    let Some(rest) = rest.strip_prefix("(to ") else { return false };
    let Some((target, rest)) = rest.split_once(") ") else { return false };
    let Some((user, _tty)) = rest.rsplit_once(" on ") else { return false };
    push_action(event, "authentication", "su", outcome);
    event.push("user.name", user);
    event.push("user.target.name", target);
    true
}

/// `New session 12 of user alice.`, `Removed session 12.`, `Session 12 logged out. ...`.
fn logind(message: &str, event: &mut Event) -> bool {
    if let Some(rest) = message.strip_prefix("New session ") {
        let Some((id, user)) = rest.split_once(" of user ") else { return false };
        push_action(event, "session", "session_created", "success");
        event.push("user.name", user.strip_suffix('.').unwrap_or(user));
        event.push("logind.session_id", id);
        return true;
    }
    if let Some(rest) = message.strip_prefix("Removed session ") {
        push_action(event, "session", "session_removed", "success");
        event.push("logind.session_id", rest.strip_suffix('.').unwrap_or(rest));
        return true;
    }
    if let Some(rest) = message.strip_prefix("Session ")
        && let Some((id, _)) = rest.split_once(" logged out.")
    {
        push_action(event, "session", "session_logged_out", "success");
        event.push("logind.session_id", id);
        return true;
    }
    false
}

/// `(root) CMD (command)`.
fn cron(message: &str, event: &mut Event) -> bool {
    let Some(rest) = message.strip_prefix('(') else { return false };
    let Some((user, rest)) = rest.split_once(") CMD (") else { return false };
    push_action(event, "process", "cron_command", "success");
    event.push("user.name", user);
    event.push("process.command_line", rest.strip_suffix(')').unwrap_or(rest));
    true
}

/// useradd, groupadd and userdel messages.
fn shadow(message: &str, event: &mut Event) -> bool {
    if let Some(rest) = message.strip_prefix("new user: ") {
        push_action(event, "iam", "user_created", "success");
        for (key, value) in comma_fields(rest) {
            match key {
                "name" => event.push("user.target.name", value),
                "UID" => event.push("user.target.id", value),
                _ => {}
            }
        }
        return true;
    }
    if let Some(rest) = message.strip_prefix("new group: ") {
        push_action(event, "iam", "group_created", "success");
        for (key, value) in comma_fields(rest) {
            match key {
                "name" => event.push("group.name", value),
                "GID" => event.push("group.id", value),
                _ => {}
            }
        }
        return true;
    }
    if let Some(rest) = message.strip_prefix("failed adding user '") {
        push_action(event, "iam", "user_created", "failure");
        if let Some((user, _)) = rest.split_once('\'') {
            event.push("user.target.name", user);
        }
        return true;
    }
    if let Some(rest) = message.strip_prefix("delete user '") {
        push_action(event, "iam", "user_deleted", "success");
        event.push("user.target.name", rest.strip_suffix('\'').unwrap_or(rest));
        return true;
    }
    false
}

fn comma_fields(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split(", ").filter_map(|pair| pair.split_once('='))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::{Evidence, Schema, SourceRef};

    fn parsed(program: &str, message: &str) -> Event {
        let mut event = Event::new(Schema::Syslog, Evidence::new(SourceRef::new("t")));
        assert!(parse_into(Some(program), message, &mut event), "not parsed: {message}");
        event
    }

    #[test]
    fn sudo_command() {
        let e = parsed("sudo", "  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/vim a ; b");
        assert_eq!(e.get_str("user.name"), Some("alice"));
        assert_eq!(e.get_str("user.target.name"), Some("root"));
        assert_eq!(e.get_str("process.command_line"), Some("/usr/bin/vim a ; b"));
        assert_eq!(e.get_str("event.outcome"), Some("success"));
    }

    #[test]
    fn sudo_refused() {
        let e = parsed("sudo", "bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/sh");
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        assert_eq!(e.get_str("error.message"), Some("3 incorrect password attempts"));
    }

    #[test]
    fn pam_session_with_uid_suffix() {
        let e = parsed("sshd", "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)");
        assert_eq!(e.get_str("event.action"), Some("session_opened"));
        assert_eq!(e.get_str("user.name"), Some("alice"));
        assert_eq!(e.get_str("pam.service"), Some("sshd"));
    }

    #[test]
    fn pam_auth_failure_fields() {
        let e = parsed("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5  user=root");
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        assert_eq!(e.get_str("user.name"), Some("root"));
        assert_eq!(e.get("source.ip"), Some(&Value::Ip("203.0.113.5".parse().unwrap())));
    }

    #[test]
    fn su_forms() {
        let e = parsed("su", "Successful su for root by alice");
        assert_eq!((e.get_str("user.name"), e.get_str("user.target.name")), (Some("alice"), Some("root")));
        let e = parsed("su", "FAILED SU (to root) bob on pts/2");
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        assert_eq!(e.get_str("user.name"), Some("bob"));
    }
}
