//! Replays the cargo-fuzz corpora in `fuzz/corpus/` through the same entry points as the fuzz
//! targets, so every input a fuzzer once found interesting (crashes included, once fixed) is
//! checked on every test run without a fuzzing toolchain.

use std::path::Path;

use tocsin_ingest::{decode_bytes_as, decode_bytes_input, Collect, Format, Options};

/// The fuzz targets that force one format, by corpus folder name.
const TARGETS: &[(&str, Option<Format>)] = &[
    ("sniff_any", None),
    ("evtx", Some(Format::Evtx)),
    ("winxml", Some(Format::WindowsXml)),
    ("winjson", Some(Format::WindowsJson)),
    ("syslog", Some(Format::Syslog)),
    ("journald", Some(Format::Journald)),
    ("auditd", Some(Format::Auditd)),
    ("vpcflow", Some(Format::VpcFlow)),
    ("cloudtrail", Some(Format::CloudTrail)),
    ("cloudwatch", Some(Format::CloudWatchSubscription)),
    ("findings", Some(Format::GuardDuty)),
];

#[test]
fn fuzz_corpora_replay_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let options = Options { max_buffered_bytes: 1 << 24, max_decompressed_bytes: 1 << 24, ..Options::default() };
    let mut replayed = 0;

    for (target, format) in TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let name = path.display().to_string();
            let mut out = Collect::default();
            match format {
                Some(format) => {
                    decode_bytes_as(*format, &name, &data, &options, &mut out);
                }
                None => {
                    decode_bytes_input(&name, &data, &options, &mut out);
                }
            }
            replayed += 1;
        }
    }

    assert!(replayed > 0, "no corpus found under {}", root.display());
}
