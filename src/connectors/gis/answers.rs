//! Answers back to ГИС ЖКХ: the handler of the `gis.import_answer` jobs the requests domain
//! enqueues for every status change and resident-visible comment of a request that came
//! from ГИС ЖКХ ([`GisAnswer`]).
//!
//! The job turns its event into one `importAnswer` message of the [`engine`] (which sends,
//! polls, rebuilds and never re-sends an acknowledged import) and waits for it: the job is
//! done when ГИС ЖКХ accepted every item, and fails with ГИС ЖКХ's reason otherwise, so the
//! console's exchange screen shows the failed job, scoped to the УО by its payload.
//!
//! What each event sends: `in_work` → AppealAction/Performer; `done` → the final answer
//! (LoadAnswer + SendAnswer); `closed` → the final answer unless one was sent already;
//! `declined` → AnswerIsNotRequired with the reason; `deferred` → RollOverAppeal to the
//! deferral date; a comment → an answer saved without SendAnswer. `new` and `reopened`
//! have no counterpart in ГИС ЖКХ and send nothing.

use rusqlite::{params, Connection, OptionalExtension};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::engine::{self, Operation};
use super::ops::appeals::{Action, Answer, AppealStep};
use super::ops::metering::ItemResult;
use super::poll_delay;
use crate::clock::SharedClock;
use crate::domain::requests::notify::{GisAnswer, GIS_ANSWER_KIND};
use crate::jobs::{Handler, Job, JobError, Outcome};
use crate::store::{self, ts, Store};

pub const JOB_KIND: &str = GIS_ANSWER_KIND;

/// Sends the answers of `gis.import_answer` jobs through the engine.
pub struct ImportAnswers {
    pub store: Store,
    pub clock: SharedClock,
    /// AnswererGUID; empty stops every answer with a message for the operator.
    pub answerer_guid: String,
    pub schedule: Vec<u64>,
}

/// The TransportGUID of an event's answer or action: derived from the event, so a
/// repeated job builds the same message.
fn transport_guid(event_id: i64, what: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("gosdom:gis-answer:{event_id}:{what}").as_bytes(),
    )
}

/// What an event sends, if anything.
fn content(
    conn: &Connection,
    answer: &GisAnswer,
    answerer: &str,
) -> store::Result<Option<(Vec<Answer>, Vec<Action>)>> {
    let text = answer
        .answer_text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let reply = |text: &str, send: bool| Answer {
        transport_guid: transport_guid(answer.event_id, "answer"),
        appeal_guid: answer.appeal_guid.clone(),
        answerer_guid: answerer.to_string(),
        text: text.to_string(),
        send,
    };
    let action = |step: AppealStep| Action {
        transport_guid: transport_guid(answer.event_id, "action"),
        appeal_guid: answer.appeal_guid.clone(),
        answerer_guid: answerer.to_string(),
        step,
    };
    if answer.event == "comment" {
        return Ok(text.map(|t| (vec![reply(t, false)], Vec::new())));
    }
    let final_sent = || -> store::Result<bool> {
        Ok(conn
            .query_row(
                "SELECT 1 FROM gis_answers WHERE appeal_guid = ?1 AND final = 1 LIMIT 1",
                [&answer.appeal_guid],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    };
    Ok(match answer.status.as_str() {
        "in_work" => Some((Vec::new(), vec![action(AppealStep::Performer)])),
        "done" => Some((
            vec![reply(
                text.unwrap_or("Работы по обращению выполнены."),
                true,
            )],
            Vec::new(),
        )),
        "closed" if !final_sent()? => Some((
            vec![reply(
                text.unwrap_or("Обращение рассмотрено и закрыто."),
                true,
            )],
            Vec::new(),
        )),
        "declined" => Some((
            Vec::new(),
            vec![action(AppealStep::NotRequired {
                cause: text.unwrap_or("Ответ на обращение не требуется.").into(),
            })],
        )),
        "deferred" => deferred_until(conn, answer.request_id)?.map(|until| {
            (
                Vec::new(),
                vec![action(AppealStep::RollOver {
                    until,
                    comment: text.unwrap_or("Срок исполнения перенесён.").into(),
                })],
            )
        }),
        _ => None,
    })
}

/// The date a deferred request waits until (stored as a date or a timestamp).
fn deferred_until(conn: &Connection, request_id: i64) -> store::Result<Option<Date>> {
    let raw: Option<String> = conn
        .query_row(
            "SELECT deferred_until FROM requests WHERE id = ?1",
            [request_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Ok(raw.and_then(|d| Date::parse(d.get(..10)?, &format).ok()))
}

/// The event's message: the one made before, or a new one (None: nothing to send).
fn open_message(
    tx: &Connection,
    answer: &GisAnswer,
    answerer: &str,
    now: OffsetDateTime,
) -> store::Result<Option<i64>> {
    let known: Option<Option<i64>> = tx
        .query_row(
            "SELECT message_id FROM gis_answers WHERE event_id = ?1",
            [answer.event_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(message) = known {
        return Ok(message);
    }
    let message = match content(tx, answer, answerer)? {
        Some((answers, actions)) => {
            let is_final = answers.iter().any(|a| a.send);
            let id = engine::submit_for(
                tx,
                Some(answer.organisation_id),
                &Operation::ImportAnswer { answers, actions },
                None,
                now,
            )?;
            Some((id, is_final))
        }
        None => None,
    };
    tx.execute(
        "INSERT INTO gis_answers (event_id, request_id, appeal_guid, message_id, final, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            answer.event_id,
            answer.request_id,
            answer.appeal_guid,
            message.map(|m| m.0),
            message.is_some_and(|m| m.1),
            ts(now)
        ],
    )?;
    Ok(message.map(|m| m.0))
}

impl Handler for ImportAnswers {
    fn run(&self, job: &Job) -> Result<Outcome, JobError> {
        let answer: GisAnswer = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Fatal(format!("gis.import_answer payload: {e}")))?;
        if self.answerer_guid.is_empty() {
            return Err(JobError::Fatal(
                "set gis.answerer_guid (GOSDOM_GIS__ANSWERER_GUID) to the AnswererGUID of the \
                 employee who answers appeals in ГИС ЖКХ, then retry this job"
                    .into(),
            ));
        }
        let now = self.clock.now();
        let Some(message_id) = self
            .store
            .write_blocking(|tx| open_message(tx, &answer, &self.answerer_guid, now))?
        else {
            return Ok(Outcome::Done);
        };
        let message = engine::load(&*self.store.conn()?, message_id)?
            .ok_or_else(|| JobError::Fatal(format!("ГИС ЖКХ message {message_id} is missing")))?;
        let appeal = answer
            .appeal_number
            .as_deref()
            .unwrap_or(answer.appeal_guid.as_str());
        match message.state.as_str() {
            "done" => {
                let items: std::collections::BTreeMap<String, ItemResult> = message
                    .result
                    .as_deref()
                    .and_then(|r| serde_json::from_str(r).ok())
                    .unwrap_or_default();
                let refused: Vec<String> = items
                    .values()
                    .filter_map(|item| match item {
                        ItemResult::Rejected { code, message } => {
                            Some(format!("{code}: {message}"))
                        }
                        ItemResult::Accepted { .. } => None,
                    })
                    .collect();
                if refused.is_empty() {
                    tracing::info!(
                        request = answer.request_id,
                        message = message_id,
                        "ГИС ЖКХ accepted the answer to an appeal"
                    );
                    Ok(Outcome::Done)
                } else {
                    Err(JobError::Fatal(format!(
                        "ГИС ЖКХ отклонил ответ на обращение {appeal} (заявка {}): {}",
                        answer.request_id,
                        refused.join("; ")
                    )))
                }
            }
            "failed" => Err(JobError::Fatal(format!(
                "ответ на обращение {appeal} (заявка {}) не принят ГИС ЖКХ: {}",
                answer.request_id,
                message.error.unwrap_or_default()
            ))),
            _ => Ok(Outcome::Later(
                now + poll_delay(&self.schedule, u32::try_from(message.polls).unwrap_or(0)),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE requests (id INTEGER PRIMARY KEY, deferred_until TEXT); \
             INSERT INTO requests VALUES (1, '2027-02-01'); \
             CREATE TABLE gis_answers (event_id INTEGER PRIMARY KEY, request_id INTEGER, \
             appeal_guid TEXT, message_id INTEGER, final INTEGER, created_at TEXT);",
        )
        .unwrap();
        conn
    }

    fn event(id: i64, event: &str, status: &str, text: Option<&str>) -> GisAnswer {
        GisAnswer {
            organisation_id: 1,
            request_id: 1,
            event_id: id,
            appeal_guid: "0d2f9a3e-1111-4c2b-9a7e-5b1c2d3e4f50".into(),
            appeal_number: None,
            status: status.into(),
            event: event.into(),
            answer_text: text.map(str::to_string),
            send_answer: false,
            at: datetime!(2027-01-15 08:00 UTC),
        }
    }

    fn steps(conn: &Connection, e: &GisAnswer) -> Option<(Vec<bool>, Vec<AppealStep>)> {
        content(conn, e, "a").unwrap().map(|(answers, actions)| {
            (
                answers.iter().map(|a| a.send).collect(),
                actions.into_iter().map(|a| a.step).collect(),
            )
        })
    }

    #[test]
    fn each_status_maps_to_its_appeal_action() {
        let c = conn();
        assert_eq!(
            steps(&c, &event(1, "status", "in_work", None)),
            Some((vec![], vec![AppealStep::Performer]))
        );
        assert_eq!(
            steps(&c, &event(2, "status", "done", Some("Сделано"))),
            Some((vec![true], vec![]))
        );
        assert_eq!(
            steps(&c, &event(3, "status", "deferred", Some("Ждём"))),
            Some((
                vec![],
                vec![AppealStep::RollOver {
                    until: time::macros::date!(2027 - 02 - 01),
                    comment: "Ждём".into()
                }]
            ))
        );
        assert_eq!(
            steps(&c, &event(4, "status", "declined", Some("Дубль"))),
            Some((
                vec![],
                vec![AppealStep::NotRequired {
                    cause: "Дубль".into()
                }]
            ))
        );
        assert_eq!(
            steps(
                &c,
                &event(5, "comment", "in_work", Some("Мастер придёт завтра"))
            ),
            Some((vec![false], vec![]))
        );
        assert_eq!(steps(&c, &event(6, "comment", "in_work", None)), None);
        assert_eq!(steps(&c, &event(7, "status", "reopened", None)), None);
        assert_eq!(steps(&c, &event(8, "status", "new", None)), None);
    }

    #[test]
    fn closing_after_the_final_answer_sends_nothing_more() {
        let c = conn();
        assert_eq!(
            steps(&c, &event(1, "status", "closed", None)),
            Some((vec![true], vec![]))
        );
        c.execute(
            "INSERT INTO gis_answers VALUES (1, 1, '0d2f9a3e-1111-4c2b-9a7e-5b1c2d3e4f50', 5, 1, '')",
            [],
        )
        .unwrap();
        assert_eq!(steps(&c, &event(2, "status", "closed", None)), None);
    }

    #[test]
    fn each_event_has_its_own_transport_guids() {
        assert_eq!(transport_guid(7, "answer"), transport_guid(7, "answer"));
        assert_ne!(transport_guid(7, "answer"), transport_guid(7, "action"));
        assert_ne!(transport_guid(7, "answer"), transport_guid(8, "answer"));
    }
}
