//! Feeds arbitrary bytes through the CloudTrail decoder (Records files, arrays, one event per
//! line) and through the single-event entry point that CloudWatch Logs messages use.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_event::{Evidence, SourceRef};
use tocsin_ingest::{decode, decode_bytes_as, Collect, Format, Options};

fuzz_target!(|data: &[u8]| {
    let options = Options { max_buffered_bytes: 1 << 20, ..Options::default() };
    let mut out = Collect::default();
    decode_bytes_as(Format::CloudTrail, "fuzz-input", data, &options, &mut out);

    let _ = decode::cloudtrail::sniff(data);
    let _ = decode::cloudtrail::sniff_digest(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode::cloudtrail::parse_event_text(text, Evidence::new(SourceRef::new("fuzz-message")));
    }
});
