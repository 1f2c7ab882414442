//! A MAX update read leniently: what MAX posts does not always match its schema (missing
//! `message` for voice messages, a top-level `user_id`, `name` instead of `first_name`,
//! numbers sent as strings), so every field is optional and unknown ones are ignored.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// A MAX user as an update names them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateUser {
    pub user_id: i64,
    pub first_name: String,
    pub is_bot: bool,
}

/// What the bot reads from one update.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    pub update_type: String,
    /// Unix milliseconds, 0 when absent.
    pub timestamp: i64,
    pub chat_id: Option<i64>,
    /// The user the update is about (who started the bot, was added, pressed a button,
    /// sent the message).
    pub user: Option<UpdateUser>,
    /// `inviter_id` / `admin_id`: who added or removed someone.
    pub actor_id: Option<i64>,
    /// For `user_added` / `user_removed`: the member who joined or left.
    pub member_id: Option<i64>,
    pub payload: Option<String>,
    pub title: Option<String>,
    pub is_channel: bool,
    pub message: Option<UpdateMessage>,
    pub callback_id: Option<String>,
    pub user_locale: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateMessage {
    pub mid: Option<String>,
    pub text: Option<String>,
    pub chat_id: Option<i64>,
    /// `dialog`, `chat` or `channel`.
    pub chat_type: Option<String>,
    pub sender: Option<UpdateUser>,
}

/// An integer, also when sent as a string.
fn int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn user(value: Option<&Value>) -> Option<UpdateUser> {
    let value = value?;
    let user_id = int(value.get("user_id")).or_else(|| int(value.get("id")))?;
    let first_name = text(value.get("first_name"))
        .filter(|n| !n.is_empty())
        .or_else(|| text(value.get("name")))
        .unwrap_or_default();
    Some(UpdateUser {
        user_id,
        first_name,
        is_bot: value.get("is_bot").and_then(Value::as_bool) == Some(true),
    })
}

fn message(value: Option<&Value>) -> Option<UpdateMessage> {
    let value = value.filter(|v| v.is_object())?;
    let body = value.get("body");
    let recipient = value.get("recipient");
    Some(UpdateMessage {
        mid: text(body.and_then(|b| b.get("mid"))),
        text: text(body.and_then(|b| b.get("text"))),
        chat_id: int(recipient.and_then(|r| r.get("chat_id"))),
        chat_type: text(recipient.and_then(|r| r.get("chat_type"))),
        sender: user(value.get("sender")),
    })
}

impl Update {
    /// Reads an update; `None` only when it is not a JSON object with an `update_type`.
    pub fn parse(value: &Value) -> Option<Update> {
        let update_type = text(value.get("update_type"))?;
        let callback = value.get("callback");
        let message = message(value.get("message"));
        let top_user = user(value.get("user"));
        let top_user_id = int(value.get("user_id"));

        // Whom the update is about: for membership events the top-level `user_id` is the
        // member and `user` the one who acted.
        let (the_user, member_id) = match update_type.as_str() {
            "user_added" | "user_removed" => (top_user.clone(), top_user_id),
            "message_callback" => (user(callback.and_then(|c| c.get("user"))), None),
            "message_created" | "message_edited" => (
                message
                    .as_ref()
                    .and_then(|m| m.sender.clone())
                    .or_else(|| top_user.clone())
                    .or_else(|| {
                        top_user_id.map(|id| UpdateUser {
                            user_id: id,
                            ..UpdateUser::default()
                        })
                    }),
                None,
            ),
            _ => (
                top_user.clone().or_else(|| {
                    top_user_id.map(|id| UpdateUser {
                        user_id: id,
                        ..UpdateUser::default()
                    })
                }),
                None,
            ),
        };
        let actor_id = int(value.get("inviter_id"))
            .or_else(|| int(value.get("admin_id")))
            .or_else(|| top_user.as_ref().map(|u| u.user_id));

        Some(Update {
            timestamp: int(value.get("timestamp")).unwrap_or(0),
            chat_id: int(value.get("chat_id")).or_else(|| message.as_ref()?.chat_id),
            user: the_user,
            actor_id,
            member_id,
            payload: text(value.get("payload"))
                .or_else(|| text(callback.and_then(|c| c.get("payload")))),
            title: text(value.get("title")),
            is_channel: value.get("is_channel").and_then(Value::as_bool) == Some(true),
            callback_id: text(callback.and_then(|c| c.get("callback_id"))),
            user_locale: text(value.get("user_locale")),
            message,
            update_type,
        })
    }

    /// Updates carry no id and may be delivered more than once: the same event always
    /// gives the same key. Long parts are hashed to keep the key short.
    pub fn dedup_key(&self) -> String {
        let mid = self.message.as_ref().and_then(|m| m.mid.clone());
        let identity = match (&self.callback_id, mid) {
            (Some(callback), _) if self.update_type == "message_callback" => callback.clone(),
            (_, Some(mid)) => format!("{}:{mid}", self.timestamp),
            _ => format!(
                "{}:{}:{}:{}:{}",
                self.timestamp,
                self.chat_id.unwrap_or(0),
                self.user.as_ref().map_or(0, |u| u.user_id),
                self.member_id.unwrap_or(0),
                self.payload.as_deref().unwrap_or("")
            ),
        };
        let key = format!("{}:{identity}", self.update_type);
        if key.len() <= 120 {
            key
        } else {
            format!(
                "{}:sha256:{}",
                self.update_type,
                hex::encode(Sha256::digest(identity.as_bytes()))
            )
        }
    }

    /// Whether this happened in the user's dialog with the bot (not a group chat).
    pub fn in_dialog(&self) -> bool {
        match self.message.as_ref().and_then(|m| m.chat_type.as_deref()) {
            Some(kind) => kind == "dialog",
            // bot_started and friends name the dialog's chat; group chat ids are negative.
            None => self.chat_id.is_none_or(|id| id > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../shared/fixtures/max/updates/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn bot_started_names_the_user_and_the_dialog() {
        let update = Update::parse(&fixture("bot_started")).unwrap();
        assert_eq!(update.update_type, "bot_started");
        assert_eq!(update.chat_id, Some(182182182));
        assert_eq!(update.user.as_ref().unwrap().user_id, 123456789);
        assert_eq!(update.user.as_ref().unwrap().first_name, "John");
        assert!(update.in_dialog());
    }

    #[test]
    fn a_group_message_is_not_a_dialog() {
        let update = Update::parse(&fixture("message_created")).unwrap();
        assert_eq!(update.chat_id, Some(-70801090403050));
        assert!(!update.in_dialog());
        assert_eq!(update.user.unwrap().user_id, 123456789);
    }

    #[test]
    fn a_callback_carries_its_id_payload_and_presser() {
        let update = Update::parse(&fixture("message_callback")).unwrap();
        assert_eq!(update.payload.as_deref(), Some("picture"));
        assert_eq!(update.user.as_ref().unwrap().user_id, 123456789);
        assert!(update.dedup_key().starts_with("message_callback:"));
        assert!(update.dedup_key().len() < 200);
    }

    #[test]
    fn membership_events_name_member_and_actor() {
        let update = Update::parse(&fixture("user_added")).unwrap();
        assert_eq!(update.member_id, Some(234567890));
        assert_eq!(update.actor_id, Some(123456789));
        let removed = Update::parse(&fixture("user_removed")).unwrap();
        assert_eq!(removed.member_id, Some(234567890));
        assert_ne!(update.dedup_key(), removed.dedup_key());
    }

    #[test]
    fn loose_shapes_are_read() {
        let voice = serde_json::json!({
            "update_type": "message_created", "timestamp": "1775025604499",
            "user_id": "42", "future_field": {"x": 1}
        });
        let update = Update::parse(&voice).unwrap();
        assert!(update.message.is_none());
        assert_eq!(update.timestamp, 1775025604499);
        assert_eq!(update.user.unwrap().user_id, 42);

        let old = serde_json::json!({
            "update_type": "bot_started", "chat_id": 5,
            "user": {"user_id": 7, "name": "Пётр"}
        });
        assert_eq!(
            Update::parse(&old).unwrap().user.unwrap().first_name,
            "Пётр"
        );
        assert!(Update::parse(&serde_json::json!({"timestamp": 1})).is_none());
        assert!(Update::parse(&serde_json::json!([1, 2])).is_none());
    }

    #[test]
    fn the_same_event_gives_the_same_key_and_others_differ() {
        let a = Update::parse(&fixture("bot_started")).unwrap();
        let b = Update::parse(&fixture("bot_started")).unwrap();
        assert_eq!(a.dedup_key(), b.dedup_key());
        let mut later = fixture("bot_started");
        later["timestamp"] = serde_json::json!(1775025604500i64);
        assert_ne!(Update::parse(&later).unwrap().dedup_key(), a.dedup_key());
    }
}
