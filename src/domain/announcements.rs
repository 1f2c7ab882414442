//! Announcements of a УО to its houses: general, planned outage (start and end) or
//! emergency; to one house, several or all; now or at a set time. They are posted to the
//! houses' bound chats and sent to residents of those houses who keep house notices on
//! (emergency ones regardless of the general switch; general ones at most one an hour per
//! resident).
//!
//! Exactly once: the fan-out is an outbox job ([`FAN_OUT`]) that walks the recipients in
//! batches, each batch one transaction that writes a delivery row per recipient and
//! queues its message with an idempotency key; a restart resumes at the stored cursor and
//! the keys and unique rows make a repeated batch a no-op. Figures come from the delivery
//! rows and the state of their outbox jobs.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::console::Scope;
use crate::jobs::{self, NewJob};
use crate::store::{self, parse_ts, ts};

/// Job kind: fan an announcement out (`{"announcement": id}`).
pub const FAN_OUT: &str = "announcements.fan_out";
/// Recipients per fan-out transaction.
pub const BATCH: usize = 200;
/// A resident gets at most one general announcement within this time.
pub const GENERAL_GAP: Duration = Duration::hours(1);
pub const TITLE_CHARS: usize = 150;
/// Keeps every message within MAX's 4000 characters, so it is one message.
pub const TEXT_CHARS: usize = 3000;
/// How far ahead an announcement may be scheduled.
const FURTHEST: Duration = Duration::days(60);
/// A send time this far in the past still means "now".
const PAST_GRACE: Duration = Duration::minutes(5);
/// The same announcement again within this time is a repeated click, refused.
pub const REPEAT_GAP: Duration = Duration::minutes(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    General,
    Outage,
    Emergency,
}

impl Kind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::General => "general",
            Kind::Outage => "outage",
            Kind::Emergency => "emergency",
        }
    }

    fn parse(text: &str) -> Option<Kind> {
        match text {
            "general" => Some(Kind::General),
            "outage" => Some(Kind::Outage),
            "emergency" => Some(Kind::Emergency),
            _ => None,
        }
    }
}

/// What staff send to create one.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub kind: Kind,
    pub title: String,
    pub text: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub houses: Vec<i64>,
    #[serde(default)]
    pub all_houses: bool,
    /// With `all_houses`, for a regional admin: which УО.
    #[serde(default)]
    pub organisation_id: Option<i64>,
    /// Empty: now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub send_at: Option<OffsetDateTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum AnnouncementError {
    /// A field is wrong: a stable code and a Russian message for staff.
    #[error("{1}")]
    Invalid(&'static str, String),
    #[error("not found")]
    NotFound,
    #[error("already sent")]
    AlreadySent,
    #[error("already cancelled")]
    AlreadyCancelled,
    /// The same announcement was just made (a repeated click).
    #[error("repeated")]
    Repeated,
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl From<rusqlite::Error> for AnnouncementError {
    fn from(e: rusqlite::Error) -> Self {
        AnnouncementError::Store(e.into())
    }
}

type Result<T> = std::result::Result<T, AnnouncementError>;

fn invalid(code: &'static str, message: &str) -> AnnouncementError {
    AnnouncementError::Invalid(code, message.to_string())
}

/// Whole seconds, so stored times compare as text.
fn at(now: OffsetDateTime) -> String {
    ts(now.replace_nanosecond(0).unwrap_or(now))
}

/// Checks a draft, stores it and queues its fan-out at its time; returns the id.
pub fn create(
    tx: &Connection,
    scope: Scope,
    actor: &str,
    draft: &Draft,
    now: OffsetDateTime,
) -> Result<i64> {
    let title = draft.title.trim();
    let text = draft.text.trim();
    if title.is_empty() || title.chars().count() > TITLE_CHARS {
        return Err(invalid(
            "invalid_title",
            &format!("Заголовок: от 1 до {TITLE_CHARS} символов."),
        ));
    }
    if text.is_empty() || text.chars().count() > TEXT_CHARS {
        return Err(invalid(
            "invalid_text",
            &format!("Текст объявления: от 1 до {TEXT_CHARS} символов."),
        ));
    }
    if title.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(invalid(
            "invalid_title",
            "Заголовок — одна строка без служебных символов: уберите переносы строк и \
             невидимые символы.",
        ));
    }
    if text
        .chars()
        .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(c))
    {
        return Err(invalid(
            "invalid_text",
            "В тексте объявления есть невидимые служебные символы: наберите текст заново \
             или вставьте его как простой текст.",
        ));
    }
    let (starts, ends) = match draft.kind {
        Kind::Outage => match (draft.starts_at, draft.ends_at) {
            (Some(s), Some(e)) if e > s => (Some(s), Some(e)),
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "invalid_period",
                    "Окончание отключения должно быть позже начала.",
                ))
            }
            _ => {
                return Err(invalid(
                    "period_required",
                    "Укажите начало и окончание отключения.",
                ))
            }
        },
        _ => (None, None),
    };
    // A time a little past is "now" (the form was filled a minute ago); one well past is
    // a mistyped date, not a wish to send at once.
    if draft.send_at.is_some_and(|t| t < now - PAST_GRACE) {
        return Err(invalid(
            "invalid_send_at",
            "Время отправки уже прошло: укажите будущее время или оставьте поле пустым, \
             чтобы отправить сейчас.",
        ));
    }
    let send_at = draft.send_at.filter(|t| *t > now).unwrap_or(now);
    if ends.is_some_and(|e| e <= send_at) {
        return Err(invalid(
            "invalid_period",
            "Отключение закончится раньше, чем уйдёт объявление: проверьте окончание \
             отключения и время отправки.",
        ));
    }
    if send_at > now + FURTHEST {
        return Err(invalid(
            "invalid_send_at",
            "Запланировать объявление можно не дальше чем на 60 дней вперёд.",
        ));
    }
    let organisation = target_organisation(tx, scope, draft)?;
    if is_repeat(tx, organisation, draft, title, text, now)? {
        return Err(AnnouncementError::Repeated);
    }

    tx.execute(
        "INSERT INTO announcements (organisation_id, kind, title, text, starts_at, ends_at, \
         all_houses, send_at, status, created_by, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'scheduled', ?9, ?10, ?10)",
        params![
            organisation,
            draft.kind.as_str(),
            title,
            text,
            starts.map(at),
            ends.map(at),
            draft.all_houses,
            at(send_at),
            actor,
            at(now)
        ],
    )?;
    let id = tx.last_insert_rowid();
    if !draft.all_houses {
        for house in &draft.houses {
            tx.execute(
                "INSERT OR IGNORE INTO announcement_houses (announcement_id, house_id) \
                 VALUES (?1, ?2)",
                params![id, house],
            )?;
        }
    }
    let job = NewJob::new(
        FAN_OUT,
        format!("{FAN_OUT}:{id}"),
        serde_json::json!({ "announcement": id }),
    )
    .at(send_at)
    .max_attempts(20);
    jobs::enqueue(tx, &job, now)?;
    Ok(id)
}

/// Direction overrides and isolates: they make a message read other than it is written.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The same announcement (kind, title, text, houses) made in the last [`REPEAT_GAP`] and
/// not cancelled: a second click of «Отправить» must not send it twice.
fn is_repeat(
    tx: &Connection,
    organisation: i64,
    draft: &Draft,
    title: &str,
    text: &str,
    now: OffsetDateTime,
) -> Result<bool> {
    let mut stmt = tx.prepare_cached(
        "SELECT id FROM announcements WHERE organisation_id = ?1 AND kind = ?2 AND title = ?3 \
         AND text = ?4 AND all_houses = ?5 AND status <> 'cancelled' AND created_at >= ?6",
    )?;
    let earlier = stmt
        .query_map(
            params![
                organisation,
                draft.kind.as_str(),
                title,
                text,
                draft.all_houses,
                at(now - REPEAT_GAP)
            ],
            |r| r.get::<_, i64>(0),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if draft.all_houses {
        return Ok(!earlier.is_empty());
    }
    let mut wanted = draft.houses.clone();
    wanted.sort_unstable();
    wanted.dedup();
    for id in earlier {
        let mut houses = tx.prepare_cached(
            "SELECT house_id FROM announcement_houses WHERE announcement_id = ?1 \
             ORDER BY house_id",
        )?;
        let had = houses
            .query_map([id], |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if had == wanted {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The УО the announcement belongs to; every named house must be inside `scope` and of
/// that one УО.
fn target_organisation(tx: &Connection, scope: Scope, draft: &Draft) -> Result<i64> {
    if draft.all_houses {
        return match scope {
            Scope::Organisation(id) => Ok(id),
            Scope::Region => {
                let id = draft.organisation_id.ok_or_else(|| {
                    invalid(
                        "organisation_required",
                        "Выберите управляющую организацию, всем домам которой отправить объявление.",
                    )
                })?;
                let exists: Option<i64> = tx
                    .query_row("SELECT id FROM organisations WHERE id = ?1", [id], |r| {
                        r.get(0)
                    })
                    .optional()?;
                exists.ok_or_else(|| invalid("unknown_organisation", "Такой УО нет."))
            }
        };
    }
    if draft.houses.is_empty() {
        return Err(invalid(
            "houses_required",
            "Выберите хотя бы один дом или «все дома».",
        ));
    }
    let mut organisation = None;
    for house in &draft.houses {
        let found: Option<i64> = tx
            .query_row(
                "SELECT organisation_id FROM houses WHERE id = ?1 AND removed_at IS NULL",
                [house],
                |r| r.get(0),
            )
            .optional()?;
        let Some(org) = found.filter(|org| scope.covers(Some(*org))) else {
            return Err(invalid(
                "unknown_house",
                "Среди выбранных домов есть недоступный.",
            ));
        };
        if organisation.is_some_and(|o| o != org) {
            return Err(invalid(
                "several_organisations",
                "Одно объявление — для домов одной управляющей организации.",
            ));
        }
        organisation = Some(org);
    }
    organisation.ok_or_else(|| invalid("houses_required", "Выберите дом."))
}

/// Cancels an announcement that has not started going out.
pub fn cancel(tx: &Connection, scope: Scope, id: i64, now: OffsetDateTime) -> Result<()> {
    let status: Option<String> = tx
        .query_row(
            "SELECT status FROM announcements WHERE id = ?1 \
             AND (?2 IS NULL OR organisation_id = ?2)",
            params![id, scope.organisation()],
            |r| r.get(0),
        )
        .optional()?;
    match status.as_deref() {
        None => Err(AnnouncementError::NotFound),
        Some("scheduled") => {
            tx.execute(
                "UPDATE announcements SET status = 'cancelled', updated_at = ?2 WHERE id = ?1",
                params![id, at(now)],
            )?;
            Ok(())
        }
        Some("cancelled") => Err(AnnouncementError::AlreadyCancelled),
        Some(_) => Err(AnnouncementError::AlreadySent),
    }
}

/// Delivery figures of one kind of recipient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Messages queued (sent, failed or still waiting).
    pub planned: i64,
    pub sent: i64,
    pub failed: i64,
    /// Still waiting in the outbox.
    pub waiting: i64,
    /// Residents who got no message, by reason.
    pub skipped: i64,
    pub skipped_hourly_limit: i64,
    pub skipped_opted_out: i64,
    pub skipped_bot_stopped: i64,
}

/// An announcement as the console lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Listed {
    pub id: i64,
    pub organisation_id: i64,
    pub kind: Kind,
    pub title: String,
    pub text: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub all_houses: bool,
    /// Addresses of the chosen houses (empty with `all_houses`).
    pub houses: Vec<String>,
    pub send_at: String,
    pub status: String,
    pub created_at: String,
    pub residents: Figures,
    pub chats: Figures,
}

/// The newest announcements inside `scope`.
pub fn list(conn: &Connection, scope: Scope, limit: u32) -> store::Result<Vec<Listed>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, organisation_id, kind, title, text, starts_at, ends_at, all_houses, \
         send_at, status, created_at FROM announcements \
         WHERE (?1 IS NULL OR organisation_id = ?1) ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![scope.organisation(), limit], |r| {
            let kind: String = r.get(2)?;
            Ok(Listed {
                id: r.get(0)?,
                organisation_id: r.get(1)?,
                kind: Kind::parse(&kind).unwrap_or(Kind::General),
                title: r.get(3)?,
                text: r.get(4)?,
                starts_at: r.get(5)?,
                ends_at: r.get(6)?,
                all_houses: r.get(7)?,
                houses: Vec::new(),
                send_at: r.get(8)?,
                status: r.get(9)?,
                created_at: r.get(10)?,
                residents: Figures::default(),
                chats: Figures::default(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for mut item in rows {
        let mut houses = conn.prepare_cached(
            "SELECT h.address FROM announcement_houses a JOIN houses h ON h.id = a.house_id \
             WHERE a.announcement_id = ?1 ORDER BY h.address",
        )?;
        item.houses = houses
            .query_map([item.id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        item.residents = figures(conn, item.id, true)?;
        item.chats = figures(conn, item.id, false)?;
        out.push(item);
    }
    Ok(out)
}

/// Figures of an announcement's residents (`residents`) or chats.
pub fn figures(conn: &Connection, id: i64, residents: bool) -> store::Result<Figures> {
    let column = if residents { "max_user_id" } else { "chat_id" };
    Ok(conn.query_row(
        &format!(
            "SELECT COUNT(d.job_key), \
               COALESCE(SUM(o.state = 'done'), 0), COALESCE(SUM(o.state = 'failed'), 0), \
               COALESCE(SUM(o.state IN ('pending', 'running')), 0), \
               COALESCE(SUM(d.skipped IS NOT NULL), 0), \
               COALESCE(SUM(d.skipped = 'hourly_limit'), 0), \
               COALESCE(SUM(d.skipped = 'opted_out'), 0), \
               COALESCE(SUM(d.skipped = 'bot_stopped'), 0) \
             FROM announcement_deliveries d LEFT JOIN outbox o ON o.idempotency_key = d.job_key \
             WHERE d.announcement_id = ?1 AND d.{column} IS NOT NULL"
        ),
        [id],
        |r| {
            Ok(Figures {
                planned: r.get(0)?,
                sent: r.get(1)?,
                failed: r.get(2)?,
                waiting: r.get(3)?,
                skipped: r.get(4)?,
                skipped_hourly_limit: r.get(5)?,
                skipped_opted_out: r.get(6)?,
                skipped_bot_stopped: r.get(7)?,
            })
        },
    )?)
}

/// Whom a message goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A MAX user id (their dialog with the bot).
    User(i64),
    /// A group chat id.
    Chat(i64),
}

/// The bot side: queues one message with the idempotency `key` in `tx` and returns the
/// outbox key of the job that carries it.
pub trait NoticeSender: Send + Sync {
    fn enqueue(
        &self,
        tx: &Connection,
        key: &str,
        to: Target,
        text: &str,
        now: OffsetDateTime,
    ) -> store::Result<String>;
}

/// Whether the fan-out has more to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    More,
    Done,
}

struct Stored {
    organisation: String,
    kind: Kind,
    title: String,
    text: String,
    starts_at: Option<String>,
    ends_at: Option<String>,
    status: String,
    cursor: i64,
}

fn load(conn: &Connection, id: i64) -> store::Result<Option<Stored>> {
    Ok(conn
        .query_row(
            "SELECT o.name, a.kind, a.title, a.text, a.starts_at, a.ends_at, a.status, a.cursor \
             FROM announcements a JOIN organisations o ON o.id = a.organisation_id \
             WHERE a.id = ?1",
            [id],
            |r| {
                let kind: String = r.get(1)?;
                Ok(Stored {
                    organisation: r.get(0)?,
                    kind: Kind::parse(&kind).unwrap_or(Kind::General),
                    title: r.get(2)?,
                    text: r.get(3)?,
                    starts_at: r.get(4)?,
                    ends_at: r.get(5)?,
                    status: r.get(6)?,
                    cursor: r.get(7)?,
                })
            },
        )
        .optional()?)
}

/// The houses an announcement goes to, as a subquery bound to `?1` (its id).
const TARGET_HOUSES: &str = "SELECT h.id FROM houses h JOIN announcements a ON a.id = ?1 \
     WHERE h.removed_at IS NULL AND ( \
       (a.all_houses = 1 AND h.organisation_id = a.organisation_id) \
       OR h.id IN (SELECT house_id FROM announcement_houses WHERE announcement_id = ?1))";

/// One fan-out transaction: the next batch of residents, or (when none are left) the
/// chats, after which the announcement is `queued`.
pub fn fan_out_step(
    tx: &Connection,
    id: i64,
    offset: UtcOffset,
    sender: &dyn NoticeSender,
    now: OffsetDateTime,
) -> store::Result<Step> {
    let Some(a) = load(tx, id)? else {
        return Ok(Step::Done);
    };
    if a.status == "cancelled" || a.status == "queued" {
        return Ok(Step::Done);
    }
    let text = message(&a, offset);
    let recipients: Vec<(i64, i64, bool, bool)> = {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT u.id, u.user_id, u.notify = 1 AND u.notify_notices = 1, \
               u.stopped_at IS NOT NULL \
             FROM max_users u WHERE u.id > ?2 AND u.person_id IS NOT NULL AND EXISTS ( \
               SELECT 1 FROM property_links l JOIN premises p ON p.id = l.premise_id \
               WHERE l.person_id = u.person_id AND l.status = 'linked' \
               AND p.removed_at IS NULL AND p.house_id IN ({TARGET_HOUSES})) \
             ORDER BY u.id LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![id, a.cursor, BATCH as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let general = a.kind == Kind::General;
    let since = at(now - GENERAL_GAP);
    for (max_user_id, user_id, wants, stopped) in &recipients {
        let skipped = if *stopped {
            Some("bot_stopped")
        } else if a.kind != Kind::Emergency && !wants {
            Some("opted_out")
        } else if general && had_general_since(tx, *max_user_id, id, &since)? {
            Some("hourly_limit")
        } else {
            None
        };
        let exists: bool = tx
            .query_row(
                "SELECT 1 FROM announcement_deliveries WHERE announcement_id = ?1 \
                 AND max_user_id = ?2",
                params![id, max_user_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if exists {
            continue;
        }
        let job_key = match skipped {
            Some(_) => None,
            None => Some(sender.enqueue(
                tx,
                &format!("announcement:{id}:user:{max_user_id}"),
                Target::User(*user_id),
                &text,
                now,
            )?),
        };
        tx.execute(
            "INSERT INTO announcement_deliveries (announcement_id, max_user_id, job_key, \
             skipped, general, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, max_user_id, job_key, skipped, general, at(now)],
        )?;
    }
    if let Some((last, ..)) = recipients.last() {
        tx.execute(
            "UPDATE announcements SET status = 'sending', cursor = ?2, updated_at = ?3 \
             WHERE id = ?1",
            params![id, last, at(now)],
        )?;
        if recipients.len() == BATCH {
            return Ok(Step::More);
        }
    }

    let chats: Vec<i64> = {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT h.max_chat_id FROM houses h JOIN max_chats c ON c.chat_id = h.max_chat_id \
             WHERE c.status = 'active' AND h.id IN ({TARGET_HOUSES}) ORDER BY h.id"
        ))?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for chat in chats {
        let key = format!("announcement:{id}:chat:{chat}");
        let job_key = sender.enqueue(tx, &key, Target::Chat(chat), &text, now)?;
        tx.execute(
            "INSERT OR IGNORE INTO announcement_deliveries (announcement_id, chat_id, job_key, \
             created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, chat, job_key, at(now)],
        )?;
    }
    tx.execute(
        "UPDATE announcements SET status = 'queued', updated_at = ?2 WHERE id = ?1",
        params![id, at(now)],
    )?;
    Ok(Step::Done)
}

/// Whether the resident was sent another general announcement since `since`.
fn had_general_since(
    tx: &Connection,
    max_user_id: i64,
    announcement: i64,
    since: &str,
) -> store::Result<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM announcement_deliveries WHERE max_user_id = ?1 AND general = 1 \
             AND job_key IS NOT NULL AND announcement_id <> ?2 AND created_at > ?3 LIMIT 1",
            params![max_user_id, announcement, since],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

fn local(text: &Option<String>, offset: UtcOffset) -> String {
    text.as_deref()
        .and_then(parse_ts)
        .map(|t| {
            let t = t.to_offset(offset);
            format!(
                "{:02}.{:02}.{} {:02}:{:02}",
                t.day(),
                u8::from(t.month()),
                t.year(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

/// The organisation's name in «», unless the name already carries its own quotes
/// (ООО «УК Демо-Дом»): then as it is, never «ООО «УК Демо-Дом»».
fn quoted(name: &str) -> String {
    if name.contains(['«', '»', '"', '“', '”']) {
        name.to_string()
    } else {
        format!("«{name}»")
    }
}

/// The message residents and chats get.
fn message(a: &Stored, offset: UtcOffset) -> String {
    match a.kind {
        Kind::General => format!(
            "Объявление управляющей организации {}\n\n{}\n\n{}",
            quoted(&a.organisation),
            a.title,
            a.text
        ),
        Kind::Outage => format!(
            "Плановое отключение: {}\nс {} до {}\n\n{}\n\n— {}",
            a.title,
            local(&a.starts_at, offset),
            local(&a.ends_at, offset),
            a.text,
            a.organisation
        ),
        Kind::Emergency => format!("АВАРИЯ: {}\n\n{}\n\n— {}", a.title, a.text, a.organisation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organisation_name_is_quoted_once() {
        assert_eq!(quoted("ООО «УК Демо-Дом»"), "ООО «УК Демо-Дом»");
        assert_eq!(quoted("УК Демо-Дом"), "«УК Демо-Дом»");
    }

    #[test]
    fn an_outage_message_names_its_local_period() {
        let stored = Stored {
            organisation: "УО".into(),
            kind: Kind::Outage,
            title: "Горячая вода".into(),
            text: "Ремонт трубы.".into(),
            starts_at: Some("2026-12-05T07:00:00Z".into()),
            ends_at: Some("2026-12-05T15:30:00Z".into()),
            status: "scheduled".into(),
            cursor: 0,
        };
        let offset = UtcOffset::from_hms(3, 0, 0).unwrap();
        let text = message(&stored, offset);
        assert!(
            text.contains("с 05.12.2026 10:00 до 05.12.2026 18:30"),
            "{text}"
        );
        assert!(text.chars().count() < crate::bot::texts::MAX_TEXT_CHARS);
    }
}
