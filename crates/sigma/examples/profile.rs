use std::path::PathBuf;
use std::time::Instant;
use std::path::Path;
use tocsin_event::{Event, Evidence, Schema, SourceRef, Value};
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
}
/// Reads the nxlog JSON-lines files inside the zip archives under `dir` as Windows events.
fn otrf_events(dir: &Path, limit: usize) -> Vec<Event> {
    let mut archives = Vec::new();
    collect_ext(dir, "zip", &mut archives);
    archives.sort();
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

fn collect_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable data folder") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_ext(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn main() {
    let data = PathBuf::from(std::env::var("TOCSIN_TEST_DATA").unwrap());
    let folder = std::env::args().nth(1).unwrap_or("rules/windows".into());
    let t = Instant::now();
    let mut b = tocsin_sigma::RuleSetBuilder::new();
    b.add_path(&data.join("sigmahq-rules").join(&folder)).unwrap();
    let (set, _) = b.build();
    let load = t.elapsed();
    let mut files = Vec::new();
    fn walk(d: &std::path::Path, o: &mut Vec<PathBuf>) { for e in std::fs::read_dir(d).unwrap() { let p = e.unwrap().path(); if p.is_dir() { walk(&p, o) } else if p.extension().is_some_and(|e| e == "json") { o.push(p) } } }
    walk(&data.join("sigma-regression-data"), &mut files);
    let events: Vec<_> = if std::env::var_os("OTRF").is_some() { otrf_events(&data.join("otrf-security-datasets/datasets/atomic/windows"), 5000) } else { files.iter().flat_map(|f| tocsin_sigma::events_from_evtx_json(f).unwrap()).collect() };
    let mut scratch = tocsin_sigma::Scratch::new();
    let mut out = Vec::new();
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut n = 0u64;
    let passes: u64 = std::env::var("PASSES").ok().and_then(|p| p.parse().ok()).unwrap_or(200);
    for _ in 0..passes {
        for e in &events { out.clear(); set.matches_into(e, &mut scratch, &mut out); n += 1; }
    }
    let cpu = cpu_seconds() - cpu;
    println!("{folder}: {} rules, load+compile {:?}, {} events: {:.0} events/s wall, {:.0} events per CPU second", set.len(), load, events.len(), n as f64 / wall.elapsed().as_secs_f64(), n as f64 / cpu.max(0.01));
}
