//! The УО's owners register: the `owners` table.

use rusqlite::{params, Connection};

use super::{Ownership, PersonKeys, PremiseRef, Registry, RegistryError};

/// Matches by the keyed СНИЛС hash where the register row has one, else by the keyed hash
/// of full name and birth date. Never by name alone: the hash covers both.
pub struct LocalRegister;

impl Registry for LocalRegister {
    fn name(&self) -> &'static str {
        "owners_register"
    }

    fn owned_premises(
        &self,
        conn: &Connection,
        person: &PersonKeys,
    ) -> Result<Vec<Ownership>, RegistryError> {
        let mut stmt = conn.prepare_cached(
            "SELECT o.premise_id, o.share FROM owners o JOIN premises p ON p.id = o.premise_id \
             WHERE p.removed_at IS NULL AND ( \
               (?1 IS NOT NULL AND o.snils_hash = ?1) \
               OR (?2 IS NOT NULL AND o.snils_hash IS NULL AND o.name_birth_hash = ?2)) \
             ORDER BY o.premise_id",
        )?;
        let rows = stmt.query_map(params![person.snils_hash, person.name_birth_hash], |r| {
            Ok(Ownership {
                premise: PremiseRef::Id(r.get(0)?),
                share: r.get(1)?,
                proof: "owners_register",
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
