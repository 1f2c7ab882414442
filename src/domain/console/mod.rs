//! The operator console's rules: staff accounts and their roles, sign-in sessions, login
//! throttling, the audit log, and the read models of the console's screens.
//!
//! Every query here that reads УО data takes a [`Scope`] as its first argument: the scope
//! is part of the query from its first line, never a filter added afterwards.
//! Errors are [`StaffError`]; the web layer turns them into the JSON error shape.

pub mod audit;
pub mod exchange;
pub mod houses;
pub mod readings;
pub mod register;
pub mod sessions;
pub mod staff;
pub mod throttle;
pub mod usage;

use time::OffsetDateTime;

use crate::store::{self, StoreError};

pub use staff::{Role, StaffError, StaffMember};

/// What part of the data a staff member may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A regional admin: every УО on this appliance.
    Region,
    /// One УО's staff.
    Organisation(i64),
}

impl Scope {
    /// The УО to filter by; `None` means all of them. Queries bind it as
    /// `(?N IS NULL OR organisation_id = ?N)`.
    pub fn organisation(&self) -> Option<i64> {
        match self {
            Scope::Region => None,
            Scope::Organisation(id) => Some(*id),
        }
    }

    /// Whether a row of `organisation_id` is inside this scope.
    pub fn covers(&self, organisation_id: Option<i64>) -> bool {
        match self {
            Scope::Region => true,
            Scope::Organisation(id) => organisation_id == Some(*id),
        }
    }
}

/// Timestamps of the console's own tables, to whole seconds so that they compare as text.
pub(crate) fn stamp(at: OffsetDateTime) -> String {
    store::ts(at.replace_nanosecond(0).unwrap_or(at))
}

/// A short organisation reference for answers: id and name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrganisationRef {
    pub id: i64,
    pub name: String,
}

/// The organisations inside `scope`.
pub fn organisations(
    scope: Scope,
    conn: &rusqlite::Connection,
) -> Result<Vec<OrganisationRef>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name FROM organisations WHERE (?1 IS NULL OR id = ?1) ORDER BY name, id",
    )?;
    let rows = stmt.query_map([scope.organisation()], |r| {
        Ok(OrganisationRef {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
