//! MAX messenger: the Bot API client and its sandbox simulator, MAX's rate limits, and
//! mini-app launch data.

pub mod api;
pub mod launch;
pub mod pace;
pub mod sim;

use std::sync::Arc;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::store::Store;

pub use api::{HttpMaxApi, MaxApi, MaxError};

/// Whether the bot talks to a real Bot API (a token is configured) or to the simulator.
pub fn is_real(config: &Config) -> bool {
    !config.max.token.is_empty()
}

/// The MAX connector for this config: the real client against `max.api_url` when
/// `max.token` is set, otherwise (sandbox) the simulator.
pub fn connector(
    config: &Config,
    store: &Store,
    clock: &SharedClock,
) -> Result<Arc<dyn MaxApi>, MaxError> {
    if is_real(config) {
        let client = HttpMaxApi::new(
            &config.max.api_url,
            config.max.token.clone(),
            config.max.ca_file.as_deref(),
        )?;
        Ok(Arc::new(client))
    } else {
        Ok(Arc::new(sim::SimMax::new(
            store.clone(),
            clock.clone(),
            config.max.bot_id,
            &config.max.bot_username,
        )))
    }
}
