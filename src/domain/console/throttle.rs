//! Login throttling. Wrong passwords are counted per login and per address; once either
//! count reaches `console.login_attempts`, every further attempt for that login or from
//! that address waits a delay that doubles with each further wrong password (30 s, 1 min,
//! 2 min … up to 15 min). While the delay runs, no password is checked at all, a right
//! one neither. Counts are forgotten an hour after the last wrong password; a right
//! password clears the count of its login.

use rusqlite::{params, Connection, OptionalExtension};
use time::{Duration, OffsetDateTime};

use super::stamp;
use crate::store::{self, StoreError};

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Wrong passwords allowed before attempts are slowed.
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// A count restarts when its last wrong password is older than this.
    pub forget_after: Duration,
}

impl Policy {
    pub fn new(attempts: u32) -> Self {
        Policy {
            attempts: attempts.max(1),
            first_delay: Duration::seconds(30),
            max_delay: Duration::minutes(15),
            forget_after: Duration::hours(1),
        }
    }

    /// The wait after the `failures`-th wrong password, if any.
    pub fn delay(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.attempts)?;
        let factor = 2i32.saturating_pow(over.min(20));
        Some((self.first_delay * factor).min(self.max_delay))
    }
}

/// The counters an attempt touches: its login and its address.
pub fn keys(login: &str, address: &str) -> [String; 2] {
    // Logins are at most 64 characters; a longer guess needs no key of its own.
    let login: String = login.trim().to_lowercase().chars().take(65).collect();
    [format!("login:{login}"), format!("address:{address}")]
}

/// How long the caller must still wait, if any of `keys` is slowed down.
pub fn wait(
    conn: &Connection,
    keys: &[String],
    now: OffsetDateTime,
) -> Result<Option<Duration>, StoreError> {
    let mut longest: Option<Duration> = None;
    for key in keys {
        let until: Option<String> = conn
            .query_row(
                "SELECT blocked_until FROM console_login_failures WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if let Some(until) = until.as_deref().and_then(store::parse_ts) {
            let left = until - now;
            if left > Duration::ZERO && longest.is_none_or(|l| left > l) {
                longest = Some(left);
            }
        }
    }
    Ok(longest)
}

/// Counts a wrong password against every key; returns the delay it set, if any.
pub fn record_failure(
    conn: &Connection,
    keys: &[String],
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Option<Duration>, StoreError> {
    conn.execute(
        "DELETE FROM console_login_failures WHERE last_failure_at < ?1 \
         AND (blocked_until IS NULL OR blocked_until < ?2)",
        params![stamp(now - policy.forget_after), stamp(now)],
    )?;
    let mut longest = None;
    for key in keys {
        let previous: Option<(u32, String)> = conn
            .query_row(
                "SELECT failures, last_failure_at FROM console_login_failures WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let failures = match previous {
            Some((n, last))
                if store::parse_ts(&last).is_some_and(|t| now - t < policy.forget_after) =>
            {
                n.saturating_add(1)
            }
            _ => 1,
        };
        let delay = policy.delay(failures);
        conn.execute(
            "INSERT INTO console_login_failures (key, failures, last_failure_at, blocked_until) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET failures = ?2, \
             last_failure_at = ?3, blocked_until = ?4",
            params![key, failures, stamp(now), delay.map(|d| stamp(now + d))],
        )?;
        if delay.is_some_and(|d| longest.is_none_or(|l| d > l)) {
            longest = delay;
        }
    }
    Ok(longest)
}

/// Forgets the wrong passwords counted against `key`.
pub fn clear(conn: &Connection, key: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM console_login_failures WHERE key = ?1", [key])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_starts_at_the_limit_and_doubles_up_to_a_cap() {
        let p = Policy::new(10);
        assert_eq!(p.delay(9), None);
        assert_eq!(p.delay(10), Some(Duration::seconds(30)));
        assert_eq!(p.delay(11), Some(Duration::seconds(60)));
        assert_eq!(p.delay(12), Some(Duration::seconds(120)));
        assert_eq!(p.delay(40), Some(Duration::minutes(15)));
    }

    #[test]
    fn counts_slow_down_and_are_forgotten() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE console_login_failures (key TEXT PRIMARY KEY, failures INTEGER, \
             last_failure_at TEXT, blocked_until TEXT)",
        )
        .unwrap();
        let now = time::macros::datetime!(2026-12-01 10:00 UTC);
        let keys = keys("Op", "10.0.0.1");
        let policy = Policy::new(3);
        for _ in 0..2 {
            assert_eq!(record_failure(&conn, &keys, &policy, now).unwrap(), None);
        }
        assert_eq!(wait(&conn, &keys, now).unwrap(), None);
        let set = record_failure(&conn, &keys, &policy, now).unwrap();
        assert_eq!(set, Some(Duration::seconds(30)));
        assert_eq!(
            wait(&conn, &keys, now + Duration::seconds(10)).unwrap(),
            Some(Duration::seconds(20))
        );
        assert_eq!(
            wait(&conn, &keys, now + Duration::seconds(30)).unwrap(),
            None
        );

        let later = now + Duration::hours(2);
        assert_eq!(record_failure(&conn, &keys, &policy, later).unwrap(), None);
        clear(&conn, &keys[0]).unwrap();
        assert_eq!(wait(&conn, &keys[..1], later).unwrap(), None);
    }
}
