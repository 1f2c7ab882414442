//! Sync of the УО's houses, premises, accounts and meters from ГИС ЖКХ into the core
//! tables: upsert by GUID, and what ГИС ЖКХ no longer lists is marked (`removed_at`,
//! `archived_at`), never deleted. A row is written only when something in it changed, so a
//! second sync of the same data changes nothing.
//!
//! The houses are the УО's houses in the store that have a ФИАС GUID (created by the
//! demo data, a CSV import or the console); ГИС ЖКХ is asked about each of them.

use std::collections::HashSet;
use std::time::Duration;

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use time::OffsetDateTime;

use super::client::Client;
use super::engine::call_and_wait;
use super::envelope::Request;
use super::ops::house::{self, AccountData, HouseData, MeterData};
use super::ops::nsi;
use super::xml::Node;
use super::GisError;
use crate::clock::SharedClock;
use crate::store::{self, ts, Store};

/// What a sync changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub houses: usize,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
}

impl Report {
    pub fn changed(&self) -> usize {
        self.added + self.updated + self.removed
    }
}

/// Everything a sync needs.
pub struct Sync<'a> {
    pub store: &'a Store,
    pub client: &'a Client,
    pub clock: &'a SharedClock,
    pub schedule: &'a [u64],
    pub org_ppa_guid: &'a str,
    pub sleep: &'a dyn Fn(Duration),
}

impl Sync<'_> {
    fn export(&self, request: &Request) -> Result<Option<Node>, GisError> {
        call_and_wait(self.client, request, self.schedule, self.clock, self.sleep)
    }

    /// Runs a whole sync; records it in `gis_syncs`.
    pub fn run(&self) -> Result<Report, GisError> {
        let started = self.clock.now();
        let run_id = self.store.write_blocking(|tx| {
            tx.execute(
                "INSERT INTO gis_syncs (started_at, state) VALUES (?1, 'running')",
                [ts(started)],
            )?;
            Ok(tx.last_insert_rowid())
        })?;
        let result = self.run_inner();
        let now = ts(self.clock.now());
        let (state, summary, error) = match &result {
            Ok(r) => ("done", serde_json::to_string(r).unwrap_or_default(), None),
            Err(e) => ("failed", "{}".to_string(), Some(e.operator_message())),
        };
        self.store.write_blocking(|tx| {
            tx.execute(
                "UPDATE gis_syncs SET finished_at = ?2, state = ?3, summary = ?4, error = ?5 \
                 WHERE id = ?1",
                params![run_id, now, state, summary, error],
            )?;
            Ok(())
        })?;
        result
    }

    fn run_inner(&self) -> Result<Report, GisError> {
        self.refresh_nsi()?;
        let houses = self.houses()?;
        let mut report = Report {
            houses: houses.len(),
            ..Report::default()
        };
        for (house_id, fias) in houses {
            let data = self
                .export(&house::export_house(&fias))?
                .and_then(|n| house::house_data(&n))
                .unwrap_or(HouseData {
                    fias_guid: fias.clone(),
                    ..HouseData::default()
                });
            let accounts = self
                .export(&house::export_accounts(&fias))?
                .map(|n| house::accounts(&n))
                .unwrap_or_default();
            let meters = self
                .export(&house::export_meters(&fias))?
                .map(|n| house::meters(&n))
                .unwrap_or_default();
            let now = self.clock.now();
            let changes = self.store.write_blocking(|tx| {
                let mut r = Report::default();
                apply_house(tx, house_id, &data, now, &mut r)?;
                apply_accounts(tx, house_id, &accounts, now, &mut r)?;
                apply_meters(tx, house_id, &meters, now, &mut r)?;
                Ok(r)
            })?;
            report.added += changes.added;
            report.updated += changes.updated;
            report.removed += changes.removed;
        }
        Ok(report)
    }

    /// НСИ 2 and 27, at most once a day.
    fn refresh_nsi(&self) -> Result<(), GisError> {
        let now = self.clock.now();
        for registry in [nsi::RESOURCES, nsi::METER_TYPES] {
            let conn = self.store.conn()?;
            let fresh = nsi::cached_at(&conn, registry)?
                .as_deref()
                .and_then(store::parse_ts)
                .is_some_and(|at| now - at < time::Duration::days(1));
            drop(conn);
            if fresh {
                continue;
            }
            let entries = self
                .export(&nsi::export_item(registry))?
                .map(|n| nsi::entries(&n))
                .unwrap_or_default();
            self.store
                .write_blocking(|tx| nsi::store(tx, registry, &entries, now))?;
        }
        Ok(())
    }

    fn houses(&self) -> Result<Vec<(i64, String)>, GisError> {
        let conn = self.store.conn()?;
        let mut stmt = conn
            .prepare(
                "SELECT h.id, h.fias_guid FROM houses h JOIN organisations o \
                 ON o.id = h.organisation_id \
                 WHERE o.org_ppa_guid = ?1 AND h.fias_guid IS NOT NULL AND h.removed_at IS NULL \
                 ORDER BY h.id",
            )
            .map_err(store::StoreError::from)?;
        let rows = stmt
            .query_map([self.org_ppa_guid], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(store::StoreError::from)?
            .collect::<rusqlite::Result<Vec<(i64, String)>>>()
            .map_err(store::StoreError::from)?;
        if rows.is_empty() {
            return Err(GisError::Config(format!(
                "no houses with a ФИАС GUID for the organisation with orgPPAGUID {}: add the \
                 УО and its houses first (gosdom import houses)",
                self.org_ppa_guid
            )));
        }
        Ok(rows)
    }
}

fn count(n: usize, into: &mut usize) {
    *into += n;
}

/// Marks the rows of a house that ГИС ЖКХ no longer lists (never deletes them): `known`
/// selects (id, GUID) of the live rows of house ?1, `gone` marks row ?1 at time ?2.
/// Returns how many were marked.
fn mark_gone(
    tx: &Transaction<'_>,
    known: &str,
    gone: &str,
    house_id: i64,
    seen: &HashSet<&str>,
    at: &str,
) -> store::Result<usize> {
    let live: Vec<(i64, String)> = {
        let mut stmt = tx.prepare(known)?;
        let rows = stmt.query_map([house_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut marked = 0;
    for (id, guid) in live {
        if !seen.contains(guid.as_str()) {
            marked += tx.execute(gone, params![id, at])?;
        }
    }
    Ok(marked)
}

fn apply_house(
    tx: &Transaction<'_>,
    house_id: i64,
    data: &HouseData,
    now: OffsetDateTime,
    r: &mut Report,
) -> store::Result<()> {
    let at = ts(now);
    if let Some(guid) = &data.house_guid {
        count(
            tx.execute(
                "UPDATE houses SET gis_guid = ?2, updated_at = ?3 WHERE id = ?1 \
                 AND gis_guid IS NOT ?2",
                params![house_id, guid, at],
            )?,
            &mut r.updated,
        );
    }
    let mut seen = HashSet::new();
    for p in &data.premises {
        seen.insert(p.guid.as_str());
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM premises WHERE premises_guid = ?1 \
                 OR (house_id = ?2 AND number = ?3 AND premises_guid IS NULL) \
                 ORDER BY premises_guid IS NULL LIMIT 1",
                params![p.guid, house_id, p.number],
                |row| row.get(0),
            )
            .optional()?;
        match existing {
            Some(id) => count(
                tx.execute(
                    "UPDATE premises SET premises_guid = ?2, number = ?3, kind = ?4, \
                     cadastral_number = COALESCE(?5, cadastral_number), \
                     area = COALESCE(?6, area), removed_at = NULL, updated_at = ?7 \
                     WHERE id = ?1 AND (premises_guid IS NOT ?2 OR number IS NOT ?3 \
                     OR kind IS NOT ?4 OR (?5 IS NOT NULL AND cadastral_number IS NOT ?5) \
                     OR (?6 IS NOT NULL AND area IS NOT ?6) OR removed_at IS NOT NULL)",
                    params![id, p.guid, p.number, p.kind, p.cadastral_number, p.area, at],
                )?,
                &mut r.updated,
            ),
            None => count(
                tx.execute(
                    "INSERT INTO premises (house_id, number, kind, premises_guid, \
                     cadastral_number, area, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                    params![
                        house_id,
                        p.number,
                        p.kind,
                        p.guid,
                        p.cadastral_number,
                        p.area,
                        at
                    ],
                )?,
                &mut r.added,
            ),
        }
    }
    r.removed += mark_gone(
        tx,
        "SELECT id, premises_guid FROM premises WHERE house_id = ?1 \
             AND premises_guid IS NOT NULL AND removed_at IS NULL",
        "UPDATE premises SET removed_at = ?2, updated_at = ?2 WHERE id = ?1",
        house_id,
        &seen,
        &at,
    )?;
    Ok(())
}

fn premise_of(tx: &Transaction<'_>, guids: &[String]) -> store::Result<Option<i64>> {
    for g in guids {
        let id: Option<i64> = tx
            .query_row(
                "SELECT id FROM premises WHERE premises_guid = ?1",
                [g],
                |r| r.get(0),
            )
            .optional()?;
        if id.is_some() {
            return Ok(id);
        }
    }
    Ok(None)
}

fn apply_accounts(
    tx: &Transaction<'_>,
    house_id: i64,
    accounts: &[AccountData],
    now: OffsetDateTime,
    r: &mut Report,
) -> store::Result<()> {
    let at = ts(now);
    let mut seen = HashSet::new();
    for a in accounts.iter().filter(|a| !a.closed) {
        let Some(premise) = premise_of(tx, &a.premise_guids)? else {
            continue;
        };
        seen.insert(a.guid.as_str());
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM accounts WHERE gis_guid = ?1",
                [&a.guid],
                |row| row.get(0),
            )
            .optional()?;
        match existing {
            Some(id) => count(
                tx.execute(
                    "UPDATE accounts SET premise_id = ?2, number = ?3, \
                     unified_number = COALESCE(?4, unified_number), \
                     service_id = COALESCE(?5, service_id), removed_at = NULL, updated_at = ?6 \
                     WHERE id = ?1 AND (premise_id IS NOT ?2 OR number IS NOT ?3 \
                     OR (?4 IS NOT NULL AND unified_number IS NOT ?4) \
                     OR (?5 IS NOT NULL AND service_id IS NOT ?5) OR removed_at IS NOT NULL)",
                    params![id, premise, a.number, a.unified_number, a.service_id, at],
                )?,
                &mut r.updated,
            ),
            None => count(
                tx.execute(
                    "INSERT INTO accounts (premise_id, number, unified_number, service_id, \
                     gis_guid, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                    params![
                        premise,
                        a.number,
                        a.unified_number,
                        a.service_id,
                        a.guid,
                        at
                    ],
                )?,
                &mut r.added,
            ),
        }
    }
    r.removed += mark_gone(
        tx,
        "SELECT a.id, a.gis_guid FROM accounts a JOIN premises p ON p.id = a.premise_id \
             WHERE p.house_id = ?1 AND a.gis_guid IS NOT NULL AND a.removed_at IS NULL",
        "UPDATE accounts SET removed_at = ?2, updated_at = ?2 WHERE id = ?1",
        house_id,
        &seen,
        &at,
    )?;
    Ok(())
}

fn unit_of(resource: &str) -> &'static str {
    match resource {
        "electricity" => "kWh",
        "heat" => "Gcal",
        _ => "m3",
    }
}

fn apply_meters(
    tx: &Transaction<'_>,
    house_id: i64,
    meters: &[MeterData],
    now: OffsetDateTime,
    r: &mut Report,
) -> store::Result<()> {
    let at = ts(now);
    let mut seen = HashSet::new();
    for m in meters {
        let Some(premise) = premise_of(tx, &m.premise_guids)? else {
            continue;
        };
        let resource = if m.electric {
            Some("electricity")
        } else {
            match &m.resource_code {
                Some(code) => nsi::resource_kind(tx, code)?,
                None => None,
            }
        };
        let Some(resource) = resource else {
            continue;
        };
        seen.insert(m.root_guid.as_str());
        let tariffs = i64::from(m.tariffs.clamp(1, 3));
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM meters WHERE root_guid = ?1",
                [&m.root_guid],
                |row| row.get(0),
            )
            .optional()?;
        match existing {
            Some(id) => count(
                tx.execute(
                    "UPDATE meters SET premise_id = ?2, serial = ?3, resource = ?4, \
                     tariffs = ?5, archived_at = NULL, updated_at = ?6 WHERE id = ?1 \
                     AND (premise_id IS NOT ?2 OR serial IS NOT ?3 OR resource IS NOT ?4 \
                     OR tariffs IS NOT ?5 OR archived_at IS NOT NULL)",
                    params![id, premise, m.serial, resource, tariffs, at],
                )?,
                &mut r.updated,
            ),
            None => count(
                tx.execute(
                    "INSERT INTO meters (premise_id, root_guid, serial, resource, tariffs, unit, \
                     created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                    params![
                        premise,
                        m.root_guid,
                        m.serial,
                        resource,
                        tariffs,
                        unit_of(resource),
                        at
                    ],
                )?,
                &mut r.added,
            ),
        }
    }
    r.removed += mark_gone(
        tx,
        "SELECT m.id, m.root_guid FROM meters m JOIN premises p ON p.id = m.premise_id \
             WHERE p.house_id = ?1 AND m.root_guid IS NOT NULL AND m.archived_at IS NULL",
        "UPDATE meters SET archived_at = ?2, updated_at = ?2 WHERE id = ?1",
        house_id,
        &seen,
        &at,
    )?;
    Ok(())
}
