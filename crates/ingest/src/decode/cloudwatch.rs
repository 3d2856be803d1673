//! CloudWatch Logs.
use std::io::{self, BufRead};

#[allow(unused_imports)]
use tocsin_event::{Event, Evidence, Timestamp};

use crate::Context;

pub fn sniff_subscription(head: &[u8]) -> bool { let _ = head; false }
pub fn sniff_base64_subscription(head: &[u8]) -> bool { let _ = head; false }
pub fn sniff_events(head: &[u8]) -> bool { let _ = head; false }
pub fn sniff_export(head: &[u8]) -> bool { let _ = head; false }

pub fn decode_subscription(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let _ = reader;
    ctx.error(crate::Location::File, "decode_subscriptionr not built yet");
    Ok(())
}
pub fn decode_events(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let _ = reader;
    ctx.error(crate::Location::File, "decode_eventsr not built yet");
    Ok(())
}
pub fn decode_export(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let _ = reader;
    ctx.error(crate::Location::File, "decode_exportr not built yet");
    Ok(())
}
#[allow(unused)] fn _unused(_: Event, _: Evidence, _: Timestamp) {}
