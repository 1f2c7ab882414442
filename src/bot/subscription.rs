//! The webhook subscription. MAX drops a subscription after 8 hours of failed deliveries,
//! so at every start (webhook mode) a `max.subscription` job checks it and subscribes
//! again when it is missing; in polling mode it removes subscriptions, since MAX does not
//! deliver to long polling while one exists. Either way it remembers the bot's `/me`.

use std::sync::Arc;

use crate::app::App;
use crate::config::{Config, MaxMode};
use crate::connectors::max::api::MaxApi;
use crate::jobs::{Handler, Job, JobError, Outcome};
use crate::store::Store;

use super::UPDATE_TYPES;

/// Job kind: check (and renew) the subscription at start.
pub const ENSURE: &str = "max.subscription";

/// Where MAX should post updates.
pub fn webhook_url(config: &Config) -> String {
    format!("{}/bot/webhook", config.public_url())
}

pub struct EnsureHandler {
    api: Arc<dyn MaxApi>,
    store: Store,
    config: Arc<Config>,
    clock: crate::clock::SharedClock,
}

impl EnsureHandler {
    pub fn new(app: &App, api: Arc<dyn MaxApi>) -> Self {
        EnsureHandler {
            api,
            store: app.store.clone(),
            config: app.config.clone(),
            clock: app.clock.clone(),
        }
    }
}

impl Handler for EnsureHandler {
    fn run(&self, _job: &Job) -> Result<Outcome, JobError> {
        let me = self.api.me().map_err(|e| e.to_job_error())?;
        let now = self.clock.now();
        self.store
            .write_blocking(|tx| super::remember_me(tx, &me, now))?;
        tracing::info!(bot_id = me.user_id, "max: bot identity checked");

        let subscriptions = self.api.subscriptions().map_err(|e| e.to_job_error())?;
        match self.config.max.mode {
            MaxMode::Webhook => {
                let url = webhook_url(&self.config);
                if subscriptions.iter().any(|s| s.url == url) {
                    return Ok(Outcome::Done);
                }
                self.api
                    .subscribe(&url, self.config.max.webhook_secret.expose(), UPDATE_TYPES)
                    .map_err(|e| e.to_job_error())?;
                tracing::warn!("max: webhook subscription was missing; subscribed again");
            }
            MaxMode::Polling => {
                for subscription in &subscriptions {
                    self.api
                        .unsubscribe(&subscription.url)
                        .map_err(|e| e.to_job_error())?;
                }
                if !subscriptions.is_empty() {
                    tracing::warn!(
                        removed = subscriptions.len(),
                        "max: removed webhook subscriptions to receive updates by polling"
                    );
                }
            }
        }
        Ok(Outcome::Done)
    }
}
