//! Evaluation rate of the SigmaHQ `rules/windows` rules (and of all rule folders) over the
//! events of the SigmaHQ regression samples, on one thread.
//!
//! Needs `TOCSIN_TEST_DATA` (the shared data folder). The events are read from the samples'
//! JSON renderings until the EVTX decoder of tocsin-ingest can read the `.evtx` files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tocsin_event::Event;
use tocsin_sigma::{events_from_evtx_json, RuleSet, RuleSetBuilder, Scratch};

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable data folder") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_json(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn load_rules(root: &Path, folders: &[&str]) -> RuleSet {
    let start = Instant::now();
    let mut builder = RuleSetBuilder::new();
    for folder in folders {
        builder.add_path(&root.join(folder)).expect("rule folder");
    }
    let (set, report) = builder.build();
    eprintln!("{folders:?}: {} of {} rules accepted, load and compile took {:?}", report.accepted(), report.counted(), start.elapsed());
    set
}

fn bench(c: &mut Criterion) {
    let Some(data) = std::env::var_os("TOCSIN_TEST_DATA").map(PathBuf::from) else {
        eprintln!("skipped match_rules: TOCSIN_TEST_DATA is not set");
        return;
    };
    let mut files = Vec::new();
    collect_json(&data.join("sigma-regression-data"), &mut files);
    files.sort();
    let events: Vec<Event> = files.iter().flat_map(|f| events_from_evtx_json(f).expect("sample JSON")).collect();
    let root = data.join("sigmahq-rules");

    let mut group = c.benchmark_group("match");
    group.throughput(Throughput::Elements(events.len() as u64));
    for (name, folders) in [("windows_rules", &["rules/windows"][..]), ("all_rules", &["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance"][..])] {
        let set = load_rules(&root, folders);
        let mut scratch = Scratch::new();
        let mut out = Vec::new();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut hits = 0;
                for event in &events {
                    out.clear();
                    set.matches_into(event, &mut scratch, &mut out);
                    hits += out.len();
                }
                hits
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
