//! GuardDuty and Security Hub findings.
use std::io::{self, BufRead};

#[allow(unused_imports)]
use tocsin_event::{Event, Evidence, Timestamp};

use crate::Context;

pub fn sniff_guardduty(head: &[u8]) -> bool { let _ = head; false }
pub fn sniff_securityhub(head: &[u8]) -> bool { let _ = head; false }

pub fn decode_guardduty(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let _ = reader;
    ctx.error(crate::Location::File, "decode_guarddutyr not built yet");
    Ok(())
}
pub fn decode_securityhub(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let _ = reader;
    ctx.error(crate::Location::File, "decode_securityhubr not built yet");
    Ok(())
}
#[allow(unused)] fn _unused(_: Event, _: Evidence, _: Timestamp) {}
