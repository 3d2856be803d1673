//! auth.log→Event on one thread: the syslog decoder with sshd, PAM, sudo and the other
//! message parsers, over the elastic auth.log and the loghub OpenSSH sample.
//!
//! The samples (`TOCSIN_TEST_DATA`, else `shared/data` beside the checkout) are read into memory first,
//! so that only decoding is measured. Throughput is reported in lines (one element per line).
//! Run: `cargo bench -p tocsin-ingest --bench authlog`.


use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tocsin_event::SourceRef;
use tocsin_ingest::{decode, Context, FileStats, Options, Output, RecordError};

const SAMPLES: &[&str] = &["elastic-examples-auth-log/auth.log", "loghub/OpenSSH/OpenSSH_2k.log"];

fn load_samples() -> Vec<(String, Vec<u8>)> {
    let root = tocsin_testdata::bench_data().expect("set TOCSIN_TEST_DATA to the sample data folder");
    SAMPLES
        .iter()
        .map(|name| {
            let path = root.join(name);
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

fn decode_one(name: &str, data: &[u8], options: &Options) -> u64 {
    let mut out = Count::default();
    let mut stats = FileStats::default();
    {
        let mut ctx = Context::new(SourceRef::new(name), options, &mut stats, &mut out);
        let mut reader = data;
        decode::syslog::decode(&mut reader, &mut ctx).expect("in-memory input cannot fail");
    }
    assert_eq!(out.errors, 0, "{name}: unexpected decode errors");
    out.events
}

fn bench_authlog(c: &mut Criterion) {
    let samples = load_samples();
    // A fixed year keeps the work independent of the files' modification times.
    let options = Options { year: Some(2017), ..Options::default() };
    let mut group = c.benchmark_group("authlog");
    for (name, data) in &samples {
        let lines = memchr::memchr_iter(b'\n', data).count() as u64;
        let short = name.rsplit('/').next().unwrap_or(name);
        group.throughput(Throughput::Elements(lines));
        group.bench_function(short, |b| b.iter(|| decode_one(name, data, &options)));
    }
    group.finish();
}

criterion_group!(benches, bench_authlog);
criterion_main!(benches);
