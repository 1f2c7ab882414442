//! `max.notify_request`: a change of a resident's request becomes a bot message in their
//! dialog, with a button that opens the request card in the mini-app. The job itself
//! only turns into `max.send` jobs (via [`outgoing::enqueue_message`]) in the transaction
//! that marks it done; people who turned notifications off or stopped the bot get
//! nothing.

use std::sync::Arc;

use rusqlite::params;

use super::{identity, outgoing, texts};
use crate::config::Config;
use crate::connectors::max::api::Recipient;
use crate::domain::requests::notify::{NotifyRequest, NOTIFY_KIND};
use crate::jobs::{Handler, Job, JobError, Jobs, Outcome};
use crate::store;

/// The handler of [`NOTIFY_KIND`].
pub struct NotifyHandler {
    pub config: Arc<Config>,
    pub clock: crate::clock::SharedClock,
}

/// Registers the handler.
pub fn register(jobs: &mut Jobs, app: &crate::app::App) {
    jobs.register(
        NOTIFY_KIND,
        Arc::new(NotifyHandler {
            config: app.config.clone(),
            clock: app.clock.clone(),
        }),
    );
}

impl Handler for NotifyHandler {
    fn run(&self, job: &Job) -> Result<Outcome, JobError> {
        // A payload we cannot read will not become readable on a retry.
        serde_json::from_value::<NotifyRequest>(job.payload.clone())
            .map_err(|e| JobError::Fatal(format!("bad max.notify_request payload: {e}")))?;
        Ok(Outcome::Done)
    }

    fn on_done(&self, tx: &rusqlite::Transaction<'_>, job: &Job) -> store::Result<()> {
        let Ok(notice) = serde_json::from_value::<NotifyRequest>(job.payload.clone()) else {
            return Ok(());
        };
        let bot = identity(tx, &self.config)?;
        let mut stmt = tx.prepare(
            "SELECT id, user_id FROM max_users WHERE person_id = ?1 AND notify = 1 \
             AND notify_requests = 1 \
             AND stopped_at IS NULL",
        )?;
        let users = stmt
            .query_map(params![notice.person_id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let now = self.clock.now();
        for (max_user_id, user_id) in users {
            let keyboard = texts::app_buttons(&bot, false, Some(&notice.start_param));
            let key = format!("request_notice:{}:{max_user_id}", notice.event_id);
            outgoing::enqueue_message(
                tx,
                &key,
                Recipient::User(user_id),
                &notice.message,
                None,
                keyboard,
                None,
                now,
            )?;
            tracing::info!(
                request = notice.request_id,
                max_user = max_user_id,
                "request notice queued"
            );
        }
        Ok(())
    }
}
