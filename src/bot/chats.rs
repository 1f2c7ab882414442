//! The bot in house chats: `/bind <code>` binds a group chat to a house and answers in the
//! chat; `/stop` and `/start` in the dialog switch notifications; the invite links of
//! bound chats are fetched from `GET /chats/{id}` on binding and daily.

use std::sync::Arc;

use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::outgoing;
use super::update::Update;
use crate::clock::SharedClock;
use crate::connectors::max::api::{MaxApi, Recipient};
use crate::connectors::max::pace::Pacer;
use crate::domain::chats::{self, BindOutcome};
use crate::domain::notifications;
use crate::jobs::{Handler, Job, JobError, Outcome};
use crate::store::{self, Store};

/// The answer to `/stop`.
pub const STOPPED: &str = "Уведомления выключены: о заявках, показаниях и объявлениях дома \
     мы писать не будем. Сообщения об авариях в доме будут приходить по-прежнему.\n\n\
     Включить снова — команда /start или раздел «Уведомления» в приложении.";
/// Added to the help after `/start`.
pub const RESUMED: &str = "Уведомления включены.";

/// A message in a group chat: only `/bind <code>` gets an answer.
pub fn group_message(
    tx: &rusqlite::Connection,
    update: &Update,
    now: OffsetDateTime,
) -> store::Result<()> {
    let (Some(chat_id), Some(text)) = (
        update.chat_id,
        update.message.as_ref().and_then(|m| m.text.as_deref()),
    ) else {
        return Ok(());
    };
    let Some(code) = chats::bind_command(text) else {
        return Ok(());
    };
    let answer = if code.is_empty() {
        "Пришлите команду вместе с кодом из консоли управляющей организации: /bind КОД".to_string()
    } else {
        match chats::bind_by_code(tx, chat_id, code, now)? {
            BindOutcome::Bound { house_id, address } => {
                tracing::info!(house = house_id, chat = chat_id, "house chat bound by code");
                crate::domain::console::audit::record(
                    tx,
                    &format!("max:{}", update.user.as_ref().map_or(0, |u| u.user_id)),
                    "chat.bind",
                    &format!("house:{house_id}"),
                    serde_json::json!({ "chat_id": chat_id, "via": "code" }),
                    now,
                )?;
                format!(
                    "Готово: чат привязан к дому {address}. Жители дома увидят его в \
                     приложении «Госуслуги Дом», а объявления управляющей организации будут \
                     приходить сюда."
                )
            }
            BindOutcome::BadCode => "Код не подошёл: он неверный, уже использован или истёк. \
                 Попросите в управляющей организации новый код."
                .to_string(),
            BindOutcome::BotRemoved => {
                tracing::info!(chat = chat_id, "/bind in a chat the bot was removed from");
                return Ok(());
            }
            BindOutcome::Channel => "Это канал: в нём пишут только администраторы. Домовым \
                 чатом может быть только группа, где пишут жители. Код остаётся в силе — \
                 отправьте его в групповом чате дома."
                .to_string(),
            BindOutcome::ChatTaken { address } => format!(
                "Этот чат уже привязан к дому {address}. Чтобы привязать его к другому дому, \
                 управляющая организация сначала отвязывает его в консоли."
            ),
        }
    };
    outgoing::enqueue_message(
        tx,
        &update.dedup_key(),
        Recipient::Chat(chat_id),
        &answer,
        None,
        Vec::new(),
        None,
        now,
    )?;
    Ok(())
}

/// `/stop` or `/start` typed in the dialog: switches notifications and returns the
/// answer's first line, or `None` for any other text.
pub fn dialog_command(
    tx: &rusqlite::Connection,
    max_user_id: i64,
    text: &str,
    now: OffsetDateTime,
) -> store::Result<Option<&'static str>> {
    let command = text.split_whitespace().next().unwrap_or("");
    let command = command.split('@').next().unwrap_or("").to_lowercase();
    match command.as_str() {
        "/stop" => {
            notifications::stop(tx, max_user_id, now)?;
            Ok(Some(STOPPED))
        }
        "/start" => {
            notifications::resume(tx, max_user_id, now)?;
            Ok(Some(RESUMED))
        }
        _ => Ok(None),
    }
}

/// Fetches a chat's info and keeps its link and title.
fn refresh(
    api: &dyn MaxApi,
    pacer: &Pacer,
    store: &Store,
    clock: &SharedClock,
    chat_id: i64,
) -> Result<(), JobError> {
    pacer.wait(None);
    let info = api.chat(chat_id).map_err(|e| e.to_job_error())?;
    let link = info.get("link").and_then(Value::as_str);
    let title = info.get("title").and_then(Value::as_str);
    let now = clock.now();
    store.write_blocking(|tx| chats::store_chat_info(tx, chat_id, link, title, now))?;
    Ok(())
}

/// Runs [`chats::REFRESH_LINK`] jobs.
pub struct RefreshLink {
    pub api: Arc<dyn MaxApi>,
    pub pacer: Arc<Pacer>,
    pub store: Store,
    pub clock: SharedClock,
}

impl Handler for RefreshLink {
    fn run(&self, job: &Job) -> Result<Outcome, JobError> {
        let chat_id = job
            .payload
            .get("chat_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| JobError::Fatal("chats.refresh_link without chat_id".into()))?;
        refresh(
            self.api.as_ref(),
            &self.pacer,
            &self.store,
            &self.clock,
            chat_id,
        )?;
        Ok(Outcome::Done)
    }
}

/// Runs the daily [`chats::REFRESH_LINKS`] job: every bound chat's link, then tomorrow.
pub struct RefreshLinks(pub RefreshLink);

impl Handler for RefreshLinks {
    fn run(&self, _job: &Job) -> Result<Outcome, JobError> {
        let r = &self.0;
        let bound = chats::bound_chats(&*r.store.conn()?)?;
        for chat_id in bound {
            // One chat's failure (the bot was removed meanwhile) does not stop the others.
            if let Err(e) = refresh(r.api.as_ref(), &r.pacer, &r.store, &r.clock, chat_id) {
                tracing::warn!(chat = chat_id, error = %e, "chat link not refreshed");
            }
        }
        Ok(Outcome::Later(r.clock.now() + Duration::days(1)))
    }
}
