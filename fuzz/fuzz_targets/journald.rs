//! Feeds arbitrary bytes through the journald JSON export decoder as a whole input, and each line through the
//! single-message entry point that CloudWatch Logs messages use.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_event::{Evidence, SourceRef};
use tocsin_ingest::{decode, Collect, Context, FileStats, Options};

fuzz_target!(|data: &[u8]| {
    let options = Options { max_line_bytes: 1 << 16, ..Options::default() };
    let mut out = Collect::default();
    let mut stats = FileStats::default();
    let mut ctx = Context::new(SourceRef::new("fuzz-input"), &options, &mut stats, &mut out);
    let mut reader = data;
    let _ = decode::journald::decode(&mut reader, &mut ctx);

    let text = String::from_utf8_lossy(data);
    for line in text.lines().take(64) {
        let evidence = Evidence::new(ctx.source.clone()).with_index(0);
        let text = line;
        let _ = decode::journald::parse_entry_text(text, evidence);
    }
});
