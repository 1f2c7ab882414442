//! The SQLite store: one file under `storage.data_dir`, WAL, a small pool of connections
//! used from blocking threads only, and the embedded refinery migrations.
//!
//! Queries return [`StoreError`]; the web layer maps it to a 500 and logs it once.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::config::Synchronous;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "gosdom.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use storage.data_dir {path}: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error(
        "the database at {path} was written by a newer gosdom (schema version {found}, this \
         build knows up to {known}); install that version again or restore a backup"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "database migration failed: {reason}; the database is unchanged{copy}. Install the \
         previous version of gosdom again and report the error"
    )]
    Migration { reason: String, copy: String },
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database task stopped: {0}")]
    Join(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
pub type Conn = PooledConnection<SqliteConnectionManager>;

/// Cheap to clone: the pool is shared.
#[derive(Clone)]
pub struct Store {
    pool: Pool<SqliteConnectionManager>,
    path: PathBuf,
    /// Writers of this process take turns here before `BEGIN IMMEDIATE`. Without it they
    /// meet in SQLite's busy handler, which sleeps 1 ms to 100 ms between tries while the
    /// lock may already be free: under a burst of webhooks that is what made the slowest
    /// answers take seconds. Other processes (the CLI) still wait in the busy handler.
    writer: Arc<Mutex<()>>,
}

/// Opening options, from `[storage]`.
#[derive(Clone, Debug)]
pub struct Options {
    pub data_dir: PathBuf,
    pub synchronous: Synchronous,
    pub pool_size: u32,
}

impl Store {
    /// Prepares the data directory, migrates the database and opens the pool.
    pub fn open(options: &Options) -> Result<Store> {
        let path = prepare_data_dir(&options.data_dir)?.join(DB_FILE);

        let mut conn = Connection::open(&path).map_err(|e| StoreError::DataDir {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        configure(&conn, options.synchronous)?;
        migrate(&mut conn, &path)?;
        drop(conn);

        let sync = options.synchronous;
        let manager = SqliteConnectionManager::file(&path).with_init(move |c| configure(c, sync));
        let pool = Pool::builder()
            .max_size(options.pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)?;
        Ok(Store {
            pool,
            path,
            writer: Arc::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A connection for blocking code (jobs, CLI). Never call from the async runtime.
    pub fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` on a pooled connection on a blocking thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Join(e.to_string()))?
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`) on a blocking thread; commits
    /// when it returns `Ok`.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let (pool, writer) = (self.pool.clone(), self.writer.clone());
        tokio::task::spawn_blocking(move || {
            let _turn = writer.lock().unwrap_or_else(|e| e.into_inner());
            let mut conn = pool.get()?;
            write_tx(&mut conn, f)
        })
        .await
        .map_err(|e| StoreError::Join(e.to_string()))?
    }

    /// Blocking twin of [`Store::write`], for jobs and CLI commands.
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let _turn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut conn = self.conn()?;
        write_tx(&mut conn, f)
    }

    /// Writes a consistent copy of the live database to `dest` (which must not exist),
    /// while the service keeps serving.
    pub fn backup(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(StoreError::DataDir {
                path: dest.to_path_buf(),
                reason: "the file exists already; choose a new name".into(),
            });
        }
        let partial = dest.with_extension("partial");
        let _ = fs::remove_file(&partial);
        // The copy holds personal data: readable by its owner only (0600) from the start.
        // VACUUM INTO fills an empty file that exists.
        {
            use std::os::unix::fs::OpenOptionsExt;
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&partial)?;
        }
        let conn = self.conn()?;
        let target = partial.to_string_lossy().to_string();
        conn.execute("VACUUM INTO ?1", [&target])?;
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&partial, fs::Permissions::from_mode(0o600))?;
        }
        fs::rename(&partial, dest)?;
        Ok(())
    }

    /// The database answers a query: the health probe.
    pub fn healthy(conn: &Connection) -> bool {
        conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
            .is_ok()
    }
}

fn write_tx<T>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

/// Creates the directory with mode 0700 if missing and proves it is writable.
fn prepare_data_dir(dir: &Path) -> Result<PathBuf> {
    let fail = |e: std::io::Error| StoreError::DataDir {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(fail)?;
        set_private(dir).map_err(fail)?;
    }
    if !dir.is_dir() {
        return Err(StoreError::DataDir {
            path: dir.to_path_buf(),
            reason: "it is not a directory".into(),
        });
    }
    let probe = dir.join(".write-test");
    fs::write(&probe, b"").map_err(fail)?;
    let _ = fs::remove_file(&probe);
    Ok(dir.to_path_buf())
}

#[cfg(unix)]
fn set_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn set_private(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

fn configure(conn: &Connection, sync: Synchronous) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(
        None,
        "synchronous",
        match sync {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        },
    )?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// The highest migration version this build carries.
pub fn known_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// The highest migration version applied to this database, 0 for a new one.
pub fn applied_version(conn: &Connection) -> Result<i64> {
    let has_history: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if has_history.is_none() {
        return Ok(0);
    }
    let version: Option<i64> = conn.query_row(
        "SELECT MAX(version) FROM refinery_schema_history",
        [],
        |r| r.get(0),
    )?;
    Ok(version.unwrap_or(0))
}

/// Applies pending migrations; refuses a database from a newer build. Returns the versions
/// applied now.
fn migrate(conn: &mut Connection, path: &Path) -> Result<Vec<i64>> {
    let found = applied_version(conn)?;
    let known = known_version();
    if found > known {
        return Err(StoreError::Newer {
            path: path.to_path_buf(),
            found,
            known,
        });
    }
    // An existing database is copied before it changes shape: a way back for the operator.
    let copy = if found > 0 && found < known {
        Some(pre_migration_copy(conn, path, found, known)?)
    } else {
        None
    };
    let report = embedded::migrations::runner()
        .set_abort_divergent(true)
        .run(conn)
        .map_err(|e| StoreError::Migration {
            reason: e.to_string(),
            copy: copy
                .as_ref()
                .map(|p| format!(" (a copy taken before migrating is {})", p.display()))
                .unwrap_or_default(),
        })?;
    let applied: Vec<i64> = report
        .applied_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .collect();
    if !applied.is_empty() {
        tracing::info!(versions = ?applied, "database migrated");
    }
    Ok(applied)
}

/// Copies the database to `<data_dir>/backups/pre-migrate-v<from>-v<to>-<unix time>.db`.
fn pre_migration_copy(conn: &Connection, path: &Path, from: i64, to: i64) -> Result<PathBuf> {
    let dir = path
        .parent()
        .map(|p| p.join("backups"))
        .unwrap_or_else(|| PathBuf::from("backups"));
    fs::create_dir_all(&dir)?;
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let dest = dir.join(format!("pre-migrate-v{from}-v{to}-{stamp}.db"));
    conn.execute("VACUUM INTO ?1", [dest.to_string_lossy().as_ref()])?;
    tracing::info!(path = %dest.display(), "database copied before migrating");
    Ok(dest)
}

/// Current UTC time as stored in the database.
pub fn ts(at: time::OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Parses a stored timestamp.
pub fn parse_ts(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path) -> Options {
        Options {
            data_dir: dir.to_path_buf(),
            synchronous: Synchronous::Full,
            pool_size: 2,
        }
    }

    #[test]
    fn opens_an_empty_directory_and_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested/data");
        let store = Store::open(&options(&data)).unwrap();
        let conn = store.conn().unwrap();
        assert_eq!(applied_version(&conn).unwrap(), known_version());
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        drop(conn);
        drop(store);

        let mut conn = Connection::open(data.join(DB_FILE)).unwrap();
        assert!(migrate(&mut conn, &data).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_new_data_dir_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d");
        Store::open(&options(&data)).unwrap();
        let mode = fs::metadata(&data).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Store::open(&options(dir.path())).unwrap();
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
             VALUES (9999, 'future', '2030-01-01T00:00:00Z', '1')",
            [],
        )
        .unwrap();
        drop(conn);
        let err = Store::open(&options(dir.path())).err().unwrap();
        let text = err.to_string();
        assert!(
            text.contains("newer gosdom") && text.contains("9999"),
            "{text}"
        );
    }

    #[test]
    fn a_file_in_place_of_the_data_dir_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data");
        fs::write(&file, b"x").unwrap();
        let err = Store::open(&options(&file)).err().unwrap().to_string();
        assert!(
            err.contains("storage.data_dir") && err.contains("not a directory"),
            "{err}"
        );
    }

    #[test]
    fn backup_is_a_consistent_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&options(&dir.path().join("d"))).unwrap();
        store
            .write_blocking(|tx| {
                tx.execute(
                    "INSERT INTO kv (key, value, updated_at) VALUES ('a', 'b', 'now')",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let dest = dir.path().join("copy.db");
        store.backup(&dest).unwrap();
        let copy = Connection::open(&dest).unwrap();
        let check: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let value: String = copy
            .query_row("SELECT value FROM kv", [], |r| r.get(0))
            .unwrap();
        assert_eq!(value, "b");
        assert!(
            store.backup(&dest).is_err(),
            "an existing file is never overwritten"
        );
    }
}
