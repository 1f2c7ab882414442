//! Delivery of accepted readings to ГИС ЖКХ (`importMeteringDeviceValues`).
//!
//! An accepted reading queues a job per УО per minute ([`IMPORT_READINGS`]); the job
//! collects every undelivered reading of the УО, at most one per meter and
//! [`BATCH_LIMIT`] meters per message, and hands them to a [`ReadingsExport`] (the ГИС
//! ЖКХ connector). Statuses: `accepted` → `sent` (acknowledged) → `confirmed`, or
//! `rejected` with ГИС ЖКХ's reason. The message's own GUID and the TransportGUIDs are
//! stored before the first send, so a retry repeats the same message and an acknowledged
//! message is only ever polled, never sent again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::json;
use time::{Date, Duration, OffsetDateTime};

use super::parse_date;
use super::reminders::{notify_rejected, ReminderSender};
use crate::clock::SharedClock;
use crate::jobs::{self, outbox, Job, JobError, NewJob, Outcome};
use crate::store::{self, ts, Store};

/// The outbox job kind that delivers readings.
pub const IMPORT_READINGS: &str = "gis.import_readings";
/// ГИС ЖКХ takes at most this many meters per import.
pub const BATCH_LIMIT: usize = 1000;
/// Readings accepted within one slot travel in one message.
const SLOT_SECONDS: i64 = 60;
/// Waits between polls for the result: 10 s, 60 s, 300 s, 900 s, then 1800 s.
const POLL_WAITS: [i64; 5] = [10, 60, 300, 900, 1800];
/// How long a batch waits before it looks again for what it was missing.
const WAIT_SECONDS: i64 = 300;

/// One meter's values in an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportItem {
    pub reading_id: i64,
    /// Our TransportGUID of this item; the result names it.
    pub transport_guid: String,
    /// MeteringDeviceRootGUID.
    pub meter_root_guid: String,
    /// cold_water, hot_water, electricity, gas, heat: decides OneRate or Electric values.
    pub resource: String,
    /// The house's ФИАС GUID, when known.
    pub fias_house_guid: Option<String>,
    /// T1..T3 as exact decimal text (`\d{1,15}(\.\d{1,7})?`).
    pub values: Vec<String>,
    /// DateValue.
    pub taken_on: Date,
}

/// One import message of one УО.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportBatch {
    pub organisation_id: i64,
    /// The УО's orgPPAGUID for the request header, when set on the organisation.
    pub org_ppa_guid: Option<String>,
    /// MessageGUID of the request; the same on every retry of this message.
    pub message_guid: String,
    pub items: Vec<ExportItem>,
}

/// ГИС ЖКХ's verdict on one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemResult {
    pub transport_guid: String,
    /// `None`: accepted. `Some`: rejected with ГИС ЖКХ's error code and description.
    pub error: Option<(String, String)>,
}

/// Why a call to ГИС ЖКХ did not work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// Network, 5xx, "try later": the job retries with back-off.
    #[error("{0}")]
    Retry(String),
    /// A fault that repeating cannot fix (format, rights): the job gives up.
    #[error("{0}")]
    Fatal(String),
    /// Something the message needs is not there yet (e.g. the НСИ cache): the job waits
    /// without using up attempts and shows this reason in the exchange screen.
    #[error("{0}")]
    Wait(String),
}

/// What the ГИС ЖКХ connector offers for readings. Both calls block (they run on the
/// outbox worker's blocking threads).
pub trait ReadingsExport: Send + Sync {
    /// Sends the import; returns ГИС ЖКХ's MessageGUID from the acknowledgement.
    fn submit(&self, batch: &ExportBatch) -> Result<String, ExportError>;

    /// Asks for the result of an acknowledged import: `None` while ГИС ЖКХ is still
    /// processing, else one result per item.
    fn poll(
        &self,
        batch: &ExportBatch,
        ack_guid: &str,
    ) -> Result<Option<Vec<ItemResult>>, ExportError>;
}

/// Queues delivery for the УО's accepted readings, inside the accepting transaction.
pub(crate) fn schedule_delivery(
    tx: &Connection,
    organisation_id: i64,
    now: OffsetDateTime,
) -> store::Result<()> {
    let slot = now.unix_timestamp().div_euclid(SLOT_SECONDS);
    let at = OffsetDateTime::from_unix_timestamp((slot + 1) * SLOT_SECONDS).unwrap_or(now);
    let key = format!("{IMPORT_READINGS}:{organisation_id}:{slot}");
    let job = |key: String, at| {
        NewJob::new(
            IMPORT_READINGS,
            key,
            json!({ "organisation_id": organisation_id }),
        )
        .lane(format!("{IMPORT_READINGS}:{organisation_id}"))
        .at(at)
    };
    if jobs::enqueue(tx, &job(key.clone(), at), now)? {
        return Ok(());
    }
    // This slot's job has already collected its readings: queue one more.
    if outbox::state_of(tx, &key)?.as_deref() != Some("pending") {
        let follow_up = format!("{key}:{}", uuid::Uuid::new_v4());
        jobs::enqueue(tx, &job(follow_up, now), now)?;
    }
    Ok(())
}

/// The job handler: collect, send, poll, record the verdicts.
pub struct ImportReadings {
    store: Store,
    clock: SharedClock,
    export: Arc<dyn ReadingsExport>,
    notifier: Option<Arc<dyn ReminderSender>>,
}

impl ImportReadings {
    pub fn new(store: Store, clock: SharedClock, export: Arc<dyn ReadingsExport>) -> Self {
        ImportReadings {
            store,
            clock,
            export,
            notifier: None,
        }
    }

    /// Rejections are also sent to the resident in the bot, through this sender.
    pub fn with_notifier(mut self, notifier: Arc<dyn ReminderSender>) -> Self {
        self.notifier = Some(notifier);
        self
    }
}

struct Message {
    id: i64,
    state: String,
    ack_guid: Option<String>,
    polls: i64,
}

impl jobs::Handler for ImportReadings {
    fn run(&self, job: &Job) -> Result<Outcome, JobError> {
        let organisation_id = job
            .payload
            .get("organisation_id")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| JobError::Fatal("payload without organisation_id".into()))?;
        let now = self.clock.now();
        let Some(message) = self
            .store
            .write_blocking(|tx| open_message(tx, organisation_id, job, now))?
        else {
            return Ok(Outcome::Done);
        };
        if message.state == "done" {
            return Ok(Outcome::Done);
        }
        let batch = load_batch(&*self.store.conn()?, message.id)?;

        let Some(ack_guid) = message.ack_guid else {
            let ack = match self.export.submit(&batch) {
                Ok(ack) => ack,
                Err(ExportError::Wait(reason)) => {
                    tracing::warn!(export = message.id, "readings wait: {reason}");
                    return Ok(Outcome::Waiting {
                        at: now + Duration::seconds(WAIT_SECONDS),
                        reason,
                    });
                }
                Err(e) => return Err(job_error(e)),
            };
            self.store.write_blocking(|tx| {
                mark_sent(tx, message.id, &ack, now)?;
                Ok(())
            })?;
            tracing::info!(
                export = message.id,
                organisation = organisation_id,
                items = batch.items.len(),
                "readings sent to ГИС ЖКХ"
            );
            return Ok(Outcome::Later(now + Duration::seconds(POLL_WAITS[0])));
        };

        match self.export.poll(&batch, &ack_guid).map_err(job_error)? {
            None => {
                let polls = message.polls + 1;
                self.store.write_blocking(|tx| {
                    tx.execute(
                        "UPDATE reading_exports SET polls = ?2, updated_at = ?3 WHERE id = ?1",
                        params![message.id, polls, ts(now)],
                    )?;
                    Ok(())
                })?;
                let wait = usize::try_from(polls)
                    .ok()
                    .and_then(|i| POLL_WAITS.get(i))
                    .copied()
                    .unwrap_or(1800);
                Ok(Outcome::Later(now + Duration::seconds(wait)))
            }
            Some(results) => {
                let notifier = self.notifier.as_deref();
                self.store.write_blocking(|tx| {
                    record_results(tx, message.id, &batch, &results, now, notifier)
                })?;
                Ok(Outcome::Done)
            }
        }
    }

    fn on_failed(&self, tx: &Transaction<'_>, job: &Job, error: &str) -> store::Result<()> {
        let now = ts(self.clock.now());
        tx.execute(
            "UPDATE reading_exports SET state = 'failed', error = ?2, updated_at = ?3 \
             WHERE job_key = ?1",
            params![job.key, error, now],
        )?;
        Ok(())
    }
}

fn job_error(e: ExportError) -> JobError {
    match e {
        ExportError::Retry(message) | ExportError::Wait(message) => JobError::retry(message),
        ExportError::Fatal(message) => JobError::Fatal(message),
    }
}

/// This job's message: the one it created before, or a new one with the УО's undelivered
/// readings (`None` when there are none).
fn open_message(
    tx: &Transaction<'_>,
    organisation_id: i64,
    job: &Job,
    now: OffsetDateTime,
) -> store::Result<Option<Message>> {
    let existing = tx
        .query_row(
            "SELECT id, state, ack_guid, polls FROM reading_exports WHERE job_key = ?1",
            [&job.key],
            |r| {
                Ok(Message {
                    id: r.get(0)?,
                    state: r.get(1)?,
                    ack_guid: r.get(2)?,
                    polls: r.get(3)?,
                })
            },
        )
        .optional()?;
    if existing.is_some() {
        return Ok(existing);
    }

    let mut stmt = tx.prepare_cached(
        "SELECT r.id, r.meter_id, m.root_guid FROM readings r \
         JOIN meters m ON m.id = r.meter_id \
         JOIN premises p ON p.id = m.premise_id \
         JOIN houses h ON h.id = p.house_id \
         WHERE h.organisation_id = ?1 AND r.status = 'accepted' AND r.export_id IS NULL \
         ORDER BY r.id",
    )?;
    let rows = stmt
        .query_map([organisation_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    let at = ts(now);
    let mut meters = HashSet::new();
    let mut chosen = Vec::new();
    let mut left_over = false;
    for (reading, meter, root_guid) in rows {
        if root_guid.is_none() {
            tx.execute(
                "UPDATE readings SET status = 'rejected', error = ?2, updated_at = ?3 \
                 WHERE id = ?1",
                params![
                    reading,
                    "Счётчик не зарегистрирован в ГИС ЖКХ: управляющая организация проверит \
                     его данные",
                    at
                ],
            )?;
        } else if meters.len() >= BATCH_LIMIT || !meters.insert(meter) {
            left_over = true;
        } else {
            chosen.push(reading);
        }
    }
    if chosen.is_empty() {
        return Ok(None);
    }

    tx.execute(
        "INSERT INTO reading_exports (organisation_id, job_key, message_guid, state, \
         created_at, updated_at) VALUES (?1, ?2, ?3, 'new', ?4, ?4)",
        params![
            organisation_id,
            job.key,
            uuid::Uuid::new_v4().to_string(),
            at
        ],
    )?;
    let id = tx.last_insert_rowid();
    let mut assign = tx.prepare_cached(
        "UPDATE readings SET export_id = ?2, transport_guid = ?3, updated_at = ?4 \
         WHERE id = ?1",
    )?;
    for reading in chosen {
        assign.execute(params![reading, id, uuid::Uuid::new_v4().to_string(), at])?;
    }
    if left_over {
        let next = NewJob::new(
            IMPORT_READINGS,
            format!("{IMPORT_READINGS}:{organisation_id}:after:{id}"),
            json!({ "organisation_id": organisation_id }),
        )
        .lane(format!("{IMPORT_READINGS}:{organisation_id}"));
        jobs::enqueue(tx, &next, now)?;
    }
    Ok(Some(Message {
        id,
        state: "new".into(),
        ack_guid: None,
        polls: 0,
    }))
}

/// The message as stored: the same items and GUIDs on every run.
fn load_batch(conn: &Connection, export_id: i64) -> store::Result<ExportBatch> {
    let (organisation_id, org_ppa_guid, message_guid) = conn.query_row(
        "SELECT e.organisation_id, o.org_ppa_guid, e.message_guid FROM reading_exports e \
         JOIN organisations o ON o.id = e.organisation_id WHERE e.id = ?1",
        [export_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.transport_guid, m.root_guid, m.resource, h.fias_guid, \
                r.t1, r.t2, r.t3, r.taken_on \
         FROM readings r JOIN meters m ON m.id = r.meter_id \
         JOIN premises p ON p.id = m.premise_id JOIN houses h ON h.id = p.house_id \
         WHERE r.export_id = ?1 ORDER BY r.id",
    )?;
    let items = stmt
        .query_map([export_id], |r| {
            let values: [Option<String>; 3] = [r.get(5)?, r.get(6)?, r.get(7)?];
            let taken_on: String = r.get(8)?;
            Ok(ExportItem {
                reading_id: r.get(0)?,
                transport_guid: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                meter_root_guid: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                resource: r.get(3)?,
                fias_house_guid: r.get(4)?,
                values: values.into_iter().flatten().collect(),
                taken_on: parse_date(&taken_on).unwrap_or(Date::MIN),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ExportBatch {
        organisation_id,
        org_ppa_guid,
        message_guid,
        items,
    })
}

fn mark_sent(tx: &Transaction<'_>, id: i64, ack: &str, now: OffsetDateTime) -> store::Result<()> {
    let at = ts(now);
    tx.execute(
        "UPDATE reading_exports SET state = 'sent', ack_guid = ?2, updated_at = ?3 \
         WHERE id = ?1",
        params![id, ack, at],
    )?;
    tx.execute(
        "UPDATE readings SET status = 'sent', updated_at = ?2 \
         WHERE export_id = ?1 AND status = 'accepted'",
        params![id, at],
    )?;
    Ok(())
}

/// Confirmed or rejected with the reason; a correction made meanwhile keeps `replaced`.
fn record_results(
    tx: &Transaction<'_>,
    export_id: i64,
    batch: &ExportBatch,
    results: &[ItemResult],
    now: OffsetDateTime,
    notifier: Option<&dyn ReminderSender>,
) -> store::Result<()> {
    let at = ts(now);
    let by_guid: HashMap<&str, &ItemResult> = results
        .iter()
        .map(|r| (r.transport_guid.as_str(), r))
        .collect();
    let mut update = tx.prepare_cached(
        "UPDATE readings SET status = ?2, error = ?3, updated_at = ?4 \
         WHERE id = ?1 AND status = 'sent'",
    )?;
    for item in &batch.items {
        let (status, error) = match by_guid.get(item.transport_guid.as_str()) {
            Some(ItemResult { error: None, .. }) => ("confirmed", None),
            Some(ItemResult {
                error: Some((code, description)),
                ..
            }) => ("rejected", Some(format!("{description} ({code})"))),
            None => (
                "rejected",
                Some("ГИС ЖКХ не вернула результат по этому показанию".to_string()),
            ),
        };
        let changed = update.execute(params![item.reading_id, status, error, at])? == 1;
        if let (true, Some(reason), Some(notifier)) = (changed, &error, notifier) {
            notify_rejected(tx, item.reading_id, reason, now, notifier)?;
        }
    }
    tx.execute(
        "UPDATE reading_exports SET state = 'done', updated_at = ?2 WHERE id = ?1",
        params![export_id, at],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
