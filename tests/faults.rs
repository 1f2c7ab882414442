//! Fault injection: MAX and ГИС ЖКХ peers that stall past the client's timeout, close the
//! connection without an answer, answer 5xx, 429 with `Retry-After`, or bytes that are not
//! HTTP, or a 2xx whose body is garbage. The service loses nothing, sends nothing twice
//! and its memory stays bounded.
//! Short run in the suite; full run: `GOSDOM_FAULT_SECONDS=300 cargo test --release --test faults`.

mod common;
#[path = "common/faults.rs"]
mod faults;
#[path = "common/load.rs"]
mod load;
#[path = "common/robust.rs"]
mod robust;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{wait_until, Server};
use faults::{Act, FaultServer, Req};
use robust::*;
use serde_json::json;

fn seconds() -> u64 {
    env_or("GOSDOM_FAULT_SECONDS", 4)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the faulty MAX saw: attempts and deliveries per user, faults by kind.
#[derive(Default)]
struct Ledger {
    attempts: HashMap<i64, u32>,
    delivered: HashMap<i64, u32>,
    faults: HashMap<&'static str, u32>,
}

fn ok_message(user: i64) -> Act {
    Act::json(
        200,
        &json!({"message": {"recipient": {"user_id": user}, "timestamp": 1775025604499i64,
            "body": {"mid": format!("mid.{user}.{}", rand::random::<u32>()), "seq": 1}}})
        .to_string(),
    )
}

/// The first attempt of every message meets a fault (by the user id, so every kind
/// occurs); the next ones go through. A stall outlasts the client's 20 s timeout, so only
/// a few messages get one.
fn faulty_max(ledger: Arc<Mutex<Ledger>>) -> impl Fn(&Req) -> Act + Send + Sync {
    move |req| {
        if req.method != "POST" || req.path() != "/messages" {
            return match req.path() {
                "/me" => Act::json(
                    200,
                    &std::fs::read_to_string(common::fixtures().join("me.json")).unwrap(),
                ),
                "/subscriptions" => Act::json(200, r#"{"subscriptions": []}"#),
                _ => Act::json(200, r#"{"success": true}"#),
            };
        }
        let user: i64 = req.query("user_id").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut ledger = ledger.lock().unwrap();
        let attempt = {
            let n = ledger.attempts.entry(user).or_insert(0);
            *n += 1;
            *n
        };
        let (kind, act) = if attempt > 1 || user < load::FIRST_USER {
            ("none", ok_message(user))
        } else {
            match user % 8 {
                0 => ("closed", Act::Close),
                1 => ("not http", Act::Garbage),
                2 => ("500", Act::json(500, r#"{"code":"internal","message":"oops"}"#)),
                3 => ("503 empty", Act::json(503, "")),
                4 => (
                    "429",
                    Act::Reply {
                        status: 429,
                        headers: vec![("Retry-After".into(), "1".into())],
                        body: r#"{"code":"too.many.requests","message":"slow down"}"#.into(),
                    },
                ),
                // MAX took the message, but the answer is unreadable.
                5 => ("200 garbage", Act::json(200, "{\"message\": <<<garbled")),
                6 if user % 64 == 6 => ("stall", Act::Stall(Duration::from_secs(22))),
                6 => ("502 html", Act::json(502, "<html>Bad Gateway</html>")),
                _ => ("none", ok_message(user)),
            }
        };
        *ledger.faults.entry(kind).or_insert(0) += 1;
        if matches!(kind, "none" | "200 garbage") {
            *ledger.delivered.entry(user).or_insert(0) += 1;
        }
        act
    }
}

#[test]
fn a_faulty_max_loses_nothing_sends_nothing_twice_and_memory_stays_bounded() {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let max = FaultServer::start(faulty_max(ledger.clone()));
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &load::config(&max.url, ""));
    let base = server.url("");
    let token = signed_in_session(&base, common::TOKEN, 7_201, DEMO_OID);

    // Memory of the child, sampled through the run.
    let pid = server.child.id();
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while sampling.load(Ordering::SeqCst) {
                if let Some(kib) = rss_kib(pid) {
                    samples.push(kib);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            samples
        })
    };

    let rate = env_or("GOSDOM_FAULT_UPDATES_PER_SECOND", 20) as u32;
    let load = load::Load::paced(&base, &token, Some(rate));
    let until = Instant::now() + Duration::from_secs(seconds());
    wait_until(Duration::from_secs(seconds() + 5), || Instant::now() >= until);
    let acked = load.stop();
    let users = acked.users.lock().unwrap().clone();
    assert!(users.len() as u64 >= seconds() * u64::from(rate) / 2, "load too thin: {}", users.len());

    // Every acknowledged update gets its welcome despite the faults: 5 s back-off after a
    // fault, 20 s for a stall.
    let delivered = wait_until(Duration::from_secs(90 + seconds() / 10), || {
        let l = ledger.lock().unwrap();
        users.iter().all(|u| l.delivered.contains_key(u))
    });
    sampling.store(false, Ordering::SeqCst);
    let samples = sampler.join().unwrap();
    let l = ledger.lock().unwrap();
    let missing: Vec<_> = users.iter().filter(|u| !l.delivered.contains_key(u)).collect();
    assert!(delivered, "{} messages lost: {missing:?}; faults {:?}", missing.len(), l.faults);
    let twice: Vec<_> = l.delivered.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    for kind in ["closed", "not http", "500", "429", "200 garbage", "502 html"] {
        assert!(l.faults.get(kind).copied().unwrap_or(0) > 0, "no {kind} fault injected: {:?}", l.faults);
    }

    let conn = open_db(&server.data_dir);
    load::assert_all_stored(&conn, &acked);
    let failed: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE kind LIKE 'max.%' AND state = 'failed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(failed, 0, "MAX jobs given up");
    assert_eq!(acked.server_errors.load(Ordering::SeqCst), 0, "the API answered 5xx");

    let limit_mib = env_or("GOSDOM_FAULT_RSS_MIB", 200);
    let peak = samples.iter().copied().max().unwrap_or(0);
    let early = samples.iter().take(10).copied().max().unwrap_or(0);
    eprintln!(
        "faults: {} updates, {} readings, {} requests; faults {:?}; RSS early {} MiB, peak {} MiB",
        users.len(),
        acked.readings.lock().unwrap().len(),
        acked.requests.lock().unwrap().len(),
        l.faults,
        early / 1024,
        peak / 1024
    );
    assert!(peak / 1024 < limit_mib, "RSS peaked at {} MiB", peak / 1024);
}
