//! The billing export: a period's readings as CSV, per УО or for all of them.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use rusqlite::Connection;
use time::Month;

use super::VALID;
use crate::store::StoreError;

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub year: i32,
    pub month: Month,
}

impl FromStr for Period {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a period: use YYYY-MM, e.g. 2026-11");
        let (year, month) = s.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        let month = Month::try_from(month).map_err(|_| bad())?;
        Ok(Period { year, month })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportCsvError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
}

impl From<rusqlite::Error> for ExportCsvError {
    fn from(e: rusqlite::Error) -> Self {
        ExportCsvError::Store(e.into())
    }
}

const HEADER: [&str; 19] = [
    "organisation_inn",
    "house_fias_guid",
    "house_address",
    "premise",
    "accounts",
    "meter_id",
    "meter_root_guid",
    "serial",
    "resource",
    "unit",
    "tariffs",
    "t1",
    "t2",
    "t3",
    "taken_on",
    "status",
    "source",
    "reading_id",
    "accepted_at",
];

/// Writes the readings taken in `period` that count (accepted, sent, confirmed), ordered
/// by house, premise, meter and date; account numbers (ЛС) of a premise are joined with
/// `;`. Returns the number of readings written.
pub fn export_period(
    conn: &Connection,
    period: Period,
    organisation_id: Option<i64>,
    out: impl Write,
) -> Result<usize, ExportCsvError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(HEADER)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT o.inn, h.fias_guid, h.address, p.number, \
            (SELECT group_concat(a.number, ';') FROM accounts a \
             WHERE a.premise_id = p.id AND a.removed_at IS NULL), \
            m.id, m.root_guid, m.serial, m.resource, m.unit, m.tariffs, \
            r.t1, r.t2, r.t3, r.taken_on, r.status, r.source, r.id, r.created_at \
         FROM readings r JOIN meters m ON m.id = r.meter_id \
         JOIN premises p ON p.id = m.premise_id JOIN houses h ON h.id = p.house_id \
         JOIN organisations o ON o.id = h.organisation_id \
         WHERE r.status IN {VALID} AND r.taken_on >= ?1 AND r.taken_on < ?2 \
           AND (?3 IS NULL OR o.id = ?3) \
         ORDER BY o.id, h.address, h.id, p.number, p.id, m.id, r.taken_on, r.id"
    ))?;
    let from = format!("{period}-01");
    let until = format!("{period}-32");
    let mut rows = stmt.query(rusqlite::params![from, until, organisation_id])?;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        let mut record: Vec<String> = Vec::with_capacity(HEADER.len());
        for i in 0..HEADER.len() {
            let text = match row.get_ref(i)? {
                rusqlite::types::ValueRef::Null => String::new(),
                rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                rusqlite::types::ValueRef::Real(x) => x.to_string(),
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    String::from_utf8_lossy(t).into_owned()
                }
            };
            record.push(text);
        }
        writer.write_record(&record)?;
        count += 1;
    }
    writer.flush().map_err(csv::Error::from)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_strictly() {
        let p: Period = "2026-11".parse().unwrap();
        assert_eq!((p.year, p.month), (2026, Month::November));
        assert_eq!(p.to_string(), "2026-11");
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "", "2026-00"] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod csv_tests {
    use time::macros::date;

    use super::*;
    use crate::domain::readings::testkit::{at, kit};

    #[test]
    fn a_period_of_valid_readings_per_organisation() {
        let kit = kit();
        let water = kit.meter(1, 5);
        let power = kit.meter(2, 6);
        kit.history(water, &[(date!(2026 - 10 - 22), "7")]);
        assert!(kit
            .one(at(date!(2026 - 11 - 21)), water, &["10,5"])
            .is_accepted());
        assert!(kit
            .one(at(date!(2026 - 11 - 22)), water, &["11"])
            .is_accepted());
        assert!(kit
            .one(at(date!(2026 - 11 - 22)), power, &["100", "50"])
            .is_accepted());

        let conn = kit.store.conn().unwrap();
        let mut out = Vec::new();
        let period = "2026-11".parse().unwrap();
        let n = export_period(&conn, period, Some(kit.organisation), &mut out).unwrap();
        assert_eq!(n, 2, "the replaced 10.5 and October's reading are left out");
        let mut reader = csv::Reader::from_reader(out.as_slice());
        assert_eq!(reader.headers().unwrap(), HEADER.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let water_row = &rows[0];
        assert_eq!(&water_row[3], "1");
        assert_eq!(&water_row[4], "100200300");
        assert_eq!((&water_row[11], &water_row[12]), ("11", ""));
        assert_eq!(&water_row[14], "2026-11-22");
        assert_eq!((&rows[1][11], &rows[1][12]), ("100", "50"));

        let mut none = Vec::new();
        let other = Some(kit.organisation + 1);
        assert_eq!(export_period(&conn, period, other, &mut none).unwrap(), 0);
    }
}
