//! The sandbox MAX: answers the Bot API calls in-process and records what the bot sent in
//! `max_sim_messages`, where the `/dev/max` chat page reads it. Never used when
//! `max.token` is set.

use std::time::Duration;

use rusqlite::params;
use serde_json::{json, Value};

use super::api::{
    BotInfo, CallbackAnswer, ListedMessage, MaxApi, MaxError, NewMessage, Recipient, SentMessage,
    Subscription, UpdateBatch,
};
use crate::clock::SharedClock;
use crate::store::{parse_ts, ts, Store};

/// The simulated bot's user id when `max.bot_id` is not set.
pub const SIM_BOT_ID: i64 = 100_000_001;

pub struct SimMax {
    store: Store,
    clock: SharedClock,
    bot: BotInfo,
}

impl SimMax {
    pub fn new(store: Store, clock: SharedClock, bot_id: i64, username: &str) -> Self {
        SimMax {
            store,
            clock,
            bot: BotInfo {
                user_id: if bot_id == 0 { SIM_BOT_ID } else { bot_id },
                username: Some(username.to_string()),
                first_name: Some("Госуслуги Дом".into()),
            },
        }
    }

    fn record(
        &self,
        chat_id: Option<i64>,
        user_id: Option<i64>,
        kind: &str,
        body: &Value,
    ) -> Result<i64, MaxError> {
        let now = ts(self.clock.now());
        let body = body.to_string();
        let kind = kind.to_string();
        self.store
            .write_blocking(|tx| {
                tx.execute(
                    "INSERT INTO max_sim_messages (chat_id, user_id, kind, body, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![chat_id, user_id, kind, body, now],
                )?;
                Ok(tx.last_insert_rowid())
            })
            .map_err(|e| MaxError::Network(format!("simulator store: {e}")))
    }
}

fn to_value<T: serde::Serialize>(body: &T) -> Result<Value, MaxError> {
    serde_json::to_value(body).map_err(|e| MaxError::Decode(e.to_string()))
}

impl MaxApi for SimMax {
    fn me(&self) -> Result<BotInfo, MaxError> {
        Ok(self.bot.clone())
    }

    fn send_message(&self, to: Recipient, message: &NewMessage) -> Result<SentMessage, MaxError> {
        let (chat, user) = match to {
            Recipient::User(id) => (None, Some(id)),
            Recipient::Chat(id) => (Some(id), None),
        };
        let id = self.record(chat, user, "message", &to_value(message)?)?;
        Ok(SentMessage {
            mid: Some(format!("mid.sim.{id}")),
        })
    }

    fn edit_message(&self, message_id: &str, message: &NewMessage) -> Result<(), MaxError> {
        let body = json!({ "message_id": message_id, "message": to_value(message)? });
        self.record(None, None, "edit", &body).map(|_| ())
    }

    fn answer_callback(&self, callback_id: &str, answer: &CallbackAnswer) -> Result<(), MaxError> {
        // The simulator's callback ids are `sim.<user id>.<n>`: the answer goes to that user.
        let user = callback_id
            .strip_prefix("sim.")
            .and_then(|rest| rest.split('.').next())
            .and_then(|id| id.parse::<i64>().ok());
        let body = json!({ "callback_id": callback_id, "answer": to_value(answer)? });
        self.record(None, user, "answer", &body).map(|_| ())
    }

    /// What the bot sent to the chat, newest first: to the chat itself, or to the user
    /// whose dialog it is (`max_users.dialog_chat_id`).
    fn recent_messages(&self, chat_id: i64, count: u32) -> Result<Vec<ListedMessage>, MaxError> {
        let limit = i64::from(count.clamp(1, 100));
        let rows = self
            .store
            .conn()
            .and_then(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT body, created_at FROM max_sim_messages \
                     WHERE kind = 'message' AND (chat_id = ?1 OR user_id IN \
                       (SELECT user_id FROM max_users WHERE dialog_chat_id = ?1)) \
                     ORDER BY id DESC LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![chat_id, limit], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .map_err(|e| MaxError::Network(format!("simulator store: {e}")))?;
        Ok(rows
            .into_iter()
            .map(|(body, at)| {
                let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                ListedMessage {
                    sender: Some(self.bot.user_id),
                    sender_is_bot: true,
                    timestamp_ms: parse_ts(&at)
                        .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0))
                        .unwrap_or(0),
                    text: body.get("text").and_then(Value::as_str).map(str::to_string),
                    attachments: body
                        .get("attachments")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                }
            })
            .collect())
    }

    fn chat(&self, chat_id: i64) -> Result<Value, MaxError> {
        Ok(json!({
            "chat_id": chat_id,
            "type": "chat",
            "status": "active",
            "title": "Чат дома (симулятор)",
            "link": format!("https://max.ru/join/sandbox-{chat_id}"),
        }))
    }

    fn subscriptions(&self) -> Result<Vec<Subscription>, MaxError> {
        Ok(Vec::new())
    }

    fn subscribe(&self, _url: &str, _secret: &str, _types: &[&str]) -> Result<(), MaxError> {
        Ok(())
    }

    fn unsubscribe(&self, _url: &str) -> Result<(), MaxError> {
        Ok(())
    }

    fn updates(
        &self,
        marker: Option<i64>,
        _timeout: Duration,
        _types: &[&str],
    ) -> Result<UpdateBatch, MaxError> {
        // The simulator hands its updates straight to the bot; there is nothing to poll.
        Ok(UpdateBatch {
            updates: Vec::new(),
            marker,
        })
    }
}
