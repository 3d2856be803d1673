//! Fields added to events after decoding, where one format carries another inside it.

use tocsin_event::{Event, Schema};

use crate::decode::syslog::sshd;

/// Channel of OpenSSH for Windows, whose events carry the sshd message in `payload`.
const OPENSSH_CHANNEL: &str = "OpenSSH/Operational";

/// Parses what an event carries inside it: the sshd message of an OpenSSH for Windows event
/// gets the same fields as the line in a Linux auth.log (`event.action`, `source.ip`,
/// `user.name`, …), so one set of SSH rules covers both.
pub(crate) fn enrich(event: &mut Event) {
    if event.schema != Schema::Windows {
        return;
    }
    if !event.get_source("Channel").and_then(|v| v.as_str()).is_some_and(|c| c.eq_ignore_ascii_case(OPENSSH_CHANNEL)) {
        return;
    }
    let Some(payload) = event.get_source("payload").and_then(|v| v.as_str()).map(str::to_owned) else {
        return;
    };
    sshd::parse_into(&payload, event);
}
