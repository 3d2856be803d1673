//! Feeds arbitrary bytes through the three CloudWatch Logs decoders: subscription payloads
//! (base64, gzip, JSON envelopes, Firehose and Lambda bodies), CLI output, and S3 export text.
//! Inner messages go on to the other decoders through `decode_message`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_ingest::{decode_bytes_as, Collect, Format, Options};

fuzz_target!(|data: &[u8]| {
    let options = Options {
        max_line_bytes: 1 << 16,
        max_buffered_bytes: 1 << 20,
        max_decompressed_bytes: 1 << 20,
        ..Options::default()
    };
    for format in [Format::CloudWatchSubscription, Format::CloudWatchEvents, Format::CloudWatchExport] {
        let mut out = Collect::default();
        decode_bytes_as(format, "fuzz-input", data, &options, &mut out);
    }
});
