//! «Статистика»: usage figures per day and in total.

use rocket::serde::json::Json;
use rocket::{get, State};
use time::{Date, Duration};

use super::guard::Staff;
use crate::app::App;
use crate::domain::console::usage::{self, Usage};
use crate::web::error::{ApiError, ApiResult};

/// The longest period one request may ask for.
const MAX_DAYS: i64 = 366;
/// The period shown when none is asked for.
const DEFAULT_DAYS: i64 = 30;

fn parse_day(text: &str) -> ApiResult<Date> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| ApiError::bad_request("invalid_date", "Дата должна быть в виде ГГГГ-ММ-ДД."))
}

/// `GET /api/console/v1/usage?from=YYYY-MM-DD&to=YYYY-MM-DD` (default: the last 30 days).
#[get("/usage?<from>&<to>")]
pub async fn usage_figures(
    app: &State<App>,
    staff: Staff,
    from: Option<&str>,
    to: Option<&str>,
) -> ApiResult<Json<Usage>> {
    let to = match to {
        Some(t) => parse_day(t)?,
        None => app.now().date(),
    };
    let from = match from {
        Some(f) => parse_day(f)?,
        None => to - Duration::days(DEFAULT_DAYS - 1),
    };
    if from > to || (to - from).whole_days() >= MAX_DAYS {
        return Err(ApiError::bad_request(
            "invalid_period",
            "Период должен начинаться не позже конца и быть не длиннее года.",
        ));
    }
    let scope = staff.scope();
    let figures = app
        .store
        .call(move |conn| usage::figures(scope, conn, from, to))
        .await?;
    Ok(Json(figures))
}
