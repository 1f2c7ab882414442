//! Announcements through the bot: the fan-out job ([`FAN_OUT`]) and the sender that turns
//! each recipient into a paced `max.send` job via [`outgoing::enqueue_message`].

use std::sync::Arc;

use rusqlite::Connection;
use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

use super::outgoing;
use crate::clock::SharedClock;
use crate::connectors::max::api::Recipient;
use crate::domain::announcements::{fan_out_step, NoticeSender, Step, Target, FAN_OUT};
use crate::jobs::{Handler, Job, JobError, Jobs, Outcome};
use crate::store::{self, Store};

/// Queues announcement messages as bot messages.
pub struct BotNotices;

impl NoticeSender for BotNotices {
    fn enqueue(
        &self,
        tx: &Connection,
        key: &str,
        to: Target,
        text: &str,
        now: OffsetDateTime,
    ) -> store::Result<String> {
        let to = match to {
            Target::User(id) => Recipient::User(id),
            Target::Chat(id) => Recipient::Chat(id),
        };
        outgoing::enqueue_message(tx, key, to, text, None, Vec::new(), None, now)?;
        // Announcement texts are kept short enough to be one message: part 0.
        Ok(format!("{}:{key}:0", outgoing::SEND))
    }
}

/// Runs [`FAN_OUT`] jobs.
pub struct FanOut {
    pub store: Store,
    pub clock: SharedClock,
    pub offset: UtcOffset,
}

impl Handler for FanOut {
    fn run(&self, job: &Job) -> Result<Outcome, JobError> {
        let id = job
            .payload
            .get("announcement")
            .and_then(Value::as_i64)
            .ok_or_else(|| JobError::Fatal("announcements.fan_out without an id".into()))?;
        loop {
            let now = self.clock.now();
            let step = self
                .store
                .write_blocking(|tx| fan_out_step(tx, id, self.offset, &BotNotices, now))?;
            if step == Step::Done {
                break;
            }
        }
        tracing::info!(announcement = id, "announcement queued for delivery");
        Ok(Outcome::Done)
    }
}

/// Registers the fan-out.
pub fn register(jobs: &mut Jobs, app: &crate::app::App) {
    let hours = app.config.requests.utc_offset_hours;
    let offset = UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC);
    jobs.register(
        FAN_OUT,
        Arc::new(FanOut {
            store: app.store.clone(),
            clock: app.clock.clone(),
            offset,
        }),
    );
}
