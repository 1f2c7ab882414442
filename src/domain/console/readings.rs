//! «Показания» of the console: for one house and one month, every meter with the values
//! submitted for it, or none, and the ones ГИС ЖКХ rejected with its reason. Staff see
//! premise numbers, meter serials and values; no resident is named.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::Scope;
use crate::domain::readings::Period;
use crate::store::StoreError;

/// A meter's standing in the period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeterState {
    /// A value that counts (accepted, sent to or confirmed by ГИС ЖКХ).
    Submitted,
    /// Only rejected values: ГИС ЖКХ refused what was sent.
    Rejected,
    /// Nothing this period.
    Missing,
}

/// One reading of the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeriodReading {
    pub id: i64,
    /// T1..T3 as stored (exact decimals).
    pub values: Vec<String>,
    /// `YYYY-MM-DD`.
    pub taken_on: String,
    /// accepted, sent, confirmed, rejected
    pub status: String,
    /// resident, operator, gis, import, demo
    pub source: String,
    /// ГИС ЖКХ's reason, for a rejected reading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was received.
    pub received_at: String,
}

/// One meter of the house.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MeterLine {
    pub id: i64,
    pub premise_number: String,
    pub serial: String,
    pub resource: String,
    pub unit: String,
    pub tariffs: u8,
    pub automatic: bool,
    pub state: MeterState,
    /// Values that count, oldest first.
    pub readings: Vec<PeriodReading>,
    /// Values ГИС ЖКХ rejected, oldest first.
    pub rejected: Vec<PeriodReading>,
}

/// Meters per state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub meters: usize,
    pub submitted: usize,
    pub missing: usize,
    pub rejected: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HouseRef {
    pub id: i64,
    pub address: String,
    pub organisation_id: i64,
}

/// The screen's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HouseReadings {
    pub period: String,
    pub house: HouseRef,
    pub counts: Counts,
    pub meters: Vec<MeterLine>,
}

/// The house, if it is inside `scope` and not removed.
pub fn house(scope: Scope, conn: &Connection, id: i64) -> Result<Option<HouseRef>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, address, organisation_id FROM houses \
             WHERE id = ?1 AND (?2 IS NULL OR organisation_id = ?2) AND removed_at IS NULL",
            params![id, scope.organisation()],
            |r| {
                Ok(HouseRef {
                    id: r.get(0)?,
                    address: r.get(1)?,
                    organisation_id: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// The first day of `period` and the first day after it, as stored dates compare.
fn bounds(period: Period) -> (String, String) {
    (format!("{period}-01"), format!("{period}-32"))
}

/// Readings of house `house_id` taken in `period`, per meter; `None` when the house is
/// not inside `scope`. Meters archived before the period are left out.
pub fn of_house(
    scope: Scope,
    conn: &Connection,
    house_id: i64,
    period: Period,
) -> Result<Option<HouseReadings>, StoreError> {
    let Some(house) = house(scope, conn, house_id)? else {
        return Ok(None);
    };
    let (from, until) = bounds(period);

    let mut stmt = conn.prepare_cached(
        "SELECT m.id, p.number, m.serial, m.resource, m.unit, m.tariffs, m.automatic \
         FROM meters m JOIN premises p ON p.id = m.premise_id \
         WHERE p.house_id = ?1 AND p.removed_at IS NULL \
           AND (m.archived_at IS NULL OR m.archived_at >= ?2) \
         ORDER BY CAST(p.number AS INTEGER), p.number, m.resource, m.id",
    )?;
    let mut meters = stmt
        .query_map(params![house.id, from], |r| {
            Ok(MeterLine {
                id: r.get(0)?,
                premise_number: r.get(1)?,
                serial: r.get(2)?,
                resource: r.get(3)?,
                unit: r.get(4)?,
                tariffs: r.get(5)?,
                automatic: r.get(6)?,
                state: MeterState::Missing,
                readings: Vec::new(),
                rejected: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let index: HashMap<i64, usize> = meters.iter().enumerate().map(|(i, m)| (m.id, i)).collect();

    let mut stmt = conn.prepare_cached(
        "SELECT r.meter_id, r.id, r.t1, r.t2, r.t3, r.taken_on, r.status, r.source, r.error, \
           r.created_at \
         FROM readings r JOIN meters m ON m.id = r.meter_id \
         JOIN premises p ON p.id = m.premise_id \
         WHERE p.house_id = ?1 AND r.taken_on >= ?2 AND r.taken_on < ?3 \
           AND r.status IN ('accepted', 'sent', 'confirmed', 'rejected') \
         ORDER BY r.taken_on, r.id",
    )?;
    let rows = stmt.query_map(params![house.id, from, until], |r| {
        let tariffs: [Option<String>; 3] = [r.get(2)?, r.get(3)?, r.get(4)?];
        let values: Vec<String> = tariffs.into_iter().flatten().collect();
        let status: String = r.get(6)?;
        let rejected = status == "rejected";
        Ok((
            r.get::<_, i64>(0)?,
            PeriodReading {
                id: r.get(1)?,
                values,
                taken_on: r.get(5)?,
                status,
                source: r.get(7)?,
                reason: if rejected { r.get(8)? } else { None },
                received_at: r.get(9)?,
            },
        ))
    })?;
    for row in rows {
        let (meter_id, reading) = row?;
        let Some(meter) = index.get(&meter_id).and_then(|&i| meters.get_mut(i)) else {
            continue;
        };
        if reading.status == "rejected" {
            meter.rejected.push(reading);
        } else {
            meter.readings.push(reading);
        }
    }

    let mut counts = Counts {
        meters: meters.len(),
        ..Counts::default()
    };
    for meter in &mut meters {
        meter.state = if !meter.readings.is_empty() {
            counts.submitted += 1;
            MeterState::Submitted
        } else if !meter.rejected.is_empty() {
            counts.rejected += 1;
            MeterState::Rejected
        } else {
            counts.missing += 1;
            MeterState::Missing
        };
    }
    Ok(Some(HouseReadings {
        period: period.to_string(),
        house,
        counts,
        meters,
    }))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::config::Synchronous;
    use crate::store::{ts, Options, Store};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Options {
            data_dir: dir.path().to_path_buf(),
            synchronous: Synchronous::Normal,
            pool_size: 2,
        })
        .unwrap();
        (dir, store)
    }

    #[test]
    fn each_meter_is_submitted_rejected_or_missing_and_other_houses_stay_out() {
        let (_dir, store) = store();
        let now = ts(datetime!(2026-11-25 10:00 UTC));
        let (house, other_org_house) = store
            .write_blocking(|tx| {
                for (inn, name) in [("1650000001", "УО А"), ("1650000002", "УО Б")] {
                    tx.execute(
                        "INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) \
                         VALUES (?1, ?2, '1', ?3, ?3)",
                        params![name, inn, now],
                    )?;
                }
                let mut houses = Vec::new();
                for org in [1, 2] {
                    tx.execute(
                        "INSERT INTO houses (organisation_id, address, created_at, updated_at) \
                         VALUES (?1, 'ул. Тестовая', ?2, ?2)",
                        params![org, now],
                    )?;
                    houses.push(tx.last_insert_rowid());
                }
                for (number, serial) in [("2", "S-2"), ("10", "S-10"), ("1", "S-1")] {
                    tx.execute(
                        "INSERT INTO premises (house_id, number, created_at, updated_at) \
                         VALUES (?1, ?2, ?3, ?3)",
                        params![houses[0], number, now],
                    )?;
                    let premise = tx.last_insert_rowid();
                    tx.execute(
                        "INSERT INTO meters (premise_id, serial, resource, tariffs, unit, \
                         created_at, updated_at) VALUES (?1, ?2, 'electricity', 2, 'kWh', ?3, ?3)",
                        params![premise, serial, now],
                    )?;
                }
                let reading = |serial: &str, taken: &str, status: &str, error: Option<&str>| {
                    tx.execute(
                        "INSERT INTO readings (meter_id, t1, t2, taken_on, source, status, \
                         error, created_at, updated_at) VALUES ((SELECT id FROM meters \
                         WHERE serial = ?1), '10.5', '3', ?2, 'resident', ?3, ?4, ?5, ?5)",
                        params![serial, taken, status, error, now],
                    )
                };
                reading("S-1", "2026-11-21", "confirmed", None)?;
                reading("S-1", "2026-10-21", "confirmed", None)?;
                reading(
                    "S-2",
                    "2026-11-22",
                    "rejected",
                    Some("Прибор учёта не найден (FMT001)"),
                )?;
                reading("S-10", "2026-11-20", "replaced", None)?;
                Ok((houses[0], houses[1]))
            })
            .unwrap();
        let conn = store.conn().unwrap();
        let period: Period = "2026-11".parse().unwrap();

        let seen = of_house(Scope::Organisation(1), &conn, house, period)
            .unwrap()
            .unwrap();
        let order: Vec<&str> = seen
            .meters
            .iter()
            .map(|m| m.premise_number.as_str())
            .collect();
        assert_eq!(order, ["1", "2", "10"], "premises in numeric order");
        let states: Vec<MeterState> = seen.meters.iter().map(|m| m.state).collect();
        assert_eq!(
            states,
            [
                MeterState::Submitted,
                MeterState::Rejected,
                MeterState::Missing
            ]
        );
        assert_eq!(
            seen.meters[0].readings.len(),
            1,
            "October's value stays out"
        );
        assert_eq!(seen.meters[0].readings[0].values, ["10.5", "3"]);
        assert_eq!(
            seen.meters[1].rejected[0].reason.as_deref(),
            Some("Прибор учёта не найден (FMT001)")
        );
        assert_eq!(
            seen.counts,
            Counts {
                meters: 3,
                submitted: 1,
                missing: 1,
                rejected: 1
            }
        );

        assert!(
            of_house(Scope::Organisation(1), &conn, other_org_house, period)
                .unwrap()
                .is_none()
        );
        assert!(of_house(Scope::Region, &conn, other_org_house, period)
            .unwrap()
            .is_some());
    }
}
