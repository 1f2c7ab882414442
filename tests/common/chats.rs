//! Helpers of the house chat tests: staff in the console, residents linked to demo houses,
//! webhook deliveries, and a mock MAX that also answers `GET /chats/{id}`.
#![allow(dead_code)]

use std::net::SocketAddr;

use gosdom::connectors::max::launch;
use gosdom::domain::console::staff::{self, NewAccount};
use gosdom::domain::console::Role;
use gosdom::store::{ts, Store};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use rusqlite::params;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::common::{fixture, fixtures, ok_reply, Received, Reply, SECRET, TOKEN};

pub const PASSWORD: &str = "пароль для теста 123";

/// `ok_reply`, and the fixture chat (with its invite link) for `GET /chats/{id}`.
pub fn reply_with_chats(req: &Received) -> Reply {
    if req.method == "GET" && req.path.starts_with("/chats/") {
        let text = std::fs::read_to_string(fixtures().join("get-chat-by-id.json")).unwrap();
        let mut chat: Value = serde_json::from_str(&text).unwrap();
        let id: i64 = req.path["/chats/".len()..].parse().unwrap();
        chat["chat_id"] = json!(id);
        chat["link"] = json!(format!("https://max.ru/join/chat{}", id.unsigned_abs()));
        return (200, chat, Vec::new());
    }
    ok_reply(req)
}

/// Adds a staff account with [`PASSWORD`].
pub fn add_staff(store: &Store, login: &str, role: Role, organisation: Option<i64>) -> i64 {
    let hash = staff::hash_password(PASSWORD).unwrap();
    let account = NewAccount {
        login: login.into(),
        role,
        organisation_id: organisation,
    };
    store
        .write_blocking(|tx| {
            Ok(staff::add(
                tx,
                None,
                &account,
                &hash,
                OffsetDateTime::now_utc(),
            ))
        })
        .unwrap()
        .unwrap()
}

/// Signs `login` in on `client` (its cookie jar keeps the session); returns the CSRF token.
pub async fn sign_in(client: &Client, login: &str) -> String {
    let remote: SocketAddr = "192.0.2.20:40000".parse().unwrap();
    let res = client
        .post("/api/console/v1/session")
        .remote(remote)
        .header(ContentType::JSON)
        .body(json!({ "login": login, "password": PASSWORD }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let me: Value = res.into_json().await.unwrap();
    me["csrf_token"].as_str().unwrap().to_string()
}

pub async fn console_get(client: &Client, path: &str) -> (Status, Value) {
    let res = client
        .get(format!("/api/console/v1{path}"))
        .dispatch()
        .await;
    let status = res.status();
    (status, res.into_json().await.unwrap_or(Value::Null))
}

pub async fn console_post(
    client: &Client,
    path: &str,
    csrf: Option<&str>,
    body: Value,
) -> (Status, Value) {
    let mut req = client
        .post(format!("/api/console/v1{path}"))
        .header(ContentType::JSON)
        .body(body.to_string());
    if let Some(token) = csrf {
        req = req.header(Header::new("X-CSRF-Token", token.to_string()));
    }
    let res = req.dispatch().await;
    let status = res.status();
    (status, res.into_json().await.unwrap_or(Value::Null))
}

/// Posts an update to the webhook with the right secret.
pub async fn deliver(client: &Client, body: &Value) {
    let res = client
        .post("/bot/webhook")
        .header(ContentType::JSON)
        .header(Header::new("X-Max-Bot-Api-Secret", SECRET))
        .body(body.to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
}

/// The `message_created` fixture as a message with `text` in group chat `chat_id`.
pub fn group_message(chat_id: i64, text: &str, n: i64) -> Value {
    let mut body = fixture("message_created");
    body["message"]["recipient"]["chat_id"] = json!(chat_id);
    body["message"]["body"]["text"] = json!(text);
    body["message"]["body"]["mid"] = json!(format!("mid.bind.{chat_id}.{n}"));
    body["message"].as_object_mut().unwrap().remove("link");
    body["timestamp"] = json!(1775025604499i64 + n);
    body
}

/// The demo houses (id, organisation) by id.
pub fn houses(store: &Store) -> Vec<(i64, i64)> {
    let conn = store.conn().unwrap();
    let mut stmt = conn
        .prepare("SELECT id, organisation_id FROM houses ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A premise of `house`.
pub fn premise_of(store: &Store, house: i64) -> i64 {
    store
        .conn()
        .unwrap()
        .query_row(
            "SELECT MIN(id) FROM premises WHERE house_id = ?1",
            [house],
            |r| r.get(0),
        )
        .unwrap()
}

/// A person linked (`status`) to `premise`, known to the bot as MAX user `user_id`.
/// Returns `max_users.id`.
pub fn resident(store: &Store, user_id: i64, premise: i64, status: &str) -> i64 {
    let now = ts(OffsetDateTime::now_utc());
    store
        .write_blocking(|tx| {
            tx.execute(
                "INSERT INTO people (esia_oid, trusted, name, created_at, updated_at) \
                 VALUES (?1, 1, 'Житель', ?2, ?2)",
                params![format!("oid-{user_id}"), now],
            )?;
            let person = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO property_links (person_id, premise_id, proof, status, created_at, \
                 updated_at) VALUES (?1, ?2, 'owners_register', ?3, ?4, ?4)",
                params![person, premise, status, now],
            )?;
            tx.execute(
                "INSERT INTO max_users (user_id, dialog_chat_id, person_id, first_name, \
                 created_at, updated_at) VALUES (?1, ?1, ?2, 'Житель', ?3, ?3) \
                 ON CONFLICT (user_id) DO UPDATE SET person_id = excluded.person_id",
                params![user_id, person, now],
            )?;
            Ok(tx.query_row(
                "SELECT id FROM max_users WHERE user_id = ?1",
                [user_id],
                |r| r.get(0),
            )?)
        })
        .unwrap()
}

/// Binds `chat_id` (with `link`) to `house` directly in the store.
pub fn bound_chat(store: &Store, house: i64, chat_id: i64, link: &str) {
    let now = ts(OffsetDateTime::now_utc());
    store
        .write_blocking(|tx| {
            tx.execute(
                "INSERT INTO max_chats (chat_id, title, status, link, created_at, updated_at) \
                 VALUES (?1, 'Чат дома', 'active', ?2, ?3, ?3)",
                params![chat_id, link, now],
            )?;
            tx.execute(
                "UPDATE houses SET max_chat_id = ?2 WHERE id = ?1",
                params![house, chat_id],
            )?;
            Ok(())
        })
        .unwrap();
}

/// A mini-app session for MAX user `user_id` (launch data signed with the mock's token).
pub async fn session(client: &Client, user_id: i64) -> String {
    let data = launch::sign(
        &[
            (
                "auth_date",
                OffsetDateTime::now_utc().unix_timestamp().to_string(),
            ),
            ("query_id", "q-1".into()),
            (
                "user",
                json!({"id": user_id, "first_name": "Житель", "language_code": "ru"}).to_string(),
            ),
        ],
        TOKEN,
    );
    let res = client
        .post("/api/v1/session")
        .header(ContentType::JSON)
        .body(json!({ "init_data": data }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let body: Value = res.into_json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

pub async fn resident_call(
    client: &Client,
    method: rocket::http::Method,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> (Status, Value) {
    let mut req = client
        .req(method, path.to_string())
        .header(Header::new("Authorization", format!("Bearer {token}")));
    if let Some(body) = body {
        req = req.header(ContentType::JSON).body(body);
    }
    let res = req.dispatch().await;
    let status = res.status();
    (status, res.into_json().await.unwrap_or(Value::Null))
}
