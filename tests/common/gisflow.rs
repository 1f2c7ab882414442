//! The real service in sandbox mode, listening on a free port so that its own ГИС ЖКХ
//! client reaches the sandbox ГИС ЖКХ at `/dev/gis` over HTTP, with its outbox worker
//! running on a manual clock. The resident and staff APIs are driven in-process (they
//! share the service's store, clock and outbox); the sandbox's pages over HTTP.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use gosdom::clock::{Clock, ManualClock};
use gosdom::config::Config;
use gosdom::domain::console::staff::{self, NewAccount};
use gosdom::domain::console::Role;
use gosdom::server::Service;
use gosdom::store::Store;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::common::{free_port, sandbox_config, Harness};

pub const STAFF_PASSWORD: &str = "пароль песочницы 42";

pub struct Live {
    pub h: Harness,
    pub store: Store,
    pub base: String,
    _server: tokio::task::JoinHandle<()>,
    _worker: tokio::task::JoinHandle<()>,
}

/// Starts the service at `at` with `config` changes; waits until it listens.
pub async fn start(at: OffsetDateTime, change: impl FnOnce(&mut Config)) -> Live {
    let dir = tempfile::tempdir().unwrap();
    let mut config = sandbox_config(dir.path());
    config.server.address = "127.0.0.1".parse().unwrap();
    config.server.port = free_port();
    change(&mut config);
    let base = format!("http://127.0.0.1:{}", config.server.port);
    let clock = ManualClock::new(at);
    let service = Service::prepare_with_clock(config, Arc::new(clock.clone())).unwrap();
    let store = service.app.store.clone();
    let client = Client::tracked(service.rocket()).await.unwrap();
    let listening = service.rocket();
    let server = tokio::spawn(async move {
        let _ = listening.launch().await;
    });
    let worker = service.jobs.spawn();
    let probe = format!("{base}/healthz");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = probe.clone();
        let up = tokio::task::spawn_blocking(move || ureq::get(&url).call().is_ok())
            .await
            .unwrap();
        if up {
            break;
        }
        assert!(Instant::now() < deadline, "the service does not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Live {
        h: Harness { client, clock, dir },
        store,
        base,
        _server: server,
        _worker: worker,
    }
}

impl Live {
    pub fn now(&self) -> OffsetDateTime {
        self.h.clock.now()
    }

    /// A form POST to the listening service; the JSON answer.
    pub async fn dev_post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let url = format!("{}{path}", self.base);
        let form: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tokio::task::spawn_blocking(move || {
            let mut res = ureq::post(&url).send_form(form).unwrap();
            let text = res.body_mut().read_to_string().unwrap();
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
        .await
        .unwrap()
    }

    pub async fn dev_get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        tokio::task::spawn_blocking(move || {
            let mut res = ureq::get(&url).call().unwrap();
            serde_json::from_str(&res.body_mut().read_to_string().unwrap()).unwrap()
        })
        .await
        .unwrap()
    }

    /// Moves the clock on in steps of `step` until `cond` holds (the worker follows the
    /// clock; the sandbox answers after two real seconds); panics after `secs` seconds.
    pub async fn advance_until<F, Fut>(&self, what: &str, step: time::Duration, secs: u64, cond: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if cond().await {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            self.h.clock.advance(step);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits in real time, the clock standing still.
    pub async fn wait_until<F, Fut>(&self, what: &str, secs: u64, cond: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !cond().await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.store
            .conn()
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }

    /// The demo УО's id.
    pub fn demo_organisation(&self) -> i64 {
        self.count("SELECT id FROM organisations WHERE demo = 1 ORDER BY id LIMIT 1")
    }

    /// Adds a staff account of the demo УО and signs in; returns the CSRF token.
    pub async fn staff(&self, login: &str, role: Role) -> String {
        let hash = staff::hash_password(STAFF_PASSWORD).unwrap();
        let account = NewAccount {
            login: login.into(),
            role,
            organisation_id: Some(self.demo_organisation()),
        };
        let at = self.now();
        self.store
            .write_blocking(|tx| Ok(staff::add(tx, None, &account, &hash, at)))
            .unwrap()
            .unwrap();
        let res = self
            .h
            .client
            .post("/api/console/v1/session")
            .header(ContentType::JSON)
            .body(json!({ "login": login, "password": STAFF_PASSWORD }).to_string())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Ok);
        let me: Value = res.into_json().await.unwrap();
        me["csrf_token"].as_str().unwrap().to_string()
    }

    pub async fn staff_get(&self, path: &str) -> (Status, Value) {
        let res = self
            .h
            .client
            .get(format!("/api/console/v1{path}"))
            .dispatch()
            .await;
        let status = res.status();
        (status, res.into_json().await.unwrap_or(Value::Null))
    }

    pub async fn staff_post(&self, path: &str, csrf: &str, body: Value) -> (Status, Value) {
        let res = self
            .h
            .client
            .post(format!("/api/console/v1{path}"))
            .header(ContentType::JSON)
            .header(Header::new("X-CSRF-Token", csrf.to_string()))
            .body(body.to_string())
            .dispatch()
            .await;
        let status = res.status();
        (status, res.into_json().await.unwrap_or(Value::Null))
    }

    /// What the sandbox ГИС ЖКХ received for `operation`, oldest first.
    pub async fn received(&self, operation: &str) -> Vec<Value> {
        let all = self.dev_get("/dev/gis/received.json").await;
        let mut out: Vec<Value> = all
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["operation"] == operation)
            .cloned()
            .collect();
        out.reverse();
        out
    }
}
