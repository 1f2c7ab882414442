//! The sandbox ЕГРН gateway: answers from the sandbox ЕСИА's demo people.

use rusqlite::Connection;

use crate::connectors::registry::{Ownership, PersonKeys, PremiseRef, Registry, RegistryError};
use crate::domain::people::normalise_snils;
use crate::sandbox::demo::{house_fias, DEMO_PEOPLE};

pub struct SandboxGateway;

impl Registry for SandboxGateway {
    fn name(&self) -> &'static str {
        "sandbox_gateway"
    }

    fn owned_premises(
        &self,
        _conn: &Connection,
        person: &PersonKeys,
    ) -> Result<Vec<Ownership>, RegistryError> {
        let Some(snils) = person.snils.as_deref().and_then(normalise_snils) else {
            return Ok(Vec::new());
        };
        let found = DEMO_PEOPLE
            .iter()
            .filter(|p| normalise_snils(p.snils).as_deref() == Some(snils.as_str()))
            .flat_map(|p| p.owns.iter())
            .filter_map(|(house, number)| {
                Some(Ownership {
                    premise: PremiseRef::HouseAndNumber {
                        house_guid: house_fias(*house)?.to_string(),
                        number: (*number).to_string(),
                    },
                    share: "1/2".into(),
                    proof: "registry",
                })
            })
            .collect();
        Ok(found)
    }
}
