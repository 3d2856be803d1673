//! Windows decoders (EVTX, event XML, JSON lines) over the public samples and hand-made inputs.

mod common;

use std::path::{Path, PathBuf};

use tocsin_event::Value;
use tocsin_ingest::{Collect, Event, FileStats, Format, Location, Options};

use common::{decode_file, decode_file_with, local_data, test_data};

/// Splits one CSV line into fields, with `"..."` quoting and `""` escapes.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Reads `(relative path, record count)` pairs from an INDEX.csv that has `file` and `records`
/// columns (counts made with another EVTX parser).
fn index_counts(folder: &Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(folder.join("INDEX.csv")).expect("INDEX.csv is readable");
    let mut lines = text.lines();
    let header = csv_fields(lines.next().expect("INDEX.csv has a header"));
    let file_column = header.iter().position(|h| h == "file").expect("INDEX.csv has a file column");
    let records_column = header.iter().position(|h| h == "records").expect("INDEX.csv has a records column");
    lines
        .filter(|line| !line.trim().is_empty())
        .map(csv_fields)
        .filter(|fields| fields[file_column].ends_with(".evtx"))
        .map(|fields| (fields[file_column].clone(), fields[records_column].parse().expect("records is a number")))
        .collect()
}

fn evtx_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "evtx") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn one_stats(stats: &[FileStats]) -> &FileStats {
    assert_eq!(stats.len(), 1, "one input expected, got {stats:?}");
    &stats[0]
}

/// Decodes every EVTX file of a folder and compares its event count with INDEX.csv.
fn check_evtx_folder(name: &str) -> usize {
    let Some(folder) = test_data(name) else { return 0 };
    let counts = index_counts(&folder);
    assert!(!counts.is_empty(), "{name}/INDEX.csv lists no EVTX file");
    let mut mismatches = Vec::new();
    for (relative, expected) in &counts {
        let path = folder.join(relative);
        let (out, stats) = decode_file(&path);
        let stats = one_stats(&stats);
        assert_eq!(stats.format, Some(Format::Evtx), "{relative}");
        for error in &out.errors {
            eprintln!("ERR {error}");
        }
        if out.events.len() as u64 != *expected {
            mismatches.push(format!("{relative}: {} events, INDEX.csv says {expected}; errors: {:?}", out.events.len(), out.errors));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(evtx_files(&folder).len(), counts.len(), "{name}: every EVTX file is listed in INDEX.csv");
    counts.len()
}

#[test]
fn evtx_counts_sbousseaden() {
    check_evtx_folder("sbousseaden-evtx-attack-samples");
}

#[test]
fn evtx_counts_evtx_to_mitre_attack() {
    check_evtx_folder("evtx-to-mitre-attack");
}

#[test]
fn evtx_counts_deepbluecli() {
    check_evtx_folder("deepbluecli");
}

/// sigma-regression-data has no record counts in its INDEX.csv; every case there has the same
/// events as JSON next to the EVTX file (one JSON document per record, made with another
/// parser), so the count of documents is the independent count.
#[test]
fn evtx_counts_sigma_regression() {
    let Some(folder) = test_data("sigma-regression-data") else { return };
    let files = evtx_files(&folder);
    assert!(files.len() > 100);
    let mut mismatches = Vec::new();
    for path in &files {
        let json_path = path.with_extension("json");
        let Ok(json) = std::fs::read_to_string(&json_path) else { continue };
        let expected = count_json_documents(&json);
        let (out, _) = decode_file(path);
        if out.events.len() != expected {
            mismatches.push(format!("{}: {} events, {expected} JSON documents; errors {:?}", path.display(), out.events.len(), out.errors));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

fn count_json_documents(text: &str) -> usize {
    let mut count = 0;
    for document in serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>() {
        match document.expect("valid JSON") {
            serde_json::Value::Array(items) => count += items.len(),
            _ => count += 1,
        }
    }
    count
}
