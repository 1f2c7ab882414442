//! Helpers shared by the sign-in tests.
#![allow(dead_code)]

use std::sync::Arc;

use gosdom::clock::ManualClock;
use gosdom::config::{Config, Secret};
use gosdom::connectors::max::launch;
use gosdom::server::Service;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};
use time::OffsetDateTime;

pub const BOT_TOKEN: &str = "2Uk3Z_8zAlwhprgOcK3r1B1fDk8uhi2MDv47EvXkcu8";

pub struct Harness {
    pub client: Client,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

pub fn sandbox_config(dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.storage.data_dir = dir.to_path_buf();
    config.storage.synchronous = gosdom::config::Synchronous::Normal;
    config.max.token = Secret::new(BOT_TOKEN);
    config
}

pub async fn harness_with(config: impl FnOnce(&mut Config), at: OffsetDateTime) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = sandbox_config(dir.path());
    config(&mut cfg);
    let clock = ManualClock::new(at);
    let service = Service::prepare_with_clock(cfg, Arc::new(clock.clone())).unwrap();
    let client = Client::tracked(service.rocket()).await.unwrap();
    Harness { client, clock, dir }
}

pub async fn harness() -> Harness {
    harness_with(|_| {}, now()).await
}

/// Launch data for MAX user `id`, signed with the test bot token at `at`.
pub fn launch_data(id: i64, at: OffsetDateTime) -> String {
    launch::sign(
        &[
            ("auth_date", at.unix_timestamp().to_string()),
            ("query_id", "q-1".into()),
            (
                "user",
                json!({"id": id, "first_name": "Тест", "language_code": "ru"}).to_string(),
            ),
        ],
        BOT_TOKEN,
    )
}

pub fn bearer(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {token}"))
}

impl Harness {
    pub async fn post_session(&self, init_data: &str) -> (Status, Value) {
        let res = self
            .client
            .post("/api/v1/session")
            .header(ContentType::JSON)
            .body(json!({ "init_data": init_data }).to_string())
            .dispatch()
            .await;
        let status = res.status();
        (status, res.into_json().await.unwrap_or(Value::Null))
    }

    /// A session token for MAX user `id`.
    pub async fn session(&self, id: i64) -> String {
        let (status, body) = self.post_session(&launch_data(id, self.clock_now())).await;
        assert_eq!(status, Status::Ok, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub fn clock_now(&self) -> OffsetDateTime {
        use gosdom::clock::Clock;
        self.clock.now()
    }

    pub async fn get(&self, path: &str, token: &str) -> (Status, Value) {
        let res = self
            .client
            .get(path.to_string())
            .header(bearer(token))
            .dispatch()
            .await;
        let status = res.status();
        (status, res.into_json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (Status, Value) {
        let res = self
            .client
            .post(path.to_string())
            .header(bearer(token))
            .header(ContentType::JSON)
            .body(body.to_string())
            .dispatch()
            .await;
        let status = res.status();
        (status, res.into_json().await.unwrap_or(Value::Null))
    }

    /// Starts ЕСИА sign-in for the session; returns the `/auth/esia/start` link.
    pub async fn esia_start_link(&self, token: &str) -> String {
        let (status, body) = self.post("/api/v1/session/esia", token, json!({})).await;
        assert_eq!(status, Status::Ok, "{body}");
        body["url"].as_str().unwrap().to_string()
    }
}

/// The `Location` of a redirect response.
pub fn location(res: &rocket::local::asynchronous::LocalResponse<'_>) -> String {
    assert!(
        res.status().class().is_redirection(),
        "expected a redirect, got {}",
        res.status()
    );
    res.headers().get_one("Location").unwrap().to_string()
}

/// The value of `name` in a URL's query.
pub fn query_value(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
