//! `GET|PUT /api/v1/notifications`: the MAX user's notification settings, and
//! `POST /api/v1/properties/<id>/chat-request`: telling the УО the house needs a chat.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, put, State};
use serde_json::{json, Value};

use super::guard::Resident;
use crate::app::App;
use crate::domain::notifications::{self, Change, Settings};
use crate::domain::{chats, properties};
use crate::web::{ApiError, ApiResult};

/// Routes to mount at `/`.
pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![get_settings, put_settings, chat_request]
}

#[get("/api/v1/notifications")]
pub async fn get_settings(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
) -> ApiResult<Json<Settings>> {
    let max_user = resident?.max_user_id;
    let settings = app
        .store
        .call(move |conn| notifications::settings(conn, max_user))
        .await?;
    Ok(Json(settings))
}

/// Takes any subset of `requests`, `readings`, `house_notices` as booleans.
#[put("/api/v1/notifications", data = "<body>")]
pub async fn put_settings(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    body: &str,
) -> ApiResult<Json<Settings>> {
    let max_user = resident?.max_user_id;
    let value: Value = serde_json::from_str(body).map_err(|_| {
        ApiError::bad_request(
            "invalid_json",
            "Настройки должны быть в формате JSON, например {\"requests\": true}.",
        )
    })?;
    let change =
        Change::parse(&value).map_err(|e| ApiError::unprocessable("invalid_settings", e.0))?;
    let now = app.now();
    let settings = app
        .store
        .write(move |tx| notifications::update(tx, max_user, &change, now))
        .await?;
    tracing::info!(max_user, "notification settings changed");
    Ok(Json(settings))
}

/// The resident tells the УО that their house needs a chat in MAX.
#[post("/api/v1/properties/<id>/chat-request")]
pub async fn chat_request(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
) -> ApiResult<(Status, Json<Value>)> {
    let person = resident?.person()?;
    let now = app.now();
    let outcome = app
        .store
        .write(move |tx| {
            let Some(property) = properties::one_of_person(tx, person, id)? else {
                return Ok(None);
            };
            if property.status != "linked" {
                return Ok(Some(Err(())));
            }
            Ok(Some(Ok(chats::wish(tx, property.house_id, person, now)?)))
        })
        .await?;
    match outcome {
        None => Err(ApiError::not_found()),
        Some(Err(())) => Err(ApiError::new(
            Status::Conflict,
            "property_pending",
            "Сначала управляющая организация должна подтвердить ваше право на помещение.",
        )),
        Some(Ok(new)) => Ok((
            if new { Status::Created } else { Status::Ok },
            Json(json!({ "requested": true })),
        )),
    }
}
