//! The УО staff's side, as plain functions the console routes call with the staff
//! member's `organisation_id` (from their console session) and user id. Every query is
//! scoped to that УО: a request of another УО answers [`RequestError::NotFound`].
//!
//! Routes they back (`/api/console/v1`, cookie session + CSRF):
//! - `GET  /requests?status=new,in_work&category=water&house_id=1&overdue=true
//!   &emergency=true&source=gis` → [`queue`] (sorted by deadline, soonest first)
//! - `GET  /requests/{id}` → [`card`] (internal notes, authors, assignee included)
//! - `POST /requests/{id}/status` [`StatusBody`] → [`change_status`]
//! - `POST /requests/{id}/assign` [`AssignBody`] → [`assign`]
//! - `POST /requests/{id}/comments` (multipart: `comment` [`StaffCommentBody`] +
//!   `photos`) → [`comment`]
//! - `POST /requests/{id}/deadline` [`DeadlineBody`] → [`set_deadline`]
//! - `GET  /requests/{id}/photos/{photo_id}` → [`photo`]

use rusqlite::Connection;
use serde::Deserialize;
use time::{Date, OffsetDateTime};

use super::photos::{self, PhotoFile, Upload, Viewer};
use super::records::{self, Request};
use super::status::{Actor, Status};
use super::view::{self, RequestCard};
use super::{in_write_tx, lifecycle, RequestError, Result, Settings};

pub use super::queue::{queue, Queue, QueueFilter, QueueItem};

#[derive(Clone, Debug, Deserialize)]
pub struct StatusBody {
    pub status: Status,
    /// Required to decline or defer; shown to the resident.
    pub reason: Option<String>,
    /// Required with `deferred`, `YYYY-MM-DD`.
    #[serde(default, with = "ymd::option")]
    pub deferred_until: Option<Date>,
}

// The console sends the date as `YYYY-MM-DD` (time's own serde form is a tuple).
time::serde::format_description!(ymd, Date, "[year]-[month]-[day]");

#[derive(Clone, Debug, Deserialize)]
pub struct AssignBody {
    pub assignee: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct StaffCommentBody {
    pub text: String,
    /// Shown to the resident (and sent to them); false keeps it an internal note.
    #[serde(default)]
    pub visible: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DeadlineBody {
    #[serde(with = "time::serde::rfc3339")]
    pub deadline_at: OffsetDateTime,
    pub reason: String,
}

/// The signed-in staff member, from the console session.
#[derive(Clone, Copy, Debug)]
pub struct StaffMember {
    /// `console_users.id`, written as the author `staff:<id>`.
    pub user_id: i64,
    /// Their УО: every query is scoped to it.
    pub organisation_id: i64,
}

/// The УО's request, or not-found.
pub fn of_organisation(conn: &Connection, organisation_id: i64, id: i64) -> Result<Request> {
    match records::load(conn, id)? {
        Some(r) if r.organisation_id == organisation_id => Ok(r),
        _ => Err(RequestError::NotFound),
    }
}

pub fn card(
    conn: &Connection,
    settings: &Settings,
    organisation_id: i64,
    id: i64,
    now: OffsetDateTime,
) -> Result<RequestCard> {
    let request = of_organisation(conn, organisation_id, id)?;
    view::card(conn, &request, true, settings.requests.reopen_days, now)
}

/// Runs a change to the УО's request in one transaction and answers the new card.
fn change(
    conn: &mut Connection,
    settings: &Settings,
    organisation_id: i64,
    id: i64,
    prepared: &[photos::Prepared],
    now: OffsetDateTime,
    f: impl FnOnce(&rusqlite::Transaction<'_>, &Request) -> Result<()>,
) -> Result<RequestCard> {
    in_write_tx(conn, settings, prepared, |tx| {
        let request = of_organisation(tx, organisation_id, id)?;
        f(tx, &request)
    })?;
    card(conn, settings, organisation_id, id, now)
}

pub fn change_status(
    conn: &mut Connection,
    settings: &Settings,
    who: StaffMember,
    id: i64,
    body: &StatusBody,
    now: OffsetDateTime,
) -> Result<RequestCard> {
    let actor = Actor::Staff(who.user_id);
    change(
        conn,
        settings,
        who.organisation_id,
        id,
        &[],
        now,
        |tx, request| lifecycle::change_status(tx, settings, request, body, &actor, now).map(drop),
    )
}

pub fn assign(
    conn: &mut Connection,
    settings: &Settings,
    who: StaffMember,
    id: i64,
    body: &AssignBody,
    now: OffsetDateTime,
) -> Result<RequestCard> {
    let actor = Actor::Staff(who.user_id);
    change(
        conn,
        settings,
        who.organisation_id,
        id,
        &[],
        now,
        |tx, request| lifecycle::assign(tx, request, &body.assignee, &actor, now).map(drop),
    )
}

pub fn comment(
    conn: &mut Connection,
    settings: &Settings,
    who: StaffMember,
    id: i64,
    body: &StaffCommentBody,
    uploads: &[Upload],
    now: OffsetDateTime,
) -> Result<RequestCard> {
    let prepared = photos::prepare(uploads, 0, &settings.requests)?;
    let actor = Actor::Staff(who.user_id);
    change(
        conn,
        settings,
        who.organisation_id,
        id,
        &prepared,
        now,
        |tx, request| {
            let event = lifecycle::comment(tx, request, &body.text, body.visible, &actor, now)?;
            photos::insert_rows(tx, request.id, Some(event), &prepared, now).map(drop)
        },
    )
}

pub fn set_deadline(
    conn: &mut Connection,
    settings: &Settings,
    who: StaffMember,
    id: i64,
    body: &DeadlineBody,
    now: OffsetDateTime,
) -> Result<RequestCard> {
    let actor = Actor::Staff(who.user_id);
    change(
        conn,
        settings,
        who.organisation_id,
        id,
        &[],
        now,
        |tx, request| {
            lifecycle::set_deadline(tx, request, body.deadline_at, &body.reason, &actor, now)
                .map(drop)
        },
    )
}

pub fn photo(
    conn: &Connection,
    settings: &Settings,
    organisation_id: i64,
    id: i64,
    photo_id: i64,
) -> Result<PhotoFile> {
    let file = photos::open_for(
        conn,
        &settings.data_dir,
        Viewer::Staff { organisation_id },
        photo_id,
    )?;
    let on_request: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM attachments WHERE id = ?1 AND request_id = ?2)",
        [photo_id, id],
        |r| r.get(0),
    )?;
    if on_request {
        Ok(file)
    } else {
        Err(RequestError::NotFound)
    }
}
