//! A steady load on the real binary for the crash and fault tests: bot_started updates
//! through the webhook (each owes the user one welcome message), readings and requests
//! of a signed-in resident through the API. Every write the server acknowledged with a
//! 2xx is recorded, so the test can look for it afterwards.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::json;

use crate::robust::{agent, call, json_body, multipart_json};

/// MAX user ids of webhook updates start here.
pub const FIRST_USER: i64 = 50_000_000;

/// The config a loaded server runs with: MAX is `max_url`, ЕСИА and ГИС ЖКХ the sandbox,
/// any day a reading day, no daily limit on requests.
pub fn config(max_url: &str, extra: &str) -> String {
    format!(
        "{extra}\n[max]\napi_url = \"{max_url}\"\ntoken = \"{}\"\nwebhook_secret = \"{}\"\n\
         bot_id = {}\nbot_username = \"dom_bot\"\n\
         [readings]\nany_day = true\n[requests]\nmax_per_day = 1000000\n",
        crate::common::TOKEN,
        crate::common::SECRET,
        crate::common::BOT_ID,
    )
}

/// Writes the server acknowledged.
#[derive(Default)]
pub struct Acked {
    /// MAX users whose bot_started update was answered 200.
    pub users: Mutex<Vec<i64>>,
    /// Reading ids with (meter, T1) of accepted readings.
    pub readings: Mutex<Vec<(i64, i64, String)>>,
    /// Ids of filed requests.
    pub requests: Mutex<Vec<i64>>,
    /// Calls that got no answer or a 5xx (expected only around a kill).
    pub failed: AtomicI64,
    pub server_errors: AtomicI64,
}

pub struct Load {
    pub acked: Arc<Acked>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts the load on `base` with a signed-in resident's `token`, updates as fast as
    /// the server takes them.
    pub fn start(base: &str, token: &str) -> Load {
        Self::paced(base, token, None)
    }

    /// The same with at most `updates_per_second` webhook updates (readings and requests
    /// stay unpaced).
    pub fn paced(base: &str, token: &str, updates_per_second: Option<u32>) -> Load {
        let acked = Arc::new(Acked::default());
        let stop = Arc::new(AtomicBool::new(false));
        let next_user = Arc::new(AtomicI64::new(FIRST_USER));
        let (premise, meters) = meters_of_first_premise(base, token);
        let mut threads = Vec::new();
        {
            let (base, acked, stop) = (base.to_string(), acked.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                webhook_load(&base, &acked, &stop, &next_user, updates_per_second)
            }));
        }
        {
            let (base, token) = (base.to_string(), token.to_string());
            let (acked, stop) = (acked.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                readings_load(&base, &token, premise, &meters, &acked, &stop)
            }));
        }
        {
            let (base, token) = (base.to_string(), token.to_string());
            let (acked, stop) = (acked.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                requests_load(&base, &token, premise, &acked, &stop)
            }));
        }
        Load {
            acked,
            stop,
            threads,
        }
    }

    /// Stops the load and waits for the calls in flight.
    pub fn stop(self) -> Arc<Acked> {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().expect("a load thread ended normally");
        }
        self.acked
    }

    pub fn totals(&self) -> (usize, usize, usize) {
        (
            self.acked.users.lock().unwrap().len(),
            self.acked.readings.lock().unwrap().len(),
            self.acked.requests.lock().unwrap().len(),
        )
    }
}

/// The resident's first premise and its meters: (id, tariffs, last T1 as an integer).
fn meters_of_first_premise(base: &str, token: &str) -> (i64, Vec<(i64, usize, i64)>) {
    let http = agent(Duration::from_secs(10));
    let list = call(
        &http,
        "GET",
        &format!("{base}/api/v1/properties"),
        Some(token),
        None,
    )
    .unwrap();
    let premise = list.body["items"][0]["id"].as_i64().expect("a property");
    let meters = call(
        &http,
        "GET",
        &format!("{base}/api/v1/properties/{premise}/meters"),
        Some(token),
        None,
    )
    .unwrap();
    let meters = meters.body["items"]
        .as_array()
        .expect("meters")
        .iter()
        .filter(|m| m["locked"] != true)
        .map(|m| {
            let last = m["last"]["values"][0]
                .as_str()
                .and_then(|v| v.split('.').next()?.parse().ok())
                .unwrap_or(0);
            (
                m["id"].as_i64().unwrap(),
                m["tariffs"].as_u64().unwrap() as usize,
                last,
            )
        })
        .collect::<Vec<_>>();
    assert!(!meters.is_empty(), "the demo premise has meters");
    (premise, meters)
}

fn webhook_load(
    base: &str,
    acked: &Acked,
    stop: &AtomicBool,
    next_user: &AtomicI64,
    per_second: Option<u32>,
) {
    let http = agent(Duration::from_secs(10));
    let url = format!("{base}/bot/webhook");
    let started = std::time::Instant::now();
    let mut sent = 0u32;
    while !stop.load(Ordering::SeqCst) {
        // Pacing of the generated load, not a wait for the server.
        if let Some(rate) = per_second {
            let due = started + Duration::from_secs_f64(f64::from(sent) / f64::from(rate.max(1)));
            if let Some(early) = due.checked_duration_since(std::time::Instant::now()) {
                std::thread::sleep(early);
            }
            sent += 1;
        }
        let user = next_user.fetch_add(1, Ordering::SeqCst);
        let update = json!({
            "update_type": "bot_started",
            "timestamp": 1_775_025_604_499i64 + user,
            "chat_id": user,
            "user": {"user_id": user, "first_name": "Тест", "is_bot": false},
            "user_locale": "ru",
        });
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(&url)
            .header("Content-Type", "application/json")
            .header("X-Max-Bot-Api-Secret", crate::common::SECRET)
            .body(update.to_string().into_bytes())
            .unwrap();
        match http.run(request) {
            Ok(res) if res.status().as_u16() == 200 => acked.users.lock().unwrap().push(user),
            Ok(res) if res.status().as_u16() >= 500 => note_server_error(acked),
            _ => note_failure(acked),
        }
    }
}

fn readings_load(
    base: &str,
    token: &str,
    premise: i64,
    meters: &[(i64, usize, i64)],
    acked: &Acked,
    stop: &AtomicBool,
) {
    let http = agent(Duration::from_secs(10));
    let url = format!("{base}/api/v1/properties/{premise}/readings");
    let mut last: HashMap<i64, i64> = meters.iter().map(|(id, _, v)| (*id, *v)).collect();
    let mut round = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let (meter, tariffs, _) = meters[round % meters.len()];
        round += 1;
        let value = last[&meter] + 1;
        let values: Vec<String> = (0..tariffs).map(|_| value.to_string()).collect();
        let body = json!({"readings": [{"meter_id": meter, "values": values, "confirm": true}]});
        match call(&http, "POST", &url, Some(token), json_body(&body)) {
            Ok(a) if a.status == 200 => {
                let result = &a.body["meters"][0];
                if result["result"] == "accepted" {
                    last.insert(meter, value);
                    let id = result["reading_id"].as_i64().expect("a reading id");
                    acked
                        .readings
                        .lock()
                        .unwrap()
                        .push((id, meter, value.to_string()));
                }
            }
            Ok(a) if a.status >= 500 => note_server_error(acked),
            Ok(_) => {}
            Err(_) => note_failure(acked),
        }
    }
}

fn requests_load(base: &str, token: &str, premise: i64, acked: &Acked, stop: &AtomicBool) {
    let http = agent(Duration::from_secs(10));
    let url = format!("{base}/api/v1/requests");
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let body = json!({
            "place": "flat",
            "problem": "water.leak",
            "text": format!("Течёт кран на кухне, проверка номер {n} {}", rand::random::<u32>()),
            "premise_id": premise,
        });
        let (content_type, bytes) = multipart_json("request", &body).unwrap();
        match call(
            &http,
            "POST",
            &url,
            Some(token),
            Some((content_type.as_str(), bytes)),
        ) {
            Ok(a) if a.status == 201 => {
                let id = a.body["id"].as_i64().expect("a request id");
                acked.requests.lock().unwrap().push(id);
            }
            Ok(a) if a.status >= 500 => note_server_error(acked),
            Ok(_) => {}
            Err(_) => note_failure(acked),
        }
    }
}

fn note_failure(acked: &Acked) {
    acked.failed.fetch_add(1, Ordering::SeqCst);
    // The server is down (being restarted): do not spin.
    std::thread::sleep(Duration::from_millis(20));
}

fn note_server_error(acked: &Acked) {
    acked.server_errors.fetch_add(1, Ordering::SeqCst);
}

/// Welcome messages per MAX user of the load, as the mock received them.
pub fn messages_per_user(max: &crate::common::MockMax) -> HashMap<i64, usize> {
    let mut counts = HashMap::new();
    for m in max.messages() {
        if let Some(user) = m.query("user_id").and_then(|v| v.parse::<i64>().ok()) {
            if user >= FIRST_USER {
                *counts.entry(user).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// Checks that every acknowledged reading and request is in the database.
pub fn assert_all_stored(conn: &rusqlite::Connection, acked: &Acked) {
    let readings = acked.readings.lock().unwrap();
    for (id, meter, t1) in readings.iter() {
        let row: Option<(i64, String)> = conn
            .query_row(
                "SELECT meter_id, t1 FROM readings WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        assert_eq!(
            row.as_ref().map(|(m, t)| (*m, t.as_str())),
            Some((*meter, t1.as_str())),
            "acknowledged reading {id} lost"
        );
    }
    let requests = acked.requests.lock().unwrap();
    for id in requests.iter() {
        let found: i64 = conn
            .query_row("SELECT COUNT(*) FROM requests WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(found, 1, "acknowledged request {id} lost");
    }
}

/// MAX users whose message was being sent when the server died (`max.send` jobs left
/// `running`): MAX has no idempotency key, so whether it arrived is unknown and the outbox
/// sends it again. These are the only messages that may arrive twice.
pub fn in_doubt(conn: &rusqlite::Connection) -> Vec<i64> {
    let mut stmt = conn
        .prepare(
            "SELECT json_extract(payload, '$.to.user') FROM outbox \
             WHERE kind = 'max.send' AND state = 'running'",
        )
        .unwrap();
    stmt.query_map([], |r| r.get::<_, Option<i64>>(0))
        .unwrap()
        .filter_map(|r| r.unwrap())
        .collect()
}
