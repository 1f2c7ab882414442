//! The real binary as an operator runs it (sandbox mode, demo data, `synchronous = full`),
//! started as a child process:
//! (f) release binary size and cold start — process start to `/healthz` answering 200,
//!     median of several starts on an existing data directory (and the very first start,
//!     which also migrates and creates the demo data, for information);
//! (e) idle RSS after start, and RSS while (c) runs;
//! (c) `GET /api/v1/properties` latency at 200 concurrent sessions of 200 different
//!     signed-in residents, next to a bare Rocket with the same settings (handler answers
//!     200 only) at the same concurrency, in the same run, alternating in rounds.
//!
//! `cargo bench --bench server`; `BENCH_SESSIONS`, `BENCH_REQUESTS` (per session) and
//! `BENCH_STARTS` change it.

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gosdom::config::{Config, Secret};
use gosdom::server::Service;
use support::{result, Load, Target};

const ROUNDS: usize = 2;

fn main() {
    let sessions = support::env_number("BENCH_SESSIONS", 200);
    let per_session = support::env_number("BENCH_REQUESTS", 20);
    let starts = support::env_number("BENCH_STARTS", 7).max(1);
    let interval = Duration::from_millis(support::env_number("BENCH_INTERVAL_MS", 200) as u64);
    let agent = support::agent();

    // (f) size, and the first start: migrations and demo data on an empty directory.
    let size = std::fs::metadata(support::binary()).expect("binary").len();
    let dir = tempfile::tempdir().expect("temp dir");
    let first = start_time(&agent, dir.path());
    let mut times: Vec<Duration> = (0..starts)
        .map(|_| start_time(&agent, dir.path()))
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "start: first start on an empty data dir {:.0} ms; restarts {:?} ms",
        ms(first),
        times.iter().map(|t| ms(*t).round()).collect::<Vec<_>>()
    );

    // Residents for (c), added to the same data directory while no server runs.
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let service = Service::prepare(config).expect("service");
    let residents = support::seed_residents(&service.app.store, sessions, 1);
    let bot_token = service.app.bot_token.expose().to_string();
    let secret_key = gosdom::keys::load_or_create(&Secret::new(""), dir.path(), "secret_key")
        .expect("cookie key");
    let bare_port = support::free_port();
    support::launch_in_process(gosdom::web::bare::build(
        service.app.clone(),
        secret_key.expose(),
        bare_port,
    ));
    let bare = format!("http://127.0.0.1:{bare_port}");
    support::wait_ok(&agent, &format!("{bare}/healthz"), Duration::from_secs(30));

    // (e) idle: the started binary, left alone for a few seconds.
    let port = support::free_port();
    let server = support::spawn_server(dir.path(), port, &[]);
    let pid = server.id();
    let real = format!("http://127.0.0.1:{port}");
    support::wait_ok(&agent, &format!("{real}/healthz"), Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    let idle_kb = support::proc_kb(pid, "VmRSS").unwrap_or(0);

    // (c) sessions first, then the load; RSS sampled while it runs.
    let tokens: Vec<String> = residents
        .iter()
        .map(|r| {
            format!(
                "Bearer {}",
                support::open_session(&agent, &real, &bot_token, r.max_user)
            )
        })
        .collect();
    let tokens = Arc::new(tokens);
    let peak = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, running) = (peak.clone(), running.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                if let Some(kb) = support::proc_kb(pid, "VmRSS") {
                    peak.fetch_max(kb, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    // Open loop first: every session one request per `interval`, the offered rate fixed.
    let offered = sessions as f64 / interval.as_secs_f64();
    println!(
        "properties, paced: {sessions} sessions, one request each per {} ms = {offered:.0} \
         requests/s offered, {per_session} per session per side, {ROUNDS} alternating rounds",
        interval.as_millis()
    );
    let mut paced_real = Vec::new();
    let mut paced_bare = Vec::new();
    for _ in 0..ROUNDS {
        paced_bare.push(properties(
            &agent,
            &bare,
            sessions,
            per_session / ROUNDS,
            Some(interval),
            tokens.clone(),
        ));
        paced_real.push(properties(
            &agent,
            &real,
            sessions,
            per_session / ROUNDS,
            Some(interval),
            tokens.clone(),
        ));
    }
    // Closed loop: every session sends its next request as soon as the answer is in.
    println!(
        "properties, no pause: {sessions} sessions × {per_session} requests per side, \
         {ROUNDS} alternating rounds"
    );
    let mut real_runs = Vec::new();
    let mut bare_runs = Vec::new();
    for _ in 0..ROUNDS {
        bare_runs.push(properties(
            &agent,
            &bare,
            sessions,
            per_session / ROUNDS,
            None,
            tokens.clone(),
        ));
        real_runs.push(properties(
            &agent,
            &real,
            sessions,
            per_session / ROUNDS,
            None,
            tokens.clone(),
        ));
    }
    running.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    let load_kb = peak.load(Ordering::Relaxed);
    let hwm_kb = support::proc_kb(pid, "VmHWM").unwrap_or(0);
    support::stop(server);
    let paced_real = Load::merge(paced_real);
    let paced_bare = Load::merge(paced_bare);
    let real = Load::merge(real_runs);
    let bare = Load::merge(bare_runs);
    println!("{}", paced_bare.describe("paced, bare Rocket (200 only)  "));
    println!("{}", paced_real.describe("paced, GET /api/v1/properties  "));
    println!("{}", bare.describe("no pause, bare Rocket (200 only)"));
    println!("{}", real.describe("no pause, GET /api/v1/properties"));
    println!(
        "memory: idle VmRSS {} kB, VmRSS under load up to {load_kb} kB, VmHWM {hwm_kb} kB",
        idle_kb
    );

    result(
        &format!(
            "(c) GET /api/v1/properties p99, {sessions} sessions, {offered:.0} requests/s offered"
        ),
        paced_real.ms(0.99),
        "ms",
        Some(("bare Rocket", paced_bare.ms(0.99))),
        Target::Below(50.0),
    );
    result(
        &format!("(c) GET /api/v1/properties p99, {sessions} sessions without pause (saturated)"),
        real.ms(0.99),
        "ms",
        Some(("bare Rocket", bare.ms(0.99))),
        Target::None,
    );
    result(
        &format!("(c) GET /api/v1/properties rate, {sessions} sessions without pause"),
        real.rate(),
        "requests/s",
        Some(("bare Rocket", bare.rate())),
        Target::None,
    );
    result(
        "(e) idle RSS after start",
        idle_kb as f64 / 1024.0,
        "MB",
        None,
        Target::Below(40.0),
    );
    result(
        "(e) RSS under the load of (c)",
        load_kb as f64 / 1024.0,
        "MB",
        Some(("idle", idle_kb as f64 / 1024.0)),
        Target::None,
    );
    result(
        "(f) release binary size",
        size as f64 / 1024.0 / 1024.0,
        "MB",
        None,
        Target::None,
    );
    result(
        "(f) cold start to /healthz 200, median",
        ms(median),
        "ms",
        Some(("first start, migrating", ms(first))),
        Target::Below(300.0),
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Starts the binary on `dir`, waits for `/healthz` 200, stops it; the time to 200.
fn start_time(agent: &ureq::Agent, dir: &Path) -> Duration {
    let port = support::free_port();
    let started = Instant::now();
    let server = support::spawn_server(dir, port, &[]);
    support::wait_ok(
        agent,
        &format!("http://127.0.0.1:{port}/healthz"),
        Duration::from_secs(30),
    );
    let took = started.elapsed();
    support::stop(server);
    took
}

/// `sessions` clients, each its own resident, `per_session` times `GET
/// /api/v1/properties`: one per `interval` (open loop), or back to back without one.
fn properties(
    agent: &ureq::Agent,
    base: &str,
    sessions: usize,
    per_session: usize,
    interval: Option<Duration>,
    tokens: Arc<Vec<String>>,
) -> Load {
    let agent = agent.clone();
    let url = format!("{base}/api/v1/properties");
    let call = move |c: usize, _: usize| {
        agent
            .get(&url)
            .header("Authorization", &tokens[c])
            .call()
            .is_ok_and(|mut r| r.status().as_u16() == 200 && r.body_mut().read_to_string().is_ok())
    };
    match interval {
        Some(interval) => support::run_paced(sessions, per_session, interval, call),
        None => support::run_load(sessions, sessions * per_session, call),
    }
}
