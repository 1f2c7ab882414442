//! The resident API under `/api/v1`, one file per resource. Every handler takes the
//! [`guard::Resident`] and answers only about the session's person: someone else's ids
//! are "not found".

pub mod guard;
pub mod me;
pub mod notifications;
pub mod openapi;
pub mod properties;
pub mod readings;
pub mod requests;
pub mod session;

/// Routes to mount at `/`.
pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![
        session::open_session,
        session::close_session,
        session::start_esia,
        session::complete_esia,
        me::me,
        properties::list,
        properties::card,
        readings::meters,
        readings::submit_readings,
        readings::history,
        properties::prove,
        requests::categories,
        requests::list,
        requests::file,
        requests::card,
        requests::comment,
        requests::add_photos,
        requests::photo,
        requests::reopen,
        requests::rate,
        openapi::openapi,
    ]
}
