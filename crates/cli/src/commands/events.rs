//! `tocsin events`: decode logs and print their events.
//!
//! Files are decoded in parallel, one file per worker. Events reach the single writer in
//! batches through a bounded channel, so memory stays flat whatever the input size. Events of
//! one file keep their order, while batches of files decoded at the same time interleave
//! (each line names its file). `--threads 1` gives strict file order.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use anyhow::{bail, Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use tocsin_event::Event;
use tocsin_ingest::{decode_path, expand_paths, FileStats, InputPath, Options, Output, RecordError, SKIPPED_UNRECOGNISED};

use crate::args::{Cli, EventFormat, EventsArgs};
use crate::commands::{decode_options, threads};
use crate::config::Config;
use crate::exit::Status;
use crate::output::{self, sanitize};

/// Events per message on the channel: large enough to amortise the channel, small enough
/// that a slow writer keeps little memory.
const BATCH: usize = 512;

/// Decode errors printed per file before the rest are only counted.
const ERRORS_SHOWN_PER_FILE: u64 = 10;

enum Message {
    Events(Vec<Event>),
    Error(RecordError),
    FileDone(Vec<FileStats>),
}

pub fn run(cli: &Cli, args: &EventsArgs, config: &Config) -> Result<Status> {
    let options = decode_options(&args.decode, config)?;
    let files = input_files(&args.paths)?;
    let threads = threads(&args.decode, config);

    let (sender, receiver) = sync_channel::<Message>(threads * 4);
    let producer = std::thread::spawn(move || decode_all(files, options, threads, sender));

    let progress = progress_bar(cli.quiet, args.paths.len());
    let outcome = write_all(receiver, args, &progress);
    progress.finish_and_clear();
    producer.join().map_err(|_| anyhow::anyhow!("a decoding thread panicked"))??;
    let summary = outcome?;

    summary.errors.print_suppressed();
    if !cli.quiet {
        note_unrecognised(&summary.stats);
    }
    if args.stats {
        print_stats(&summary.stats);
    }
    let failed = summary.stats.iter().any(|s| s.errors > 0);
    Ok(if failed { Status::DecodeErrors } else { Status::Completed })
}

/// Expands folders and checks that every named path exists before any work starts, so a
/// typo is reported at once as a usage error.
pub fn input_files(paths: &[PathBuf]) -> Result<Vec<InputPath>> {
    for path in paths {
        if path.as_os_str() != "-" && !path.exists() {
            bail!("{} does not exist", path.display());
        }
    }
    expand_paths(paths).context("cannot list the input folders")
}

fn decode_all(files: Vec<InputPath>, options: Options, threads: usize, sender: SyncSender<Message>) -> Result<()> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("cannot start worker threads")?;
    let found = Options { skip_unrecognised: true, ..options.clone() };
    pool.install(|| {
        files.par_iter().for_each_with(sender, |sender, input| {
            let mut out = ChannelOutput { sender: sender.clone(), batch: Vec::with_capacity(BATCH), closed: false };
            let options = if input.named { &options } else { &found };
            let stats = decode_path(&input.path, options, &mut out);
            out.flush();
            let _ = sender.send(Message::FileDone(stats));
        });
    });
    Ok(())
}

/// Sends events in batches; once the writer has gone (stdout closed), drops them.
struct ChannelOutput {
    sender: SyncSender<Message>,
    batch: Vec<Event>,
    closed: bool,
}

impl ChannelOutput {
    fn flush(&mut self) {
        if self.batch.is_empty() || self.closed {
            self.batch.clear();
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.closed = self.sender.send(Message::Events(batch)).is_err();
    }
}

impl Output for ChannelOutput {
    fn event(&mut self, event: Event) {
        if self.closed {
            return;
        }
        self.batch.push(event);
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn error(&mut self, error: RecordError) {
        self.flush();
        if !self.closed {
            self.closed = self.sender.send(Message::Error(error)).is_err();
        }
    }
}

struct Summary {
    stats: Vec<FileStats>,
    errors: ErrorReporter,
}

fn write_all(receiver: Receiver<Message>, args: &EventsArgs, progress: &ProgressBar) -> Result<Summary> {
    let stdout = io::stdout().lock();
    let mut writer = EventWriter::new(args.format, BufWriter::with_capacity(1 << 16, stdout))?;
    let mut summary = Summary { stats: Vec::new(), errors: ErrorReporter::default() };
    let mut stdout_closed = false;

    for message in receiver {
        match message {
            Message::Events(events) if !stdout_closed => {
                for event in &events {
                    if let Err(e) = writer.write(event) {
                        if e.kind() == io::ErrorKind::BrokenPipe {
                            stdout_closed = true;
                            break;
                        }
                        return Err(e).context("cannot write to standard output");
                    }
                }
            }
            Message::Events(_) => {}
            Message::Error(error) => progress.suspend(|| summary.errors.report(&error)),
            Message::FileDone(stats) => {
                progress.inc(1);
                summary.stats.extend(stats);
            }
        }
    }

    if !stdout_closed {
        match writer.finish() {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e).context("cannot write to standard output"),
            _ => {}
        }
    }
    Ok(summary)
}

enum EventWriter<W: Write> {
    Json(W),
    Csv(csv::Writer<W>),
    Table(W),
}

impl<W: Write> EventWriter<W> {
    fn new(format: EventFormat, mut out: W) -> Result<Self> {
        Ok(match format {
            EventFormat::Json => EventWriter::Json(out),
            EventFormat::Csv => {
                let mut csv = csv::Writer::from_writer(out);
                output::csv_header(&mut csv)?;
                EventWriter::Csv(csv)
            }
            EventFormat::Table => {
                output::table_header(&mut out)?;
                EventWriter::Table(out)
            }
        })
    }

    fn write(&mut self, event: &Event) -> io::Result<()> {
        match self {
            EventWriter::Json(out) => output::write_json(out, event),
            EventWriter::Csv(out) => output::write_csv(out, event).map_err(io::Error::from),
            EventWriter::Table(out) => output::write_table(out, event),
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            EventWriter::Json(mut out) | EventWriter::Table(mut out) => out.flush(),
            EventWriter::Csv(mut out) => out.flush(),
        }
    }
}

/// Prints decode errors to stderr, the first few per file in full and the rest as a count.
#[derive(Default)]
struct ErrorReporter {
    per_file: HashMap<String, u64>,
}

impl ErrorReporter {
    fn report(&mut self, error: &RecordError) {
        let count = self.per_file.entry(error.path.clone()).or_default();
        *count += 1;
        if *count <= ERRORS_SHOWN_PER_FILE {
            crate::output::stderr_line!("tocsin: {}", sanitize(&error.to_string()));
        }
    }

    fn print_suppressed(&self) {
        let mut files: Vec<_> = self.per_file.iter().filter(|(_, n)| **n > ERRORS_SHOWN_PER_FILE).collect();
        files.sort();
        for (path, count) in files {
            let hidden = count - ERRORS_SHOWN_PER_FILE;
            crate::output::stderr_line!("tocsin: {}: {hidden} more decode errors not shown", sanitize(path));
        }
    }
}

/// Tells how many files found in folders were skipped because no decoder recognised them.
pub fn note_unrecognised(stats: &[FileStats]) {
    let skipped: u64 = stats.iter().filter_map(|s| s.skipped.get(SKIPPED_UNRECOGNISED)).sum();
    let decoded = stats.iter().any(|s| s.format.is_some());
    if skipped > 0 {
        let files = if skipped == 1 { "1 file".to_string() } else { format!("{skipped} files") };
        crate::output::stderr_line!(
            "tocsin: {files} in the given folders skipped: format not recognised \
             (name a file directly, or give --input-format, to decode it anyway)"
        );
    }
    if skipped > 0 && !decoded {
        crate::output::stderr_line!("tocsin: nothing was decoded: no file in the given folders has a recognised log format");
    }
}

fn progress_bar(quiet: bool, _inputs: usize) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {pos} files decoded ({elapsed})").expect("valid template"));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn print_stats(stats: &[FileStats]) {
    // Files finish in any order on several threads; the table lists them by path.
    let mut stats: Vec<&FileStats> = stats.iter().collect();
    stats.sort_by(|a, b| a.path.cmp(&b.path));
    let mut err = io::stderr().lock();
    // The path goes last, so that long paths do not push the counts out of their columns.
    let _ = writeln!(err, "{:<24} {:>10} {:>10} {:>8} {:>8}  {}", "format", "records", "events", "errors", "skipped", "file");
    for file in &stats {
        let format = file.format.map_or("-", |f| f.name());
        let skipped: u64 = file.skipped.values().sum();
        let _ = writeln!(
            err,
            "{:<24} {:>10} {:>10} {:>8} {:>8}  {}",
            format,
            file.records,
            file.events,
            file.errors,
            skipped,
            sanitize(&file.path)
        );
    }

    let mut per_format: BTreeMap<&str, [u64; 5]> = BTreeMap::new();
    for file in stats {
        let totals = per_format.entry(file.format.map_or("unrecognised", |f| f.name())).or_default();
        totals[0] += 1;
        totals[1] += file.records;
        totals[2] += file.events;
        totals[3] += file.errors;
        totals[4] += file.skipped.values().sum::<u64>();
    }
    let _ = writeln!(err, "\n{:<24} {:>8} {:>10} {:>10} {:>8} {:>8}", "format", "inputs", "records", "events", "errors", "skipped");
    for (format, [inputs, records, events, errors, skipped]) in per_format {
        let _ = writeln!(err, "{format:<24} {inputs:>8} {records:>10} {events:>10} {errors:>8} {skipped:>8}");
    }
}
