//! The JSON error shape every client sees:
//! `{"error": {"code": "snake_case_code", "message": "текст для человека"}}`.
//! Handlers return [`ApiError`]; internal detail is logged once and never sent.

use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder};
use rocket::{catch, Request, Response};
use serde_json::json;

use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: Status,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: Status, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Status::BadRequest, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Status::UnprocessableEntity, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(Status::NotFound, "not_found", "Не найдено.")
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Status::Unauthorized, code, message)
    }

    pub fn forbidden() -> Self {
        Self::new(
            Status::Forbidden,
            "forbidden",
            "Недостаточно прав для этого действия.",
        )
    }

    pub fn too_many(message: impl Into<String>) -> Self {
        Self::new(Status::TooManyRequests, "too_many_requests", message)
    }

    /// A 500: logs `detail` once, tells the client only that something went wrong.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            Status::InternalServerError,
            "internal_error",
            "Что-то пошло не так. Попробуйте ещё раз через минуту.",
        )
    }

    fn body(&self) -> String {
        json!({"error": {"code": self.code, "message": self.message}}).to_string()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.code, self.code)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let body = self.body();
        Response::build()
            .status(self.status)
            .header(ContentType::JSON)
            .sized_body(body.len(), std::io::Cursor::new(body))
            .ok()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

fn shaped(status: Status, code: &'static str, message: &str) -> ApiError {
    ApiError::new(status, code, message)
}

#[catch(400)]
pub fn bad_request() -> ApiError {
    shaped(Status::BadRequest, "bad_request", "Некорректный запрос.")
}

#[catch(401)]
pub fn unauthorized() -> ApiError {
    shaped(Status::Unauthorized, "unauthorized", "Нужно войти заново.")
}

#[catch(403)]
pub fn forbidden() -> ApiError {
    ApiError::forbidden()
}

#[catch(404)]
pub fn not_found() -> ApiError {
    ApiError::not_found()
}

#[catch(413)]
pub fn too_large() -> ApiError {
    shaped(
        Status::PayloadTooLarge,
        "too_large",
        "Слишком большой объём данных.",
    )
}

#[catch(422)]
pub fn unprocessable() -> ApiError {
    shaped(
        Status::UnprocessableEntity,
        "invalid_body",
        "Данные не прошли проверку: проверьте, что все поля заполнены верно.",
    )
}

#[catch(429)]
pub fn too_many() -> ApiError {
    ApiError::too_many("Слишком много запросов. Подождите немного и попробуйте снова.")
}

#[catch(500)]
pub fn internal() -> ApiError {
    shaped(
        Status::InternalServerError,
        "internal_error",
        "Что-то пошло не так. Попробуйте ещё раз через минуту.",
    )
}

#[catch(default)]
pub fn other(status: Status, _: &Request<'_>) -> ApiError {
    if status.code >= 500 {
        return internal();
    }
    shaped(status, "request_failed", "Запрос не выполнен.")
}

pub fn catchers() -> Vec<rocket::Catcher> {
    rocket::catchers![
        bad_request,
        unauthorized,
        forbidden,
        not_found,
        too_large,
        unprocessable,
        too_many,
        internal,
        other
    ]
}
