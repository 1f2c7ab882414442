//! Log set-up: one line per event, to stderr (journald adds the time under systemd).

use tracing_subscriber::EnvFilter;

use crate::config::{Log, LogFormat};

/// Installs the global subscriber; later calls (tests) are ignored.
pub fn init(log: &Log) {
    // Rocket's own lines carry request paths and query strings: our request log replaces
    // them. Its start-up errors come back from `launch` and are reported there.
    let directives = format!(
        "{},rocket=off,_=off,hyper=off,refinery_core=warn",
        log.level
    );
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false);
    let _ = match log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
