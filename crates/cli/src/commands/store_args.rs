//! Store, user and incident settings shared by the commands that use the store.
//!
//! Precedence, highest first: flag, environment variable, configuration file, default.
//!
//! | setting | flag | environment | configuration key | default |
//! |---|---|---|---|---|
//! | store URL | `--store` | `TOCSIN_STORE` | `store` | `$XDG_DATA_HOME/tocsin/tocsin.db` |
//! | acting user | `--as` | `TOCSIN_USER` | `user` | the OS user (`$USER`, `$LOGNAME`) |
//! | audit HMAC key | | `TOCSIN_AUDIT_KEY` | `audit.key` | none |
//! | evidence folder | `--evidence-dir` | `TOCSIN_EVIDENCE_DIR` | `evidence_dir` | beside a SQLite store |
//! | policy, inventory | `--policy`, `--inventory` | | `incident.policy`, `incident.inventory` | built-in policy, empty inventory |
//! | grouping | | | `incident.window`, `incident.fields`, `[[incident.non_grouping]]` | see `tocsin-incident` |

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde::Deserialize;
use tocsin_incident::grouping::GroupingConfig;
use tocsin_incident::inventory::Inventory;
use tocsin_incident::policy::Policy;
use tocsin_store::{Store, StoreOptions};

/// Flags of every command that needs the store.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store: sqlite://PATH, a plain file path, or postgres://USER@HOST:PORT/DATABASE.
    /// Default: $XDG_DATA_HOME/tocsin/tocsin.db, created on first use.
    #[arg(long = "store", global = true, env = "TOCSIN_STORE", value_name = "URL")]
    pub store: Option<String>,

    /// Act as this user for role checks and the audit log. Default: the configuration's
    /// `user`, else the OS user.
    #[arg(long = "as", global = true, env = "TOCSIN_USER", value_name = "USER")]
    pub user: Option<String>,

    /// Folder for evidence files. Default: `<store file>.evidence` beside a SQLite store;
    /// required with PostgreSQL.
    #[arg(long, global = true, env = "TOCSIN_EVIDENCE_DIR", value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
}

/// Store flags of a command that can also run without the store (`hunt`).
#[derive(Debug, Args)]
pub struct OptionalStoreArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Run without the store: nothing is recorded.
    #[arg(long, conflicts_with = "store")]
    pub no_store: bool,
}

/// The configuration these commands read: the main configuration file.
pub type StoreConfig = crate::config::Config;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// HMAC key for audit entries. `TOCSIN_AUDIT_KEY` overrides it.
    pub key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentConfig {
    pub policy: Option<PathBuf>,
    pub inventory: Option<PathBuf>,
    pub window: Option<String>,
    pub fields: Option<Vec<String>>,
    pub non_grouping: Option<Vec<tocsin_incident::grouping::NonGrouping>>,
}

impl crate::config::Config {
    /// Returns the grouping settings: the configured ones over the defaults.
    pub fn grouping(&self) -> GroupingConfig {
        let mut config = GroupingConfig::default();
        if let Some(window) = &self.incident.window {
            config.window = window.clone();
        }
        if let Some(fields) = &self.incident.fields {
            config.fields = fields.clone();
        }
        if let Some(non_grouping) = &self.incident.non_grouping {
            config.non_grouping = non_grouping.clone();
        }
        config
    }

    pub fn policy(&self, flag: Option<&Path>) -> Result<Policy> {
        match flag.or(self.incident.policy.as_deref()) {
            Some(path) => Ok(Policy::load(path)?),
            None => Ok(Policy::default_policy()),
        }
    }

    pub fn inventory(&self, flag: Option<&Path>) -> Result<Inventory> {
        match flag.or(self.incident.inventory.as_deref()) {
            Some(path) => Ok(Inventory::load(path)?),
            None => Ok(Inventory::default()),
        }
    }
}


/// Builds a single-threaded async runtime for one command's store calls.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")
}

/// Returns the store URL: flag or environment, configuration, default file.
pub fn store_url(args: &StoreArgs, config: &StoreConfig) -> Result<String> {
    if let Some(url) = args.store.as_ref().or(config.store.as_ref()) {
        return Ok(url.clone());
    }
    match Store::default_path() {
        Some(path) => Ok(path.display().to_string()),
        None => bail!("no store given and neither XDG_DATA_HOME nor HOME is set: pass --store URL or set TOCSIN_STORE"),
    }
}

/// Opens (and migrates) the store the flags and configuration name.
pub async fn open_store(args: &StoreArgs, config: &StoreConfig) -> Result<Store> {
    let url = store_url(args, config)?;
    open_url(&url, args, config).await
}

/// Opens the store for a command that only reads it: a SQLite file that does not exist is an
/// error, not a new empty store, so that a mistyped `--store` cannot report an empty list or an
/// intact audit log.
pub async fn open_existing_store(args: &StoreArgs, config: &StoreConfig) -> Result<Store> {
    let url = store_url(args, config)?;
    if let tocsin_store::Location::Sqlite(path) = tocsin_store::Location::parse(&url)?
        && !path.exists()
    {
        bail!("no store at {}: check --store or TOCSIN_STORE (tocsin hunt creates the store on first use)", path.display());
    }
    open_url(&url, args, config).await
}

async fn open_url(url: &str, args: &StoreArgs, config: &StoreConfig) -> Result<Store> {
    let audit_key = match std::env::var("TOCSIN_AUDIT_KEY") {
        Ok(key) if !key.is_empty() => Some(key.into_bytes()),
        _ => config.audit.key.clone().map(String::into_bytes),
    };
    let options = StoreOptions {
        audit_key,
        evidence_dir: args.evidence_dir.clone().or_else(|| config.evidence_dir.clone()),
        ..StoreOptions::default()
    };
    Store::open_with(url, options).await.map_err(anyhow::Error::from)
}

/// Returns the acting user: `--as` or `TOCSIN_USER`, the configuration's `user`, else the OS
/// user.
pub fn current_user(args: &StoreArgs, config: &StoreConfig) -> Result<String> {
    if let Some(user) = args.user.as_ref().or(config.user.as_ref()) {
        return Ok(user.clone());
    }
    for variable in ["USER", "LOGNAME", "USERNAME"] {
        if let Ok(user) = std::env::var(variable)
            && !user.is_empty()
        {
            return Ok(user);
        }
    }
    if let Some(user) = os_user_from_passwd() {
        return Ok(user);
    }
    bail!("cannot tell who is acting: pass --as USER, set TOCSIN_USER, or set `user` in the configuration")
}

/// Looks up the name of the process's user in /etc/passwd, for sessions without `$USER`
/// (containers, cron). The owner of /proc/self is the process's real user.
fn os_user_from_passwd() -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_string())
    })
}
