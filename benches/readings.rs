//! (b) Readings accepted per second through the resident API — `POST
//! /api/v1/properties/<id>/readings` over HTTP on 127.0.0.1 with signed-in sessions, every
//! rule, the insert and the delivery job in one `BEGIN IMMEDIATE` transaction per
//! submission, `synchronous = FULL` — next to raw SQLite inserts of the same rows, one
//! transaction per submission, `synchronous = FULL`, on the same file system, in the same
//! run. The two alternate in rounds. (Also the benchmark of issue #6.)
//!
//! `cargo bench --bench readings`; `BENCH_PREMISES` (one resident each, 4 meters) and
//! `BENCH_CLIENTS` change the load.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use gosdom::config::{Config, Synchronous};
use gosdom::server::Service;
use gosdom::store::{Options, Store};
use rusqlite::params;
use serde_json::json;
use support::{result, Load, Resident, Target};

const METERS: usize = 4;
const ROUNDS: usize = 2;

fn main() {
    let premises = support::env_number("BENCH_PREMISES", 1000);
    let clients = support::env_number("BENCH_CLIENTS", 8).max(1);
    let readings = premises * METERS;

    let dir = tempfile::tempdir().expect("temp dir");
    let port = support::free_port();
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    config.storage.synchronous = Synchronous::Full;
    config.server.port = port;
    config.readings.any_day = true;
    let service = Service::prepare(config).expect("service");
    let residents = support::seed_residents(&service.app.store, premises, METERS);
    let bot_token = service.app.bot_token.expose().to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let _ = runtime.block_on(service.run());
    });

    let raw_dir = tempfile::tempdir().expect("temp dir");
    let raw_store = Store::open(&Options {
        data_dir: raw_dir.path().to_path_buf(),
        synchronous: Synchronous::Full,
        pool_size: 2,
    })
    .expect("raw store");
    let raw_residents = support::seed_residents(&raw_store, premises, METERS);

    let agent = support::agent();
    let base = format!("http://127.0.0.1:{port}");
    support::wait_ok(&agent, &format!("{base}/healthz"), Duration::from_secs(30));
    let tokens: Vec<String> = residents
        .iter()
        .map(|r| support::open_session(&agent, &base, &bot_token, r.max_user))
        .collect();
    println!(
        "readings: {premises} residents × {METERS} meters = {readings} readings per side, \
         {clients} clients, {ROUNDS} alternating rounds, synchronous=FULL"
    );

    let per_round = premises.div_ceil(ROUNDS);
    let mut api_runs = Vec::new();
    let mut raw_runs = Vec::new();
    for round in 0..ROUNDS {
        let range = round * per_round..((round + 1) * per_round).min(premises);
        api_runs.push(submit_api(
            &agent,
            &base,
            clients,
            &residents[range.clone()],
            &tokens[range.clone()],
        ));
        raw_runs.push(insert_raw(&raw_store, &raw_residents[range]));
    }
    let api = Load::merge(api_runs);
    let raw = Load::merge(raw_runs);
    let per_second = |l: &Load| (l.requests * METERS) as f64 / l.elapsed.as_secs_f64();
    println!(
        "{}",
        raw.describe("raw SQLite, 1 transaction per submission")
    );
    println!(
        "{}",
        api.describe("POST .../readings (4 meters per call)  ")
    );
    println!(
        "readings/s: API {:.0}, raw {:.0}",
        per_second(&api),
        per_second(&raw)
    );

    result(
        "(b) durable readings/s through the API",
        per_second(&api),
        "readings/s",
        Some(("raw SQLite inserts", per_second(&raw))),
        Target::AtLeast(2000.0),
    );
}

/// Every resident submits all their meters in one call; each must be accepted.
fn submit_api(
    agent: &ureq::Agent,
    base: &str,
    clients: usize,
    residents: &[Resident],
    tokens: &[String],
) -> Load {
    let agent = agent.clone();
    let calls: Vec<(String, String, serde_json::Value)> = residents
        .iter()
        .zip(tokens)
        .map(|(r, token)| {
            let items: Vec<_> = r
                .meters
                .iter()
                .map(|m| json!({"meter_id": m, "values": ["130,5"]}))
                .collect();
            (
                format!("{base}/api/v1/properties/{}/readings", r.premise),
                format!("Bearer {token}"),
                json!({ "readings": items }),
            )
        })
        .collect();
    let total = calls.len();
    support::run_load(clients, total, move |_, n| {
        let (url, bearer, body) = &calls[n];
        let Ok(mut answer) = agent
            .post(url)
            .header("Authorization", bearer)
            .send_json(body)
        else {
            return false;
        };
        let accepted = answer
            .body_mut()
            .read_json::<serde_json::Value>()
            .ok()
            .and_then(|b| b["accepted"].as_u64());
        answer.status().as_u16() == 200 && accepted == Some(METERS as u64)
    })
}

/// The same rows, one `BEGIN IMMEDIATE` transaction per submission, one after another.
fn insert_raw(store: &Store, residents: &[Resident]) -> Load {
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(residents.len());
    for r in residents {
        let sent = Instant::now();
        store
            .write_blocking(|tx| {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO readings (meter_id, t1, taken_on, source, status, \
                     created_at, updated_at) VALUES (?1, '130.5', '2026-12-03', \
                     'resident', 'accepted', '2026-12-03T09:00:00Z', '2026-12-03T09:00:00Z')",
                )?;
                for meter in &r.meters {
                    insert.execute(params![meter])?;
                }
                Ok(())
            })
            .expect("raw insert");
        latencies.push(sent.elapsed());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Load {
        requests: residents.len(),
        elapsed,
        latencies,
    }
}
