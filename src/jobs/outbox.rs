//! The durable outbox table: enqueue in the caller's transaction, claim, complete, retry.

use rusqlite::{params, Connection, OptionalExtension, Row};
use time::{Duration, OffsetDateTime};

use crate::store::{self, ts, StoreError};

/// A job to add. The idempotency key makes enqueueing the same work twice a no-op.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: &'static str,
    pub key: String,
    pub payload: serde_json::Value,
    pub max_attempts: u32,
    /// Jobs sharing a lane run one at a time in the order they were added.
    pub lane: Option<String>,
    pub run_at: Option<OffsetDateTime>,
}

impl NewJob {
    pub fn new(kind: &'static str, key: impl Into<String>, payload: serde_json::Value) -> Self {
        NewJob {
            kind,
            key: key.into(),
            payload,
            max_attempts: 10,
            lane: None,
            run_at: None,
        }
    }

    pub fn lane(mut self, lane: impl Into<String>) -> Self {
        self.lane = Some(lane.into());
        self
    }

    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    pub fn at(mut self, when: OffsetDateTime) -> Self {
        self.run_at = Some(when);
        self
    }
}

/// A claimed job, as a handler sees it.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub payload: serde_json::Value,
    /// 1 on the first run.
    pub attempt: u32,
    pub max_attempts: u32,
}

/// Adds a job unless one with the same key exists; true when it was added.
pub fn enqueue(conn: &Connection, job: &NewJob, now: OffsetDateTime) -> store::Result<bool> {
    let run_at = job.run_at.unwrap_or(now);
    let added = conn.execute(
        "INSERT INTO outbox (kind, idempotency_key, payload, max_attempts, lane, run_at, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) \
         ON CONFLICT (idempotency_key) DO NOTHING",
        params![
            job.kind,
            job.key,
            job.payload.to_string(),
            job.max_attempts,
            job.lane,
            ts(run_at),
            ts(now)
        ],
    )?;
    Ok(added == 1)
}

fn job_from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    let payload: String = row.get("payload")?;
    Ok(Job {
        id: row.get("id")?,
        kind: row.get("kind")?,
        key: row.get("idempotency_key")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        attempt: row.get("attempts")?,
        max_attempts: row.get("max_attempts")?,
    })
}

/// Claims up to `limit` due jobs of the given kinds, at most one per lane, and leases
/// them until `now + lease`.
pub fn claim(
    conn: &mut Connection,
    kinds: &[&str],
    now: OffsetDateTime,
    lease: Duration,
    limit: usize,
) -> store::Result<Vec<Job>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let kinds_json = serde_json::to_string(kinds).unwrap_or_else(|_| "[]".into());
    let jobs = {
        let mut stmt = tx.prepare_cached(
            "UPDATE outbox SET state = 'running', attempts = attempts + 1, lease_until = ?1, \
             updated_at = ?2 \
             WHERE id IN ( \
               SELECT o.id FROM outbox o \
               WHERE o.state = 'pending' AND o.run_at <= ?2 \
                 AND o.kind IN (SELECT value FROM json_each(?3)) \
                 AND (o.lane IS NULL OR NOT EXISTS ( \
                   SELECT 1 FROM outbox p WHERE p.lane = o.lane \
                     AND p.state IN ('pending', 'running') AND p.id < o.id)) \
                 AND (o.lane IS NULL OR NOT EXISTS ( \
                   SELECT 1 FROM outbox r WHERE r.lane = o.lane AND r.state = 'running')) \
               ORDER BY o.run_at, o.id LIMIT ?4) \
             RETURNING *",
        )?;
        let rows = stmt.query_map(
            params![ts(now + lease), ts(now), kinds_json, limit as i64],
            job_from_row,
        )?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    tx.commit()?;
    Ok(jobs)
}

/// Whether the job is still in the run that claimed it as attempt `attempt`.
pub fn is_claimed(conn: &Connection, id: i64, attempt: u32) -> store::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM outbox WHERE id = ?1 AND state = 'running' AND attempts = ?2",
            params![id, attempt],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Marks a job done.
pub fn complete(conn: &Connection, id: i64, now: OffsetDateTime) -> store::Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'done', lease_until = NULL, last_error = NULL, \
         updated_at = ?2 WHERE id = ?1",
        params![id, ts(now)],
    )?;
    Ok(())
}

/// Puts a job back to run at `at`; `count` false gives back the attempt (a planned wait,
/// not a failure).
pub fn reschedule(
    conn: &Connection,
    id: i64,
    at: OffsetDateTime,
    error: Option<&str>,
    count: bool,
    now: OffsetDateTime,
) -> store::Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'pending', run_at = ?2, lease_until = NULL, \
         last_error = COALESCE(?3, last_error), \
         attempts = attempts - CASE WHEN ?4 THEN 0 ELSE 1 END, updated_at = ?5 \
         WHERE id = ?1",
        params![id, ts(at), error, count, ts(now)],
    )?;
    Ok(())
}

/// Marks a job failed for good.
pub fn fail(conn: &Connection, id: i64, error: &str, now: OffsetDateTime) -> store::Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'failed', lease_until = NULL, last_error = ?2, \
         updated_at = ?3 WHERE id = ?1",
        params![id, error, ts(now)],
    )?;
    Ok(())
}

/// After a restart: jobs whose worker died mid-run become pending again. Such an attempt
/// may or may not have reached the other side, so the job's (object) payload gets an
/// `_interrupted` mark: when that attempt started (the claim's `updated_at`) and its
/// number. The first interruption's mark is kept if the job is interrupted again, so the
/// window [`Job::interrupted`] gives covers every attempt in doubt.
pub fn recover(conn: &Connection, now: OffsetDateTime) -> store::Result<usize> {
    Ok(conn.execute(
        "UPDATE outbox SET state = 'pending', lease_until = NULL, updated_at = ?1, \
         payload = CASE WHEN json_valid(payload) AND json_type(payload) = 'object' \
           THEN json_insert(payload, '$._interrupted', \
                json_object('at', updated_at, 'attempt', attempts)) \
           ELSE payload END \
         WHERE state = 'running'",
        params![ts(now)],
    )?)
}

/// The mark [`recover`] leaves on a job whose attempt was cut off by the process dying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupted {
    /// When the first interrupted attempt started (it was claimed).
    pub at: OffsetDateTime,
    /// That attempt's number.
    pub attempt: u32,
}

impl Job {
    /// Whether an earlier attempt of this job was cut off (its outcome unknown), and when.
    pub fn interrupted(&self) -> Option<Interrupted> {
        let mark = self.payload.get(INTERRUPTED)?;
        Some(Interrupted {
            at: store::parse_ts(mark.get("at")?.as_str()?)?,
            attempt: u32::try_from(mark.get("attempt")?.as_u64()?).ok()?,
        })
    }
}

/// The payload key of the [`Interrupted`] mark.
pub const INTERRUPTED: &str = "_interrupted";

/// Puts a failed job back in the queue with fresh attempts (the console's retry action).
pub fn retry_failed(conn: &Connection, id: i64, now: OffsetDateTime) -> store::Result<bool> {
    Ok(conn.execute(
        "UPDATE outbox SET state = 'pending', attempts = 0, run_at = ?2, updated_at = ?2 \
         WHERE id = ?1 AND state = 'failed'",
        params![id, ts(now)],
    )? == 1)
}

/// Jobs per (kind, state): the outbox depth shown in metrics and the console.
pub fn depth(conn: &Connection) -> store::Result<Vec<(String, String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, state, COUNT(*) FROM outbox GROUP BY kind, state ORDER BY kind, state",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// When the next pending job is due, if any.
pub fn next_due(conn: &Connection) -> store::Result<Option<OffsetDateTime>> {
    let at: Option<String> = conn
        .query_row(
            "SELECT MIN(run_at) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(at.as_deref().and_then(store::parse_ts))
}

/// The state of one job by its key.
pub fn state_of(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT state FROM outbox WHERE idempotency_key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?)
}
