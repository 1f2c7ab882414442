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

use rusqlite::types::Value;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::api::in_write_tx;
use super::photos::{self, PhotoFile, Upload, Viewer};
use super::records::{self, Request};
use super::status::{Actor, Status};
use super::view::{self, RequestCard};
use super::{lifecycle, RequestError, Result, Settings};
use crate::store::ts;

/// Filters of the queue; all optional. Without `status`, open requests are listed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct QueueFilter {
    /// Comma-separated statuses, or `all`.
    pub status: Option<String>,
    /// A category (`water`) or a problem code (`water.leak`).
    pub category: Option<String>,
    pub house_id: Option<i64>,
    /// Only open requests past their deadline.
    pub overdue: Option<bool>,
    pub emergency: Option<bool>,
    /// `app`, `gis` or `operator`.
    pub source: Option<String>,
    /// At most 500; 100 by default.
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct QueueItem {
    pub id: i64,
    pub number: String,
    pub status: Status,
    pub status_label: &'static str,
    pub problem: String,
    pub problem_title: String,
    pub place_title: String,
    pub emergency: bool,
    pub source: String,
    pub house_id: i64,
    pub address: String,
    pub premise_number: Option<String>,
    pub assignee: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline_at: Option<OffsetDateTime>,
    pub overdue: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, Serialize)]
pub struct Queue {
    pub requests: Vec<QueueItem>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct StatusBody {
    pub status: Status,
    /// Required to decline or defer; shown to the resident.
    pub reason: Option<String>,
    /// Required with `deferred`, `YYYY-MM-DD`.
    pub deferred_until: Option<Date>,
}

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

pub fn queue(
    conn: &Connection,
    organisation_id: i64,
    filter: &QueueFilter,
    now: OffsetDateTime,
) -> Result<Queue> {
    let mut sql = format!(
        "SELECT {}, h.address, p.number FROM requests r \
         JOIN houses h ON h.id = r.house_id LEFT JOIN premises p ON p.id = r.premise_id \
         WHERE r.organisation_id = ?",
        records::REQUEST_COLUMNS
            .split(", ")
            .map(|c| format!("r.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut args: Vec<Value> = vec![organisation_id.into()];

    let statuses: Vec<Status> = match filter.status.as_deref().map(str::trim) {
        Some("all") => Vec::new(),
        Some(list) if !list.is_empty() => list
            .split(',')
            .map(|s| {
                Status::parse(s.trim()).ok_or_else(|| {
                    RequestError::refused("unknown_status", format!("Нет статуса «{s}»."))
                })
            })
            .collect::<Result<_>>()?,
        _ => Status::ALL.into_iter().filter(|s| s.is_open()).collect(),
    };
    if !statuses.is_empty() {
        sql += &format!(
            " AND r.status IN ({})",
            vec!["?"; statuses.len()].join(", ")
        );
        args.extend(statuses.iter().map(|s| Value::from(s.as_str().to_string())));
    }
    if let Some(category) = filter.category.as_deref().filter(|c| !c.is_empty()) {
        sql += " AND (r.category = ? OR r.category LIKE ? || '.%')";
        args.push(category.to_string().into());
        args.push(category.to_string().into());
    }
    if let Some(house) = filter.house_id {
        sql += " AND r.house_id = ?";
        args.push(house.into());
    }
    if filter.overdue == Some(true) {
        sql += " AND r.status IN ('new', 'in_work', 'deferred', 'reopened') AND r.deadline_at < ?";
        args.push(ts(now).into());
    }
    if let Some(emergency) = filter.emergency {
        sql += " AND r.emergency = ?";
        args.push(emergency.into());
    }
    if let Some(source) = filter.source.as_deref().filter(|s| !s.is_empty()) {
        sql += " AND r.source = ?";
        args.push(source.to_string().into());
    }
    sql += " ORDER BY r.deadline_at ASC NULLS LAST, r.id ASC LIMIT ? OFFSET ?";
    args.push(i64::from(filter.limit.unwrap_or(100).min(500)).into());
    args.push(i64::from(filter.offset.unwrap_or(0)).into());

    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |row| {
        Ok((
            records::request_from_row(row)?,
            row.get::<_, String>(22)?,
            row.get(23)?,
        ))
    })?;
    let mut requests = Vec::new();
    for row in rows {
        let (r, address, premise_number): (Request, String, Option<String>) = row?;
        let (place_title, _, problem_title) = view::titles(&r.category, &r.place);
        requests.push(QueueItem {
            overdue: view::overdue(&r, now),
            id: r.id,
            number: r.number,
            status: r.status,
            status_label: r.status.label(),
            problem: r.category,
            problem_title,
            place_title,
            emergency: r.emergency,
            source: r.source,
            house_id: r.house_id,
            address,
            premise_number,
            assignee: r.assignee,
            deadline_at: r.deadline_at,
            created_at: r.created_at,
        });
    }
    Ok(Queue { requests })
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
