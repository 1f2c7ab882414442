//! A bare Rocket for the benchmarks' ceilings: the same settings and fairings as
//! [`super::build`], but every route only answers 200. What the real routes cost is read
//! against it, measured in the same run on the same machine.

use rocket::http::Status;
use rocket::{get, post, routes, Build, Rocket};

use super::{fairings, rocket_figment};
use crate::app::App;

#[get("/<_..>")]
fn get_ok() -> Status {
    Status::Ok
}

#[post("/<_..>")]
fn post_ok() -> Status {
    Status::Ok
}

/// The bare server on `port`, with `app`'s server settings.
pub fn build(app: App, secret_key: &str, port: u16) -> Rocket<Build> {
    let figment = rocket_figment(&app, secret_key).merge(("port", port));
    rocket::custom(figment)
        .attach(rocket::shield::Shield::new())
        .attach(fairings::SecurityHeaders::new())
        .attach(fairings::RequestLog)
        .mount("/", routes![get_ok, post_ok])
        .manage(app)
}
