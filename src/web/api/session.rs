//! `POST /api/v1/session` (launch data → session), `DELETE /api/v1/session` (sign out),
//! `POST /api/v1/session/esia` (start ЕСИА sign-in), `POST /api/v1/session/esia/complete`.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, post, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::guard::Resident;
use super::me::profile;
use crate::app::App;
use crate::connectors::max::launch;
use crate::domain::{sessions, signin};
use crate::store::ts;
use crate::web::{ApiError, ApiResult};

#[derive(Deserialize)]
pub struct LaunchBody {
    init_data: String,
}

/// Opens a session for the MAX user whose launch data this is. The data is never logged.
#[post("/api/v1/session", data = "<body>")]
pub async fn open_session(app: &State<App>, body: Json<LaunchBody>) -> ApiResult<Json<Value>> {
    let now = app.now();
    let max_age =
        time::Duration::seconds(app.config.max.launch_max_age_seconds.min(86_400 * 30) as i64);
    let checked = launch::verify(&body.init_data, app.bot_token.expose(), now, max_age)
        .map_err(|e| {
            tracing::info!(code = e.code(), "launch data refused");
            ApiError::unauthorized(
                e.code(),
                "Не удалось проверить запуск приложения. Закройте его и откройте заново из чата MAX.",
            )
        })?;
    let lifetime = time::Duration::hours(i64::from(app.config.max.session_hours));
    let session = app
        .store
        .write(move |tx| sessions::open(tx, &checked.user, now, lifetime))
        .await?;
    Ok(Json(json!({
        "token": session.token,
        "expires_at": ts(session.expires_at),
        "signed_in": session.person_id.is_some(),
    })))
}

/// Signs out: the session ends and the MAX user is no longer bound to the person.
#[delete("/api/v1/session")]
pub async fn close_session(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
) -> ApiResult<Status> {
    let resident = resident?;
    let now = app.now();
    app.store
        .write(move |tx| {
            signin::unbind(tx, resident.max_user_id, now)?;
            sessions::close(tx, resident.session_id)
        })
        .await?;
    Ok(Status::NoContent)
}

/// Starts a ЕСИА sign-in: the app sends the browser to the returned `url`.
#[post("/api/v1/session/esia")]
pub async fn start_esia(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
) -> ApiResult<Json<Value>> {
    let resident = resident?;
    let now = app.now();
    let state = app
        .store
        .write(move |tx| signin::start(tx, resident.max_user_id, now))
        .await?;
    Ok(Json(
        json!({ "url": format!("/auth/esia/start?state={state}") }),
    ))
}

#[derive(Deserialize)]
pub struct CompleteBody {
    code: String,
}

/// Finishes a ЕСИА sign-in with the one-time code the callback handed to this browser.
#[post("/api/v1/session/esia/complete", data = "<body>")]
pub async fn complete_esia(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    body: Json<CompleteBody>,
) -> ApiResult<Json<Value>> {
    let mut resident = resident?;
    let now = app.now();
    let code = body.code.clone();
    let max_user = resident.max_user_id;
    let person = app
        .store
        .write(move |tx| signin::complete(tx, &code, max_user, now))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Status::NotFound,
                "esia_expired",
                "Вход не завершён: ссылка устарела. Нажмите «Войти через Госуслуги» ещё раз.",
            )
        })?;
    tracing::info!(person_id = person, "signed in through ЕСИА");
    resident.person_id = Some(person);
    profile(app, resident).await.map(Json)
}
