//! Long polling (`max.mode = "polling"`), for servers without public HTTPS: `GET /updates`
//! in a loop, the marker kept in `kv` and saved in the same transaction as the updates it
//! covers, every update taken in by [`super::intake`] as the webhook does.

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::connectors::max::api::MaxApi;

use super::{intake, kv_get, kv_set, Intake, UPDATE_TYPES};

/// `kv` key of the marker.
pub const KV_MARKER: &str = "max.polling_marker";

const POLL_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// Polls until the process ends.
pub fn spawn(app: App, api: Arc<dyn MaxApi>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        tracing::info!("max: receiving updates by long polling");
        let mut pause = Duration::from_secs(1);
        loop {
            match poll_once(&app, api.as_ref()) {
                Ok(_) => pause = Duration::from_secs(1),
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_s = pause.as_secs(), "max: polling failed, will retry");
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
        }
    })
}

/// One `GET /updates`; returns how many new updates were stored.
pub fn poll_once(app: &App, api: &dyn MaxApi) -> anyhow::Result<usize> {
    let marker = {
        let conn = app.store.conn()?;
        kv_get(&conn, KV_MARKER)?.and_then(|m| m.parse::<i64>().ok())
    };
    let batch = api.updates(marker, POLL_TIMEOUT, UPDATE_TYPES)?;
    let now = app.now();
    let stored = app.store.write_blocking(|tx| {
        let mut stored = 0;
        for update in &batch.updates {
            if intake(tx, update, now)? == Intake::Stored {
                stored += 1;
            }
        }
        if let Some(next) = batch.marker {
            kv_set(tx, KV_MARKER, &next.to_string(), now)?;
        }
        Ok(stored)
    })?;
    if stored > 0 {
        app.wake_outbox();
    }
    Ok(stored)
}
