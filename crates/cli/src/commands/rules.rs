//! `tocsin rules check` and `tocsin rules test`.

use clap::{Args, Subcommand};

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use tocsin_event::Event;
use tocsin_ingest::{decode_path, Collect, Options};
use tocsin_sigma::{check_rules, run_regression_cases, Placeholders, RuleSetBuilder};

use crate::exit::Status;

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load Sigma rules and report, per rule, why any is rejected or inactive. Exits with 3
    /// when a rule is rejected.
    Check(RulesCheckArgs),
    /// Run SigmaHQ-style regression cases (a folder per case with info.yml and the sample)
    /// and print pass or fail per case. Exits with 1 when a case fails.
    Test(RulesTestArgs),
}

#[derive(Debug, Args)]
pub struct RulesCheckArgs {
    /// Rule files or folders of rules.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// YAML file mapping placeholder names to values, for rules that use `|expand`.
    #[arg(long, value_name = "FILE")]
    pub placeholders: Option<PathBuf>,

    /// Also list the accepted rules.
    #[arg(long = "all")]
    pub verbose_report: bool,
}

#[derive(Debug, Args)]
pub struct RulesTestArgs {
    /// Folder of regression cases, searched recursively for info.yml files.
    #[arg(value_name = "CASES_DIR")]
    pub cases: PathBuf,

    /// Rule files or folders of rules; each case names its rule by id.
    #[arg(long, required = true, value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// YAML file mapping placeholder names to values.
    #[arg(long, value_name = "FILE")]
    pub placeholders: Option<PathBuf>,
}

pub fn run(args: &RulesArgs) -> Result<Status> {
    match &args.command {
        RulesCommand::Check(args) => check(args),
        RulesCommand::Test(args) => test(args),
    }
}

fn placeholders(path: Option<&Path>) -> Result<Option<Placeholders>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the placeholder file {}", path.display()))?;
    let placeholders = Placeholders::from_yaml(&text, &path.display().to_string())?;
    Ok(Some(placeholders))
}

fn check(args: &RulesCheckArgs) -> Result<Status> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let (_, report) = check_rules(&args.paths, placeholders(args.placeholders.as_deref())?, args.verbose_report, &mut out)?;
    out.flush()?;
    Ok(if report.rejected() > 0 { Status::DecodeErrors } else { Status::Completed })
}

fn test(args: &RulesTestArgs) -> Result<Status> {
    let mut builder = RuleSetBuilder::new();
    if let Some(placeholders) = placeholders(args.placeholders.as_deref())? {
        builder.placeholders(placeholders);
    }
    for path in &args.rules {
        builder.add_path(path)?;
    }
    let (rules, _) = builder.build();

    let load_events = |path: &Path| -> Result<Vec<Event>, String> {
        let mut out = Collect::default();
        let stats = decode_path(path, &Options::default(), &mut out);
        if let Some(error) = out.errors.first() {
            return Err(error.to_string());
        }
        if stats.iter().all(|s| s.events == 0) {
            return Err(format!("{}: no events decoded", path.display()));
        }
        Ok(out.events)
    };

    let stdout = io::stdout();
    let mut out = stdout.lock();
    let summary = run_regression_cases(&args.cases, &rules, &load_events, &mut out)?;
    out.flush()?;
    Ok(if summary.failed() > 0 { Status::Findings } else { Status::Completed })
}
