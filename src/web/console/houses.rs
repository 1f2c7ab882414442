//! «Дома и чаты»: houses of the staff member's УО with their bound MAX chat; admins bind
//! and unbind chats and make one-time binding codes. Every change is audited.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::guard::{Admin, Staff};
use crate::app::App;
use crate::domain::chats;
use crate::domain::console::{audit, houses};
use crate::web::error::{ApiError, ApiResult};

/// The chat routes, to mount at [`super::API_BASE`].
pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![free_chats, make_code, bind_chat, unbind_chat]
}

/// `GET /api/console/v1/houses`.
#[get("/houses")]
pub async fn list_houses(app: &State<App>, staff: Staff) -> ApiResult<Json<Value>> {
    let scope = staff.scope();
    let now = app.now();
    let rows = app
        .store
        .call(move |conn| houses::list(scope, conn, now))
        .await?;
    Ok(Json(json!({ "houses": rows })))
}

/// `GET /api/console/v1/chats/free`: chats the bot is in that no house has (admins).
#[get("/chats/free")]
pub async fn free_chats(app: &State<App>, _admin: Admin) -> ApiResult<Json<Value>> {
    let chats = app.store.call(|conn| chats::free_chats(conn)).await?;
    Ok(Json(json!({ "chats": chats })))
}

/// `POST /api/console/v1/houses/<id>/chat/code`: a one-time code for `/bind <code>`,
/// shown once; earlier codes of the house stop working.
#[post("/houses/<id>/chat/code")]
pub async fn make_code(
    app: &State<App>,
    admin: Admin,
    id: i64,
) -> ApiResult<(Status, Json<Value>)> {
    let (scope, actor, now) = (admin.0.scope(), admin.0.actor(), app.now());
    let code = app
        .store
        .write(move |tx| {
            if houses::in_scope(scope, tx, id)?.is_none() {
                return Ok(None);
            }
            let code = chats::make_code(tx, id, &actor, now)?;
            let object = format!("house:{id}");
            audit::record(tx, &actor, "chat.code", &object, json!({}), now)?;
            Ok(Some(code))
        })
        .await?
        .ok_or_else(ApiError::not_found)?;
    tracing::info!(
        house = id,
        staff = admin.0.member.id,
        "chat binding code made"
    );
    Ok((Status::Created, Json(json!(code))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindBody {
    pub chat_id: i64,
}

/// `POST /api/console/v1/houses/<id>/chat` `{"chat_id"}`: binds a chat the bot is in and
/// no house has.
#[post("/houses/<id>/chat", data = "<body>")]
pub async fn bind_chat(
    app: &State<App>,
    admin: Admin,
    id: i64,
    body: &str,
) -> ApiResult<Json<Value>> {
    let body: BindBody = serde_json::from_str(body).map_err(|_| {
        ApiError::unprocessable(
            "invalid_chat_id",
            "Укажите chat_id — номер чата числом, из списка свободных чатов: {\"chat_id\": 123}.",
        )
    })?;
    let (scope, actor, now) = (admin.0.scope(), admin.0.actor(), app.now());
    let chat_id = body.chat_id;
    let bound = app
        .store
        .write(move |tx| {
            if houses::in_scope(scope, tx, id)?.is_none() {
                return Ok(Err(ApiError::not_found()));
            }
            if !chats::is_free(tx, chat_id)? {
                return Ok(Err(ApiError::new(
                    Status::Conflict,
                    "chat_unavailable",
                    "Этот чат уже привязан к другому дому или бот в нём больше не состоит.",
                )));
            }
            chats::bind(tx, id, chat_id, now)?;
            let detail = json!({ "chat_id": chat_id, "via": "console" });
            audit::record(tx, &actor, "chat.bind", &format!("house:{id}"), detail, now)?;
            Ok(Ok(()))
        })
        .await?;
    bound?;
    app.wake_outbox();
    tracing::info!(
        house = id,
        chat = chat_id,
        "house chat bound in the console"
    );
    Ok(Json(json!({ "house_id": id, "chat_id": chat_id })))
}

/// `POST /api/console/v1/houses/<id>/chat/unbind`.
#[post("/houses/<id>/chat/unbind")]
pub async fn unbind_chat(app: &State<App>, admin: Admin, id: i64) -> ApiResult<Json<Value>> {
    let (scope, actor, now) = (admin.0.scope(), admin.0.actor(), app.now());
    let found = app
        .store
        .write(move |tx| {
            if houses::in_scope(scope, tx, id)?.is_none() {
                return Ok(None);
            }
            let unbound = chats::unbind(tx, id, now)?;
            if unbound {
                audit::record(
                    tx,
                    &actor,
                    "chat.unbind",
                    &format!("house:{id}"),
                    json!({}),
                    now,
                )?;
            }
            Ok(Some(unbound))
        })
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(json!({ "house_id": id, "unbound": found })))
}
