//! «Пользователи» (admins): staff accounts of the admin's УО, or of all УО for a regional
//! admin; and the organisations an account may belong to.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::guard::{Admin, Staff};
use crate::app::App;
use crate::domain::console::staff::{self, NewAccount, StaffError, MIN_PASSWORD_CHARS};
use crate::domain::console::{audit, organisations, Role};
use crate::web::error::{ApiError, ApiResult};

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::InvalidLogin => ApiError::unprocessable(
                "invalid_login",
                "Логин: от 2 до 64 латинских букв, цифр и знаков «.», «_», «-».",
            ),
            StaffError::WeakPassword => ApiError::unprocessable(
                "weak_password",
                format!("Пароль должен быть не короче {MIN_PASSWORD_CHARS} символов."),
            ),
            StaffError::OrganisationRequired => ApiError::unprocessable(
                "organisation_required",
                "Оператор должен относиться к управляющей организации.",
            ),
            StaffError::UnknownOrganisation(_) => ApiError::unprocessable(
                "unknown_organisation",
                "Такой управляющей организации нет.",
            ),
            StaffError::LoginTaken(_) => {
                ApiError::new(Status::Conflict, "login_taken", "Такой логин уже занят.")
            }
            StaffError::NotFound => ApiError::not_found(),
            StaffError::SelfDisable => ApiError::unprocessable(
                "self_disable",
                "Нельзя отключить собственную учётную запись.",
            ),
            StaffError::OutOfScope => ApiError::forbidden(),
            StaffError::Hash(e) => ApiError::internal(e),
            StaffError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `GET /api/console/v1/users`.
#[get("/users")]
pub async fn list_users(app: &State<App>, admin: Admin) -> ApiResult<Json<Value>> {
    let scope = admin.0.scope();
    let users = app
        .store
        .call(move |conn| Ok(staff::list(scope, conn)))
        .await??;
    Ok(Json(json!({ "users": users })))
}

#[derive(Deserialize)]
pub struct NewUser {
    pub login: String,
    pub role: Role,
    /// Defaults to the admin's own УО.
    pub organisation_id: Option<i64>,
    pub password: String,
}

/// `POST /api/console/v1/users` `{"login", "role", "organisation_id", "password"}`.
#[post("/users", data = "<body>")]
pub async fn add_user(
    app: &State<App>,
    admin: Admin,
    body: Json<NewUser>,
) -> ApiResult<(Status, Json<Value>)> {
    let body = body.into_inner();
    let by = admin.0.member.clone();
    let account = NewAccount {
        login: staff::normalise_login(&body.login)?,
        role: body.role,
        organisation_id: body.organisation_id.or(by.organisation_id),
    };
    let password = body.password;
    let hash = tokio::task::spawn_blocking(move || staff::hash_password(&password))
        .await
        .map_err(ApiError::internal)??;
    let now = app.now();
    let id = app
        .store
        .write(move |tx| {
            let added = staff::add(tx, Some(&by), &account, &hash, now);
            if let Ok(id) = added {
                let detail = json!({
                    "role": account.role.as_str(),
                    "organisation_id": account.organisation_id,
                });
                let object = format!("console_user:{id}");
                audit::record(tx, &by.actor(), "user.add", &object, detail, now)?;
            }
            Ok(added)
        })
        .await??;
    tracing::info!(
        user = id,
        staff = admin.0.member.id,
        "console: staff account added"
    );
    Ok((Status::Created, Json(json!({ "id": id }))))
}

/// `POST /api/console/v1/users/<id>/disable`: the account can no longer sign in; its
/// sessions end.
#[post("/users/<id>/disable")]
pub async fn disable_user(app: &State<App>, admin: Admin, id: i64) -> ApiResult<Json<Value>> {
    let by = admin.0.member.clone();
    let (scope, now) = (by.scope(), app.now());
    app.store
        .write(move |tx| {
            let done = staff::disable(scope, tx, id, Some(&by), now);
            if done.is_ok() {
                let object = format!("console_user:{id}");
                audit::record(tx, &by.actor(), "user.disable", &object, json!({}), now)?;
            }
            Ok(done)
        })
        .await??;
    tracing::info!(
        user = id,
        staff = admin.0.member.id,
        "console: staff account disabled"
    );
    Ok(Json(json!({ "id": id, "disabled": true })))
}

/// `GET /api/console/v1/organisations`: the УО this member may see.
#[get("/organisations")]
pub async fn list_organisations(app: &State<App>, staff: Staff) -> ApiResult<Json<Value>> {
    let scope = staff.scope();
    let list = app
        .store
        .call(move |conn| organisations(scope, conn))
        .await?;
    Ok(Json(json!({ "organisations": list })))
}
