//! The HTTP face: one function builds the Rocket instance from an [`App`]; `main` and the
//! tests both use it.

pub mod assets;
pub mod client_ip;
pub mod console;
pub mod error;
pub mod fairings;
pub mod health;

use rocket::config::LogLevel;
use rocket::data::{ByteUnit, Limits};
use rocket::figment::Figment;
use rocket::shield::Shield;
use rocket::{routes, Build, Rocket};

use crate::app::App;

pub use error::{ApiError, ApiResult};

/// Settings that Rocket reads, derived from our config.
fn rocket_figment(app: &App, secret_key: &str) -> Figment {
    let cfg = &app.config;
    let photo = ByteUnit::from(cfg.requests.max_photo_bytes);
    let limits = Limits::default()
        .limit("json", ByteUnit::Mebibyte(1))
        .limit("file", photo)
        .limit(
            "data-form",
            photo * u64::from(cfg.requests.max_photos.max(1)) + ByteUnit::Mebibyte(1),
        );
    let mut figment = rocket::Config::figment()
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
    rocket::custom(rocket_figment(&app, secret_key))
        // Our own headers replace Shield's: its X-Frame-Options would break the mini-app.
        .attach(Shield::new())
        .attach(fairings::SecurityHeaders::new())
        .attach(fairings::RequestLog)
        .register("/", error::catchers())
        .mount(
            "/",
            routes![
                health::healthz,
                health::prometheus_metrics,
                assets::landing,
                assets::app_file,
                assets::shared_file
            ],
        )
        .mount(console::API_BASE, console::api_routes())
        .mount("/", console::ui_routes())
        .register(console::API_BASE, console::catchers())
        .manage(app)
}
