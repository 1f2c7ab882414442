//! Request guards of the console API: [`Staff`] (a live session; the CSRF token on every
//! change) and [`Admin`] (the same, admins only). A refusal answers with the JSON error
//! shape and a code that says why (`session_required`, `csrf_invalid`, `forbidden`).

use rocket::http::{Method, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::{catch, Request, State};
use time::Duration;

use crate::app::App;
use crate::domain::console::sessions;
use crate::domain::console::{Scope, StaffMember};
use crate::web::error::ApiError;

/// The session cookie; sent only to the console API.
pub const COOKIE: &str = "gosdom_console";
/// Where the console API's cookie is sent.
pub const COOKIE_PATH: &str = "/api/console";
/// The header that carries the session's CSRF token on every change.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// A signed-in staff member.
#[derive(Clone, Debug)]
pub struct Staff {
    pub member: StaffMember,
    pub session_id: i64,
    pub csrf_token: String,
}

impl Staff {
    /// The data this member may see: pass it first to every domain query.
    pub fn scope(&self) -> Scope {
        self.member.scope()
    }

    /// How the audit log names this member.
    pub fn actor(&self) -> String {
        self.member.actor()
    }
}

/// A signed-in admin (regional, or of one УО).
#[derive(Clone, Debug)]
pub struct Admin(pub Staff);

/// Why a guard refused, for the catchers below.
struct Refusal(Option<(Status, &'static str, String)>);

/// Fails the guard with `error`; Rocket logs the error's code.
fn refuse<T>(req: &Request<'_>, error: ApiError) -> Outcome<T, &'static str> {
    let (status, code) = (error.status, error.code);
    req.local_cache(|| Refusal(Some((error.status, error.code, error.message))));
    Outcome::Error((status, code))
}

/// The session's idle limit from `console.session_hours`.
pub fn idle_limit(app: &App) -> Duration {
    Duration::hours(i64::from(app.config.console.session_hours.max(1)))
}

fn changes_state(method: Method) -> bool {
    !matches!(method, Method::Get | Method::Head | Method::Options)
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Staff {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, &'static str> {
        let app = match req.guard::<&State<App>>().await {
            Outcome::Success(app) => app,
            _ => return refuse(req, ApiError::internal("console guard without App")),
        };
        let Some(token) = req.cookies().get(COOKIE).map(|c| c.value().to_string()) else {
            return refuse(
                req,
                ApiError::unauthorized("session_required", "Войдите в консоль."),
            );
        };
        let (idle, now) = (idle_limit(app), app.now());
        let found = app
            .store
            .call(move |conn| sessions::find(conn, &token, idle, now))
            .await;
        let active = match found {
            Ok(Some(active)) => active,
            Ok(None) => {
                return refuse(
                    req,
                    ApiError::unauthorized("session_expired", "Сессия закончилась. Войдите снова."),
                )
            }
            Err(e) => return refuse(req, ApiError::internal(e)),
        };
        if changes_state(req.method()) {
            let sent = req.headers().get_one(CSRF_HEADER).unwrap_or("");
            if !sessions::tokens_equal(sent, &active.csrf_token) {
                return refuse(
                    req,
                    ApiError::new(
                        Status::Forbidden,
                        "csrf_invalid",
                        "Запрос отклонён: обновите страницу и повторите действие.",
                    ),
                );
            }
        }
        Outcome::Success(Staff {
            member: active.staff,
            session_id: active.id,
            csrf_token: active.csrf_token,
        })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Admin {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, &'static str> {
        match Staff::from_request(req).await {
            Outcome::Success(staff) if staff.member.is_admin() => Outcome::Success(Admin(staff)),
            Outcome::Success(_) => refuse(req, ApiError::forbidden()),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(f) => Outcome::Forward(f),
        }
    }
}

fn refusal_or(req: &Request<'_>, fallback: ApiError) -> ApiError {
    match &req.local_cache(|| Refusal(None)).0 {
        Some((status, code, message)) => ApiError::new(*status, code, message.clone()),
        None => fallback,
    }
}

#[catch(401)]
pub fn refused_401(req: &Request<'_>) -> ApiError {
    refusal_or(
        req,
        ApiError::unauthorized("session_required", "Войдите в консоль."),
    )
}

#[catch(403)]
pub fn refused_403(req: &Request<'_>) -> ApiError {
    refusal_or(req, ApiError::forbidden())
}
