//! Feeds arbitrary bytes through format detection, archive handling and whichever decoder
//! the content selects, as `tocsin events` does with an unknown file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_ingest::{decode_bytes_input, Collect, Options};

fuzz_target!(|data: &[u8]| {
    let options = Options { max_buffered_bytes: 1 << 24, max_decompressed_bytes: 1 << 24, ..Options::default() };
    let mut out = Collect::default();
    decode_bytes_input("fuzz-input", data, &options, &mut out);
});
