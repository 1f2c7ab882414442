//! «Обмен»: the outbox as staff see it — jobs per kind and state, the last success per
//! kind, failed jobs with their reason, and putting a failed job back in the queue.
//!
//! The outbox has no УО column: a job belongs to a УО when its payload carries
//! `"organisation_id"`. A УО's admin sees and retries only those; a regional admin all.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;

use super::Scope;
use crate::jobs::outbox;
use crate::store::StoreError;

/// Longest reason shown for a failed job.
const REASON_CHARS: usize = 500;

#[derive(Clone, Debug, Serialize)]
pub struct Depth {
    pub kind: String,
    pub state: String,
    pub count: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LastDone {
    pub kind: String,
    pub at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct FailedJob {
    pub id: i64,
    pub kind: String,
    pub attempts: i64,
    pub reason: String,
    pub created_at: String,
    pub failed_at: String,
}

/// Jobs per kind and state, over the whole appliance (counts only, no content).
pub fn depth(conn: &Connection) -> Result<Vec<Depth>, StoreError> {
    Ok(outbox::depth(conn)?
        .into_iter()
        .map(|(kind, state, count)| Depth { kind, state, count })
        .collect())
}

/// When a job of each kind last went through.
pub fn last_done(conn: &Connection) -> Result<Vec<LastDone>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, MAX(updated_at) FROM outbox WHERE state = 'done' GROUP BY kind \
         ORDER BY kind",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(LastDone {
            kind: r.get(0)?,
            at: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Failed jobs inside `scope`, newest first.
pub fn failed(scope: Scope, conn: &Connection, limit: u32) -> Result<Vec<FailedJob>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, attempts, COALESCE(last_error, ''), created_at, updated_at \
         FROM outbox WHERE state = 'failed' \
           AND (?1 IS NULL OR json_extract(payload, '$.organisation_id') = ?1) \
         ORDER BY updated_at DESC, id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![scope.organisation(), limit], |r| {
        let reason: String = r.get(3)?;
        Ok(FailedJob {
            id: r.get(0)?,
            kind: r.get(1)?,
            attempts: r.get(2)?,
            reason: reason.chars().take(REASON_CHARS).collect(),
            created_at: r.get(4)?,
            failed_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// A job still in the queue that says why it waits (or why its last try failed).
#[derive(Clone, Debug, Serialize)]
pub struct WaitingJob {
    pub id: i64,
    pub kind: String,
    pub attempts: i64,
    pub reason: String,
    pub run_at: String,
}

/// Pending jobs inside `scope` that carry a reason (waiting for something, or retrying
/// after an error), soonest first.
pub fn waiting(scope: Scope, conn: &Connection, limit: u32) -> Result<Vec<WaitingJob>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, attempts, last_error, run_at FROM outbox \
         WHERE state = 'pending' AND last_error IS NOT NULL AND last_error <> '' \
           AND (?1 IS NULL OR json_extract(payload, '$.organisation_id') = ?1) \
         ORDER BY run_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![scope.organisation(), limit], |r| {
        let reason: String = r.get(3)?;
        Ok(WaitingJob {
            id: r.get(0)?,
            kind: r.get(1)?,
            attempts: r.get(2)?,
            reason: reason.chars().take(REASON_CHARS).collect(),
            run_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Puts the failed job `id` inside `scope` back in the queue; its kind when it did.
pub fn retry(
    scope: Scope,
    conn: &Connection,
    id: i64,
    now: OffsetDateTime,
) -> Result<Option<String>, StoreError> {
    let kind: Option<String> = conn
        .query_row(
            "SELECT kind FROM outbox WHERE id = ?1 AND state = 'failed' \
               AND (?2 IS NULL OR json_extract(payload, '$.organisation_id') = ?2)",
            params![id, scope.organisation()],
            |r| r.get(0),
        )
        .optional()?;
    match kind {
        Some(kind) if outbox::retry_failed(conn, id, now)? => Ok(Some(kind)),
        _ => Ok(None),
    }
}
