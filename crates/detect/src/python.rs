//! Unfamiliar Python scripts: new-terms detection of Python interpreter runs.
//!
//! Every process creation whose executable is a Python interpreter (Sysmon 1, Security 4688,
//! auditd EXECVE) yields a term: the script path, `-m module`, or the SHA-256 of `-c` code.
//! A term missing from the host's baseline raises an alert. A host with no baseline at all
//! has every script "new", so the alert starts at low and only context raises it; on a host
//! with a baseline a new script starts at medium. Each suspicious circumstance raises the
//! level one step: the script sits in a temp, download or user-writable folder; the parent is
//! an Office program, a browser or a script host; the code is base64 or fetched from the
//! network; the process then opens network connections (Sysmon 3).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tocsin_event::{Event, Schema};

use crate::{Alert, Level, RuleInfo};

/// Baseline kind under which Python terms are stored.
pub const BASELINE_KIND: &str = "python";

/// Rule id of the built-in unfamiliar-Python detection.
pub const RULE_ID: &str = "8f0b6f8e-3b9c-4d55-9a57-4c1f3f2a6e01";

/// One Python run seen in the logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonRun {
    /// Host name, lower-cased so that `DC01` and `dc01` share a baseline.
    pub host: String,
    /// Interpreter file name, lower-cased (`python.exe`, `python3.11`).
    pub interpreter: String,
    /// Term of the run: `script:<path>`, `module:<name>`, `code:<sha256 prefix>` or `interactive`.
    pub term: String,
    pub command_line: String,
    pub parent: Option<String>,
    /// Sysmon `ProcessGuid` (or the pid on Linux), to find the process's network connections.
    pub process_key: Option<String>,
}

/// The set of known (host, term) pairs.
pub trait Baseline {
    /// Returns whether `host` has any baseline at all.
    fn has_host(&self, host: &str) -> bool;
    fn contains(&self, host: &str, term: &str) -> bool;
}

/// A baseline held in memory; the store keeps the persistent one.
#[derive(Clone, Debug, Default)]
pub struct MemoryBaseline {
    terms: BTreeMap<String, BTreeSet<String>>,
}

impl MemoryBaseline {
    pub fn insert(&mut self, host: &str, term: &str) {
        self.terms.entry(host.to_lowercase()).or_default().insert(term.to_string());
    }

    /// Returns every (host, term) pair in sorted order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.terms.iter().flat_map(|(host, terms)| terms.iter().map(move |t| (host.as_str(), t.as_str())))
    }

    pub fn len(&self) -> usize {
        self.terms.values().map(BTreeSet::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

impl Baseline for MemoryBaseline {
    fn has_host(&self, host: &str) -> bool {
        self.terms.contains_key(&host.to_lowercase())
    }

    fn contains(&self, host: &str, term: &str) -> bool {
        self.terms.get(&host.to_lowercase()).is_some_and(|terms| terms.contains(term))
    }
}

/// Returns whether the detector needs to see `event`: a process creation (which may be a
/// Python run) or a Sysmon network connection. A cheap check done on every event.
pub fn is_candidate(event: &Event) -> bool {
    match event.schema {
        Schema::Windows => matches!(event.get_i64("EventID"), Some(1 | 3 | 4688)),
        Schema::Auditd => event.get("process.executable").is_some(),
        _ => false,
    }
}

/// Recognises a Python run in a process-creation event.
pub fn python_run(event: &Event) -> Option<PythonRun> {
    let (executable, command_line) = process_of(event)?;
    let interpreter = file_name(&executable).to_lowercase();
    if !is_python(&interpreter) {
        return None;
    }
    let host = event.get_str("host.name").or_else(|| event.get_str("hostname")).unwrap_or("unknown-host").to_lowercase();
    let args = split_command_line(&command_line);
    let term = term_of(&args);
    let parent = event.get("process.parent.executable").map(|v| v.to_text());
    let process_key = event.get("ProcessGuid").or_else(|| event.get("process.pid")).map(|v| v.to_text());
    Some(PythonRun { host, interpreter, term, command_line, parent, process_key })
}

/// Executable and command line of a process-creation event, or `None` for other events.
fn process_of(event: &Event) -> Option<(String, String)> {
    match event.schema {
        Schema::Windows => {
            let id = event.get_i64("EventID")?;
            let channel = event.get_str("Channel").unwrap_or("");
            let is_creation = (id == 1 && channel.eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational"))
                || (id == 4688 && channel.eq_ignore_ascii_case("Security"));
            if !is_creation {
                return None;
            }
            let executable = event.get_str("process.executable")?.to_string();
            let command_line = event.get_str("process.command_line").unwrap_or(&executable).to_string();
            Some((executable, command_line))
        }
        Schema::Auditd => {
            let executable = event.get_str("process.executable")?.to_string();
            let command_line = event.get("process.command_line").map(|v| v.to_text())?;
            Some((executable, command_line))
        }
        _ => None,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path).trim_matches('"')
}

/// `python`, `python3`, `python3.11`, `pythonw`, `python.exe`, `pythonw.exe`, `py.exe`,
/// `pyw.exe`, `pypy3`.
fn is_python(name: &str) -> bool {
    let stem = name.strip_suffix(".exe").unwrap_or(name);
    if matches!(stem, "py" | "pyw") {
        return true;
    }
    let rest = stem.strip_prefix("pypy").or_else(|| stem.strip_prefix("python"));
    let Some(rest) = rest else {
        return false;
    };
    let rest = rest.strip_suffix('w').unwrap_or(rest);
    rest.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Splits a command line into arguments: Windows rules (double quotes group, backslashes
/// before a quote escape it), which also cover the space-joined auditd arguments.
pub fn split_command_line(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut has_arg = false;
    let mut backslashes = 0usize;

    for c in line.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                current.extend(std::iter::repeat_n('\\', backslashes / 2));
                if backslashes % 2 == 1 {
                    current.push('"');
                } else {
                    in_quotes = !in_quotes;
                }
                backslashes = 0;
                has_arg = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                current.extend(std::iter::repeat_n('\\', backslashes));
                backslashes = 0;
                if has_arg || !current.is_empty() {
                    args.push(std::mem::take(&mut current));
                }
                has_arg = false;
            }
            c => {
                current.extend(std::iter::repeat_n('\\', backslashes));
                backslashes = 0;
                current.push(c);
                has_arg = true;
            }
        }
    }
    current.extend(std::iter::repeat_n('\\', backslashes));
    if has_arg || !current.is_empty() {
        args.push(current);
    }
    args
}

/// Python options that take a separate value (`-W default`, `-X dev`).
const OPTIONS_WITH_VALUE: &[&str] = &["-W", "-X", "--check-hash-based-pycs"];

/// Returns what a Python command line runs, skipping the interpreter and its options.
fn term_of(args: &[String]) -> String {
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        if arg == "-c" {
            return code_term(rest.next().map_or("", String::as_str));
        }
        if let Some(code) = arg.strip_prefix("-c").filter(|c| !c.is_empty() && !arg.starts_with("--")) {
            return code_term(code);
        }
        if arg == "-m" {
            return format!("module:{}", rest.next().map_or("", String::as_str));
        }
        if let Some(module) = arg.strip_prefix("-m").filter(|m| !m.is_empty() && !arg.starts_with("--")) {
            return format!("module:{module}");
        }
        if OPTIONS_WITH_VALUE.contains(&arg.as_str()) {
            rest.next();
            continue;
        }
        if arg == "-" {
            return "stdin".to_string();
        }
        if arg.starts_with('-') {
            continue;
        }
        return format!("script:{}", normalize_path(arg));
    }
    "interactive".to_string()
}

fn code_term(code: &str) -> String {
    let digest = Sha256::digest(code.as_bytes());
    format!("code:{}", &hex::encode(digest)[..16])
}

/// Windows paths compare case-insensitively; POSIX paths keep their case.
fn normalize_path(path: &str) -> String {
    if path.contains('\\') || path.get(1..2) == Some(":") {
        path.to_lowercase()
    } else {
        path.to_string()
    }
}

/// Circumstances that raise the level of an unfamiliar-Python alert, each by one step.
pub fn risk_factors(run: &PythonRun) -> Vec<&'static str> {
    let mut factors = Vec::new();
    let line = run.command_line.to_lowercase();

    if let Some(script) = run.term.strip_prefix("script:") {
        let script = script.to_lowercase().replace('\\', "/");
        const WRITABLE: &[&str] =
            &["/temp/", "/tmp/", "/var/tmp/", "/dev/shm/", "/appdata/", "/downloads/", "/users/public/", "/programdata/", "/windows/temp/"];
        if WRITABLE.iter().any(|folder| script.contains(folder)) {
            factors.push("script in a temp, download or user-writable folder");
        }
    }

    if let Some(parent) = &run.parent {
        let parent = file_name(parent).to_lowercase();
        const RISKY_PARENTS: &[&str] = &[
            "winword.exe", "excel.exe", "powerpnt.exe", "outlook.exe", "onenote.exe", "mspub.exe", "msaccess.exe",
            "chrome.exe", "msedge.exe", "firefox.exe", "iexplore.exe", "brave.exe", "opera.exe",
            "wscript.exe", "cscript.exe", "mshta.exe",
        ];
        if RISKY_PARENTS.contains(&parent.as_str()) {
            factors.push("parent is an Office program, a browser or a script host");
        }
    }

    const ENCODED: &[&str] = &["base64", "b64decode", "codecs.decode", "marshal.loads", "zlib.decompress"];
    if ENCODED.iter().any(|marker| line.contains(marker)) {
        factors.push("code is base64 or otherwise encoded");
    }

    const FETCHED: &[&str] = &["http://", "https://", "urllib", "urlopen", "requests.get", "socket.", "ftp://"];
    if run.term.starts_with("code:") && FETCHED.iter().any(|marker| line.contains(marker)) {
        factors.push("code is fetched from the network");
    }

    factors
}

fn raise(level: Level, steps: usize) -> Level {
    let order = [Level::Low, Level::Medium, Level::High, Level::Critical];
    let start = order.iter().position(|l| *l == level).unwrap_or(0);
    order[(start + steps).min(order.len() - 1)]
}

/// Returns the rule of the unfamiliar-Python alerts, at `level`.
pub fn rule_info(level: Level) -> RuleInfo {
    RuleInfo {
        id: RULE_ID.to_string(),
        title: "Unfamiliar Python Script".to_string(),
        level,
        tags: vec!["attack.execution".to_string(), "attack.t1059.006".to_string()],
    }
}

/// Collects Python runs and the network connections of processes, then raises alerts for the
/// runs missing from a baseline.
#[derive(Default)]
pub struct PythonDetector {
    runs: Vec<(PythonRun, Arc<Event>)>,
    /// (host, process key) of processes that opened a network connection (Sysmon 3).
    connections: HashMap<(String, String), u64>,
}

impl PythonDetector {
    /// Looks at one event; keeps it when it is a Python run or a network connection.
    pub fn observe(&mut self, event: &Arc<Event>) {
        if let Some(run) = python_run(event) {
            self.runs.push((run, Arc::clone(event)));
            return;
        }
        if event.schema == Schema::Windows
            && event.get_i64("EventID") == Some(3)
            && event.get_str("Channel").is_some_and(|c| c.eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational"))
            && let Some(guid) = event.get("ProcessGuid")
        {
            let host = event.get_str("host.name").unwrap_or("unknown-host").to_lowercase();
            *self.connections.entry((host, guid.to_text())).or_default() += 1;
        }
    }

    pub fn merge(&mut self, other: PythonDetector) {
        self.runs.extend(other.runs);
        for (key, count) in other.connections {
            *self.connections.entry(key).or_default() += count;
        }
    }

    /// Returns the runs seen, for `tocsin baseline learn`.
    pub fn runs(&self) -> impl Iterator<Item = &PythonRun> {
        self.runs.iter().map(|(run, _)| run)
    }

    /// Raises one alert per run whose term the baseline lacks (identical ones collapse later
    /// in the [`crate::AlertSet`]).
    pub fn alerts(&self, baseline: &dyn Baseline) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for (run, event) in &self.runs {
            if baseline.contains(&run.host, &run.term) {
                continue;
            }
            let mut factors = risk_factors(run);
            if let Some(key) = &run.process_key
                && self.connections.contains_key(&(run.host.clone(), key.clone()))
            {
                factors.push("the process opened network connections");
            }
            let start = if baseline.has_host(&run.host) { Level::Medium } else { Level::Low };
            let level = raise(start, factors.len());
            alerts.push(Alert::new(rule_info(level), vec![Arc::clone(event)]));
        }
        alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::{Evidence, SourceRef, Value};

    fn sysmon_python(command_line: &str, parent: &str) -> Event {
        let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("sysmon.evtx"), 1));
        event.push("EventID", Value::Int(1));
        event.push("Channel", "Microsoft-Windows-Sysmon/Operational");
        event.push("Computer", "WS-01.example.org");
        event.push("Image", "C:\\Python27\\python.exe");
        event.push("CommandLine", command_line);
        event.push("ParentImage", parent);
        event.push("ProcessGuid", "{11111111-2222-3333-4444-555555555555}");
        event
    }

    #[test]
    fn interpreter_names() {
        for name in ["python.exe", "pythonw.exe", "py.exe", "python3", "python3.11", "python2.7", "pypy3"] {
            assert!(is_python(name), "{name}");
        }
        for name in ["pythonista", "cpython-build", "powershell.exe", "pyinstaller.exe"] {
            assert!(!is_python(name), "{name}");
        }
    }

    #[test]
    fn script_term_from_command_line() {
        let event = sysmon_python(r#""C:\Python27\python.exe" -u winpwnage.py -u uac -i 11 -p c:\windows\system32\cmd.exe"#, "cmd.exe");
        let run = python_run(&event).unwrap();
        assert_eq!(run.term, "script:winpwnage.py");
        assert_eq!(run.host, "ws-01.example.org");
        assert_eq!(run.interpreter, "python.exe");
    }

    #[test]
    fn module_and_code_terms() {
        assert_eq!(term_of(&split_command_line("python3 -m http.server 8000")), "module:http.server");
        let code = term_of(&split_command_line(r#"python3 -c "import os; print(1)""#));
        assert!(code.starts_with("code:"), "{code}");
        assert_eq!(code.len(), "code:".len() + 16, "{code}");
        assert_eq!(term_of(&split_command_line("python3")), "interactive");
        assert_eq!(term_of(&split_command_line("python3 -W ignore /opt/app/run.py")), "script:/opt/app/run.py");
    }

    #[test]
    fn windows_quoting() {
        assert_eq!(split_command_line(r#"a "b c" d\"e "f\\" g"#), ["a", "b c", "d\"e", "f\\", "g"]);
        assert_eq!(split_command_line(r#"x """#), ["x", ""]);
    }

    #[test]
    fn no_baseline_is_low_and_context_raises() {
        let plain = Arc::new(sysmon_python(r"python.exe C:\tools\report.py", r"C:\Windows\System32\cmd.exe"));
        let risky = Arc::new(sysmon_python(r"python.exe C:\Users\bob\AppData\Local\Temp\x.py", r"C:\Program Files\Microsoft Office\WINWORD.EXE"));
        let mut detector = PythonDetector::default();
        detector.observe(&plain);
        detector.observe(&risky);

        let alerts = detector.alerts(&MemoryBaseline::default());
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].rule.level, Level::Low);
        assert_eq!(alerts[1].rule.level, Level::High);
    }

    #[test]
    fn learned_script_does_not_alert() {
        let event = Arc::new(sysmon_python(r"python.exe C:\tools\report.py", "cmd.exe"));
        let mut detector = PythonDetector::default();
        detector.observe(&event);

        let mut baseline = MemoryBaseline::default();
        baseline.insert("WS-01.example.org", "script:c:\\tools\\report.py");
        assert!(detector.alerts(&baseline).is_empty());

        let mut other = MemoryBaseline::default();
        other.insert("ws-01.example.org", "script:c:\\tools\\other.py");
        let alerts = detector.alerts(&other);
        assert_eq!(alerts[0].rule.level, Level::Medium, "a new script on a host with a baseline starts at medium");
    }

    #[test]
    fn network_connection_raises() {
        let run = Arc::new(sysmon_python("python.exe -m http.server", "cmd.exe"));
        let mut connection = Event::new(Schema::Windows, Evidence::record(SourceRef::new("sysmon.evtx"), 2));
        connection.push("EventID", Value::Int(3));
        connection.push("Channel", "Microsoft-Windows-Sysmon/Operational");
        connection.push("Computer", "WS-01.example.org");
        connection.push("ProcessGuid", "{11111111-2222-3333-4444-555555555555}");

        let mut detector = PythonDetector::default();
        detector.observe(&run);
        detector.observe(&Arc::new(connection));
        assert_eq!(detector.alerts(&MemoryBaseline::default())[0].rule.level, Level::Medium);
    }
}
