//! CloudTrail→Event on one thread, over the Invictus delivery files (`{"Records": [...]}`)
//! and the Stratus Red Team detonation logs (JSON arrays).
//!
//! The files (`TOCSIN_TEST_DATA`, else `shared/data` beside the checkout) are read into memory first, so
//! that only decoding is measured: splitting, JSON parsing, flattening and the derived ECS
//! fields. Each corpus is measured twice, once reported in events and once in bytes.
//! Run: `cargo bench -p tocsin-ingest --bench cloudtrail`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tocsin_event::SourceRef;
use tocsin_ingest::{decode, Context, FileStats, Options, Output, RecordError};

const FOLDERS: &[(&str, &str)] = &[
    ("invictus", "invictus-ir-aws-dataset/CloudTrail"),
    ("stratus", "stratus-red-team-detonation-logs"),
];

fn load_folder(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (path.display().to_string(), data)
        })
        .collect()
}

/// Counts events without keeping them, so the bench measures decoding, not collecting.
#[derive(Default)]
struct Count {
    events: u64,
    errors: u64,
}

impl Output for Count {
    fn event(&mut self, event: tocsin_ingest::Event) {
        self.events += 1;
        std::hint::black_box(&event);
    }

    fn error(&mut self, _error: RecordError) {
        self.errors += 1;
    }
}

fn decode_files(files: &[(String, Vec<u8>)], options: &Options) -> u64 {
    let mut total = 0;
    for (name, data) in files {
        let mut out = Count::default();
        let mut stats = FileStats::default();
        {
            let mut ctx = Context::new(SourceRef::new(name.as_str()), options, &mut stats, &mut out);
            let mut reader = &data[..];
            decode::cloudtrail::decode(&mut reader, &mut ctx).expect("in-memory input cannot fail");
        }
        assert_eq!(out.errors, 0, "{name}: unexpected decode errors");
        total += out.events;
    }
    total
}

fn bench_cloudtrail(c: &mut Criterion) {
    let root = tocsin_testdata::bench_data().expect("set TOCSIN_TEST_DATA to the sample data folder");
    let options = Options::default();
    for (label, folder) in FOLDERS {
        let files = load_folder(&root.join(folder));
        let events = decode_files(&files, &options);
        let bytes: u64 = files.iter().map(|(_, data)| data.len() as u64).sum();
        eprintln!("{label}: {} files, {events} events, {bytes} bytes", files.len());

        let mut group = c.benchmark_group(format!("cloudtrail_{label}"));
        group.throughput(Throughput::Elements(events));
        group.bench_function("events", |b| b.iter(|| decode_files(&files, &options)));
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function("bytes", |b| b.iter(|| decode_files(&files, &options)));
        group.finish();
    }
}

criterion_group!(benches, bench_cloudtrail);
criterion_main!(benches);
