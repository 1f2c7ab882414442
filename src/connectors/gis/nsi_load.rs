//! The НСИ cache on first start: water, gas and heat readings name their municipal
//! resource by its НСИ 2 GUID, so an empty `gis_nsi` would hold up their delivery until
//! the nightly sync. At start-up, each registry that is not cached yet is asked for with
//! `exportNsiItem` through the [`engine`]; [`NsiConsumer`] stores the result.

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Transaction};
use time::OffsetDateTime;

use super::engine::{self, Consumer, MessageResult, Operation};
use super::ops::nsi;
use crate::clock::SharedClock;
use crate::store;

/// The engine consumer name of НСИ exports.
pub const CONSUMER: &str = "nsi";

/// Queues `exportNsiItem` for НСИ 2 and 27 unless cached or already asked for; returns
/// the message ids.
pub fn load_missing(tx: &Connection, now: OffsetDateTime) -> store::Result<Vec<i64>> {
    let mut ids = Vec::new();
    for registry in [nsi::RESOURCES, nsi::METER_TYPES] {
        if nsi::cached_at(tx, registry)?.is_some() {
            continue;
        }
        let asked: Option<i64> = tx
            .query_row(
                "SELECT id FROM gis_messages WHERE consumer = ?1 AND consumer_ref = ?2 \
                 AND state NOT IN ('done', 'failed')",
                rusqlite::params![CONSUMER, registry.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if asked.is_some() {
            continue;
        }
        ids.push(engine::submit(
            tx,
            &Operation::ExportNsiItem { registry },
            Some((CONSUMER, &registry.to_string())),
            now,
        )?);
    }
    Ok(ids)
}

/// Stores an exported registry in `gis_nsi`.
pub struct NsiConsumer {
    pub clock: SharedClock,
}

impl Consumer for NsiConsumer {
    fn on_result(
        &self,
        tx: &Transaction<'_>,
        message_id: i64,
        reference: &str,
        result: MessageResult<'_>,
    ) -> store::Result<()> {
        let Ok(registry) = reference.parse::<u32>() else {
            return Ok(());
        };
        if let MessageResult::Data(node) = result {
            let entries = nsi::entries(node);
            if !entries.is_empty() {
                let stored = nsi::store(tx, registry, &entries, self.clock.now())?;
                tracing::info!(
                    registry,
                    entries = stored,
                    message = message_id,
                    "ГИС ЖКХ: НСИ cached"
                );
            }
        }
        Ok(())
    }
}

pub fn consumer(clock: SharedClock) -> Arc<dyn Consumer> {
    Arc::new(NsiConsumer { clock })
}
