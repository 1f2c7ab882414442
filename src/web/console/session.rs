//! Sign-in, sign-out and «who am I» of the console.

use rocket::http::{ContentType, Cookie, CookieJar, Header, SameSite, Status};
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{delete, get, post, Request, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::Duration;

use super::guard::{idle_limit, Staff, COOKIE, COOKIE_PATH};
use crate::app::App;
use crate::domain::console::throttle::{self, Policy};
use crate::domain::console::{
    audit, organisations, sessions, staff, OrganisationRef, Role, StaffMember,
};
use crate::web::client_ip::ClientIp;
use crate::web::error::{ApiError, ApiResult};

/// Longer passwords are refused without hashing them.
const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Deserialize)]
pub struct Credentials {
    pub login: String,
    pub password: String,
}

/// Who is signed in, and the token to send with every change.
#[derive(Serialize)]
pub struct Me {
    pub id: i64,
    pub login: String,
    pub role: Role,
    /// `null` for a regional admin.
    pub organisation: Option<OrganisationRef>,
    pub csrf_token: String,
}

/// A refused sign-in; `Retry-After` (seconds) while attempts are slowed.
#[derive(Debug)]
pub struct Refused {
    error: ApiError,
    retry_after: Option<i64>,
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Refused {
            error,
            retry_after: None,
        }
    }
}

impl<'r> Responder<'r, 'static> for Refused {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = self.error.respond_to(req)?;
        if let Some(secs) = self.retry_after {
            res.set_header(Header::new("Retry-After", secs.to_string()));
        }
        Ok(res)
    }
}

fn slowed(wait: Duration) -> Refused {
    // Round up: answering 0 s would invite an immediate retry that is still refused.
    let secs = (wait.whole_milliseconds() as i64 + 999) / 1000;
    let minutes = (secs + 59) / 60;
    Refused {
        error: ApiError::too_many(format!(
            "Слишком много неверных попыток входа. Повторите через {} мин.",
            minutes.max(1)
        )),
        retry_after: Some(secs.max(1)),
    }
}

fn wrong_credentials() -> Refused {
    ApiError::unauthorized("invalid_credentials", "Неверный логин или пароль.").into()
}

async fn me_of(app: &App, member: &StaffMember, csrf_token: &str) -> ApiResult<Me> {
    let scope = member.scope();
    let organisation = match member.organisation_id {
        Some(_) => app
            .store
            .call(move |conn| organisations(scope, conn))
            .await?
            .into_iter()
            .next(),
        None => None,
    };
    Ok(Me {
        id: member.id,
        login: member.login.clone(),
        role: member.role,
        organisation,
        csrf_token: csrf_token.to_string(),
    })
}

/// `POST /api/console/v1/session` `{"login", "password"}`: sets the session cookie and
/// answers who signed in with the CSRF token.
#[post("/session", data = "<body>")]
pub async fn sign_in(
    app: &State<App>,
    ip: ClientIp,
    jar: &CookieJar<'_>,
    content_type: Option<&ContentType>,
    body: Json<Credentials>,
) -> Result<Json<Me>, Refused> {
    // A cross-site form cannot send JSON: this keeps other sites from signing a browser in.
    if !content_type.is_some_and(|t| t.media_type().is_json()) {
        return Err(ApiError::new(
            Status::UnsupportedMediaType,
            "json_required",
            "Данные входа отправляются в формате JSON.",
        )
        .into());
    }
    let Credentials { login, password } = body.into_inner();
    let keys = throttle::keys(&login, &ip.0.to_string());
    let policy = Policy::new(app.config.console.login_attempts);
    let now = app.now();

    let checked = keys.clone();
    if let Some(wait) = app
        .store
        .call(move |conn| throttle::wait(conn, &checked, now))
        .await
        .map_err(ApiError::from)?
    {
        return Err(slowed(wait));
    }

    let wanted = login.clone();
    let account = app
        .store
        .call(move |conn| staff::for_sign_in(conn, &wanted))
        .await
        .map_err(ApiError::from)?;
    let member = tokio::task::spawn_blocking(move || match account {
        _ if password.len() > MAX_PASSWORD_BYTES => None,
        Some((member, hash)) if staff::password_matches(&password, &hash) => Some(member),
        Some(_) => None,
        None => {
            staff::waste_verification(&password);
            None
        }
    })
    .await
    .map_err(ApiError::internal)?;

    let Some(member) = member else {
        let delay = app
            .store
            .write(move |tx| throttle::record_failure(tx, &keys, &policy, now))
            .await
            .map_err(ApiError::from)?;
        tracing::info!(slowed = delay.is_some(), "console: sign-in refused");
        return Err(wrong_credentials());
    };

    let idle = idle_limit(app);
    let (user_id, login_key) = (member.id, keys[0].clone());
    let issued = app
        .store
        .write(move |tx| {
            throttle::clear(tx, &login_key)?;
            let issued = sessions::start(tx, user_id, idle, now)?;
            audit::record(
                tx,
                &format!("staff:{user_id}"),
                "session.start",
                &format!("console_user:{user_id}"),
                json!({}),
                now,
            )?;
            Ok(issued)
        })
        .await
        .map_err(ApiError::from)?;
    tracing::info!(staff = user_id, "console: signed in");

    let secure = app.config.server.public_url.starts_with("https://");
    jar.add(
        Cookie::build((COOKIE, issued.token))
            .path(COOKIE_PATH)
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Strict),
    );
    Ok(Json(me_of(app, &member, &issued.csrf_token).await?))
}

/// `DELETE /api/console/v1/session`: signs out.
#[delete("/session")]
pub async fn sign_out(app: &State<App>, staff: Staff, jar: &CookieJar<'_>) -> ApiResult<Status> {
    let (id, actor, now) = (staff.session_id, staff.actor(), app.now());
    let object = format!("console_user:{}", staff.member.id);
    app.store
        .write(move |tx| {
            sessions::end(tx, id)?;
            audit::record(tx, &actor, "session.end", &object, json!({}), now)
        })
        .await?;
    jar.remove(Cookie::build(COOKIE).path(COOKIE_PATH));
    Ok(Status::NoContent)
}

/// `GET /api/console/v1/me`.
#[get("/me")]
pub async fn me(app: &State<App>, staff: Staff) -> ApiResult<Json<Me>> {
    Ok(Json(me_of(app, &staff.member, &staff.csrf_token).await?))
}
