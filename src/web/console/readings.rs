//! «Показания» of the console under [`super::API_BASE`], for operators and admins:
//! a house's meters in a month (submitted, missing, rejected by ГИС ЖКХ with the reason)
//! and the month's billing CSV of the staff member's УО as a file.
//!
//! The CSV is the one `gosdom export readings --period` prints, preceded by a UTF-8 byte
//! order mark: Excel then reads the Cyrillic addresses right; CSV libraries skip it.

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{get, routes, Request, Response, Route, State};
use serde_json::json;

use super::guard::Staff;
use crate::app::App;
use crate::domain::console::readings::{self, HouseReadings};
use crate::domain::console::{audit, Scope};
use crate::domain::readings::{export_period, ExportCsvError, Period};
use crate::store::StoreError;
use crate::web::error::{ApiError, ApiResult};

/// The routes of this file, to mount at [`super::API_BASE`].
pub fn routes() -> Vec<Route> {
    routes![house_readings, export_csv]
}

/// The UTF-8 byte order mark that starts the downloaded CSV.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `period` from the query, or the current month.
fn period(app: &App, text: Option<&str>) -> ApiResult<Period> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => {
            let today = app.now().date();
            Ok(Period {
                year: today.year(),
                month: today.month(),
            })
        }
        Some(text) => text.parse().map_err(|_| {
            ApiError::unprocessable(
                "invalid_period",
                "Период указывается как ГГГГ-ММ, например 2026-11.",
            )
        }),
    }
}

/// `GET /readings?period=YYYY-MM&house_id=N`: the house's meters in the month. Without
/// `period`, the current month.
#[get("/readings?<period>&<house_id>")]
pub async fn house_readings(
    app: &State<App>,
    staff: Staff,
    period: Option<&str>,
    house_id: Option<&str>,
) -> ApiResult<Json<HouseReadings>> {
    let period = self::period(app, period)?;
    let house_id = match house_id.map(str::trim).filter(|t| !t.is_empty()) {
        None => return Err(ApiError::unprocessable("house_required", "Выберите дом.")),
        Some(text) => text
            .parse::<i64>()
            .map_err(|_| ApiError::unprocessable("invalid_house", "Дом указан неверно."))?,
    };
    let scope = staff.scope();
    let found = app
        .store
        .call(move |conn| readings::of_house(scope, conn, house_id, period))
        .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::new(Status::NotFound, "house_not_found", "Дом не найден."))
}

/// A CSV file to download.
pub struct CsvFile {
    pub name: String,
    pub body: Vec<u8>,
}

impl<'r> Responder<'r, 'static> for CsvFile {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .header(ContentType::new("text", "csv").with_params(("charset", "utf-8")))
            .header(Header::new(
                "Content-Disposition",
                format!("attachment; filename=\"{}\"", self.name),
            ))
            .header(Header::new("Cache-Control", "no-store"))
            .sized_body(self.body.len(), Cursor::new(self.body))
            .ok()
    }
}

/// `GET /readings/export?period=YYYY-MM[&organisation_id=N]`: the month's readings that
/// count, of the staff member's УО, as the billing CSV. A regional admin gets every УО,
/// or the one `organisation_id` names.
#[get("/readings/export?<period>&<organisation_id>")]
pub async fn export_csv(
    app: &State<App>,
    staff: Staff,
    period: Option<&str>,
    organisation_id: Option<&str>,
) -> ApiResult<CsvFile> {
    let period = self::period(app, period)?;
    let asked = match organisation_id.map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            ApiError::unprocessable(
                "invalid_organisation",
                "Управляющая организация указана неверно.",
            )
        })?),
    };
    let organisation = match (staff.scope(), asked) {
        (Scope::Organisation(own), Some(other)) if other != own => {
            return Err(ApiError::new(
                Status::NotFound,
                "organisation_not_found",
                "Управляющая организация не найдена.",
            ))
        }
        (Scope::Organisation(own), _) => Some(own),
        (Scope::Region, asked) => asked,
    };
    let (body, rows) = app
        .store
        .call(move |conn| {
            let mut body = BOM.to_vec();
            // Writing to memory fails only through the store.
            let rows =
                export_period(conn, period, organisation, &mut body).map_err(|e| match e {
                    ExportCsvError::Store(e) => e,
                    ExportCsvError::Csv(e) => StoreError::Io(std::io::Error::other(e)),
                })?;
            Ok((body, rows))
        })
        .await?;

    let (actor, now) = (staff.actor(), app.now());
    app.store
        .write(move |tx| {
            let detail = json!({ "organisation_id": organisation, "rows": rows });
            audit::record(
                tx,
                &actor,
                "readings.export",
                &format!("period:{period}"),
                detail,
                now,
            )
        })
        .await?;
    tracing::info!(staff = staff.member.id, rows, "console: readings exported");
    let name = match organisation {
        Some(id) => format!("readings-{period}-uo{id}.csv"),
        None => format!("readings-{period}.csv"),
    };
    Ok(CsvFile { name, body })
}
