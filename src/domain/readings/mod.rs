//! Meter readings: the checks a submitted value must pass, storing it, delivering it to
//! ГИС ЖКХ, reminders and the billing export. Plain functions over the store; time always
//! comes from the caller's injected clock.
//!
//! What the other layers call:
//! - resident API (`/api/v1`): [`meters_of_premise`] for `GET /properties/{id}/meters`,
//!   [`submit_readings`] for `POST /properties/{id}/readings` (one [`MeterOutcome`] per
//!   meter; turn [`SubmitError`] into 404), [`meter_history`] for
//!   `GET /meters/{id}/readings`. They take the session's person and answer "not found"
//!   for someone else's premise or meter.
//! - ГИС ЖКХ connector: implement [`ReadingsExport`] and register [`ImportReadings`] under
//!   [`IMPORT_READINGS`] in `server.rs`; until then delivery jobs wait, pending, in the
//!   outbox.
//! - bot: implement [`ReminderSender`] (queue a MAX message in the given transaction),
//!   register [`RemindJob`] under [`REMIND`] and call [`RemindJob::schedule`] once; pass
//!   the same sender to [`ImportReadings::with_notifier`] so rejections reach the resident.
//! - console and CLI: [`export_period`] writes the billing CSV.
//!
//! Errors: a refused value is not an error of the call but a [`Problem`] in the meter's
//! outcome (stable `code`, Russian `message`); store failures are [`StoreError`].
//! Per-УО and per-house overrides of `[readings]` live in `settings` JSON as
//! `{"readings": {"window_from_day": 15, ...}}` (see [`Rules`]).
//!
//! [`StoreError`]: crate::store::StoreError

use time::Date;

mod delivery;
mod export;
mod history;
mod problem;
mod reminders;
mod rules;
mod submit;
mod value;
mod view;

#[cfg(test)]
mod testkit;

pub use delivery::{
    ExportBatch, ExportError, ExportItem, ImportReadings, ItemResult, ReadingsExport,
    IMPORT_READINGS,
};
pub use export::{export_period, ExportCsvError, Period};
pub use problem::{Problem, ReadingError};
pub use reminders::{
    remind_due, RemindJob, RemindReport, Reminder, ReminderKind, ReminderSender, REMIND,
};
pub use rules::{Rules, Window};
pub use submit::{
    submit_blocking, submit_in, submit_readings, Actor, MeterOutcome, Submission, SubmitError,
    Submitted,
};
pub use value::Value;
pub use view::{meter_history, meters_of_premise, MeterView, ReadingView, WindowState};

/// Statuses that count as the meter's value (the others are `rejected` and `replaced`).
pub(crate) const VALID: &str = "('accepted', 'sent', 'confirmed')";

time::serde::format_description!(pub(crate) ymd, Date, "[year]-[month]-[day]");

/// A stored `YYYY-MM-DD` date.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, format).ok()
}
