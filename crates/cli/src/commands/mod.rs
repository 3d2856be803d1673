//! One module per subcommand.

pub mod audit_log;
pub mod baseline;
pub mod events;
pub mod hunt;
pub mod rules;
pub mod incident;
pub mod store_args;

use anyhow::{bail, Result};
use tocsin_ingest::{Format, Options};

use crate::args::DecodeArgs;
use crate::config::Config;

/// Builds decoder options from flags and environment (already merged by clap), then the
/// configuration file, then defaults.
pub fn decode_options(args: &DecodeArgs, config: &Config) -> Result<Options> {
    let mut options = Options { year: args.year.or(config.decode.year), ..Options::default() };

    if let Some(name) = args.timezone.as_ref().or(config.decode.timezone.as_ref()) {
        options.timezone = match name.parse() {
            Ok(tz) => tz,
            Err(_) => bail!("unknown time zone {name:?}: give an IANA name such as UTC or Europe/Berlin"),
        };
    }
    options.flow_log_format = args.flow_log_format.clone().or_else(|| config.decode.flow_log_format.clone());
    if let Some(name) = &args.input_format {
        let Some(format) = Format::from_name(name) else {
            let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            bail!("unknown input format {name:?}: use one of {}", known.join(", "));
        };
        options.format = Some(format);
    }
    if let Some(max) = config.decode.max_line_bytes {
        options.max_line_bytes = max;
    }
    Ok(options)
}

/// Number of decoding threads: the flag, the configuration, else one per core.
pub fn threads(args: &DecodeArgs, config: &Config) -> usize {
    match args.threads.or(config.decode.threads) {
        Some(0) | None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        Some(n) => n,
    }
}
