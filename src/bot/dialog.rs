//! How the bot behaves: what each update changes in the store and what it answers.
//! Everything here runs inside the transaction that marks the update handled, so an
//! update's effects (replies included, as outbox jobs) happen exactly once.

use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use super::outgoing::{self, Usage};
use super::texts::{self, BotIdentity};
use super::update::Update;
use crate::connectors::max::api::{CallbackAnswer, Recipient, TextFormat};
use crate::store::{self, ts};

/// Applies one update.
pub fn handle(
    tx: &rusqlite::Connection,
    update: &Update,
    bot: &BotIdentity,
    now: OffsetDateTime,
) -> store::Result<()> {
    match update.update_type.as_str() {
        "bot_started" => started(tx, update, bot, now),
        "message_created" => message(tx, update, bot, now),
        "message_callback" => callback(tx, update, bot, now),
        "bot_stopped" | "dialog_removed" => stopped(tx, update, now),
        "bot_added" | "bot_removed" | "user_added" | "user_removed" | "chat_title_changed" => {
            group_event(tx, update, now)
        }
        _ => Ok(()),
    }
}

/// Creates or refreshes the MAX user; returns `max_users.id`.
fn remember_user(
    tx: &rusqlite::Connection,
    user_id: i64,
    first_name: &str,
    dialog_chat_id: Option<i64>,
    now: OffsetDateTime,
) -> store::Result<i64> {
    Ok(tx.query_row(
        "INSERT INTO max_users (user_id, dialog_chat_id, first_name, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?4) \
         ON CONFLICT (user_id) DO UPDATE SET \
           dialog_chat_id = COALESCE(excluded.dialog_chat_id, dialog_chat_id), \
           first_name = CASE WHEN excluded.first_name <> '' THEN excluded.first_name \
                        ELSE first_name END, \
           updated_at = excluded.updated_at \
         RETURNING id",
        params![user_id, dialog_chat_id, first_name, ts(now)],
        |r| r.get(0),
    )?)
}

fn dialog_chat(update: &Update) -> Option<i64> {
    update.chat_id.filter(|_| update.in_dialog())
}

fn started(
    tx: &rusqlite::Connection,
    update: &Update,
    bot: &BotIdentity,
    now: OffsetDateTime,
) -> store::Result<()> {
    let Some(user) = update.user.as_ref().filter(|u| !u.is_bot) else {
        return Ok(());
    };
    let id = remember_user(tx, user.user_id, &user.first_name, dialog_chat(update), now)?;
    // Starting the bot again turns notifications back on.
    tx.execute(
        "UPDATE max_users SET notify = 1, stopped_at = NULL WHERE id = ?1",
        [id],
    )?;
    outgoing::record_usage(tx, "dialog_started", Some(id), now)?;
    outgoing::enqueue_message(
        tx,
        &update.dedup_key(),
        Recipient::User(user.user_id),
        &texts::welcome(&user.first_name),
        Some(TextFormat::Html),
        // A deep link's payload (`?start=readings`) opens the mini-app at that section.
        texts::app_buttons(
            bot,
            true,
            update.payload.as_deref().filter(|p| valid_payload(p)),
        ),
        Some(app_button_sent(id)),
        now,
    )?;
    Ok(())
}

/// Deep-link payloads are short identifiers; anything else is ignored.
fn valid_payload(payload: &str) -> bool {
    !payload.is_empty()
        && payload.len() <= 64
        && payload
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn app_button_sent(max_user_id: i64) -> Usage {
    Usage {
        kind: "app_button_sent".into(),
        max_user_id: Some(max_user_id),
    }
}

fn message(
    tx: &rusqlite::Connection,
    update: &Update,
    bot: &BotIdentity,
    now: OffsetDateTime,
) -> store::Result<()> {
    // Group chats (a house chat the bot was added to) get no answers, but for `/bind`.
    if !update.in_dialog() {
        return super::chats::group_message(tx, update, now);
    }
    let Some(user) = update.user.as_ref().filter(|u| !u.is_bot) else {
        return Ok(());
    };
    let id = remember_user(tx, user.user_id, &user.first_name, dialog_chat(update), now)?;
    outgoing::record_usage(tx, "message_received", Some(id), now)?;
    let text = update.message.as_ref().and_then(|m| m.text.as_deref());
    match text.map(|t| super::chats::dialog_command(tx, id, t, now)) {
        Some(Ok(Some(super::chats::STOPPED))) => outgoing::enqueue_message(
            tx,
            &update.dedup_key(),
            Recipient::User(user.user_id),
            super::chats::STOPPED,
            None,
            Vec::new(),
            None,
            now,
        )
        .map(|_| ()),
        Some(Ok(Some(first))) => {
            let text = format!("{first}\n\n{}", texts::help());
            send_text(tx, &update.dedup_key(), user.user_id, id, &text, bot, now)
        }
        Some(Err(e)) => Err(e),
        _ => send_help(tx, &update.dedup_key(), user.user_id, id, bot, now),
    }
}

fn send_help(
    tx: &rusqlite::Connection,
    key: &str,
    user_id: i64,
    max_user_id: i64,
    bot: &BotIdentity,
    now: OffsetDateTime,
) -> store::Result<()> {
    send_text(tx, key, user_id, max_user_id, &texts::help(), bot, now)
}

fn send_text(
    tx: &rusqlite::Connection,
    key: &str,
    user_id: i64,
    max_user_id: i64,
    text: &str,
    bot: &BotIdentity,
    now: OffsetDateTime,
) -> store::Result<()> {
    outgoing::enqueue_message(
        tx,
        key,
        Recipient::User(user_id),
        text,
        Some(TextFormat::Html),
        texts::app_buttons(bot, false, None),
        Some(app_button_sent(max_user_id)),
        now,
    )?;
    Ok(())
}

fn callback(
    tx: &rusqlite::Connection,
    update: &Update,
    bot: &BotIdentity,
    now: OffsetDateTime,
) -> store::Result<()> {
    let Some(callback_id) = update.callback_id.as_deref() else {
        return Ok(());
    };
    let help = update.payload.as_deref() == Some(texts::HELP_PAYLOAD);
    let notification = if help {
        texts::HELP_SHOWN
    } else {
        texts::STALE_BUTTON
    };
    outgoing::enqueue_answer(
        tx,
        callback_id,
        CallbackAnswer {
            message: None,
            notification: Some(notification.into()),
        },
        now,
    )?;
    if let Some(user) = update.user.as_ref().filter(|u| help && !u.is_bot) {
        let id = remember_user(tx, user.user_id, &user.first_name, None, now)?;
        send_help(tx, &update.dedup_key(), user.user_id, id, bot, now)?;
    }
    Ok(())
}

/// `bot_stopped` / `dialog_removed`: the user no longer wants messages from the bot.
fn stopped(tx: &rusqlite::Connection, update: &Update, now: OffsetDateTime) -> store::Result<()> {
    let Some(user) = update.user.as_ref() else {
        return Ok(());
    };
    let id = remember_user(tx, user.user_id, &user.first_name, None, now)?;
    tx.execute(
        "UPDATE max_users SET notify = 0, stopped_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![id, ts(now)],
    )?;
    Ok(())
}

fn happened_at(update: &Update, now: OffsetDateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(update.timestamp) * 1_000_000)
        .ok()
        .filter(|_| update.timestamp > 0)
        .unwrap_or(now)
}

/// Membership and title events of group chats, kept for binding house chats.
fn group_event(
    tx: &rusqlite::Connection,
    update: &Update,
    now: OffsetDateTime,
) -> store::Result<()> {
    let Some(chat_id) = update.chat_id else {
        return Ok(());
    };
    let kind = update.update_type.as_str();
    let status = match kind {
        "bot_removed" => "removed",
        _ => "active",
    };
    let known: Option<i64> = tx
        .query_row(
            "SELECT id FROM max_chats WHERE chat_id = ?1",
            [chat_id],
            |r| r.get(0),
        )
        .optional()?;
    match known {
        None => {
            tx.execute(
                "INSERT INTO max_chats (chat_id, title, status, added_by, is_channel, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![
                    chat_id,
                    update.title.clone().unwrap_or_default(),
                    status,
                    update.actor_id.filter(|_| kind == "bot_added"),
                    update.is_channel,
                    ts(now)
                ],
            )?;
        }
        Some(id) => {
            tx.execute(
                "UPDATE max_chats SET status = CASE WHEN ?2 IN ('bot_added', 'bot_removed') \
                   THEN ?3 ELSE status END, \
                 title = COALESCE(?4, title), \
                 added_by = CASE WHEN ?2 = 'bot_added' THEN ?5 ELSE added_by END, \
                 updated_at = ?6 WHERE id = ?1",
                params![id, kind, status, update.title, update.actor_id, ts(now)],
            )?;
        }
    }
    if kind == "bot_removed" {
        crate::domain::chats::bot_removed(tx, chat_id, now)?;
    }
    let user_id = update
        .member_id
        .or_else(|| update.user.as_ref().map(|u| u.user_id));
    tx.execute(
        "INSERT INTO max_chat_events (chat_id, kind, user_id, actor_id, happened_at, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            chat_id,
            kind,
            user_id,
            update.actor_id,
            ts(happened_at(update, now)),
            ts(now)
        ],
    )?;
    Ok(())
}
