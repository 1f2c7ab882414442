//! The readings domain's [`ReadingsExport`] backed by this connector: one
//! `importMeteringDeviceValues` per batch, sent and polled by the readings delivery job
//! (which keeps the MessageGUID and the TransportGUIDs, so a retry repeats the message).

use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use super::ops::{self, metering};
use super::{Client, GisError, MeterValue, Policy, State, ValueKind};
use crate::clock::SharedClock;
use crate::domain::readings::{ExportBatch, ExportError, ItemResult, ReadingsExport};
use crate::store::Store;

/// Sends readings with the configured ГИС ЖКХ client.
pub struct GisReadings {
    client: Client,
    store: Store,
    clock: SharedClock,
}

impl GisReadings {
    pub fn new(client: Client, store: Store, clock: SharedClock) -> Arc<Self> {
        Arc::new(GisReadings {
            client,
            store,
            clock,
        })
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The batch as the connector's values; a resource without a cached НСИ 2 entry waits
    /// ([`ExportError::Wait`]) for the registry, loaded at start-up and by the nightly sync.
    fn values(&self, batch: &ExportBatch) -> Result<Vec<MeterValue>, ExportError> {
        let conn = self
            .store
            .conn()
            .map_err(|e| ExportError::Retry(e.to_string()))?;
        let mut out = Vec::with_capacity(batch.items.len());
        for item in &batch.items {
            let kind = if item.resource == "electricity" {
                ValueKind::Electric
            } else {
                let resource = ops::nsi::resource_ref(&conn, &item.resource)
                    .map_err(|e| ExportError::Retry(e.to_string()))?
                    .ok_or_else(|| {
                        ExportError::Wait(format!(
                            "ожидает справочник НСИ 2 (вид коммунального ресурса «{}») из \
                             ГИС ЖКХ: он загружается при запуске и ночной синхронизацией \
                             (`gosdom gis sync`)",
                            item.resource
                        ))
                    })?;
                ValueKind::OneRate { resource }
            };
            let mut values = item.values.iter().cloned();
            out.push(MeterValue {
                transport_guid: Uuid::parse_str(&item.transport_guid)
                    .map_err(|e| ExportError::Fatal(format!("bad TransportGUID: {e}")))?,
                meter_root_guid: item.meter_root_guid.clone(),
                kind,
                t1: values.next().unwrap_or_default(),
                t2: values.next(),
                t3: values.next(),
                taken_on: item.taken_on,
            });
        }
        Ok(out)
    }
}

fn export_error(e: GisError) -> ExportError {
    match e.policy() {
        Policy::Retry | Policy::Rebuild => ExportError::Retry(e.to_string()),
        Policy::Empty | Policy::Stop => ExportError::Fatal(e.operator_message()),
    }
}

impl ReadingsExport for GisReadings {
    fn submit(&self, batch: &ExportBatch) -> Result<String, ExportError> {
        let values = self.values(batch)?;
        let request = metering::import_values(&values).map_err(export_error)?;
        let guid = Uuid::parse_str(&batch.message_guid)
            .map_err(|e| ExportError::Fatal(format!("bad MessageGUID: {e}")))?;
        let ack = self
            .client
            .send(&request, guid, self.now())
            .map_err(export_error)?;
        Ok(ack.message_guid)
    }

    fn poll(
        &self,
        batch: &ExportBatch,
        ack_guid: &str,
    ) -> Result<Option<Vec<ItemResult>>, ExportError> {
        let values = self.values(batch)?;
        let service = metering::import_values(&values)
            .map_err(export_error)?
            .service;
        let node = match self.client.get_state(service, ack_guid, self.now()) {
            Ok(State::Pending) => return Ok(None),
            Ok(State::Done(node)) => node,
            Err(e) => return Err(export_error(e)),
        };
        let results = metering::import_results(&node);
        Ok(Some(
            batch
                .items
                .iter()
                .filter_map(|item| {
                    let result = results.get(&item.transport_guid)?;
                    Some(ItemResult {
                        transport_guid: item.transport_guid.clone(),
                        error: match result {
                            metering::ItemResult::Accepted { .. } => None,
                            metering::ItemResult::Rejected { code, message } => {
                                Some((code.clone(), message.clone()))
                            }
                        },
                    })
                })
                .collect(),
        ))
    }
}
