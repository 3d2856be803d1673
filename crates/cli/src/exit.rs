use std::process::ExitCode;

/// Exit statuses shared by every command, documented in `tocsin --help`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 0: the command completed.
    Completed,
    /// 1: completed, with alerts or failed checks at or above `--fail-on`.
    Findings,
    /// 2: could not run: bad arguments, configuration or store.
    CouldNotRun,
    /// 3: completed, but some input could not be decoded, or a rule was rejected.
    DecodeErrors,
}

pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  completed
  1  completed with alerts at or above --fail-on LEVEL (only with that flag); audit-log
     verify found tampering; rules test had failing cases
  2  could not run: bad arguments, configuration or store
  3  completed, but some input could not be decoded, or (hunt, rules check) a rule was
     rejected";

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(match status {
            Status::Completed => 0,
            Status::Findings => 1,
            Status::CouldNotRun => 2,
            Status::DecodeErrors => 3,
        })
    }
}
