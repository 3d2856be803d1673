//! Feeds arbitrary bytes through the EVTX decoder, on one thread, or on two when the last byte
//! is odd (starting a thread pool per input is slow, so only some inputs pay for it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_event::SourceRef;
use tocsin_ingest::{decode, Collect, Context, FileStats, Options};

fuzz_target!(|data: &[u8]| {
    let threads = if data.last().is_some_and(|b| b & 1 == 1) { 2 } else { 1 };
    let options = Options { evtx_threads: threads, ..Options::default() };
    let mut out = Collect::default();
    let mut stats = FileStats::default();
    let mut ctx = Context::new(SourceRef::new("fuzz-input.evtx"), &options, &mut stats, &mut out);
    decode::evtx::decode(data, &mut ctx);
});
