//! What every part of the running service shares: config, store, clock, the worker's
//! wake-up handle. Built once in `main` (or a test) and handed to the web layer and jobs.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::store::Store;

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: SharedClock,
    /// Wakes the outbox worker after a commit that added jobs.
    pub outbox_wake: Arc<Notify>,
}

impl App {
    pub fn new(config: Config, store: Store, clock: SharedClock) -> Self {
        App {
            config: Arc::new(config),
            store,
            clock,
            outbox_wake: Arc::new(Notify::new()),
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
