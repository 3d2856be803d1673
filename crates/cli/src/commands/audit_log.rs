//! `tocsin audit-log`: print the head of the hash-chained audit log, or verify the chain.

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::commands::store_args::{StoreArgs, StoreConfig, open_existing_store, runtime};
use crate::exit::Status;
use crate::output::sanitize;

pub const AUDIT_LOG_HELP: &str = "\
Exit status:
  0  completed (verify: the audit log is intact)
  1  verify: the audit log failed verification; each problem is printed
  2  could not run: bad arguments, configuration or store";

#[derive(Debug, Args)]
pub struct AuditLogArgs {
    #[command(subcommand)]
    pub command: AuditLogCommand,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum AuditLogCommand {
    /// Print the last entry's sequence number and hash ("SEQ HASH"). Keep it outside the
    /// store, e.g. in a ticket or a log server, to check the chain against it later.
    Head,
    /// Recompute the chain and report edited, deleted or truncated entries and a rewritten
    /// chain. With TOCSIN_AUDIT_KEY (or audit.key in the configuration) the HMACs are checked.
    Verify {
        /// A head hash saved earlier; verification fails when the chain no longer contains it.
        #[arg(long, value_name = "HASH")]
        expect_head: Option<String>,
    },
}

pub fn run(args: &AuditLogArgs, config: &StoreConfig) -> Result<Status> {
    runtime()?.block_on(async {
        let store = open_existing_store(&args.store, config).await?;
        match &args.command {
            AuditLogCommand::Head => {
                crate::output::stdout_line!("{}", store.audit_head().await?);
                Ok(Status::Completed)
            }
            AuditLogCommand::Verify { expect_head } => {
                let report = store.verify_audit_log(expect_head.as_deref()).await?;
                let head = report.head.as_ref().map(|h| h.to_string()).unwrap_or_else(|| "0 (empty)".to_string());
                let hmac = if report.hmac_checked { "HMACs checked" } else { "no HMAC key given, HMACs not checked" };
                if report.is_intact() {
                    crate::output::stdout_line!("audit log intact: {} entries, head {head}, {hmac}", report.entries);
                    return Ok(Status::Completed);
                }
                crate::output::stdout_line!("audit log FAILED verification: {} entries read, {} problems, {hmac}", report.entries, report.problems.len());
                for problem in &report.problems {
                    crate::output::stdout_line!("  {}", sanitize(problem));
                }
                Ok(Status::Findings)
            }
        }
    })
}
