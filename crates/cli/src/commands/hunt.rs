//! `tocsin hunt`: decode logs, run the rules, print the alerts.
//!
//! Files are decoded and matched on all cores, one file per task, each thread with its own
//! matching state. Only the matched events are kept. Correlations run once every file is
//! read, over the matches sorted by time.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use tocsin_detect::python::{MemoryBaseline, PythonRun, BASELINE_KIND};
use tocsin_detect::{navigator_layer, Alert, Detector, HuntOutcome, Level, RuleSources, Suppressions, Worker, ENTITY_FIELDS};
use tocsin_incident::grouping::{record_and_group, GroupContext};
use tocsin_store::{AlertRecord, Entity, Store};
use tocsin_event::Event;
use tocsin_ingest::{decode_path, FileStats, Options, Output, RecordError};
use tocsin_sigma::RuleStatus;

use crate::args::{AlertFormat, Cli, HuntArgs};
use crate::commands::events::input_files;
use crate::commands::store_args::{open_store, runtime};
use crate::commands::{decode_options, threads};
use crate::config::Config;
use crate::exit::Status;
use crate::output::sanitize;

/// Decode errors printed per file before the rest are only counted.
const ERRORS_SHOWN_PER_FILE: u64 = 10;

pub fn run(cli: &Cli, args: &HuntArgs, config: &Config) -> Result<Status> {
    let options = decode_options(&args.decode, config)?;
    let files = input_files(&args.paths)?;
    let min_level = args.min_level.unwrap_or(Level::Informational);

    let sources = RuleSources { builtin: !args.no_builtin, paths: args.rules.clone(), placeholders: args.placeholders.clone() };
    let (detector, report) = Detector::load(&sources).context("cannot load the rules")?;
    report_rejected_rules(&report, cli.quiet);
    if detector.rule_count() == 0 {
        anyhow::bail!("no rules to run: every rule was rejected, or --no-builtin was given without --rules");
    }

    let mut suppressions = Suppressions::default();
    for path in &args.suppress {
        suppressions.extend(Suppressions::load(path)?);
    }

    // Open the store before the work starts, so a bad URL fails at once.
    let store = match args.store.no_store {
        true => None,
        false => Some(StoreSession::open(args, config)?),
    };

    let progress = progress_bar(cli.quiet, files.len());
    let threads = threads(&args.decode, config);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("cannot start worker threads")?;
    let found = Options { skip_unrecognised: true, ..options.clone() };
    let results: Vec<(Worker<'_>, Vec<FileStats>)> = pool.install(|| {
        files
            .par_iter()
            .fold(
                || (detector.worker(), Vec::new()),
                |(worker, mut stats), input| {
                    let mut output = HuntOutput { worker, shown_errors: 0, progress: &progress };
                    let options = if input.named { &options } else { &found };
                    stats.extend(decode_path(&input.path, options, &mut output));
                    progress.inc(1);
                    (output.worker, stats)
                },
            )
            .collect()
    });
    progress.finish_and_clear();

    let mut workers = Vec::with_capacity(results.len());
    let mut stats = Vec::new();
    for (worker, file_stats) in results {
        workers.push(worker);
        stats.extend(file_stats);
    }
    stats.sort_by(|a, b| a.path.cmp(&b.path));

    let runs = Detector::python_runs(&workers);
    let baseline = match &store {
        Some(session) => session.python_baseline(&runs)?,
        None => MemoryBaseline::default(),
    };
    let outcome = detector.finish(workers, &suppressions, &baseline, chrono::Utc::now());
    let shown: Vec<&Alert> = outcome.alerts.iter().filter(|a| a.rule.level >= min_level).collect();

    write_alerts(args.format(), &shown).context("cannot write to standard output")?;
    if let Some(path) = &args.attack_layer {
        write_attack_layer(path, &outcome.alerts)?;
    }
    if !cli.quiet {
        print_summary(&outcome, &shown, &stats, &detector);
        crate::commands::events::note_unrecognised(&stats);
    }
    if let Some(session) = &store {
        let recorded = session.record(&outcome.alerts)?;
        if !cli.quiet {
            crate::output::stderr_line!("{recorded}");
        }
    }

    // A rejected rule is input that could not be read, as an undecodable record is: the hunt
    // went on without it, and a script must be able to tell.
    let input_failed = stats.iter().any(|s| s.errors > 0) || report.rejected() > 0;
    let findings = args.fail_on.is_some_and(|level| shown.iter().any(|a| a.suppressed_by.is_none() && a.rule.level >= level));
    Ok(if findings {
        Status::Findings
    } else if input_failed {
        Status::DecodeErrors
    } else {
        Status::Completed
    })
}

/// Feeds decoded events straight into the thread's matcher; prints decode errors as they come.
struct HuntOutput<'a, 'd> {
    worker: Worker<'d>,
    shown_errors: u64,
    progress: &'a ProgressBar,
}

impl Output for HuntOutput<'_, '_> {
    fn event(&mut self, event: Event) {
        self.worker.observe(event);
    }

    fn error(&mut self, error: RecordError) {
        self.shown_errors += 1;
        if self.shown_errors <= ERRORS_SHOWN_PER_FILE {
            self.progress.suspend(|| crate::output::stderr_line!("tocsin: {}", sanitize(&error.to_string())));
        }
    }
}

fn report_rejected_rules(report: &tocsin_sigma::LoadReport, quiet: bool) {
    if quiet {
        return;
    }
    for rule in &report.rules {
        if let RuleStatus::Rejected(error) = &rule.status {
            crate::output::stderr_line!("tocsin: rule rejected: {}", sanitize(&error.to_string()));
        }
    }
}

fn write_alerts(format: AlertFormat, alerts: &[&Alert]) -> io::Result<()> {
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    let result = match format {
        AlertFormat::Json => alerts.iter().try_for_each(|alert| {
            serde_json::to_writer(&mut out, alert)?;
            out.write_all(b"\n")
        }),
        AlertFormat::Csv => write_csv(&mut out, alerts),
        AlertFormat::Table => write_table(&mut out, alerts),
    };
    match result.and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn entity_text(alert: &Alert, field: &str) -> String {
    alert.entities.get(field).map(|values| values.iter().cloned().collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

fn write_csv(out: &mut impl Write, alerts: &[&Alert]) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    let mut header = vec!["id", "level", "rule_id", "rule_title", "tags", "count", "event_count", "first_seen", "last_seen"];
    header.extend(ENTITY_FIELDS);
    header.extend(["suppressed_by", "evidence"]);
    csv.write_record(&header)?;

    for alert in alerts {
        let mut row = vec![
            alert.id.clone(),
            alert.rule.level.to_string(),
            alert.rule.id.clone(),
            alert.rule.title.clone(),
            alert.rule.tags.join(" "),
            alert.count.to_string(),
            alert.event_count.to_string(),
            alert.first_seen.map(|t| t.to_string()).unwrap_or_default(),
            alert.last_seen.map(|t| t.to_string()).unwrap_or_default(),
        ];
        row.extend(ENTITY_FIELDS.iter().map(|f| entity_text(alert, f)));
        row.push(alert.suppressed_by.clone().unwrap_or_default());
        row.push(alert.evidence.iter().map(ToString::to_string).collect::<Vec<_>>().join(" | "));
        csv.write_record(&row)?;
    }
    csv.flush()
}

/// The entities a table row shows, with their labels. These are all the fields that separate
/// alerts (`tocsin_detect::ENTITY_FIELDS`), so two rows of one rule never look the same.
const TABLE_ENTITIES: &[(&str, &str)] = &[
    ("host.name", "host"),
    ("user.name", "user"),
    ("source.ip", "source"),
    ("destination.ip", "destination"),
    ("cloud.account.id", "account"),
    ("cloud.instance.id", "instance"),
    ("aws.access_key_id", "key"),
    ("process.executable", "process"),
    ("file.path", "file"),
];

/// Writes alerts grouped by rule, one line per distinct set of entities.
fn write_table(out: &mut impl Write, alerts: &[&Alert]) -> io::Result<()> {
    let mut by_rule: BTreeMap<(std::cmp::Reverse<Level>, &str), Vec<&Alert>> = BTreeMap::new();
    for alert in alerts {
        by_rule.entry((std::cmp::Reverse(alert.rule.level), alert.rule.title.as_str())).or_default().push(alert);
    }

    for ((level, title), group) in by_rule {
        let occurrences: u64 = group.iter().map(|a| a.count).sum();
        writeln!(out, "[{}] {} ({}, {})", level.0, sanitize(title), plural(group.len() as u64, "alert"), plural(occurrences, "occurrence"))?;
        for alert in group {
            let mut entities = Vec::new();
            for (field, label) in TABLE_ENTITIES {
                let text = entity_text(alert, field);
                if !text.is_empty() {
                    entities.push(format!("{label}={text}"));
                }
            }
            let when = match (alert.first_seen, alert.last_seen) {
                (Some(first), Some(last)) if first != last => format!("{first} .. {last}"),
                (Some(first), _) => first.to_string(),
                _ => "time unknown".to_string(),
            };
            let first_evidence = alert.evidence.first().map(ToString::to_string).unwrap_or_default();
            let more = alert.evidence.len().saturating_sub(1);
            let suppressed = alert.suppressed_by.as_ref().map(|s| format!("  SUPPRESSED ({s})")).unwrap_or_default();
            writeln!(
                out,
                "  {:>5}x  {}  {}  {}{}{}",
                alert.count,
                when,
                sanitize(&entities.join(" ")),
                sanitize(&first_evidence),
                if more > 0 { format!(" (+{more} more)") } else { String::new() },
                sanitize(&suppressed),
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn write_attack_layer(path: &Path, alerts: &[Alert]) -> Result<()> {
    let active: Vec<Alert> = alerts.iter().filter(|a| a.suppressed_by.is_none()).cloned().collect();
    let layer = navigator_layer("tocsin hunt", &active);
    let text = serde_json::to_string_pretty(&layer)?;
    std::fs::write(path, text).with_context(|| format!("cannot write the ATT&CK layer to {}", path.display()))
}

fn print_summary(outcome: &HuntOutcome, shown: &[&Alert], stats: &[FileStats], detector: &Detector) {
    let mut err = io::stderr().lock();
    let records: u64 = stats.iter().map(|s| s.records).sum();
    let errors: u64 = stats.iter().map(|s| s.errors).sum();
    let suppressed = outcome.alerts.iter().filter(|a| a.suppressed_by.is_some()).count();

    let _ = writeln!(
        err,
        "\n{} inputs, {} records, {} events, {} decode errors; {} rules, {} correlations",
        stats.len(),
        records,
        outcome.events,
        errors,
        detector.rule_count(),
        detector.correlation_count()
    );

    let mut per_level: BTreeMap<std::cmp::Reverse<Level>, u64> = BTreeMap::new();
    for alert in shown {
        *per_level.entry(std::cmp::Reverse(alert.rule.level)).or_default() += 1;
    }
    let levels: Vec<String> = per_level.iter().map(|(level, n)| format!("{} {}", n, level.0)).collect();
    let _ = writeln!(
        err,
        "{} alerts shown ({}), {} below --min-level, {} suppressed",
        shown.len(),
        if levels.is_empty() { "none".to_string() } else { levels.join(", ") },
        outcome.alerts.len() - shown.len(),
        suppressed
    );

    // Per rule: alerts after collapsing identical ones, and the occurrences they stand for.
    let mut per_rule: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for alert in shown {
        let (alerts, occurrences) = per_rule.entry(alert.rule.title.as_str()).or_default();
        *alerts += 1;
        *occurrences += alert.count;
    }
    if !per_rule.is_empty() {
        let _ = writeln!(err, "alerts and occurrences per rule:");
    }
    for (title, (alerts, occurrences)) in per_rule {
        let _ = writeln!(err, "  {alerts:>6} {occurrences:>7}  {}", sanitize(title));
    }

    if !outcome.matches_per_file.is_empty() {
        let _ = writeln!(err, "rule matches per file:");
        for (file, count) in &outcome.matches_per_file {
            let _ = writeln!(err, "  {count:>6}  {}", sanitize(file));
        }
    }
    let lost = outcome.correlation_stats.without_timestamp + outcome.correlation_stats.missing_value_field;
    if lost > 0 {
        let _ = writeln!(err, "{lost} matches could not take part in correlations (no timestamp or no value field)");
    }
}

fn progress_bar(quiet: bool, files: usize) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} files ({elapsed}, {eta} left)").expect("valid template"));
    bar
}

/// The store of a hunt: the baseline the Python detection reads, and where alerts and
/// incidents are recorded.
struct StoreSession {
    runtime: tokio::runtime::Runtime,
    store: Store,
    grouping: tocsin_incident::grouping::GroupingConfig,
    policy: tocsin_incident::policy::Policy,
    inventory: tocsin_incident::inventory::Inventory,
}

/// Actor name of the changes `hunt` records in the audit log.
const HUNT_ACTOR: &str = "hunt";

impl StoreSession {
    fn open(args: &HuntArgs, config: &Config) -> Result<StoreSession> {
        let runtime = runtime()?;
        let store = runtime.block_on(open_store(&args.store.store, config)).context("cannot open the store (or give --no-store)")?;
        Ok(StoreSession {
            runtime,
            store,
            grouping: config.grouping(),
            policy: config.policy(args.policy.as_deref())?,
            inventory: config.inventory(args.inventory.as_deref())?,
        })
    }

    /// Loads the Python baseline of the hosts that ran Python in these logs.
    fn python_baseline(&self, runs: &[PythonRun]) -> Result<MemoryBaseline> {
        let mut hosts: Vec<&str> = runs.iter().map(|run| run.host.as_str()).collect();
        hosts.sort_unstable();
        hosts.dedup();

        let mut baseline = MemoryBaseline::default();
        for host in hosts {
            let terms = self.runtime.block_on(self.store.baseline_terms(host, BASELINE_KIND))?;
            for term in terms {
                baseline.insert(&term.host, &term.term);
            }
        }
        Ok(baseline)
    }

    /// Records the alerts that are not suppressed and groups them into incidents; returns a
    /// one-line account for stderr.
    fn record(&self, alerts: &[Alert]) -> Result<String> {
        let records: Vec<AlertRecord> = alerts.iter().filter(|a| a.suppressed_by.is_none()).map(alert_record).collect();
        let context = GroupContext {
            config: &self.grouping,
            policy: &self.policy,
            inventory: &self.inventory,
            origin: "hunt",
            now: chrono::Utc::now(),
        };
        let outcome = self
            .runtime
            .block_on(record_and_group(&self.store, HUNT_ACTOR, &records, &context))
            .context("cannot record the alerts in the store")?;

        let opened = outcome.opened();
        let mut joined: Vec<i64> = outcome.placements.iter().filter(|p| !p.opened && !p.already_linked).map(|p| p.incident_id).collect();
        joined.sort_unstable();
        joined.dedup();
        Ok(format!(
            "store: {} new alerts recorded, {} already known; incidents opened: {}; joined: {}",
            outcome.recorded.new.len(),
            outcome.recorded.known.len(),
            list_ids(&opened),
            list_ids(&joined),
        ))
    }
}

/// Formats a count with its noun, singular or plural: "1 alert", "3 alerts".
fn plural(count: u64, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

fn list_ids(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "none".to_string();
    }
    ids.iter().map(|id| format!("#{id}")).collect::<Vec<_>>().join(" ")
}

/// Converts an alert into the store's record. Both compute the same stable id from the rule
/// id and the evidence texts.
fn alert_record(alert: &Alert) -> AlertRecord {
    let entities = alert
        .entities
        .iter()
        .flat_map(|(field, values)| values.iter().map(move |value| Entity::new(*field, value.clone())))
        .collect();
    let evidence: Vec<String> = alert.evidence.iter().map(ToString::to_string).collect();
    let now = chrono::Utc::now();
    let first = alert.first_seen.map_or(now, |t| t.time);
    let last = alert.last_seen.map_or(first, |t| t.time);
    let record = AlertRecord::new(
        &alert.rule.id,
        &alert.rule.title,
        alert.rule.level.name(),
        alert.rule.tags.clone(),
        entities,
        evidence,
        first,
        last,
        alert.event_count as i64,
    );
    debug_assert_eq!(record.id, alert.id, "detect and store compute the same alert id");
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_every_entity_field() {
        let shown: Vec<&str> = TABLE_ENTITIES.iter().map(|(field, _)| *field).collect();
        assert_eq!(shown, tocsin_detect::ENTITY_FIELDS);
    }
}
