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
        let user: i64 = req
            .query("user_id")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
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
                2 => (
                    "500",
                    Act::json(500, r#"{"code":"internal","message":"oops"}"#),
                ),
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
    wait_until(Duration::from_secs(seconds() + 5), || {
        Instant::now() >= until
    });
    let acked = load.stop();
    let users = acked.users.lock().unwrap().clone();
    assert!(
        users.len() as u64 >= seconds() * u64::from(rate) / 2,
        "load too thin: {}",
        users.len()
    );

    // Every acknowledged update gets its welcome despite the faults: 5 s back-off after a
    // fault, 20 s for a stall.
    let delivered = wait_until(Duration::from_secs(90 + seconds() / 10), || {
        let l = ledger.lock().unwrap();
        users.iter().all(|u| l.delivered.contains_key(u))
    });
    sampling.store(false, Ordering::SeqCst);
    let samples = sampler.join().unwrap();
    let l = ledger.lock().unwrap();
    let missing: Vec<_> = users
        .iter()
        .filter(|u| !l.delivered.contains_key(u))
        .collect();
    assert!(
        delivered,
        "{} messages lost: {missing:?}; faults {:?}",
        missing.len(),
        l.faults
    );
    let twice: Vec<_> = l.delivered.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    for kind in [
        "closed",
        "not http",
        "500",
        "429",
        "200 garbage",
        "502 html",
    ] {
        assert!(
            l.faults.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} fault injected: {:?}",
            l.faults
        );
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
    assert_eq!(
        acked.server_errors.load(Ordering::SeqCst),
        0,
        "the API answered 5xx"
    );

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

/// What a faulty ГИС ЖКХ does with the n-th call of an action before it answers properly.
fn gis_fault(n: usize) -> Option<(&'static str, Act)> {
    let xml = |status: u16, body: &str| Act::Reply {
        status,
        headers: vec![("Content-Type".into(), "text/xml; charset=utf-8".into())],
        body: body.into(),
    };
    Some(match n {
        0 => ("closed", Act::Close),
        1 => ("not http", Act::Garbage),
        2 => ("stall", Act::Stall(Duration::from_secs(3))),
        3 => (
            "500 fault",
            xml(
                500,
                &gosdom::sandbox::gis_xml::fault("INT000000", "Внутренняя ошибка"),
            ),
        ),
        4 => ("502", xml(502, "<html>Bad Gateway</html>")),
        5 => (
            "429",
            Act::Reply {
                status: 429,
                headers: vec![("Retry-After".into(), "1".into())],
                body: String::new(),
            },
        ),
        6 => ("200 garbage", xml(200, "<soap:Envelope><soap:Body><<<")),
        7 => (
            "200 truncated",
            xml(
                200,
                "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"x\"><soap:Bo",
            ),
        ),
        _ => return None,
    })
}

#[test]
fn a_faulty_gis_loses_no_readings_and_sends_each_import_as_one_message() {
    use gosdom::clock::{SharedClock, SystemClock};
    use gosdom::connectors::gis::readings::GisReadings;
    use gosdom::connectors::gis::{Client, ClientConfig, Service};
    use gosdom::domain::readings::{ExportBatch, ExportError, ExportItem, ReadingsExport};
    use gosdom::sandbox::gis_xml::{self, Item};

    #[derive(Default)]
    struct Seen {
        calls: HashMap<String, usize>,
        import_guids: Vec<String>,
        after_ack: usize,
        acked: bool,
        faults: HashMap<&'static str, u32>,
    }
    let seen = Arc::new(Mutex::new(Seen::default()));
    let items: Vec<ExportItem> = (0..4)
        .map(|i| ExportItem {
            reading_id: i,
            transport_guid: uuid::Uuid::new_v4().to_string(),
            meter_root_guid: uuid::Uuid::new_v4().to_string(),
            resource: "electricity".into(),
            fias_house_guid: None,
            values: vec![format!("{}", 100 + i)],
            taken_on: time::macros::date!(2026 - 12 - 21),
        })
        .collect();
    let transports: Vec<String> = items.iter().map(|i| i.transport_guid.clone()).collect();
    let gis = {
        let seen = seen.clone();
        FaultServer::start(move |req| {
            let action = req
                .header("SOAPAction")
                .unwrap_or_default()
                .trim_matches('"')
                .trim_start_matches("urn:")
                .to_string();
            let mut seen = seen.lock().unwrap();
            let n = {
                let c = seen.calls.entry(action.clone()).or_insert(0);
                *c += 1;
                *c - 1
            };
            let body = req.text();
            if action == "importMeteringDeviceValues" {
                let doc = gosdom::connectors::gis::xml::parse(body.as_bytes()).unwrap();
                let guid = doc.find("MessageGUID").unwrap().text.clone();
                seen.import_guids.push(guid);
                if seen.acked {
                    seen.after_ack += 1;
                }
            }
            if let Some((kind, act)) = gis_fault(n) {
                *seen.faults.entry(kind).or_insert(0) += 1;
                return act;
            }
            let xml = |body: String| Act::Reply {
                status: 200,
                headers: vec![("Content-Type".into(), "text/xml; charset=utf-8".into())],
                body,
            };
            match action.as_str() {
                "importMeteringDeviceValues" => {
                    seen.acked = true;
                    let guid = seen.import_guids.last().unwrap().clone();
                    xml(gis_xml::ack("11111111-1111-4111-8111-111111111111", &guid))
                }
                "getState" => {
                    let results: Vec<Item<'_>> = transports
                        .iter()
                        .map(|t| Item::Ok {
                            transport: t,
                            guid: "22222222-2222-4222-8222-222222222222",
                        })
                        .collect();
                    let state = if n == 8 { 1 } else { 3 };
                    xml(gis_xml::state(
                        Service::DeviceMetering,
                        "11111111-1111-4111-8111-111111111111",
                        state,
                        &gis_xml::import_results(&results),
                    ))
                }
                _ => Act::json(404, "{}"),
            }
        })
    };

    let dir = tempfile::tempdir().unwrap();
    let store = gosdom::store::Store::open(&gosdom::store::Options {
        data_dir: dir.path().to_path_buf(),
        synchronous: gosdom::config::Synchronous::Normal,
        pool_size: 2,
    })
    .unwrap();
    let client = Client::new(
        ClientConfig {
            base_url: gis.url.clone(),
            org_ppa_guid: "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e".into(),
            operator_signature: false,
            timeout: Duration::from_secs(1),
        },
        None,
    );
    let clock: SharedClock = Arc::new(SystemClock);
    let export = GisReadings::new(client, store, clock);
    let batch = ExportBatch {
        organisation_id: 1,
        org_ppa_guid: None,
        message_guid: uuid::Uuid::new_v4().to_string(),
        items,
    };

    // The delivery job repeats a call that failed with Retry; a Fatal would give the
    // batch up, and its readings would never reach ГИС ЖКХ.
    let mut ack = None;
    for attempt in 0..20 {
        match export.submit(&batch) {
            Ok(a) => {
                ack = Some(a);
                break;
            }
            Err(ExportError::Retry(_)) => {}
            Err(ExportError::Fatal(e) | ExportError::Wait(e)) => {
                panic!("import given up at attempt {attempt}: {e}")
            }
        }
    }
    let ack = ack.expect("acknowledged in the end");
    let mut results = None;
    for attempt in 0..20 {
        match export.poll(&batch, &ack) {
            Ok(Some(r)) => {
                results = Some(r);
                break;
            }
            Ok(None) | Err(ExportError::Retry(_)) => {}
            Err(ExportError::Fatal(e) | ExportError::Wait(e)) => {
                panic!("result given up at attempt {attempt}: {e}")
            }
        }
    }
    let results = results.expect("results in the end");
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(|r| r.error.is_none()));

    let seen = seen.lock().unwrap();
    assert!(
        seen.import_guids.iter().all(|g| *g == batch.message_guid),
        "every try is the same message (ГИС ЖКХ answers a repeated MessageGUID with the same \
         ack): {:?}",
        seen.import_guids
    );
    assert_eq!(seen.after_ack, 0, "an acknowledged import was sent again");
    assert_eq!(seen.faults.len(), 8, "{:?}", seen.faults);
}

/// Panics on every run: a bug in a handler.
struct Panicking;

impl gosdom::jobs::Handler for Panicking {
    fn run(&self, _: &gosdom::jobs::Job) -> Result<gosdom::jobs::Outcome, gosdom::jobs::JobError> {
        panic!("a bug in a job handler");
    }
}

/// Records the jobs it ran.
struct Fine(Mutex<Vec<String>>);

impl gosdom::jobs::Handler for Fine {
    fn run(
        &self,
        job: &gosdom::jobs::Job,
    ) -> Result<gosdom::jobs::Outcome, gosdom::jobs::JobError> {
        self.0.lock().unwrap().push(job.key.clone());
        Ok(gosdom::jobs::Outcome::Done)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_is_given_up_and_its_lane_goes_on() {
    use gosdom::jobs::{self, Backoff, Jobs, NewJob};

    let dir = tempfile::tempdir().unwrap();
    let store = gosdom::store::Store::open(&gosdom::store::Options {
        data_dir: dir.path().to_path_buf(),
        synchronous: gosdom::config::Synchronous::Normal,
        pool_size: 2,
    })
    .unwrap();
    let now = time::OffsetDateTime::now_utc();
    store
        .write_blocking(|tx| {
            jobs::enqueue(
                tx,
                &NewJob::new("panics", "p-1", json!({}))
                    .lane("chat:1")
                    .max_attempts(3),
                now,
            )?;
            jobs::enqueue(
                tx,
                &NewJob::new("fine", "f-1", json!({})).lane("chat:1"),
                now,
            )
        })
        .unwrap();
    let fine = Arc::new(Fine(Mutex::new(Vec::new())));
    let mut worker =
        Jobs::new(store.clone(), Arc::new(gosdom::clock::SystemClock)).with_backoff(Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
        });
    worker.register("panics", Arc::new(Panicking));
    worker.register("fine", fine.clone());
    let task = worker.spawn();
    let state = |key: &str| jobs::outbox::state_of(&store.conn().unwrap(), key).unwrap();
    let s = store.clone();
    let settled = tokio::task::spawn_blocking(move || {
        wait_until(Duration::from_secs(20), || {
            let state = |key: &str| jobs::outbox::state_of(&s.conn().unwrap(), key).unwrap();
            state("p-1").as_deref() == Some("failed") && state("f-1").as_deref() == Some("done")
        })
    })
    .await
    .unwrap();
    task.abort();
    assert!(settled, "p-1 {:?}, f-1 {:?}", state("p-1"), state("f-1"));
    assert_eq!(fine.0.lock().unwrap().as_slice(), ["f-1"]);
}
