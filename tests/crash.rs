//! Crash test: under a steady load of webhook updates, readings and requests, the real
//! binary is killed with SIGKILL at random moments and started again. After every
//! restart each write it acknowledged is still there; at the end every acknowledged
//! bot_started got its welcome message from the outbox, and SQLite's `integrity_check` is ok.
//! Every message arrives exactly once, also one that was in flight at the instant of a
//! kill (its job left `running`): after the restart the job asks MAX (`GET /messages`,
//! which the mock answers from what it took) whether the message is there before sending
//! it again.
//! Short run: 3 kills (in the suite). Full run: `GOSDOM_CRASH_KILLS=20 cargo test --test crash`.

mod common;
#[path = "common/load.rs"]
mod load;
#[path = "common/robust.rs"]
mod robust;

use std::time::{Duration, Instant};

use common::{ok_reply, wait_until, MockMax, Server};
use rand::Rng;
use robust::*;

fn kills() -> usize {
    std::env::var("GOSDOM_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

#[test]
fn acknowledged_writes_survive_kill_9_and_the_outbox_delivers_each_exactly_once() {
    let max = MockMax::start(|req, _| ok_reply(req));
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &load::config(&max.url, ""));
    let base = server.url("");
    let token = signed_in_session(&base, common::TOKEN, 7_101, DEMO_OID);
    let load = load::Load::start(&base, &token);

    let mut rng = rand::rng();
    let mut in_doubt = Vec::new();
    for kill in 0..kills() {
        // Let the load run for a random while, then pull the plug.
        let before = load.totals();
        let moment = Duration::from_millis(rng.random_range(150..1500));
        let started = Instant::now();
        let progressed = wait_until(Duration::from_secs(30), || {
            started.elapsed() >= moment && load.totals() != before
        });
        assert!(
            progressed,
            "no progress before kill {kill}: {}",
            server.log()
        );
        server.kill9();

        // Everything acknowledged so far is on disk.
        let conn = open_db(&server.data_dir);
        load::assert_all_stored(&conn, &load.acked);
        in_doubt.extend(load::in_doubt(&conn));
        drop(conn);
        server.restart();
    }
    let acked = load.stop();
    let users = acked.users.lock().unwrap().clone();
    let (readings, requests) = (
        acked.readings.lock().unwrap().len(),
        acked.requests.lock().unwrap().len(),
    );
    assert!(
        !users.is_empty() && readings > 0 && requests > 0,
        "the load made no progress: {} users, {readings} readings, {requests} requests",
        users.len()
    );

    // The outbox catches up after the last restart: one welcome per acknowledged update.
    // Updates stored just before a kill but never answered are handled too: the outbox
    // empties of MAX jobs.
    let open_max_jobs = || -> i64 {
        open_db(&server.data_dir)
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE kind LIKE 'max.%' AND state <> 'done'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let delivered = wait_until(Duration::from_secs(120), || {
        let counts = load::messages_per_user(&max);
        users.iter().all(|u| counts.contains_key(u)) && open_max_jobs() == 0
    });
    let counts = load::messages_per_user(&max);
    let missing: Vec<_> = users.iter().filter(|u| !counts.contains_key(u)).collect();
    assert!(
        delivered,
        "{} welcome messages never sent: {missing:?}",
        missing.len()
    );
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "sent more than once: {twice:?} (in flight at a kill: {in_doubt:?})"
    );

    assert_eq!(open_max_jobs(), 0, "MAX jobs left undone");
    server.kill9();
    let conn = open_db(&server.data_dir);
    load::assert_all_stored(&conn, &acked);
    drop(conn);
    assert_eq!(integrity_check(&server.data_dir), "ok");
    eprintln!(
        "crash test: {} kills; acknowledged {} updates, {readings} readings, {requests} requests; \
         {} calls unanswered around kills, {} server errors; {} messages in flight at a kill, \
         {} lookups of a chat's messages, {} messages sent twice",
        kills(),
        users.len(),
        acked.failed.load(std::sync::atomic::Ordering::SeqCst),
        acked
            .server_errors
            .load(std::sync::atomic::Ordering::SeqCst),
        in_doubt.len(),
        max.lookups().len(),
        counts.values().filter(|n| **n > 1).count(),
    );
    assert_eq!(
        acked
            .server_errors
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the server answered 5xx"
    );
}
