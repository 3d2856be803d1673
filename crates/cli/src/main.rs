//! The `tocsin` command.
//!
//! `main` parses the arguments, runs the command and turns its outcome into an exit status
//! (see [`exit::Status`]); the commands live in [`commands`].

mod args;
mod commands;
mod config;
mod exit;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::exit::Status;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);

    let result = config::Config::load(cli.config.as_deref()).and_then(|config| match &cli.command {
        Command::Events(events) => commands::events::run(&cli, events, &config),
        Command::Hunt(hunt) => commands::hunt::run(&cli, hunt, &config),
        Command::Baseline(baseline) => commands::baseline::run(baseline, &config),
        Command::Rules(rules) => commands::rules::run(rules),
        Command::Incident(incident) => commands::incident::run(incident, &config),
        Command::AuditLog(audit_log) => commands::audit_log::run(audit_log, &config),
    });

    match result {
        Ok(status) => status.into(),
        // A closed pipe (`tocsin incident list | head`) ends the output early; that is no error.
        Err(error) if is_broken_pipe(&error) => Status::Completed.into(),
        Err(error) => {
            crate::output::stderr_line!("tocsin: {}", output::sanitize(&format!("{error:#}")));
            Status::CouldNotRun.into()
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}

/// Logs go to stderr so that stdout carries only the command's output.
fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    // The evtx crate logs every damaged record it meets. tocsin's EVTX decoder reports those
    // itself with file and offset, so the crate's own lines are off unless TOCSIN_LOG enables them.
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOCSIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default},evtx=off")));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}
