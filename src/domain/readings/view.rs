//! What the resident sees: meters of a premise with the last reading and the window
//! state, and a meter's history.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::rules::Rules;
use super::{parse_date, ymd, VALID};
use crate::config;
use crate::store;

/// The reading window as the screen shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WindowState {
    /// Readings are taken today.
    pub open: bool,
    /// Outside the window: refused (`true`) or accepted with a notice.
    pub strict: bool,
    /// Readings are taken every day (the house's `any_day`): the window dates are only the
    /// period's usual ones.
    pub any_day: bool,
    #[serde(with = "ymd")]
    pub opens_on: Date,
    #[serde(with = "ymd")]
    pub closes_on: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReadingView {
    pub id: i64,
    pub values: Vec<String>,
    #[serde(with = "ymd")]
    pub taken_on: Date,
    /// accepted, sent, confirmed, rejected, replaced
    pub status: String,
    /// ГИС ЖКХ's reason for a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MeterView {
    pub id: i64,
    pub serial: String,
    pub resource: String,
    pub unit: String,
    pub tariffs: u8,
    pub digits: u8,
    #[serde(with = "ymd::option")]
    pub next_verification: Option<Date>,
    /// Readings cannot be submitted (automatic, or verification overdue).
    pub locked: bool,
    /// The last reading that counts.
    pub last: Option<ReadingView>,
    /// A reading was submitted in the current period.
    pub submitted_this_period: bool,
}

/// The premise's meters (not archived), for the screen «Показания», and the window state.
/// `None` when the person has no link to the premise.
pub fn meters_of_premise(
    conn: &Connection,
    defaults: &config::Readings,
    person_id: i64,
    premise_id: i64,
    now: OffsetDateTime,
) -> store::Result<Option<(WindowState, Vec<MeterView>)>> {
    let house: Option<i64> = conn
        .query_row(
            "SELECT p.house_id FROM premises p JOIN property_links l ON l.premise_id = p.id \
             WHERE p.id = ?1 AND l.person_id = ?2 AND l.status = 'linked' \
               AND p.removed_at IS NULL",
            params![premise_id, person_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(house) = house else {
        return Ok(None);
    };
    let Some((rules, _)) = Rules::for_house(conn, defaults, house)? else {
        return Ok(None);
    };
    let today = rules.local_date(now);
    let window = rules.current_or_next_window(today);
    let state = WindowState {
        open: rules.is_open(today),
        strict: rules.strict_window,
        any_day: rules.any_day,
        opens_on: window.opens_on,
        closes_on: window.closes_on,
    };
    let period = rules.period_start(today).to_string();

    let mut stmt = conn.prepare_cached(
        "SELECT id, serial, resource, unit, tariffs, digits, next_verification, automatic \
         FROM meters WHERE premise_id = ?1 AND archived_at IS NULL \
         ORDER BY resource, id",
    )?;
    let meters = stmt
        .query_map([premise_id], |r| {
            let verification: Option<String> = r.get(6)?;
            Ok((
                MeterView {
                    id: r.get(0)?,
                    serial: r.get(1)?,
                    resource: r.get(2)?,
                    unit: r.get(3)?,
                    tariffs: r.get(4)?,
                    digits: r.get(5)?,
                    next_verification: verification.as_deref().and_then(parse_date),
                    locked: false,
                    last: None,
                    submitted_this_period: false,
                },
                r.get::<_, bool>(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    let mut out = Vec::with_capacity(meters.len());
    for (mut meter, automatic) in meters {
        meter.locked = automatic || meter.next_verification.is_some_and(|d| d < today);
        meter.last = readings(conn, meter.id, true, 1)?.into_iter().next();
        meter.submitted_this_period = meter
            .last
            .as_ref()
            .is_some_and(|r| r.taken_on.to_string() >= period);
        out.push(meter);
    }
    Ok(Some((state, out)))
}

/// A meter's readings, newest first, all statuses (the history a correction keeps).
/// `None` when the meter is not on a premise linked to the person.
pub fn meter_history(
    conn: &Connection,
    person_id: i64,
    meter_id: i64,
    limit: usize,
) -> store::Result<Option<Vec<ReadingView>>> {
    let visible: Option<i64> = conn
        .query_row(
            "SELECT m.id FROM meters m JOIN property_links l ON l.premise_id = m.premise_id \
             WHERE m.id = ?1 AND l.person_id = ?2 AND l.status = 'linked'",
            params![meter_id, person_id],
            |r| r.get(0),
        )
        .optional()?;
    if visible.is_none() {
        return Ok(None);
    }
    readings(conn, meter_id, false, limit).map(Some)
}

fn readings(
    conn: &Connection,
    meter_id: i64,
    valid_only: bool,
    limit: usize,
) -> store::Result<Vec<ReadingView>> {
    let filter = if valid_only {
        format!("AND status IN {VALID}")
    } else {
        String::new()
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, t1, t2, t3, taken_on, status, error, source FROM readings \
         WHERE meter_id = ?1 {filter} ORDER BY taken_on DESC, id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![meter_id, limit as i64], |r| {
        let values: [Option<String>; 3] = [r.get(1)?, r.get(2)?, r.get(3)?];
        let taken_on: String = r.get(4)?;
        Ok(ReadingView {
            id: r.get(0)?,
            values: values.into_iter().flatten().collect(),
            taken_on: parse_date(&taken_on).unwrap_or(Date::MIN),
            status: r.get(5)?,
            error: r.get(6)?,
            source: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::domain::readings::testkit::{at, kit};

    #[test]
    fn the_screen_sees_meters_last_values_and_the_window() {
        let kit = kit();
        let meter = kit.meter(1, 5);
        kit.history(meter, &[(date!(2026 - 11 - 22), "125")]);
        let automatic = kit.meter(1, 5);
        kit.sql("UPDATE meters SET automatic = 1 WHERE id = ?1", [automatic]);
        let conn = kit.store.conn().unwrap();
        let now = at(date!(2026 - 12 - 10));

        let (window, meters) =
            meters_of_premise(&conn, &kit.defaults, kit.person, kit.premise, now)
                .unwrap()
                .unwrap();
        assert_eq!(
            window,
            WindowState {
                open: false,
                strict: true,
                any_day: false,
                opens_on: date!(2026 - 12 - 20),
                closes_on: date!(2026 - 12 - 25)
            }
        );
        assert_eq!(meters.len(), 2);
        let last = meters[0].last.as_ref().unwrap();
        assert_eq!(
            (last.values.as_slice(), last.taken_on),
            (&["125".to_string()][..], date!(2026 - 11 - 22))
        );
        assert!(!meters[0].locked && meters[1].locked);
        assert!(
            meters[0].submitted_this_period,
            "Nov 22 is in the period that opened Nov 20"
        );

        let later = at(date!(2026 - 12 - 21));
        let (_, meters) = meters_of_premise(&conn, &kit.defaults, kit.person, kit.premise, later)
            .unwrap()
            .unwrap();
        assert!(!meters[0].submitted_this_period);
        assert!(
            meters_of_premise(&conn, &kit.defaults, kit.person + 1, kit.premise, now)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn history_keeps_replaced_values_and_is_private() {
        let kit = kit();
        let meter = kit.meter(1, 5);
        let day = at(date!(2026 - 12 - 21));
        assert!(kit.one(day, meter, &["10"]).is_accepted());
        assert!(kit.one(day, meter, &["11"]).is_accepted());
        let conn = kit.store.conn().unwrap();
        let history = meter_history(&conn, kit.person, meter, 50)
            .unwrap()
            .unwrap();
        let seen: Vec<_> = history
            .iter()
            .map(|r| (r.values[0].as_str(), r.status.as_str()))
            .collect();
        assert_eq!(seen, [("11", "accepted"), ("10", "replaced")]);
        assert!(meter_history(&conn, kit.person + 1, meter, 50)
            .unwrap()
            .is_none());
    }
}
