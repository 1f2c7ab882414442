//! «Дома и чаты»: the houses of the staff member's УО with their premises, linked
//! residents and bound MAX chat.

use rusqlite::Connection;
use serde::Serialize;

use super::Scope;
use crate::store::StoreError;

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
}

/// Houses inside `scope`, by address.
pub fn list(scope: Scope, conn: &Connection) -> Result<Vec<HouseRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.id, h.address, h.organisation_id, o.name, h.max_chat_id, \
           (SELECT COUNT(*) FROM premises p WHERE p.house_id = h.id AND p.removed_at IS NULL), \
           (SELECT COUNT(DISTINCT l.person_id) FROM property_links l \
              JOIN premises p ON p.id = l.premise_id \
              WHERE p.house_id = h.id AND l.status = 'linked') \
         FROM houses h JOIN organisations o ON o.id = h.organisation_id \
         WHERE (?1 IS NULL OR h.organisation_id = ?1) AND h.removed_at IS NULL \
         ORDER BY o.name, h.address, h.id",
    )?;
    let rows = stmt.query_map([scope.organisation()], |r| {
        Ok(HouseRow {
            id: r.get(0)?,
            address: r.get(1)?,
            organisation_id: r.get(2)?,
            organisation_name: r.get(3)?,
            chat_id: r.get(4)?,
            premises: r.get(5)?,
            linked_residents: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
