//! Outbox jobs that carry a request's changes outward, enqueued in the transaction that
//! wrote the event:
//!
//! - [`NOTIFY_KIND`] `max.notify_request`: one bot message to the resident for every
//!   status change and every staff comment the resident may see. The MAX bot registers
//!   the handler: it finds the person's MAX dialog, sends [`NotifyRequest::message`] with
//!   an `open_app` button that opens [`NotifyRequest::open_path`] in the mini-app, and
//!   skips people who turned notifications off.
//! - [`GIS_ANSWER_KIND`] `gis.import_answer`: for a request that came from ГИС ЖКХ, every
//!   status change and every staff comment the resident may see goes back as an
//!   `importAnswer` ([`GisAnswer`]); the ГИС ЖКХ connector registers the handler.
//!
//! Both idempotency keys name the event, so one event is never sent twice.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::records::{NewEvent, Request};
use super::status::{Actor, Status};
use super::Result;
use crate::jobs::{self, NewJob};

pub const NOTIFY_KIND: &str = "max.notify_request";
pub const GIS_ANSWER_KIND: &str = "gis.import_answer";

/// Payload of `max.notify_request`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotifyRequest {
    pub person_id: i64,
    pub request_id: i64,
    pub number: String,
    pub event_id: i64,
    /// `status` or `comment`.
    pub event: String,
    /// The status after the event.
    pub status: String,
    pub status_label: String,
    /// The comment, or the reason given with the status change.
    pub text: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline_at: Option<OffsetDateTime>,
    /// The mini-app route of the request card.
    pub open_path: String,
    /// The `open_app` button's payload (`request_<id>`): MAX hands it to the mini-app as
    /// `start_param`, which opens the card.
    pub start_param: String,
    /// The ready message in Russian, at most 4000 characters.
    pub message: String,
}

/// Payload of `gis.import_answer`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GisAnswer {
    pub organisation_id: i64,
    pub request_id: i64,
    pub event_id: i64,
    pub appeal_guid: String,
    /// ГИС ЖКХ's AppealNumber, when the pulled appeal had one.
    pub appeal_number: Option<String>,
    /// Our status after the event: `in_work` → Performer/in work; `done`, `closed` →
    /// Executed with the answer; `declined` → AnswerIsNotRequired with the reason as
    /// Cause; `deferred` → RollOverAppeal; a comment leaves the status as it is.
    pub status: String,
    /// `status` or `comment`.
    pub event: String,
    /// The answer text (LoadAnswer/AnswerText), when there is one.
    pub answer_text: Option<String>,
    /// Whether the answer is final and is to be sent to the applicant (SendAnswer).
    pub send_answer: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

const MESSAGE_LIMIT: usize = 4000;

fn message(request: &Request, event: &str, text: Option<&str>) -> String {
    let head = match event {
        "comment" => format!("Новый комментарий по заявке № {}", request.number),
        _ => format!(
            "Заявка № {}: статус «{}»",
            request.number,
            request.status.label()
        ),
    };
    let mut out = match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => format!("{head}\n\n{t}"),
        None => head,
    };
    if out.chars().count() > MESSAGE_LIMIT {
        out = out.chars().take(MESSAGE_LIMIT - 1).collect::<String>() + "…";
    }
    out
}

/// Enqueues what an event of `request` (already updated) must send out. Its kind is
/// `status` or `comment`; other events send nothing. Resident comments are not echoed
/// back to the resident.
pub fn after_event(
    conn: &Connection,
    request: &Request,
    event_id: i64,
    new: &NewEvent<'_>,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<()> {
    let (event, text) = (new.kind, new.text);
    let outward = match event {
        "status" => true,
        "comment" => new.visible && matches!(actor, Actor::Staff(_) | Actor::System),
        _ => false,
    };
    if !outward {
        return Ok(());
    }

    if let Some(person_id) = request.person_id {
        let payload = NotifyRequest {
            person_id,
            request_id: request.id,
            number: request.number.clone(),
            event_id,
            event: event.into(),
            status: request.status.as_str().into(),
            status_label: request.status.label().into(),
            text: text.map(str::to_string),
            deadline_at: request.deadline_at,
            open_path: format!("/app/#/requests/{}", request.id),
            start_param: format!("request_{}", request.id),
            message: message(request, event, text),
        };
        let job = NewJob::new(
            NOTIFY_KIND,
            format!("request-event:{event_id}"),
            serde_json::to_value(&payload).unwrap_or_default(),
        )
        .lane(format!("request:{}", request.id));
        jobs::enqueue(conn, &job, now)?;
    }

    if let (Some(guid), false) = (&request.appeal_guid, *actor == Actor::Gis) {
        let payload = GisAnswer {
            organisation_id: request.organisation_id,
            request_id: request.id,
            event_id,
            appeal_guid: guid.clone(),
            appeal_number: request.gis_number.clone(),
            status: request.status.as_str().into(),
            event: event.into(),
            answer_text: text.map(str::to_string),
            send_answer: event == "status"
                && matches!(
                    request.status,
                    Status::Done | Status::Closed | Status::Declined
                ),
            at: now,
        };
        let job = NewJob::new(
            GIS_ANSWER_KIND,
            format!("gis-answer:{event_id}"),
            serde_json::to_value(&payload).unwrap_or_default(),
        )
        .lane(format!("gis-appeal:{guid}"));
        jobs::enqueue(conn, &job, now)?;
    }
    Ok(())
}
