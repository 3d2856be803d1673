//! Test-only access to the public log samples.
//!
//! Tests that need the shared samples call [`test_data`]. The samples live outside the
//! repository (some are GPL or research-only and cannot be copied in), in the folder named by
//! `TOCSIN_TEST_DATA`. Without it a test is skipped and says so; under `CI=true` the absence
//! is a failure, so CI never passes by skipping.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Returns the folder or file `name` under `TOCSIN_TEST_DATA`, or `None` after noting that
/// the calling test is skipped. Panics under `CI=true` when the samples are missing.
pub fn test_data(name: &str) -> Option<PathBuf> {
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");

    let Some(root) = std::env::var_os("TOCSIN_TEST_DATA") else {
        assert!(!in_ci, "{test}: TOCSIN_TEST_DATA is not set, and CI=true requires the shared samples");
        note_skip(&format!("skipped {test}: TOCSIN_TEST_DATA is not set"));
        return None;
    };

    let path = Path::new(&root).join(name);
    if !path.exists() {
        assert!(!in_ci, "{test}: {} does not exist", path.display());
        note_skip(&format!("skipped {test}: {} does not exist", path.display()));
        return None;
    }
    Some(path)
}

/// Returns the sample folder for benchmarks and examples: `TOCSIN_TEST_DATA`, else the folder
/// `shared/data` beside the checkout when it exists (where `scripts/test` also looks).
pub fn bench_data() -> Option<PathBuf> {
    if let Some(root) = std::env::var_os("TOCSIN_TEST_DATA") {
        return Some(PathBuf::from(root));
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    beside.is_dir().then_some(beside)
}

/// Returns the files under `dir`, at any depth, whose names end in `.{extension}`, sorted. An
/// unreadable folder gives no files.
pub fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect(dir, extension, &mut files);
    files.sort();
    files
}

fn collect(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

/// Prints a skip notice and appends it to the file named by `TOCSIN_SKIP_LOG`, which
/// `scripts/test` lists at the end of the run (the test harness hides a passing test's output).
pub fn note_skip(line: &str) {
    eprintln!("{line}");
    if let Some(log) = std::env::var_os("TOCSIN_SKIP_LOG")
        && let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(log)
    {
        let _ = writeln!(file, "{line}");
    }
}

/// Returns whether tests run under CI, where a missing service or sample is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}
