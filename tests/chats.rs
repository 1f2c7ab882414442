//! House chats and announcements from the outside: binding a chat with a one-time code
//! sent in it (MAX fixtures, a mock MAX on 127.0.0.1), removal, who sees a chat's link,
//! notification settings, and an announcement to 500 residents within MAX's limits that
//! survives a restart without duplicates.

#[path = "common/chats.rs"]
mod chats_common;
mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chats_common::*;
use common::{config, count, fixture, open_jobs, service, wait_for, MockMax, TOKEN};
use gosdom::connectors::max::api::HttpMaxApi;
use gosdom::connectors::max::pace::{PaceClock, Pacer, VirtualClock};
use gosdom::domain::console::Role;
use rocket::http::{Method, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

const CHAT: i64 = -70801090403050;

fn house_chat(service: &gosdom::server::Service, house: i64) -> Option<i64> {
    service
        .app
        .store
        .conn()
        .unwrap()
        .query_row(
            "SELECT max_chat_id FROM houses WHERE id = ?1",
            [house],
            |r| r.get(0),
        )
        .unwrap()
}

fn chat_answers(mock: &MockMax, chat: i64) -> Vec<String> {
    mock.messages()
        .iter()
        .filter(|m| m.query("chat_id") == Some(&chat.to_string()))
        .map(|m| m.body["text"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_is_bound_with_a_one_time_code_and_removal_unbinds_it() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| reply_with_chats(r));
    let service = service(config(dir.path(), &mock.url));
    let store = service.app.store.clone();
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();
    let (house, org) = houses(&store)[0];
    let other_house = houses(&store)[1].0;
    add_staff(&store, "chief", Role::Admin, Some(org));
    add_staff(&store, "dispatcher", Role::Operator, Some(org));

    // The bot is added to the chat, a neighbour joins.
    deliver(&client, &fixture("bot_added")).await;
    deliver(&client, &fixture("user_added")).await;

    // An operator may not make codes; without the CSRF token nobody may.
    let csrf = sign_in(&client, "dispatcher").await;
    let path = format!("/houses/{house}/chat/code");
    let (status, body) = console_post(&client, &path, Some(&csrf), json!({})).await;
    assert_eq!(status, Status::Forbidden, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    let csrf = sign_in(&client, "chief").await;
    let (status, body) = console_post(&client, &path, None, json!({})).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(body["error"]["code"], "csrf_invalid");

    let (status, made) = console_post(&client, &path, Some(&csrf), json!({})).await;
    assert_eq!(status, Status::Created, "{made}");
    let code = made["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 9, "{code}");
    assert_eq!(
        count(&service, "SELECT COUNT(*) FROM chat_bind_codes"),
        1,
        "stored"
    );
    let stored_plain = count(
        &service,
        &format!("SELECT COUNT(*) FROM chat_bind_codes WHERE code_hash LIKE '%{code}%'"),
    );
    assert_eq!(stored_plain, 0, "only the hash is kept");

    // A wrong code is refused, in Russian, in the chat.
    deliver(&client, &group_message(CHAT, "/bind ZZZZ-ZZZZ", 1)).await;
    wait_for(Duration::from_secs(10), "the refusal", || {
        chat_answers(&mock, CHAT).len() == 1
    })
    .await;
    assert!(chat_answers(&mock, CHAT)[0].contains("Код не подошёл"));
    assert_eq!(house_chat(&service, house), None);

    // The right one binds, typed in lower case without the dash.
    let typed = code.replace('-', "").to_lowercase();
    deliver(&client, &group_message(CHAT, &format!("/bind {typed}"), 2)).await;
    wait_for(Duration::from_secs(10), "the binding", || {
        chat_answers(&mock, CHAT).len() == 2
    })
    .await;
    assert_eq!(house_chat(&service, house), Some(CHAT));
    let address: String = store
        .conn()
        .unwrap()
        .query_row("SELECT address FROM houses WHERE id = ?1", [house], |r| {
            r.get(0)
        })
        .unwrap();
    let answer = &chat_answers(&mock, CHAT)[1];
    assert!(
        answer.contains("привязан к дому") && answer.contains(&address),
        "{answer}"
    );

    // The invite link is fetched from MAX and shown in the console.
    wait_for(Duration::from_secs(10), "the link", || {
        count(
            &service,
            "SELECT COUNT(*) FROM max_chats WHERE link IS NOT NULL",
        ) == 1
    })
    .await;
    assert!(mock
        .received()
        .iter()
        .any(|r| r.method == "GET" && r.path == format!("/chats/{CHAT}")));
    let (_, listed) = console_get(&client, "/houses").await;
    let row = listed["houses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == house)
        .unwrap()
        .clone();
    assert_eq!(row["chat_id"], CHAT);
    assert_eq!(row["chat_title"], "chat title");
    assert!(row["chat_link"]
        .as_str()
        .unwrap()
        .starts_with("https://max.ru/join/"));

    // The used code does not work again, not even in another chat for another house.
    deliver(&client, &group_message(-42, &format!("/bind {code}"), 3)).await;
    wait_for(Duration::from_secs(10), "the second refusal", || {
        chat_answers(&mock, -42).len() == 1
    })
    .await;
    assert!(chat_answers(&mock, -42)[0].contains("Код не подошёл"));
    assert_eq!(house_chat(&service, other_house), None);
    assert_eq!(house_chat(&service, house), Some(CHAT));

    // The bot is removed: the house has no chat, and the console says why.
    deliver(&client, &fixture("bot_removed")).await;
    wait_for(Duration::from_secs(10), "the unbinding", || {
        house_chat(&service, house).is_none()
    })
    .await;
    let (_, listed) = console_get(&client, "/houses").await;
    let row = listed["houses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == house)
        .unwrap()
        .clone();
    assert!(row["chat_id"].is_null());
    assert!(row["chat_removed_at"].is_string(), "{row}");

    // Admins bind and unbind from the console too; each change is audited.
    let mut again = fixture("bot_added");
    again["timestamp"] = json!(1775025609999i64);
    deliver(&client, &again).await;
    wait_for(Duration::from_secs(10), "the chat back", || {
        count(
            &service,
            "SELECT COUNT(*) FROM max_chats WHERE status = 'active'",
        ) == 1
    })
    .await;
    let (_, free) = console_get(&client, "/chats/free").await;
    assert_eq!(free["chats"][0]["chat_id"], CHAT, "{free}");
    let bind = format!("/houses/{other_house}/chat");
    let (status, body) =
        console_post(&client, &bind, Some(&csrf), json!({ "chat_id": CHAT })).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(house_chat(&service, other_house), Some(CHAT));
    let (status, _) = console_post(&client, &bind, Some(&csrf), json!({ "chat_id": CHAT })).await;
    assert_eq!(status, Status::Conflict, "one house per chat");
    let (status, _) =
        console_post(&client, &format!("{bind}/unbind"), Some(&csrf), json!({})).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(house_chat(&service, other_house), None);
    for action in ["chat.code", "chat.bind", "chat.unbind", "chat.bot_removed"] {
        assert!(
            count(
                &service,
                &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")
            ) >= 1,
            "{action}"
        );
    }
    let (status, _) =
        console_post(&client, "/houses/999999/chat/code", Some(&csrf), json!({})).await;
    assert_eq!(status, Status::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_sees_only_the_chat_link_of_their_own_house() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| reply_with_chats(r));
    let service = service(config(dir.path(), &mock.url));
    let store = service.app.store.clone();
    let client = Client::tracked(service.rocket()).await.unwrap();
    let all = houses(&store);
    let (house_a, house_b, house_c) = (all[0].0, all[1].0, all[2].0);
    bound_chat(&store, house_a, -1001, "https://max.ru/join/house-a");
    bound_chat(&store, house_b, -1002, "https://max.ru/join/house-b");
    let premise_a = premise_of(&store, house_a);
    let premise_b = premise_of(&store, house_b);
    let premise_c = premise_of(&store, house_c);
    resident(&store, 7001, premise_a, "linked");
    // A proof by account the УО has not checked yet does not show the chat.
    let pending = resident(&store, 7002, premise_b, "pending");
    let no_chat = resident(&store, 7003, premise_c, "linked");

    let token = session(&client, 7001).await;
    let (status, list) =
        resident_call(&client, Method::Get, "/api/v1/properties", &token, None).await;
    assert_eq!(status, Status::Ok);
    let text = list.to_string();
    assert!(
        text.contains("house-a") && !text.contains("house-b"),
        "{text}"
    );
    let (_, card) = resident_call(
        &client,
        Method::Get,
        &format!("/api/v1/properties/{premise_a}"),
        &token,
        None,
    )
    .await;
    assert_eq!(card["house_chat"]["link"], "https://max.ru/join/house-a");
    let (status, _) = resident_call(
        &client,
        Method::Get,
        &format!("/api/v1/properties/{premise_b}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, Status::NotFound, "house B's card is not theirs");

    let token = session(&client, 7002).await;
    let (_, list) = resident_call(&client, Method::Get, "/api/v1/properties", &token, None).await;
    assert!(!list.to_string().contains("house-b"), "{list}");
    let (_, card) = resident_call(
        &client,
        Method::Get,
        &format!("/api/v1/properties/{premise_b}"),
        &token,
        None,
    )
    .await;
    assert!(card["house_chat"].is_null(), "{card}");
    assert!(!card.to_string().contains("house-b"));
    let path = format!("/api/v1/properties/{premise_b}/chat-request");
    let (status, _) = resident_call(&client, Method::Post, &path, &token, None).await;
    assert_eq!(status, Status::Conflict, "pending {pending}");

    // Without a chat the resident asks the УО for one; the console counts the wish once.
    let token = session(&client, 7003).await;
    let (_, card) = resident_call(
        &client,
        Method::Get,
        &format!("/api/v1/properties/{premise_c}"),
        &token,
        None,
    )
    .await;
    assert!(card["house_chat"].is_null());
    assert_eq!(card["house_chat_requested"], false);
    let path = format!("/api/v1/properties/{premise_c}/chat-request");
    let (status, _) = resident_call(&client, Method::Post, &path, &token, None).await;
    assert_eq!(status, Status::Created, "{no_chat}");
    let (status, _) = resident_call(&client, Method::Post, &path, &token, None).await;
    assert_eq!(status, Status::Ok);
    let (_, card) = resident_call(
        &client,
        Method::Get,
        &format!("/api/v1/properties/{premise_c}"),
        &token,
        None,
    )
    .await;
    assert_eq!(card["house_chat_requested"], true);
    add_staff(&store, "op", Role::Operator, Some(all[2].1));
    sign_in(&client, "op").await;
    let (_, listed) = console_get(&client, "/houses").await;
    let row = listed["houses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == house_c)
        .unwrap()
        .clone();
    assert_eq!(row["chat_wishes"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_settings_are_kept_refuse_bad_input_and_follow_stop_and_start() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| reply_with_chats(r));
    let service = service(config(dir.path(), &mock.url));
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();
    let token = session(&client, 123456789).await;
    let path = "/api/v1/notifications";

    let (status, settings) = resident_call(&client, Method::Get, path, &token, None).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        settings,
        json!({"requests": true, "readings": true, "house_notices": true})
    );
    let (status, settings) = resident_call(
        &client,
        Method::Put,
        path,
        &token,
        Some(r#"{"readings": false}"#),
    )
    .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(settings["readings"], false);
    assert_eq!(settings["requests"], true);

    for (body, code) in [
        (r#"{"readings": "нет"}"#, "invalid_settings"),
        (r#"{"sms": true}"#, "invalid_settings"),
        (r#"{}"#, "invalid_settings"),
        (r#"[true]"#, "invalid_settings"),
        ("not json", "invalid_json"),
    ] {
        let (status, error) = resident_call(&client, Method::Put, path, &token, Some(body)).await;
        assert!(status.class().is_client_error(), "{body}: {status}");
        assert_eq!(error["error"]["code"], code, "{body}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            message.chars().any(|c| ('а'..='я').contains(&c)),
            "{message}"
        );
    }
    let (_, settings) = resident_call(&client, Method::Get, path, &token, None).await;
    assert_eq!(settings["readings"], false, "nothing changed by bad input");

    // `/stop` in the dialog: everything off, said in Russian; `/start` brings it back.
    let mut stop = fixture("message_created");
    stop["message"]["recipient"] = json!({"chat_id": 5, "chat_type": "dialog"});
    stop["message"]["body"]["text"] = json!("/stop");
    stop["message"].as_object_mut().unwrap().remove("link");
    deliver(&client, &stop).await;
    wait_for(Duration::from_secs(10), "the answer to /stop", || {
        open_jobs(&service) == 0 && !mock.messages().is_empty()
    })
    .await;
    let answer = mock.messages()[0].body["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(answer.contains("Уведомления выключены") && answer.contains("авариях"));
    let (_, settings) = resident_call(&client, Method::Get, path, &token, None).await;
    assert_eq!(
        settings,
        json!({"requests": false, "readings": false, "house_notices": false})
    );
    let mut start = stop.clone();
    start["message"]["body"]["text"] = json!("/start");
    start["message"]["body"]["mid"] = json!("mid.start");
    start["timestamp"] = json!(1775025604999i64);
    deliver(&client, &start).await;
    wait_for(Duration::from_secs(10), "the answer to /start", || {
        mock.messages().len() == 2
    })
    .await;
    assert!(mock.messages()[1].body["text"]
        .as_str()
        .unwrap()
        .contains("Уведомления включены"));
    let (_, settings) = resident_call(&client, Method::Get, path, &token, None).await;
    assert_eq!(
        settings,
        json!({"requests": true, "readings": false, "house_notices": true}),
        "the topics as they were"
    );
}

fn most_in_one_second(times: &[Duration]) -> usize {
    times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| **t >= *start && **t < *start + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// The virtual pace clock, until told to crash: then a job that waits for its turn dies
/// before it calls MAX, as in a process killed mid-way.
struct CrashingClock {
    inner: Arc<VirtualClock>,
    crash: AtomicBool,
    crashed: AtomicUsize,
}

impl PaceClock for CrashingClock {
    fn now(&self) -> Duration {
        self.inner.now()
    }

    fn sleep(&self, duration: Duration) {
        if self.crash.load(Ordering::SeqCst) {
            self.crashed.fetch_add(1, Ordering::SeqCst);
            panic!("simulated crash before calling MAX");
        }
        self.inner.sleep(duration);
    }
}

/// A service on `dir` whose MAX calls go to `mock`, paced on `clock`, one job at a time (so
/// a call reaches the mock at the virtual time it was allowed).
fn paced_service(
    dir: &std::path::Path,
    mock: &MockMax,
    clock: Arc<dyn PaceClock>,
) -> gosdom::server::Service {
    let mut service = service(config(dir, &mock.url));
    let api =
        Arc::new(HttpMaxApi::new(&mock.url, gosdom::config::Secret::new(TOKEN), None).unwrap());
    let mut jobs = service.jobs.clone().with_concurrency(1);
    gosdom::bot::register_with(&mut jobs, &service.app, api, Arc::new(Pacer::new(clock)));
    service.jobs = jobs;
    service
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_reaches_500_residents_once_within_limits_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let mock = MockMax::start_on(
        0,
        |r, _| reply_with_chats(r),
        Some(clock.clone() as Arc<dyn PaceClock>),
    );
    let crashing = Arc::new(CrashingClock {
        inner: clock.clone(),
        crash: AtomicBool::new(false),
        crashed: AtomicUsize::new(0),
    });
    let service = paced_service(dir.path(), &mock, crashing.clone());
    let store = service.app.store.clone();
    let all = houses(&store);
    let org = all[0].1;
    let targets: Vec<i64> = all
        .iter()
        .filter(|h| h.1 == org)
        .map(|h| h.0)
        .take(3)
        .collect();
    assert_eq!(targets.len(), 3);
    for (i, house) in targets.iter().enumerate() {
        bound_chat(&store, *house, -9000 - i as i64, "https://max.ru/join/x");
    }
    let mut expected = Vec::new();
    for i in 0..500 {
        let premise = premise_of(&store, targets[i % 3]);
        let user = 20_000 + i as i64;
        resident(&store, user, premise, "linked");
        expected.push(user.to_string());
    }
    // Someone who turned house notices off, and someone of no target house, get nothing.
    let off = resident(&store, 30_001, premise_of(&store, targets[0]), "linked");
    store
        .write_blocking(|tx| {
            tx.execute(
                "UPDATE max_users SET notify_notices = 0 WHERE id = ?1",
                [off],
            )?;
            Ok(())
        })
        .unwrap();

    add_staff(&store, "dispatcher", Role::Operator, Some(org));
    let client = Client::tracked(service.rocket()).await.unwrap();
    let csrf = sign_in(&client, "dispatcher").await;
    let (status, made) = console_post(
        &client,
        "/announcements",
        Some(&csrf),
        json!({"kind": "outage", "title": "Холодная вода",
               "text": "Плановый ремонт стояков.", "houses": targets,
               "starts_at": "2026-12-05T07:00:00Z", "ends_at": "2026-12-05T15:00:00Z"}),
    )
    .await;
    assert_eq!(status, Status::Created, "{made}");
    let id = made["id"].as_i64().unwrap();

    // Half-way the service dies with a message in hand; a new one on the same data goes on.
    let worker = service.jobs.clone().spawn();
    wait_for(Duration::from_secs(60), "the first 150 messages", || {
        mock.messages().len() >= 150
    })
    .await;
    crashing.crash.store(true, Ordering::SeqCst);
    wait_for(Duration::from_secs(10), "the crash", || {
        crashing.crashed.load(Ordering::SeqCst) > 0
    })
    .await;
    worker.abort();
    assert!(
        count(
            &service,
            "SELECT COUNT(*) FROM outbox WHERE state = 'running'"
        ) >= 1
    );
    let before = mock.messages().len();
    assert!(before < 503, "stopped mid-way: {before}");
    drop(client);
    drop(service);
    // The restart takes a moment of (virtual) time.
    clock.sleep(Duration::from_secs(1));
    let service = paced_service(dir.path(), &mock, clock.clone());
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();
    wait_for(Duration::from_secs(60), "every message", || {
        count(
            &service,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE \
                 'max.send:announcement:{id}:%' AND state = 'done'"
            ),
        ) == 503
    })
    .await;

    let sent = mock.messages();
    let mut per_user: HashMap<String, usize> = HashMap::new();
    let mut per_chat: HashMap<String, Vec<Duration>> = HashMap::new();
    for m in &sent {
        let lane = m
            .query("user_id")
            .map(|u| format!("user:{u}"))
            .or_else(|| m.query("chat_id").map(|c| format!("chat:{c}")))
            .unwrap();
        if let Some(user) = m.query("user_id") {
            *per_user.entry(user.to_string()).or_default() += 1;
        }
        per_chat.entry(lane).or_default().push(m.at);
    }
    assert_eq!(per_user.len(), 500, "every resident");
    assert!(per_user.values().all(|n| *n == 1), "each exactly once");
    assert!(expected.iter().all(|u| per_user.contains_key(u)));
    assert!(!per_user.contains_key("30001"), "opted out");
    assert_eq!(sent.len(), 503, "500 residents and 3 chats, no duplicates");
    let text = sent[0].body["text"].as_str().unwrap();
    assert!(
        text.contains("Плановое отключение") && text.contains("10:00"),
        "{text}"
    );
    let all_times: Vec<Duration> = sent.iter().map(|m| m.at).collect();
    assert!(most_in_one_second(&all_times) <= 30, "30 a second overall");
    assert!(per_chat.values().all(|t| most_in_one_second(t) <= 2));
    let span = *all_times.iter().max().unwrap() - *all_times.iter().min().unwrap();
    assert!(
        span >= Duration::from_secs(16),
        "paced, not bursted: {span:?}"
    );

    // The console's figures.
    sign_in(&client, "dispatcher").await;
    let (_, listed) = console_get(&client, "/announcements").await;
    let item = &listed["announcements"][0];
    assert_eq!(item["id"], id);
    assert_eq!(item["residents"]["planned"], 500, "{item}");
    assert_eq!(item["residents"]["sent"], 500);
    assert_eq!(item["residents"]["failed"], 0);
    assert_eq!(item["residents"]["skipped_opted_out"], 1);
    assert_eq!(item["chats"]["sent"], 3);
    assert_eq!(item["status"], "queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn general_notices_come_once_an_hour_and_emergencies_ignore_the_opt_out() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| reply_with_chats(r));
    let service = service(config(dir.path(), &mock.url));
    let store = service.app.store.clone();
    let all = houses(&store);
    let (house, org) = all[0];
    let premise = premise_of(&store, house);
    let keen = resident(&store, 40_001, premise, "linked");
    let stopped = resident(&store, 40_002, premise, "linked");
    store
        .write_blocking(|tx| {
            tx.execute("UPDATE max_users SET notify = 0 WHERE id = ?1", [stopped])?;
            Ok(())
        })
        .unwrap();
    add_staff(&store, "dispatcher", Role::Operator, Some(org));
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();
    let csrf = sign_in(&client, "dispatcher").await;
    let post = |body: Value| {
        let client = &client;
        let csrf = csrf.clone();
        async move { console_post(client, "/announcements", Some(&csrf), body).await }
    };

    for title in ["Собрание", "Субботник"] {
        let (status, made) = post(json!({"kind": "general", "title": title,
            "text": "В субботу в 12:00.", "houses": [house]}))
        .await;
        assert_eq!(status, Status::Created, "{made}");
        wait_for(Duration::from_secs(10), "the fan-out", || {
            open_jobs(&service) == 0
                && count(
                    &service,
                    "SELECT COUNT(*) FROM announcements WHERE status <> 'queued'",
                ) == 0
        })
        .await;
    }
    let (status, _) = post(json!({"kind": "emergency", "title": "Прорыв трубы",
        "text": "Вода отключена до устранения аварии.", "all_houses": true}))
    .await;
    assert_eq!(status, Status::Created);
    wait_for(Duration::from_secs(10), "the emergency", || {
        open_jobs(&service) == 0
            && count(
                &service,
                "SELECT COUNT(*) FROM announcements WHERE status <> 'queued'",
            ) == 0
    })
    .await;

    let to = |user: &str| -> Vec<String> {
        mock.messages()
            .iter()
            .filter(|m| m.query("user_id") == Some(user))
            .map(|m| m.body["text"].as_str().unwrap().to_string())
            .collect()
    };
    let keen_got = to("40001");
    assert_eq!(keen_got.len(), 2, "{keen_got:?} ({keen})");
    assert!(keen_got[0].contains("Собрание") && keen_got[1].contains("АВАРИЯ"));
    let stopped_got = to("40002");
    assert_eq!(stopped_got.len(), 1, "{stopped_got:?}");
    assert!(stopped_got[0].contains("АВАРИЯ"));

    let (_, listed) = console_get(&client, "/announcements").await;
    let items = listed["announcements"].as_array().unwrap();
    let second = items.iter().find(|a| a["title"] == "Субботник").unwrap();
    assert_eq!(second["residents"]["skipped_hourly_limit"], 1, "{second}");
    assert_eq!(second["residents"]["skipped_opted_out"], 1);
    assert_eq!(second["residents"]["sent"], 0);

    // Bad drafts are refused with a reason; scheduled ones can be cancelled.
    let (status, error) = post(json!({"kind": "outage", "title": "Свет", "text": "Ремонт.",
        "houses": [house]}))
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(error["error"]["code"], "period_required");
    let (status, error) = post(json!({"kind": "general", "title": "Чужой дом", "text": "x",
        "houses": [999999]}))
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(error["error"]["code"], "unknown_house");
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, made) = post(json!({"kind": "general", "title": "Завтра", "text": "x",
        "houses": [house], "send_at": later}))
    .await;
    assert_eq!(status, Status::Created);
    let path = format!("/announcements/{}/cancel", made["id"]);
    let (status, _) = console_post(&client, &path, Some(&csrf), json!({})).await;
    assert_eq!(status, Status::Ok);
    let (_, listed) = console_get(&client, "/announcements").await;
    assert_eq!(listed["announcements"][0]["status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_announcement_routes_need_a_session_and_chats_need_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| reply_with_chats(r));
    let service = service(config(dir.path(), &mock.url));
    let store = service.app.store.clone();
    let client = Client::tracked(service.rocket()).await.unwrap();
    let mut routes = gosdom::web::console::houses::routes();
    routes.extend(gosdom::web::console::announcements::routes());
    let requests: Vec<(Method, String)> = routes
        .into_iter()
        .map(|r| (r.method, r.uri.path().to_string().replace("<id>", "1")))
        .collect();
    for (method, path) in &requests {
        let res = client
            .req(*method, format!("/api/console/v1{path}"))
            .header(rocket::http::ContentType::JSON)
            .body("{}")
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Unauthorized, "{method} {path}");
    }

    let (house, org) = houses(&store)[0];
    add_staff(&store, "dispatcher", Role::Operator, Some(org));
    let csrf = sign_in(&client, "dispatcher").await;
    for path in [
        format!("/houses/{house}/chat/code"),
        format!("/houses/{house}/chat"),
        format!("/houses/{house}/chat/unbind"),
    ] {
        let (status, _) = console_post(&client, &path, Some(&csrf), json!({"chat_id": -5})).await;
        assert_eq!(status, Status::Forbidden, "{path}");
    }
    let (status, _) = console_get(&client, "/chats/free").await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(count(&service, "SELECT COUNT(*) FROM chat_bind_codes"), 0);
    // Announcements are an operator's work.
    let (status, _) = console_get(&client, "/announcements").await;
    assert_eq!(status, Status::Ok);
}

/// The migration files numbered `from..=to` that exist, applied in order to `conn`.
fn apply_migrations(conn: &rusqlite::Connection, from: u32, to: u32) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for version in from..=to {
        let Some(file) = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("V{version}__"))
            })
        else {
            continue;
        };
        conn.execute_batch(&std::fs::read_to_string(file).unwrap())
            .unwrap();
    }
}

#[test]
fn the_chats_migration_keeps_each_users_general_switch_and_turns_every_topic_on() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    apply_migrations(&conn, 1, 10);
    conn.execute_batch(
        "INSERT INTO max_users (user_id, notify, stopped_at, created_at, updated_at) VALUES \
         (1, 1, NULL, 'x', 'x'), (2, 0, '2026-11-01T00:00:00Z', 'x', 'x'); \
         INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) \
         VALUES ('УО', '1', '1', 'x', 'x'); \
         INSERT INTO houses (organisation_id, address, max_chat_id, created_at, updated_at) \
         VALUES (1, 'д. 1', -5, 'x', 'x');",
    )
    .unwrap();
    apply_migrations(&conn, 11, 11);
    let rows: Vec<(i64, i64, i64, i64, i64)> = conn
        .prepare(
            "SELECT user_id, notify, notify_requests, notify_readings, notify_notices \
             FROM max_users ORDER BY user_id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, [(1, 1, 1, 1, 1), (2, 0, 1, 1, 1)]);
    let bound: Option<i64> = conn
        .query_row("SELECT max_chat_id FROM houses", [], |r| r.get(0))
        .unwrap();
    assert_eq!(bound, Some(-5), "a bound chat stays bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_cut_short_and_run_again_queues_each_message_once() {
    use gosdom::bot::announcements::BotNotices;
    use gosdom::domain::announcements::{self, fan_out_step, Draft, Kind, Step};
    use gosdom::domain::console::Scope;

    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| reply_with_chats(r));
    let service = service(config(dir.path(), &mock.url));
    let store = service.app.store.clone();
    let (house, org) = houses(&store)[0];
    let premise = premise_of(&store, house);
    for i in 0..450 {
        resident(&store, 50_000 + i, premise, "linked");
    }
    let now = time::OffsetDateTime::now_utc();
    let draft = Draft {
        kind: Kind::General,
        title: "Собрание".into(),
        text: "В субботу.".into(),
        starts_at: None,
        ends_at: None,
        houses: vec![house],
        all_houses: false,
        organisation_id: None,
        send_at: None,
    };
    let id = store
        .write_blocking(|tx| {
            announcements::create(tx, Scope::Organisation(org), "staff:1", &draft, now)
                .map_err(|e| gosdom::store::StoreError::Join(e.to_string()))
        })
        .unwrap();
    let offset = time::UtcOffset::UTC;
    let step = |store: &gosdom::store::Store| {
        store
            .write_blocking(|tx| fan_out_step(tx, id, offset, &BotNotices, now))
            .unwrap()
    };
    let queued = || {
        count(
            &service,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE \
                 'max.send:announcement:{id}:%'"
            ),
        )
    };

    // The first batch is committed, then the process dies.
    assert_eq!(step(&store), Step::More);
    assert_eq!(queued(), announcements::BATCH as i64);
    // Even if the cursor were lost, running again from the start adds no duplicate.
    store
        .write_blocking(|tx| {
            tx.execute("UPDATE announcements SET cursor = 0 WHERE id = ?1", [id])?;
            Ok(())
        })
        .unwrap();
    while step(&store) == Step::More {}
    assert_eq!(queued(), 450);
    assert_eq!(
        count(
            &service,
            &format!(
                "SELECT COUNT(DISTINCT max_user_id) FROM announcement_deliveries \
                 WHERE announcement_id = {id}"
            )
        ),
        450
    );
    assert_eq!(step(&store), Step::Done, "a finished fan-out does nothing");
    assert_eq!(queued(), 450);
}
