//! (a) Webhook throughput: MAX updates a second that `POST /bot/webhook` takes in, and its
//! latency, with the real server on 127.0.0.1 (SQLite `synchronous = full`, the outbox
//! worker answering the updates at the same time through the simulated MAX), next to a
//! bare Rocket with the same settings whose handler only answers 200, in the same run.
//! The two alternate in rounds so that neither gets the quieter moment of a shared machine.
//!
//! `cargo bench --bench webhook`; `BENCH_UPDATES` and `BENCH_CLIENTS` change the load.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use gosdom::config::{Config, Secret, Synchronous};
use gosdom::server::Service;
use gosdom::store::{Options, Store};
use serde_json::json;
use support::{result, Load, Target};

const SECRET: &str = "bench_secret-1";
const ROUNDS: usize = 2;

fn main() {
    let updates = support::env_number("BENCH_UPDATES", 4000);
    let clients = support::env_number("BENCH_CLIENTS", 8).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let port = support::free_port();
    let bare_port = support::free_port();

    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    config.server.port = port;
    config.max.webhook_secret = Secret::new(SECRET);
    let service = Service::prepare(config).expect("service");
    let secret_key = gosdom::keys::load_or_create(&Secret::new(""), dir.path(), "secret_key")
        .expect("cookie key");
    support::launch_in_process(gosdom::web::bare::build(
        service.app.clone(),
        secret_key.expose(),
        bare_port,
    ));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let _ = runtime.block_on(service.run());
    });

    let agent = support::agent();
    let real = format!("http://127.0.0.1:{port}");
    let bare = format!("http://127.0.0.1:{bare_port}");
    support::wait_ok(&agent, &format!("{real}/healthz"), Duration::from_secs(30));
    support::wait_ok(&agent, &format!("{bare}/healthz"), Duration::from_secs(30));
    println!(
        "webhook: {updates} updates per side from {clients} clients, {ROUNDS} alternating rounds, \
         synchronous=FULL"
    );

    let per_round = updates / ROUNDS;
    let mut real_runs = Vec::new();
    let mut bare_runs = Vec::new();
    for round in 0..ROUNDS {
        bare_runs.push(send(&agent, &bare, clients, per_round, round));
        real_runs.push(send(&agent, &real, clients, per_round, round));
    }
    let real = Load::merge(real_runs);
    let bare = Load::merge(bare_runs);
    println!("{}", bare.describe("bare Rocket (200 only)"));
    println!("{}", real.describe("POST /bot/webhook     "));

    result(
        "(a) webhook updates/s",
        real.rate(),
        "updates/s",
        Some(("bare Rocket", bare.rate())),
        Target::AtLeast(5000.0),
    );
    let commits = durable_commits(updates);
    println!("raw SQLite: {commits:.0} durable commits/s (one row each, synchronous=FULL)");
    result(
        "(a) webhook updates/s against durable commits",
        real.rate(),
        "updates/s",
        Some(("raw SQLite commits", commits)),
        Target::None,
    );
    result(
        "(a) webhook p99",
        real.ms(0.99),
        "ms",
        Some(("bare Rocket", bare.ms(0.99))),
        Target::Below(20.0),
    );
}

/// `count` distinct message updates from distinct users to `base`'s webhook.
fn send(agent: &ureq::Agent, base: &str, clients: usize, count: usize, round: usize) -> Load {
    let agent = agent.clone();
    let url = format!("{base}/bot/webhook");
    support::run_load(clients, count, move |_, n| {
        let n = round * 1_000_000 + n;
        let user = 1_000_000 + n as i64;
        let at = 1_775_053_255_737i64 + n as i64;
        let body = json!({
            "update_type": "message_created",
            "timestamp": at,
            "message": {
                "recipient": {"chat_id": user, "chat_type": "dialog"},
                "timestamp": at,
                "body": {"mid": format!("mid.bench.{n}"), "seq": n, "text": "Здравствуйте"},
                "sender": {"user_id": user, "first_name": "Житель", "is_bot": false}
            }
        });
        agent
            .post(&url)
            .header("X-Max-Bot-Api-Secret", SECRET)
            .send_json(&body)
            .is_ok_and(|r| r.status().as_u16() == 200)
    })
}

/// One-row transactions a second on the same file system with `synchronous = FULL`, one
/// after another: what a durable write per update costs on this disk.
fn durable_commits(count: usize) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&Options {
        data_dir: dir.path().to_path_buf(),
        synchronous: Synchronous::Full,
        pool_size: 2,
    })
    .expect("store");
    store
        .write_blocking(|tx| {
            tx.execute_batch("CREATE TABLE bench (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")?;
            Ok(())
        })
        .expect("table");
    let started = Instant::now();
    for n in 0..count {
        store
            .write_blocking(|tx| {
                tx.execute(
                    "INSERT INTO bench (body) VALUES (?1)",
                    [format!("update {n}")],
                )?;
                Ok(())
            })
            .expect("insert");
    }
    count as f64 / started.elapsed().as_secs_f64()
}
