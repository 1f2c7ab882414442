//! Reminders: when a house's reading window opens and two days before it closes, residents
//! with meters and no reading this period get one bot message; a month before a meter's
//! verification date, its residents get one too. Only MAX users who allow notifications
//! (`notify = 1` and `notify_readings = 1`) and have not stopped the bot. Each reminder is recorded in
//! `reading_reminders`, so calling [`remind_due`] again (every hour, after a restart) sends
//! nothing twice. The bot's rate limits are the sender's business.

use std::sync::Arc;

use rusqlite::{params, Connection, Transaction};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::problem::ru_date;
use super::rules::Rules;
use super::{parse_date, VALID};
use crate::clock::SharedClock;
use crate::config;
use crate::jobs::{self, Job, JobError, NewJob, Outcome};
use crate::store::{self, ts, Store};

/// The outbox job kind that runs [`remind_due`] every hour.
pub const REMIND: &str = "readings.remind";
/// No reminder before this hour, local time: nobody wants one at midnight.
const DAY_STARTS: u8 = 10;
/// Verification reminders go this many days ahead.
const VERIFICATION_NOTICE_DAYS: i64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReminderKind {
    WindowOpen,
    WindowClosing,
    Verification,
    /// Not a reminder but the same kind of message: ГИС ЖКХ rejected a reading.
    Rejected,
}

impl ReminderKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReminderKind::WindowOpen => "window_open",
            ReminderKind::WindowClosing => "window_closing",
            ReminderKind::Verification => "verification",
            ReminderKind::Rejected => "rejected",
        }
    }
}

/// One bot message to one MAX user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    pub kind: ReminderKind,
    /// `max_users.id`.
    pub max_user_id: i64,
    /// The MAX user id to write to.
    pub user_id: i64,
    pub dialog_chat_id: Option<i64>,
    pub person_id: i64,
    /// What it is about: the period's first day, `<meter id>:<verification date>`, or the
    /// rejected reading's id.
    pub subject: String,
    /// The message, in Russian; the sender adds the «Открыть» button
    /// (`startapp=readings`).
    pub text: String,
}

/// The bot side: queues the message (e.g. a MAX send job) in the given transaction.
pub trait ReminderSender: Send + Sync {
    fn enqueue(
        &self,
        tx: &Transaction<'_>,
        reminder: &Reminder,
        now: OffsetDateTime,
    ) -> store::Result<()>;
}

/// How many reminders were queued now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RemindReport {
    pub window_open: usize,
    pub window_closing: usize,
    pub verification: usize,
}

struct Recipient {
    max_user_id: i64,
    user_id: i64,
    dialog_chat_id: Option<i64>,
    person_id: i64,
}

/// Queues the reminders due now through `sender`, inside `tx`.
pub fn remind_due(
    tx: &Transaction<'_>,
    defaults: &config::Readings,
    now: OffsetDateTime,
    sender: &dyn ReminderSender,
) -> store::Result<RemindReport> {
    let mut report = RemindReport::default();
    let houses = {
        let mut stmt = tx.prepare_cached("SELECT id FROM houses WHERE removed_at IS NULL")?;
        let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for house in houses {
        let Some((rules, _)) = Rules::for_house(tx, defaults, house)? else {
            continue;
        };
        let local = rules.local(now);
        if local.hour() < DAY_STARTS {
            continue;
        }
        let today = local.date();
        let Some(window) = rules.window_containing(today) else {
            continue;
        };
        let (kind, text) = if window.opens_on == today {
            (
                ReminderKind::WindowOpen,
                format!(
                    "Начался приём показаний счётчиков, он продлится до {}. Передайте \
                     показания в приложении — это займёт минуту.",
                    ru_date(window.closes_on)
                ),
            )
        } else if window.closes_on - Duration::days(2) == today {
            (
                ReminderKind::WindowClosing,
                format!(
                    "Осталось два дня: приём показаний заканчивается {}. Вы ещё не передали \
                     показания за этот месяц.",
                    ru_date(window.closes_on)
                ),
            )
        } else {
            continue;
        };
        let period = rules.period_start(today).to_string();
        for to in residents_without_reading(tx, house, &period, &today.to_string())? {
            let reminder = make_reminder(kind, &to, period.clone(), text.clone());
            if send_once(tx, sender, &reminder, now)? {
                match kind {
                    ReminderKind::WindowOpen => report.window_open += 1,
                    _ => report.window_closing += 1,
                }
            }
        }
    }

    let local = Rules::from_config(defaults).local(now);
    if local.hour() < DAY_STARTS {
        return Ok(report);
    }
    let today = local.date();
    let until = today + Duration::days(VERIFICATION_NOTICE_DAYS);
    for (meter, resource, serial, date, to) in verification_due(tx, &today, &until)? {
        let text = format!(
            "Срок поверки счётчика ({}, № {serial}) истекает {}. Закажите поверку заранее: \
             после этой даты показания по нему не принимаются.",
            resource_name(&resource),
            parse_date(&date).map(ru_date).unwrap_or(date.clone())
        );
        let subject = format!("{meter}:{date}");
        let reminder = make_reminder(ReminderKind::Verification, &to, subject, text);
        if send_once(tx, sender, &reminder, now)? {
            report.verification += 1;
        }
    }
    Ok(report)
}

/// Tells the resident who submitted a reading that ГИС ЖКХ rejected it, and why.
pub(crate) fn notify_rejected(
    tx: &Transaction<'_>,
    reading_id: i64,
    reason: &str,
    now: OffsetDateTime,
    sender: &dyn ReminderSender,
) -> store::Result<usize> {
    let mut stmt = tx.prepare_cached(
        "SELECT m.resource, m.serial, r.taken_on, \
                u.id, u.user_id, u.dialog_chat_id, u.person_id \
         FROM readings r JOIN meters m ON m.id = r.meter_id \
         JOIN max_users u ON u.person_id = r.person_id \
         WHERE r.id = ?1 AND u.notify = 1 AND u.notify_readings = 1 AND u.stopped_at IS NULL",
    )?;
    let rows = stmt
        .query_map([reading_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                recipient(r, 3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut sent = 0;
    for (resource, serial, taken_on, to) in rows {
        let text = format!(
            "ГИС ЖКХ не приняла показания счётчика ({}, № {serial}) от {}: {reason}. \
             Проверьте их в приложении и передайте снова.",
            resource_name(&resource),
            parse_date(&taken_on)
                .map(ru_date)
                .unwrap_or(taken_on.clone())
        );
        let message = make_reminder(ReminderKind::Rejected, &to, reading_id.to_string(), text);
        if send_once(tx, sender, &message, now)? {
            sent += 1;
        }
    }
    Ok(sent)
}

fn make_reminder(kind: ReminderKind, to: &Recipient, subject: String, text: String) -> Reminder {
    Reminder {
        kind,
        max_user_id: to.max_user_id,
        user_id: to.user_id,
        dialog_chat_id: to.dialog_chat_id,
        person_id: to.person_id,
        subject,
        text,
    }
}

fn send_once(
    tx: &Transaction<'_>,
    sender: &dyn ReminderSender,
    reminder: &Reminder,
    now: OffsetDateTime,
) -> store::Result<bool> {
    let added = tx
        .prepare_cached(
            "INSERT INTO reading_reminders (max_user_id, kind, subject, created_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            reminder.max_user_id,
            reminder.kind.as_str(),
            reminder.subject,
            ts(now)
        ])?;
    if added == 1 {
        sender.enqueue(tx, reminder, now)?;
    }
    Ok(added == 1)
}

fn recipient(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Recipient> {
    Ok(Recipient {
        max_user_id: r.get(first)?,
        user_id: r.get(first + 1)?,
        dialog_chat_id: r.get(first + 2)?,
        person_id: r.get(first + 3)?,
    })
}

/// MAX users linked to a premise of the house that has a meter taking readings with no
/// reading since `period`.
fn residents_without_reading(
    conn: &Connection,
    house: i64,
    period: &str,
    today: &str,
) -> store::Result<Vec<Recipient>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT DISTINCT u.id, u.user_id, u.dialog_chat_id, u.person_id FROM premises p \
         JOIN property_links l ON l.premise_id = p.id AND l.status = 'linked' \
         JOIN max_users u ON u.person_id = l.person_id \
         WHERE p.house_id = ?1 AND p.removed_at IS NULL \
           AND u.notify = 1 AND u.notify_readings = 1 AND u.stopped_at IS NULL \
           AND EXISTS (SELECT 1 FROM meters m WHERE m.premise_id = p.id \
             AND m.archived_at IS NULL AND m.automatic = 0 \
             AND (m.next_verification IS NULL OR m.next_verification >= ?3) \
             AND NOT EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = m.id \
               AND r.status IN {VALID} AND r.taken_on >= ?2)) \
         ORDER BY u.id"
    ))?;
    let rows = stmt.query_map(params![house, period, today], |r| recipient(r, 0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

type VerificationDue = (i64, String, String, String, Recipient);

/// Meters whose verification date falls after `today` and by `until`, with the MAX users
/// linked to their premise.
fn verification_due(
    conn: &Connection,
    today: &time::Date,
    until: &time::Date,
) -> store::Result<Vec<VerificationDue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.resource, m.serial, m.next_verification, \
                u.id, u.user_id, u.dialog_chat_id, u.person_id \
         FROM meters m JOIN premises p ON p.id = m.premise_id \
         JOIN property_links l ON l.premise_id = p.id AND l.status = 'linked' \
         JOIN max_users u ON u.person_id = l.person_id \
         WHERE m.archived_at IS NULL AND m.automatic = 0 AND p.removed_at IS NULL \
           AND m.next_verification > ?1 AND m.next_verification <= ?2 \
           AND u.notify = 1 AND u.notify_readings = 1 AND u.stopped_at IS NULL \
         ORDER BY m.id, u.id",
    )?;
    let rows = stmt.query_map(params![today.to_string(), until.to_string()], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, recipient(r, 4)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn resource_name(resource: &str) -> &'static str {
    match resource {
        "cold_water" => "холодная вода",
        "hot_water" => "горячая вода",
        "electricity" => "электроэнергия",
        "gas" => "газ",
        "heat" => "тепло",
        _ => "счётчик",
    }
}

/// A job that runs [`remind_due`] and comes back in an hour; [`RemindJob::schedule`] adds
/// it once.
pub struct RemindJob {
    store: Store,
    clock: SharedClock,
    defaults: config::Readings,
    sender: Arc<dyn ReminderSender>,
}

impl RemindJob {
    pub fn new(
        store: Store,
        clock: SharedClock,
        defaults: config::Readings,
        sender: Arc<dyn ReminderSender>,
    ) -> Self {
        RemindJob {
            store,
            clock,
            defaults,
            sender,
        }
    }

    /// Queues the hourly job (once: the key is fixed).
    pub fn schedule(tx: &Connection, now: OffsetDateTime) -> store::Result<bool> {
        jobs::enqueue(tx, &NewJob::new(REMIND, REMIND, json!({})), now)
    }
}

impl jobs::Handler for RemindJob {
    fn run(&self, _job: &Job) -> Result<Outcome, JobError> {
        let now = self.clock.now();
        let report = self
            .store
            .write_blocking(|tx| remind_due(tx, &self.defaults, now, self.sender.as_ref()))?;
        if report != RemindReport::default() {
            tracing::info!(
                window_open = report.window_open,
                window_closing = report.window_closing,
                verification = report.verification,
                "reading reminders queued"
            );
        }
        Ok(Outcome::Later(now + Duration::hours(1)))
    }
}

#[cfg(test)]
mod tests;
