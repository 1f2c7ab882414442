//! The audit log: who changed what, when. `detail` holds ids and codes only, never
//! personal data.

use rusqlite::{params, Connection};
use time::OffsetDateTime;

use super::stamp;
use crate::store::StoreError;

/// Writes one entry; call inside the transaction that makes the change.
pub fn record(
    conn: &Connection,
    actor: &str,
    action: &str,
    object: &str,
    detail: serde_json::Value,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit_log (actor, action, object, detail, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![actor, action, object, detail.to_string(), stamp(now)],
    )?;
    Ok(())
}

/// An entry as admins see it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    pub at: String,
    /// `cli` for the server's shell, else `staff:<id>`.
    pub actor: String,
    /// The staff member's login, when the actor is one.
    pub actor_login: Option<String>,
    pub action: String,
    pub object: String,
}

/// The newest entries made by staff inside `scope` (a regional admin also sees the
/// shell's).
pub fn recent(
    scope: super::Scope,
    conn: &Connection,
    limit: u32,
) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.created_at, a.actor, u.login, a.action, a.object FROM audit_log a \
         LEFT JOIN console_users u ON a.actor = 'staff:' || u.id \
         WHERE (?1 IS NULL OR u.organisation_id = ?1) \
         ORDER BY a.id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![scope.organisation(), limit], |r| {
        Ok(Entry {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            actor_login: r.get(3)?,
            action: r.get(4)?,
            object: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
