//! Exactly once on the wire for a send that was cut off.
//!
//! The MAX Bot API has no idempotency key. When the process dies while a `max.send` job
//! is `running`, the outbox cannot know whether MAX took the message: the outbox marks
//! the job [`Interrupted`] at the next start. Before such a job sends again, it asks MAX
//! for the chat's latest messages (`GET /messages?chat_id=`) and looks for one from the
//! bot, posted since the interrupted attempt started, with the same text and keyboard.
//! Found: the job is done without sending. Not found: it sends. Ordinary sends never pay
//! for the lookup.
//!
//! The lookup needs a chat id: a group chat's own, or a resident's dialog with the bot
//! (`max_users.dialog_chat_id`). A message to a user whose dialog chat is not known is
//! sent again without a check (at-least-once, as before).

use std::sync::Arc;

use rusqlite::OptionalExtension;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::connectors::max::api::{
    Attachment, ListedMessage, MaxApi, NewMessage, Recipient, TextFormat,
};
use crate::connectors::max::pace::Pacer;
use crate::jobs::Interrupted;
use crate::store::Store;

/// Messages asked for: the chat's latest 50 (the API's default; at most 100).
pub const LOOKBACK: u32 = 50;
/// How far MAX's clock may be behind ours: the window opens this much before the
/// interrupted attempt started.
pub const SKEW: Duration = Duration::seconds(5);
/// Failed lookups (counting the attempts after the interruption) before the message is
/// sent again unchecked: at-least-once as the last resort, rather than never.
pub const LOOKUP_TRIES: u32 = 3;

/// What the lookup found out.
#[derive(Debug)]
pub enum Verdict {
    /// MAX has the message: mark the job done without sending.
    Delivered,
    /// MAX does not have it: send it.
    Missing,
    /// No chat id is known for the recipient: nothing to look in.
    NoChat,
    /// The lookup failed (MAX or the store); `after` is MAX's `Retry-After`.
    Failed {
        error: String,
        after: Option<std::time::Duration>,
    },
}

/// Looks for an interrupted message in its chat.
pub struct Reconciler {
    api: Arc<dyn MaxApi>,
    pacer: Arc<Pacer>,
    store: Store,
    /// The bot's user id; 0 when not configured (then any bot's message counts).
    bot_id: i64,
}

impl Reconciler {
    pub fn new(api: Arc<dyn MaxApi>, pacer: Arc<Pacer>, store: Store, bot_id: i64) -> Self {
        Reconciler {
            api,
            pacer,
            store,
            bot_id,
        }
    }

    /// Whether MAX already has `message` to `to`, sent since `interrupted` started.
    pub fn check(&self, to: Recipient, message: &NewMessage, interrupted: Interrupted) -> Verdict {
        let chat = match to {
            Recipient::Chat(id) => Some(id),
            Recipient::User(id) => match self.dialog_chat(id) {
                Ok(chat) => chat,
                Err(error) => {
                    return Verdict::Failed { error, after: None };
                }
            },
        };
        let Some(chat) = chat else {
            return Verdict::NoChat;
        };
        // The lookup is a call like any other: it counts against the 30/s overall limit.
        self.pacer.wait(None);
        let listed = match self.api.recent_messages(chat, LOOKBACK) {
            Ok(listed) => listed,
            Err(e) => {
                return Verdict::Failed {
                    error: e.to_string(),
                    after: e.retry_after(),
                }
            }
        };
        let from_ms = unix_ms(interrupted.at - SKEW);
        let found = listed.iter().any(|m| {
            m.timestamp_ms >= from_ms && self.is_by_the_bot(m) && same_message(message, m)
        });
        if found {
            Verdict::Delivered
        } else {
            Verdict::Missing
        }
    }

    fn is_by_the_bot(&self, message: &ListedMessage) -> bool {
        if self.bot_id != 0 {
            message.sender == Some(self.bot_id)
        } else {
            message.sender_is_bot
        }
    }

    fn dialog_chat(&self, user_id: i64) -> Result<Option<i64>, String> {
        let conn = self.store.conn().map_err(|e| e.to_string())?;
        conn.query_row(
            "SELECT dialog_chat_id FROM max_users WHERE user_id = ?1",
            [user_id],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()
        .map(Option::flatten)
        .map_err(|e| e.to_string())
    }
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MIN)
}

/// Whether a listed message is the one the bot sent: the same text (compared without
/// markup when the message was formatted, since MAX lists the text with its markup taken
/// out) and the same keyboard (rows of button captions).
pub fn same_message(sent: &NewMessage, listed: &ListedMessage) -> bool {
    let sent_text = sent.text.as_deref().unwrap_or_default();
    let listed_text = listed.text.as_deref().unwrap_or_default();
    let same_text = sent_text == listed_text
        || sent
            .format
            .is_some_and(|f| plain(sent_text, f) == plain(listed_text, f));
    same_text && sent_keyboard(sent) == listed_keyboard(listed)
}

type Captions = Option<Vec<Vec<String>>>;

fn sent_keyboard(message: &NewMessage) -> Captions {
    // Keyboards are the only attachment the bot sends.
    message
        .attachments
        .as_ref()?
        .iter()
        .map(|a| match a {
            Attachment::InlineKeyboard { payload } => payload
                .buttons
                .iter()
                .map(|row| row.iter().map(caption).collect())
                .collect(),
        })
        .next()
}

fn caption(button: &crate::connectors::max::api::Button) -> String {
    use crate::connectors::max::api::Button;
    match button {
        Button::OpenApp { text, .. }
        | Button::Link { text, .. }
        | Button::Callback { text, .. } => text.clone(),
    }
}

fn listed_keyboard(message: &ListedMessage) -> Captions {
    let keyboard = message
        .attachments
        .iter()
        .find(|a| a.get("type").and_then(Value::as_str) == Some("inline_keyboard"))?;
    let rows = keyboard.pointer("/payload/buttons")?.as_array()?;
    Some(
        rows.iter()
            .map(|row| {
                row.as_array()
                    .map(|buttons| {
                        buttons
                            .iter()
                            .map(|b| {
                                b.get("text")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_string()
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect(),
    )
}

/// `text` without MAX's markup of `format`, whitespace trimmed. Applied to both sides, so
/// a text that had none compares equal to itself.
fn plain(text: &str, format: TextFormat) -> String {
    let mut out = String::with_capacity(text.len());
    match format {
        TextFormat::Html => {
            let mut in_tag = false;
            for c in text.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' if in_tag => in_tag = false,
                    _ if !in_tag => out.push(c),
                    _ => {}
                }
            }
            out = out
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
        }
        TextFormat::Markdown => {
            // `[caption](url)` → caption, then the emphasis marks go.
            let mut rest = text;
            while let Some(open) = rest.find('[') {
                let Some(close) = rest[open..].find("](").map(|i| open + i) else {
                    break;
                };
                let Some(end) = rest[close..].find(')').map(|i| close + i) else {
                    break;
                };
                out.push_str(&rest[..open]);
                out.push_str(&rest[open + 1..close]);
                rest = &rest[end + 1..];
            }
            out.push_str(rest);
            out.retain(|c| !matches!(c, '*' | '_' | '~' | '+' | '^' | '`'));
            out = out
                .lines()
                .map(|l| l.trim_start_matches('#').trim_start())
                .collect::<Vec<_>>()
                .join("\n");
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::max::api::Button;

    fn listed(text: &str, attachments: Vec<Value>) -> ListedMessage {
        ListedMessage {
            sender: Some(1),
            sender_is_bot: true,
            timestamp_ms: 0,
            text: Some(text.into()),
            attachments,
        }
    }

    #[test]
    fn the_same_text_and_keyboard_match_and_others_do_not() {
        let sent =
            NewMessage::text("Здравствуйте", None).with_keyboard(vec![vec![Button::Callback {
                text: "Показания".into(),
                payload: "readings".into(),
            }]]);
        let keyboard = serde_json::json!({"type": "inline_keyboard", "payload": {"buttons": [[
            {"type": "callback", "text": "Показания", "payload": "readings"}]]}});
        assert!(same_message(
            &sent,
            &listed("Здравствуйте", vec![keyboard.clone()])
        ));
        assert!(!same_message(&sent, &listed("Здравствуйте", vec![])));
        assert!(!same_message(
            &sent,
            &listed("Здравствуйте!", vec![keyboard])
        ));
        let plain_sent = NewMessage::text("Здравствуйте", None);
        assert!(same_message(&plain_sent, &listed("Здравствуйте", vec![])));
    }

    #[test]
    fn formatted_text_matches_its_listing_without_markup() {
        let sent = NewMessage::text(
            "**Заявка** принята, [открыть](https://dom.example.ru)",
            Some(TextFormat::Markdown),
        );
        assert!(same_message(
            &sent,
            &listed("Заявка принята, открыть", vec![])
        ));
        let html = NewMessage::text("<b>Заявка</b> &amp; ответ", Some(TextFormat::Html));
        assert!(same_message(&html, &listed("Заявка & ответ", vec![])));
        assert!(!same_message(&html, &listed("Заявка", vec![])));
    }
}
