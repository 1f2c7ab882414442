//! The HTTP face: one function builds the Rocket instance from an [`App`]; `main` and the
//! tests both use it.

pub mod api;
pub mod assets;
pub mod auth;
pub mod bare;
pub mod bot;
pub mod client_ip;
pub mod console;
pub mod dev;
pub mod dev_max;
pub mod error;
pub mod fairings;
pub mod health;
pub mod uploads;

use rocket::config::LogLevel;
use rocket::data::{ByteUnit, Limits};
use rocket::figment::Figment;
use rocket::shield::Shield;
use rocket::{routes, Build, Rocket};

use crate::app::App;

pub use error::{ApiError, ApiResult};

/// Settings that Rocket reads, derived from our config.
pub(crate) fn rocket_figment(app: &App, secret_key: &str) -> Figment {
    let cfg = &app.config;
    let photo = ByteUnit::from(cfg.requests.max_photo_bytes);
    let limits = Limits::default()
        .limit("json", ByteUnit::Mebibyte(1))
        .limit("file", photo)
        .limit(
            "data-form",
            photo * u64::from(cfg.requests.max_photos.max(1)) + ByteUnit::Mebibyte(1),
        );
    // Rocket's own defaults only: no Rocket.toml or ROCKET_* variables sneak in.
    let mut figment = Figment::from(rocket::Config::default())
        .merge(("address", cfg.server.address))
        .merge(("port", cfg.server.port))
        .merge(("log_level", LogLevel::Off))
        .merge(("cli_colors", false))
        .merge(("ident", "gosdom"))
        // Forwarding headers are read by `client_ip::ClientIp`, from trusted proxies only.
        .merge(("ip_header", false))
        .merge(("limits", limits));
    if !secret_key.is_empty() {
        figment = figment.merge(("secret_key", secret_key));
    }
    figment
}

/// Builds the web server for `app`. `secret_key` signs console cookies.
pub fn build(app: App, secret_key: &str) -> Rocket<Build> {
    health::prometheus();
    let sandbox = app.config.is_sandbox();
    let simulated_max = sandbox && !crate::connectors::max::is_real(&app.config);
    let rocket = rocket::custom(rocket_figment(&app, secret_key))
        // Our own headers replace Shield's: its X-Frame-Options would break the mini-app.
        .attach(Shield::new())
        .attach(fairings::SecurityHeaders::for_mode(sandbox))
        .attach(fairings::RequestLog)
        .register("/", error::catchers())
        .mount(
            "/",
            routes![
                health::healthz,
                health::prometheus_metrics,
                assets::landing,
                assets::app_file,
                assets::shared_file,
                assets::favicon
            ],
        )
        .mount("/", routes![bot::webhook])
        .mount("/", api::routes())
        .mount("/", routes![auth::start, auth::callback]);
    let rocket = if sandbox {
        rocket.mount("/", routes![dev::index])
    } else {
        rocket
    };
    // The sandbox ЕСИА serves only in sandbox mode without a real ЕСИА address.
    let rocket = if sandbox && app.config.esia.base_url.is_empty() {
        rocket.mount(
            "/",
            routes![
                crate::sandbox::esia::login_page,
                crate::sandbox::esia::login_submit
            ],
        )
    } else {
        rocket
    };
    // The MAX simulator exists only in sandbox mode without a real bot token.
    let rocket = if simulated_max {
        rocket.mount("/", dev_max::routes())
    } else {
        rocket
    };
    let rocket = if sandbox {
        rocket
            .mount(crate::sandbox::gis::MOUNT, crate::sandbox::gis::routes())
            .manage(crate::sandbox::gis::SandboxGis::default())
    } else {
        rocket
    };
    rocket
        .mount(console::API_BASE, console::api_routes())
        .mount(console::API_BASE, console::requests::routes())
        .mount(console::API_BASE, console::readings::routes())
        .mount(console::API_BASE, console::register::routes())
        .mount(console::API_BASE, console::houses::routes())
        .mount(console::API_BASE, console::announcements::routes())
        .mount("/", api::notifications::routes())
        .mount("/", console::ui_routes())
        .register(console::API_BASE, console::catchers())
        .manage(crate::bot::group::GroupIntake::new(
            app.store.clone(),
            app.outbox_wake.clone(),
        ))
        .manage(app)
}
