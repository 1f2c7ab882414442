//! `GET /api/v1/properties`, `GET /api/v1/properties/<id>`,
//! `POST /api/v1/properties/claim` (the premise's meters are in [`super::readings`]).
//! A premise that is not the person's answers 404, exactly like one that does not exist.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::guard::Resident;
use crate::app::App;
use crate::domain::properties::{self, ProofOutcome};
use crate::store::ts;
use crate::web::{ApiError, ApiResult};

#[get("/api/v1/properties")]
pub async fn list(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
) -> ApiResult<Json<Value>> {
    let person = resident?.person()?;
    let items = app
        .store
        .call(move |conn| properties::of_person(conn, person))
        .await?;
    Ok(Json(json!({ "items": items })))
}

#[get("/api/v1/properties/<id>")]
pub async fn card(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
) -> ApiResult<Json<Value>> {
    let person = resident?.person()?;
    let card = app
        .store
        .call(move |conn| properties::card(conn, person, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(json!(card)))
}

#[derive(Deserialize)]
pub struct ClaimBody {
    /// ЛС or ЕЛС.
    account: String,
    premise_number: String,
    house_id: Option<i64>,
}

/// Proves ownership with an account number (ЛС or ЕЛС) and the premise number.
#[post("/api/v1/properties/claim", data = "<body>")]
pub async fn prove(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    body: Json<ClaimBody>,
) -> ApiResult<(Status, Json<Value>)> {
    let person = resident?.person()?;
    let now = app.now();
    let body = body.into_inner();
    let outcome = app
        .store
        .write(move |tx| {
            properties::prove_by_account(
                tx,
                person,
                &body.account,
                &body.premise_number,
                body.house_id,
                now,
            )
        })
        .await?;
    match outcome {
        ProofOutcome::Pending { premise_id } => Ok((
            Status::Created,
            Json(json!({"id": premise_id, "status": "pending"})),
        )),
        ProofOutcome::AlreadyLinked { premise_id } => Ok((
            Status::Ok,
            Json(json!({"id": premise_id, "status": "already_linked"})),
        )),
        ProofOutcome::NoMatch { attempts_left } => Err(ApiError::unprocessable(
            "no_such_account",
            format!(
                "Не нашли лицевой счёт с таким номером помещения. Проверьте номер ЛС или ЕЛС \
                 в квитанции и номер квартиры. Осталось попыток: {attempts_left}."
            ),
        )),
        ProofOutcome::Paused { until } => {
            let minutes = ((until - now).whole_seconds() + 59) / 60;
            tracing::info!(person_id = person, until = %ts(until), "ownership proofs paused");
            Err(ApiError::too_many(format!(
                "Слишком много неудачных попыток. Попробуйте снова через {minutes} мин."
            )))
        }
    }
}
