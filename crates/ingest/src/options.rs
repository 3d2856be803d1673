use chrono_tz::Tz;

use crate::Format;

/// Decoder settings that the command line or config file may change.
#[derive(Clone, Debug)]
pub struct Options {
    /// Year for RFC 3164 syslog timestamps, which carry none. When unset, the file's
    /// modification time gives it, else the current date.
    pub year: Option<i32>,
    /// Time zone of RFC 3164 timestamps and other local times without an offset.
    pub timezone: Tz,
    /// Field order of VPC Flow Logs records in files without a header line, as AWS writes the
    /// format string: `version account-id interface-id ...` (the `${...}` form is accepted).
    pub flow_log_format: Option<String>,
    /// Maximum line length a text decoder accepts, in bytes. Longer lines are skipped and
    /// reported.
    pub max_line_bytes: usize,
    /// Largest archive member or stream that is read whole into memory (EVTX inside an
    /// archive, JSON documents), in bytes.
    pub max_buffered_bytes: u64,
    /// Largest decompressed size of one gzip stream or archive member, in bytes. Guards against
    /// decompression bombs; the member is reported and the rest of the input is still read.
    pub max_decompressed_bytes: u64,
    /// Threads the EVTX parser may use inside one file (0 = one per core).
    pub evtx_threads: usize,
    /// Decode every input (after opening archives) as this format instead of sniffing it.
    pub format: Option<Format>,
    /// Count an input whose format is not recognised as skipped instead of as an error. For
    /// files found by walking a folder, which often contains READMEs and other non-log files;
    /// a file named on the command line that cannot be recognised stays an error.
    pub skip_unrecognised: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            year: None,
            timezone: Tz::UTC,
            flow_log_format: None,
            max_line_bytes: 1 << 20,
            max_buffered_bytes: 1 << 30,
            max_decompressed_bytes: 16 << 30,
            evtx_threads: 1,
            format: None,
            skip_unrecognised: false,
        }
    }
}
