//! The resident's side, as plain functions the `/api/v1` routes call once the session
//! guard has given them the person's id. Every function is scoped to that person: a
//! request of someone else answers [`RequestError::NotFound`] (404), like one that does
//! not exist.
//!
//! Routes they back (JSON bodies are the `*Body` structs, answers the view structs):
//! - `GET  /api/v1/categories[?q=текст]`      → [`categories`]
//! - `GET  /api/v1/requests`                  → [`list`]
//! - `POST /api/v1/requests` (multipart: `request` JSON [`NewRequestBody`] + `photos`)
//!   → [`file`]
//! - `GET  /api/v1/requests/{id}`             → [`card`]
//! - `POST /api/v1/requests/{id}/comments` (multipart: `comment` [`CommentBody`] +
//!   `photos`) → [`comment`]
//! - `POST /api/v1/requests/{id}/photos` (multipart `photos`) → [`add_photos`]
//! - `GET  /api/v1/requests/{id}/photos/{photo_id}` → [`photo`] (send the file with its
//!   mime type, `Cache-Control: private`, ETag = sha256)
//! - `POST /api/v1/requests/{id}/reopen` [`ReopenBody`] → [`reopen`]
//! - `POST /api/v1/requests/{id}/rate` [`RateBody`] → [`rate`]
//!
//! Call them off the async runtime (`store.call`), and `app.wake_outbox()` after a
//! function that changed something returned `Ok`. Give Rocket's multipart limits room
//! for `max_photos × max_photo_bytes`.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::photos::{self, PhotoFile, Upload, Viewer};
use super::records::{self, Request};
use super::status::Actor;
use super::view::{self, CategoriesResponse, RequestCard, RequestSummary};
use super::{antispam, categories, in_write_tx, lifecycle, RequestError, Result, Settings};
use crate::store::ts;

#[derive(Clone, Debug, Deserialize)]
pub struct NewRequestBody {
    /// A place code of the tree (`flat`, `entrance`, …).
    pub place: String,
    /// A problem code of that place (`water.leak`).
    pub problem: String,
    pub text: String,
    /// The resident's premise; required for the `flat` place.
    pub premise_id: Option<i64>,
    /// The house for a common area; when absent, the premise's house.
    pub house_id: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CommentBody {
    pub text: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ReopenBody {
    /// What is still wrong.
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RateBody {
    /// 1–5.
    pub rating: u8,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RequestList {
    pub requests: Vec<RequestSummary>,
}

/// The category tree, or search hits when `q` is given.
pub fn categories(q: Option<&str>) -> CategoriesResponse {
    view::categories(q)
}

/// The person's request, or not-found.
pub fn own(conn: &Connection, person_id: i64, id: i64) -> Result<Request> {
    match records::load(conn, id)? {
        Some(r) if r.person_id == Some(person_id) => Ok(r),
        _ => Err(RequestError::NotFound),
    }
}

pub fn list(conn: &Connection, person_id: i64, now: OffsetDateTime) -> Result<RequestList> {
    let sql = format!(
        "SELECT {} FROM requests WHERE person_id = ?1 ORDER BY created_at DESC, id DESC \
         LIMIT 200",
        records::REQUEST_COLUMNS
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([person_id], records::request_from_row)?;
    let requests = rows
        .collect::<rusqlite::Result<Vec<_>>>()?
        .iter()
        .map(|r| view::summary(r, now))
        .collect();
    Ok(RequestList { requests })
}

pub fn card(
    conn: &Connection,
    settings: &Settings,
    person_id: i64,
    id: i64,
    now: OffsetDateTime,
) -> Result<RequestCard> {
    let request = own(conn, person_id, id)?;
    view::card(conn, &request, false, settings.requests.reopen_days, now)
}

/// Where the resident may file: (organisation, house, premise).
fn location(
    conn: &Connection,
    person_id: i64,
    body: &NewRequestBody,
) -> Result<(i64, i64, Option<i64>)> {
    let place = categories::place(&body.place)
        .ok_or_else(|| RequestError::refused("unknown_place", "Выберите, где проблема."))?;
    if place.premise && body.premise_id.is_none() {
        return Err(RequestError::refused(
            "premise_required",
            "Выберите квартиру или помещение.",
        ));
    }
    // The house of a premise the person is linked to, or a house where they have one.
    let found: Option<(i64, i64)> = match (body.premise_id, body.house_id) {
        (Some(premise), _) => conn
            .query_row(
                "SELECT h.organisation_id, h.id FROM property_links l \
                 JOIN premises p ON p.id = l.premise_id JOIN houses h ON h.id = p.house_id \
                 WHERE l.person_id = ?1 AND l.premise_id = ?2 AND l.status = 'linked' \
                 AND h.removed_at IS NULL AND (?3 IS NULL OR h.id = ?3)",
                rusqlite::params![person_id, premise, body.house_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?,
        (None, Some(house)) => conn
            .query_row(
                "SELECT h.organisation_id, h.id FROM property_links l \
                 JOIN premises p ON p.id = l.premise_id JOIN houses h ON h.id = p.house_id \
                 WHERE l.person_id = ?1 AND h.id = ?2 AND l.status = 'linked' \
                 AND h.removed_at IS NULL LIMIT 1",
                rusqlite::params![person_id, house],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?,
        (None, None) => {
            return Err(RequestError::refused(
                "house_required",
                "Выберите дом, к которому относится заявка.",
            ))
        }
    };
    let (organisation, house) = found.ok_or(RequestError::NotFound)?;
    Ok((
        organisation,
        house,
        body.premise_id.filter(|_| place.premise),
    ))
}

/// Files a request with up to `max_photos` photos.
pub fn file(
    conn: &mut Connection,
    settings: &Settings,
    person_id: i64,
    body: &NewRequestBody,
    uploads: &[Upload],
    now: OffsetDateTime,
) -> Result<RequestCard> {
    let prepared = photos::prepare(uploads, 0, &settings.requests)?;
    let request = in_write_tx(conn, settings, &prepared, |tx| {
        let (organisation_id, house_id, premise_id) = location(tx, person_id, body)?;
        let settings = settings.for_organisation(tx, organisation_id)?;
        antispam::check(tx, &settings.requests, person_id, &body.text, now)?;
        let draft = lifecycle::Draft {
            organisation_id,
            house_id,
            premise_id,
            person_id: Some(person_id),
            place: &body.place,
            problem: &body.problem,
            text: &body.text,
            source: "app",
            appeal_guid: None,
            gis_number: None,
        };
        let request = lifecycle::create(tx, &settings, &draft, &Actor::Resident(person_id), now)?;
        photos::insert_rows(tx, request.id, None, &prepared, now)?;
        tx.execute(
            "INSERT INTO usage_events (kind, person_id, day, created_at) \
             VALUES ('request_filed', ?1, ?2, ?3)",
            rusqlite::params![person_id, now.date().to_string(), ts(now)],
        )?;
        Ok(request)
    })?;
    tracing::info!(request = request.id, person = person_id, "request filed");
    view::card(conn, &request, false, settings.requests.reopen_days, now)
}

/// The resident's comment, with photos.
pub fn comment(
    conn: &mut Connection,
    settings: &Settings,
    person_id: i64,
    id: i64,
    body: &CommentBody,
    uploads: &[Upload],
    now: OffsetDateTime,
) -> Result<RequestCard> {
    let prepared = photos::prepare(uploads, 0, &settings.requests)?;
    in_write_tx(conn, settings, &prepared, |tx| {
        let request = own(tx, person_id, id)?;
        let event = lifecycle::comment(
            tx,
            &request,
            &body.text,
            true,
            &Actor::Resident(person_id),
            now,
        )?;
        photos::insert_rows(tx, request.id, Some(event), &prepared, now)?;
        Ok(())
    })?;
    card(conn, settings, person_id, id, now)
}

/// More photos for the request itself, up to `max_photos` in all.
pub fn add_photos(
    conn: &mut Connection,
    settings: &Settings,
    person_id: i64,
    id: i64,
    uploads: &[Upload],
    now: OffsetDateTime,
) -> Result<RequestCard> {
    let prepared = photos::prepare(uploads, 0, &settings.requests)?;
    in_write_tx(conn, settings, &prepared, |tx| {
        let request = own(tx, person_id, id)?;
        if !request.status.is_open() {
            return Err(RequestError::refused(
                "request_not_open",
                "К завершённой заявке фото не добавить.",
            ));
        }
        // Counted inside the write transaction, so two uploads at once cannot both pass.
        let existing = photos::count_on_request(tx, id)?;
        photos::check_count(existing, prepared.len(), &settings.requests)?;
        photos::insert_rows(tx, request.id, None, &prepared, now)?;
        Ok(())
    })?;
    card(conn, settings, person_id, id, now)
}

/// A photo of the person's request.
pub fn photo(
    conn: &Connection,
    settings: &Settings,
    person_id: i64,
    id: i64,
    photo_id: i64,
) -> Result<PhotoFile> {
    let request = own(conn, person_id, id)?;
    let attached: Option<i64> = conn
        .query_row(
            "SELECT id FROM attachments WHERE id = ?1 AND request_id = ?2",
            [photo_id, request.id],
            |r| r.get(0),
        )
        .optional()?;
    attached.ok_or(RequestError::NotFound)?;
    photos::open_for(
        conn,
        &settings.data_dir,
        Viewer::Resident { person_id },
        photo_id,
    )
}

pub fn reopen(
    conn: &mut Connection,
    settings: &Settings,
    person_id: i64,
    id: i64,
    body: &ReopenBody,
    now: OffsetDateTime,
) -> Result<RequestCard> {
    in_write_tx(conn, settings, &[], |tx| {
        let request = own(tx, person_id, id)?;
        let s = settings.for_organisation(tx, request.organisation_id)?;
        lifecycle::reopen(tx, &s, &request, &body.reason, person_id, now)
    })?;
    card(conn, settings, person_id, id, now)
}

pub fn rate(
    conn: &mut Connection,
    settings: &Settings,
    person_id: i64,
    id: i64,
    body: &RateBody,
    now: OffsetDateTime,
) -> Result<RequestCard> {
    in_write_tx(conn, settings, &[], |tx| {
        let request = own(tx, person_id, id)?;
        lifecycle::rate(
            tx,
            &request,
            body.rating,
            body.comment.as_deref(),
            person_id,
            now,
        )
    })?;
    card(conn, settings, person_id, id, now)
}

/// How the routes answer a [`RequestError`]: 404, 422 with the code, 429 with the code,
/// or a 500 that logs the detail once.
impl From<RequestError> for crate::web::error::ApiError {
    fn from(e: RequestError) -> Self {
        use crate::web::error::ApiError;
        use rocket::http::Status as Http;
        match e {
            RequestError::NotFound => ApiError::not_found(),
            RequestError::Refused { code, message } => ApiError::unprocessable(code, message),
            RequestError::Limited { code, message } => {
                ApiError::new(Http::TooManyRequests, code, message)
            }
            other @ (RequestError::Store(_) | RequestError::Io(_)) => ApiError::internal(other),
        }
    }
}
