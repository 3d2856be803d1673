//! sshd messages (OpenSSH `sshd`, and `sshd-session`/`sshd-auth` from OpenSSH 9.8 on) parsed
//! into authentication fields.
//!
//! Each recognised message shape gets a stable `event.action` and an `event.outcome`. Shapes
//! are matched on the whole message, and the user name is read last: everything after the
//! user (`from <ip> port <port> ssh2`) is parsed from the right, so a user name that contains
//! ` from ` or ` port ` cannot move the address. Messages that only close a connection or a
//! session never get the outcome `failure`.

use std::net::IpAddr;

use tocsin_event::{Event, Value};

/// Programs whose messages are sshd messages.
pub(crate) fn is_sshd_program(program: &str) -> bool {
    matches!(program, "sshd" | "sshd-session" | "sshd-auth")
}

/// The fields of a recognised sshd message.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SshMessage<'a> {
    pub action: &'static str,
    pub outcome: &'static str,
    pub user: Option<&'a str>,
    pub invalid_user: Option<bool>,
    pub address: Option<&'a str>,
    pub port: Option<&'a str>,
    pub method: Option<&'a str>,
    pub preauth: bool,
    pub key_type: Option<&'a str>,
    pub key_fingerprint: Option<&'a str>,
    pub disconnect_code: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub destination: Option<(&'a str, &'a str)>,
    pub domain: Option<&'a str>,
}

/// Parses an sshd message and pushes its fields onto `event`. Returns false, pushing
/// nothing, when the message is not one of the known shapes.
pub(crate) fn parse_into(message: &str, event: &mut Event) -> bool {
    match parse(message) {
        Some(parsed) => {
            push_fields(&parsed, event);
            true
        }
        None => false,
    }
}

pub(crate) fn push_fields(m: &SshMessage<'_>, event: &mut Event) {
    event.push("event.category", "authentication");
    event.push("event.action", m.action);
    event.push("event.outcome", m.outcome);
    if let Some(user) = m.user {
        event.push("user.name", user);
    }
    if let Some(invalid) = m.invalid_user {
        event.push("ssh.invalid_user", Value::Bool(invalid));
    }
    if let Some(address) = m.address {
        match address.parse::<IpAddr>() {
            Ok(ip) => event.push("source.ip", Value::Ip(ip)),
            Err(_) => event.push("source.domain", address),
        }
    }
    if let Some(domain) = m.domain {
        event.push("source.domain", domain);
    }
    if let Some(port) = m.port.and_then(|p| p.parse::<i64>().ok()) {
        event.push("source.port", Value::Int(port));
    }
    if let Some((ip, port)) = m.destination {
        if let Ok(ip) = ip.parse::<IpAddr>() {
            event.push("destination.ip", Value::Ip(ip));
        }
        if let Ok(port) = port.parse::<i64>() {
            event.push("destination.port", Value::Int(port));
        }
    }
    if let Some(method) = m.method {
        event.push("ssh.method", method);
    }
    if m.preauth {
        event.push("ssh.preauth", Value::Bool(true));
    }
    if let Some(key_type) = m.key_type {
        event.push("ssh.key.type", key_type);
    }
    if let Some(fingerprint) = m.key_fingerprint {
        event.push("ssh.key.fingerprint", fingerprint);
    }
    if let Some(code) = m.disconnect_code.and_then(|c| c.trim().parse::<i64>().ok()) {
        event.push("ssh.disconnect.code", Value::Int(code));
    }
    if let Some(reason) = m.reason {
        event.push("ssh.disconnect.reason", reason);
    }
}

/// Recognises an sshd message. See the module documentation for the rules.
pub(crate) fn parse(message: &str) -> Option<SshMessage<'_>> {
    let (text, preauth) = match message.strip_suffix(" [preauth]") {
        Some(text) => (text, true),
        None => (message, false),
    };
    let mut parsed = parse_shape(text)?;
    parsed.preauth = preauth;
    Some(parsed)
}

fn parse_shape(text: &str) -> Option<SshMessage<'_>> {
    let first = text.split(' ').next().unwrap_or("");
    match first {
        "Accepted" => login(text.strip_prefix("Accepted ")?, "success"),
        "Failed" => login(text.strip_prefix("Failed ")?, "failure"),
        "Invalid" | "Illegal" => invalid_user(text),
        "input_userauth_request:" => {
            let user = text.strip_prefix("input_userauth_request: invalid user ")?;
            Some(SshMessage { user: Some(user), invalid_user: Some(true), ..msg("ssh_invalid_user", "failure") })
        }
        "Connection" => connection(text),
        "Disconnecting" | "Disconnecting:" => disconnecting(text),
        "error:" => error(text.strip_prefix("error: ")?),
        "fatal:" => fatal(text.strip_prefix("fatal: ")?),
        // OpenSSH 8.x and later log this without `fatal:`.
        "Unable" => fatal(text),
        "drop" => dropped(text),
        "Disconnected" => {
            let rest = text.strip_prefix("Disconnected from ")?;
            let mut m = user_ip_port(rest, msg("ssh_disconnected", "unknown"))?;
            if m.user.is_some() && m.invalid_user.is_none() && rest.starts_with("user ") {
                m.invalid_user = Some(false);
            }
            Some(m)
        }
        "Did" => {
            let rest = text.strip_prefix("Did not receive identification string from ")?;
            Some(address_maybe_port(rest, msg("ssh_no_identification", "unknown")))
        }
        "Bad" => {
            let rest = text.strip_prefix("Bad protocol version identification ")?;
            let at = rest.rfind(" from ")?;
            let (address, port) = ip_port(&rest[at + " from ".len()..])?;
            Some(SshMessage { address: Some(address), port: Some(port), ..msg("ssh_bad_protocol", "unknown") })
        }
        "banner" => {
            let rest = text.strip_prefix("banner exchange: Connection from ")?;
            let (head, _) = rest.split_once(": ")?;
            let (address, port) = ip_port(head)?;
            Some(SshMessage { address: Some(address), port: Some(port), ..msg("ssh_bad_protocol", "unknown") })
        }
        "reverse" => {
            // reverse mapping checking getaddrinfo for <host> [<ip>] failed - POSSIBLE BREAK-IN ATTEMPT!
            let rest = text.strip_prefix("reverse mapping checking getaddrinfo for ")?;
            let rest = rest.strip_suffix(" failed - POSSIBLE BREAK-IN ATTEMPT!")?;
            let (host, ip) = rest.rsplit_once(" [")?;
            let ip = ip.strip_suffix(']')?;
            Some(SshMessage { address: Some(ip), domain: Some(host), ..msg("ssh_break_in_attempt", "unknown") })
        }
        "Address" => {
            // Address <ip> maps to <host>, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!
            let rest = text.strip_prefix("Address ")?;
            let rest = rest.strip_suffix(", but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!")?;
            let (ip, host) = rest.split_once(" maps to ")?;
            Some(SshMessage { address: Some(ip), domain: Some(host), ..msg("ssh_break_in_attempt", "unknown") })
        }
        "User" => user_not_allowed(text),
        "Starting" => {
            // Starting session: shell on pts/0 for <user> from <ip> port <port> id 0
            let rest = text.strip_prefix("Starting session: ")?;
            let rest = strip_session_id(rest);
            let (head, address, port) = from_ip_port(rest)?;
            let user = head.split_once(" for ").map(|(_, user)| user)?;
            Some(SshMessage { user: Some(user), address: Some(address), port: Some(port), ..msg("ssh_session_start", "success") })
        }
        "Close" => {
            // Close session: user <user> from <ip> port <port> id 0
            let rest = text.strip_prefix("Close session: user ")?;
            let (user, address, port) = from_ip_port(strip_session_id(rest))?;
            Some(SshMessage { user: Some(user), address: Some(address), port: Some(port), ..msg("ssh_session_close", "success") })
        }
        "Timeout" => {
            let rest = text.strip_prefix("Timeout before authentication for ")?;
            let (address, port) = ip_port(rest)?;
            Some(SshMessage { address: Some(address), port: Some(port), ..msg("ssh_auth_timeout", "failure") })
        }
        "Received" if text.starts_with("Received signal ") && text.ends_with("; terminating.") => {
            Some(msg("ssh_server_stop", "success"))
        }
        "Received" => received(text),
        "Server" => {
            let rest = text.strip_prefix("Server listening on ")?;
            let rest = rest.strip_suffix('.').unwrap_or(rest);
            let (address, port) = ip_port(rest)?;
            Some(SshMessage { destination: Some((address, port)), ..msg("ssh_server_listening", "success") })
        }
        _ if text.starts_with("PAM service(") && text.contains(") ignoring max retries; ") => {
            Some(msg("ssh_max_auth_exceeded", "failure"))
        }
        _ => None,
    }
}

fn msg(action: &'static str, outcome: &'static str) -> SshMessage<'static> {
    SshMessage { action, outcome, ..SshMessage::default() }
}

/// `<method> for [invalid user ]<user> from <ip> port <port> <protocol>[: <key>]`, the part
/// after `Accepted ` or `Failed `.
fn login<'a>(text: &'a str, outcome: &'static str) -> Option<SshMessage<'a>> {
    let (method, rest) = text.split_once(" for ")?;
    if method.is_empty() || method.contains(' ') {
        return None;
    }
    let (rest, key) = match rest.rfind(" ssh2: ") {
        Some(at) => (&rest[..at + " ssh2".len()], Some(&rest[at + " ssh2: ".len()..])),
        None => (rest, None),
    };
    let rest = rest.strip_suffix(" ssh2").or_else(|| rest.strip_suffix(" ssh1")).unwrap_or(rest);
    let (user, address, port) = from_ip_port(rest)?;
    let (user, invalid) = strip_invalid(user);
    let (key_type, key_fingerprint) = match key.and_then(|k| k.split_once(' ')) {
        Some((kind, rest)) => (Some(kind), Some(rest.split(' ').next().unwrap_or(rest))),
        None => (None, None),
    };
    Some(SshMessage {
        user: Some(user),
        invalid_user: Some(invalid),
        address: Some(address),
        port: Some(port),
        method: Some(method),
        key_type,
        key_fingerprint,
        ..msg("ssh_login", outcome)
    })
}

/// `Invalid user <user> from <ip>[ port <port>]` (`Illegal user` in old OpenSSH).
fn invalid_user(text: &str) -> Option<SshMessage<'_>> {
    let rest = text.strip_prefix("Invalid user ").or_else(|| text.strip_prefix("Illegal user "))?;
    let at = rest.rfind(" from ")?;
    let user = &rest[..at];
    let m = address_maybe_port(&rest[at + " from ".len()..], msg("ssh_invalid_user", "failure"));
    Some(SshMessage { user: Some(user), invalid_user: Some(true), ..m })
}

/// `Connection closed|reset by [authenticating user <u> |invalid user <u> ]<ip>[ port <p>]`
/// and `Connection from <ip> port <p> on <ip> port <p>[ rdomain "<d>"]`.
fn connection(text: &str) -> Option<SshMessage<'_>> {
    if let Some(rest) = text.strip_prefix("Connection closed by ") {
        return Some(by_user_address(rest, msg("ssh_connection_closed", "unknown")));
    }
    if let Some(rest) = text.strip_prefix("Connection reset by ") {
        return Some(by_user_address(rest, msg("ssh_connection_reset", "unknown")));
    }
    let rest = text.strip_prefix("Connection from ")?;
    let rest = match rest.find(" rdomain ") {
        Some(at) => &rest[..at],
        None => rest,
    };
    let (source, destination) = rest.split_once(" on ")?;
    let (address, port) = ip_port(source)?;
    let destination = ip_port(destination)?;
    Some(SshMessage { address: Some(address), port: Some(port), destination: Some(destination), ..msg("ssh_connection", "unknown") })
}

/// `[authenticating user <u> |invalid user <u> |user <u> ]<ip>[ port <p>]`.
fn by_user_address<'a>(rest: &'a str, base: SshMessage<'a>) -> SshMessage<'a> {
    match user_ip_port(rest, base) {
        Some(m) => m,
        None => address_maybe_port(rest, base),
    }
}

/// `[authenticating user <u> |invalid user <u> |user <u> ]<ip> port <p>`.
fn user_ip_port<'a>(rest: &'a str, base: SshMessage<'a>) -> Option<SshMessage<'a>> {
    let (address, port) = ip_port(rest)?;
    let head = rest[..rest.len() - address.len() - " port ".len() - port.len()].trim_end();
    let mut m = SshMessage { address: Some(address), port: Some(port), ..base };
    if let Some(user) = head.strip_prefix("authenticating user ") {
        m.user = Some(user);
    } else if let Some(user) = head.strip_prefix("invalid user ") {
        m.user = Some(user);
        m.invalid_user = Some(true);
    } else if let Some(user) = head.strip_prefix("user ") {
        m.user = Some(user);
    } else if !head.is_empty() {
        return None;
    }
    Some(m)
}

/// `Disconnecting: Too many authentication failures[ for <user>]` and
/// `Disconnecting invalid|authenticating user <u> <ip> port <p>: Too many authentication failures`.
fn disconnecting(text: &str) -> Option<SshMessage<'_>> {
    if let Some(rest) = text.strip_prefix("Disconnecting: ") {
        let mut m = msg("ssh_disconnect", "unknown");
        if let Some(after) = rest.strip_prefix("Too many authentication failures") {
            m = msg("ssh_max_auth_exceeded", "failure");
            if let Some(user) = after.strip_prefix(" for ") {
                let (user, invalid) = strip_invalid(user);
                m.user = Some(user);
                m.invalid_user = invalid.then_some(true);
            }
        } else {
            m.reason = Some(rest);
        }
        return Some(m);
    }
    let rest = text.strip_prefix("Disconnecting ")?;
    let (head, reason) = rest.split_once(": ")?;
    let base = if reason.starts_with("Too many authentication failures") {
        msg("ssh_max_auth_exceeded", "failure")
    } else {
        SshMessage { reason: Some(reason), ..msg("ssh_disconnect", "unknown") }
    };
    user_ip_port(head, base)
}

/// `Received disconnect from <ip> port <p>:<code>: <reason>` and the older
/// `Received disconnect from <ip>: <code>: <reason>`.
fn received(text: &str) -> Option<SshMessage<'_>> {
    let rest = text.strip_prefix("Received disconnect from ")?;
    // Split at the first ": " or ":<digit>" after the address; an IPv6 address has colons
    // too, so the address part is found by the " port " marker when there is one.
    let (head, tail) = match rest.find(" port ") {
        Some(at) => {
            let after = &rest[at + " port ".len()..];
            let colon = after.find(':')?;
            (&rest[..at + " port ".len() + colon], &after[colon + 1..])
        }
        None => rest.split_once(": ")?,
    };
    let (code, reason) = match tail.split_once(':') {
        Some((code, reason)) if code.trim().bytes().all(|b| b.is_ascii_digit()) => (Some(code.trim()), reason.trim()),
        _ => (None, tail.trim()),
    };
    // Code 14 is SSH2_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE: the client gave up
    // authenticating.
    let outcome = if code == Some("14") { "failure" } else { "unknown" };
    let m = SshMessage {
        disconnect_code: code,
        reason: (!reason.is_empty()).then_some(reason),
        ..msg("ssh_disconnect", outcome)
    };
    Some(by_user_address(head, m))
}

fn error(text: &str) -> Option<SshMessage<'_>> {
    if let Some(rest) = text.strip_prefix("maximum authentication attempts exceeded for ") {
        let rest = rest.strip_suffix(" ssh2").unwrap_or(rest);
        let (user, address, port) = from_ip_port(rest)?;
        let (user, invalid) = strip_invalid(user);
        return Some(SshMessage {
            user: Some(user),
            invalid_user: Some(invalid),
            address: Some(address),
            port: Some(port),
            ..msg("ssh_max_auth_exceeded", "failure")
        });
    }
    if text.starts_with("Received disconnect from ") {
        return received(text);
    }
    if text.starts_with("kex_exchange_identification: ") {
        return Some(msg("ssh_bad_protocol", "unknown"));
    }
    if let Some(rest) = text.strip_prefix("PAM: Authentication failure for ") {
        let at = rest.rfind(" from ")?;
        let (user, invalid) = strip_invalid(&rest[..at]);
        return Some(SshMessage {
            user: Some(user),
            invalid_user: Some(invalid),
            address: Some(&rest[at + " from ".len()..]),
            method: Some("password"),
            ..msg("ssh_login", "failure")
        });
    }
    None
}

fn fatal(text: &str) -> Option<SshMessage<'_>> {
    if let Some(rest) = text.strip_prefix("Unable to negotiate with ") {
        let (head, reason) = rest.split_once(": ")?;
        let (address, port) = ip_port(head)?;
        return Some(SshMessage {
            address: Some(address),
            port: Some(port),
            reason: Some(reason),
            ..msg("ssh_negotiation_failed", "failure")
        });
    }
    if text.starts_with("Write failed: Connection reset by peer") || text.starts_with("Read from socket failed: Connection reset by peer") {
        return Some(msg("ssh_connection_reset", "unknown"));
    }
    None
}

/// `drop connection #0 from [<ip>]:<port> on [<ip>]:<port> <reason>`, written when sshd
/// refuses a connection because of `MaxStartups` or `PerSourcePenalties` (OpenSSH 9.8 on).
fn dropped(text: &str) -> Option<SshMessage<'_>> {
    let rest = text.strip_prefix("drop connection #")?;
    let (_, rest) = rest.split_once(" from [")?;
    let (address, rest) = rest.split_once("]:")?;
    let port_end = rest.find(' ').unwrap_or(rest.len());
    let port = &rest[..port_end];
    let after_on = rest[port_end..].trim_start().strip_prefix("on ").unwrap_or("");
    let reason = after_on.split_once(' ').map(|(_, reason)| reason.trim()).filter(|r| !r.is_empty());
    Some(SshMessage { address: Some(address), port: Some(port), reason, ..msg("ssh_connection_dropped", "failure") })
}

/// `User <u> from <ip> not allowed because <reason>` and `User <u> not allowed because <reason>`.
fn user_not_allowed(text: &str) -> Option<SshMessage<'_>> {
    let rest = text.strip_prefix("User ")?;
    let at = rest.rfind(" not allowed because ")?;
    let reason = &rest[at + " not allowed because ".len()..];
    let head = &rest[..at];
    let (user, address) = match head.rfind(" from ") {
        Some(from) => (&head[..from], Some(&head[from + " from ".len()..])),
        None => (head, None),
    };
    Some(SshMessage { user: Some(user), address, reason: Some(reason), ..msg("ssh_user_not_allowed", "failure") })
}

/// Splits `<head> from <ip> port <port>` from the right.
fn from_ip_port(text: &str) -> Option<(&str, &str, &str)> {
    let (address, port) = ip_port(text)?;
    let head = &text[..text.len() - address.len() - " port ".len() - port.len()];
    let head = head.strip_suffix(" from ")?;
    Some((head, address, port))
}

/// Splits `... <address> port <port>` from the right and returns the address and the port.
fn ip_port(text: &str) -> Option<(&str, &str)> {
    let (head, port) = text.rsplit_once(" port ")?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let address = head.rsplit(' ').next().unwrap_or(head);
    if address.is_empty() {
        return None;
    }
    Some((address, port))
}

/// `<ip>` or `<ip> port <port>`.
fn address_maybe_port<'a>(text: &'a str, base: SshMessage<'a>) -> SshMessage<'a> {
    match ip_port(text) {
        Some((address, port)) if text.len() == address.len() + " port ".len() + port.len() => {
            SshMessage { address: Some(address), port: Some(port), ..base }
        }
        _ => SshMessage { address: (!text.is_empty() && !text.contains(' ')).then_some(text), ..base },
    }
}

fn strip_invalid(user: &str) -> (&str, bool) {
    match user.strip_prefix("invalid user ").or_else(|| user.strip_prefix("illegal user ")) {
        Some(user) => (user, true),
        None => (user, false),
    }
}

fn strip_session_id(text: &str) -> &str {
    match text.rfind(" id ") {
        Some(at) if text[at + 4..].bytes().all(|b| b.is_ascii_digit()) => &text[..at],
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> SshMessage<'_> {
        parse(text).unwrap_or_else(|| panic!("not parsed: {text}"))
    }

    #[test]
    fn accepted_publickey_with_key() {
        let m = p("Accepted publickey for alice from 192.0.2.9 port 51000 ssh2: RSA SHA256:abc");
        assert_eq!((m.action, m.outcome), ("ssh_login", "success"));
        assert_eq!(m.user, Some("alice"));
        assert_eq!(m.address, Some("192.0.2.9"));
        assert_eq!(m.port, Some("51000"));
        assert_eq!(m.method, Some("publickey"));
        assert_eq!(m.key_type, Some("RSA"));
        assert_eq!(m.key_fingerprint, Some("SHA256:abc"));
    }

    #[test]
    fn failed_invalid_user_with_spaces() {
        let m = p("Failed password for invalid user  0101 from 203.0.113.4 port 22 ssh2");
        assert_eq!(m.outcome, "failure");
        assert_eq!(m.user, Some(" 0101"));
        assert_eq!(m.invalid_user, Some(true));
    }

    #[test]
    fn user_name_cannot_move_address() {
        let m = p("Failed password for invalid user x from 192.0.2.1 port 1 from 203.0.113.9 port 2222 ssh2");
        assert_eq!(m.user, Some("x from 192.0.2.1 port 1"));
        assert_eq!(m.address, Some("203.0.113.9"));
        assert_eq!(m.port, Some("2222"));
    }

    #[test]
    fn disconnecting_too_many_failures() {
        let m = p("Disconnecting invalid user git 203.0.113.10 port 58410: Too many authentication failures [preauth]");
        assert_eq!((m.action, m.outcome), ("ssh_max_auth_exceeded", "failure"));
        assert_eq!((m.user, m.invalid_user, m.address, m.port), (Some("git"), Some(true), Some("203.0.113.10"), Some("58410")));
        assert!(m.preauth);
        let m = p("Disconnecting authenticating user root 2001:db8::10 port 60158: Too many authentication failures [preauth]");
        assert_eq!((m.user, m.address), (Some("root"), Some("2001:db8::10")));
    }

    #[test]
    fn received_disconnect_forms() {
        let m = p("Received disconnect from 192.0.2.3 port 5000:11: disconnected by user");
        assert_eq!((m.address, m.port, m.disconnect_code, m.reason), (Some("192.0.2.3"), Some("5000"), Some("11"), Some("disconnected by user")));
        let m = p("Received disconnect from 192.0.2.3: 11: Bye Bye [preauth]");
        assert_eq!((m.address, m.port, m.disconnect_code, m.reason), (Some("192.0.2.3"), None, Some("11"), Some("Bye Bye")));
        let m = p("Received disconnect from 2001:db8::1 port 5000:11:  [preauth]");
        assert_eq!((m.address, m.reason), (Some("2001:db8::1"), None));
        let m = p("error: Received disconnect from 192.0.2.3: 14: No more user authentication methods available. [preauth]");
        assert_eq!(m.outcome, "failure");
    }

    #[test]
    fn close_session_is_success() {
        let m = p("Close session: user deploy from 192.0.2.50 port 34928 id 0");
        assert_eq!((m.action, m.outcome, m.user, m.port), ("ssh_session_close", "success", Some("deploy"), Some("34928")));
    }

    #[test]
    fn newer_openssh_shapes() {
        let m = p("drop connection #0 from [203.0.113.7]:51234 on [192.0.2.1]:22 penalty: failed authentication");
        assert_eq!((m.action, m.address, m.port), ("ssh_connection_dropped", Some("203.0.113.7"), Some("51234")));
        assert_eq!(m.reason, Some("penalty: failed authentication"));
        let m = p("Unable to negotiate with 203.0.113.8 port 4000: no matching host key type found. Their offer: ssh-rsa [preauth]");
        assert_eq!((m.action, m.address), ("ssh_negotiation_failed", Some("203.0.113.8")));
        let m = p("error: kex_exchange_identification: Connection closed by remote host");
        assert_eq!(m.action, "ssh_bad_protocol");
    }

    proptest::proptest! {
        /// Whatever the client sends as user name, the address and port come from the end of
        /// the line.
        #[test]
        fn user_name_never_moves_address(user in "[ -~]{0,40}", a in 0u8..=255, port in 1u16..) {
            let address = format!("198.51.100.{a}");
            let line = format!("Failed password for invalid user {user} from {address} port {port} ssh2");
            let m = parse(&line).unwrap();
            let port = port.to_string();
            proptest::prop_assert_eq!(m.user, Some(user.as_str()));
            proptest::prop_assert_eq!(m.address, Some(address.as_str()));
            proptest::prop_assert_eq!(m.port, Some(port.as_str()));
        }
    }

    #[test]
    fn unknown_shape() {
        assert!(parse("User child is on pid 1237").is_none());
        assert!(parse("Accepted").is_none());
        assert!(parse("").is_none());
    }
}
