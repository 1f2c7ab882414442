//! Console sessions. The browser holds a random token in a cookie; the database keeps only
//! its SHA-256, the account, a CSRF token and when the session was last used. A session
//! ends after `console.session_hours` without use, on sign-out, or when its account is
//! disabled.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::staff::{Role, StaffMember};
use super::stamp;
use crate::store::{self, StoreError};

/// How often a session's last use is written down (not on every request).
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// A session as the browser gets it: the cookie token and the CSRF token.
#[derive(Clone, Debug)]
pub struct Issued {
    pub token: String,
    pub csrf_token: String,
}

/// A session found by its cookie.
#[derive(Clone, Debug)]
pub struct Active {
    pub id: i64,
    pub staff: StaffMember,
    pub csrf_token: String,
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Starts a session for `user_id`; also clears sessions that ran out long ago.
pub fn start(
    conn: &Connection,
    user_id: i64,
    idle: Duration,
    now: OffsetDateTime,
) -> Result<Issued, StoreError> {
    conn.execute(
        "DELETE FROM console_sessions WHERE last_seen_at < ?1",
        [stamp(now - idle)],
    )?;
    let issued = Issued {
        token: random_token(),
        csrf_token: random_token(),
    };
    conn.execute(
        "INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, \
         last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![
            token_hash(&issued.token),
            user_id,
            issued.csrf_token,
            stamp(now)
        ],
    )?;
    Ok(issued)
}

/// The live session of `token`, if it was used within `idle` and its account is enabled.
/// Notes the use.
pub fn find(
    conn: &Connection,
    token: &str,
    idle: Duration,
    now: OffsetDateTime,
) -> Result<Option<Active>, StoreError> {
    let row = conn
        .query_row(
            "SELECT s.id, s.csrf_token, s.last_seen_at, u.id, u.login, u.role, \
             u.organisation_id FROM console_sessions s \
             JOIN console_users u ON u.id = s.user_id \
             WHERE s.token_hash = ?1 AND u.disabled_at IS NULL",
            [token_hash(token)],
            |r| {
                let role: String = r.get(5)?;
                let last_seen: String = r.get(2)?;
                Ok((
                    Active {
                        id: r.get(0)?,
                        csrf_token: r.get(1)?,
                        staff: StaffMember {
                            id: r.get(3)?,
                            login: r.get(4)?,
                            role: Role::parse(&role).unwrap_or(Role::Operator),
                            organisation_id: r.get(6)?,
                        },
                    },
                    last_seen,
                ))
            },
        )
        .optional()?;
    let Some((active, last_seen)) = row else {
        return Ok(None);
    };
    let Some(last_seen) = store::parse_ts(&last_seen) else {
        return Ok(None);
    };
    if now - last_seen >= idle {
        conn.execute("DELETE FROM console_sessions WHERE id = ?1", [active.id])?;
        return Ok(None);
    }
    if now - last_seen >= TOUCH_EVERY {
        conn.execute(
            "UPDATE console_sessions SET last_seen_at = ?2 WHERE id = ?1",
            params![active.id, stamp(now)],
        )?;
    }
    Ok(Some(active))
}

/// Ends one session.
pub fn end(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM console_sessions WHERE id = ?1", [id])?;
    Ok(())
}

/// Ends every session of an account.
pub fn end_all(conn: &Connection, user_id: i64) -> Result<usize, StoreError> {
    Ok(conn.execute("DELETE FROM console_sessions WHERE user_id = ?1", [user_id])?)
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(tokens_equal("abc", "abc"));
        assert!(!tokens_equal("abc", "abd"));
        assert!(!tokens_equal("abc", "abcd"));
        assert!(!tokens_equal("", "a"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = random_token();
        assert_ne!(a, random_token());
        assert_eq!(a.len(), 43);
        assert_ne!(token_hash(&a), a);
    }
}
