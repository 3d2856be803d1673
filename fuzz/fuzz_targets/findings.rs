//! Feeds arbitrary bytes through the GuardDuty and Security Hub findings decoders (API
//! output, EventBridge events, one finding per line).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_ingest::{decode, decode_bytes_as, Collect, Format, Options};

fuzz_target!(|data: &[u8]| {
    let options = Options { max_buffered_bytes: 1 << 20, ..Options::default() };
    for format in [Format::GuardDuty, Format::SecurityHub] {
        let mut out = Collect::default();
        decode_bytes_as(format, "fuzz-input", data, &options, &mut out);
    }
    let _ = decode::findings::sniff_guardduty(data);
    let _ = decode::findings::sniff_securityhub(data);
});
