//! `tocsin baseline`: the per-host baseline of known Python scripts that the unfamiliar-Python
//! detection of `hunt` compares against.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use tocsin_detect::python::{PythonDetector, BASELINE_KIND};
use tocsin_event::Event;
use tocsin_ingest::{decode_path, Output, RecordError};
use tocsin_store::baseline::BaselineTerm;

use crate::args::DecodeArgs;
use crate::commands::decode_options;
use crate::commands::events::input_files;
use crate::commands::store_args::{current_user, open_store, runtime, StoreArgs, StoreConfig};
use crate::exit::Status;
use crate::output::sanitize;

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: BaselineCommand,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Learn every Python script, module and `-c` code run in these logs as known, per host.
    Learn {
        /// Files or folders of known-good activity.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,

        #[command(flatten)]
        decode: DecodeArgs,
    },
    /// Mark one term as known on a host (after an analyst judged it benign).
    Add {
        /// Host name as the logs give it (compared case-insensitively).
        #[arg(long)]
        host: String,
        /// `script:<path>`, `module:<name>`, `code:<sha256 prefix>` or `interactive`, as the
        /// alert's term shows it.
        #[arg(long)]
        term: String,
    },
    /// List the known terms, of one host or of all.
    List {
        #[arg(long)]
        host: Option<String>,
    },
    /// Forget one term, so that its next run raises an alert again.
    Remove {
        #[arg(long)]
        host: String,
        #[arg(long)]
        term: String,
    },
}

/// Collects Python runs from decoded events; decode errors go to stderr.
#[derive(Default)]
struct LearnOutput {
    python: PythonDetector,
    errors: u64,
}

impl Output for LearnOutput {
    fn event(&mut self, event: Event) {
        if tocsin_detect::python::is_candidate(&event) {
            self.python.observe(&std::sync::Arc::new(event));
        }
    }

    fn error(&mut self, error: RecordError) {
        self.errors += 1;
        crate::output::stderr_line!("tocsin: {}", sanitize(&error.to_string()));
    }
}

pub fn run(args: &BaselineArgs, config: &StoreConfig) -> Result<Status> {
    let runtime = runtime()?;
    let store = runtime.block_on(open_store(&args.store, config))?;
    let now = chrono::Utc::now();

    match &args.command {
        BaselineCommand::Learn { paths, decode } => {
            let options = decode_options(decode, config)?;
            let mut output = LearnOutput::default();
            for input in input_files(paths)? {
                decode_path(&input.path, &options, &mut output);
            }

            let terms: Vec<BaselineTerm> = output
                .python
                .runs()
                .map(|run| BaselineTerm {
                    host: run.host.clone(),
                    kind: BASELINE_KIND.to_string(),
                    term: run.term.clone(),
                    first_seen: now,
                    source: "baseline learn".to_string(),
                })
                .collect();
            let user = current_user(&args.store, config)?;
            let added = runtime.block_on(store.learn_terms(&user, &terms))?;
            crate::output::stdout_line!("{} Python runs seen, {} new terms learned", terms.len(), added.len());
            for term in &added {
                crate::output::stdout_line!("  {}  {}", sanitize(&term.host), sanitize(&term.term));
            }
            Ok(if output.errors > 0 { Status::DecodeErrors } else { Status::Completed })
        }
        BaselineCommand::Add { host, term } => {
            let user = current_user(&args.store, config)?;
            let entry = BaselineTerm {
                host: host.to_lowercase(),
                kind: BASELINE_KIND.to_string(),
                term: term.clone(),
                first_seen: now,
                source: format!("added by {user}"),
            };
            let added = runtime.block_on(store.learn_terms(&user, &[entry]))?;
            crate::output::stdout_line!("{}", if added.is_empty() { "already known" } else { "added" });
            Ok(Status::Completed)
        }
        BaselineCommand::List { host } => {
            let terms = match host {
                Some(host) => runtime.block_on(store.baseline_terms(&host.to_lowercase(), BASELINE_KIND))?,
                None => runtime.block_on(store.baseline_all(BASELINE_KIND))?,
            };
            let mut out = io::stdout().lock();
            for term in terms {
                writeln!(out, "{}\t{}\t{}\t{}", sanitize(&term.host), sanitize(&term.term), term.first_seen.to_rfc3339(), sanitize(&term.source))
                    .context("cannot write to standard output")?;
            }
            Ok(Status::Completed)
        }
        BaselineCommand::Remove { host, term } => {
            let user = current_user(&args.store, config)?;
            let removed = runtime.block_on(store.forget_term(&user, &host.to_lowercase(), BASELINE_KIND, term))?;
            if !removed {
                anyhow::bail!("{host} has no baseline term {term:?}; `tocsin baseline list --host {host}` shows its terms");
            }
            crate::output::stdout_line!("removed");
            Ok(Status::Completed)
        }
    }
}
