//! Feeds arbitrary bytes through the VPC Flow Logs decoder, with the default layout and with a
//! configured custom format, and each line through the single-record entry point that
//! CloudWatch Logs messages use.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_event::{Evidence, SourceRef};
use tocsin_ingest::{decode, decode_bytes_as, Collect, Format, Options};

fuzz_target!(|data: &[u8]| {
    let options = Options { max_line_bytes: 1 << 16, ..Options::default() };
    let mut out = Collect::default();
    decode_bytes_as(Format::VpcFlow, "fuzz-input", data, &options, &mut out);

    let custom = Options {
        flow_log_format: Some("${version} ${vpc-id} ${srcaddr} ${dstport} ${start} ${log-status} ${future-field}".to_string()),
        ..options
    };
    let mut out = Collect::default();
    decode_bytes_as(Format::VpcFlow, "fuzz-input", data, &custom, &mut out);

    let text = String::from_utf8_lossy(data);
    for line in text.lines().take(64) {
        if decode::vpcflow::sniff_record(line.as_bytes()) {
            let _ = decode::vpcflow::parse_default_record(line, Evidence::new(SourceRef::new("fuzz-message")));
        }
    }
});
