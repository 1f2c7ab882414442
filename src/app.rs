//! What every part of the running service shares: config, store, clock, the worker's
//! wake-up handle. Built once in `main` (or a test) and handed to the web layer and jobs.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::config::{Config, Secret};
use crate::store::Store;

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: SharedClock,
    /// Wakes the outbox worker after a commit that added jobs.
    pub outbox_wake: Arc<Notify>,
    /// The token that signs mini-app launch data: `max.token`, or in sandbox mode without
    /// one, the simulated bot's token kept in `<data_dir>/sandbox_bot_token`.
    pub bot_token: Secret,
}

impl App {
    pub fn new(config: Config, store: Store, clock: SharedClock, bot_token: Secret) -> Self {
        App {
            config: Arc::new(config),
            store,
            clock,
            outbox_wake: Arc::new(Notify::new()),
            bot_token,
        }
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// Call after committing a transaction that enqueued jobs.
    pub fn wake_outbox(&self) {
        self.outbox_wake.notify_one();
    }
}
