//! Rows of `requests`, `request_events` and `attachments`, and the number counter.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use time::OffsetDateTime;

use super::categories::Kind;
use super::status::{Actor, Status};
use super::Result;
use crate::store::{parse_ts, ts};

/// A request as stored.
#[derive(Clone, Debug)]
pub struct Request {
    pub id: i64,
    pub organisation_id: i64,
    pub number: String,
    pub premise_id: Option<i64>,
    pub house_id: i64,
    pub person_id: Option<i64>,
    pub place: String,
    /// The problem code of the category tree (`water.leak`).
    pub category: String,
    pub text: String,
    pub kind: Kind,
    pub emergency: bool,
    pub deadline_at: Option<OffsetDateTime>,
    pub status: Status,
    /// `app`, `gis` or `operator`.
    pub source: String,
    pub appeal_guid: Option<String>,
    pub gis_number: Option<String>,
    pub assignee: Option<String>,
    pub deferred_until: Option<String>,
    pub rating: Option<i64>,
    pub done_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub const REQUEST_COLUMNS: &str = "id, organisation_id, number, premise_id, house_id, \
    person_id, place, category, text, kind, emergency, deadline_at, status, source, \
    appeal_guid, gis_number, assignee, deferred_until, rating, done_at, created_at, updated_at";

fn time_col(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<OffsetDateTime>> {
    Ok(row
        .get::<_, Option<String>>(i)?
        .as_deref()
        .and_then(parse_ts))
}

pub fn request_from_row(row: &Row<'_>) -> rusqlite::Result<Request> {
    let status: String = row.get(12)?;
    let kind: String = row.get(9)?;
    Ok(Request {
        id: row.get(0)?,
        organisation_id: row.get(1)?,
        number: row.get(2)?,
        premise_id: row.get(3)?,
        house_id: row.get(4)?,
        person_id: row.get(5)?,
        place: row.get(6)?,
        category: row.get(7)?,
        text: row.get(8)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Ordinary),
        emergency: row.get(10)?,
        deadline_at: time_col(row, 11)?,
        status: Status::parse(&status).unwrap_or(Status::New),
        source: row.get(13)?,
        appeal_guid: row.get(14)?,
        gis_number: row.get(15)?,
        assignee: row.get(16)?,
        deferred_until: row.get(17)?,
        rating: row.get(18)?,
        done_at: time_col(row, 19)?,
        created_at: time_col(row, 20)?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        updated_at: time_col(row, 21)?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
    })
}

pub fn load(conn: &Connection, id: i64) -> Result<Option<Request>> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], request_from_row).optional()?)
}

/// A request to insert; the number is given out by [`insert`].
pub struct NewRecord<'a> {
    pub organisation_id: i64,
    pub premise_id: Option<i64>,
    pub house_id: i64,
    pub person_id: Option<i64>,
    pub place: &'a str,
    pub category: &'a str,
    pub text: &'a str,
    pub kind: Kind,
    pub deadline_at: Option<OffsetDateTime>,
    pub source: &'a str,
    pub appeal_guid: Option<&'a str>,
    pub gis_number: Option<&'a str>,
}

/// The next number of the УО in `year`, as `2026-000123`. Must run in the transaction
/// that inserts the request: the write lock makes racing writers wait, and a rollback
/// takes the number back, so numbers have no gaps.
pub fn allocate_number(conn: &Connection, organisation_id: i64, year: i32) -> Result<String> {
    let n: i64 = conn.query_row(
        "INSERT INTO request_counters (organisation_id, year, last_number) VALUES (?1, ?2, 1) \
         ON CONFLICT (organisation_id, year) DO UPDATE SET last_number = last_number + 1 \
         RETURNING last_number",
        params![organisation_id, year],
        |r| r.get(0),
    )?;
    Ok(format!("{year}-{n:06}"))
}

/// Inserts the request with a fresh number of the local `year`; returns its id.
pub fn insert(
    conn: &Connection,
    new: &NewRecord<'_>,
    year: i32,
    now: OffsetDateTime,
) -> Result<i64> {
    let number = allocate_number(conn, new.organisation_id, year)?;
    conn.execute(
        "INSERT INTO requests (organisation_id, number, premise_id, house_id, person_id, \
         place, category, text, kind, emergency, deadline_at, status, source, appeal_guid, \
         gis_number, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'new', ?12, ?13, ?14, ?15, ?15)",
        params![
            new.organisation_id,
            number,
            new.premise_id,
            new.house_id,
            new.person_id,
            new.place,
            new.category,
            new.text,
            new.kind.as_str(),
            new.kind == Kind::Emergency,
            new.deadline_at.map(ts),
            new.source,
            new.appeal_guid,
            new.gis_number,
            ts(now),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A row of `request_events`.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub id: i64,
    /// `created`, `status`, `comment`, `assigned`, `deadline`, `rated`.
    pub kind: String,
    pub status: Option<String>,
    pub text: Option<String>,
    /// Shown to the resident.
    pub visible: bool,
    pub author: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An event to append.
#[derive(Clone, Copy, Debug)]
pub struct NewEvent<'a> {
    /// `created`, `status`, `comment`, `assigned`, `deadline`, `rated`.
    pub kind: &'a str,
    pub status: Option<Status>,
    pub text: Option<&'a str>,
    /// Shown to the resident.
    pub visible: bool,
}

/// Appends an event; returns its id.
pub fn add_event(
    conn: &Connection,
    request_id: i64,
    event: &NewEvent<'_>,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO request_events (request_id, kind, status, text, visible, author, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            request_id,
            event.kind,
            event.status.map(Status::as_str),
            event.text,
            event.visible,
            actor.author(),
            ts(now)
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn load_event(conn: &Connection, id: i64) -> Result<Option<Event>> {
    Ok(conn
        .query_row(
            "SELECT id, kind, status, text, visible, author, created_at FROM request_events \
             WHERE id = ?1",
            [id],
            event_from_row,
        )
        .optional()?)
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: row.get(0)?,
        kind: row.get(1)?,
        status: row.get(2)?,
        text: row.get(3)?,
        visible: row.get(4)?,
        author: row.get(5)?,
        created_at: time_col(row, 6)?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
    })
}

/// The request's events in order; internal ones only when `internal` is true.
pub fn events(conn: &Connection, request_id: i64, internal: bool) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, status, text, visible, author, created_at FROM request_events \
         WHERE request_id = ?1 AND (visible = 1 OR ?2) ORDER BY id",
    )?;
    let rows = stmt.query_map(params![request_id, internal], event_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A stored photo's row.
#[derive(Clone, Debug, Serialize)]
pub struct Attachment {
    pub id: i64,
    /// The comment event it came with; none for the request's own photos.
    pub event_id: Option<i64>,
    pub mime: String,
    pub size: i64,
    #[serde(skip)]
    pub sha256: String,
}

/// Photos of a request; those of internal comments only when `internal` is true.
pub fn attachments(conn: &Connection, request_id: i64, internal: bool) -> Result<Vec<Attachment>> {
    let mut stmt = conn.prepare(
        "SELECT a.id, a.event_id, a.mime, a.size, a.sha256 FROM attachments a \
         LEFT JOIN request_events e ON e.id = a.event_id \
         WHERE a.request_id = ?1 AND (?2 OR e.id IS NULL OR e.visible = 1) ORDER BY a.id",
    )?;
    let rows = stmt.query_map(params![request_id, internal], |r| {
        Ok(Attachment {
            id: r.get(0)?,
            event_id: r.get(1)?,
            mime: r.get(2)?,
            size: r.get(3)?,
            sha256: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
