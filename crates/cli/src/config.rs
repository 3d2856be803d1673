//! The configuration file.
//!
//! Precedence, highest first: command-line flag, `TOCSIN_*` environment variable (both
//! handled by clap), configuration file, built-in default.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub decode: DecodeConfig,
    /// Store URL: `sqlite://PATH`, a plain path, or `postgres://...`.
    pub store: Option<String>,
    /// User the CLI acts as for role checks, when `--as` is not given.
    pub user: Option<String>,
    /// Folder for evidence files of a PostgreSQL store (a SQLite store keeps them beside its file).
    pub evidence_dir: Option<PathBuf>,
    pub audit: crate::commands::store_args::AuditConfig,
    pub incident: crate::commands::store_args::IncidentConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecodeConfig {
    pub year: Option<i32>,
    pub timezone: Option<String>,
    pub flow_log_format: Option<String>,
    pub threads: Option<usize>,
    pub max_line_bytes: Option<usize>,
}

impl Config {
    /// Loads `explicit` if given (it must exist), else the default file if it exists, else
    /// the built-in defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => match default_path() {
                Some(path) if path.exists() => path,
                _ => return Ok(Config::default()),
            },
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid configuration file {}", path.display()))
    }
}

/// Returns `$XDG_CONFIG_HOME/tocsin/config.toml`, with `~/.config` as the fallback that the
/// XDG base directory specification gives.
fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("tocsin").join("config.toml"))
}
