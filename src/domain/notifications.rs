//! A resident's notification settings, per MAX user: requests, reading reminders and house
//! notices. `max_users.notify` is the general switch (`/stop` turns it off, `/start` or
//! saving the settings turn it on); with it off only emergency notices go out. What a
//! resident sees is each topic with the general switch applied.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::store::{self, ts};

/// The topics, as the API names them, with their columns.
pub const TOPICS: &[(&str, &str)] = &[
    ("requests", "notify_requests"),
    ("readings", "notify_readings"),
    ("house_notices", "notify_notices"),
];

/// What the resident sees and sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub requests: bool,
    pub readings: bool,
    pub house_notices: bool,
}

/// A change: the topics named, each on or off.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change(Vec<(&'static str, bool)>);

/// Why a change was refused; the message is for the resident.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadChange(pub String);

impl Change {
    /// Reads `{"requests": true, ...}`: only known topics, only booleans, at least one.
    pub fn parse(body: &Value) -> Result<Change, BadChange> {
        let Some(object) = body.as_object() else {
            return Err(BadChange(
                "Ожидается объект вида {\"requests\": true, \"readings\": false}.".into(),
            ));
        };
        let mut change = Vec::new();
        for (key, value) in object {
            let Some((name, _)) = TOPICS.iter().find(|(name, _)| name == key) else {
                return Err(BadChange(format!(
                    "Неизвестная настройка «{}». Доступны: requests, readings, house_notices.",
                    key.chars().take(40).collect::<String>()
                )));
            };
            let Some(on) = value.as_bool() else {
                return Err(BadChange(format!(
                    "Настройка «{name}» должна быть true или false."
                )));
            };
            change.push((*name, on));
        }
        if change.is_empty() {
            return Err(BadChange("Не указано, какие уведомления изменить.".into()));
        }
        Ok(Change(change))
    }
}

/// The settings of a MAX user (`max_users.id`).
pub fn settings(conn: &Connection, max_user_id: i64) -> store::Result<Settings> {
    let row = conn
        .query_row(
            "SELECT notify = 1 AND notify_requests = 1, notify = 1 AND notify_readings = 1, \
             notify = 1 AND notify_notices = 1 FROM max_users WHERE id = ?1",
            [max_user_id],
            |r| {
                Ok(Settings {
                    requests: r.get(0)?,
                    readings: r.get(1)?,
                    house_notices: r.get(2)?,
                })
            },
        )
        .optional()?;
    Ok(row.unwrap_or_default())
}

/// Applies a change: the topics named take their new value, the others keep what the
/// resident saw, and the general switch goes on.
pub fn update(
    tx: &Connection,
    max_user_id: i64,
    change: &Change,
    now: OffsetDateTime,
) -> store::Result<Settings> {
    let seen = settings(tx, max_user_id)?;
    let mut next = seen;
    for (name, on) in &change.0 {
        match *name {
            "requests" => next.requests = *on,
            "readings" => next.readings = *on,
            _ => next.house_notices = *on,
        }
    }
    tx.execute(
        "UPDATE max_users SET notify = 1, notify_requests = ?2, notify_readings = ?3, \
         notify_notices = ?4, updated_at = ?5 WHERE id = ?1",
        params![
            max_user_id,
            next.requests,
            next.readings,
            next.house_notices,
            ts(now)
        ],
    )?;
    settings(tx, max_user_id)
}

/// `/stop`: everything but emergency notices off.
pub fn stop(tx: &Connection, max_user_id: i64, now: OffsetDateTime) -> store::Result<()> {
    tx.execute(
        "UPDATE max_users SET notify = 0, updated_at = ?2 WHERE id = ?1",
        params![max_user_id, ts(now)],
    )?;
    Ok(())
}

/// `/start`: the general switch back on (the topics as they were).
pub fn resume(tx: &Connection, max_user_id: i64, now: OffsetDateTime) -> store::Result<()> {
    tx.execute(
        "UPDATE max_users SET notify = 1, stopped_at = NULL, updated_at = ?2 WHERE id = ?1",
        params![max_user_id, ts(now)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_takes_known_booleans_only() {
        assert!(Change::parse(&json!({"requests": false})).is_ok());
        assert!(Change::parse(&json!({"requests": "no"}))
            .unwrap_err()
            .0
            .contains("true или false"));
        assert!(Change::parse(&json!({"sms": true}))
            .unwrap_err()
            .0
            .contains("Неизвестная настройка «sms»"));
        assert!(Change::parse(&json!({})).is_err());
        assert!(Change::parse(&json!([true])).is_err());
    }
}
