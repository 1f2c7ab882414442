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
