//! The SOAP client: builds, signs and posts an envelope (ureq, blocking), and reads what
//! comes back: an `Ack`, a `getState` result, or a SOAP Fault (which arrives as HTTP 500).

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::envelope::{envelope, Header, Request};
use super::services::Service;
use super::xades;
use super::xml::{self, Node};
use super::GisError;
use crate::connectors::signer::Signer;

/// What ГИС ЖКХ answered to a send.
#[derive(Clone, Debug, PartialEq)]
pub struct Ack {
    /// The MessageGUID to poll with `getState`.
    pub message_guid: String,
    /// Our MessageGUID, echoed.
    pub requester_guid: String,
}

/// What `getState` answered.
#[derive(Clone, Debug)]
pub enum State {
    /// Received or in progress (RequestState 1 or 2).
    Pending,
    /// Processed (RequestState 3): the `getStateResult` element. An `ErrorMessage` in it
    /// comes back as [`GisError::Fault`] instead.
    Done(Node),
}

/// Connection settings of a [`Client`].
#[derive(Clone)]
pub struct ClientConfig {
    /// Scheme, host and port (and a path prefix, e.g. `/dev/gis` for the sandbox).
    pub base_url: String,
    pub org_ppa_guid: String,
    pub operator_signature: bool,
    pub timeout: Duration,
}

#[derive(Clone)]
pub struct Client {
    config: ClientConfig,
    signer: Option<Arc<dyn Signer>>,
    agent: ureq::Agent,
}

impl Client {
    /// `signer` None sends requests unsigned (the sandbox accepts that; production does not).
    pub fn new(config: ClientConfig, signer: Option<Arc<dyn Signer>>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Client {
            config,
            signer,
            agent,
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The envelope of `request` with this MessageGUID, signed when it should be.
    pub fn build(
        &self,
        request: &Request,
        message_guid: Uuid,
        at: OffsetDateTime,
    ) -> Result<String, GisError> {
        let header = Header {
            date: at,
            message_guid,
            org_ppa_guid: self.config.org_ppa_guid.clone(),
            operator_signature: self.config.operator_signature,
        };
        let body = match (&self.signer, request.signed) {
            (Some(signer), true) => xades::sign(&request.body, signer.as_ref(), at)?,
            _ => request.body.to_xml(),
        };
        Ok(envelope(request.service, &header, &body))
    }

    /// Sends `request` under `message_guid`; Ok is the Ack.
    pub fn send(
        &self,
        request: &Request,
        message_guid: Uuid,
        at: OffsetDateTime,
    ) -> Result<Ack, GisError> {
        let body = self.build(request, message_guid, at)?;
        let answer = self.post(request.service, &request.soap_action(), body)?;
        let ack = answer
            .find("Ack")
            .ok_or_else(|| GisError::Malformed("no Ack in the answer".into()))?;
        Ok(Ack {
            message_guid: ack
                .text_of("MessageGUID")
                .ok_or_else(|| GisError::Malformed("Ack without MessageGUID".into()))?,
            requester_guid: ack.text_of("RequesterMessageGUID").unwrap_or_default(),
        })
    }

    /// Asks how the acknowledged message `ack_guid` stands.
    pub fn get_state(
        &self,
        service: Service,
        ack_guid: &str,
        at: OffsetDateTime,
    ) -> Result<State, GisError> {
        let request = Request::get_state(service, ack_guid);
        let body = self.build(&request, Uuid::new_v4(), at)?;
        let answer = self.post(service, &request.soap_action(), body)?;
        let result = answer
            .find("getStateResult")
            .ok_or_else(|| GisError::Malformed("no getStateResult in the answer".into()))?;
        match result.text_of("RequestState").as_deref() {
            Some("1") | Some("2") => return Ok(State::Pending),
            Some("3") => {}
            other => {
                return Err(GisError::Malformed(format!(
                    "unknown RequestState {other:?}"
                )))
            }
        }
        if let Some(error) = result.child("ErrorMessage") {
            return Err(GisError::Fault {
                code: error.text_of("ErrorCode").unwrap_or_default(),
                message: error.text_of("Description").unwrap_or_default(),
            });
        }
        Ok(State::Done(result.clone()))
    }

    fn post(&self, service: Service, action: &str, body: String) -> Result<Node, GisError> {
        let url = format!(
            "{}{}",
            self.config.base_url.trim_end_matches('/'),
            service.path()
        );
        let response = self
            .agent
            .post(&url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", action)
            .send(body)
            .map_err(|e| GisError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| GisError::Transport(e.to_string()))?;
        if matches!(status, 502..=504) || status == 429 {
            return Err(GisError::Transport(format!(
                "{} answered {status}",
                service.as_str()
            )));
        }
        let parsed = xml::parse(&bytes);
        if let Ok(doc) = &parsed {
            if let Some(fault) = doc.find("Fault") {
                return Err(fault_of(fault));
            }
        }
        if status != 200 {
            return Err(GisError::Http(status));
        }
        parsed.map_err(|e| GisError::Malformed(e.to_string()))
    }
}

/// The error code and message of a SOAP Fault: the `base:Fault` in `detail` when there is
/// one, else `faultcode`/`faultstring`.
fn fault_of(fault: &Node) -> GisError {
    let detail = fault
        .find("Fault")
        .filter(|d| d.child("ErrorCode").is_some());
    match detail {
        Some(d) => GisError::Fault {
            code: d.text_of("ErrorCode").unwrap_or_default(),
            message: d.text_of("ErrorMessage").unwrap_or_default(),
        },
        None => GisError::Fault {
            code: fault
                .text_of("ErrorCode")
                .unwrap_or_else(|| fault.text_of("faultcode").unwrap_or_else(|| "SOAP".into())),
            message: fault
                .text_of("ErrorMessage")
                .or_else(|| fault.text_of("faultstring"))
                .unwrap_or_default(),
        },
    }
}
