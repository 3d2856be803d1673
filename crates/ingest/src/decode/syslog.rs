//! Syslog: RFC 3164, RFC 5424, with sshd messages parsed.
use std::io::{self, BufRead};

#[allow(unused_imports)]
use tocsin_event::{Event, Evidence, Timestamp};

use crate::Context;

pub fn sniff(head: &[u8]) -> bool { let _ = head; false }

pub fn decode(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let _ = reader;
    ctx.error(crate::Location::File, "decoder not built yet");
    Ok(())
}

pub fn parse_message(text: &str, evidence: Evidence, received: Option<Timestamp>, ctx: &Context<'_>) -> Result<Event, String> { let _ = (text, evidence, received, ctx); Err("not built yet".into()) }
