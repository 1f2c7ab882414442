//! What the benchmarks share: a loopback load generator (threads with ureq), percentiles,
//! the real binary as a child process, its memory from /proc, seeded residents with
//! signed-in sessions, and the one line format every figure is printed in:
//!
//! `RESULT | figure | measured | ceiling | ratio | target | MET/NOT MET`
//!
//! `scripts/bench` collects these lines into the table of docs/performance.md.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gosdom::connectors::max::launch;
use gosdom::store::Store;
use rusqlite::params;
use serde_json::json;

pub fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(512)
        .max_idle_connections(1024)
        .build()
        .into()
}

/// Waits until `GET url` answers 200; returns how long that took.
pub fn wait_ok(agent: &ureq::Agent, url: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if let Ok(r) = agent.get(url).call() {
            if r.status().as_u16() == 200 {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < limit,
            "{url} did not answer 200 in time"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Starts `rocket` on its own runtime in a background thread.
pub fn launch_in_process(rocket: rocket::Rocket<rocket::Build>) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let _ = runtime.block_on(rocket.launch());
    });
}

/// What a load run measured.
pub struct Load {
    pub requests: usize,
    pub elapsed: Duration,
    /// Sorted.
    pub latencies: Vec<Duration>,
}

impl Load {
    /// Several runs as one: their requests and times added, their latencies pooled.
    pub fn merge(runs: Vec<Load>) -> Load {
        let mut latencies: Vec<Duration> = runs.iter().flat_map(|r| r.latencies.clone()).collect();
        latencies.sort();
        Load {
            requests: runs.iter().map(|r| r.requests).sum(),
            elapsed: runs.iter().map(|r| r.elapsed).sum(),
            latencies,
        }
    }

    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies.len() as f64 * q) as usize).min(self.latencies.len() - 1);
        self.latencies[i].as_secs_f64() * 1000.0
    }

    pub fn describe(&self, what: &str) -> String {
        format!(
            "{what}: {} requests in {:.2} s = {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.ms(0.50),
            self.ms(0.99),
            self.ms(1.0),
        )
    }
}

/// `clients` threads; client `c` makes requests `c, c + clients, ...` below `total` with
/// `call(c, n)`, which returns whether the answer was the expected one. All threads start
/// together; the clock runs from the start to the last answer.
pub fn run_load<F>(clients: usize, total: usize, call: F) -> Load
where
    F: Fn(usize, usize) -> bool + Send + Sync + 'static,
{
    let call = std::sync::Arc::new(call);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(clients + 1));
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let call = call.clone();
            let barrier = barrier.clone();
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    barrier.wait();
                    let mut latencies = Vec::new();
                    for n in (c..total).step_by(clients) {
                        let sent = Instant::now();
                        assert!(call(c, n), "request {n} of client {c} failed");
                        latencies.push(sent.elapsed());
                    }
                    latencies
                })
                .expect("client thread")
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let mut latencies: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("client thread"))
        .collect();
    let elapsed = started.elapsed();
    latencies.sort();
    Load {
        requests: latencies.len(),
        elapsed,
        latencies,
    }
}

/// An open-loop load: `clients` threads, each sending `per_client` requests one
/// `interval` apart (the clients spread evenly over the interval), so the offered rate is
/// `clients / interval` whatever the answers' speed. A request that falls behind its
/// schedule is sent at once; its latency counts from the moment it was sent.
pub fn run_paced<F>(clients: usize, per_client: usize, interval: Duration, call: F) -> Load
where
    F: Fn(usize, usize) -> bool + Send + Sync + 'static,
{
    let call = std::sync::Arc::new(call);
    let start = Instant::now() + Duration::from_millis(200);
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let call = call.clone();
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let offset = interval.mul_f64(c as f64 / clients as f64);
                    let mut latencies = Vec::with_capacity(per_client);
                    for k in 0..per_client {
                        let due = start + offset + interval * k as u32;
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        let sent = Instant::now();
                        assert!(call(c, k), "request {k} of client {c} failed");
                        latencies.push(sent.elapsed());
                    }
                    latencies
                })
                .expect("client thread")
        })
        .collect();
    let mut latencies: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("client thread"))
        .collect();
    let elapsed = start.elapsed();
    latencies.sort();
    Load {
        requests: latencies.len(),
        elapsed,
        latencies,
    }
}

/// A target a figure must meet.
#[derive(Clone, Copy)]
pub enum Target {
    AtLeast(f64),
    Below(f64),
    None,
}

impl Target {
    fn text(&self, unit: &str) -> String {
        match self {
            Target::AtLeast(v) => format!("≥ {v} {unit}"),
            Target::Below(v) => format!("< {v} {unit}"),
            Target::None => "—".into(),
        }
    }

    fn verdict(&self, value: f64) -> &'static str {
        match self {
            Target::AtLeast(v) if value >= *v => "MET",
            Target::Below(v) if value < *v => "MET",
            Target::None => "—",
            _ => "NOT MET",
        }
    }
}

/// Prints one figure: its value, the ceiling measured in the same run (if any), the ratio
/// value / ceiling, and the target with MET or NOT MET.
pub fn result(figure: &str, value: f64, unit: &str, ceiling: Option<(&str, f64)>, target: Target) {
    let (ceiling_text, ratio) = match ceiling {
        Some((what, c)) if c > 0.0 => (
            format!("{} {unit} ({what})", round(c)),
            format!("{:.2}", value / c),
        ),
        _ => ("—".into(), "—".into()),
    };
    println!(
        "RESULT | {figure} | {} {unit} | {ceiling_text} | {ratio} | {} | {}",
        round(value),
        target.text(unit),
        target.verdict(value)
    );
}

fn round(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The release binary cargo built next to this benchmark.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gosdom"))
}

/// `gosdom serve` on `port` with `data_dir` (sandbox mode, synchronous=FULL by default),
/// its log going to `<data_dir>/server.log`.
pub fn spawn_server(data_dir: &Path, port: u16, envs: &[(&str, &str)]) -> Child {
    let log = std::fs::File::create(data_dir.join("server.log")).expect("log file");
    Command::new(binary())
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--port")
        .arg(port.to_string())
        .env_remove("GOSDOM_CONFIG")
        .envs(envs.iter().copied())
        .current_dir(data_dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the gosdom binary")
}

/// Stops a child this benchmark started.
pub fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A `/proc/<pid>/status` field in kB (`VmRSS`, `VmHWM`).
pub fn proc_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A resident the benchmarks act as: MAX user, person, one premise with its meters.
#[derive(Clone, Debug)]
pub struct Resident {
    pub max_user: i64,
    pub premise: i64,
    pub meters: Vec<i64>,
}

/// `count` residents, each signed in (MAX user bound to a person) and linked to their own
/// premise with `meters` cold-water meters that have three months of history. One УО, one
/// house per 200 premises.
pub fn seed_residents(store: &Store, count: usize, meters: usize) -> Vec<Resident> {
    store
        .write_blocking(|tx| {
            let t = "2026-01-01T00:00:00Z";
            tx.execute(
                "INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) \
                 VALUES ('bench', '7700000001', '1027700000001', ?1, ?1)",
                [t],
            )?;
            let org = tx.last_insert_rowid();
            let mut house = 0;
            let mut residents = Vec::with_capacity(count);
            for n in 0..count {
                if n % 200 == 0 {
                    tx.execute(
                        "INSERT INTO houses (organisation_id, address, created_at, updated_at) \
                         VALUES (?1, ?2, ?3, ?3)",
                        params![org, format!("bench house {}", n / 200), t],
                    )?;
                    house = tx.last_insert_rowid();
                }
                tx.execute(
                    "INSERT INTO premises (house_id, number, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?3)",
                    params![house, (n % 200 + 1).to_string(), t],
                )?;
                let premise = tx.last_insert_rowid();
                let mut ids = Vec::with_capacity(meters);
                for _ in 0..meters {
                    tx.execute(
                        "INSERT INTO meters (premise_id, root_guid, serial, resource, unit, \
                         next_verification, created_at, updated_at) VALUES (?1, \
                         lower(hex(randomblob(16))), '1', 'cold_water', 'm3', '2035-01-01', \
                         ?2, ?2)",
                        params![premise, t],
                    )?;
                    let meter = tx.last_insert_rowid();
                    for (day, value) in [
                        ("2026-08-22", "100"),
                        ("2026-09-22", "110"),
                        ("2026-10-22", "120"),
                    ] {
                        tx.execute(
                            "INSERT INTO readings (meter_id, t1, taken_on, source, status, \
                             created_at, updated_at) VALUES (?1, ?2, ?3, 'gis', 'confirmed', \
                             ?4, ?4)",
                            params![meter, value, day, t],
                        )?;
                    }
                    ids.push(meter);
                }
                tx.execute(
                    "INSERT INTO people (esia_oid, trusted, name, created_at, updated_at) \
                     VALUES (?1, 1, 'bench', ?2, ?2)",
                    params![format!("bench-{n}"), t],
                )?;
                let person = tx.last_insert_rowid();
                let max_user = 7_000_000 + n as i64;
                tx.execute(
                    "INSERT INTO max_users (user_id, person_id, first_name, created_at, \
                     updated_at) VALUES (?1, ?2, 'bench', ?3, ?3)",
                    params![max_user, person, t],
                )?;
                tx.execute(
                    "INSERT INTO property_links (person_id, premise_id, proof, status, \
                     created_at, updated_at) VALUES (?1, ?2, 'operator', 'linked', ?3, ?3)",
                    params![person, premise, t],
                )?;
                residents.push(Resident {
                    max_user,
                    premise,
                    meters: ids,
                });
            }
            Ok(residents)
        })
        .expect("seed residents")
}

/// Opens a mini-app session for MAX user `user` through `POST /api/v1/session` with launch
/// data signed by `bot_token`; returns the bearer token.
pub fn open_session(agent: &ureq::Agent, base: &str, bot_token: &str, user: i64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let init_data = launch::sign(
        &[
            ("auth_date", now.to_string()),
            ("query_id", format!("bench-{user}")),
            (
                "user",
                json!({"id": user, "first_name": "Житель", "language_code": "ru"}).to_string(),
            ),
        ],
        bot_token,
    );
    let mut answer = agent
        .post(format!("{base}/api/v1/session"))
        .send_json(json!({ "init_data": init_data }))
        .expect("session call");
    assert_eq!(answer.status().as_u16(), 200, "session refused");
    let body: serde_json::Value = answer.body_mut().read_json().expect("session body");
    assert_eq!(body["signed_in"], true, "the seeded MAX user is signed in");
    body["token"].as_str().expect("token").to_string()
}
