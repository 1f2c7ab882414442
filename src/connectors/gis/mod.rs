//! ГИС ЖКХ connector: SOAP envelopes ([`envelope`]), XAdES signatures ([`xades`]), the
//! HTTP client ([`client`]), the operations gosdom uses ([`ops`]), the asynchronous engine
//! on the durable outbox ([`engine`]) and the sync of houses, accounts and meters
//! ([`sync`]).
//!
//! Errors: [`GisError`] everywhere in this module; [`GisError::policy`] says what the engine
//! does about one.

pub mod answers;
pub mod appeals_pull;
pub mod client;
pub mod engine;
pub mod envelope;
pub mod nsi_load;
pub mod ops;
pub mod readings;
pub mod schedule;
pub mod services;
pub mod sync;
pub mod xades;
pub mod xml;

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, SignerKind};
use crate::connectors::signer;

pub use client::{Ack, Client, ClientConfig, State};
pub use ops::metering::{ItemResult, MeterValue, ValueKind};
pub use services::Service;

#[derive(Debug, thiserror::Error)]
pub enum GisError {
    /// A SOAP Fault or an `ErrorMessage` in a result: ГИС ЖКХ refused or failed.
    #[error("ГИС ЖКХ answered {code}: {message}")]
    Fault { code: String, message: String },
    /// Connection failures, timeouts, 429/502/503/504: worth another try.
    #[error("ГИС ЖКХ is unreachable: {0}")]
    Transport(String),
    #[error("ГИС ЖКХ answered HTTP {0}")]
    Http(u16),
    #[error("ГИС ЖКХ answer not understood: {0}")]
    Malformed(String),
    #[error("cannot sign the message: {0}")]
    Sign(#[from] xades::XadesError),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

/// What to do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The message expired (EXP001000): build it again with a new MessageGUID and signature.
    Rebuild,
    /// Transient: try the same thing again later.
    Retry,
    /// Nothing to export (INT002012): an empty result.
    Empty,
    /// Trying again cannot help: an operator must act.
    Stop,
}

impl GisError {
    pub fn policy(&self) -> Policy {
        match self {
            GisError::Fault { code, .. } => match code.as_str() {
                "EXP001000" => Policy::Rebuild,
                "INT002012" => Policy::Empty,
                c if c.starts_with("AUT") || c.starts_with("FMT") => Policy::Stop,
                // Internal errors of ГИС ЖКХ pass; other refusals are about our data.
                c if c.starts_with("INT") => Policy::Retry,
                _ => Policy::Stop,
            },
            GisError::Transport(_) | GisError::Store(_) => Policy::Retry,
            GisError::Http(status) if *status >= 500 => Policy::Retry,
            GisError::Http(_) | GisError::Malformed(_) | GisError::Sign(_) => Policy::Stop,
            GisError::Config(_) => Policy::Stop,
        }
    }

    /// The line an operator reads in the console and the log when the exchange stops.
    pub fn operator_message(&self) -> String {
        match self {
            GisError::Fault { code, message } if code.starts_with("AUT") => format!(
                "ГИС ЖКХ refused access ({code}: {message}). Check gis.org_ppa_guid, that the \
                 signer's certificate is registered for the organisation in ГИС ЖКХ, and the \
                 information system's access rights; the message will not be retried."
            ),
            GisError::Fault { code, message } if code.starts_with("FMT") => format!(
                "ГИС ЖКХ rejected the message format ({code}: {message}); the message will not \
                 be retried. Report this as a gosdom bug with the message id."
            ),
            other => other.to_string(),
        }
    }
}

/// The official getState schedule: 10 s, 60 s, 300 s, 900 s, then every 1800 s.
pub const POLL_SCHEDULE: [u64; 5] = [10, 60, 300, 900, 1800];

/// The delay before poll number `poll` (0-based), given a schedule whose last step repeats.
pub fn poll_delay(schedule: &[u64], poll: u32) -> Duration {
    let step = schedule
        .get(poll as usize)
        .or_else(|| schedule.last())
        .copied()
        .unwrap_or(1800);
    Duration::from_secs(step)
}

/// The address the client talks to: `gis.base_url`, or in sandbox mode without one, the
/// sandbox ГИС ЖКХ on this service's own address.
pub fn base_url(config: &Config) -> Result<String, GisError> {
    if !config.gis.base_url.is_empty() {
        return Ok(config.gis.base_url.trim_end_matches('/').to_string());
    }
    if config.is_sandbox() {
        return Ok(format!(
            "http://{}:{}{}",
            config.server.address,
            config.server.port,
            crate::sandbox::gis::MOUNT
        ));
    }
    Err(GisError::Config(
        "set gis.base_url (GOSDOM_GIS__BASE_URL) to the ГИС ЖКХ address".into(),
    ))
}

/// The client as configured: address, orgPPAGUID, signer (none in a sandbox without one).
pub fn client_from_config(config: &Config) -> Result<Client, GisError> {
    let signer = match config.gis.signer.kind {
        SignerKind::None if config.is_sandbox() => None,
        _ => Some(
            signer::from_config(&config.gis.signer, "gis.signer")
                .map_err(|e| GisError::Config(e.to_string()))?,
        ),
    };
    Ok(Client::new(
        ClientConfig {
            base_url: base_url(config)?,
            org_ppa_guid: org_ppa_guid(config),
            operator_signature: config.gis.operator_signature,
            timeout: Duration::from_secs(config.gis.timeout_seconds.max(1)),
        },
        signer,
    ))
}

/// `gis.org_ppa_guid`, or the sandbox УО's in sandbox mode without one.
pub fn org_ppa_guid(config: &Config) -> String {
    if config.gis.org_ppa_guid.is_empty() && config.is_sandbox() {
        crate::sandbox::gis::SANDBOX_ORG_PPA_GUID.to_string()
    } else {
        config.gis.org_ppa_guid.clone()
    }
}

/// `gis.answerer_guid`, or the sandbox's answerer in sandbox mode without one.
pub fn answerer_guid(config: &Config) -> String {
    if config.gis.answerer_guid.is_empty() && config.is_sandbox() {
        crate::sandbox::gis::SANDBOX_ANSWERER_GUID.to_string()
    } else {
        config.gis.answerer_guid.clone()
    }
}

/// Queues readings for ГИС ЖКХ `importMeteringDeviceValues`, inside the caller's
/// transaction (wake the outbox after commit): split into messages of at most 1000 devices,
/// each sent, acknowledged and polled by the [`engine`]. The per-item results, keyed by each
/// value's TransportGUID, reach the [`engine::Consumer`] registered under `consumer.0` with
/// `consumer.1` as its reference. Returns the message ids.
pub fn import_metering_device_values(
    tx: &rusqlite::Connection,
    values: &[MeterValue],
    consumer: (&str, &str),
    now: time::OffsetDateTime,
) -> crate::store::Result<Vec<i64>> {
    ops::metering::batches(values)
        .into_iter()
        .map(|batch| {
            engine::submit(
                tx,
                &engine::Operation::ImportMeteringDeviceValues { values: batch },
                Some(consumer),
                now,
            )
        })
        .collect()
}

/// Shared handle used by jobs and commands.
pub type SharedClient = Arc<Client>;

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(code: &str) -> GisError {
        GisError::Fault {
            code: code.into(),
            message: "m".into(),
        }
    }

    #[test]
    fn the_policy_follows_the_error_codes() {
        assert_eq!(fault("EXP001000").policy(), Policy::Rebuild);
        assert_eq!(fault("INT002012").policy(), Policy::Empty);
        assert_eq!(fault("AUT011003").policy(), Policy::Stop);
        assert_eq!(fault("FMT001300").policy(), Policy::Stop);
        assert_eq!(fault("INT016041").policy(), Policy::Retry);
        assert_eq!(GisError::Transport("t".into()).policy(), Policy::Retry);
        assert_eq!(GisError::Http(503).policy(), Policy::Retry);
        assert!(fault("AUT011003")
            .operator_message()
            .contains("gis.org_ppa_guid"));
    }

    #[test]
    fn polling_follows_the_schedule_and_repeats_the_last_step() {
        let s = POLL_SCHEDULE;
        let secs: Vec<u64> = (0..7).map(|p| poll_delay(&s, p).as_secs()).collect();
        assert_eq!(secs, [10, 60, 300, 900, 1800, 1800, 1800]);
    }
}
