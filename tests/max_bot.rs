//! The MAX bot from the outside: webhook deliveries as MAX makes them, replies as a mock
//! MAX Bot API on 127.0.0.1 receives them.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use gosdom::connectors::max::api::HttpMaxApi;
use gosdom::connectors::max::pace::{PaceClock, Pacer, VirtualClock};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

async fn post(client: &Client, body: &str, secret: Option<&str>) -> (Status, String) {
    let mut request = client
        .post("/bot/webhook")
        .header(ContentType::JSON)
        .body(body);
    if let Some(secret) = secret {
        request = request.header(Header::new("X-Max-Bot-Api-Secret", secret.to_string()));
    }
    let response = request.dispatch().await;
    let status = response.status();
    (status, response.into_string().await.unwrap_or_default())
}

fn dialog_message(user_id: i64, n: usize) -> Value {
    json!({
        "update_type": "message_created",
        "timestamp": 1775053255737i64 + n as i64,
        "message": {
            "recipient": {"chat_id": user_id + 1, "chat_type": "dialog", "user_id": BOT_ID},
            "timestamp": 1775053255737i64 + n as i64,
            "body": {"mid": format!("mid.{user_id}.{n}"), "seq": n, "text": format!("вопрос {n}")},
            "sender": {"user_id": user_id, "first_name": "Анна", "is_bot": false}
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_is_taken_with_the_secret_and_refused_without() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    let service = service(config(dir.path(), &mock.url));
    let client = Client::tracked(service.rocket()).await.unwrap();

    for (name, body) in all_fixtures() {
        let (status, error) = post(&client, &body, None).await;
        assert_eq!(status, Status::Unauthorized, "{name} without secret");
        let error: Value = serde_json::from_str(&error).unwrap();
        assert_eq!(error["error"]["code"], "unauthorized");
        let (status, _) = post(&client, &body, Some("hook_secret-124")).await;
        assert_eq!(status, Status::Unauthorized, "{name} with a wrong secret");
        let (status, _) = post(&client, &body, Some(SECRET)).await;
        assert_eq!(status, Status::Ok, "{name}");
    }
    let stored = count(&service, "SELECT COUNT(*) FROM max_updates");
    assert_eq!(stored as usize, all_fixtures().len());

    // What MAX sends but its schema does not show: a voice message without `message`,
    // unknown types and fields.
    for body in [
        json!({"update_type": "message_created", "timestamp": 1775025604499i64, "user_id": 42}),
        json!({"update_type": "message_reaction_added", "timestamp": 1, "whatever": [1]}),
        json!({"update_type": "bot_started", "timestamp": 2, "chat_id": "77",
               "user": {"user_id": "77", "name": "Старое поле"}, "payload": "readings"}),
    ] {
        let (status, _) = post(&client, &body.to_string(), Some(SECRET)).await;
        assert_eq!(status, Status::Ok, "{body}");
    }
    let (status, _) = post(&client, "not json", Some(SECRET)).await;
    assert_eq!(status, Status::BadRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_started_gets_one_welcome_with_the_app_button_that_matches_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    let service = service(config(dir.path(), &mock.url));
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();

    let started = fixture("bot_started").to_string();
    for _ in 0..2 {
        let (status, _) = post(&client, &started, Some(SECRET)).await;
        assert_eq!(status, Status::Ok);
    }
    wait_for(Duration::from_secs(10), "the welcome", || {
        !mock.messages().is_empty() && open_jobs(&service) == 0
    })
    .await;
    // Posted twice, handled once.
    let sent = mock.received();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let welcome = &sent[0];
    assert_eq!(
        (welcome.method.as_str(), welcome.path.as_str()),
        ("POST", "/messages")
    );
    assert_eq!(welcome.authorization.as_deref(), Some(TOKEN));
    assert_eq!(welcome.query("user_id"), Some("123456789"));
    assert!(welcome.query("access_token").is_none() && welcome.query("v").is_none());

    let validator = schema_validator("NewMessageBody");
    let errors: Vec<String> = validator
        .iter_errors(&welcome.body)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{}", welcome.body);
    // The validator is not vacuous: the required nullable `link`, and a button's own
    // fields, are checked.
    let mut without_link = welcome.body.clone();
    without_link.as_object_mut().unwrap().remove("link");
    assert!(!validator.is_valid(&without_link));
    let mut bad_button = welcome.body.clone();
    bad_button["attachments"][0]["payload"]["buttons"][0][0]["contact_id"] = json!("bot");
    assert!(!validator.is_valid(&bad_button));
    let mut bad_link = welcome.body.clone();
    bad_link["attachments"][0]["payload"]["buttons"][1][0]
        .as_object_mut()
        .unwrap()
        .remove("url");
    assert!(!validator.is_valid(&bad_link));

    let text = welcome.body["text"].as_str().unwrap();
    assert!(text.contains("John") && text.contains("Открыть"));
    assert!(text.contains("никому не сообщайте коды"));
    let buttons: Vec<&Value> = welcome.body["attachments"][0]["payload"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .collect();
    assert!(buttons
        .iter()
        .any(|b| b["type"] == "open_app" && b["text"] == "Открыть" && b["contact_id"] == BOT_ID));
    assert!(buttons
        .iter()
        .any(|b| b["type"] == "link" && b["url"] == "https://max.ru/dom_bot?startapp"));

    assert_eq!(
        count(
            &service,
            "SELECT COUNT(*) FROM max_users WHERE user_id = 123456789 AND notify = 1"
        ),
        1
    );
    assert_eq!(
        count(
            &service,
            "SELECT COUNT(*) FROM usage_events WHERE kind = 'dialog_started'"
        ),
        1
    );
    assert_eq!(
        count(
            &service,
            "SELECT COUNT(*) FROM usage_events WHERE kind = 'app_button_sent'"
        ),
        1
    );

    // Stopping the bot turns notifications off.
    let mut stopped = fixture("bot_started");
    stopped["update_type"] = json!("bot_stopped");
    let (status, _) = post(&client, &stopped.to_string(), Some(SECRET)).await;
    assert_eq!(status, Status::Ok);
    wait_for(Duration::from_secs(10), "notifications off", || {
        count(&service, "SELECT COUNT(*) FROM max_users WHERE notify = 0") == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_chat_events_are_recorded_and_get_no_reply() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    let service = service(config(dir.path(), &mock.url));
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();

    for name in [
        "bot_added",
        "user_added",
        "user_removed",
        "chat_title_changed",
        "message_created",
    ] {
        let (status, _) = post(&client, &fixture(name).to_string(), Some(SECRET)).await;
        assert_eq!(status, Status::Ok);
    }
    wait_for(Duration::from_secs(10), "handling", || {
        open_jobs(&service) == 0
    })
    .await;
    assert_eq!(count(&service, "SELECT COUNT(*) FROM max_chats WHERE chat_id = -70801090403050 AND status = 'active' AND title = 'Look at me'"), 1);
    assert_eq!(
        count(
            &service,
            "SELECT COUNT(*) FROM max_chat_events WHERE chat_id = -70801090403050"
        ),
        4
    );
    assert_eq!(count(&service, "SELECT COUNT(*) FROM max_chat_events WHERE kind = 'user_added' AND user_id = 234567890 AND actor_id = 123456789"), 1);

    let (status, _) = post(&client, &fixture("bot_removed").to_string(), Some(SECRET)).await;
    assert_eq!(status, Status::Ok);
    wait_for(Duration::from_secs(10), "removal", || {
        count(
            &service,
            "SELECT COUNT(*) FROM max_chats WHERE status = 'removed'",
        ) == 1
    })
    .await;
    assert!(mock.received().is_empty(), "the bot spoke in a group chat");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pressed_button_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    let service = service(config(dir.path(), &mock.url));
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();

    let mut help = fixture("message_callback");
    help["callback"]["payload"] = json!("help");
    help["callback"]["callback_id"] = json!("cb-help-1");
    for body in [fixture("message_callback"), help] {
        let (status, _) = post(&client, &body.to_string(), Some(SECRET)).await;
        assert_eq!(status, Status::Ok);
    }
    wait_for(Duration::from_secs(10), "answers", || {
        open_jobs(&service) == 0
    })
    .await;
    let answers: Vec<_> = mock
        .received()
        .into_iter()
        .filter(|r| r.path == "/answers")
        .collect();
    assert_eq!(answers.len(), 2);
    let validator = schema_validator("CallbackAnswer");
    for answer in &answers {
        assert!(validator.is_valid(&answer.body), "{}", answer.body);
        assert!(answer.body["notification"].is_string());
    }
    assert!(answers
        .iter()
        .any(|a| a.query("callback_id") == Some("cb-help-1")));
    // «Помощь» also sends the help text with the buttons.
    let messages = mock.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].body["attachments"]
        .to_string()
        .contains("open_app"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_wait_out_a_max_outage_and_none_is_sent_twice() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let service = service(config(dir.path(), &format!("http://127.0.0.1:{port}")));
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();

    let mut slowest = Duration::ZERO;
    let deliver = |body: Value| {
        let client = &client;
        async move {
            let started = Instant::now();
            let (status, _) = post(client, &body.to_string(), Some(SECRET)).await;
            assert_eq!(status, Status::Ok);
            started.elapsed()
        }
    };
    // MAX refuses connections.
    slowest = slowest.max(deliver(fixture("bot_started")).await);
    slowest = slowest.max(deliver(dialog_message(42, 1)).await);
    wait_for(Duration::from_secs(10), "failed attempts", || {
        count(&service, "SELECT COUNT(*) FROM outbox WHERE kind = 'max.send' AND last_error LIKE '%unreachable%'") == 2
    })
    .await;

    // MAX is back, but answers 503 three times, then 429 twice, then works.
    let mock = MockMax::start_on(
        port,
        |r, i| match i {
            0..=2 => (
                503,
                json!({"code": "service.unavailable", "message": ""}),
                vec![],
            ),
            3..=4 => (
                429,
                json!({"code": "too.many.requests", "message": ""}),
                vec![("Retry-After", "0".into())],
            ),
            _ => ok_reply(r),
        },
        None,
    );
    slowest = slowest.max(deliver(dialog_message(43, 1)).await);
    wait_for(Duration::from_secs(20), "all replies", || {
        mock.messages().len() >= 3 && open_jobs(&service) == 0
    })
    .await;
    slowest = slowest.max(deliver(dialog_message(44, 1)).await);
    wait_for(Duration::from_secs(10), "the last reply", || {
        mock.messages().len() >= 4
    })
    .await;

    assert!(
        slowest < Duration::from_millis(500),
        "webhook took {slowest:?}"
    );
    let received = mock.received();
    assert!(received.iter().any(|r| r.status == 503) && received.iter().any(|r| r.status == 429));
    let mut recipients: Vec<_> = mock
        .messages()
        .iter()
        .map(|m| m.query("user_id").unwrap().to_string())
        .collect();
    recipients.sort();
    assert_eq!(
        recipients,
        ["123456789", "42", "43", "44"],
        "each reply exactly once"
    );
    assert_eq!(
        count(
            &service,
            "SELECT COUNT(*) FROM outbox WHERE state = 'failed'"
        ),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_chat_gets_two_messages_a_second_and_max_thirty_requests_overall() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let mock = MockMax::start_on(
        0,
        |r, _| ok_reply(r),
        Some(clock.clone() as Arc<dyn PaceClock>),
    );
    let mut service = service(config(dir.path(), &mock.url));
    // One worker, so a request reaches the mock at the virtual time it was allowed.
    let api =
        Arc::new(HttpMaxApi::new(&mock.url, gosdom::config::Secret::new(TOKEN), None).unwrap());
    let mut jobs = service.jobs.clone().with_concurrency(1);
    gosdom::bot::register_with(
        &mut jobs,
        &service.app,
        api,
        Arc::new(Pacer::new(clock.clone())),
    );
    service.jobs = jobs;
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();

    // 100 messages from one chat at once, and 100 people starting the bot.
    for n in 0..100 {
        let (status, _) = post(&client, &dialog_message(42, n).to_string(), Some(SECRET)).await;
        assert_eq!(status, Status::Ok);
        let mut started = fixture("bot_started");
        started["user"]["user_id"] = json!(1000 + n);
        started["user_id"] = json!(1000 + n);
        started["chat_id"] = json!(5000 + n);
        let (status, _) = post(&client, &started.to_string(), Some(SECRET)).await;
        assert_eq!(status, Status::Ok);
    }
    wait_for(Duration::from_secs(60), "200 replies", || {
        mock.messages().len() == 200
    })
    .await;

    let sent = mock.messages();
    let busy: Vec<Duration> = sent
        .iter()
        .filter(|m| m.query("user_id") == Some("42"))
        .map(|m| m.at)
        .collect();
    let all: Vec<Duration> = sent.iter().map(|m| m.at).collect();
    assert_eq!(busy.len(), 100);
    assert!(most_in_one_second(&busy) <= 2, "{busy:?}");
    assert!(most_in_one_second(&all) <= 30);
    // Paced, not throttled to a crawl: the busy chat's 100 replies take about 50 s.
    let span = *busy.last().unwrap() - busy[0];
    assert!(
        span >= Duration::from_millis(49_500) && span < Duration::from_secs(60),
        "{span:?}"
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_real_clock_one_chat_is_paced_at_the_mock() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    let service = service(config(dir.path(), &mock.url));
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();

    for n in 0..4 {
        let (status, _) = post(&client, &dialog_message(42, n).to_string(), Some(SECRET)).await;
        assert_eq!(status, Status::Ok);
    }
    wait_for(Duration::from_secs(10), "4 replies", || {
        mock.messages().len() == 4
    })
    .await;
    let times: Vec<Duration> = mock.messages().iter().map(|m| m.at).collect();
    for pair in times.windows(2) {
        // 500 ms apart when granted; request latency may shift arrival a little.
        assert!(pair[1] - pair[0] >= Duration::from_millis(450), "{times:?}");
    }
}
