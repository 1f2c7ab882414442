//! `gosdom max subscribe` and `gosdom max status`: run once against the real Bot API.

use anyhow::{bail, Context};

use super::subscription::webhook_url;
use super::UPDATE_TYPES;
use crate::config::{Config, MaxMode};
use crate::connectors::max::api::{HttpMaxApi, MaxApi};
use crate::connectors::max::is_real;

fn client(config: &Config) -> anyhow::Result<HttpMaxApi> {
    if !is_real(config) {
        bail!(
            "max.token is not set, so MAX is simulated (sandbox); set max.token (or \
             GOSDOM_MAX__TOKEN) to talk to the real Bot API"
        );
    }
    HttpMaxApi::new(
        &config.max.api_url,
        config.max.token.clone(),
        config.max.ca_file.as_deref(),
    )
    .context("cannot build the MAX client")
}

/// Registers `<public_url>/bot/webhook` with the secret and the update types.
pub fn subscribe(config: &Config) -> anyhow::Result<()> {
    let api = client(config)?;
    if config.max.mode == MaxMode::Polling {
        bail!("max.mode is \"polling\": the webhook is not used; set max.mode = \"webhook\" first");
    }
    if !config.server.public_url.starts_with("https://") {
        bail!("server.public_url must be the public https:// address MAX can reach");
    }
    if config.max.webhook_secret.is_empty() {
        bail!("max.webhook_secret is empty; generate one with `openssl rand -hex 32`");
    }
    let url = webhook_url(config);
    api.subscribe(&url, config.max.webhook_secret.expose(), UPDATE_TYPES)
        .context("MAX did not accept the subscription")?;
    crate::output::line(format_args!(
        "subscribed {url} to {}",
        UPDATE_TYPES.join(", ")
    ))?;
    Ok(())
}

/// Prints the bot (`/me`) and its subscriptions.
pub fn status(config: &Config) -> anyhow::Result<()> {
    let api = client(config)?;
    let me = api.me().context("MAX did not answer /me")?;
    crate::output::line(format_args!(
        "bot: id {} username {}",
        me.user_id,
        me.username.as_deref().unwrap_or("-")
    ))?;
    let subscriptions = api
        .subscriptions()
        .context("MAX did not list the subscriptions")?;
    let expected = webhook_url(config);
    if subscriptions.is_empty() {
        crate::output::line(format_args!("subscriptions: none"))?;
    }
    for s in &subscriptions {
        let mark = if s.url == expected {
            " (this server)"
        } else {
            ""
        };
        crate::output::line(format_args!(
            "subscription: {}{mark} types {}",
            s.url,
            s.update_types.as_deref().unwrap_or_default().join(",")
        ))?;
    }
    crate::output::line(format_args!("mode: {:?}", config.max.mode))?;
    Ok(())
}
