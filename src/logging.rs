//! Log set-up: one line per event, to stderr (journald adds the time under systemd).

use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

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
    // Rocket's generated code logs from `<our module>::_`, and a failed data guard's line
    // quotes the request body (launch data, names): those lines never go out.
    let not_rocket_codegen = filter_fn(|meta| !meta.target().ends_with("::_"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false);
    let layer = match log.format {
        LogFormat::Json => fmt.json().with_filter(not_rocket_codegen).boxed(),
        LogFormat::Text => fmt.with_filter(not_rocket_codegen).boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
}
