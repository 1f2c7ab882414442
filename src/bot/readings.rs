//! The readings domain's [`ReminderSender`]: reminders and ГИС ЖКХ rejections go out as
//! bot messages with an «Открыть» button that opens the screen «Показания»
//! (`startapp=readings`). Whom to write to (and the `max_users.notify` switch) is decided
//! by the domain's queries; this only queues the message.

use std::sync::Arc;

use rusqlite::{OptionalExtension, Transaction};
use time::OffsetDateTime;

use super::{identity, outgoing, texts};
use crate::config::Config;
use crate::connectors::max::api::Recipient;
use crate::domain::readings::{Reminder, ReminderSender};
use crate::store;

/// Queues readings messages through the bot's outbox.
pub struct BotReminders {
    config: Arc<Config>,
}

impl BotReminders {
    pub fn new(config: Arc<Config>) -> Arc<Self> {
        Arc::new(BotReminders { config })
    }
}

impl ReminderSender for BotReminders {
    fn enqueue(
        &self,
        tx: &Transaction<'_>,
        reminder: &Reminder,
        now: OffsetDateTime,
    ) -> store::Result<()> {
        // The domain selects only users who keep notifications on; checked again here
        // because a user may have turned them off since.
        let notify: Option<bool> = tx
            .query_row(
                "SELECT notify = 1 AND notify_readings = 1 AND stopped_at IS NULL FROM max_users \
                 WHERE id = ?1",
                [reminder.max_user_id],
                |r| r.get(0),
            )
            .optional()?;
        if notify != Some(true) {
            return Ok(());
        }
        let bot = identity(tx, &self.config)?;
        let key = format!(
            "readings:{}:{}:{}",
            reminder.kind.as_str(),
            reminder.max_user_id,
            reminder.subject
        );
        outgoing::enqueue_message(
            tx,
            &key,
            Recipient::User(reminder.user_id),
            &reminder.text,
            None,
            texts::app_buttons(&bot, false, Some("readings")),
            None,
            now,
        )?;
        Ok(())
    }
}
