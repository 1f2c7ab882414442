//! A MAX message whose send was cut off by the process dying (its outbox job left
//! `running`) is not sent twice: after the restart the job asks MAX for the chat's recent
//! messages and sends only if its message is not there.
//!
//! The cut-off attempt is set up as the worker leaves it: the job is claimed (`running`,
//! attempt 1) and, where MAX got the message, the same request is made to the mock MAX.
//! Then the worker starts as after a restart: it recovers the job and runs it.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use gosdom::bot::outgoing::enqueue_message;
use gosdom::config::Secret;
use gosdom::connectors::max::api::{Button, HttpMaxApi, MaxApi, NewMessage, Recipient};
use gosdom::jobs::outbox;
use gosdom::server::Service;
use serde_json::Value;
use time::OffsetDateTime;

const USER: i64 = 4_100_001;
const DIALOG: i64 = 9_100_001;
const GROUP: i64 = -7_700_001;

/// A resident whose dialog chat with the bot is known (as `bot_started` records it).
fn resident(service: &Service, user: i64, dialog: Option<i64>) {
    let now = gosdom::store::ts(OffsetDateTime::now_utc());
    service
        .app
        .store
        .write_blocking(|tx| {
            tx.execute(
                "INSERT INTO max_users (user_id, dialog_chat_id, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?3)",
                rusqlite::params![user, dialog, now],
            )?;
            Ok(())
        })
        .unwrap();
}

/// Queues one message (with a keyboard) to `to`; returns its job key.
fn queue(service: &Service, key: &str, to: Recipient, text: &str) -> String {
    let keyboard = vec![vec![Button::Callback {
        text: "Передать показания".into(),
        payload: "readings".into(),
    }]];
    service
        .app
        .store
        .write_blocking(|tx| {
            enqueue_message(
                tx,
                key,
                to,
                text,
                None,
                keyboard,
                None,
                OffsetDateTime::now_utc(),
            )
        })
        .unwrap();
    format!("max.send:{key}:0")
}

/// The worker's first attempt of every due MAX job starts (the jobs are `running`), then
/// the process dies. For each job in `reached`, the request got to MAX first.
fn attempt_then_die(service: &Service, mock: &MockMax, reached: &[&str]) {
    let mut conn = service.app.store.conn().unwrap();
    let jobs = outbox::claim(
        &mut conn,
        &["max.send"],
        OffsetDateTime::now_utc(),
        time::Duration::minutes(10),
        100,
    )
    .unwrap();
    let api = HttpMaxApi::new(&mock.url, Secret::new(TOKEN), None).unwrap();
    for job in jobs.iter().filter(|j| reached.contains(&j.key.as_str())) {
        let to: Recipient = serde_json::from_value(job.payload["to"].clone()).unwrap();
        let message: NewMessage = serde_json::from_value(job.payload["message"].clone()).unwrap();
        api.send_message(to, &message).unwrap();
    }
}

fn state(service: &Service, key: &str) -> Option<String> {
    outbox::state_of(&service.app.store.conn().unwrap(), key).unwrap()
}

/// Messages the mock took for a user (`user_id`) or chat (`chat_id`).
fn taken(mock: &MockMax, param: &str, id: i64) -> usize {
    let id = id.to_string();
    mock.messages()
        .iter()
        .filter(|m| m.query(param) == Some(id.as_str()))
        .count()
}

async fn all_done(service: &Service) {
    wait_for(Duration::from_secs(20), "MAX jobs done", || {
        open_jobs(service) == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_send_that_reached_max_is_not_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    mock.dialog(USER, DIALOG);
    let service = service(config(dir.path(), &mock.url));
    resident(&service, USER, Some(DIALOG));
    let to_user = queue(&service, "u1", Recipient::User(USER), "Показания приняты");
    let to_group = queue(&service, "g1", Recipient::Chat(GROUP), "Отключение воды");

    attempt_then_die(&service, &mock, &[&to_user, &to_group]);
    assert_eq!(taken(&mock, "user_id", USER), 1);
    let _worker = service.jobs.clone().spawn();
    all_done(&service).await;

    assert_eq!(state(&service, &to_user).as_deref(), Some("done"));
    assert_eq!(state(&service, &to_group).as_deref(), Some("done"));
    assert_eq!(
        taken(&mock, "user_id", USER),
        1,
        "the resident's message twice"
    );
    assert_eq!(
        taken(&mock, "chat_id", GROUP),
        1,
        "the group's message twice"
    );
    // One lookup each: the resident's dialog chat, the group chat.
    let mut looked_in: Vec<_> = mock
        .lookups()
        .iter()
        .map(|l| l.query("chat_id").unwrap().parse::<i64>().unwrap())
        .collect();
    looked_in.sort();
    assert_eq!(looked_in, vec![GROUP, DIALOG]);

    // What the mock answers has the schema's shape and shows the bot's message.
    let answer: Value = ureq::get(format!("{}/messages?chat_id={DIALOG}", mock.url))
        .header("Authorization", TOKEN)
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let validator = schema_validator("MessageList");
    let errors: Vec<String> = validator
        .iter_errors(&answer)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{answer}");
    assert_eq!(answer["messages"][0]["body"]["text"], "Показания приняты");
    assert_eq!(answer["messages"][0]["sender"]["user_id"], BOT_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_send_that_never_reached_max_is_sent_once_and_plain_sends_do_not_look() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    mock.dialog(USER, DIALOG);
    let service = service(config(dir.path(), &mock.url));
    resident(&service, USER, Some(DIALOG));
    let cut_off = queue(&service, "u1", Recipient::User(USER), "Показания приняты");

    attempt_then_die(&service, &mock, &[]);
    // Queued after the restart: an ordinary send, no lookup.
    let plain = queue(&service, "g1", Recipient::Chat(GROUP), "Отключение воды");
    let _worker = service.jobs.clone().spawn();
    all_done(&service).await;

    assert_eq!(state(&service, &cut_off).as_deref(), Some("done"));
    assert_eq!(state(&service, &plain).as_deref(), Some("done"));
    assert_eq!(taken(&mock, "user_id", USER), 1);
    assert_eq!(taken(&mock, "chat_id", GROUP), 1);
    let lookups = mock.lookups();
    assert_eq!(lookups.len(), 1, "{lookups:?}");
    assert_eq!(
        lookups[0].query("chat_id"),
        Some(DIALOG.to_string().as_str())
    );
    // The lookup came before the send.
    let sent = mock.messages();
    let to_user = sent.iter().find(|m| m.query("user_id").is_some()).unwrap();
    assert!(lookups[0].at <= to_user.at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_lookup_is_tried_again_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let failed = Arc::new(AtomicUsize::new(0));
    let mock = {
        let failed = failed.clone();
        MockMax::start(move |r, _| {
            if r.method == "GET" && r.path == "/messages" && failed.load(Ordering::SeqCst) < 2 {
                failed.fetch_add(1, Ordering::SeqCst);
                return (503, serde_json::json!({}), Vec::new());
            }
            ok_reply(r)
        })
    };
    mock.dialog(USER, DIALOG);
    let service = service(config(dir.path(), &mock.url));
    resident(&service, USER, Some(DIALOG));
    let key = queue(&service, "u1", Recipient::User(USER), "Показания приняты");

    attempt_then_die(&service, &mock, &[&key]);
    let _worker = service.jobs.clone().spawn();
    all_done(&service).await;

    assert_eq!(state(&service, &key).as_deref(), Some("done"));
    assert_eq!(
        mock.lookups().len(),
        3,
        "two failed lookups, then one answered"
    );
    assert_eq!(
        taken(&mock, "user_id", USER),
        1,
        "sent again though MAX had it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_max_cannot_be_asked_the_message_is_sent_anyway_after_a_few_tries() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| {
        if r.method == "GET" && r.path == "/messages" {
            return (500, serde_json::json!({}), Vec::new());
        }
        ok_reply(r)
    });
    mock.dialog(USER, DIALOG);
    let service = service(config(dir.path(), &mock.url));
    resident(&service, USER, Some(DIALOG));
    let key = queue(&service, "u1", Recipient::User(USER), "Показания приняты");

    attempt_then_die(&service, &mock, &[]);
    let _worker = service.jobs.clone().spawn();
    all_done(&service).await;

    assert_eq!(state(&service, &key).as_deref(), Some("done"));
    assert_eq!(
        mock.lookups().len() as u32,
        gosdom::bot::reconcile::LOOKUP_TRIES
    );
    assert_eq!(taken(&mock, "user_id", USER), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_known_dialog_chat_the_message_is_sent_again_unchecked() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    let service = service(config(dir.path(), &mock.url));
    resident(&service, USER, None);
    let key = queue(&service, "u1", Recipient::User(USER), "Показания приняты");

    attempt_then_die(&service, &mock, &[&key]);
    let _worker = service.jobs.clone().spawn();
    all_done(&service).await;

    assert_eq!(state(&service, &key).as_deref(), Some("done"));
    assert!(mock.lookups().is_empty());
    // The documented fallback: at-least-once.
    assert_eq!(taken(&mock, "user_id", USER), 2);
}

#[test]
fn the_sandbox_max_lists_what_the_bot_sent_to_a_chat() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), "http://127.0.0.1:1");
    config.max.token = Secret::new("");
    let service = Service::prepare(config).unwrap();
    resident(&service, USER, Some(DIALOG));
    let sim = gosdom::connectors::max::connector(
        &service.app.config,
        &service.app.store,
        &service.app.clock,
    )
    .unwrap();
    let before = OffsetDateTime::now_utc().unix_timestamp() * 1000 - 1000;
    sim.send_message(Recipient::User(USER), &NewMessage::text("первое", None))
        .unwrap();
    sim.send_message(Recipient::Chat(GROUP), &NewMessage::text("в чат", None))
        .unwrap();
    sim.send_message(Recipient::User(USER), &NewMessage::text("второе", None))
        .unwrap();

    let listed = sim.recent_messages(DIALOG, 50).unwrap();
    let texts: Vec<_> = listed.iter().map(|m| m.text.clone().unwrap()).collect();
    assert_eq!(texts, ["второе", "первое"]);
    assert!(listed
        .iter()
        .all(|m| m.sender_is_bot && m.timestamp_ms >= before));
    let group = sim.recent_messages(GROUP, 50).unwrap();
    assert_eq!(group.len(), 1);
    assert_eq!(sim.recent_messages(DIALOG, 1).unwrap().len(), 1);
}
