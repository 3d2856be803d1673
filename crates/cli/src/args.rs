use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::EXIT_STATUS_HELP;

/// Security incident response for cloud infrastructure.
#[derive(Debug, Parser)]
#[command(name = "tocsin", version, after_help = EXIT_STATUS_HELP)]
pub struct Cli {
    /// Configuration file (TOML). Default: $XDG_CONFIG_HOME/tocsin/config.toml, if it exists.
    #[arg(long, global = true, env = "TOCSIN_CONFIG", value_name = "FILE", help_heading = "Global options")]
    pub config: Option<PathBuf>,

    /// More log output on stderr (-v info, -vv debug, -vvv trace). TOCSIN_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,

    /// Only errors on stderr; no progress bar.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode log files and print their events.
    #[command(after_help = EXIT_STATUS_HELP)]
    Events(EventsArgs),

    /// Run the detection rules over log files, print the alerts and record them, grouped
    /// into incidents, in the store.
    #[command(after_help = EXIT_STATUS_HELP)]
    Hunt(HuntArgs),

    /// Check Sigma rules, or run regression cases against them.
    #[command(after_help = EXIT_STATUS_HELP)]
    Rules(crate::commands::rules::RulesArgs),

    /// The per-host baseline of known Python scripts: learn it from logs, or add, list and
    /// remove terms.
    #[command(after_help = EXIT_STATUS_HELP)]
    Baseline(crate::commands::baseline::BaselineArgs),

    /// Incidents: list, show, open, classify, assign, move, note, task, evidence, observable,
    /// close, report.
    #[command(after_help = EXIT_STATUS_HELP)]
    Incident(crate::commands::incident::IncidentArgs),

    /// The hash-chained audit log: print its head, or verify it.
    #[command(name = "audit-log", after_help = crate::commands::audit_log::AUDIT_LOG_HELP)]
    AuditLog(crate::commands::audit_log::AuditLogArgs),
}

/// Decoder settings shared by every command that reads logs.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Year of RFC 3164 syslog timestamps, which carry none. Default: the file's
    /// modification year (with the December to January roll-over), else the current year.
    #[arg(long, env = "TOCSIN_YEAR")]
    pub year: Option<i32>,

    /// Time zone of syslog timestamps without an offset, as an IANA name (Europe/Berlin).
    /// Default: UTC.
    #[arg(long, env = "TOCSIN_TIMEZONE", value_name = "TZ")]
    pub timezone: Option<String>,

    /// Field order of VPC Flow Logs files that have no header line, as in the flow log's
    /// LogFormat: "version account-id interface-id srcaddr ...".
    #[arg(long, env = "TOCSIN_FLOW_LOG_FORMAT", value_name = "FIELDS")]
    pub flow_log_format: Option<String>,

    /// Decode every input as this format instead of recognising it from its content
    /// (evtx, windows-xml, windows-json, syslog, journald, auditd, vpcflow, cloudtrail,
    /// cloudwatch-subscription, cloudwatch-events, cloudwatch-export, guardduty, securityhub).
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<String>,

    /// Worker threads for decoding (0 = one per core).
    #[arg(long, env = "TOCSIN_THREADS", value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Files or folders (read recursively) to decode; `-` reads standard input. Archives
    /// (gzip, zip, tar.gz) are opened.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format: JSON lines (ECS documents), CSV, or a table for reading.
    #[arg(long, value_enum, default_value_t = EventFormat::Json)]
    pub format: EventFormat,

    /// Print per-file and per-format counts of records, events, errors and skips to stderr.
    #[arg(long)]
    pub stats: bool,

    #[command(flatten)]
    pub decode: DecodeArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EventFormat {
    Json,
    Csv,
    Table,
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Files or folders (read recursively) to hunt through; `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// A Sigma rule file or a folder of rules, loaded after the built-in rules. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Do not load the rules built into tocsin.
    #[arg(long)]
    pub no_builtin: bool,

    /// YAML file mapping Sigma placeholder names to values, for rules that use `|expand`
    /// (the built-in rules read `org_egress_addresses`: the organisation's egress networks).
    #[arg(long, value_name = "FILE", env = "TOCSIN_PLACEHOLDERS")]
    pub placeholders: Option<PathBuf>,

    /// Show only alerts at or above this level (informational, low, medium, high, critical).
    #[arg(long, value_name = "LEVEL")]
    pub min_level: Option<tocsin_detect::Level>,

    /// Exit with status 1 when an alert that is not suppressed is at or above this level.
    #[arg(long, value_name = "LEVEL")]
    pub fail_on: Option<tocsin_detect::Level>,

    /// Output format. Default: a table on a terminal, JSON lines otherwise.
    #[arg(long, value_enum)]
    pub format: Option<AlertFormat>,

    /// Write an ATT&CK Navigator layer of the techniques that fired to this file.
    #[arg(long, value_name = "FILE")]
    pub attack_layer: Option<PathBuf>,

    /// Suppression file (YAML: rule, entity, expiry, reason); matching alerts are reported
    /// as suppressed. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub suppress: Vec<PathBuf>,

    /// Asset inventory (YAML, or `aws ec2 describe-instances` JSON) used to classify the
    /// incidents the alerts open. Default: the configuration's `incident.inventory`.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,

    /// Classification policy (YAML). Default: the configuration's `incident.policy`, else
    /// the built-in policy.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    #[command(flatten)]
    pub store: crate::commands::store_args::OptionalStoreArgs,

    #[command(flatten)]
    pub decode: DecodeArgs,
}

impl HuntArgs {
    /// Returns the output format: the flag, else a table for a terminal and JSON lines for a pipe.
    pub fn format(&self) -> AlertFormat {
        use std::io::IsTerminal;
        self.format.unwrap_or(if std::io::stdout().is_terminal() { AlertFormat::Table } else { AlertFormat::Json })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlertFormat {
    Table,
    Json,
    Csv,
}
