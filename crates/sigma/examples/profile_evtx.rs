//! Evaluates the SigmaHQ Windows rules over every EVTX file of the samples, for profilers.
//!
//! The criterion bench gives the rate; this gives a plain loop that `perf` and callgrind can
//! attribute, and the index's selectivity (rules evaluated per event):
//!
//! ```text
//! cargo run --release -p tocsin-sigma --example profile_evtx -- 20
//! valgrind --tool=callgrind --toggle-collect='*profile_evtx*measured*' \
//!     target/release/examples/profile_evtx 1
//! ```
//!
//! The argument is the number of timed passes (default 20); one untimed pass runs first so
//! that lazily built automata and regexes are not counted. Callgrind's total divided by the
//! number of events is the instructions per event.

use std::time::Instant;

use tocsin_event::Event;
use tocsin_sigma::{RuleIdx, RuleSet, RuleSetBuilder, Scratch};

fn main() {
    let Some(data) = tocsin_testdata::bench_data() else {
        eprintln!("set TOCSIN_TEST_DATA to the sample data folder");
        std::process::exit(2);
    };
    let passes: usize = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(20);

    let files = tocsin_testdata::files_with_extension(&data, "evtx");
    let mut decoded = tocsin_ingest::Collect::default();
    for file in &files {
        tocsin_ingest::decode_path(file, &tocsin_ingest::Options::default(), &mut decoded);
    }
    let events = decoded.events;

    let start = Instant::now();
    let mut builder = RuleSetBuilder::new();
    builder.add_path(&data.join("sigmahq-rules/rules/windows")).expect("rule folder");
    let (set, report) = builder.build();
    println!("{} rules accepted, parsed and compiled in {:?}", report.accepted(), start.elapsed());

    let candidates: usize = events.iter().map(|event| set.candidates(event).len()).sum();
    println!("{} events from {} files, {:.2} rules evaluated per event", events.len(), files.len(), candidates as f64 / events.len() as f64);

    let mut scratch = Scratch::new();
    let mut out = Vec::new();
    for event in &events {
        out.clear();
        set.matches_into(event, &mut scratch, &mut out);
    }
    let start = Instant::now();
    let hits = measured(&set, &events, passes, &mut scratch, &mut out);
    let elapsed = start.elapsed();
    println!("{} matches per pass, {:.0} events/s", hits / passes.max(1), (passes * events.len()) as f64 / elapsed.as_secs_f64());
}

/// Runs the timed loop, kept out of line so that profilers can select it by name.
#[inline(never)]
fn measured(set: &RuleSet, events: &[Event], passes: usize, scratch: &mut Scratch, out: &mut Vec<RuleIdx>) -> usize {
    let mut hits = 0;
    for _ in 0..passes {
        for event in events {
            out.clear();
            set.matches_into(event, scratch, out);
            hits += out.len();
        }
    }
    hits
}

