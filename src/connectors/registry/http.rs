//! An operator's ЕГРН gateway over HTTP.
//!
//! `POST <url>/owners/search` with `{"snils": "11223344595", "full_name": "...",
//! "birth_date": "YYYY-MM-DD"}` answers `{"premises": [{"cadastral_number": "...",
//! "share": "1/2"}]}`, or with `house_guid` + `number` instead of the cadastral number.

use std::time::Duration;

use rusqlite::Connection;
use serde::Deserialize;
use serde_json::json;

use super::{Ownership, PersonKeys, PremiseRef, Registry, RegistryError};

pub struct HttpGateway {
    url: String,
    agent: ureq::Agent,
}

impl HttpGateway {
    pub fn new(url: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(15)))
            .http_status_as_error(false)
            .build()
            .into();
        HttpGateway {
            url: url.trim_end_matches('/').to_string(),
            agent,
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    premises: Vec<Found>,
}

#[derive(Deserialize)]
struct Found {
    cadastral_number: Option<String>,
    house_guid: Option<String>,
    number: Option<String>,
    #[serde(default = "whole")]
    share: String,
}

fn whole() -> String {
    "1".into()
}

impl Registry for HttpGateway {
    fn name(&self) -> &'static str {
        "registry_gateway"
    }

    fn owned_premises(
        &self,
        _conn: &Connection,
        person: &PersonKeys,
    ) -> Result<Vec<Ownership>, RegistryError> {
        let body = json!({
            "snils": person.snils,
            "full_name": person.full_name,
            "birth_date": person.birth_date,
        });
        let response = self
            .agent
            .post(&format!("{}/owners/search", self.url))
            .send_json(&body)
            .map_err(|e| RegistryError::Gateway(e.to_string()))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(RegistryError::Gateway(format!("answered {status}")));
        }
        let answer: Answer = response
            .into_body()
            .read_json()
            .map_err(|e| RegistryError::Gateway(format!("unreadable answer: {e}")))?;
        Ok(answer
            .premises
            .into_iter()
            .filter_map(|f| {
                let premise = match (f.cadastral_number, f.house_guid, f.number) {
                    (Some(c), _, _) if !c.is_empty() => PremiseRef::Cadastral(c),
                    (_, Some(house_guid), Some(number)) => {
                        PremiseRef::HouseAndNumber { house_guid, number }
                    }
                    _ => return None,
                };
                Some(Ownership {
                    premise,
                    share: f.share,
                    proof: "registry",
                })
            })
            .collect())
    }
}
