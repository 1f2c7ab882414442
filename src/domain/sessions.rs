//! Mini-app sessions: an opaque random token handed to the MAX user who opened the app
//! with valid launch data. Only the token's sha256 is stored; a session expires.

use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::connectors::max::launch::LaunchUser;
use crate::store::{self, parse_ts, ts};

/// A fresh session: the token goes to the client once and is never stored.
pub struct NewSession {
    pub token: String,
    pub expires_at: OffsetDateTime,
    pub max_user_id: i64,
    pub person_id: Option<i64>,
}

/// Who a valid token belongs to.
#[derive(Clone, Debug)]
pub struct SessionOwner {
    pub session_id: i64,
    pub max_user_id: i64,
    pub user_id: i64,
    pub first_name: String,
    pub person_id: Option<i64>,
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates or refreshes the MAX user; returns (max_users.id, person_id).
pub fn upsert_max_user(
    tx: &Transaction<'_>,
    user: &LaunchUser,
    now: OffsetDateTime,
) -> store::Result<(i64, Option<i64>)> {
    let at = ts(now);
    let first_name = user.first_name.clone().unwrap_or_default();
    tx.execute(
        "INSERT INTO max_users (user_id, first_name, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?3) \
         ON CONFLICT (user_id) DO UPDATE SET first_name = excluded.first_name, \
         updated_at = excluded.updated_at",
        params![user.id, first_name, at],
    )?;
    Ok(tx.query_row(
        "SELECT id, person_id FROM max_users WHERE user_id = ?1",
        [user.id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Opens a session for the MAX user who launched the app, and drops their expired ones.
pub fn open(
    tx: &Transaction<'_>,
    user: &LaunchUser,
    now: OffsetDateTime,
    lifetime: time::Duration,
) -> store::Result<NewSession> {
    let (max_user_id, person_id) = upsert_max_user(tx, user, now)?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let expires_at = now + lifetime;
    tx.execute(
        "INSERT INTO sessions (token_hash, max_user_id, expires_at, created_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![token_hash(&token), max_user_id, ts(expires_at), ts(now)],
    )?;
    let mut expired = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT id, expires_at FROM sessions WHERE max_user_id = ?1")?;
        let rows = stmt.query_map([max_user_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, at) = row?;
            if parse_ts(&at).is_none_or(|at| at <= now) {
                expired.push(id);
            }
        }
    }
    for id in expired {
        tx.execute("DELETE FROM sessions WHERE id = ?1", [id])?;
    }
    tx.execute(
        "INSERT INTO usage_events (kind, max_user_id, person_id, day, created_at) \
         VALUES ('app_opened', ?1, ?2, ?3, ?4)",
        params![max_user_id, person_id, now.date().to_string(), ts(now)],
    )?;
    Ok(NewSession {
        token,
        expires_at,
        max_user_id,
        person_id,
    })
}

/// Why a bearer token was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionProblem {
    Unknown,
    Expired,
}

/// The owner of a live session with this token.
pub fn resolve(
    conn: &Connection,
    token: &str,
    now: OffsetDateTime,
) -> store::Result<Result<SessionOwner, SessionProblem>> {
    let row = conn
        .query_row(
            "SELECT s.id, s.expires_at, u.id, u.user_id, u.first_name, u.person_id \
             FROM sessions s JOIN max_users u ON u.id = s.max_user_id \
             WHERE s.token_hash = ?1",
            [token_hash(token)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    SessionOwner {
                        session_id: r.get(0)?,
                        max_user_id: r.get(2)?,
                        user_id: r.get(3)?,
                        first_name: r.get(4)?,
                        person_id: r.get(5)?,
                    },
                ))
            },
        )
        .optional()?;
    Ok(match row {
        None => Err(SessionProblem::Unknown),
        Some((_, expires, owner)) => {
            if parse_ts(&expires).is_some_and(|at| at > now) {
                Ok(owner)
            } else {
                Err(SessionProblem::Expired)
            }
        }
    })
}

/// Ends one session (sign-out).
pub fn close(tx: &Transaction<'_>, session_id: i64) -> store::Result<()> {
    tx.execute("DELETE FROM sessions WHERE id = ?1", [session_id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Synchronous;
    use crate::store::{Options, Store};

    fn store(dir: &std::path::Path) -> Store {
        Store::open(&Options {
            data_dir: dir.to_path_buf(),
            synchronous: Synchronous::Normal,
            pool_size: 2,
        })
        .unwrap()
    }

    fn user(id: i64) -> LaunchUser {
        serde_json::from_value(serde_json::json!({"id": id, "first_name": "Вася"})).unwrap()
    }

    #[test]
    fn a_token_is_stored_hashed_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let hour = time::Duration::hours(1);
        let session = store
            .write_blocking(|tx| open(tx, &user(7), now, hour))
            .unwrap();
        let conn = store.conn().unwrap();
        let stored: String = conn
            .query_row("SELECT token_hash FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, session.token);
        assert_eq!(stored, token_hash(&session.token));

        let owner = resolve(&conn, &session.token, now).unwrap().unwrap();
        assert_eq!(owner.user_id, 7);
        assert_eq!(owner.person_id, None);
        assert_eq!(
            resolve(&conn, &session.token, now + hour)
                .unwrap()
                .unwrap_err(),
            SessionProblem::Expired
        );
        assert_eq!(
            resolve(&conn, "nope", now).unwrap().unwrap_err(),
            SessionProblem::Unknown
        );
    }

    #[test]
    fn the_same_max_user_is_one_row() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let hour = time::Duration::hours(1);
        let a = store
            .write_blocking(|tx| open(tx, &user(9), now, hour))
            .unwrap();
        let b = store
            .write_blocking(|tx| open(tx, &user(9), now + hour * 2, hour))
            .unwrap();
        assert_eq!(a.max_user_id, b.max_user_id);
        let conn = store.conn().unwrap();
        let sessions: i64 = conn
            .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sessions, 1, "the expired session was dropped");
    }
}
