//! The owners register as admins see it in the console: per house, how many premises
//! have owners on record and how many are linked to residents; and the register imports
//! made in the console with their outcome and wrong lines. Owners are counted, never
//! named: no name, СНИЛС or birth date leaves this module.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{stamp, Scope};
use crate::store::StoreError;

/// One house's register figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HouseRegister {
    pub id: i64,
    pub address: String,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub premises: i64,
    /// Premises with at least one owner in the register.
    pub with_owners: i64,
    /// Owner records in the register.
    pub owners: i64,
    /// Premises that at least one resident has linked.
    pub linked: i64,
    /// Premises with at least one account (ЛС).
    pub with_accounts: i64,
}

/// Register figures of the houses inside `scope`, by address.
pub fn houses(scope: Scope, conn: &Connection) -> Result<Vec<HouseRegister>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.id, h.address, h.organisation_id, o.name, \
           COUNT(p.id), \
           COUNT(CASE WHEN EXISTS (SELECT 1 FROM owners o WHERE o.premise_id = p.id) \
                 THEN 1 END), \
           COALESCE(SUM((SELECT COUNT(*) FROM owners o WHERE o.premise_id = p.id)), 0), \
           COUNT(CASE WHEN EXISTS (SELECT 1 FROM property_links l \
                 WHERE l.premise_id = p.id AND l.status = 'linked') THEN 1 END), \
           COUNT(CASE WHEN EXISTS (SELECT 1 FROM accounts a \
                 WHERE a.premise_id = p.id AND a.removed_at IS NULL) THEN 1 END) \
         FROM houses h JOIN organisations o ON o.id = h.organisation_id \
         LEFT JOIN premises p ON p.house_id = h.id AND p.removed_at IS NULL \
         WHERE (?1 IS NULL OR h.organisation_id = ?1) AND h.removed_at IS NULL \
         GROUP BY h.id ORDER BY o.name, h.address, h.id",
    )?;
    let rows = stmt.query_map([scope.organisation()], |r| {
        Ok(HouseRegister {
            id: r.get(0)?,
            address: r.get(1)?,
            organisation_id: r.get(2)?,
            organisation_name: r.get(3)?,
            premises: r.get(4)?,
            with_owners: r.get(5)?,
            owners: r.get(6)?,
            linked: r.get(7)?,
            with_accounts: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// A wrong line of an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    pub line: u64,
    pub reason: String,
}

/// An import to record.
#[derive(Clone, Debug)]
pub struct NewImport {
    pub organisation_id: Option<i64>,
    pub kind: &'static str,
    pub actor: String,
    pub file_name: String,
    /// Everything was written (`true`) or nothing (`false`).
    pub done: bool,
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    pub errors: Vec<LineError>,
}

/// Records an import; returns its id.
pub fn record(
    conn: &Connection,
    import: &NewImport,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    let errors = serde_json::to_string(&import.errors).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT INTO register_imports (organisation_id, kind, actor, file_name, outcome, lines, \
         created, updated, errors, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            import.organisation_id,
            import.kind,
            import.actor,
            import.file_name,
            if import.done { "done" } else { "failed" },
            import.lines as i64,
            import.created as i64,
            import.updated as i64,
            errors,
            stamp(now),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// An import as the console shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportRow {
    pub id: i64,
    pub at: String,
    pub kind: String,
    pub file_name: String,
    /// done or failed
    pub outcome: String,
    pub lines: i64,
    pub created: i64,
    pub updated: i64,
    pub errors: Vec<LineError>,
}

/// The latest `limit` imports inside `scope`, newest first. A УО's admin sees the imports
/// limited to the УО; a regional admin sees all.
pub fn imports(scope: Scope, conn: &Connection, limit: u32) -> Result<Vec<ImportRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, created_at, kind, file_name, outcome, lines, created, updated, errors \
         FROM register_imports WHERE (?1 IS NULL OR organisation_id = ?1) \
         ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![scope.organisation(), limit], |r| {
        let errors: String = r.get(8)?;
        Ok(ImportRow {
            id: r.get(0)?,
            at: r.get(1)?,
            kind: r.get(2)?,
            file_name: r.get(3)?,
            outcome: r.get(4)?,
            lines: r.get(5)?,
            created: r.get(6)?,
            updated: r.get(7)?,
            errors: serde_json::from_str(&errors).unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
