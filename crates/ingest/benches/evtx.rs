//! EVTX→Event compared with the evtx crate's own `records_json()` on the same bytes, one thread.
//!
//! Reads every `.evtx` file of the samples (`TOCSIN_TEST_DATA`, else `shared/data` beside the
//! checkout) into memory first, so that only parsing is measured.
//! Run: `cargo bench -p tocsin-ingest --bench evtx`.


use criterion::{criterion_group, Criterion, Throughput};
use evtx::{EvtxParser, ParserSettings};
use tocsin_event::SourceRef;
use tocsin_ingest::{decode, Context, FileStats, Options, Output, RecordError};

const FOLDERS: &[&str] = &["sbousseaden-evtx-attack-samples", "evtx-to-mitre-attack", "deepbluecli", "sigma-regression-data"];

fn load_samples() -> Vec<(String, Vec<u8>)> {
    let root = tocsin_testdata::bench_data().expect("set TOCSIN_TEST_DATA to the sample data folder");
    let mut paths = Vec::new();
    for folder in FOLDERS {
        paths.extend(tocsin_testdata::files_with_extension(&root.join(folder), "evtx"));
    }
    paths.sort();
    paths.into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).expect("sample is readable"))).collect()
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

fn decode_all(samples: &[(String, Vec<u8>)], options: &Options) -> u64 {
    let mut out = Count::default();
    for (name, data) in samples {
        let mut stats = FileStats::default();
        let mut ctx = Context::new(SourceRef::new(name.clone()), options, &mut stats, &mut out);
        decode::evtx::decode(data, &mut ctx);
    }
    out.events
}

fn records_json_all(samples: &[(String, Vec<u8>)]) -> u64 {
    let mut records = 0;
    for (_, data) in samples {
        let Ok(parser) = EvtxParser::from_buffer(data.clone()) else { continue };
        let mut parser = parser.with_configuration(ParserSettings::new().num_threads(1));
        for record in parser.records_json().flatten() {
            records += 1;
            std::hint::black_box(&record);
        }
    }
    records
}

fn records_xml_all(samples: &[(String, Vec<u8>)]) -> u64 {
    let mut records = 0;
    for (_, data) in samples {
        let Ok(parser) = EvtxParser::from_buffer(data.clone()) else { continue };
        let mut parser = parser.with_configuration(ParserSettings::new().num_threads(1).indent(false));
        for record in parser.records_bytes().flatten() {
            records += 1;
            std::hint::black_box(&record);
        }
    }
    records
}

fn bench(c: &mut Criterion) {
    let samples = load_samples();
    assert!(!samples.is_empty(), "no EVTX samples found; set TOCSIN_TEST_DATA");
    let options = Options { evtx_threads: 1, ..Options::default() };
    let records = decode_all(&samples, &options);

    let mut group = c.benchmark_group("evtx");
    group.sample_size(10);
    group.throughput(Throughput::Elements(records));
    group.bench_function("tocsin_events", |b| b.iter(|| decode_all(&samples, &options)));
    group.bench_function("evtx_records_json", |b| b.iter(|| records_json_all(&samples)));
    group.bench_function("evtx_records_xml", |b| b.iter(|| records_xml_all(&samples)));
    group.finish();
}

/// CPU time of the calling thread, from `/proc/thread-self/schedstat` (Linux), in nanoseconds.
fn thread_cpu_nanos() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Alternates the two decoders and compares their thread CPU time, which other processes on a
/// busy machine disturb much less than wall-clock time. Enabled by `EVTX_BENCH_CPU=rounds`.
fn compare_cpu_time(rounds: usize) {
    let samples = load_samples();
    let options = Options { evtx_threads: 1, ..Options::default() };
    let (mut ours, mut theirs, mut xml) = (0u64, 0u64, 0u64);
    let mut records = 0;
    for _ in 0..rounds {
        let start = thread_cpu_nanos().expect("schedstat is readable");
        records = decode_all(&samples, &options);
        let middle = thread_cpu_nanos().unwrap();
        records_json_all(&samples);
        let end = thread_cpu_nanos().unwrap();
        records_xml_all(&samples);
        let last = thread_cpu_nanos().unwrap();
        ours += middle - start;
        theirs += end - middle;
        xml += last - end;
    }
    let rate = |nanos: u64| records as f64 * rounds as f64 / (nanos as f64 / 1e9);
    println!("records per pass: {records}");
    println!("tocsin EVTX->Event:  {:>9.0} records/s (CPU time)", rate(ours));
    println!("evtx records_json(): {:>9.0} records/s (CPU time)", rate(theirs));
    println!("evtx records_bytes() XML: {:>9.0} records/s (CPU time)", rate(xml));
    println!("ratio to records_json(): {:.2}", theirs as f64 / ours as f64);
}

criterion_group!(benches, bench);

fn main() {
    if let Some(rounds) = std::env::var("EVTX_BENCH_CPU").ok().and_then(|r| r.parse().ok()) {
        compare_cpu_time(rounds);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
