//! «Обмен с ГИС ЖКХ»: outbox state for all staff; failed jobs and their retry for admins.

use rocket::serde::json::Json;
use rocket::{get, post, State};
use serde_json::{json, Value};

use super::guard::{Admin, Staff};
use crate::app::App;
use crate::domain::console::{audit, exchange};
use crate::web::error::{ApiError, ApiResult};

/// Failed jobs listed at most.
const FAILED_SHOWN: u32 = 200;

/// `GET /api/console/v1/exchange`.
#[get("/exchange")]
pub async fn exchange_state(app: &State<App>, staff: Staff) -> ApiResult<Json<Value>> {
    let scope = staff.scope();
    let admin = staff.member.is_admin();
    let (depth, last_done, failed, waiting) = app
        .store
        .call(move |conn| {
            let (failed, waiting) = if admin {
                (
                    exchange::failed(scope, conn, FAILED_SHOWN)?,
                    exchange::waiting(scope, conn, FAILED_SHOWN)?,
                )
            } else {
                (Vec::new(), Vec::new())
            };
            Ok((
                exchange::depth(conn)?,
                exchange::last_done(conn)?,
                failed,
                waiting,
            ))
        })
        .await?;
    Ok(Json(json!({
        "depth": depth,
        "last_done": last_done,
        "failed": failed,
        "waiting": waiting,
        "can_retry": admin,
    })))
}

/// `POST /api/console/v1/exchange/jobs/<id>/retry`: a failed job goes back in the queue.
#[post("/exchange/jobs/<id>/retry")]
pub async fn retry_job(app: &State<App>, admin: Admin, id: i64) -> ApiResult<Json<Value>> {
    let (scope, actor, now) = (admin.0.scope(), admin.0.actor(), app.now());
    let kind = app
        .store
        .write(move |tx| {
            let kind = exchange::retry(scope, tx, id, now)?;
            if let Some(kind) = &kind {
                let object = format!("outbox:{id}");
                let detail = json!({ "kind": kind });
                audit::record(tx, &actor, "outbox.retry", &object, detail, now)?;
            }
            Ok(kind)
        })
        .await?;
    if kind.is_none() {
        return Err(ApiError::not_found());
    }
    app.wake_outbox();
    tracing::info!(
        job = id,
        staff = admin.0.member.id,
        "console: failed job queued again"
    );
    Ok(Json(json!({ "id": id, "state": "pending" })))
}
