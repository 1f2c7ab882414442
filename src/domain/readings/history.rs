//! A meter's past readings, and what they say about a new value: the implausible jump.

use rusqlite::Connection;
use rust_decimal::Decimal;
use time::Date;

use super::problem::ReadingError;
use super::value::Value;
use super::{parse_date, VALID};
use crate::store;

/// A stored reading that counts.
pub(crate) struct Past {
    pub id: i64,
    pub values: Vec<Value>,
    pub taken_on: Date,
}

/// The meter's readings that count, newest first; a year and a bit is enough for every
/// rule.
pub(crate) fn valid_readings(conn: &Connection, meter_id: i64) -> store::Result<Vec<Past>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, t1, t2, t3, taken_on FROM readings \
         WHERE meter_id = ?1 AND status IN {VALID} \
         ORDER BY taken_on DESC, id DESC LIMIT 16"
    ))?;
    let rows = stmt.query_map([meter_id], |r| {
        let texts: [Option<String>; 3] = [r.get(1)?, r.get(2)?, r.get(3)?];
        let taken_on: String = r.get(4)?;
        Ok((r.get::<_, i64>(0)?, texts, taken_on))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, texts, taken_on) = row?;
        let Some(taken_on) = parse_date(&taken_on) else {
            continue;
        };
        let values = texts
            .iter()
            .flatten()
            .filter_map(|t| Value::stored(t))
            .collect();
        out.push(Past {
            id,
            values,
            taken_on,
        });
    }
    Ok(out)
}

/// More than `factor` × the usual consumption for the time since the previous reading
/// (at least a month), judged from the history's average; the tariff it concerns.
pub(crate) fn implausible_jump(
    factor: u32,
    values: &[Value],
    taken_on: Date,
    earlier: &[&Past],
) -> Option<(usize, ReadingError)> {
    if factor == 0 {
        return None;
    }
    let (previous, oldest) = (earlier.first()?, earlier.last()?);
    let history_days = (previous.taken_on - oldest.taken_on).whole_days();
    if history_days < 28 {
        return None;
    }
    let since_days = (taken_on - previous.taken_on).whole_days().max(30);
    for (i, value) in values.iter().enumerate() {
        let (Some(before), Some(first)) = (previous.values.get(i), oldest.values.get(i)) else {
            continue;
        };
        let used = before.decimal().checked_sub(first.decimal())?;
        let per_day = used.checked_div(Decimal::from(history_days))?;
        let consumption = value.decimal().checked_sub(before.decimal())?;
        let expected = per_day.checked_mul(Decimal::from(since_days))?;
        let limit = expected.checked_mul(Decimal::from(factor))?;
        if per_day > Decimal::ZERO && consumption > limit {
            let monthly = per_day
                .checked_mul(Decimal::from(30))?
                .round_dp(3)
                .normalize();
            return Some((
                i,
                ReadingError::ImplausibleJump {
                    consumption: consumption.normalize().to_string(),
                    average: monthly.to_string(),
                },
            ));
        }
    }
    None
}
