//! Feeds arbitrary bytes through the Windows event XML decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_event::SourceRef;
use tocsin_ingest::{decode, Collect, Context, FileStats, Options};

fuzz_target!(|data: &[u8]| {
    let options = Options { max_line_bytes: 1 << 16, ..Options::default() };
    let mut out = Collect::default();
    let mut stats = FileStats::default();
    let mut ctx = Context::new(SourceRef::new("fuzz-input.xml"), &options, &mut stats, &mut out);
    let mut reader = data;
    let _ = decode::winxml::decode(&mut reader, &mut ctx);
});
