//! The command line: `gosdom [serve|check-config|migrate|backup|export|version]`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "gosdom",
    version,
    about = "«Госуслуги Дом» for the MAX messenger"
)]
pub struct Cli {
    /// Config file; without it `./config.toml` is read when present, else the defaults.
    #[arg(long, global = true, env = "GOSDOM_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub overrides: Overrides,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve,
    /// Read and check the configuration, then exit: 0 when it is valid.
    CheckConfig,
    /// Apply database migrations and exit.
    Migrate,
    /// Write a consistent copy of the database to FILE, also while the service runs.
    Backup {
        /// Where to write the copy; must not exist.
        file: PathBuf,
    },
    /// Write data out as CSV to stdout.
    Export {
        #[command(subcommand)]
        what: Export,
    },
    /// Print the version.
    Version,
}

/// What `gosdom export` writes.
#[derive(Debug, Subcommand)]
pub enum Export {
    /// A month's readings for billing, one row per reading that counts.
    Readings {
        /// The month, YYYY-MM.
        #[arg(long)]
        period: crate::domain::readings::Period,
        /// Only this УО (organisation id); all of them without it.
        #[arg(long)]
        organisation: Option<i64>,
    },
}

/// Flags that override config keys for one run.
#[derive(Debug, Args, Default)]
pub struct Overrides {
    /// Overrides `server.address`.
    #[arg(long, global = true)]
    pub address: Option<String>,
    /// Overrides `server.port`.
    #[arg(long, global = true)]
    pub port: Option<String>,
    /// Overrides `storage.data_dir`.
    #[arg(long, global = true)]
    pub data_dir: Option<String>,
}

impl Overrides {
    /// The flags given, as dotted config keys.
    pub fn overrides(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(v) = &self.address {
            out.push(("server.address", v.clone()));
        }
        if let Some(v) = &self.port {
            out.push(("server.port", v.clone()));
        }
        if let Some(v) = &self.data_dir {
            out.push(("storage.data_dir", v.clone()));
        }
        out
    }
}
