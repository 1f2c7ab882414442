//! `POST /bot/webhook`: MAX delivers updates here. The secret header is compared in
//! constant time; the update is stored (deduplicated) with the job that handles it, and
//! MAX gets its 200 before anything else happens, so a slow or unreachable MAX API never
//! slows the webhook down. Concurrent updates share one durable commit
//! ([`crate::bot::group`]).

use rocket::data::{Data, ToByteUnit};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};
use rocket::{post, Request, State};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::bot::group::GroupIntake;
use crate::config::MaxMode;
use crate::web::{ApiError, ApiResult};

/// The header MAX sends the subscription's secret in.
pub const SECRET_HEADER: &str = "X-Max-Bot-Api-Secret";

/// Updates larger than this are refused (MAX's are a few kilobytes).
const BODY_LIMIT_KIB: u64 = 512;

/// Compares without revealing where two secrets differ, or their lengths.
pub fn secret_matches(given: &str, expected: &str) -> bool {
    if expected.is_empty() {
        return false;
    }
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.ct_eq(&expected).into()
}

/// A request that carries the configured webhook secret.
pub struct FromMax;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FromMax {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let Some(app) = req.rocket().state::<App>() else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        let given = req.headers().get_one(SECRET_HEADER).unwrap_or_default();
        if secret_matches(given, app.config.max.webhook_secret.expose()) {
            Outcome::Success(FromMax)
        } else {
            Outcome::Error((Status::Unauthorized, ()))
        }
    }
}

#[post("/bot/webhook", data = "<body>")]
pub async fn webhook(
    app: &State<App>,
    group: &State<GroupIntake>,
    _from: FromMax,
    body: Data<'_>,
) -> ApiResult<Status> {
    if app.config.max.mode == MaxMode::Polling {
        return Err(ApiError::not_found());
    }
    let text = body
        .open(BODY_LIMIT_KIB.kibibytes())
        .into_string()
        .await
        .map_err(|_| ApiError::bad_request("bad_update", "Не удалось прочитать обновление."))?;
    if !text.is_complete() {
        return Err(ApiError::new(
            Status::PayloadTooLarge,
            "too_large",
            "Слишком большой объём данных.",
        ));
    }
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|_| ApiError::bad_request("bad_update", "Обновление не в формате JSON."))?;
    // Stored and committed (together with the updates that came in meanwhile) before MAX
    // gets its 200; the writer wakes the outbox.
    let intake = group
        .submit(value, app.now())
        .await
        .map_err(ApiError::internal)?;
    metrics::counter!("gosdom_max_updates_total", "result" => format!("{intake:?}")).increment(1);
    Ok(Status::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_match_only_exactly_and_never_when_unset() {
        assert!(secret_matches("abc-123_x", "abc-123_x"));
        assert!(!secret_matches("abc-123_y", "abc-123_x"));
        assert!(!secret_matches("abc-123_x ", "abc-123_x"));
        assert!(!secret_matches("", "abc-123_x"));
        assert!(!secret_matches("", ""));
    }
}
