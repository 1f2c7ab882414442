//! `gosdom`: command line → config → logging → store → jobs → web.

use std::process::ExitCode;

use clap::Parser;

use gosdom::cli::{Cli, Command};
use gosdom::config::{self, ConfigError};
use gosdom::logging;

/// Exit code for a configuration the operator must fix.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Version = command {
        println!("gosdom {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }

    let overrides = cli.overrides.overrides();
    let file = config::resolve_path(cli.config.as_deref());
    let loaded = match config::load(file.as_deref(), &overrides) {
        Ok(loaded) => loaded,
        Err(e) => return config_error(&e),
    };
    logging::init(&loaded.config.log);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }

    let result = gosdom::commands::run(command, &loaded);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `gosdom ... | head`: the reader has all it wanted; not an error.
        Err(e) if gosdom::output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn config_error(e: &ConfigError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_CONFIG)
}
