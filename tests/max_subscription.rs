//! Subscription at start, long polling, and the `gosdom max` commands, against a mock MAX.

mod common;

use std::time::Duration;

use common::*;
use gosdom::config::MaxMode;
use gosdom::config::Secret;
use gosdom::connectors::max::api::HttpMaxApi;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_webhook_subscription_is_renewed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    let service = service(config(dir.path(), &mock.url));
    let _worker = service.jobs.clone().spawn();
    gosdom::bot::start(&service.app).await.unwrap();

    wait_for(Duration::from_secs(10), "the subscription", || {
        mock.received()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/subscriptions")
    })
    .await;
    let subscribe = mock
        .received()
        .into_iter()
        .find(|r| r.path == "/subscriptions" && r.method == "POST")
        .unwrap();
    assert_eq!(subscribe.authorization.as_deref(), Some(TOKEN));
    assert!(
        schema_validator("SubscriptionRequestBody").is_valid(&subscribe.body),
        "{}",
        subscribe.body
    );
    assert_eq!(subscribe.body["url"], "https://dom.example.ru/bot/webhook");
    assert_eq!(subscribe.body["secret"], SECRET);
    assert!(subscribe.body["update_types"]
        .to_string()
        .contains("bot_started"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_subscription_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| {
        if r.path == "/subscriptions" && r.method == "GET" {
            let list = json!({"subscriptions": [{"url": "https://dom.example.ru/bot/webhook", "time": 1, "update_types": null}]});
            return (200, list, vec![]);
        }
        ok_reply(r)
    });
    let service = service(config(dir.path(), &mock.url));
    let _worker = service.jobs.clone().spawn();
    gosdom::bot::start(&service.app).await.unwrap();
    wait_for(Duration::from_secs(10), "the check", || {
        open_jobs(&service) == 0
    })
    .await;
    let calls: Vec<_> = mock
        .received()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(calls, ["GET /me", "GET /subscriptions"]);
    // `/me` named the bot.
    let conn = service.app.store.conn().unwrap();
    let me: String = conn
        .query_row("SELECT value FROM kv WHERE key = 'max.bot'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(me.contains("123123123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_keeps_its_marker_and_takes_updates_like_the_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, i| {
        if r.path == "/updates" && i == 0 {
            let page =
                json!({"updates": [fixture("bot_started"), fixture("bot_started")], "marker": 17});
            return (200, page, vec![]);
        }
        if r.path == "/updates" {
            return (200, json!({"updates": [], "marker": 17}), vec![]);
        }
        ok_reply(r)
    });
    let mut config = config(dir.path(), &mock.url);
    config.max.mode = MaxMode::Polling;
    let service = service(config);
    let api = HttpMaxApi::new(&mock.url, Secret::new(TOKEN), None).unwrap();
    let app = service.app.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let first = gosdom::bot::polling::poll_once(&app, &api).unwrap();
        let second = gosdom::bot::polling::poll_once(&app, &api).unwrap();
        (first, second)
    })
    .await
    .unwrap();
    assert_eq!(stored, (1, 0));
    let polls: Vec<_> = mock
        .received()
        .into_iter()
        .filter(|r| r.path == "/updates")
        .collect();
    assert_eq!(polls[0].query("marker"), None);
    assert_eq!(polls[1].query("marker"), Some("17"));
    assert_eq!(polls[1].authorization.as_deref(), Some(TOKEN));

    // The webhook is off while polling.
    let client = Client::tracked(service.rocket()).await.unwrap();
    let response = client
        .post("/bot/webhook")
        .header(ContentType::JSON)
        .header(Header::new("X-Max-Bot-Api-Secret", SECRET))
        .body(fixture("bot_started").to_string())
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::NotFound);

    // The stored update is answered through the outbox as usual.
    let _worker = service.jobs.clone().spawn();
    wait_for(Duration::from_secs(10), "the welcome", || {
        mock.messages().len() == 1
    })
    .await;
}

#[test]
fn max_status_prints_the_bot_and_its_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[storage]\ndata_dir = \"{}\"\n[server]\npublic_url = \"https://dom.example.ru\"\n\
             [max]\napi_url = \"{}\"\ntoken = \"{TOKEN}\"\nwebhook_secret = \"{SECRET}\"\n",
            dir.path().join("data").display(),
            mock.url
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gosdom"))
            .args(args)
            .arg("--config")
            .arg(&file)
            .output()
            .unwrap()
    };
    let status = run(&["max", "status"]);
    let out = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        out.contains("123123123") && out.contains("subscriptions: none"),
        "{out}"
    );

    let subscribe = run(&["max", "subscribe"]);
    assert!(
        subscribe.status.success(),
        "{}",
        String::from_utf8_lossy(&subscribe.stderr)
    );
    let posted = mock
        .received()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(posted.body["url"], "https://dom.example.ru/bot/webhook");
    assert!(!String::from_utf8_lossy(&subscribe.stderr).contains(TOKEN));
}
