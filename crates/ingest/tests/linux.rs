//! Linux decoders over the public samples (elastic auth.log, loghub OpenSSH, go-libaudit,
//! OTRF) and over small hand-made inputs in tests/data/linux.

mod common;

use tocsin_ingest::Options;

#[test]
fn zz_debug_unparsed() {
    let Some(dir) = common::test_data("elastic-examples-auth-log") else { return };
    for path in [dir.join("auth.log"), dir.join("../loghub/OpenSSH/OpenSSH_2k.log")] {
        let (out, _) = common::decode_file_with(&path, &Options { year: Some(2017), ..Options::default() });
        let mut seen = std::collections::BTreeMap::new();
        for e in &out.events {
            if e.get("event.action").is_none() {
                let p = e.get_str("process.name").unwrap_or("").to_string();
                let m: String = e.get_str("message").unwrap_or("").chars().take(50).collect();
                *seen.entry((p, m)).or_insert(0) += 1;
            }
        }
        for (k, v) in seen { println!("{v} {k:?}"); }
    }
}
