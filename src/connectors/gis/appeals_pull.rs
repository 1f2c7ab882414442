//! Appeals from ГИС ЖКХ into the request queue, on a schedule.
//!
//! One `gis.pull_appeals` job lives in the outbox and comes back every
//! `gis.appeals_minutes`. Each run, for every УО of the configured orgPPAGUID whose last
//! pull is no longer in flight, it hands the [`engine`] two `exportAppeal` messages:
//! - appeals created from the УО's watermark (`gis_appeal_pulls.pulled_to`; 30 days back
//!   on the first pull) to today: the XSD filters by creation date in whole days only, so
//!   the watermark's own day is asked again;
//! - the УО's open appeals already in the queue, by AppealGUID (at most 1000), so a
//!   withdrawal or a changed text of an older appeal reaches the queue too.
//!
//! The [`AppealsConsumer`] gets each result inside the transaction that records it and
//! gives the appeals to the requests domain ([`upsert_appeals_in`]): a known AppealGUID
//! changes nothing unless ГИС ЖКХ changed it, so pulling twice is harmless. The watermark
//! moves only when the dated export went through.

use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use time::{Date, Duration, OffsetDateTime, UtcOffset};

use super::engine::{self, Consumer, MessageResult, Operation};
use super::ops::appeals::{self, AppealData};
use crate::clock::SharedClock;
use crate::domain::requests::gis::{upsert_appeals_in, PulledAppeal};
use crate::domain::requests::Settings;
use crate::jobs::{self, Handler, Job, JobError, NewJob, Outcome};
use crate::store::{self, ts, Store, StoreError};

pub const JOB_KIND: &str = "gis.pull_appeals";
/// The engine consumer name of appeal exports.
pub const CONSUMER: &str = "appeals";
/// How far back the first pull of a УО looks.
const FIRST_PULL_DAYS: i64 = 30;
/// Open appeals asked again by GUID, at most (the XSD's limit).
const MAX_BY_GUID: usize = 1000;

/// ГИС ЖКХ's dates are Moscow dates.
fn moscow_date(at: OffsetDateTime) -> Date {
    let msk = UtcOffset::from_hms(3, 0, 0).unwrap_or(UtcOffset::UTC);
    at.to_offset(msk).date()
}

/// Adds the recurring job (once: its key never changes).
pub fn plan(tx: &Connection, now: OffsetDateTime) -> store::Result<bool> {
    jobs::enqueue(
        tx,
        &NewJob::new(JOB_KIND, JOB_KIND, serde_json::json!({})).max_attempts(1000),
        now,
    )
}

/// The recurring pull.
pub struct PullAppeals {
    pub store: Store,
    pub clock: SharedClock,
    /// Only УО with this orgPPAGUID can be asked with the configured client.
    pub org_ppa_guid: String,
    pub every: Duration,
}

impl PullAppeals {
    fn submit_pulls(&self, tx: &Transaction<'_>, now: OffsetDateTime) -> store::Result<usize> {
        let today = moscow_date(now);
        let organisations: Vec<(i64, Option<String>, Option<String>)> = {
            let mut stmt = tx.prepare(
                "SELECT o.id, p.pulled_to, m.state FROM organisations o \
                 LEFT JOIN gis_appeal_pulls p ON p.organisation_id = o.id \
                 LEFT JOIN gis_messages m ON m.id = p.message_id \
                 WHERE o.org_ppa_guid = ?1 ORDER BY o.id",
            )?;
            let rows = stmt.query_map([&self.org_ppa_guid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut submitted = 0;
        for (organisation_id, pulled_to, in_flight) in organisations {
            if in_flight
                .as_deref()
                .is_some_and(|s| s != "done" && s != "failed")
            {
                continue;
            }
            let from = pulled_to
                .as_deref()
                .and_then(parse_date)
                .unwrap_or(today - Duration::days(FIRST_PULL_DAYS))
                .min(today);
            let dated = engine::submit_for(
                tx,
                Some(organisation_id),
                &Operation::ExportAppeal {
                    from,
                    to: today,
                    houses: Vec::new(),
                },
                Some((CONSUMER, &format!("{organisation_id}:{today}"))),
                now,
            )?;
            tx.execute(
                "INSERT INTO gis_appeal_pulls (organisation_id, pulled_to, message_id, updated_at) \
                 VALUES (?1, NULL, ?2, ?3) ON CONFLICT (organisation_id) DO UPDATE SET \
                 message_id = ?2, updated_at = ?3",
                params![organisation_id, dated, ts(now)],
            )?;
            let open = open_appeals(tx, organisation_id)?;
            if !open.is_empty() {
                engine::submit_for(
                    tx,
                    Some(organisation_id),
                    &Operation::ExportAppealByGuid { appeals: open },
                    Some((CONSUMER, &format!("{organisation_id}:open"))),
                    now,
                )?;
            }
            submitted += 1;
        }
        Ok(submitted)
    }
}

fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.get(..10)?, &format).ok()
}

/// AppealGUIDs of the УО's requests from ГИС ЖКХ that are still open, oldest first.
fn open_appeals(conn: &Connection, organisation_id: i64) -> store::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT appeal_guid FROM requests WHERE organisation_id = ?1 AND source = 'gis' \
         AND appeal_guid IS NOT NULL AND status NOT IN ('done', 'declined', 'closed') \
         ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![organisation_id, MAX_BY_GUID as i64], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Handler for PullAppeals {
    fn run(&self, _job: &Job) -> Result<Outcome, JobError> {
        let now = self.clock.now();
        let submitted = self.store.write_blocking(|tx| self.submit_pulls(tx, now))?;
        if submitted > 0 {
            tracing::info!(organisations = submitted, "ГИС ЖКХ: appeals asked for");
        }
        Ok(Outcome::Later(now + self.every))
    }
}

/// Gives exported appeals to the requests domain and moves the watermark.
pub struct AppealsConsumer {
    pub settings: Settings,
    pub clock: SharedClock,
}

fn pulled(organisation_id: i64, data: AppealData) -> PulledAppeal {
    PulledAppeal {
        organisation_id,
        appeal_guid: data.guid,
        appeal_number: data.number,
        created_on: data.created_on.as_deref().and_then(parse_date),
        fias_house_guid: data.fias_house_guid,
        apartment_number: data.apartment_number,
        topic: data.topic,
        text: data.text,
        withdrawn: data.withdrawn,
    }
}

impl Consumer for AppealsConsumer {
    fn on_result(
        &self,
        tx: &Transaction<'_>,
        message_id: i64,
        reference: &str,
        result: MessageResult<'_>,
    ) -> store::Result<()> {
        let Some((organisation, what)) = reference.split_once(':') else {
            return Ok(());
        };
        let Ok(organisation_id) = organisation.parse::<i64>() else {
            return Ok(());
        };
        let now = self.clock.now();
        let found = match result {
            MessageResult::Data(node) => appeals::appeals(node),
            MessageResult::Empty => Vec::new(),
            MessageResult::Items(_) | MessageResult::Failed { .. } => return Ok(()),
        };
        let batch: Vec<PulledAppeal> = found
            .into_iter()
            .map(|a| pulled(organisation_id, a))
            .collect();
        let report = upsert_appeals_in(tx, &self.settings, &batch, now)
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
        if let Some(to) = parse_date(what) {
            tx.execute(
                "UPDATE gis_appeal_pulls SET pulled_to = ?2, updated_at = ?3 \
                 WHERE organisation_id = ?1 AND message_id = ?4",
                params![organisation_id, to.to_string(), ts(now), message_id],
            )?;
        }
        tracing::info!(
            organisation = organisation_id,
            message = message_id,
            created = report.created.len(),
            updated = report.updated.len(),
            skipped = report.skipped.len(),
            "ГИС ЖКХ: appeals pulled"
        );
        Ok(())
    }
}

/// The watermark of a УО: the last day an export covered.
pub fn pulled_to(conn: &Connection, organisation_id: i64) -> store::Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT pulled_to FROM gis_appeal_pulls WHERE organisation_id = ?1",
            [organisation_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// The consumer, for [`engine::Engine::with_consumer`].
pub fn consumer(settings: Settings, clock: SharedClock) -> Arc<dyn Consumer> {
    Arc::new(AppealsConsumer { settings, clock })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn the_date_is_moscows() {
        assert_eq!(
            moscow_date(datetime!(2026-12-03 20:59 UTC)),
            date!(2026 - 12 - 03)
        );
        assert_eq!(
            moscow_date(datetime!(2026-12-03 21:00 UTC)),
            date!(2026 - 12 - 04)
        );
        assert_eq!(
            parse_date("2026-12-04T00:00:00Z"),
            Some(date!(2026 - 12 - 04))
        );
    }
}
