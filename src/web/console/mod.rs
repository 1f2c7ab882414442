//! The operator console's HTTP face: the UI under `/console/` and its API under
//! `/api/console/v1`.
//!
//! Every API handler takes a [`guard::Staff`] (or [`guard::Admin`]): without a live
//! session it answers 401, a change without the session's `X-CSRF-Token` 403, an operator
//! at an admin action 403. Handlers pass `staff.scope()` as the first argument of every
//! domain query. Areas that other modules add (requests, readings, announcements) mount
//! their routes under [`API_BASE`] with the same guards.

pub mod announcements;
pub mod audit;
pub mod exchange;
pub mod guard;
pub mod houses;
pub mod readings;
pub mod register;
pub mod requests;
pub mod session;
pub mod usage;
pub mod users;

use std::path::PathBuf;

use rocket::{get, routes, Route};

use crate::web::assets::{spa_file, Asset, CacheInfo};

pub use guard::{Admin, Staff};

/// Where the console API is mounted.
pub const API_BASE: &str = "/api/console/v1";

/// The console API's routes, to mount at [`API_BASE`].
pub fn api_routes() -> Vec<Route> {
    routes![
        session::sign_in,
        session::sign_out,
        session::me,
        houses::list_houses,
        exchange::exchange_state,
        exchange::retry_job,
        usage::usage_figures,
        users::list_users,
        users::add_user,
        users::disable_user,
        users::list_organisations,
        audit::audit_entries,
    ]
}

/// The UI's routes, to mount at `/`.
pub fn ui_routes() -> Vec<Route> {
    routes![console_file]
}

/// Catchers that answer with the reason a console guard gave, to register at [`API_BASE`].
pub fn catchers() -> Vec<rocket::Catcher> {
    rocket::catchers![guard::refused_401, guard::refused_403]
}

/// `/console`, `/console/` and every screen under it.
#[get("/console/<path..>", rank = 20)]
pub fn console_file(path: PathBuf, cache: CacheInfo) -> Option<Asset> {
    spa_file("console", &path, &cache)
}
