//! `GET /api/v1/properties/<id>/meters`, `POST /api/v1/properties/<id>/readings`,
//! `GET /api/v1/meters/<id>/readings`: the screen «Показания». The rules live in
//! [`crate::domain::readings`]; here only the HTTP shape. Someone else's premise or meter
//! answers 404, exactly like one that does not exist.

use rocket::serde::json::{self, Json};
use rocket::{get, post, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::guard::Resident;
use crate::app::App;
use crate::domain::readings::{self, Actor, Submission, SubmitError};
use crate::web::{ApiError, ApiResult};

/// Readings one meter's history shows by default, and at most.
const HISTORY_DEFAULT: usize = 24;
const HISTORY_MAX: usize = 120;

/// Meters one call may carry: a premise has a handful, this only bounds the work.
const MAX_ITEMS: usize = 50;

/// The premise's meters with the last accepted reading, and the reading window.
#[get("/api/v1/properties/<id>/meters")]
pub async fn meters(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
) -> ApiResult<Json<Value>> {
    let person = resident?.person()?;
    let defaults = app.config.readings.clone();
    let now = app.now();
    let (window, items) = app
        .store
        .call(move |conn| readings::meters_of_premise(conn, &defaults, person, id, now))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(json!({ "window": window, "items": items })))
}

#[derive(Deserialize)]
pub struct ReadingsBody {
    readings: Vec<Submission>,
}

/// Several meters in one call; the answer has one result per meter, in the order sent.
/// A refused value is not an error of the call: it is `"result": "refused"` with the
/// rule's code and a Russian message.
#[post("/api/v1/properties/<id>/readings", data = "<body>")]
pub async fn submit_readings(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
    body: Result<Json<ReadingsBody>, json::Error<'_>>,
) -> ApiResult<Json<Value>> {
    let person = resident?.person()?;
    let items = body
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_body",
                "Не удалось прочитать показания. Обновите экран и попробуйте ещё раз.",
            )
        })?
        .into_inner()
        .readings;
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "no_readings",
            "Введите показания хотя бы одного счётчика.",
        ));
    }
    if items.len() > MAX_ITEMS {
        return Err(ApiError::bad_request(
            "too_many_readings",
            format!("За один раз можно передать показания не более {MAX_ITEMS} счётчиков."),
        ));
    }

    match readings::submit_readings(app, Actor::Resident(person), id, items).await {
        Ok(submitted) => {
            let accepted = submitted.meters.iter().filter(|m| m.is_accepted()).count();
            Ok(Json(json!({
                "accepted": accepted,
                "meters": submitted.meters,
            })))
        }
        Err(SubmitError::PremiseNotFound) => Err(ApiError::not_found()),
        Err(SubmitError::Store(e)) => Err(e.into()),
    }
}

/// A meter's readings, newest first, with statuses (accepted, sent, confirmed, rejected
/// with ГИС ЖКХ's reason, replaced).
#[get("/api/v1/meters/<id>/readings?<limit>")]
pub async fn history(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
    limit: Option<usize>,
) -> ApiResult<Json<Value>> {
    let person = resident?.person()?;
    let limit = limit.unwrap_or(HISTORY_DEFAULT).clamp(1, HISTORY_MAX);
    let items = app
        .store
        .call(move |conn| readings::meter_history(conn, person, id, limit))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(json!({ "items": items })))
}
