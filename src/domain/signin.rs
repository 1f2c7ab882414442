//! ЕСИА sign-in bookkeeping: the fresh `state` per attempt, the person ЕСИА vouched for,
//! and the one-time completion code that binds that person to the MAX user who started.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use time::OffsetDateTime;

use crate::config::Secret;
use crate::connectors::esia::EsiaPerson;
use crate::connectors::registry::PersonKeys;
use crate::domain::people::{name_birth_hash, snils_hash};
use crate::domain::sessions::token_hash;
use crate::store::{self, parse_ts, ts};

/// How long a started sign-in may take, and how long its completion code lives.
pub const ATTEMPT_LIFETIME: time::Duration = time::Duration::minutes(15);

/// A started sign-in whose callback has arrived.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub id: i64,
    pub state: String,
    pub max_user_id: i64,
}

/// Starts an attempt for the MAX user; returns the fresh state.
pub fn start(tx: &Transaction<'_>, max_user_id: i64, now: OffsetDateTime) -> store::Result<String> {
    let state = uuid::Uuid::new_v4().to_string();
    tx.execute(
        "INSERT INTO esia_states (state, max_user_id, expires_at, created_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![state, max_user_id, ts(now + ATTEMPT_LIFETIME), ts(now)],
    )?;
    Ok(state)
}

fn live(conn: &Connection, state: &str, now: OffsetDateTime) -> store::Result<Option<Attempt>> {
    let row: Option<(i64, i64, String, Option<String>)> = conn
        .query_row(
            "SELECT id, max_user_id, expires_at, used_at FROM esia_states WHERE state = ?1",
            [state],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    Ok(row.and_then(|(id, max_user_id, expires, used)| {
        let fresh = used.is_none() && parse_ts(&expires).is_some_and(|at| at > now);
        fresh.then(|| Attempt {
            id,
            state: state.to_string(),
            max_user_id,
        })
    }))
}

/// A started, unused, unexpired attempt (for `/auth/esia/start`).
pub fn pending(
    conn: &Connection,
    state: &str,
    now: OffsetDateTime,
) -> store::Result<Option<Attempt>> {
    live(conn, state, now)
}

/// Takes the attempt for the callback: it can be used once.
pub fn take(
    tx: &Transaction<'_>,
    state: &str,
    now: OffsetDateTime,
) -> store::Result<Option<Attempt>> {
    let Some(attempt) = live(tx, state, now)? else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE esia_states SET used_at = ?1 WHERE id = ?2",
        params![ts(now), attempt.id],
    )?;
    Ok(Some(attempt))
}

/// Remembers how an attempt ended (an error code), for support.
pub fn record_outcome(tx: &Transaction<'_>, attempt_id: i64, outcome: &str) -> store::Result<()> {
    tx.execute(
        "UPDATE esia_states SET outcome = ?1 WHERE id = ?2",
        params![outcome, attempt_id],
    )?;
    Ok(())
}

/// The keys to find the person's premises with.
pub fn person_keys(person: &EsiaPerson, snils_key: &Secret) -> PersonKeys {
    let full_name = person.full_name();
    PersonKeys {
        snils_hash: person
            .snils
            .as_deref()
            .and_then(|s| snils_hash(snils_key, s)),
        name_birth_hash: person
            .birth_date
            .as_deref()
            .filter(|_| !full_name.is_empty())
            .map(|birth| name_birth_hash(snils_key, &full_name, birth)),
        snils: person.snils.clone(),
        full_name,
        birth_date: person.birth_date.clone(),
    }
}

/// Stores the person ЕСИА vouched for and gives the attempt a one-time completion code.
/// Returns (person id, completion code).
pub fn record_person(
    tx: &Transaction<'_>,
    attempt: &Attempt,
    person: &EsiaPerson,
    keys: &PersonKeys,
    now: OffsetDateTime,
) -> store::Result<(i64, String)> {
    let at = ts(now);
    let address = person.address.clone().unwrap_or_default();
    tx.execute(
        "INSERT INTO people (esia_oid, trusted, name, snils_hash, name_birth_hash, \
         address_house_guid, address_flat, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) \
         ON CONFLICT (esia_oid) DO UPDATE SET trusted = excluded.trusted, name = excluded.name, \
         snils_hash = excluded.snils_hash, name_birth_hash = excluded.name_birth_hash, \
         address_house_guid = excluded.address_house_guid, \
         address_flat = excluded.address_flat, updated_at = excluded.updated_at",
        params![
            person.oid,
            person.trusted,
            keys.full_name,
            keys.snils_hash,
            keys.name_birth_hash,
            address.house_guid,
            address.flat,
            at
        ],
    )?;
    let person_id: i64 = tx.query_row(
        "SELECT id FROM people WHERE esia_oid = ?1",
        [&person.oid],
        |r| r.get(0),
    )?;
    let code = hex::encode(rand::random::<[u8; 24]>());
    tx.execute(
        "UPDATE esia_states SET person_id = ?1, completion_hash = ?2, outcome = 'signed_in', \
         expires_at = ?3 WHERE id = ?4",
        params![
            person_id,
            token_hash(&code),
            ts(now + ATTEMPT_LIFETIME),
            attempt.id
        ],
    )?;
    Ok((person_id, code))
}

/// id, max_user_id, person_id, expires_at, completed_at of an attempt.
type CompletionRow = (i64, i64, Option<i64>, String, Option<String>);

/// Binds the person to the MAX user when `code` completes an attempt that this MAX user
/// started. Returns the person id, or `None` for an unknown, used, expired or foreign code.
pub fn complete(
    tx: &Transaction<'_>,
    code: &str,
    max_user_id: i64,
    now: OffsetDateTime,
) -> store::Result<Option<i64>> {
    let row: Option<CompletionRow> = tx
        .query_row(
            "SELECT id, max_user_id, person_id, expires_at, completed_at FROM esia_states \
             WHERE completion_hash = ?1",
            [token_hash(code)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((id, owner, Some(person_id), expires, None)) = row else {
        return Ok(None);
    };
    if owner != max_user_id || parse_ts(&expires).is_none_or(|at| at <= now) {
        return Ok(None);
    }
    let at = ts(now);
    tx.execute(
        "UPDATE esia_states SET completed_at = ?1 WHERE id = ?2",
        params![at, id],
    )?;
    tx.execute(
        "UPDATE max_users SET person_id = ?1, updated_at = ?2 WHERE id = ?3",
        params![person_id, at, max_user_id],
    )?;
    tx.execute(
        "INSERT INTO usage_events (kind, max_user_id, person_id, day, created_at) \
         VALUES ('signed_in', ?1, ?2, ?3, ?4)",
        params![max_user_id, person_id, now.date().to_string(), at],
    )?;
    Ok(Some(person_id))
}

/// Signs the MAX user out of the person (the sessions stay, now without a person).
pub fn unbind(tx: &Transaction<'_>, max_user_id: i64, now: OffsetDateTime) -> store::Result<()> {
    tx.execute(
        "UPDATE max_users SET person_id = NULL, updated_at = ?1 WHERE id = ?2",
        params![ts(now), max_user_id],
    )?;
    Ok(())
}
