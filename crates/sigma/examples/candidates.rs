use std::path::PathBuf;
fn main() {
    let data = PathBuf::from(std::env::var("TOCSIN_TEST_DATA").unwrap());
    let mut b = tocsin_sigma::RuleSetBuilder::new();
    b.add_path(&data.join("sigmahq-rules/rules/windows")).unwrap();
    let (set, _) = b.build();
    let mut files = Vec::new();
    fn walk(d: &std::path::Path, o: &mut Vec<PathBuf>) { for e in std::fs::read_dir(d).unwrap() { let p = e.unwrap().path(); if p.is_dir() { walk(&p, o) } else if p.extension().is_some_and(|e| e == "json") { o.push(p) } } }
    walk(&data.join("sigma-regression-data"), &mut files);
    let mut n = 0; let mut c = 0;
    let mut hist = std::collections::HashMap::new();
    for f in files { for e in tocsin_sigma::events_from_evtx_json(&f).unwrap() { let k = set.candidates(&e); n += 1; c += k.len(); for r in k { *hist.entry(r).or_insert(0) += 1; } } }
    println!("{n} events, {} candidates/event", c as f64 / n as f64);
    let mut v: Vec<_> = hist.into_iter().collect(); v.sort_by_key(|x| -x.1);
    for (r, k) in v.iter().take(25) { println!("{k} {}", set.rule(*r).title); }
}
