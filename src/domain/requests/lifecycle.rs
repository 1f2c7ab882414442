//! Changes to a request, each inside the caller's transaction: create, move status,
//! reopen (and, in `edits`, rate, comment, assign, set the deadline). Every change writes one
//! `request_events` row with its author and time and enqueues its notifications.
//! Access is checked by the callers ([`super::api`], [`super::staff`]).

use rusqlite::{params, Connection};
use time::{Date, OffsetDateTime};

use super::calendar::{deadline, local_offset};
use super::categories::{self, Kind};
use super::records::{self, NewEvent, NewRecord, Request};
use super::staff::StatusBody;
use super::status::{self, Actor, Status};
use super::{notify, RequestError, Result, Settings};

pub use super::edits::{assign, comment, rate, set_deadline};
use crate::store::ts;

/// Longest request text (ГИС ЖКХ takes 10 000; a request is read on a phone).
pub const MAX_TEXT: usize = 4000;
/// Longest comment or reason.
pub const MAX_COMMENT: usize = 2000;

/// Trimmed text that is neither empty nor longer than `limit` characters.
pub fn clean_text(text: &str, limit: usize, what: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(RequestError::refused(
            "text_required",
            format!("Напишите {what}."),
        ));
    }
    if text.chars().count() > limit {
        return Err(RequestError::refused(
            "text_too_long",
            format!("Слишком длинный текст: не больше {limit} символов."),
        ));
    }
    Ok(text.to_string())
}

/// What is needed to create a request; the house and УО are already resolved.
pub struct Draft<'a> {
    pub organisation_id: i64,
    pub house_id: i64,
    pub premise_id: Option<i64>,
    pub person_id: Option<i64>,
    pub place: &'a str,
    pub problem: &'a str,
    pub text: &'a str,
    /// `app`, `operator` or `gis`.
    pub source: &'a str,
    pub appeal_guid: Option<&'a str>,
    pub gis_number: Option<&'a str>,
}

/// Creates the request with its number, kind and deadline and a `created` event.
pub fn create(
    conn: &Connection,
    settings: &Settings,
    draft: &Draft<'_>,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<Request> {
    let place = categories::place(draft.place)
        .ok_or_else(|| RequestError::refused("unknown_place", "Выберите, где проблема."))?;
    let (_, problem) = categories::problem_at(place, draft.problem)
        .ok_or_else(|| RequestError::refused("unknown_category", "Выберите проблему из списка."))?;
    let text = clean_text(draft.text, MAX_TEXT, "текст заявки")?;
    let kind = problem.kind;
    let due = deadline(kind, now, &settings.requests, &settings.calendar);
    let year = now.to_offset(local_offset(&settings.requests)).year();

    let id = records::insert(
        conn,
        &NewRecord {
            organisation_id: draft.organisation_id,
            premise_id: draft.premise_id,
            house_id: draft.house_id,
            person_id: draft.person_id,
            place: place.code,
            category: problem.code,
            text: &text,
            kind,
            deadline_at: Some(due),
            source: draft.source,
            appeal_guid: draft.appeal_guid,
            gis_number: draft.gis_number,
        },
        year,
        now,
    )?;
    records::add_event(
        conn,
        id,
        &NewEvent {
            kind: "created",
            status: Some(Status::New),
            text: None,
            visible: true,
        },
        actor,
        now,
    )?;
    records::load(conn, id)?.ok_or(RequestError::NotFound)
}

/// A staff status change; see [`status::check_staff_change`] for the rules.
pub fn change_status(
    conn: &Connection,
    settings: &Settings,
    request: &Request,
    change: &StatusBody,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<Request> {
    let (to, reason, deferred_until) = (
        change.status,
        change.reason.as_deref(),
        change.deferred_until,
    );
    status::check_staff_change(request.status, to, reason, deferred_until.is_some())?;
    let today = now.to_offset(local_offset(&settings.requests)).date();
    if deferred_until.is_some_and(|d| d <= today) {
        return Err(RequestError::refused(
            "deferred_until_past",
            "Дата, до которой заявка отложена, должна быть позже сегодняшней.",
        ));
    }
    let reason = reason
        .map(|r| clean_text(r, MAX_COMMENT, "причину"))
        .transpose()?;
    apply_status(
        conn,
        request,
        to,
        reason.as_deref(),
        deferred_until,
        actor,
        now,
    )
}

/// Writes a status change already checked, with its event and notifications.
pub(super) fn apply_status(
    conn: &Connection,
    request: &Request,
    to: Status,
    reason: Option<&str>,
    deferred_until: Option<Date>,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<Request> {
    let done_at = match to {
        Status::Done => Some(ts(now)),
        _ => request.done_at.map(ts),
    };
    conn.execute(
        "UPDATE requests SET status = ?2, deferred_until = ?3, done_at = ?4, updated_at = ?5 \
         WHERE id = ?1",
        params![
            request.id,
            to.as_str(),
            deferred_until.map(|d| d.to_string()),
            done_at,
            ts(now)
        ],
    )?;
    let text = match (reason, deferred_until) {
        (Some(r), Some(d)) => Some(format!("{r} (до {})", russian_date(d))),
        (Some(r), None) => Some(r.to_string()),
        (None, Some(d)) => Some(format!("Отложена до {}", russian_date(d))),
        (None, None) => None,
    };
    let new = NewEvent {
        kind: "status",
        status: Some(to),
        text: text.as_deref(),
        visible: true,
    };
    let event = records::add_event(conn, request.id, &new, actor, now)?;
    let updated = records::load(conn, request.id)?.ok_or(RequestError::NotFound)?;
    notify::after_event(conn, &updated, event, &new, actor, now)?;
    Ok(updated)
}

fn russian_date(d: Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

/// The resident reopens a done request within `reopen_days` of its completion.
pub fn reopen(
    conn: &Connection,
    settings: &Settings,
    request: &Request,
    reason: &str,
    person_id: i64,
    now: OffsetDateTime,
) -> Result<Request> {
    status::check_reopen(
        request.status,
        request.done_at,
        now,
        settings.requests.reopen_days,
    )?;
    let reason = clean_text(reason, MAX_COMMENT, "что осталось не так")?;
    let actor = Actor::Resident(person_id);
    apply_status(
        conn,
        request,
        Status::Reopened,
        Some(&reason),
        None,
        &actor,
        now,
    )
}

/// The deadline rule of a problem code, for callers that show it before filing.
pub fn kind_of(problem: &str) -> Kind {
    categories::problem(problem).map_or(Kind::Ordinary, |(_, p)| p.kind)
}
