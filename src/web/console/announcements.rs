//! «Объявления» (operators and admins): the УО's announcements with delivery figures,
//! writing one, cancelling a scheduled one. Every change is audited.

use rocket::data::{ByteUnit, Data};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Value};

use super::guard::Staff;
use crate::app::App;
use crate::domain::announcements::{self, AnnouncementError, Draft};
use crate::domain::console::audit;
use crate::web::{ApiError, ApiResult};

/// The largest draft accepted: far above the longest text in any script.
const BODY_LIMIT: ByteUnit = ByteUnit::Kibibyte(64);

/// Announcements listed at most.
const SHOWN: u32 = 100;

/// The routes of this file, to mount at [`super::API_BASE`].
pub fn routes() -> Vec<Route> {
    routes![list, create, cancel]
}

impl From<AnnouncementError> for ApiError {
    fn from(e: AnnouncementError) -> Self {
        match e {
            AnnouncementError::Invalid(code, message) => ApiError::unprocessable(code, message),
            AnnouncementError::NotFound => ApiError::not_found(),
            AnnouncementError::AlreadySent => ApiError::new(
                Status::Conflict,
                "already_sent",
                "Объявление уже отправляется — отменить его нельзя.",
            ),
            AnnouncementError::AlreadyCancelled => ApiError::new(
                Status::Conflict,
                "already_cancelled",
                "Объявление уже отменено.",
            ),
            AnnouncementError::Repeated => ApiError::new(
                Status::Conflict,
                "repeated",
                "Такое же объявление уже создано несколько минут назад — оно есть в списке \
                 объявлений. Повторно его не отправляем.",
            ),
            AnnouncementError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `GET /api/console/v1/announcements`: newest first, with delivery figures.
#[get("/announcements")]
pub async fn list(app: &State<App>, staff: Staff) -> ApiResult<Json<Value>> {
    let scope = staff.scope();
    let items = app
        .store
        .call(move |conn| announcements::list(conn, scope, SHOWN))
        .await?;
    Ok(Json(json!({ "announcements": items })))
}

/// `POST /api/console/v1/announcements` with a [`Draft`].
#[post("/announcements", data = "<body>")]
pub async fn create(
    app: &State<App>,
    staff: Staff,
    body: Data<'_>,
) -> ApiResult<(Status, Json<Value>)> {
    // Rocket's 8 KiB for a string would refuse a full-length text in Cyrillic or emoji.
    let body =
        body.open(BODY_LIMIT).into_string().await.map_err(|_| {
            ApiError::bad_request("invalid_body", "Объявление не получено целиком.")
        })?;
    if !body.is_complete() {
        return Err(ApiError::new(
            Status::PayloadTooLarge,
            "too_large",
            "Объявление слишком большое: сократите текст.",
        ));
    }
    let draft: Draft = serde_json::from_str(&body).map_err(|_| {
        ApiError::unprocessable(
            "invalid_body",
            "Объявление заполнено неверно: проверьте вид, текст, дома и даты.",
        )
    })?;
    let (scope, actor, now) = (staff.scope(), staff.actor(), app.now());
    let id = app
        .store
        .write(move |tx| {
            let made = announcements::create(tx, scope, &actor, &draft, now);
            if let Ok(id) = made {
                let detail = json!({
                    "kind": draft.kind.as_str(),
                    "houses": draft.houses,
                    "all_houses": draft.all_houses,
                });
                let object = format!("announcement:{id}");
                audit::record(tx, &actor, "announcement.create", &object, detail, now)?;
            }
            Ok(made)
        })
        .await??;
    app.wake_outbox();
    tracing::info!(
        announcement = id,
        staff = staff.member.id,
        "announcement created"
    );
    Ok((Status::Created, Json(json!({ "id": id }))))
}

/// `POST /api/console/v1/announcements/<id>/cancel`: only before it goes out.
#[post("/announcements/<id>/cancel")]
pub async fn cancel(app: &State<App>, staff: Staff, id: i64) -> ApiResult<Json<Value>> {
    let (scope, actor, now) = (staff.scope(), staff.actor(), app.now());
    app.store
        .write(move |tx| {
            let done = announcements::cancel(tx, scope, id, now);
            if done.is_ok() {
                let object = format!("announcement:{id}");
                audit::record(tx, &actor, "announcement.cancel", &object, json!({}), now)?;
            }
            Ok(done)
        })
        .await??;
    Ok(Json(json!({ "id": id, "status": "cancelled" })))
}
