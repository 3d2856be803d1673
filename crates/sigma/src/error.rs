//! Error types of the Sigma crate.

use std::fmt;
use std::path::PathBuf;

/// The kind of problem in a rule, a pipeline or a placeholder file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErrorKind {
    #[error("invalid YAML: {0}")]
    Yaml(String),
    #[error("missing required key `{0}`")]
    Missing(String),
    #[error("invalid value for `{key}`: {reason}")]
    Invalid { key: String, reason: String },
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("unknown value modifier `{0}`")]
    UnknownModifier(String),
    #[error("invalid condition `{condition}`: {reason}")]
    Condition { condition: String, reason: String },
    #[error("invalid regular expression `{pattern}`: {reason}")]
    Regex { pattern: String, reason: String },
    #[error("placeholder `%{0}%` has no values, so the rule stays inactive")]
    Placeholder(String),
    #[error("rule references `{0}`, which is not a loaded rule id or name")]
    UnknownRule(String),
}

/// An error in one rule document, with the file and line it came from where known.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    pub file: Option<PathBuf>,
    /// 1-based line of the offending key, or of the document start when the key is unknown.
    pub line: Option<usize>,
    pub kind: ErrorKind,
    /// The `id` and `title` of the rule, when the document got far enough to show them.
    pub rule_id: Option<String>,
    pub rule_title: Option<String>,
}

impl RuleError {
    pub fn new(kind: ErrorKind) -> Self {
        RuleError { file: None, line: None, kind, rule_id: None, rule_title: None }
    }

    pub fn located(file: Option<std::path::PathBuf>, line: Option<usize>, kind: ErrorKind) -> Self {
        RuleError { file, line, ..RuleError::new(kind) }
    }

    pub fn at(mut self, line: Option<usize>) -> Self {
        if self.line.is_none() {
            self.line = line;
        }
        self
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{}: {}", file.display(), line, self.kind),
            (Some(file), None) => write!(f, "{}: {}", file.display(), self.kind),
            (None, Some(line)) => write!(f, "line {}: {}", line, self.kind),
            (None, None) => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for RuleError {}

impl From<ErrorKind> for RuleError {
    fn from(kind: ErrorKind) -> Self {
        RuleError::new(kind)
    }
}

/// Errors of the crate's public API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Rule(#[from] RuleError),
    #[error("invalid processing pipeline {path}: {reason}")]
    Pipeline { path: String, reason: String },
    #[error("invalid placeholder file {path}: {reason}")]
    Placeholders { path: String, reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
