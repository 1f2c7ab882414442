//! What each command of the command line does, once the config is loaded and logging is
//! up. `main` parses and dispatches; the work lives here and in the modules it calls.

use crate::cli::{Command, Export, GisCommand, MaxAction};
use crate::config::{self, Loaded};
use crate::domain::readings;
use crate::server::{store_options, Service};
use crate::store;

/// Runs `command` with the loaded configuration.
pub fn run(command: Command, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        Command::CheckConfig { show } => {
            let source = loaded
                .file
                .as_ref()
                .map_or("built-in defaults".into(), |p| p.display().to_string());
            crate::output::line(format_args!(
                "config OK ({source}), mode {:?}",
                loaded.config.mode
            ))?;
            if show {
                crate::output::line(format_args!("{}", loaded.config.masked_toml()))?;
            }
            Ok(())
        }
        Command::Migrate => {
            let s = store::Store::open(&store_options(&loaded.config))?;
            crate::output::line(format_args!(
                "database at {} is at version {}",
                s.path().display(),
                store::known_version()
            ))?;
            Ok(())
        }
        Command::Organisations => organisations(&loaded.config),
        Command::Backup { file } => backup(&loaded.config, &file),
        Command::Max { action } => match action {
            MaxAction::Subscribe => crate::bot::cli::subscribe(&loaded.config),
            MaxAction::Status => crate::bot::cli::status(&loaded.config),
        },
        Command::Import { kind, file } => import(&loaded.config, kind, &file),
        Command::Gis {
            command: GisCommand::Sync,
        } => gis_sync(&loaded.config),
        Command::Export { what } => export(&loaded.config, what),
        Command::User { action } => crate::staff_cli::run(&loaded.config, action),
        Command::Serve => serve(loaded.config.clone()),
        Command::Version => Ok(()),
    }
}

/// `gosdom organisations`: id, ИНН and name of each УО, for `user add --organisation`.
fn organisations(config: &config::Config) -> anyhow::Result<()> {
    let store = store::Store::open(&store_options(config))?;
    let conn = store.conn()?;
    let mut stmt = conn.prepare("SELECT id, inn, name FROM organisations ORDER BY id")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    crate::output::line(format_args!("{:<6} {:<12} name", "id", "inn"))?;
    for (id, inn, name) in rows {
        crate::output::line(format_args!(
            "{id:<6} {:<12} {name}",
            inn.as_deref().unwrap_or("-")
        ))?;
    }
    Ok(())
}

fn backup(config: &config::Config, file: &std::path::Path) -> anyhow::Result<()> {
    let store = store::Store::open(&store_options(config))?;
    store.backup(file)?;
    crate::output::line(format_args!("backup written to {}", file.display()))?;
    Ok(())
}

fn import(
    config: &config::Config,
    kind: crate::connectors::registry::import::Kind,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::connectors::registry::import::{import_text, ImportError};
    let store = store::Store::open(&store_options(config))?;
    let key = crate::keys::load_or_create(
        &config.registry.snils_key,
        &config.storage.data_dir,
        "snils_key",
    )?;
    let now = time::OffsetDateTime::now_utc();
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let outcome = import_text(&store, kind, &text, &key, now);
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let outcome =
        crate::domain::console::register::record_cli(&store, kind, &name, &text, outcome, now);
    match outcome {
        Ok(report) => {
            crate::output::line(format_args!(
                "imported {} row(s) from {}: {} new, {} updated",
                report.rows,
                file.display(),
                report.created,
                report.updated
            ))?;
            Ok(())
        }
        Err(ImportError::Rows(rows)) => {
            for row in &rows {
                eprintln!("{}: line {}: {}", file.display(), row.line, row.reason);
            }
            anyhow::bail!("nothing was imported: {} row(s) have errors", rows.len())
        }
        Err(e) => Err(e.into()),
    }
}

fn gis_sync(config: &config::Config) -> anyhow::Result<()> {
    use crate::connectors::gis;
    let store = store::Store::open(&store_options(config))?;
    let client = gis::client_from_config(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let clock: crate::clock::SharedClock = std::sync::Arc::new(crate::clock::SystemClock);
    let sleep = |d: std::time::Duration| std::thread::sleep(d);
    let org = gis::org_ppa_guid(config);
    let report = gis::sync::Sync {
        store: &store,
        client: &client,
        clock: &clock,
        schedule: &config.gis.poll_seconds,
        org_ppa_guid: &org,
        sleep: &sleep,
    }
    .run()
    .map_err(|e| anyhow::anyhow!("{}", e.operator_message()))?;
    crate::output::line(format_args!(
        "ГИС ЖКХ sync: {} houses, {} added, {} updated, {} marked removed",
        report.houses, report.added, report.updated, report.removed
    ))?;
    Ok(())
}

fn export(config: &config::Config, what: Export) -> anyhow::Result<()> {
    let store = store::Store::open(&store_options(config))?;
    let conn = store.conn()?;
    match what {
        Export::Readings {
            period,
            organisation,
        } => {
            let rows = readings::export_period(&conn, period, organisation, std::io::stdout())?;
            eprintln!("{rows} readings of {period}");
        }
    }
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
