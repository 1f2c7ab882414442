//! The nightly backup: a consistent copy of the database in `<data_dir>/backups`, keeping
//! the newest `storage.backup_keep` copies.

use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use time::{OffsetDateTime, Time};

use crate::clock::SharedClock;
use crate::store::{self, Store};

/// Prefix of nightly copies; copies made before migrations use another, and are kept.
const PREFIX: &str = "nightly-";

/// Writes tonight's copy and removes the oldest beyond `keep`. Returns the new file.
pub fn run_once(
    store: &Store,
    dir: &Path,
    keep: u32,
    now: OffsetDateTime,
) -> store::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = format!(
        "{PREFIX}{:04}{:02}{:02}-{:02}{:02}{:02}.db",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let dest = dir.join(name);
    store.backup(&dest)?;
    prune(dir, keep)?;
    Ok(dest)
}

/// Keeps the newest `keep` nightly copies (names sort by time).
fn prune(dir: &Path, keep: u32) -> std::io::Result<()> {
    let mut copies: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".db"))
        })
        .collect();
    copies.sort();
    let excess = copies.len().saturating_sub(keep as usize);
    for old in copies.into_iter().take(excess) {
        std::fs::remove_file(old)?;
    }
    Ok(())
}

/// Time until the next 02:30 UTC.
fn until_next_run(now: OffsetDateTime) -> StdDuration {
    let at = Time::from_hms(2, 30, 0).unwrap_or(Time::MIDNIGHT);
    let mut next = now.replace_time(at);
    if next <= now {
        next += time::Duration::DAY;
    }
    StdDuration::try_from(next - now).unwrap_or(StdDuration::from_secs(3600))
}

/// Runs the nightly backup forever; does nothing when `keep` is 0.
pub fn spawn(
    store: Store,
    data_dir: PathBuf,
    keep: u32,
    clock: SharedClock,
) -> Option<tokio::task::JoinHandle<()>> {
    if keep == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let dir = data_dir.join("backups");
        loop {
            tokio::time::sleep(until_next_run(clock.now())).await;
            let (store, dir, now) = (store.clone(), dir.clone(), clock.now());
            let result =
                tokio::task::spawn_blocking(move || run_once(&store, &dir, keep, now)).await;
            match result {
                Ok(Ok(path)) => tracing::info!(path = %path.display(), "nightly backup written"),
                Ok(Err(e)) => tracing::error!(error = %e, "nightly backup failed"),
                Err(e) => tracing::error!(error = %e, "nightly backup stopped"),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Synchronous;

    #[test]
    fn keeps_the_newest_copies_and_leaves_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&store::Options {
            data_dir: dir.path().join("data"),
            synchronous: Synchronous::Normal,
            pool_size: 2,
        })
        .unwrap();
        let backups = dir.path().join("backups");
        std::fs::create_dir_all(&backups).unwrap();
        std::fs::write(backups.join("pre-migrate-v1-v2-1.db"), b"keep me").unwrap();
        let start = time::macros::datetime!(2026-11-01 02:30 UTC);
        let mut made = Vec::new();
        for day in 0..5 {
            made.push(run_once(&store, &backups, 3, start + time::Duration::days(day)).unwrap());
        }
        let mut left: Vec<String> = std::fs::read_dir(&backups)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "nightly-20261103-023000.db",
                "nightly-20261104-023000.db",
                "nightly-20261105-023000.db",
                "pre-migrate-v1-v2-1.db"
            ]
        );
        let copy = rusqlite::Connection::open(&made[4]).unwrap();
        let ok: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }

    #[test]
    fn the_next_run_is_tonight_or_tomorrow() {
        let before = time::macros::datetime!(2026-11-01 01:30 UTC);
        assert_eq!(until_next_run(before), StdDuration::from_secs(3600));
        let after = time::macros::datetime!(2026-11-01 03:30 UTC);
        assert_eq!(until_next_run(after), StdDuration::from_secs(23 * 3600));
    }
}
