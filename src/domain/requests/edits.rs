//! Changes that leave the status as it is: rating, comments, assignment, the deadline.
//! Each writes one `request_events` row; a comment the resident may see also notifies.

use rusqlite::{params, Connection};
use time::OffsetDateTime;

use super::lifecycle::{clean_text, MAX_COMMENT};
use super::records::{self, NewEvent, Request};
use super::status::{Actor, Status};
use super::{notify, RequestError, Result};
use crate::store::ts;

/// The resident rates a done or closed request once, 1–5.
pub fn rate(
    conn: &Connection,
    request: &Request,
    rating: u8,
    comment: Option<&str>,
    person_id: i64,
    now: OffsetDateTime,
) -> Result<Request> {
    if !matches!(request.status, Status::Done | Status::Closed) {
        return Err(RequestError::refused(
            "not_done_yet",
            "Оценить можно выполненную заявку.",
        ));
    }
    if request.rating.is_some() {
        return Err(RequestError::refused(
            "already_rated",
            "Вы уже оценили эту заявку.",
        ));
    }
    if !(1..=5).contains(&rating) {
        return Err(RequestError::refused("bad_rating", "Оценка — от 1 до 5."));
    }
    let comment = comment
        .filter(|c| !c.trim().is_empty())
        .map(|c| clean_text(c, MAX_COMMENT, "отзыв"))
        .transpose()?;
    conn.execute(
        "UPDATE requests SET rating = ?2, updated_at = ?3 WHERE id = ?1",
        params![request.id, rating, ts(now)],
    )?;
    let text = match comment {
        Some(c) => format!("Оценка {rating} из 5. {c}"),
        None => format!("Оценка {rating} из 5."),
    };
    let actor = Actor::Resident(person_id);
    records::add_event(
        conn,
        request.id,
        &NewEvent {
            kind: "rated",
            status: None,
            text: Some(&text),
            visible: true,
        },
        &actor,
        now,
    )?;
    records::load(conn, request.id)?.ok_or(RequestError::NotFound)
}

/// A comment; `visible = false` keeps it among staff. Returns the event id (photos of the
/// comment attach to it).
pub fn comment(
    conn: &Connection,
    request: &Request,
    text: &str,
    visible: bool,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<i64> {
    if matches!(request.status, Status::Closed | Status::Declined)
        && matches!(actor, Actor::Resident(_))
    {
        return Err(RequestError::refused(
            "request_closed",
            "Заявка закрыта. Если проблема осталась, подайте новую заявку.",
        ));
    }
    let text = clean_text(text, MAX_COMMENT, "комментарий")?;
    let new = NewEvent {
        kind: "comment",
        status: None,
        text: Some(&text),
        visible,
    };
    let event = records::add_event(conn, request.id, &new, actor, now)?;
    conn.execute(
        "UPDATE requests SET updated_at = ?2 WHERE id = ?1",
        params![request.id, ts(now)],
    )?;
    notify::after_event(conn, request, event, &new, actor, now)?;
    Ok(event)
}

/// Staff assign the request to someone (a name or a team); the event is internal.
pub fn assign(
    conn: &Connection,
    request: &Request,
    assignee: &str,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<Request> {
    let assignee = clean_text(assignee, 200, "исполнителя")?;
    conn.execute(
        "UPDATE requests SET assignee = ?2, updated_at = ?3 WHERE id = ?1",
        params![request.id, assignee, ts(now)],
    )?;
    records::add_event(
        conn,
        request.id,
        &NewEvent {
            kind: "assigned",
            status: None,
            text: Some(&assignee),
            visible: false,
        },
        actor,
        now,
    )?;
    records::load(conn, request.id)?.ok_or(RequestError::NotFound)
}

/// Staff set a new deadline with a reason the resident sees.
pub fn set_deadline(
    conn: &Connection,
    request: &Request,
    deadline_at: OffsetDateTime,
    reason: &str,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<Request> {
    if !request.status.is_open() {
        return Err(RequestError::refused(
            "request_not_open",
            "Срок меняют только у незавершённой заявки.",
        ));
    }
    if deadline_at <= now {
        return Err(RequestError::refused(
            "deadline_in_past",
            "Новый срок должен быть в будущем.",
        ));
    }
    let reason = clean_text(reason, MAX_COMMENT, "причину переноса срока")?;
    conn.execute(
        "UPDATE requests SET deadline_at = ?2, updated_at = ?3 WHERE id = ?1",
        params![request.id, ts(deadline_at), ts(now)],
    )?;
    records::add_event(
        conn,
        request.id,
        &NewEvent {
            kind: "deadline",
            status: None,
            text: Some(&reason),
            visible: true,
        },
        actor,
        now,
    )?;
    records::load(conn, request.id)?.ok_or(RequestError::NotFound)
}
