//! The sandbox MAX simulator at `/dev/max`: a chat with the bot in the browser whose
//! «Открыть» button opens the mini-app with launch data the server accepts.

mod common;

use std::time::Duration;

use common::wait_for;
use gosdom::config::Config;
use gosdom::connectors::max::launch;
use gosdom::server::Service;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

async fn get_json(client: &Client, url: &str) -> Value {
    let response = client.get(url.to_string()).dispatch().await;
    assert_eq!(response.status(), Status::Ok, "{url}");
    response.into_json().await.unwrap()
}

async fn post_json(client: &Client, url: &str, body: Value) -> Value {
    let response = client
        .post(url.to_string())
        .header(ContentType::JSON)
        .body(body.to_string())
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok, "{url}");
    response.into_json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_chats_with_the_simulated_bot_and_opens_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let service = Service::prepare(config).unwrap();
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();

    let page = client.get("/dev/max/").dispatch().await;
    assert_eq!(page.status(), Status::Ok, "{:?}", page.headers());
    assert!(page.into_string().await.unwrap().contains("chat.js"));
    assert_eq!(
        client.get("/dev/max/chat.js").dispatch().await.status(),
        Status::Ok
    );
    assert_eq!(client.get("/dev/max").dispatch().await.status(), Status::Ok);
    // «Открыть» leads to the mini-app's page.
    assert_eq!(client.get("/app/").dispatch().await.status(), Status::Ok);

    let me = json!({"user_id": 777, "first_name": "Ира"});
    post_json(&client, "/dev/max/api/start", me.clone()).await;
    let mut log = Vec::new();
    wait_for(Duration::from_secs(10), "the welcome", || {
        let conn = service.app.store.conn().unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM max_sim_messages WHERE user_id = 777 AND kind = 'message'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        n == 1
    })
    .await;
    log.extend(
        get_json(&client, "/dev/max/api/messages?user_id=777").await["messages"]
            .as_array()
            .unwrap()
            .clone(),
    );
    assert_eq!(log[0]["kind"], "incoming");
    let welcome = &log[1]["body"];
    assert!(welcome["text"].as_str().unwrap().contains("Ира"));
    assert!(welcome["attachments"].to_string().contains("open_app"));

    // «Открыть»: launch data signed with the bot token, as the mini-app receives it.
    let opened = post_json(&client, "/dev/max/api/launch", me.clone()).await;
    let url = opened["url"].as_str().unwrap();
    let fragment = url.strip_prefix("/app/#").unwrap();
    let data = form_urlencoded::parse(fragment.as_bytes())
        .find(|(k, _)| k == "WebAppData")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let checked = launch::verify(
        &data,
        service.app.bot_token.expose(),
        service.app.now(),
        time::Duration::hours(1),
    )
    .unwrap();
    assert_eq!(checked.user.id, 777);

    // A typed message gets help; «Помощь» is answered.
    post_json(
        &client,
        "/dev/max/api/send",
        json!({"user_id": 777, "first_name": "Ира", "text": "<b>привет</b>"}),
    )
    .await;
    post_json(
        &client,
        "/dev/max/api/callback",
        json!({"user_id": 777, "first_name": "Ира", "payload": "help"}),
    )
    .await;
    wait_for(Duration::from_secs(10), "help and the answer", || {
        let conn = service.app.store.conn().unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM max_sim_messages WHERE user_id = 777 AND kind IN ('message', 'answer')", [], |r| r.get(0))
            .unwrap();
        n == 4
    })
    .await;
    let after = log.last().unwrap()["id"].as_i64().unwrap();
    let rest = get_json(
        &client,
        &format!("/dev/max/api/messages?user_id=777&after={after}"),
    )
    .await;
    let kinds: Vec<&str> = rest["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"answer") && kinds.iter().filter(|k| **k == "message").count() == 2,
        "{kinds:?}"
    );
}

#[tokio::test]
async fn production_has_no_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    config.mode = gosdom::config::Mode::Production;
    config.max.token = gosdom::config::Secret::new("real-token");
    let service = Service::prepare(config).unwrap();
    let client = Client::tracked(service.rocket()).await.unwrap();
    assert_eq!(
        client.get("/dev/max/").dispatch().await.status(),
        Status::NotFound
    );
    let response = client
        .post("/dev/max/api/launch")
        .header(ContentType::JSON)
        .body(r#"{"user_id": 1, "first_name": "x"}"#)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::NotFound);
}

/// «Добавить бота в чат дома»: the simulated MAX delivers `bot_added` for a new group chat;
/// `/bind <code>` with the console's code typed in that chat binds it to the house, and the
/// bot's answer shows in the group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_house_chat_is_bound_with_the_consoles_code_through_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let service = Service::prepare(config).unwrap();
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();

    let me = json!({"user_id": 778, "first_name": "Оля"});
    let added = post_json(&client, "/dev/max/api/group/add", me.clone()).await;
    let chat_id = added["chat_id"].as_i64().unwrap();
    assert!(chat_id < 0, "{added}");
    wait_for(Duration::from_secs(10), "bot_added recorded", || {
        let conn = service.app.store.conn().unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM max_chats WHERE chat_id = ?1",
                [chat_id],
                |r| r.get(0),
            )
            .unwrap();
        n == 1
    })
    .await;

    let now = service.app.now();
    let (house, code) = service
        .app
        .store
        .write_blocking(|tx| {
            let house: i64 = tx.query_row("SELECT MIN(id) FROM houses", [], |r| r.get(0))?;
            let code = gosdom::domain::chats::make_code(tx, house, "test", now)?;
            Ok((house, code.code))
        })
        .unwrap();
    let mut body = me.clone();
    body["chat_id"] = json!(chat_id);
    body["text"] = json!(format!("/bind {code}"));
    post_json(&client, "/dev/max/api/group/send", body).await;

    wait_for(
        Duration::from_secs(10),
        "the bot's answer in the group",
        || {
            let conn = service.app.store.conn().unwrap();
            let n: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM max_sim_messages WHERE chat_id = ?1 AND kind = 'message'",
                    [chat_id],
                    |r| r.get(0),
                )
                .unwrap();
            n == 1
        },
    )
    .await;
    let bound: Option<i64> = service
        .app
        .store
        .conn()
        .unwrap()
        .query_row(
            "SELECT max_chat_id FROM houses WHERE id = ?1",
            [house],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bound, Some(chat_id));
    let log = get_json(
        &client,
        &format!("/dev/max/api/group/messages?chat_id={chat_id}"),
    )
    .await;
    let log = log["messages"].as_array().unwrap();
    let kinds: Vec<&str> = log.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["incoming", "incoming", "message"], "{log:?}");
    assert!(log[2]["body"]["text"].as_str().unwrap().contains("Готово"));
    // The user's own dialog does not show the group's messages.
    let dialog = get_json(&client, "/dev/max/api/messages?user_id=778").await;
    assert!(
        dialog["messages"].as_array().unwrap().is_empty(),
        "{dialog}"
    );
}
