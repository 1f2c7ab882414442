//! The command line: `gosdom [serve|check-config|migrate|backup|max|import|gis|export|organisations|user|version]`.

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
    CheckConfig {
        /// Also print the effective configuration (secrets masked).
        #[arg(long)]
        show: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Write a consistent copy of the database to FILE, also while the service runs.
    Backup {
        /// Where to write the copy; must not exist.
        file: PathBuf,
    },
    /// The MAX bot's webhook subscription.
    Max {
        #[command(subcommand)]
        action: MaxAction,
    },
    /// Import the УО's register from CSV (formats in docs/import.md): all rows or none.
    Import {
        /// What the file holds.
        #[arg(value_enum)]
        kind: crate::connectors::registry::import::Kind,
        /// The CSV file (UTF-8, comma or semicolon separated, with a header row).
        file: PathBuf,
    },
    /// ГИС ЖКХ exchange.
    Gis {
        #[command(subcommand)]
        command: GisCommand,
    },
    /// Write data out as CSV to stdout.
    Export {
        #[command(subcommand)]
        what: Export,
    },
    /// List the УО (organisations): id, ИНН and name — the id is what
    /// `user add --organisation` takes.
    Organisations,
    /// Manage the operator console's staff accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Print the version.
    Version,
}

#[derive(Debug, Subcommand)]
pub enum MaxAction {
    /// Register `<public_url>/bot/webhook` with MAX, with the secret and update types.
    Subscribe,
    /// Print the bot (`/me`) and its webhook subscriptions.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum GisCommand {
    /// Sync houses, premises, accounts and meters from ГИС ЖКХ now.
    Sync,
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

/// `gosdom user ...`: staff accounts of the operator console.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account. The password is read from standard input (asked twice on a
    /// terminal) or from --password-file, never from the command line.
    Add {
        /// Latin letters, digits, '.', '_' or '-'; stored in lower case.
        login: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The УО (organisations.id) the account works for. Required for an operator;
        /// an admin without one is a regional admin who sees every УО.
        #[arg(long)]
        organisation: Option<i64>,
        /// Read the password from this file (its first line).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// List the accounts.
    List,
    /// Disable an account: it can no longer sign in, its sessions end.
    Disable { login: String },
    /// Set a new password (read like `add` does); the account's sessions end.
    Password {
        login: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Operator,
    Admin,
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
