//! «Дома и чаты»: the houses of the staff member's УО with their premises, linked
//! residents and bound MAX chat.

use rusqlite::Connection;
use serde::Serialize;

use super::Scope;
use crate::store::{ts, StoreError};

#[derive(Clone, Debug, Serialize)]
pub struct HouseRow {
    pub id: i64,
    pub address: String,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub premises: i64,
    /// People with a linked property in the house.
    pub linked_residents: i64,
    /// The bound MAX chat, if any.
    pub chat_id: Option<i64>,
    pub chat_title: Option<String>,
    pub chat_link: Option<String>,
    /// When the bot was removed from the house's chat (which unbound it).
    pub chat_removed_at: Option<String>,
    /// Residents who asked for a house chat.
    pub chat_wishes: i64,
    /// When the house's unused binding code expires, if it has one.
    pub code_expires_at: Option<String>,
}

/// Houses inside `scope`, by address.
pub fn list(
    scope: Scope,
    conn: &Connection,
    now: time::OffsetDateTime,
) -> Result<Vec<HouseRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.id, h.address, h.organisation_id, o.name, h.max_chat_id, \
           (SELECT COUNT(*) FROM premises p WHERE p.house_id = h.id AND p.removed_at IS NULL), \
           (SELECT COUNT(DISTINCT l.person_id) FROM property_links l \
              JOIN premises p ON p.id = l.premise_id \
              WHERE p.house_id = h.id AND l.status = 'linked'), \
           c.title, c.link, h.chat_removed_at, \
           (SELECT COUNT(*) FROM house_chat_wishes w WHERE w.house_id = h.id), \
           (SELECT MAX(b.expires_at) FROM chat_bind_codes b WHERE b.house_id = h.id \
              AND b.used_at IS NULL AND b.expires_at > ?2) \
         FROM houses h JOIN organisations o ON o.id = h.organisation_id \
         LEFT JOIN max_chats c ON c.chat_id = h.max_chat_id \
         WHERE (?1 IS NULL OR h.organisation_id = ?1) AND h.removed_at IS NULL \
         ORDER BY o.name, h.address, h.id",
    )?;
    let rows = stmt.query_map(rusqlite::params![scope.organisation(), ts(now)], |r| {
        Ok(HouseRow {
            id: r.get(0)?,
            address: r.get(1)?,
            organisation_id: r.get(2)?,
            organisation_name: r.get(3)?,
            chat_id: r.get(4)?,
            premises: r.get(5)?,
            linked_residents: r.get(6)?,
            chat_title: r.get(7)?,
            chat_link: r.get(8)?,
            chat_removed_at: r.get(9)?,
            chat_wishes: r.get(10)?,
            code_expires_at: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// A house inside `scope` that is not removed: its address.
pub fn in_scope(scope: Scope, conn: &Connection, id: i64) -> Result<Option<String>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT address FROM houses WHERE id = ?1 AND removed_at IS NULL \
             AND (?2 IS NULL OR organisation_id = ?2)",
            rusqlite::params![id, scope.organisation()],
            |r| r.get(0),
        )
        .optional()?)
}
