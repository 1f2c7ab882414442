//! «Журнал действий» (admins): who changed what, when.

use rocket::serde::json::Json;
use rocket::{get, State};
use serde_json::{json, Value};

use super::guard::Admin;
use crate::app::App;
use crate::domain::console::audit;
use crate::web::error::ApiResult;

/// Entries shown at most.
const SHOWN: u32 = 200;

/// `GET /api/console/v1/audit`: the newest entries of the admin's УО.
#[get("/audit")]
pub async fn audit_entries(app: &State<App>, admin: Admin) -> ApiResult<Json<Value>> {
    let scope = admin.0.scope();
    let entries = app
        .store
        .call(move |conn| audit::recent(scope, conn, SHOWN))
        .await?;
    Ok(Json(json!({ "entries": entries })))
}
