//! Evaluation rate of the SigmaHQ `rules/windows` rules (and of all rule folders) on one
//! thread, over events already decoded.
//!
//! Reads the samples from `TOCSIN_TEST_DATA`, else from `shared/data` beside the checkout. There
//! are three event sets:
//! - `evtx_samples`: every `.evtx` file of the samples, decoded by tocsin-ingest, which is what
//!   `tocsin hunt` evaluates. Most are attack samples from several public collections.
//! - `regression_samples`: the SigmaHQ regression samples from their JSON renderings; nearly
//!   every event is an attack that some rule matches.
//! - `otrf_windows`: the Windows logs of the OTRF Security Datasets (nxlog JSON lines), which
//!   mix ordinary and attack events from lab hosts and carry a long rendered `Message`.

use std::path::Path;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tocsin_event::{Event, Evidence, Schema, SourceRef, Value};
use tocsin_sigma::{events_from_evtx_json, RuleSet, RuleSetBuilder, Scratch};
use tocsin_testdata::files_with_extension;

/// Reads the nxlog JSON-lines files inside the zip archives under `dir` as Windows events.
fn otrf_events(dir: &Path, limit: usize) -> Vec<Event> {
    let archives = files_with_extension(dir, "zip");
    let mut events = Vec::new();
    for archive in archives {
        let file = std::fs::File::open(&archive).expect("readable archive");
        let Ok(mut zip) = zip::ZipArchive::new(file) else { continue };
        for i in 0..zip.len() {
            let mut member = zip.by_index(i).expect("archive member");
            let mut text = String::new();
            if std::io::Read::read_to_string(&mut member, &mut text).is_err() {
                continue;
            }
            for line in text.lines() {
                let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(line) else { continue };
                if !map.contains_key("EventID") || !map.contains_key("Channel") {
                    continue;
                }
                let mut event = Event::new(Schema::Windows, Evidence::new(SourceRef::new(archive.display().to_string())));
                for (key, value) in &map {
                    event.push(key.as_str(), Value::from_json(value));
                }
                events.push(event);
                if events.len() == limit {
                    return events;
                }
            }
        }
    }
    events
}

/// Decodes every `.evtx` file under `dir` with the decoder `tocsin hunt` uses.
fn evtx_events(dir: &Path) -> Vec<Event> {
    let files = files_with_extension(dir, "evtx");
    let mut out = tocsin_ingest::Collect::default();
    for file in &files {
        tocsin_ingest::decode_path(file, &tocsin_ingest::Options::default(), &mut out);
    }
    out.events
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
    let Some(data) = tocsin_testdata::bench_data() else {
        eprintln!("skipped match_rules: TOCSIN_TEST_DATA is not set and no sample folder is beside the checkout");
        return;
    };
    let files = files_with_extension(&data.join("sigma-regression-data"), "json");
    let samples: Vec<Event> = files.iter().flat_map(|f| events_from_evtx_json(f).expect("sample JSON")).collect();
    let otrf = otrf_events(&data.join("otrf-security-datasets/datasets/atomic/windows"), 50_000);
    let evtx = evtx_events(&data);
    eprintln!("{} EVTX events, {} regression-sample events, {} OTRF events", evtx.len(), samples.len(), otrf.len());
    let root = data.join("sigmahq-rules");
    let windows = load_rules(&root, &["rules/windows"]);
    let all = load_rules(&root, &["rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance"]);

    for (group_name, events) in [("evtx_samples", &evtx), ("regression_samples", &samples), ("otrf_windows", &otrf)] {
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Elements(events.len() as u64));
        group.sample_size(10);
        for (name, set) in [("windows_rules", &windows), ("all_rules", &all)] {
            let mut scratch = Scratch::new();
            let mut out = Vec::new();
            group.bench_function(name, |b| {
                b.iter(|| {
                    let mut hits = 0;
                    for event in events.iter() {
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
