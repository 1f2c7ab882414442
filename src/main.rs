//! `gosdom`: command line → config → logging → store → jobs → web.

use std::process::ExitCode;

use clap::Parser;

use gosdom::cli::{Cli, Command};
use gosdom::config::{self, ConfigError};
use gosdom::server::{store_options, Service};
use gosdom::{logging, store};

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

    let result = match command {
        Command::CheckConfig { show } => {
            let source = loaded
                .file
                .as_ref()
                .map_or("built-in defaults".into(), |p| p.display().to_string());
            println!("config OK ({source}), mode {:?}", loaded.config.mode);
            if show {
                println!("{}", loaded.config.masked_toml());
            }
            Ok(())
        }
        Command::Migrate => store::Store::open(&store_options(&loaded.config))
            .map(|s| {
                println!(
                    "database at {} is at version {}",
                    s.path().display(),
                    store::known_version()
                )
            })
            .map_err(anyhow::Error::from),
        Command::Backup { file } => backup(&loaded.config, &file),
        Command::User { action } => gosdom::staff_cli::run(&loaded.config, action),
        Command::Serve => serve(loaded.config),
        Command::Version => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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

fn backup(config: &config::Config, file: &std::path::Path) -> anyhow::Result<()> {
    let store = store::Store::open(&store_options(config))?;
    store.backup(file)?;
    println!("backup written to {}", file.display());
    Ok(())
}

fn serve(config: config::Config) -> anyhow::Result<()> {
    let service = Service::prepare(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gosdom")
        .build()?;
    runtime.block_on(service.run())
}
