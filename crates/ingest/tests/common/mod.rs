//! Shared helpers for the integration tests over the public log samples.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tocsin_ingest::{decode_path, Collect, FileStats, Options};

#[allow(unused_imports)]
pub use tocsin_testdata::{note_skip, test_data};

/// Decodes one file with default options and returns its events, errors and stats.
pub fn decode_file(path: &Path) -> (Collect, Vec<FileStats>) {
    decode_file_with(path, &Options::default())
}

pub fn decode_file_with(path: &Path, options: &Options) -> (Collect, Vec<FileStats>) {
    let mut out = Collect::default();
    let stats = decode_path(path, options, &mut out);
    (out, stats)
}

/// Path of a hand-made input under crates/ingest/tests/data.
pub fn local_data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(relative)
}
