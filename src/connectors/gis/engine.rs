//! The asynchronous exchange on the durable outbox. A message is a row in `gis_messages`
//! and a `gis.message` job; the job moves it along:
//!
//! new → sending (our MessageGUID stored before the call) → acked (ГИС ЖКХ's MessageGUID
//! stored) → getState on the schedule → done (per-item results, or data for a consumer)
//! or failed (an operator error).
//!
//! Policy: EXP001000 rebuilds the message (new MessageGUID, new signature); transport
//! errors and 5xx retry with back-off; AUT…/FMT… stop; INT002012 is an empty result. An
//! acknowledged import is never sent again: after a restart the same MessageGUID is polled.
//! A send whose answer was lost is repeated with the *same* MessageGUID, which ГИС ЖКХ
//! recognises as a duplicate.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::client::{Client, State};
use super::envelope::Request;
use super::ops::appeals::{self, Answer};
use super::ops::metering::{self, ItemResult, MeterValue};
use super::ops::{house, nsi};
use super::xml::Node;
use super::{poll_delay, GisError, Policy};
use crate::clock::SharedClock;
use crate::jobs::{self, Handler, Job, JobError, NewJob, Outcome};
use crate::store::{self, ts, Store};

/// The outbox job kind that moves a message along.
pub const JOB_KIND: &str = "gis.message";

/// How many times one message may be rebuilt after EXP001000 before it stops.
const MAX_REBUILDS: i64 = 10;

/// What a message carries; stored as JSON so the message can be rebuilt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "camelCase")]
pub enum Operation {
    ImportMeteringDeviceValues {
        values: Vec<MeterValue>,
    },
    ExportMeteringDeviceHistory {
        fias_house_guid: String,
        meters: Vec<String>,
    },
    ImportAnswer {
        answers: Vec<Answer>,
        #[serde(default)]
        actions: Vec<appeals::Action>,
    },
    ExportAppeal {
        from: time::Date,
        to: time::Date,
        houses: Vec<String>,
    },
    ExportAppealByGuid {
        appeals: Vec<String>,
    },
    ExportNsiItem {
        registry: u32,
    },
    ExportHouseData {
        fias_house_guid: String,
    },
    ExportAccountData {
        fias_house_guid: String,
    },
    ExportMeteringDeviceData {
        fias_house_guid: String,
    },
}

impl Operation {
    pub fn request(&self) -> Result<Request, GisError> {
        Ok(match self {
            Operation::ImportMeteringDeviceValues { values } => metering::import_values(values)?,
            Operation::ExportMeteringDeviceHistory {
                fias_house_guid,
                meters,
            } => metering::export_history(fias_house_guid, meters, None)?,
            Operation::ImportAnswer { answers, actions } => {
                appeals::import_answers(answers, actions)?
            }
            Operation::ExportAppeal { from, to, houses } => {
                appeals::export_appeals(*from, *to, houses)
            }
            Operation::ExportAppealByGuid { appeals } => appeals::export_appeals_by_guid(appeals)?,
            Operation::ExportNsiItem { registry } => nsi::export_item(*registry),
            Operation::ExportHouseData { fias_house_guid } => house::export_house(fias_house_guid),
            Operation::ExportAccountData { fias_house_guid } => {
                house::export_accounts(fias_house_guid)
            }
            Operation::ExportMeteringDeviceData { fias_house_guid } => {
                house::export_meters(fias_house_guid)
            }
        })
    }

    /// Imports change data in ГИС ЖКХ: once acknowledged, never sent again.
    pub fn is_import(&self) -> bool {
        matches!(
            self,
            Operation::ImportMeteringDeviceValues { .. } | Operation::ImportAnswer { .. }
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Operation::ImportMeteringDeviceValues { .. } => "importMeteringDeviceValues",
            Operation::ExportMeteringDeviceHistory { .. } => "exportMeteringDeviceHistory",
            Operation::ImportAnswer { .. } => "importAnswer",
            Operation::ExportAppeal { .. } | Operation::ExportAppealByGuid { .. } => "exportAppeal",
            Operation::ExportNsiItem { .. } => "exportNsiItem",
            Operation::ExportHouseData { .. } => "exportHouseData",
            Operation::ExportAccountData { .. } => "exportAccountData",
            Operation::ExportMeteringDeviceData { .. } => "exportMeteringDeviceData",
        }
    }
}

/// How a message ended, as its consumer sees it.
#[derive(Debug)]
pub enum MessageResult<'a> {
    /// Per-item results of an import, keyed by TransportGUID.
    Items(&'a BTreeMap<String, ItemResult>),
    /// The `getStateResult` of an export.
    Data(&'a Node),
    /// INT002012: nothing to export.
    Empty,
    /// Stopped: the operator error.
    Failed { code: &'a str, message: &'a str },
}

/// Who acts on a message's result (the readings domain for imported values, appeals for
/// exported appeals). Runs inside the transaction that records the result, so the local
/// consequences happen exactly once.
pub trait Consumer: Send + Sync {
    fn on_result(
        &self,
        tx: &Transaction<'_>,
        message_id: i64,
        reference: &str,
        result: MessageResult<'_>,
    ) -> store::Result<()>;
}

/// Adds a message and its job inside the caller's transaction; wake the outbox after
/// commit. `consumer` names a registered [`Consumer`] and the reference it gets back.
pub fn submit(
    tx: &Connection,
    operation: &Operation,
    consumer: Option<(&str, &str)>,
    now: OffsetDateTime,
) -> store::Result<i64> {
    submit_for(tx, None, operation, consumer, now)
}

/// [`submit`] on behalf of one УО: its job's payload names the organisation, so the УО's
/// admin sees the message fail (and can retry it) in the exchange screen.
pub fn submit_for(
    tx: &Connection,
    organisation_id: Option<i64>,
    operation: &Operation,
    consumer: Option<(&str, &str)>,
    now: OffsetDateTime,
) -> store::Result<i64> {
    let request = serde_json::to_string(operation).unwrap_or_default();
    tx.execute(
        "INSERT INTO gis_messages (operation, direction, request, state, consumer, \
         consumer_ref, created_at, updated_at) VALUES (?1, ?2, ?3, 'new', ?4, ?5, ?6, ?6)",
        params![
            operation.name(),
            if operation.is_import() {
                "import"
            } else {
                "export"
            },
            request,
            consumer.map(|c| c.0),
            consumer.map(|c| c.1),
            ts(now)
        ],
    )?;
    let id = tx.last_insert_rowid();
    jobs::enqueue(
        tx,
        &NewJob::new(
            JOB_KIND,
            format!("gis.message:{id}"),
            match organisation_id {
                Some(org) => serde_json::json!({ "message_id": id, "organisation_id": org }),
                None => serde_json::json!({ "message_id": id }),
            },
        )
        .max_attempts(30),
        now,
    )?;
    Ok(id)
}

/// A message row.
#[derive(Clone, Debug)]
pub struct Message {
    pub id: i64,
    pub operation: Operation,
    pub state: String,
    pub message_guid: Option<String>,
    pub ack_guid: Option<String>,
    pub sends: i64,
    pub polls: i64,
    pub result: Option<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub consumer: Option<String>,
    pub consumer_ref: Option<String>,
}

pub fn load(conn: &Connection, id: i64) -> store::Result<Option<Message>> {
    Ok(conn
        .query_row(
            "SELECT id, request, state, message_guid, ack_guid, sends, polls, result, \
             error_code, error, consumer, consumer_ref FROM gis_messages WHERE id = ?1",
            [id],
            |r| {
                let request: String = r.get(1)?;
                Ok((
                    request,
                    Message {
                        id: r.get(0)?,
                        operation: Operation::ExportNsiItem { registry: 0 },
                        state: r.get(2)?,
                        message_guid: r.get(3)?,
                        ack_guid: r.get(4)?,
                        sends: r.get(5)?,
                        polls: r.get(6)?,
                        result: r.get(7)?,
                        error_code: r.get(8)?,
                        error: r.get(9)?,
                        consumer: r.get(10)?,
                        consumer_ref: r.get(11)?,
                    },
                ))
            },
        )
        .optional()?
        .and_then(|(request, mut m)| {
            m.operation = serde_json::from_str(&request).ok()?;
            Some(m)
        }))
}

/// Moves `gis.message` jobs along. Register with `jobs.register(JOB_KIND, ...)`.
pub struct Engine {
    store: Store,
    client: Client,
    clock: SharedClock,
    schedule: Vec<u64>,
    consumers: HashMap<String, Arc<dyn Consumer>>,
}

impl Engine {
    pub fn new(store: Store, client: Client, clock: SharedClock, schedule: Vec<u64>) -> Self {
        Engine {
            store,
            client,
            clock,
            schedule,
            consumers: HashMap::new(),
        }
    }

    pub fn with_consumer(mut self, name: &str, consumer: Arc<dyn Consumer>) -> Self {
        self.consumers.insert(name.to_string(), consumer);
        self
    }

    fn update(&self, id: i64, sql: &str, values: &[&dyn rusqlite::ToSql]) -> store::Result<()> {
        let now = ts(self.clock.now());
        self.store.write_blocking(|tx| {
            let mut all: Vec<&dyn rusqlite::ToSql> = vec![&id, &now];
            all.extend_from_slice(values);
            tx.execute(
                &format!("UPDATE gis_messages SET updated_at = ?2, {sql} WHERE id = ?1"),
                all.as_slice(),
            )?;
            Ok(())
        })
    }

    fn send(&self, m: &Message) -> Result<Outcome, JobError> {
        let request = match m.operation.request() {
            Ok(r) => r,
            Err(e) => return self.stop(m, &e),
        };
        // A send whose answer was lost goes again under the same MessageGUID.
        let guid = match (&m.state[..], &m.message_guid) {
            ("sending", Some(g)) => Uuid::parse_str(g).unwrap_or_else(|_| Uuid::new_v4()),
            _ => Uuid::new_v4(),
        };
        self.update(
            m.id,
            "state = 'sending', message_guid = ?3, sends = sends + 1",
            &[&guid.to_string()],
        )?;
        let now = self.clock.now();
        match self.client.send(&request, guid, now) {
            Ok(ack) => {
                self.update(
                    m.id,
                    "state = 'acked', ack_guid = ?3, acked_at = ?2, polls = 0, error = NULL",
                    &[&ack.message_guid],
                )?;
                tracing::info!(
                    message = m.id,
                    operation = m.operation.name(),
                    "ГИС ЖКХ: acknowledged"
                );
                Ok(Outcome::Later(now + poll_delay(&self.schedule, 0)))
            }
            Err(e) => self.on_error(m, e),
        }
    }

    fn poll(&self, m: &Message, ack_guid: &str) -> Result<Outcome, JobError> {
        let service = match m.operation.request() {
            Ok(r) => r.service,
            Err(e) => return self.stop(m, &e),
        };
        let now = self.clock.now();
        match self.client.get_state(service, ack_guid, now) {
            Ok(State::Pending) => {
                self.update(m.id, "polls = polls + 1", &[])?;
                let poll = u32::try_from(m.polls + 1).unwrap_or(u32::MAX);
                Ok(Outcome::Later(now + poll_delay(&self.schedule, poll)))
            }
            Ok(State::Done(node)) => self.finish(m, Finished::Data(&node)),
            Err(e) => self.on_error(m, e),
        }
    }

    fn on_error(&self, m: &Message, error: GisError) -> Result<Outcome, JobError> {
        match error.policy() {
            Policy::Rebuild if m.sends < MAX_REBUILDS => {
                tracing::warn!(message = m.id, error = %error, "ГИС ЖКХ: message expired, rebuilding");
                self.update(
                    m.id,
                    "state = 'new', message_guid = NULL, ack_guid = NULL, error = ?3",
                    &[&error.to_string()],
                )?;
                Ok(Outcome::Later(self.clock.now()))
            }
            Policy::Retry => {
                self.update(m.id, "error = ?3", &[&error.to_string()])?;
                Err(JobError::retry(error.to_string()))
            }
            Policy::Empty => self.finish(m, Finished::Empty),
            Policy::Rebuild | Policy::Stop => self.stop(m, &error),
        }
    }

    fn stop(&self, m: &Message, error: &GisError) -> Result<Outcome, JobError> {
        let text = error.operator_message();
        let code = match error {
            GisError::Fault { code, .. } => code.clone(),
            _ => "local".to_string(),
        };
        tracing::error!(message = m.id, operation = m.operation.name(), code = %code, "ГИС ЖКХ: message stopped: {text}");
        self.store
            .write_blocking(|tx| self.mark_failed(tx, m.id, &code, &text))?;
        Err(JobError::Fatal(text))
    }

    fn mark_failed(
        &self,
        tx: &Transaction<'_>,
        id: i64,
        code: &str,
        text: &str,
    ) -> store::Result<()> {
        let now = ts(self.clock.now());
        tx.execute(
            "UPDATE gis_messages SET state = 'failed', error_code = ?2, error = ?3, \
             updated_at = ?4, done_at = ?4 WHERE id = ?1 AND state NOT IN ('done', 'failed')",
            params![id, code, text, now],
        )?;
        if let Some(m) = load(tx, id)? {
            if let (Some(c), Some(r)) = (&m.consumer, &m.consumer_ref) {
                if let Some(consumer) = self.consumers.get(c) {
                    consumer.on_result(
                        tx,
                        id,
                        r,
                        MessageResult::Failed {
                            code,
                            message: text,
                        },
                    )?;
                }
            }
        }
        Ok(())
    }

    fn finish(&self, m: &Message, done: Finished<'_>) -> Result<Outcome, JobError> {
        let items = match (&done, m.operation.is_import()) {
            (Finished::Data(node), true) => Some(metering::import_results(node)),
            _ => None,
        };
        let stored = match &items {
            Some(items) => serde_json::to_string(items).unwrap_or_default(),
            None if matches!(done, Finished::Empty) => "{\"empty\":true}".into(),
            None => "{}".into(),
        };
        let now = ts(self.clock.now());
        self.store.write_blocking(|tx| {
            let changed = tx.execute(
                "UPDATE gis_messages SET state = 'done', result = ?2, error = NULL, \
                 updated_at = ?3, done_at = ?3 WHERE id = ?1 AND state NOT IN ('done', 'failed')",
                params![m.id, stored, now],
            )?;
            let consumer = m.consumer.as_ref().and_then(|c| self.consumers.get(c));
            if let (1, Some(consumer), Some(r)) = (changed, consumer, &m.consumer_ref) {
                let result = match (&items, &done) {
                    (Some(items), _) => MessageResult::Items(items),
                    (None, Finished::Data(node)) => MessageResult::Data(node),
                    (None, Finished::Empty) => MessageResult::Empty,
                };
                consumer.on_result(tx, m.id, r, result)?;
            }
            Ok(())
        })?;
        tracing::info!(
            message = m.id,
            operation = m.operation.name(),
            "ГИС ЖКХ: result received"
        );
        Ok(Outcome::Done)
    }
}

enum Finished<'a> {
    Data(&'a Node),
    Empty,
}

fn message_id(job: &Job) -> Result<i64, JobError> {
    job.payload
        .get("message_id")
        .and_then(|v| v.as_i64())
        .ok_or_else(|| JobError::Fatal("gis.message job without message_id".into()))
}

impl Handler for Engine {
    fn run(&self, job: &Job) -> Result<Outcome, JobError> {
        let id = message_id(job)?;
        let conn = self.store.conn()?;
        let message = load(&conn, id)?;
        drop(conn);
        let Some(m) = message else {
            return Err(JobError::Fatal(format!("ГИС ЖКХ message {id} is missing")));
        };
        match (m.state.as_str(), m.ack_guid.clone()) {
            ("done", _) | ("failed", _) => Ok(Outcome::Done),
            ("acked", Some(ack)) => self.poll(&m, &ack),
            _ => self.send(&m),
        }
    }

    fn on_failed(&self, tx: &Transaction<'_>, job: &Job, error: &str) -> store::Result<()> {
        if let Ok(id) = message_id(job) {
            self.mark_failed(
                tx,
                id,
                "retries",
                &format!("gave up after retries: {error}"),
            )?;
        }
        Ok(())
    }
}

/// Sends a restartable export and waits for its result, on the calling (blocking) thread:
/// for `gosdom gis sync` and the nightly sync job. `sleep` waits between polls.
pub fn call_and_wait(
    client: &Client,
    request: &Request,
    schedule: &[u64],
    clock: &SharedClock,
    sleep: &dyn Fn(std::time::Duration),
) -> Result<Option<Node>, GisError> {
    let mut transient = 0u32;
    let mut rebuilds = 0;
    'send: loop {
        let guid = Uuid::new_v4();
        let ack = match client.send(request, guid, clock.now()) {
            Ok(ack) => ack,
            Err(e) => match e.policy() {
                Policy::Rebuild if rebuilds < MAX_REBUILDS => {
                    rebuilds += 1;
                    continue 'send;
                }
                Policy::Retry if transient < 5 => {
                    transient += 1;
                    sleep(poll_delay(schedule, transient));
                    continue 'send;
                }
                Policy::Empty => return Ok(None),
                _ => return Err(e),
            },
        };
        let mut poll = 0u32;
        loop {
            sleep(poll_delay(schedule, poll));
            match client.get_state(request.service, &ack.message_guid, clock.now()) {
                Ok(State::Pending) => poll += 1,
                Ok(State::Done(node)) => return Ok(Some(node)),
                Err(e) => match e.policy() {
                    Policy::Rebuild if rebuilds < MAX_REBUILDS => {
                        rebuilds += 1;
                        continue 'send;
                    }
                    Policy::Retry if transient < 5 => {
                        transient += 1;
                        poll += 1;
                    }
                    Policy::Empty => return Ok(None),
                    _ => return Err(e),
                },
            }
        }
    }
}
