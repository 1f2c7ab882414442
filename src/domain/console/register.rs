//! The owners register as admins see it in the console: per house, how many premises
//! have owners on record and how many are linked to residents; and the register imports
//! made in the console with their outcome and wrong lines. Owners are counted, never
//! named: no name, СНИЛС or birth date leaves this module.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{stamp, Scope};
use crate::connectors::registry::import::{ImportError, Kind, Report};
use crate::store::{Store, StoreError};

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

impl NewImport {
    /// The record of an import's `outcome`; `None` for a failure that is not about the
    /// file (reading it, the database), which is not recorded.
    pub fn from_outcome(
        organisation_id: Option<i64>,
        kind: Kind,
        actor: String,
        file_name: &str,
        text: &str,
        outcome: &Result<Report, ImportError>,
    ) -> Option<NewImport> {
        let mut import = NewImport {
            organisation_id,
            kind: kind_name(kind),
            actor,
            file_name: clean_name(file_name),
            done: false,
            lines: data_lines(text),
            created: 0,
            updated: 0,
            errors: Vec::new(),
        };
        match outcome {
            Ok(report) => {
                import.done = true;
                import.created = report.created;
                import.updated = report.updated;
            }
            Err(ImportError::Rows(rows)) => {
                import.errors = rows
                    .iter()
                    .map(|r| LineError {
                        line: r.line,
                        reason: r.reason.clone(),
                    })
                    .collect();
            }
            Err(ImportError::Header(reason)) => {
                let reason = reason
                    .strip_prefix("line 1: ")
                    .unwrap_or(reason)
                    .to_string();
                import.errors = vec![LineError { line: 1, reason }];
            }
            Err(ImportError::Read(_) | ImportError::Store(_)) => return None,
        }
        Some(import)
    }
}

/// How imports name a kind of file.
pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Houses => "houses",
        Kind::Accounts => "accounts",
        Kind::Owners => "owners",
        Kind::Meters => "meters",
    }
}

/// Data lines of a CSV text: non-empty lines after the header.
fn data_lines(text: &str) -> usize {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().trim_matches([',', ';']).is_empty())
        .count()
}

/// A file name without its directories, printable and short; it is only shown back.
fn clean_name(name: &str) -> String {
    let name = name.rsplit(['/', '\\']).next().unwrap_or("");
    name.chars().filter(|c| !c.is_control()).take(120).collect()
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
/// limited to the УО, and those of `gosdom import` (limited to none) when the appliance
/// serves that УО alone; a regional admin sees all.
pub fn imports(scope: Scope, conn: &Connection, limit: u32) -> Result<Vec<ImportRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, created_at, kind, file_name, outcome, lines, created, updated, errors \
         FROM register_imports WHERE ?1 IS NULL OR organisation_id = ?1 \
           OR (organisation_id IS NULL AND (SELECT COUNT(*) FROM organisations) = 1) \
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

/// Records a `gosdom import` in the console's list (limited to no УО, by `cli`) and hands
/// the outcome back; a failure to record it is logged, never fatal to the import.
pub fn record_cli(
    store: &Store,
    kind: Kind,
    file_name: &str,
    text: &str,
    outcome: Result<Report, ImportError>,
    now: OffsetDateTime,
) -> Result<Report, ImportError> {
    let Some(import) = NewImport::from_outcome(None, kind, "cli".into(), file_name, text, &outcome)
    else {
        return outcome;
    };
    let recorded = store.write_blocking(|tx| {
        let id = record(tx, &import, now)?;
        let detail = serde_json::json!({
            "kind": import.kind,
            "done": import.done,
            "lines": import.lines,
            "errors": import.errors.len(),
        });
        let object = format!("register_import:{id}");
        super::audit::record(tx, "cli", "register.import", &object, detail, now)
    });
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "the import was not added to the console's list");
    }
    outcome
}
