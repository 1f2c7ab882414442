//! A small world for the readings tests: one УО, one house, one premise linked to one
//! resident with a MAX user, and meters made to order.

use rusqlite::params;
use tempfile::TempDir;
use time::{Date, OffsetDateTime};

use super::submit::{submit_blocking, Actor, MeterOutcome, Submission, Submitted};
use crate::config::{self, Synchronous};
use crate::store::{Options, Store};

pub struct Kit {
    _dir: TempDir,
    pub store: Store,
    pub defaults: config::Readings,
    pub organisation: i64,
    pub house: i64,
    pub premise: i64,
    pub person: i64,
    pub max_user: i64,
}

/// Noon in Moscow on that day.
pub fn at(date: Date) -> OffsetDateTime {
    date.with_hms(9, 0, 0).unwrap().assume_utc()
}

pub fn kit() -> Kit {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Options {
        data_dir: dir.path().to_path_buf(),
        synchronous: Synchronous::Normal,
        pool_size: 4,
    })
    .unwrap();
    let conn = store.conn().unwrap();
    let t = "2026-01-01T00:00:00Z";
    conn.execute(
        "INSERT INTO organisations (name, inn, ogrn, org_ppa_guid, created_at, updated_at) \
         VALUES ('УО', '7700000000', '1027700000000', 'ppa-guid', ?1, ?1)",
        [t],
    )
    .unwrap();
    let organisation = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO houses (organisation_id, fias_guid, address, created_at, updated_at) \
         VALUES (?1, 'fias-1', 'ул. Тестовая, 1', ?2, ?2)",
        params![organisation, t],
    )
    .unwrap();
    let house = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO premises (house_id, number, created_at, updated_at) \
         VALUES (?1, '1', ?2, ?2)",
        params![house, t],
    )
    .unwrap();
    let premise = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO accounts (premise_id, number, created_at, updated_at) \
         VALUES (?1, '100200300', ?2, ?2)",
        params![premise, t],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO people (esia_oid, trusted, created_at, updated_at) \
         VALUES ('1000', 1, ?1, ?1)",
        [t],
    )
    .unwrap();
    let person = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO property_links (person_id, premise_id, proof, created_at, updated_at) \
         VALUES (?1, ?2, 'owners_register', ?3, ?3)",
        params![person, premise, t],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO max_users (user_id, dialog_chat_id, person_id, created_at, updated_at) \
         VALUES (555, 777, ?1, ?2, ?2)",
        params![person, t],
    )
    .unwrap();
    let max_user = conn.last_insert_rowid();
    drop(conn);
    Kit {
        _dir: dir,
        store,
        defaults: config::Readings::default(),
        organisation,
        house,
        premise,
        person,
        max_user,
    }
}

impl Kit {
    /// A meter with `tariffs` and `digits`, verified until 2030.
    pub fn meter(&self, tariffs: u8, digits: u8) -> i64 {
        self.meter_in(self.premise, tariffs, digits)
    }

    pub fn meter_in(&self, premise: i64, tariffs: u8, digits: u8) -> i64 {
        let conn = self.store.conn().unwrap();
        conn.execute(
            "INSERT INTO meters (premise_id, root_guid, serial, resource, tariffs, unit, digits, \
             next_verification, created_at, updated_at) \
             VALUES (?1, lower(hex(randomblob(16))), '12345678', \
               CASE WHEN ?2 > 1 THEN 'electricity' ELSE 'cold_water' END, ?2, 'm3', ?3, \
               '2030-01-01', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            params![premise, tariffs, digits],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    pub fn sql(&self, sql: &str, args: impl rusqlite::Params) {
        self.store.conn().unwrap().execute(sql, args).unwrap();
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.store
            .conn()
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }

    /// Confirmed past readings of a one-tariff meter.
    pub fn history(&self, meter: i64, readings: &[(Date, &str)]) {
        for (day, value) in readings {
            self.sql(
                "INSERT INTO readings (meter_id, t1, taken_on, source, status, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, 'gis', 'confirmed', ?4, ?4)",
                params![meter, value, day.to_string(), "2026-01-01T00:00:00Z"],
            );
        }
    }

    pub fn submit(&self, now: OffsetDateTime, items: &[Submission]) -> Submitted {
        submit_blocking(
            &self.store,
            &self.defaults,
            now,
            Actor::Resident(self.person),
            self.premise,
            items,
        )
        .unwrap()
    }

    /// One meter, values, today.
    pub fn one(&self, now: OffsetDateTime, meter: i64, values: &[&str]) -> MeterOutcome {
        self.submit(now, &[entry(meter, values)])
            .meters
            .pop()
            .unwrap()
    }
}

pub fn entry(meter: i64, values: &[&str]) -> Submission {
    Submission {
        meter_id: meter,
        values: values.iter().map(|v| v.to_string()).collect(),
        taken_on: None,
        confirm: false,
    }
}

/// The code of a refusal or a confirmation request; "accepted" otherwise.
pub fn code(outcome: &MeterOutcome) -> &'static str {
    match outcome {
        MeterOutcome::Accepted { .. } => "accepted",
        MeterOutcome::ConfirmNeeded { problem, .. } | MeterOutcome::Refused { problem, .. } => {
            problem.code
        }
    }
}
