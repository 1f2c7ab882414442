//! Webhook throughput: how many MAX updates a second `POST /bot/webhook` takes in, and
//! its latency, with the real server on 127.0.0.1, SQLite with `synchronous = full`, and
//! the outbox worker handling the updates at the same time (replies go to the simulator).
//!
//! Run with `cargo bench --bench webhook`; `BENCH_UPDATES` and `BENCH_CLIENTS` change
//! the load.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use gosdom::config::{Config, Secret};
use gosdom::server::Service;
use serde_json::json;

const SECRET: &str = "bench_secret-1";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let updates = env_number("BENCH_UPDATES", 4000);
    let clients = env_number("BENCH_CLIENTS", 8).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();

    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    config.server.port = port;
    config.max.webhook_secret = Secret::new(SECRET);
    let service = Service::prepare(config).expect("service");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let _ = runtime.block_on(service.run());
    });

    let base = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent.get(format!("{base}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let agent = agent.clone();
            let url = format!("{base}/bot/webhook");
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                for n in (c..updates).step_by(clients) {
                    let user = 1_000_000 + n as i64;
                    let body = json!({
                        "update_type": "message_created",
                        "timestamp": 1_775_053_255_737i64 + n as i64,
                        "message": {
                            "recipient": {"chat_id": user, "chat_type": "dialog"},
                            "timestamp": 1_775_053_255_737i64 + n as i64,
                            "body": {"mid": format!("mid.bench.{n}"), "seq": n, "text": "Здравствуйте"},
                            "sender": {"user_id": user, "first_name": "Житель", "is_bot": false}
                        }
                    });
                    let sent = Instant::now();
                    let response = agent
                        .post(&url)
                        .header("X-Max-Bot-Api-Secret", SECRET)
                        .send_json(&body)
                        .expect("webhook call");
                    assert_eq!(response.status().as_u16(), 200);
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("client thread"))
        .collect();
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "webhook: {} updates from {clients} clients in {:.2} s: {:.0} updates/s, \
         latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    );
}
