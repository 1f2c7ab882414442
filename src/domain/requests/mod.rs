//! Requests (заявки) to the УО: the category tree, numbers, deadlines on the Russian
//! working-day calendar, the status lifecycle with its event log, anti-spam limits,
//! photos without location data, notifications through the outbox and ГИС ЖКХ appeals.
//!
//! Functions here are blocking and take a `rusqlite::Connection`: call them from
//! `store.call(move |conn| Ok(api::…(conn, …)))` or from a job. Those that change
//! something open their own `BEGIN IMMEDIATE` transaction, so the request, its events,
//! its photos' rows and its outbox jobs commit together; wake the outbox afterwards.
//! Errors are [`RequestError`]: `code()` is the stable code the JSON error shape carries.

pub mod antispam;
pub mod api;
pub mod calendar;
pub mod categories;
pub mod edits;
pub mod gis;
pub mod lifecycle;
pub mod notify;
pub mod photos;
mod photos_meta;
pub mod queue;
pub mod records;
pub mod staff;
pub mod status;
pub mod sweep;
pub mod view;

use std::path::PathBuf;

use crate::config;
use crate::store::StoreError;

pub use calendar::Calendar;
pub use status::{Actor, Status};

/// Why a request operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Not there, or not the caller's to see: both answer 404, so ids cannot be probed.
    #[error("not found")]
    NotFound,
    /// The input or the request's state does not allow it (422).
    #[error("{code}: {message}")]
    Refused { code: &'static str, message: String },
    /// A limit was reached (429).
    #[error("{code}: {message}")]
    Limited { code: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("attachment storage: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for RequestError {
    fn from(e: rusqlite::Error) -> Self {
        RequestError::Store(StoreError::Sqlite(e))
    }
}

impl From<status::Refusal> for RequestError {
    fn from(r: status::Refusal) -> Self {
        RequestError::Refused {
            code: r.code,
            message: r.message,
        }
    }
}

impl RequestError {
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        RequestError::Refused {
            code,
            message: message.into(),
        }
    }

    /// The stable snake_case code of the JSON error shape.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::NotFound => "not_found",
            RequestError::Refused { code, .. } | RequestError::Limited { code, .. } => code,
            RequestError::Store(_) | RequestError::Io(_) => "internal_error",
        }
    }
}

pub type Result<T, E = RequestError> = std::result::Result<T, E>;

/// What request rules need from the config: `[requests]` (with the УО's overrides
/// applied, see [`Settings::for_organisation`]), the data directory and the calendar.
#[derive(Clone, Debug)]
pub struct Settings {
    pub requests: config::Requests,
    pub data_dir: PathBuf,
    pub calendar: Calendar,
}

impl Settings {
    pub fn new(config: &config::Config) -> Self {
        Settings {
            requests: config.requests.clone(),
            data_dir: config.storage.data_dir.clone(),
            calendar: Calendar::new(&config.requests),
        }
    }

    /// These settings with the УО's own `requests` object from `organisations.settings`
    /// laid over them (e.g. `{"requests": {"deadline_days": 5}}`); keys it does not set
    /// keep their configured values, a malformed object is ignored.
    pub fn for_organisation(
        &self,
        conn: &rusqlite::Connection,
        organisation_id: i64,
    ) -> Result<Settings> {
        use rusqlite::OptionalExtension;
        let raw: Option<String> = conn
            .query_row(
                "SELECT settings FROM organisations WHERE id = ?1",
                [organisation_id],
                |r| r.get(0),
            )
            .optional()?;
        let overrides = raw
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.get("requests").cloned());
        let Some(serde_json::Value::Object(overrides)) = overrides else {
            return Ok(self.clone());
        };
        let mut merged = serde_json::to_value(&self.requests).unwrap_or_default();
        if let serde_json::Value::Object(base) = &mut merged {
            base.extend(overrides);
        }
        let Ok(requests) = serde_json::from_value::<config::Requests>(merged) else {
            tracing::warn!(
                organisation = organisation_id,
                "ignoring malformed requests settings"
            );
            return Ok(self.clone());
        };
        Ok(Settings {
            calendar: Calendar::new(&requests),
            requests,
            data_dir: self.data_dir.clone(),
        })
    }
}

/// Runs `f` in a write transaction with the photos' files written inside it; removes the
/// files again unless it commits.
pub(crate) fn in_write_tx<T>(
    conn: &mut rusqlite::Connection,
    settings: &Settings,
    prepared: &[photos::Prepared],
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let value = f(&tx)?;
    let created = photos::save_files(&settings.data_dir, prepared)?;
    if let Err(e) = tx.commit() {
        photos::discard(&created);
        return Err(e.into());
    }
    Ok(value)
}
