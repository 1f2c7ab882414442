//! Readings accepted per second through the domain function (every rule, the insert and
//! the delivery job, one `BEGIN IMMEDIATE` transaction per premise as the screen submits
//! them), next to raw SQLite inserts of the same rows in the same transactions, both with
//! `synchronous=FULL`, measured in the same run.
//!
//! `cargo bench --bench readings` (set `GOSDOM_BENCH_PREMISES` to change the size).

use std::time::{Duration, Instant};

use rusqlite::params;
use time::macros::datetime;

use gosdom::config::{self, Synchronous};
use gosdom::domain::readings::{submit_blocking, Actor, Submission};
use gosdom::store::{Options, Store};

const METERS_PER_PREMISE: usize = 4;
/// Premises per alternation between the two sides.
const CHUNK: usize = 25;

fn main() {
    let premises: usize = std::env::var("GOSDOM_BENCH_PREMISES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let readings = premises * METERS_PER_PREMISE;
    println!(
        "readings benchmark: {premises} premises × {METERS_PER_PREMISE} meters, synchronous=FULL"
    );

    let domain_dir = tempfile::tempdir().expect("temp dir");
    let (domain_store, domain_plan) = seed(&domain_dir, premises);
    let raw_dir = tempfile::tempdir().expect("temp dir");
    let (raw_store, raw_plan) = seed(&raw_dir, premises);

    let defaults = config::Readings::default();
    let now = datetime!(2026-12-22 09:00 UTC);
    let mut domain = Duration::ZERO;
    let mut raw = Duration::ZERO;
    let mut accepted = 0;
    // Alternate chunks, so that neither side gets a warmer disk or a quieter neighbour.
    for (domain_chunk, raw_chunk) in domain_plan.chunks(CHUNK).zip(raw_plan.chunks(CHUNK)) {
        let started = Instant::now();
        for (premise, meters) in domain_chunk {
            let items: Vec<Submission> = meters
                .iter()
                .map(|meter| Submission {
                    meter_id: *meter,
                    values: vec!["130,5".into()],
                    taken_on: None,
                    confirm: false,
                })
                .collect();
            let result = submit_blocking(
                &domain_store,
                &defaults,
                now,
                Actor::Operator,
                *premise,
                &items,
            )
            .expect("submit");
            accepted += result.meters.iter().filter(|m| m.is_accepted()).count();
        }
        domain += started.elapsed();

        let started = Instant::now();
        for (_, meters) in raw_chunk {
            raw_store
                .write_blocking(|tx| {
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO readings (meter_id, t1, taken_on, source, status, \
                         created_at, updated_at) VALUES (?1, '130.5', '2026-12-22', \
                         'operator', 'accepted', '2026-12-22T09:00:00Z', \
                         '2026-12-22T09:00:00Z')",
                    )?;
                    for meter in meters {
                        insert.execute(params![meter])?;
                    }
                    Ok(())
                })
                .expect("insert");
        }
        raw += started.elapsed();
    }
    assert_eq!(accepted, readings, "every reading is accepted");

    let rate = |d: Duration| readings as f64 / d.as_secs_f64();
    println!(
        "domain (submit_blocking): {readings} readings in {:.3} s = {:.0} readings/s",
        domain.as_secs_f64(),
        rate(domain)
    );
    println!(
        "raw SQLite inserts:       {readings} readings in {:.3} s = {:.0} readings/s",
        raw.as_secs_f64(),
        rate(raw)
    );
    println!(
        "ratio raw / domain: {:.2} (the domain keeps {:.0} % of the raw rate)",
        rate(raw) / rate(domain),
        100.0 * rate(domain) / rate(raw)
    );
}

/// One УО, one house, premises with meters and three months of history each.
fn seed(dir: &tempfile::TempDir, premises: usize) -> (Store, Vec<(i64, Vec<i64>)>) {
    let store = Store::open(&Options {
        data_dir: dir.path().to_path_buf(),
        synchronous: Synchronous::Full,
        pool_size: 2,
    })
    .expect("store");
    let plan = store
        .write_blocking(|tx| {
            let t = "2026-01-01T00:00:00Z";
            tx.execute(
                "INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) \
                 VALUES ('bench', '1', '1', ?1, ?1)",
                [t],
            )?;
            let org = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO houses (organisation_id, address, created_at, updated_at) \
                 VALUES (?1, 'bench', ?2, ?2)",
                params![org, t],
            )?;
            let house = tx.last_insert_rowid();
            let mut plan = Vec::with_capacity(premises);
            for n in 0..premises {
                tx.execute(
                    "INSERT INTO premises (house_id, number, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?3)",
                    params![house, n.to_string(), t],
                )?;
                let premise = tx.last_insert_rowid();
                let mut meters = Vec::with_capacity(METERS_PER_PREMISE);
                for _ in 0..METERS_PER_PREMISE {
                    tx.execute(
                        "INSERT INTO meters (premise_id, root_guid, serial, resource, unit, \
                         next_verification, created_at, updated_at) VALUES (?1, \
                         lower(hex(randomblob(16))), '1', 'cold_water', 'm3', '2030-01-01', \
                         ?2, ?2)",
                        params![premise, t],
                    )?;
                    let meter = tx.last_insert_rowid();
                    for (day, value) in [("2026-09-22", "100"), ("2026-10-22", "110"), ("2026-11-22", "120")] {
                        tx.execute(
                            "INSERT INTO readings (meter_id, t1, taken_on, source, status, \
                             created_at, updated_at) VALUES (?1, ?2, ?3, 'gis', 'confirmed', ?4, ?4)",
                            params![meter, value, day, t],
                        )?;
                    }
                    meters.push(meter);
                }
                plan.push((premise, meters));
            }
            Ok(plan)
        })
        .expect("seed");
    (store, plan)
}
