//! `Resident`: the request guard of the resident API. `Authorization: Bearer <token>` →
//! live session → MAX user → the person they signed in as, if any.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};
use rocket::Request;

use crate::app::App;
use crate::domain::sessions::{self, SessionProblem};
use crate::web::ApiError;

/// The caller of a resident API route.
#[derive(Clone, Debug)]
pub struct Resident {
    pub session_id: i64,
    pub max_user_id: i64,
    pub first_name: String,
    pub person_id: Option<i64>,
}

impl Resident {
    /// The person, or 403 `sign_in_required` for a MAX user not yet signed in via ЕСИА.
    pub fn person(&self) -> Result<i64, ApiError> {
        self.person_id.ok_or_else(|| {
            ApiError::new(
                Status::Forbidden,
                "sign_in_required",
                "Войдите через Госуслуги, чтобы увидеть свои объекты.",
            )
        })
    }
}

fn bearer<'a>(req: &'a Request<'_>) -> Option<&'a str> {
    let value = req.headers().get_one("Authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Resident {
    type Error = ApiError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ApiError> {
        let unauthorized = |code, message: &str| {
            Outcome::Error((Status::Unauthorized, ApiError::unauthorized(code, message)))
        };
        let Some(token) = bearer(req).map(str::to_string) else {
            return unauthorized("session_missing", "Откройте приложение заново из чата MAX.");
        };
        let Some(app) = req.rocket().state::<App>() else {
            return Outcome::Error((
                Status::InternalServerError,
                ApiError::internal("no App state"),
            ));
        };
        let now = app.now();
        match app
            .store
            .call(move |conn| sessions::resolve(conn, &token, now))
            .await
        {
            Ok(Ok(owner)) => Outcome::Success(Resident {
                session_id: owner.session_id,
                max_user_id: owner.max_user_id,
                first_name: owner.first_name,
                person_id: owner.person_id,
            }),
            Ok(Err(SessionProblem::Expired)) => unauthorized(
                "session_expired",
                "Сеанс истёк. Откройте приложение заново из чата MAX.",
            ),
            Ok(Err(SessionProblem::Unknown)) => unauthorized(
                "session_invalid",
                "Сеанс не найден. Откройте приложение заново из чата MAX.",
            ),
            Err(e) => Outcome::Error((Status::InternalServerError, ApiError::internal(e))),
        }
    }
}
