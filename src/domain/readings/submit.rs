//! Submitting readings: every check and the insert run in one `BEGIN IMMEDIATE`
//! transaction, so two submissions racing for a meter see each other's result.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::delivery::schedule_delivery;
use super::history::{implausible_jump, valid_readings, Past};
use super::problem::{Problem, ReadingError};
use super::rules::Rules;
use super::value::Value;
use super::{parse_date, VALID};
use crate::app::App;
use crate::config;
use crate::store::{self, ts, Store, StoreError};

/// Who submits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in resident: only premises linked to them.
    Resident(i64),
    /// УО staff in the console.
    Operator,
    /// A file import.
    Import,
}

impl Actor {
    fn source(&self) -> &'static str {
        match self {
            Actor::Resident(_) => "resident",
            Actor::Operator => "operator",
            Actor::Import => "import",
        }
    }
}

/// One meter's values, as the resident typed them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Submission {
    pub meter_id: i64,
    /// T1..T3 (День, Ночь, Пик): exactly as many as the meter has tariffs.
    pub values: Vec<String>,
    /// The day the meter was read; today (house time) when absent. The window is judged
    /// by the day of submission.
    #[serde(default, with = "super::ymd::option")]
    pub taken_on: Option<Date>,
    /// The resident confirms a value that looked implausibly high.
    #[serde(default)]
    pub confirm: bool,
}

/// How one meter's submission ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum MeterOutcome {
    Accepted {
        meter_id: i64,
        reading_id: i64,
        values: Vec<String>,
        #[serde(with = "super::ymd")]
        taken_on: Date,
        /// The same values were already stored for that day: nothing new was written.
        duplicate: bool,
        /// The earlier reading of this period that this one replaced.
        #[serde(skip_serializing_if = "Option::is_none")]
        replaced: Option<i64>,
        /// Accepted, but the resident should know (e.g. outside the window, lenient mode).
        #[serde(skip_serializing_if = "Option::is_none")]
        notice: Option<Problem>,
    },
    /// Nothing stored; submit again with `confirm: true` if the value is right.
    ConfirmNeeded { meter_id: i64, problem: Problem },
    /// Nothing stored for this meter.
    Refused { meter_id: i64, problem: Problem },
}

impl MeterOutcome {
    pub fn meter_id(&self) -> i64 {
        match self {
            MeterOutcome::Accepted { meter_id, .. }
            | MeterOutcome::ConfirmNeeded { meter_id, .. }
            | MeterOutcome::Refused { meter_id, .. } => *meter_id,
        }
    }

    pub fn is_accepted(&self) -> bool {
        matches!(self, MeterOutcome::Accepted { .. })
    }
}

/// The result of one call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Submitted {
    pub meters: Vec<MeterOutcome>,
    /// New delivery work was queued: wake the outbox after commit.
    #[serde(skip)]
    pub enqueued: bool,
}

/// The whole call was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Unknown premise, or not one of the resident's: answer 404.
    #[error("Помещение не найдено")]
    PremiseNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks and stores readings for meters of one premise, in one write transaction, and
/// wakes the outbox when delivery work was queued. What the resident API calls.
pub async fn submit_readings(
    app: &App,
    actor: Actor,
    premise_id: i64,
    items: Vec<Submission>,
) -> Result<Submitted, SubmitError> {
    let defaults = app.config.readings.clone();
    let now = app.now();
    let submitted = app
        .store
        .write(move |tx| submit_in(tx, &defaults, now, actor, premise_id, &items))
        .await??;
    if submitted.enqueued {
        app.wake_outbox();
    }
    Ok(submitted)
}

/// Blocking twin for jobs, imports and the benchmark.
pub fn submit_blocking(
    store: &Store,
    defaults: &config::Readings,
    now: OffsetDateTime,
    actor: Actor,
    premise_id: i64,
    items: &[Submission],
) -> Result<Submitted, SubmitError> {
    store.write_blocking(|tx| submit_in(tx, defaults, now, actor, premise_id, items))?
}

/// The rules and the writes, inside the caller's `BEGIN IMMEDIATE` transaction. Each meter
/// is all-or-nothing: every check runs before anything of it is written.
pub fn submit_in(
    tx: &Transaction<'_>,
    defaults: &config::Readings,
    now: OffsetDateTime,
    actor: Actor,
    premise_id: i64,
    items: &[Submission],
) -> store::Result<Result<Submitted, SubmitError>> {
    let Some(house_id) = premise_house(tx, actor, premise_id)? else {
        return Ok(Err(SubmitError::PremiseNotFound));
    };
    let Some((rules, organisation_id)) = Rules::for_house(tx, defaults, house_id)? else {
        return Ok(Err(SubmitError::PremiseNotFound));
    };
    let today = rules.local_date(now);

    let mut seen = HashSet::new();
    let mut meters = Vec::with_capacity(items.len());
    let mut enqueued = false;
    for item in items {
        let outcome = if seen.insert(item.meter_id) {
            let checked = check(tx, &rules, today, premise_id, item)?;
            match checked {
                Checked::Store(plan) => {
                    let outcome = store_reading(tx, actor, now, item.meter_id, plan)?;
                    schedule_delivery(tx, organisation_id, now)?;
                    enqueued = true;
                    outcome
                }
                Checked::Done(outcome) => outcome,
            }
        } else {
            refused(item.meter_id, ReadingError::MeterRepeated.problem())
        };
        meters.push(outcome);
    }
    if let (Actor::Resident(person), true) = (actor, enqueued) {
        tx.prepare_cached(
            "INSERT INTO usage_events (kind, person_id, day, created_at) \
             VALUES ('reading_submitted', ?1, ?2, ?3)",
        )?
        .execute(params![person, today.to_string(), ts(now)])?;
    }
    Ok(Ok(Submitted { meters, enqueued }))
}

/// The premise's house, if the actor may submit for it.
fn premise_house(conn: &Connection, actor: Actor, premise_id: i64) -> store::Result<Option<i64>> {
    let house = match actor {
        Actor::Resident(person) => conn
            .query_row(
                "SELECT p.house_id FROM premises p \
                 JOIN property_links l ON l.premise_id = p.id \
                 WHERE p.id = ?1 AND p.removed_at IS NULL \
                   AND l.person_id = ?2 AND l.status = 'linked'",
                params![premise_id, person],
                |r| r.get(0),
            )
            .optional()?,
        Actor::Operator | Actor::Import => conn
            .query_row(
                "SELECT house_id FROM premises WHERE id = ?1 AND removed_at IS NULL",
                [premise_id],
                |r| r.get(0),
            )
            .optional()?,
    };
    Ok(house)
}

struct Meter {
    tariffs: u8,
    digits: u8,
    automatic: bool,
    archived: bool,
    next_verification: Option<Date>,
}

/// What to write for an accepted meter.
struct Plan {
    values: Vec<Value>,
    taken_on: Date,
    replaces: Vec<i64>,
    notice: Option<ReadingError>,
    jump_confirmed: bool,
}

enum Checked {
    Store(Plan),
    Done(MeterOutcome),
}

fn refused(meter_id: i64, problem: Problem) -> MeterOutcome {
    MeterOutcome::Refused { meter_id, problem }
}

/// Every rule, in the order a resident would want to hear about them.
fn check(
    conn: &Connection,
    rules: &Rules,
    today: Date,
    premise_id: i64,
    item: &Submission,
) -> store::Result<Checked> {
    let meter_id = item.meter_id;
    let refuse = |e: ReadingError| Ok(Checked::Done(refused(meter_id, e.problem())));

    let Some(meter) = load_meter(conn, premise_id, meter_id)? else {
        return refuse(ReadingError::MeterNotFound);
    };
    if meter.archived {
        return refuse(ReadingError::MeterArchived);
    }
    if meter.automatic {
        return refuse(ReadingError::MeterAutomatic);
    }
    if let Some(until) = meter.next_verification.filter(|d| *d < today) {
        return refuse(ReadingError::VerificationExpired(until));
    }

    let taken_on = item.taken_on.unwrap_or(today);
    if taken_on > today {
        return refuse(ReadingError::FutureDate);
    }
    if item.values.len() != usize::from(meter.tariffs) {
        return refuse(ReadingError::WrongTariffCount {
            expected: meter.tariffs,
            got: item.values.len(),
        });
    }
    let mut values = Vec::with_capacity(item.values.len());
    for (i, typed) in item.values.iter().enumerate() {
        let value = match Value::parse(typed) {
            Ok(v) => v,
            Err(e) => return Ok(Checked::Done(refused(meter_id, e.at_tariff(i)))),
        };
        if value.integer_digits() > usize::from(meter.digits) {
            let e = ReadingError::TooManyDigits(meter.digits);
            return Ok(Checked::Done(refused(meter_id, e.at_tariff(i))));
        }
        values.push(value);
    }

    let history = valid_readings(conn, meter_id)?;
    if let Some(same) = history
        .iter()
        .find(|p| p.taken_on == taken_on && p.values == values)
    {
        return Ok(Checked::Done(MeterOutcome::Accepted {
            meter_id,
            reading_id: same.id,
            values: values.iter().map(Value::to_string).collect(),
            taken_on,
            duplicate: true,
            replaced: None,
            notice: None,
        }));
    }
    if let Some(last) = history.first().filter(|p| p.taken_on > taken_on) {
        return refuse(ReadingError::BeforeLastReading(last.taken_on));
    }

    let mut notice = None;
    if !rules.is_open(today) {
        let e = ReadingError::OutsideWindow {
            from: rules.window_from_day,
            to: rules.window_to_day,
        };
        if rules.strict_window {
            return refuse(e);
        }
        notice = Some(e);
    }

    // A reading of the same period is corrected: compare with the one before it.
    let period = rules.period_start(taken_on);
    let (replaced, earlier): (Vec<&Past>, Vec<&Past>) =
        history.iter().partition(|p| p.taken_on >= period);
    let previous = earlier.first().copied();

    if let Some(previous) = previous.filter(|_| !rules.allow_lower) {
        for (i, (value, before)) in values.iter().zip(&previous.values).enumerate() {
            if value < before {
                let e = ReadingError::LowerThanPrevious(before.to_string());
                return Ok(Checked::Done(refused(meter_id, e.at_tariff(i))));
            }
        }
    }

    let mut jump_confirmed = false;
    if let Some((i, e)) = implausible_jump(rules.jump_factor, &values, taken_on, &earlier) {
        if !item.confirm {
            return Ok(Checked::Done(MeterOutcome::ConfirmNeeded {
                meter_id,
                problem: e.at_tariff(i),
            }));
        }
        jump_confirmed = true;
    }

    Ok(Checked::Store(Plan {
        values,
        taken_on,
        replaces: replaced.iter().map(|p| p.id).collect(),
        notice,
        jump_confirmed,
    }))
}

fn load_meter(conn: &Connection, premise_id: i64, meter_id: i64) -> store::Result<Option<Meter>> {
    Ok(conn
        .query_row(
            "SELECT tariffs, digits, automatic, archived_at IS NOT NULL, next_verification \
             FROM meters WHERE id = ?1 AND premise_id = ?2",
            params![meter_id, premise_id],
            |r| {
                let verification: Option<String> = r.get(4)?;
                Ok(Meter {
                    tariffs: r.get(0)?,
                    digits: r.get(1)?,
                    automatic: r.get(2)?,
                    archived: r.get(3)?,
                    next_verification: verification.as_deref().and_then(parse_date),
                })
            },
        )
        .optional()?)
}

fn store_reading(
    tx: &Transaction<'_>,
    actor: Actor,
    now: OffsetDateTime,
    meter_id: i64,
    plan: Plan,
) -> store::Result<MeterOutcome> {
    let texts: Vec<String> = plan.values.iter().map(Value::to_string).collect();
    let person = match actor {
        Actor::Resident(person) => Some(person),
        Actor::Operator | Actor::Import => None,
    };
    let at = ts(now);
    tx.prepare_cached(
        "INSERT INTO readings (meter_id, t1, t2, t3, taken_on, source, person_id, status, \
         jump_confirmed, notice, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'accepted', ?8, ?9, ?10, ?10)",
    )?
    .execute(params![
        meter_id,
        texts.first(),
        texts.get(1),
        texts.get(2),
        plan.taken_on.to_string(),
        actor.source(),
        person,
        plan.jump_confirmed,
        plan.notice.as_ref().map(ReadingError::code),
        at
    ])?;
    let reading_id = tx.last_insert_rowid();
    for earlier in &plan.replaces {
        tx.prepare_cached(&format!(
            "UPDATE readings SET status = 'replaced', replaced_by = ?2, updated_at = ?3 \
             WHERE id = ?1 AND status IN {VALID}"
        ))?
        .execute(params![earlier, reading_id, at])?;
    }
    Ok(MeterOutcome::Accepted {
        meter_id,
        reading_id,
        values: texts,
        taken_on: plan.taken_on,
        duplicate: false,
        replaced: plan.replaces.first().copied(),
        notice: plan.notice.map(|e| e.problem()),
    })
}

#[cfg(test)]
mod tests;
