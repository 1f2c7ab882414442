//! «Дома и чаты»: houses of the staff member's УО (read-only for now).

use rocket::serde::json::Json;
use rocket::{get, State};
use serde_json::{json, Value};

use super::guard::Staff;
use crate::app::App;
use crate::domain::console::houses;
use crate::web::error::ApiResult;

/// `GET /api/console/v1/houses`.
#[get("/houses")]
pub async fn list_houses(app: &State<App>, staff: Staff) -> ApiResult<Json<Value>> {
    let scope = staff.scope();
    let rows = app
        .store
        .call(move |conn| houses::list(scope, conn))
        .await?;
    Ok(Json(json!({ "houses": rows })))
}
