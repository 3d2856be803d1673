use std::path::PathBuf;
use std::time::Instant;
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
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
    let events: Vec<_> = files.iter().flat_map(|f| tocsin_sigma::events_from_evtx_json(f).unwrap()).collect();
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
