//! `GET /auth/esia/start` and `GET /auth/esia/callback`: the browser's round trip to ЕСИА.
//!
//! The mini-app gets a start link from `POST /api/v1/session/esia`; the callback checks
//! the state, exchanges the code (off the async runtime, with a timeout), stores the person,
//! links their premises and sends the browser back to the app with a one-time completion
//! code, which the app redeems with its own session.

use std::time::Duration;

use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, State};

use crate::app::App;
use crate::connectors::esia::{self, AuthRequest, EsiaError};
use crate::connectors::registry;
use crate::domain::{properties, signin};

/// How long the resident waits for ЕСИА at most.
const ESIA_TIMEOUT: Duration = Duration::from_secs(45);

/// The page a failed sign-in ends on.
fn failure(status: Status, code: &str, message: &str) -> (Status, RawHtml<String>) {
    let message = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    (
        status,
        RawHtml(format!(
            "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>Вход не выполнен</title><style>body{{font-family:system-ui,sans-serif;\
             background:#f1f4f9;color:#0b1f33;margin:0}}main{{max-width:480px;margin:0 auto;\
             padding:32px 16px}}.card{{background:#fff;border-radius:12px;padding:20px;\
             box-shadow:0 1px 4px rgba(11,31,51,.12)}}a{{display:inline-block;margin-top:12px;\
             background:#0d4cd3;color:#fff;padding:10px 16px;border-radius:8px;\
             text-decoration:none}}</style></head><body><main><div class=\"card\" \
             data-error-code=\"{code}\"><h1>Не удалось войти через Госуслуги</h1>\
             <p>{message}</p><a href=\"/app/\">Вернуться в приложение</a></div></main>\
             </body></html>"
        )),
    )
}

fn esia_failure(e: &EsiaError) -> (Status, RawHtml<String>) {
    if e.is_operator_problem() {
        tracing::warn!(code = e.code(), error = %e, "ЕСИА sign-in failed");
    } else {
        tracing::info!(code = e.code(), "ЕСИА sign-in refused");
    }
    let status = match e.code() {
        "esia_not_confirmed" | "esia_denied" => Status::Forbidden,
        "esia_expired" => Status::BadRequest,
        _ => Status::BadGateway,
    };
    failure(status, e.code(), &e.message())
}

fn internal(detail: impl std::fmt::Display) -> (Status, RawHtml<String>) {
    tracing::error!(error = %detail, "ЕСИА sign-in: internal error");
    failure(
        Status::InternalServerError,
        "internal_error",
        "Что-то пошло не так. Попробуйте ещё раз через минуту.",
    )
}

/// Sends the browser to ЕСИА with a signed authorisation request.
#[get("/auth/esia/start?<state>")]
pub async fn start(app: &State<App>, state: &str) -> Result<Redirect, (Status, RawHtml<String>)> {
    let now = app.now();
    let owned = state.to_string();
    let attempt = app
        .store
        .call(move |conn| signin::pending(conn, &owned, now))
        .await
        .map_err(internal)?
        .ok_or_else(|| esia_failure(&EsiaError::State))?;
    let client = esia::from_app(app).map_err(|e| esia_failure(&e))?;
    let request = AuthRequest {
        state: attempt.state,
        redirect_uri: esia::redirect_uri(app),
    };
    let url = tokio::task::spawn_blocking(move || client.authorization_url(&request, now))
        .await
        .map_err(internal)?
        .map_err(|e| esia_failure(&e))?;
    Ok(Redirect::to(url))
}

/// ЕСИА sends the browser back here with a code (or an error) and our state.
#[get("/auth/esia/callback?<code>&<state>&<error>&<error_description>")]
pub async fn callback(
    app: &State<App>,
    code: Option<&str>,
    state: Option<&str>,
    error: Option<&str>,
    error_description: Option<&str>,
) -> Result<Redirect, (Status, RawHtml<String>)> {
    let now = app.now();
    let state = state.unwrap_or_default().to_string();
    let attempt = app
        .store
        .write(move |tx| signin::take(tx, &state, now))
        .await
        .map_err(internal)?
        .ok_or_else(|| esia_failure(&EsiaError::State))?;

    let result = match (code, error) {
        (Some(code), None) if !code.is_empty() => {
            exchange(app, attempt.clone(), code.to_string()).await
        }
        _ => Err(esia::error_from(
            error.unwrap_or("invalid_request"),
            error_description.unwrap_or(""),
        )),
    };
    match result {
        Ok(completion) => Ok(Redirect::to(format!("/app/?esia={completion}"))),
        Err(e) => {
            let code = e.code();
            let id = attempt.id;
            app.store
                .write(move |tx| signin::record_outcome(tx, id, code))
                .await
                .map_err(internal)?;
            Err(esia_failure(&e))
        }
    }
}

/// Code → person → premises → completion code, off the async runtime.
async fn exchange(app: &App, attempt: signin::Attempt, code: String) -> Result<String, EsiaError> {
    let client = esia::from_app(app)?;
    let request = AuthRequest {
        state: attempt.state.clone(),
        redirect_uri: esia::redirect_uri(app),
    };
    let store = app.store.clone();
    let sources = registry::sources(&app.config);
    let snils_key = app.config.registry.snils_key.clone();
    let now = app.now();
    let work = tokio::task::spawn_blocking(move || {
        let person = client.sign_in(&code, &request, now)?;
        if !person.trusted {
            return Err(EsiaError::NotTrusted);
        }
        let keys = signin::person_keys(&person, &snils_key);
        let conn = store
            .conn()
            .map_err(|e| EsiaError::Protocol(e.to_string()))?;
        let mut found = Vec::new();
        for source in &sources {
            match source.owned_premises(&conn, &keys) {
                Ok(mut more) => found.append(&mut more),
                Err(e) => tracing::warn!(source = source.name(), error = %e, "registry failed"),
            }
        }
        drop(conn);
        store
            .write_blocking(|tx| {
                let (person_id, completion) =
                    signin::record_person(tx, &attempt, &person, &keys, now)?;
                let linked = properties::link(tx, person_id, &found, now)?;
                tracing::info!(person_id, linked, "ЕСИА vouched for a person");
                Ok(completion)
            })
            .map_err(|e| EsiaError::Protocol(format!("store: {e}")))
    });
    match tokio::time::timeout(ESIA_TIMEOUT, work).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(EsiaError::Protocol(e.to_string())),
        Err(_) => Err(EsiaError::Unavailable("timed out".into())),
    }
}
