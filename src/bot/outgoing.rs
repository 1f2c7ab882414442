//! Everything the bot sends goes through the durable outbox: one `max.send` job per
//! message part, in a lane per chat (so parts and replies keep their order), paced by
//! [`Pacer`] within MAX's limits. Other parts of gosdom send with [`enqueue_message`].

use std::sync::Arc;

use rusqlite::params;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::reconcile::{Reconciler, Verdict, LOOKUP_TRIES};
use super::texts;
use crate::connectors::max::api::{
    Button, CallbackAnswer, MaxApi, NewMessage, Recipient, TextFormat,
};
use crate::connectors::max::pace::Pacer;
use crate::jobs::{self, Handler, Job, JobError, NewJob, Outcome};
use crate::store::{self, ts};

/// Job kind: send one message.
pub const SEND: &str = "max.send";
/// Job kind: answer a pressed button.
pub const ANSWER: &str = "max.answer";

/// Attempts before a message is given up. With the default back-off (5 s doubling, capped
/// at an hour) this covers about an hour and a half of MAX being unreachable.
const SEND_ATTEMPTS: u32 = 12;
/// A button answer is useless after a short while.
const ANSWER_ATTEMPTS: u32 = 4;

/// What a `max.send` job carries.
#[derive(Debug, Serialize, Deserialize)]
struct SendPayload {
    to: Recipient,
    message: NewMessage,
    /// Usage event to record once the message is delivered, e.g. `app_button_sent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    usage: Option<Usage>,
}

/// A usage event for a `max_users.id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Usage {
    pub kind: String,
    pub max_user_id: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AnswerPayload {
    callback_id: String,
    answer: CallbackAnswer,
}

/// Queues `text` (split when long, the keyboard under the last part) to `to`. `key` makes
/// it idempotent: queueing the same key again adds nothing. Wake the outbox after commit.
#[allow(clippy::too_many_arguments)]
pub fn enqueue_message(
    tx: &rusqlite::Connection,
    key: &str,
    to: Recipient,
    text: &str,
    format: Option<TextFormat>,
    keyboard: Vec<Vec<Button>>,
    usage: Option<Usage>,
    now: OffsetDateTime,
) -> store::Result<usize> {
    let parts = texts::messages(text, format, keyboard);
    let count = parts.len();
    let mut added = 0;
    for (i, message) in parts.into_iter().enumerate() {
        let payload = SendPayload {
            to,
            message,
            usage: usage.clone().filter(|_| i + 1 == count),
        };
        let job = NewJob::new(SEND, format!("{SEND}:{key}:{i}"), to_json(&payload))
            .lane(format!("max:{}", to.lane()))
            .max_attempts(SEND_ATTEMPTS);
        if jobs::enqueue(tx, &job, now)? {
            added += 1;
        }
    }
    Ok(added)
}

/// Queues the answer to a pressed button.
pub fn enqueue_answer(
    tx: &rusqlite::Connection,
    callback_id: &str,
    answer: CallbackAnswer,
    now: OffsetDateTime,
) -> store::Result<bool> {
    let payload = AnswerPayload {
        callback_id: callback_id.to_string(),
        answer,
    };
    let job = NewJob::new(ANSWER, format!("{ANSWER}:{callback_id}"), to_json(&payload))
        .max_attempts(ANSWER_ATTEMPTS);
    jobs::enqueue(tx, &job, now)
}

/// Job payloads are plain structs of strings and numbers, which always encode.
fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

fn payload<T: serde::de::DeserializeOwned>(job: &Job) -> Result<T, JobError> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::Fatal(format!("malformed {} job: {e}", job.kind)))
}

/// Records a usage event (`usage_events.max_user_id` is `max_users.id`).
pub fn record_usage(
    tx: &rusqlite::Connection,
    kind: &str,
    max_user_id: Option<i64>,
    now: OffsetDateTime,
) -> store::Result<()> {
    tx.execute(
        "INSERT INTO usage_events (kind, max_user_id, day, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![kind, max_user_id, now.date().to_string(), ts(now)],
    )?;
    Ok(())
}

/// Runs `max.send` jobs. A job whose earlier attempt was cut off by the process dying
/// first asks MAX whether the message arrived ([`Reconciler`]); see `docs/reliability.md`.
pub struct SendHandler {
    api: Arc<dyn MaxApi>,
    pacer: Arc<Pacer>,
    clock: crate::clock::SharedClock,
    reconciler: Reconciler,
}

impl SendHandler {
    pub fn new(
        api: Arc<dyn MaxApi>,
        pacer: Arc<Pacer>,
        clock: crate::clock::SharedClock,
        reconciler: Reconciler,
    ) -> Self {
        SendHandler {
            api,
            pacer,
            clock,
            reconciler,
        }
    }

    /// For a job cut off earlier: `Some(outcome)` when it must not send now (MAX has the
    /// message, or the lookup failed and may be tried again), `None` to send.
    fn reconcile(&self, job: &Job, send: &SendPayload) -> Option<Result<Outcome, JobError>> {
        let interrupted = job.interrupted()?;
        let verdict = self.reconciler.check(send.to, &send.message, interrupted);
        let outcome = match &verdict {
            Verdict::Delivered => "delivered",
            Verdict::Missing => "missing",
            Verdict::NoChat => "no_chat",
            Verdict::Failed { .. } => "failed",
        };
        metrics::counter!("gosdom_max_reconciled_total", "outcome" => outcome).increment(1);
        match verdict {
            Verdict::Delivered => {
                tracing::info!(
                    job = job.id,
                    "max.send: interrupted message is in MAX already, not sent again"
                );
                Some(Ok(Outcome::Done))
            }
            Verdict::Missing => {
                tracing::info!(
                    job = job.id,
                    "max.send: interrupted message is not in MAX, sending"
                );
                None
            }
            Verdict::NoChat => {
                tracing::warn!(
                    job = job.id,
                    "max.send: interrupted message to a user without a known dialog chat, sending again unchecked"
                );
                None
            }
            Verdict::Failed { error, after } => {
                // Attempts since the interruption, this one included.
                let tries = job.attempt.saturating_sub(interrupted.attempt);
                if tries < LOOKUP_TRIES && job.attempt < job.max_attempts {
                    Some(Err(JobError::Retry {
                        message: format!(
                            "cannot check whether MAX got an interrupted message: {error}"
                        ),
                        after,
                    }))
                } else {
                    tracing::warn!(
                        job = job.id, tries, error = %error,
                        "max.send: cannot check an interrupted message, sending again unchecked"
                    );
                    None
                }
            }
        }
    }
}

impl Handler for SendHandler {
    fn run(&self, job: &Job) -> Result<Outcome, JobError> {
        let send: SendPayload = payload(job)?;
        if let Some(outcome) = self.reconcile(job, &send) {
            return outcome;
        }
        self.pacer.wait(Some(&send.to.lane()));
        self.api
            .send_message(send.to, &send.message)
            .map_err(|e| e.to_job_error())?;
        Ok(Outcome::Done)
    }

    fn on_done(&self, tx: &rusqlite::Transaction<'_>, job: &Job) -> store::Result<()> {
        let Ok(send) = serde_json::from_value::<SendPayload>(job.payload.clone()) else {
            return Ok(());
        };
        if let Some(usage) = send.usage {
            record_usage(tx, &usage.kind, usage.max_user_id, self.clock.now())?;
        }
        Ok(())
    }
}

/// Runs `max.answer` jobs.
pub struct AnswerHandler {
    api: Arc<dyn MaxApi>,
    pacer: Arc<Pacer>,
}

impl AnswerHandler {
    pub fn new(api: Arc<dyn MaxApi>, pacer: Arc<Pacer>) -> Self {
        AnswerHandler { api, pacer }
    }
}

impl Handler for AnswerHandler {
    fn run(&self, job: &Job) -> Result<Outcome, JobError> {
        let answer: AnswerPayload = payload(job)?;
        self.pacer.wait(None);
        self.api
            .answer_callback(&answer.callback_id, &answer.answer)
            .map_err(|e| e.to_job_error())?;
        Ok(Outcome::Done)
    }
}
