//! AWS CloudTrail.
use std::io::{self, BufRead};

#[allow(unused_imports)]
use tocsin_event::{Event, Evidence, Timestamp};

use crate::Context;

pub fn sniff(head: &[u8]) -> bool { let _ = head; false }
pub fn sniff_digest(head: &[u8]) -> bool { let _ = head; false }

pub fn decode(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let _ = reader;
    ctx.error(crate::Location::File, "decoder not built yet");
    Ok(())
}

pub fn parse_event_text(text: &str, evidence: Evidence) -> Result<Event, String> { let _ = (text, evidence); Err("not built yet".into()) }
