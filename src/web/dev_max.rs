//! `/dev/max` (sandbox only, never in production): a browser chat with the bot through
//! the simulated MAX. What the user does becomes a MAX-shaped update taken in exactly as
//! a webhook delivery; what the bot sends is read back from the simulator's record. The
//! «Открыть» button opens `/app/` with launch data signed by the bot token, as MAX would.

use std::path::PathBuf;

use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use rusqlite::params;
use serde::Deserialize;
use serde_json::{json, Value};

use super::assets::{asset, Asset, CacheInfo};
use crate::app::App;
use crate::bot::{self, Intake};
use crate::connectors::max::launch;
use crate::store::ts;
use crate::web::{ApiError, ApiResult};

pub fn routes() -> Vec<Route> {
    routes![
        page_file,
        start,
        send,
        press,
        stop,
        messages,
        launch_data,
        group_add,
        group_send,
        group_messages
    ]
}

/// The page and its files; `/dev/max` and `/dev/max/` both give the page.
#[get("/dev/max/<path..>", rank = 20)]
fn page_file(path: PathBuf, cache: CacheInfo) -> Option<Asset> {
    let rel = path.to_string_lossy();
    let rel = if rel.is_empty() { "index.html" } else { &rel };
    asset(&format!("dev/max/{rel}"), &cache)
}

/// The simulated MAX user the browser acts as.
#[derive(Deserialize)]
struct SimUser {
    user_id: i64,
    #[serde(default)]
    first_name: String,
}

impl SimUser {
    fn json(&self) -> Value {
        json!({
            "user_id": self.user_id,
            "first_name": self.first_name,
            "last_name": "",
            "is_bot": false,
            "name": self.first_name,
        })
    }

    fn check(&self) -> ApiResult<()> {
        if self.user_id <= 0 || self.first_name.chars().count() > 64 {
            return Err(ApiError::bad_request(
                "bad_sim_user",
                "Укажите положительный id пользователя и имя до 64 символов.",
            ));
        }
        Ok(())
    }
}

/// Takes a simulated update in, as the webhook would, and keeps the user's side of the
/// conversation for the page.
async fn deliver(app: &App, user_id: i64, update: Value, shown: Option<Value>) -> ApiResult<Value> {
    deliver_to(app, user_id, Some(user_id), update, shown).await
}

/// [`deliver`] for any chat: what the page shows is kept under `chat_id` (and `user_id`
/// for a dialog; none for a group chat, whose page reads by chat).
async fn deliver_to(
    app: &App,
    chat_id: i64,
    user_id: Option<i64>,
    update: Value,
    shown: Option<Value>,
) -> ApiResult<Value> {
    let now = app.now();
    let intake = app
        .store
        .write(move |tx| {
            if let Some(shown) = shown {
                tx.execute(
                    "INSERT INTO max_sim_messages (chat_id, user_id, kind, body, created_at) \
                     VALUES (?1, ?2, 'incoming', ?3, ?4)",
                    params![chat_id, user_id, shown.to_string(), ts(now)],
                )?;
            }
            bot::intake(tx, &update, now)
        })
        .await?;
    if intake == Intake::Stored {
        app.wake_outbox();
    }
    Ok(json!({ "accepted": intake == Intake::Stored }))
}

fn millis(app: &App) -> i64 {
    i64::try_from(app.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

#[derive(Deserialize)]
struct Start {
    #[serde(flatten)]
    user: SimUser,
    #[serde(default)]
    payload: Option<String>,
}

#[post("/dev/max/api/start", data = "<body>")]
async fn start(app: &State<App>, body: Json<Start>) -> ApiResult<Json<Value>> {
    body.user.check()?;
    let mut update = json!({
        "update_type": "bot_started",
        "timestamp": millis(app),
        "chat_id": body.user.user_id,
        "user": body.user.json(),
        "user_id": body.user.user_id,
        "user_locale": "ru",
    });
    if let Some(payload) = &body.payload {
        update["payload"] = json!(payload);
    }
    let shown = json!({ "text": "/start" });
    Ok(Json(
        deliver(app, body.user.user_id, update, Some(shown)).await?,
    ))
}

#[derive(Deserialize)]
struct Send {
    #[serde(flatten)]
    user: SimUser,
    text: String,
}

#[post("/dev/max/api/send", data = "<body>")]
async fn send(app: &State<App>, body: Json<Send>) -> ApiResult<Json<Value>> {
    body.user.check()?;
    if body.text.trim().is_empty() || body.text.chars().count() > 4000 {
        return Err(ApiError::bad_request(
            "bad_text",
            "Сообщение должно быть непустым и не длиннее 4000 символов.",
        ));
    }
    let update = json!({
        "update_type": "message_created",
        "timestamp": millis(app),
        "message": {
            "recipient": { "chat_id": body.user.user_id, "chat_type": "dialog",
                           "user_id": sim_bot_id(app) },
            "timestamp": millis(app),
            "body": { "mid": format!("mid.sim.in.{}", uuid::Uuid::new_v4()), "seq": 0,
                      "text": body.text },
            "sender": body.user.json(),
        },
        "user_locale": "ru",
    });
    let shown = json!({ "text": body.text });
    Ok(Json(
        deliver(app, body.user.user_id, update, Some(shown)).await?,
    ))
}

fn sim_bot_id(app: &App) -> i64 {
    if app.config.max.bot_id != 0 {
        app.config.max.bot_id
    } else {
        crate::connectors::max::sim::SIM_BOT_ID
    }
}

#[derive(Deserialize)]
struct Press {
    #[serde(flatten)]
    user: SimUser,
    payload: String,
}

#[post("/dev/max/api/callback", data = "<body>")]
async fn press(app: &State<App>, body: Json<Press>) -> ApiResult<Json<Value>> {
    body.user.check()?;
    let callback_id = format!("sim.{}.{}", body.user.user_id, uuid::Uuid::new_v4());
    let update = json!({
        "update_type": "message_callback",
        "timestamp": millis(app),
        "callback": {
            "timestamp": millis(app),
            "callback_id": callback_id,
            "user": body.user.json(),
            "payload": body.payload,
        },
        "user_locale": "ru",
    });
    Ok(Json(deliver(app, body.user.user_id, update, None).await?))
}

#[post("/dev/max/api/stop", data = "<body>")]
async fn stop(app: &State<App>, body: Json<SimUser>) -> ApiResult<Json<Value>> {
    body.check()?;
    let update = json!({
        "update_type": "bot_stopped",
        "timestamp": millis(app),
        "chat_id": body.user_id,
        "user": body.json(),
        "user_id": body.user_id,
    });
    let shown = json!({ "text": "(бот остановлен)" });
    Ok(Json(deliver(app, body.user_id, update, Some(shown)).await?))
}

/// The conversation of `user_id` after message `after`: what the user did and what the
/// bot sent (messages and button answers).
#[get("/dev/max/api/messages?<user_id>&<after>")]
async fn messages(app: &State<App>, user_id: i64, after: Option<i64>) -> ApiResult<Json<Value>> {
    let after = after.unwrap_or(0);
    let rows = app
        .store
        .call(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, kind, body, created_at FROM max_sim_messages \
                 WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT 200",
            )?;
            let rows = stmt.query_map(params![user_id, after], |r| {
                let body: String = r.get(2)?;
                Ok(json!({
                    "id": r.get::<_, i64>(0)?,
                    "kind": r.get::<_, String>(1)?,
                    "body": serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
                    "at": r.get::<_, String>(3)?,
                }))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await?;
    Ok(Json(json!({ "messages": rows })))
}

#[derive(Deserialize)]
struct Launch {
    #[serde(flatten)]
    user: SimUser,
    #[serde(default)]
    payload: Option<String>,
}

/// Launch data for the mini-app, signed as MAX signs it, and the URL to open.
#[post("/dev/max/api/launch", data = "<body>")]
async fn launch_data(app: &State<App>, body: Json<Launch>) -> ApiResult<Json<Value>> {
    body.user.check()?;
    let user = json!({
        "id": body.user.user_id,
        "first_name": body.user.first_name,
        "last_name": "",
        "username": null,
        "language_code": "ru",
        "photo_url": null,
    });
    let mut pairs = vec![
        ("auth_date", app.now().unix_timestamp().to_string()),
        ("query_id", uuid::Uuid::new_v4().to_string()),
        ("user", user.to_string()),
    ];
    if let Some(payload) = body.payload.as_ref().filter(|p| !p.is_empty()) {
        pairs.push(("start_param", payload.clone()));
    }
    let signed = launch::sign(&pairs, app.bot_token.expose());
    let fragment: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("WebAppData", &signed)
        .append_pair("WebAppPlatform", "web")
        .finish();
    Ok(Json(json!({
        "url": format!("/app/#{fragment}"),
        "init_data": signed,
    })))
}

/// The simulated house chat a user adds the bot to.
#[post("/dev/max/api/group/add", data = "<body>")]
async fn group_add(app: &State<App>, body: Json<SimUser>) -> ApiResult<Json<Value>> {
    body.check()?;
    // Group chats have negative ids in MAX; a fresh one each time.
    let chat_id = -(70_000_000_000_000 + i64::from(rand::random_range(1..1_000_000_000u32)));
    let update = json!({
        "timestamp": millis(app),
        "chat_id": chat_id,
        "user": body.json(),
        "user_id": body.user_id,
        "is_channel": false,
        "update_type": "bot_added",
    });
    let shown = json!({
        "text": format!("{} добавил(а) бота в чат", body.first_name),
        "from": body.first_name,
        "event": true,
    });
    let mut answer = deliver_to(app, chat_id, None, update, Some(shown)).await?;
    answer["chat_id"] = json!(chat_id);
    Ok(Json(answer))
}

#[derive(Deserialize)]
struct GroupSend {
    #[serde(flatten)]
    user: SimUser,
    chat_id: i64,
    text: String,
}

/// A user's message in a simulated house chat.
#[post("/dev/max/api/group/send", data = "<body>")]
async fn group_send(app: &State<App>, body: Json<GroupSend>) -> ApiResult<Json<Value>> {
    body.user.check()?;
    if body.chat_id >= 0 {
        return Err(ApiError::bad_request(
            "bad_chat",
            "Групповой чат симулятора имеет отрицательный id: сначала добавьте бота в чат.",
        ));
    }
    if body.text.trim().is_empty() || body.text.chars().count() > 4000 {
        return Err(ApiError::bad_request(
            "bad_text",
            "Сообщение должно быть непустым и не длиннее 4000 символов.",
        ));
    }
    let update = json!({
        "update_type": "message_created",
        "timestamp": millis(app),
        "message": {
            "recipient": { "chat_id": body.chat_id, "chat_type": "chat" },
            "timestamp": millis(app),
            "body": { "mid": format!("mid.sim.in.{}", uuid::Uuid::new_v4()), "seq": 0,
                      "text": body.text },
            "sender": body.user.json(),
        },
        "user_locale": "ru",
    });
    let shown = json!({ "text": body.text, "from": body.user.first_name });
    Ok(Json(
        deliver_to(app, body.chat_id, None, update, Some(shown)).await?,
    ))
}

/// A simulated group chat after message `after`: what users wrote and what the bot sent.
#[get("/dev/max/api/group/messages?<chat_id>&<after>")]
async fn group_messages(
    app: &State<App>,
    chat_id: i64,
    after: Option<i64>,
) -> ApiResult<Json<Value>> {
    let after = after.unwrap_or(0);
    let rows = app
        .store
        .call(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, kind, body, created_at FROM max_sim_messages \
                 WHERE chat_id = ?1 AND user_id IS NULL AND id > ?2 ORDER BY id LIMIT 200",
            )?;
            let rows = stmt.query_map(params![chat_id, after], |r| {
                let body: String = r.get(2)?;
                Ok(json!({
                    "id": r.get::<_, i64>(0)?,
                    "kind": r.get::<_, String>(1)?,
                    "body": serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
                    "at": r.get::<_, String>(3)?,
                }))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await?;
    Ok(Json(json!({ "messages": rows })))
}
